/* Environment variables: prints how many the program sees, then, for each argument NAME,
 * `NAME=value` or `NAME is unset`. The sandbox gives no environment unless the runner passes
 * some (`--env NAME=value`). */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
  int n = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  printf("environ has %d entries\n", n);
  for (int i = 1; i < argc; i++) {
    const char *v = getenv(argv[i]);
    if (v)
      printf("%s=%s\n", argv[i], v);
    else
      printf("%s is unset\n", argv[i]);
  }
  return 0;
}
