/* A C host for component.wat, compiled by weld into demo.o with the typed C API in demo.h.
 * It calls every export, passing strings, a list of records and getting back a string, a
 * record and a list of records; implements the component's `log` import; and shows that a
 * trap comes back as a value while the process (and a fresh instance) carries on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static demo_string_t str(const char *s) {
  demo_string_t r = {(uint8_t *)s, strlen(s)};
  return r;
}

/* The host side of the component's `log: func(msg: string)` import. `ctx` counts the calls. */
static uint32_t host_log(void *ctx, const demo_string_t *msg) {
  int *calls = ctx;
  ++*calls;
  printf("[host log] %.*s\n", (int)msg->len, (const char *)msg->ptr);
  return WELD_OK;
}

/* The host side of `stamp: func(msg: string) -> string`: "[#n] msg", n counting the calls in
   `ctx`. The result is malloc'd: weld copies it into the component and frees it. */
static uint32_t host_stamp(void *ctx, const demo_string_t *msg, demo_string_t *ret) {
  int *calls = ctx;
  char prefix[32];
  int n = snprintf(prefix, sizeof prefix, "[#%d] ", ++*calls);
  uint8_t *out = malloc((size_t)n + msg->len);
  if (out == NULL)
    return WELD_TRAP_INVALID_VALUE;
  memcpy(out, prefix, (size_t)n);
  memcpy(out + n, msg->ptr, msg->len);
  ret->ptr = out;
  ret->len = (size_t)n + msg->len;
  return WELD_OK;
}

static int check(const char *what, uint32_t trap) {
  if (trap != WELD_OK) {
    printf("%s: trap: %s\n", what, weld_trap_message(trap));
    return 0;
  }
  return 1;
}

static void print_items(const char *what, const demo_list_item_t *items) {
  printf("%s = [", what);
  for (size_t i = 0; i < items->len; i++)
    printf("%s{name: \"%.*s\", qty: %u}", i ? ", " : "", (int)items->ptr[i].name.len,
           (const char *)items->ptr[i].name.ptr, items->ptr[i].qty);
  printf("]\n");
}

int main(void) {
  int log_calls = 0, stamps = 0;
  weld_component_import imports[] = {demo_import_log(host_log, &log_calls),
                                     demo_import_stamp(host_stamp, &stamps)};
  weld_component *inst = demo__instantiate(imports, 2);
  if (inst == NULL) {
    fprintf(stderr, "cannot instantiate: %s\n", weld_last_error());
    return 1;
  }

  /* A string in, a string out (malloc'd: ours to free). */
  demo_string_t name = str("weld");
  demo_string_t greeting;
  if (check("greet", demo_example_shop_inventory_greet(inst, &name, &greeting))) {
    printf("greet(\"weld\") = \"%.*s\"\n", (int)greeting.len, (const char *)greeting.ptr);
    demo_string_free(&greeting);
  }
  /* A bad argument is the caller's error: the call is refused before it enters the component,
     which stays usable (the calls below still work). */
  demo_string_t not_utf8 = {(uint8_t *)"\xff", 1};
  check("greet(<not UTF-8>)", demo_example_shop_inventory_greet(inst, &not_utf8, &greeting));

  /* A list of records in, a record out. */
  demo_example_shop_inventory_item_t items[] = {
      {str("apple"), 3}, {str("banana"), 5}, {str("kiwi"), 7}, {str("cherry"), 11}};
  demo_list_item_t list = {items, sizeof items / sizeof items[0]};
  demo_example_shop_inventory_summary_t summary;
  if (check("summarize", demo_example_shop_inventory_summarize(inst, &list, &summary))) {
    printf("summarize(...) = {count: %u, total: %u, longest: \"%.*s\"}\n", summary.count,
           summary.total, (int)summary.longest.len, (const char *)summary.longest.ptr);
    demo_example_shop_inventory_summary_free(&summary);
  }

  /* A list of records in, a list of records out. */
  demo_list_item_t scaled;
  if (check("scale", demo_example_shop_inventory_scale(inst, &list, 10, &scaled))) {
    print_items("scale(..., 10)", &scaled);
    demo_list_item_free(&scaled);
  }

  /* Through both components and back out to the host's log. */
  demo_string_t guest = str("component model");
  uint32_t len = 0;
  if (check("welcome", demo_example_shop_inventory_welcome(inst, &guest, &len)))
    printf("welcome(\"component model\") = %u (log calls: %d)\n", len, log_calls);

  uint32_t q = 0;
  if (check("divide(8)", demo_example_shop_inventory_divide(inst, 8, &q)))
    printf("divide(8) = %u\n", q);
  /* This one traps: the trap comes back as a code, the process goes on. */
  if (check("divide(0)", demo_example_shop_inventory_divide(inst, 0, &q)))
    printf("divide(0) = %u\n", q);
  /* A trap poisons the component instance it happened in (the Component Model's rule)... */
  check("divide(4) after the trap", demo_example_shop_inventory_divide(inst, 4, &q));
  demo__free(inst);

  /* ...but a fresh instance works. */
  inst = demo__instantiate(imports, 2);
  if (inst == NULL) {
    fprintf(stderr, "cannot instantiate: %s\n", weld_last_error());
    return 1;
  }
  if (check("divide(4)", demo_example_shop_inventory_divide(inst, 4, &q)))
    printf("divide(4) on a new instance = %u\n", q);
  demo__free(inst);
  return 0;
}
