/* Exit codes. `exit MODE CODE`:
 *   exit   CODE  prints a line, then exit(CODE)
 *   return CODE  prints a line, then returns CODE from main
 * The preview1 adapter alone would report every non-zero CODE as 1 (wasi:cli/exit#exit(err));
 * weld redirects proc_exit to wasi:cli/exit#exit-with-code, so CODE arrives as under wasmtime
 * (which refuses codes >= 126). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exit exit|return CODE\n");
    return 2;
  }
  int code = atoi(argv[2]);
  printf("exiting with %d via %s\n", code, argv[1]);
  if (strcmp(argv[1], "exit") == 0)
    exit(code);
  return code;
}
