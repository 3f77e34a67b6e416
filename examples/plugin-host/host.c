/* A C host that loads a weld plugin at run time (dlopen, through weld_plugin_open) and calls it
 * through the typed header generated from the same component: three instances with their own
 * state, a trap that leaves the others working, and a plugin with another world refused.
 *   host PLUGIN.so OTHER.so */
#include "greeter.h"
#include <stdio.h>
#include <string.h>

static greeter_string_t str(const char *s) {
  greeter_string_t r = {(uint8_t *)s, strlen(s)};
  return r;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: host PLUGIN.so OTHER.so\n");
    return 2;
  }
  /* Only a plugin with exactly the world of greeter.h loads. */
  const weld_component_module *plugin = weld_plugin_open(argv[1], GREETER_WORLD_HASH);
  if (!plugin) {
    fprintf(stderr, "error: %s\n", weld_last_error());
    return 1;
  }
  weld_component *inst[3];
  for (int i = 0; i < 3; i++) {
    inst[i] = greeter__instantiate_plugin(plugin, NULL, 0);
    if (!inst[i]) {
      fprintf(stderr, "error: %s\n", weld_last_error());
      return 1;
    }
  }
  for (int i = 0; i < 3; i++) {
    for (int k = 0; k <= i; k++) {
      char name[32];
      snprintf(name, sizeof name, "instance %d", i);
      greeter_string_t in = str(name), out;
      uint32_t trap = greeter_greet(inst[i], &in, &out);
      if (trap) {
        fprintf(stderr, "greet trapped: %s\n", weld_trap_message(trap));
        return 1;
      }
      if (k == i)
        printf("%.*s\n", (int)out.len, (const char *)out.ptr);
      greeter_string_free(&out);
    }
  }
  for (int i = 0; i < 3; i++) {
    uint32_t n = 0;
    greeter_count(inst[i], &n);
    printf("instance %d: %u calls\n", i, n);
  }
  uint32_t q = 0;
  uint32_t trap = greeter_div(inst[0], 1, 0, &q);
  printf("instance 0: div(1, 0): %s\n", trap ? weld_trap_message(trap) : "no trap?");
  trap = greeter_div(inst[1], 84, 2, &q);
  printf("instance 1: div(84, 2) = %u%s\n", q, trap ? " (trapped!)" : "");
  for (int i = 0; i < 3; i++)
    greeter__free(inst[i]);

  const weld_component_module *other = weld_plugin_open(argv[2], GREETER_WORLD_HASH);
  printf("other plugin: %s\n", other ? "loaded (wrong!)" : "refused");
  if (!other)
    printf("reason: %s\n", weld_last_error());
  return other ? 1 : 0;
}
