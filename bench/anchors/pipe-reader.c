/*
 * The other end of the log-pipe case: reads a FIFO (a pipe with a name, so
 * the bench can hand the writer a real pipe as fd 2: Node's own stdio
 * "pipes" are socketpairs) and checks that every record arrived, in order
 * and whole. In C so that, once past its slow start, the reader is far faster
 * than any writer and the case measures the writer, not the reader.
 *
 * It is deliberately slow at first: for <slow-ms> after the first byte it
 * reads at most 4 KiB and then sleeps 1 ms, so the 64 KiB pipe fills up and
 * the writer has to wait for it (a busy log shipper, a terminal that
 * scrolls). Then it reads as fast as it can.
 *
 * Usage: pipe-reader <fifo> <prefixed|pino> <count> <slow-ms> <payload>
 *   prefixed: line i is exactly "<6>record <i> <payload>"
 *   pino:     line i starts with {"level":30, and ends with ,"msg":"record <i> <payload>"}
 * Prints "open" once the FIFO is open, then at EOF one JSON line:
 *   {"lines":N,"error":null|"...","lastLineNs":"<CLOCK_MONOTONIC ns when the last expected line was checked>"}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pino;
static const char *payload;
static long expected, lines;
static char error[512];
static long long last_line_ns = -1;

/* Checks one line (without its newline) against record `lines`. */
static void check(const char *line, size_t len) {
  if (error[0]) return;
  if (lines >= expected) {
    snprintf(error, sizeof error, "more than %ld lines", expected);
    return;
  }
  char want[512];
  int ok;
  if (!pino) {
    int n = snprintf(want, sizeof want, "<6>record %ld %s", lines, payload);
    ok = (size_t)n == len && memcmp(line, want, len) == 0;
  } else {
    static const char head[] = "{\"level\":30,";
    int n = snprintf(want, sizeof want, ",\"msg\":\"record %ld %s\"}", lines, payload);
    ok = len >= sizeof head - 1 + (size_t)n && memcmp(line, head, sizeof head - 1) == 0 && memcmp(line + len - n, want, (size_t)n) == 0;
  }
  if (!ok) {
    /* JSON-safe enough: records are printable ASCII without quotes or backslashes, except pino's, which we cut. */
    int shown = len < 120 ? (int)len : 120;
    char excerpt[128];
    int j = 0;
    for (int i = 0; i < shown; i++) excerpt[j++] = (line[i] == '"' || line[i] == '\\' || (unsigned char)line[i] < 32) ? '?' : line[i];
    excerpt[j] = '\0';
    snprintf(error, sizeof error, "line %ld is not record %ld: %s", lines, lines, excerpt);
    return;
  }
  lines++;
  if (lines == expected) last_line_ns = now_ns();
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <fifo> <prefixed|pino> <count> <slow-ms> <payload>\n", argv[0]);
    return 2;
  }
  pino = strcmp(argv[2], "pino") == 0;
  expected = atol(argv[3]);
  long long slow_ns = atoll(argv[4]) * 1000000LL;
  payload = argv[5];

  /* O_RDONLY on a FIFO blocks until there is a writer: the bench holds one open. */
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("pipe-reader: open");
    return 1;
  }
  printf("open\n");
  fflush(stdout);

  static char buf[1 << 20];
  static char partial[1 << 16];
  size_t partial_len = 0;
  long long slow_until = -1;
  const struct timespec nap = {0, 1000000};
  for (;;) {
    int slow = slow_until < 0 || now_ns() < slow_until;
    ssize_t n = read(fd, buf, slow ? 4096 : sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("pipe-reader: read");
      return 1;
    }
    if (n == 0) break;
    if (slow_until < 0) slow_until = now_ns() + slow_ns;
    char *p = buf, *end = buf + n, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      if (partial_len > 0) {
        /* A line split across reads: join it with its beginning. */
        size_t rest = (size_t)(nl - p);
        if (partial_len + rest <= sizeof partial) {
          memcpy(partial + partial_len, p, rest);
          check(partial, partial_len + rest);
        } else if (!error[0]) {
          snprintf(error, sizeof error, "line %ld is over %zu bytes", lines, sizeof partial);
        }
        partial_len = 0;
      } else {
        check(p, (size_t)(nl - p));
      }
      p = nl + 1;
    }
    size_t tail = (size_t)(end - p);
    if (tail > 0) {
      if (partial_len + tail <= sizeof partial) memcpy(partial + partial_len, p, tail);
      partial_len += tail;
    }
    if (slow) nanosleep(&nap, NULL);
  }
  close(fd);
  if (!error[0] && partial_len > 0) snprintf(error, sizeof error, "input ends inside a line (%zu bytes)", partial_len);
  if (!error[0] && lines != expected) snprintf(error, sizeof error, "%ld of %ld lines arrived", lines, expected);
  if (error[0]) printf("{\"lines\":%ld,\"error\":\"%s\",\"lastLineNs\":null}\n", lines, error);
  else printf("{\"lines\":%ld,\"error\":null,\"lastLineNs\":\"%lld\"}\n", lines, last_line_ns);
  return 0;
}
