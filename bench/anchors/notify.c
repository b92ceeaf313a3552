/*
 * The practical limit for a notification: libsystemd's own sd_notify(),
 * which opens a datagram socket, sends one message and closes the socket on
 * every call. Sends WATCHDOG=1 to $NOTIFY_SOCKET `warmup` times untimed, then
 * `count` times timed, and prints the cost per call as JSON.
 *
 * Usage: notify-anchor <warmup> <count>
 * Every return value is checked: sd_notify() returns > 0 when sent, 0 when
 * NOTIFY_SOCKET is unset, < 0 (a negative errno) when the send failed. A
 * skipped or failed send is an error here, not a fast call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int send_many(long n) {
  for (long i = 0; i < n; i++) {
    int r = sd_notify(0, "WATCHDOG=1");
    if (r <= 0) {
      fprintf(stderr, "notify-anchor: call %ld: sd_notify returned %d (%s)\n", i, r, r < 0 ? strerror(-r) : "NOTIFY_SOCKET not set");
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <warmup> <count>\n", argv[0]);
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
  if (send_many(warmup) < 0) return 1;
  long long start = now_ns();
  if (send_many(count) < 0) return 1;
  long long elapsed = now_ns() - start;
  printf("{\"calls\":%ld,\"warmup\":%ld,\"totalNs\":%lld,\"nsPerCall\":%.1f}\n", count, warmup, elapsed, count ? (double)elapsed / (double)count : 0.0);
  return 0;
}
