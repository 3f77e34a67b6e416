/* A C host for module.wat, compiled by weld into demo.o with the C API in demo.h.
 * It calls every export, shows a trap coming back as a value, and keeps using the same instance
 * afterwards to show that neither the instance nor the process died. */
#include <stdio.h>
#include <string.h>

#include "demo.h"

/* Report a trap (or "ok") and return whether the call succeeded. */
static int check(const char *what, uint32_t trap) {
  if (trap != WELD_OK) {
    printf("%s: trap: %s\n", what, weld_trap_message(trap));
    return 0;
  }
  return 1;
}

int main(void) {
  weld_instance *inst = demo__instantiate(NULL, 0);
  if (inst == NULL) {
    fprintf(stderr, "cannot instantiate: %s\n", weld_last_error());
    return 1;
  }

  int32_t sum = 0;
  if (check("add(2, 40)", demo_add(inst, 2, 40, &sum)))
    printf("add(2, 40) = %d\n", sum);
  if (check("add(2147483647, 1)", demo_add(inst, 2147483647, 1, &sum)))
    printf("add(2147483647, 1) = %d\n", sum);

  for (int32_t n = 10; n <= 90; n += 40) {
    int64_t f = 0;
    if (check("fib", demo_fib(inst, n, &f)))
      printf("fib(%d) = %lld\n", n, (long long)f);
  }

  /* Write bytes into the module's exported memory, then let wasm sum them. */
  size_t len = 0;
  uint8_t *mem = weld_memory_data(inst, "memory", &len);
  if (mem == NULL) {
    fprintf(stderr, "no exported memory\n");
    return 1;
  }
  const char *text = "hello, weld";
  memcpy(mem + 100, text, strlen(text));
  int32_t bytes = 0;
  if (check("sum_bytes", demo_sum__bytes(inst, 100, (int32_t)strlen(text), &bytes)))
    printf("sum_bytes(\"%s\") = %d (memory: %zu bytes)\n", text, bytes, len);

  int32_t q = 0;
  if (check("divide(84, 2)", demo_divide(inst, 84, 2, &q)))
    printf("divide(84, 2) = %d\n", q);
  /* This one traps: the trap comes back as a code, the process goes on. */
  q = -1;
  if (check("divide(1, 0)", demo_divide(inst, 1, 0, &q)))
    printf("divide(1, 0) = %d\n", q);
  /* Reading past the end of memory traps too. */
  check("sum_bytes(65530, 10)", demo_sum__bytes(inst, 65530, 10, &bytes));

  /* The instance still works after the traps. */
  if (check("divide(-7, 2)", demo_divide(inst, -7, 2, &q)))
    printf("divide(-7, 2) = %d\n", q);
  if (check("add(20, 22)", demo_add(inst, 20, 22, &sum)))
    printf("add(20, 22) = %d\n", sum);

  demo__free(inst);
  printf("done\n");
  return 0;
}
