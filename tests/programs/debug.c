/* A C program for `weld compile -g` (compiler/tests/debug_info.rs): gdb, given the native
 * executable, stops at a line of this file, names these functions in `bt`, and steps.
 * Built with -O0 -g so that every line and call survives in the wasm's DWARF. */
#include <stdio.h>

static int square(int x) {
  int y = x * x; /* LINE_SQUARE */
  return y;
}

int sum_squares(int n) {
  int total = 0;
  for (int i = 1; i <= n; i++)
    total += square(i); /* LINE_CALL */
  return total;
}

int main(void) {
  int r = sum_squares(10);
  printf("sum of squares: %d\n", r);
  return 0;
}
