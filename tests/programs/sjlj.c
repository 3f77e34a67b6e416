/* setjmp/longjmp compiled to Wasm exception handling: longjmp out of deep recursion and out of
 * a libc callback (a qsort comparator), many times over. Prints what it counted; the test
 * (compiler/tests/wasm3_programs.rs) computes the same numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Debian's wasi-libc has no <setjmp.h>: the declarations LLVM's lowering expects. */
typedef struct {
  void *words[4];
} jmp_buf[1];
int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int value);

static jmp_buf deep_env, sort_env;
static long frames;

/* Recurse `n` deep, then jump back to main with `n0`'s low bits + 1. */
static __attribute__((noinline)) int recurse(int n, int n0) {
  frames++;
  if (n == 0)
    longjmp(deep_env, (n0 & 0xff) + 1);
  return recurse(n - 1, n0) + 1; /* not a tail call */
}

static int poison;
static int compare(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  if (x == poison || y == poison)
    longjmp(sort_env, poison);
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  long deep_sum = 0, sort_sum = 0;
  int values[64];
  for (int r = 0; r < rounds; r++) {
    int got = setjmp(deep_env);
    if (got == 0)
      recurse(1000 + r % 100, r);
    deep_sum += got;
    for (int i = 0; i < 64; i++)
      values[i] = (i * 37 + r) % 64;
    poison = r % 128; /* in the array half of the time */
    int v = setjmp(sort_env);
    if (v == 0) {
      qsort(values, 64, sizeof values[0], compare);
      v = -1; /* sorted without meeting the poison */
    }
    sort_sum += v;
  }
  printf("rounds: %d\nlongjmp from depth, sum: %ld\nframes: %ld\nlongjmp from qsort, sum: %ld\n",
         rounds, deep_sum, frames, sort_sum);
  return 0;
}
