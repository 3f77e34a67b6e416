/* Large stdout: writes N bytes (default 1 MiB = 1048576) where byte i is '\n' when
 * i % 64 == 63 and 'a' + i % 26 otherwise, through fwrite calls of varying sizes. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1048576L;
  static char buf[7919];
  long i = 0;
  size_t chunk = 1;
  while (i < n) {
    size_t len = chunk;
    if ((long)len > n - i)
      len = (size_t)(n - i);
    for (size_t j = 0; j < len; j++) {
      long k = i + (long)j;
      buf[j] = k % 64 == 63 ? '\n' : (char)('a' + k % 26);
    }
    if (fwrite(buf, 1, len, stdout) != len) {
      perror("fwrite");
      return 1;
    }
    i += (long)len;
    chunk = chunk * 3 % sizeof buf + 1;
  }
  return 0;
}
