/* memory64 from C (clang-19 --target=wasm64, no libc): grow the memory to GIB gibibytes past
 * the heap base, write one word per MiB and fold them back into a checksum, which
 * compiler/tests/wasm3_programs.rs computes itself. With 5 GiB most of the words lie past the
 * 4 GiB a 32-bit memory can address. */
#include <stdint.h>
#include <stddef.h>

#define STRIDE ((1 << 20) / 8)

extern unsigned char __heap_base;

__attribute__((export_name("touch_above_4gib")))
uint64_t touch_above_4gib(uint64_t gib) {
  size_t want = (size_t)gib << 30;
  size_t base = (size_t)&__heap_base;
  size_t have = __builtin_wasm_memory_size(0) << 16;
  if (have < base + want) {
    if (__builtin_wasm_memory_grow(0, (base + want - have + 65535) >> 16) == (size_t)-1)
      return 0;
  }
  volatile uint64_t *p = (volatile uint64_t *)base;
  size_t words = want / 8;
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i += STRIDE) /* one word per MiB */
    p[i] = i * 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < words; i += STRIDE)
    sum ^= p[i] + i;
  return sum;
}
