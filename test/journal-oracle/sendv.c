/* libsystemd's sd_journal_sendv(), as the oracle for our journal encoding.
 * argv[1] is a file of [u32 length, little-endian][bytes] entries, each one
 * "NAME=value" with any bytes in the value; they become one iovec each and
 * are sent as one record, exactly as a C daemon would send them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 3;
  struct iovec iov[64];
  int n = 0;
  uint8_t header[4];
  while (n < 64 && fread(header, 1, 4, f) == 4) {
    size_t len = header[0] | header[1] << 8 | header[2] << 16 | (size_t)header[3] << 24;
    char* data = malloc(len ? len : 1);
    if (!data || fread(data, 1, len, f) != len) return 4;
    iov[n].iov_base = data;
    iov[n].iov_len = len;
    n++;
  }
  int r = sd_journal_sendv(iov, n);
  if (r < 0) {
    fprintf(stderr, "sd_journal_sendv: %s\n", strerror(-r));
    return 1;
  }
  return 0;
}
