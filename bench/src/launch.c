/* weld-bench's launcher: run argv[2..] (vfork + execvp, same cwd and stdio), wait4 for it and
 * write "RUSAGE <wall_ns> <maxrss_kib> <user_us> <sys_us> <status>" to the file argv[1].
 *
 * Why a separate, static, tiny program: Linux charges a child's peak RSS with the RSS of the
 * address space it exec'd from (the parent's, after fork or vfork). Measured from the harness
 * itself (tens of MiB), a 0.5 MiB native program would report the harness's size. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: launch REPORT PROGRAM [ARGS...]\n");
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid = vfork();
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  if (pid < 0) {
    perror("vfork");
    return 2;
  }
  int st = 0;
  struct rusage ru;
  if (wait4(pid, &st, 0, &ru) < 0) {
    perror("wait4");
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  long long wall = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
  int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fprintf(f, "RUSAGE %lld %ld %lld %lld %d\n", wall, ru.ru_maxrss,
          (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
          (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, status);
  fclose(f);
  return 0;
}
