/*
 * The notification receiver for the notify cases: a bound AF_UNIX SOCK_DGRAM
 * socket (Node has no unix datagram sockets) that counts every datagram and
 * checks its bytes, so a sender that loses or garbles messages fails the case
 * instead of looking fast.
 *
 * Usage: dgram-receiver <address> [--netns-qlen N]
 *   <address>: an absolute path or an abstract "@name", as NOTIFY_SOCKET.
 *   --netns-qlen N: first move into a private network namespace and set its
 *     net.unix.max_dgram_qlen to N. systemd sets 512 on a booted host
 *     (sysctl.d/50-default.conf); a machine without systemd as PID 1 keeps the
 *     kernel's 10, so a sender would block after 10 queued datagrams and the
 *     case would measure this receiver's wake-ups. A namespace of our own
 *     changes nothing for the rest of the machine. Senders join it with
 *     nsenter --net=/proc/<our pid>/ns/net. If unshare is refused, we stay
 *     where we are and say so.
 *
 * Protocol on stdin/stdout, one line each way:
 *   (start)            -> "ready qlen=<n> netns=<private|host> rcvbuf=<bytes>"
 *   "reset <payload>"  -> "ok"       (drains the queue, zeroes the counters,
 *                                     and expects <payload> from now on)
 *   "report"           -> "count=<n> bad=<n> barriers=<n> maxbatch=<n> wakeups=<n> firstbad=<hex>"
 *                         (after draining everything already queued)
 * A wake-up drains the queue until it is empty; maxbatch is the longest such
 * burst. count/wakeups near 1 means the receiver was waiting for the sender
 * (not the bottleneck); a burst longer than qlen means the queue may have
 * been full for a moment, so a sender may have blocked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char expected[4200];
static size_t expected_len;
static unsigned long count, bad, barriers, maxbatch, wakeups;
static char firstbad[2 * 64 + 1];

static int read_qlen(void) {
  FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
  int q = -1;
  if (f) {
    if (fscanf(f, "%d", &q) != 1) q = -1;
    fclose(f);
  }
  return q;
}

/* Receives everything queued right now, without blocking. */
static void drain(int fd) {
  static char buf[8192];
  unsigned long batch = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      perror("dgram-receiver: recv");
      exit(1);
    }
    batch++;
    /* systemd-notify follows its message with sd_notify_barrier(): BARRIER=1
     * carrying a pipe's write end, which the kernel closes for us because we
     * take no SCM_RIGHTS. That is the manager's answer; count it apart. */
    if (n == 9 && memcmp(buf, "BARRIER=1", 9) == 0) {
      barriers++;
      continue;
    }
    count++;
    if ((size_t)n != expected_len || memcmp(buf, expected, expected_len) != 0) {
      if (bad++ == 0) {
        size_t shown = (size_t)n < 64 ? (size_t)n : 64;
        for (size_t i = 0; i < shown && i < sizeof buf; i++) sprintf(firstbad + 2 * i, "%02x", (unsigned char)buf[i]);
      }
    }
  }
  if (batch > maxbatch) maxbatch = batch;
  if (batch > 0) wakeups++;
}

static void command(int fd, char *line) {
  drain(fd);
  if (strncmp(line, "reset ", 6) == 0) {
    expected_len = strlen(line + 6);
    if (expected_len >= sizeof expected) expected_len = sizeof expected - 1;
    memcpy(expected, line + 6, expected_len);
    count = bad = barriers = maxbatch = wakeups = 0;
    firstbad[0] = '\0';
    printf("ok\n");
  } else if (strcmp(line, "report") == 0) {
    printf("count=%lu bad=%lu barriers=%lu maxbatch=%lu wakeups=%lu firstbad=%s\n", count, bad, barriers, maxbatch, wakeups, firstbad[0] ? firstbad : "-");
  } else {
    printf("error unknown command\n");
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--netns-qlen") == 0)) {
    fprintf(stderr, "usage: %s <address> [--netns-qlen N]\n", argv[0]);
    return 2;
  }
  const char *address = argv[1];
  const char *netns = "host";
  if (argc == 4) {
    if (unshare(CLONE_NEWNET) == 0) {
      netns = "private";
      FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "w");
      if (f) {
        fprintf(f, "%d\n", atoi(argv[3]));
        fclose(f);
      }
    } else {
      fprintf(stderr, "dgram-receiver: unshare(CLONE_NEWNET): %s; staying in the host namespace\n", strerror(errno));
    }
  }

  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = strlen(address);
  if (len == 0 || len >= sizeof sa.sun_path) {
    fprintf(stderr, "dgram-receiver: bad address\n");
    return 2;
  }
  socklen_t salen;
  if (address[0] == '@') {
    memcpy(sa.sun_path + 1, address + 1, len - 1); /* sun_path[0] stays NUL: abstract */
    salen = offsetof(struct sockaddr_un, sun_path) + len;
  } else {
    unlink(address);
    memcpy(sa.sun_path, address, len);
    salen = offsetof(struct sockaddr_un, sun_path) + len + 1;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) < 0) {
    perror("dgram-receiver: socket/bind");
    return 1;
  }
  /* A big receive buffer (FORCE: above rmem_max, as root) so bytes are never the limit. */
  int rcvbuf = 8 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  socklen_t optlen = sizeof rcvbuf;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &optlen);

  printf("ready qlen=%d netns=%s rcvbuf=%d\n", read_qlen(), netns, rcvbuf);
  fflush(stdout);

  char line[4400];
  size_t used = 0;
  struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("dgram-receiver: poll");
      return 1;
    }
    if (fds[0].revents & POLLIN) drain(fd);
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(0, line + used, sizeof line - 1 - used);
      if (n <= 0) break; /* stdin closed: the bench is done with us */
      used += (size_t)n;
      char *nl;
      while ((nl = memchr(line, '\n', used)) != NULL) {
        *nl = '\0';
        command(fd, line);
        size_t rest = used - (size_t)(nl + 1 - line);
        memmove(line, nl + 1, rest);
        used = rest;
      }
      if (used == sizeof line - 1) used = 0; /* an over-long line: drop it */
    }
  }
  if (address[0] != '@') unlink(address);
  return 0;
}
