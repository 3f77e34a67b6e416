/* Clocks: the monotonic clock advances across a 20 ms sleep (and by at least 20 ms), the wall
 * clock is plausible. Prints `monotonic: advanced by >= 20 ms: yes`, `resolution ok: yes` and
 * `realtime: <seconds since the epoch>` (the runner checks it against its own clock). */
#include <stdio.h>
#include <time.h>

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
  struct timespec a, b, res, wall, d = {0, 20 * 1000000L};
  if (clock_gettime(CLOCK_MONOTONIC, &a) != 0) {
    perror("clock_gettime");
    return 1;
  }
  nanosleep(&d, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long long delta = ns(b) - ns(a);
  printf("monotonic: advanced by >= 20 ms: %s\n", delta >= 20000000LL ? "yes" : "no");
  fprintf(stderr, "monotonic delta: %lld ns\n", delta);
  int r = clock_getres(CLOCK_MONOTONIC, &res);
  printf("resolution ok: %s\n", r == 0 && ns(res) > 0 && ns(res) <= 1000000000LL ? "yes" : "no");
  clock_gettime(CLOCK_REALTIME, &wall);
  printf("realtime: %lld\n", (long long)wall.tv_sec);
  return 0;
}
