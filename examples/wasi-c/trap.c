/* Traps. `trap oob` stores far outside linear memory (an out-of-bounds trap), `trap abort`
 * calls abort() (wasm `unreachable`). Both print a line to stderr first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void store_far(volatile uint32_t *p) { *p = 42; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "oob";
  fprintf(stderr, "about to trap (%s)\n", mode);
  if (strcmp(mode, "abort") == 0)
    abort();
  store_far((volatile uint32_t *)(uintptr_t)0xfffffff0u);
  printf("not reached\n");
  return 0;
}
