/* Random: two 32-byte draws from getentropy (wasi:random/random#get-random-bytes), printed in
 * hex, and whether they differ and are not all zero. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void hex(const unsigned char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    printf("%02x", b[i]);
  printf("\n");
}

int main(void) {
  unsigned char a[32], b[32], zero[32] = {0};
  if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
    perror("getentropy");
    return 1;
  }
  hex(a, sizeof a);
  hex(b, sizeof b);
  printf("draws differ: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
  printf("nonzero: %s\n", memcmp(a, zero, sizeof a) != 0 && memcmp(b, zero, sizeof b) != 0 ? "yes" : "no");
  return 0;
}
