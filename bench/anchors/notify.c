/*
 * The practical limit for a notification: libsystemd's own sd_notify(),
 * which opens a datagram socket, sends one message and closes the socket on
 * every call. Sends WATCHDOG=1 to $NOTIFY_SOCKET `warmup` times untimed, then
 * `count` times timed, and prints the cost per call as JSON.
 *
 * Usage: notify-anchor <warmup> <count> [kept]
 * Every return value is checked: sd_notify() returns > 0 when sent, 0 when
 * NOTIFY_SOCKET is unset, < 0 (a negative errno) when the send failed. A
 * skipped or failed send is an error here, not a fast call.
 *
 * With `kept`, the floor instead: one socket opened before the loop and one
 * sendmsg(2) per call to the same address, nothing else (no socket, no
 * close, no check that the fd is still ours): the least any notification
 * can cost, one system call. It shows how much of sd_notify()'s time is
 * that one call, that is how low a ratio to sd_notify() can go at all.
 *
 * Besides wall time it prints the CPU time of the timed calls (user + system,
 * getrusage): unlike wall time it leaves out the time spent waiting for a
 * core on a loaded machine, and unlike callgrind it includes the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

/* The kept socket of the floor (-1: sd_notify per call) and its destination. */
static int kept_fd = -1;
static struct sockaddr_un kept_addr = {.sun_family = AF_UNIX};
static socklen_t kept_len;

static int open_kept(void) {
  const char *e = getenv("NOTIFY_SOCKET");
  size_t n = e ? strlen(e) : 0;
  if (n == 0 || n >= sizeof(kept_addr.sun_path) || (e[0] != '/' && e[0] != '@')) {
    fprintf(stderr, "notify-anchor: kept needs NOTIFY_SOCKET set to a path or an @name\n");
    return -1;
  }
  memcpy(kept_addr.sun_path, e, n);
  if (e[0] == '@') kept_addr.sun_path[0] = 0; /* abstract: no terminator */
  else n++;                                   /* a path: with its NUL */
  kept_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  kept_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (kept_fd < 0) perror("notify-anchor: socket");
  return kept_fd;
}

static int send_kept(void) {
  static char msg[] = "WATCHDOG=1";
  struct iovec iov = {msg, sizeof(msg) - 1};
  struct msghdr mh = {.msg_name = &kept_addr, .msg_namelen = kept_len, .msg_iov = &iov, .msg_iovlen = 1};
  return sendmsg(kept_fd, &mh, MSG_NOSIGNAL) == (ssize_t)(sizeof(msg) - 1) ? 1 : -errno;
}

static int send_many(long n) {
  for (long i = 0; i < n; i++) {
    int r = kept_fd >= 0 ? send_kept() : sd_notify(0, "WATCHDOG=1");
    if (r <= 0) {
      fprintf(stderr, "notify-anchor: call %ld: sd_notify returned %d (%s)\n", i, r, r < 0 ? strerror(-r) : "NOTIFY_SOCKET not set");
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 4 && strcmp(argv[3], "kept") == 0)) {
    fprintf(stderr, "usage: %s <warmup> <count> [kept]\n", argv[0]);
    return 2;
  }
  long warmup = atol(argv[1]);
  long count = atol(argv[2]);
  /* count 0 is allowed: the instruction count of a run making no timed call
     is subtracted from one making N to get the cost of one call. */
  if (warmup < 0 || count < 0) {
    fprintf(stderr, "notify-anchor: bad counts\n");
    return 2;
  }
  if (argc == 4 && open_kept() < 0) return 1;
  if (send_many(warmup) < 0) return 1;
  long long cpu_start = cpu_ns();
  long long start = now_ns();
  if (send_many(count) < 0) return 1;
  long long elapsed = now_ns() - start;
  long long cpu = cpu_ns() - cpu_start;
  printf("{\"calls\":%ld,\"warmup\":%ld,\"totalNs\":%lld,\"nsPerCall\":%.1f,\"cpuNsPerCall\":%.1f}\n", count, warmup, elapsed,
         count ? (double)elapsed / (double)count : 0.0, count ? (double)cpu / (double)count : 0.0);
  return 0;
}
