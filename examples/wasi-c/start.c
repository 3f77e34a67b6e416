/* Program entry for wasi-libc programs that run through the WASI preview1 adapter.
 *
 * Debian's wasi-libc (a 2022 snapshot) assumes its malloc owns `memory.grow`; the preview1
 * adapter allocates too, so both must go through malloc: `cabi_realloc` below is what the
 * adapter (and the canonical ABI) calls. The programs link with -nostartfiles, so this file's
 * `_start` replaces the old crt, which would wrap every export (cabi_realloc included) with a
 * stdio flush that re-enters the adapter. See /work/shared/TOOLCHAIN.md. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  if (new_size == 0) {
    free(ptr);
    return (void *)align; /* a non-null, aligned, empty allocation */
  }
  if (align <= 16)
    return realloc(ptr, new_size);
  void *p = aligned_alloc(align, (new_size + align - 1) / align * align);
  if (p && ptr) {
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    free(ptr);
  }
  return p;
}

void __wasm_call_ctors(void);
void __wasm_call_dtors(void);
int __main_void(void);

__attribute__((export_name("_start")))
void _start(void) {
  __wasm_call_ctors();
  int r = __main_void();
  __wasm_call_dtors();
  /* exit() flushes stdio and reports r through proc_exit. */
  exit(r);
}
