/* Prints its argument count and every argument after the program name, one per line:
 *   argc=3
 *   argv[1]=first
 *   argv[2]=second arg
 * (argv[0] differs between runners, so it goes to stderr.) */
#include <stdio.h>

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 1; i < argc; i++)
    printf("argv[%d]=%s\n", i, argv[i]);
  if (argc > 0)
    fprintf(stderr, "argv[0]=%s\n", argv[0]);
  return 0;
}
