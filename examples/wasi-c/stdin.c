/* Reads all of stdin and prints `bytes=N lines=L fnv1a=XXXXXXXX` (32-bit FNV-1a of the bytes),
 * then the first line of the input back, upper-cased. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
  unsigned long bytes = 0, lines = 0;
  uint32_t h = 2166136261u;
  char first[256];
  size_t first_len = 0;
  int in_first = 1;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, stdin)) > 0) {
    for (size_t i = 0; i < got; i++) {
      unsigned char c = (unsigned char)buf[i];
      h = (h ^ c) * 16777619u;
      if (c == '\n') {
        lines++;
        in_first = 0;
      } else if (in_first && first_len < sizeof first - 1) {
        first[first_len++] = (char)toupper(c);
      }
    }
    bytes += got;
  }
  first[first_len] = 0;
  printf("bytes=%lu lines=%lu fnv1a=%08x\n", bytes, lines, (unsigned)h);
  printf("first line: %s\n", first);
  return 0;
}
