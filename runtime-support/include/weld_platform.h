/* weld_platform.h: the bare-metal profile of libweld_runtime.a (built without std: no OS, no
 * signals, no threads, no files).
 *
 * The platform (firmware, kernel, or a tiny _start) provides three functions; the runtime
 * provides the rest. Compile components for it with
 *   weld compile --target aarch64-unknown-none --bounds-checks explicit --emit obj app.wasm
 * (no guard pages: the code checks every access), and give every linear memory a maximum: it is
 * allocated whole, up front, with weld_platform_alloc. One thread of execution. */
#ifndef WELD_PLATFORM_H
#define WELD_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- Provided by the platform. --- */

/* size bytes aligned to align (a power of two), or NULL. All of the runtime's memory (linear
 * memories, tables, instances) comes from here: a bump allocator over a static array will do. */
void *weld_platform_alloc(size_t size, size_t align);

/* Give back a block from weld_platform_alloc (may do nothing). */
void weld_platform_free(void *ptr, size_t size, size_t align);

/* A runtime bug (never a wasm trap): report msg[0..len) if possible and stop. */
_Noreturn void weld_platform_abort(const char *msg, size_t len);

/* --- Provided by the runtime. --- */

/* Compiled code traps with an illegal instruction (aarch64 `udf`/`brk`, riscv64 `unimp`/
 * `ebreak`). The platform's exception (or fault signal) handler calls this with the faulting
 * context's pc, sp and frame pointer (x29 / s0): if pc is in wasm code under weld_bare_call, the
 * trap unwinds to that call, which returns the trap code (this does not return). Otherwise it
 * returns 0 and the fault is the platform's own. */
int weld_handle_fault(uintptr_t pc, uintptr_t sp, uintptr_t fp);

/* Call export `name` of the linked component `component` (its <name>__component symbol) with
 * nargs scalar arguments as 64-bit words (integers, bool 0/1, char, floats by their bits),
 * storing a scalar result in *result (if result is not NULL). The component is instantiated
 * (without imports) on its first call. The export runs through its compiled host entry (the
 * bare-metal runtime has no generic Canonical ABI path). Returns 0, a weld_trap_code (1 =
 * unreachable, 3 = integer divide by zero, ... see weld.h), or -1 when the call is not possible
 * (no such export, non-scalar types, an invalid char argument, no host entry, instantiation
 * failed: e.g. a crossing that is not compiled). After a trap the instance refuses further
 * calls. */
int32_t weld_bare_call(const void *component, const char *name, const uint64_t *args,
                       size_t nargs, uint64_t *result);

/* The spec text of a trap code; *len receives its length (not NUL-terminated). */
const char *weld_bare_trap_message(uint32_t code, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
