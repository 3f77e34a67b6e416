/*
 * weld.h — the whole contract between a C host and modules compiled by weld.
 *
 * A module compiled with `weld compile m.wasm --emit obj --name p` is one object file defining:
 *
 *   extern const weld_module p__module;               the module descriptor
 *   weld_instance *p_instantiate(const weld_import *imports, size_t n);
 *   void p_free(weld_instance *inst);
 *   uint32_t p_<export>(weld_instance *inst, <params>, <one pointer per result>);
 *
 * `weld compile m.wasm --emit header --name p` writes p.h with exactly these declarations for
 * that module. Export names are mangled injectively: letters and digits stay, `_` becomes `__`,
 * every other byte `_XY` (hex); `add` -> p_add, `my_fn` -> p_my__fn, `a-b` -> p_a_2Db.
 *
 * Link the object with libweld_runtime.a (built by `cargo build -p weld-runtime`) and
 * `-lpthread -ldl -lm`:   cc host.c p.o libweld_runtime.a -lpthread -ldl -lm -o host
 *
 * Value types in C: i32 -> int32_t, i64 -> int64_t, f32 -> float, f64 -> double,
 * funcref/externref -> void *, anyref -> uint64_t. An externref the host makes must come from
 * weld_externref (or from wasm): a module may turn it into an anyref and look inside.
 * Exports with v128 parameters or results get no C entry point.
 *
 * Traps are values: every entry point returns 0 or a weld_trap_code, and a trap never ends the
 * process. A core instance stays usable after a trap (its memory as the trap left it).
 * Instances share nothing: many may live in one process. Calls into one instance must not run
 * on two threads at once.
 *
 * Modelled on wasm2c's wasm-rt.h. Checked by runtime-support's unit tests: the trap enum below
 * must equal the runtime's TrapCode table, code for code and message for message
 * (`BLESS=1 cargo test -p weld-runtime capi` rewrites it from that table).
 */
#ifndef WELD_H
#define WELD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled module's descriptor (opaque; `<prefix>__module` in the object). */
typedef struct weld_module weld_module;

/* A running instance and everything it owns (memories, tables, globals). */
typedef struct weld_instance weld_instance;

/* One value slot of weld_call: a value in native byte order from offset 0. */
#ifdef __cplusplus
#define WELD_ALIGN16 alignas(16)
#else
#define WELD_ALIGN16 _Alignas(16)
#endif
typedef struct weld_val {
  WELD_ALIGN16 uint8_t bytes[16];
} weld_val;

/*
 * A host function offered for the function import `module`::`name`. It is called as
 *   ret func(void *ctx, params...)
 * with the C types above; at most one result. Imports are matched by name, in any order.
 * Only function imports can be provided from C.
 */
typedef struct weld_import {
  const char *module;
  const char *name;
  void *func;
  void *ctx;
} weld_import;

/* Why wasm stopped: the value every entry point returns (0 = returned normally). */
typedef enum weld_trap_code {
  WELD_OK = 0,
  WELD_TRAP_UNREACHABLE = 1, /* unreachable */
  WELD_TRAP_MEMORY_OUT_OF_BOUNDS = 2, /* out of bounds memory access */
  WELD_TRAP_INTEGER_DIVISION_BY_ZERO = 3, /* integer divide by zero */
  WELD_TRAP_INTEGER_OVERFLOW = 4, /* integer overflow */
  WELD_TRAP_BAD_CONVERSION_TO_INTEGER = 5, /* invalid conversion to integer */
  WELD_TRAP_INDIRECT_CALL_TYPE_MISMATCH = 6, /* indirect call type mismatch */
  WELD_TRAP_UNDEFINED_ELEMENT = 7, /* undefined element */
  WELD_TRAP_UNINITIALIZED_ELEMENT = 8, /* uninitialized element */
  WELD_TRAP_TABLE_OUT_OF_BOUNDS = 9, /* out of bounds table access */
  WELD_TRAP_STACK_OVERFLOW = 10, /* call stack exhausted */
  WELD_TRAP_NULL_REFERENCE = 11, /* null reference */
  WELD_TRAP_CANNOT_ENTER_COMPONENT = 12, /* cannot enter component instance */
  WELD_TRAP_INSTANCE_POISONED = 13, /* instance poisoned by an earlier trap */
  WELD_TRAP_INVALID_ENCODING = 14, /* invalid string encoding */
  WELD_TRAP_INVALID_DISCRIMINANT = 15, /* invalid discriminant */
  WELD_TRAP_INVALID_CHAR = 16, /* invalid char */
  WELD_TRAP_UNALIGNED_POINTER = 17, /* unaligned pointer */
  WELD_TRAP_UNKNOWN_HANDLE = 18, /* unknown handle index */
  WELD_TRAP_RESOURCE_BORROWED = 19, /* resource has borrows */
  WELD_TRAP_MISSING_IMPORT = 20, /* call to a missing import */
  WELD_TRAP_INVALID_VALUE = 21, /* invalid value */
  WELD_TRAP_NULL_FUNCTION_REFERENCE = 22, /* null function reference */
  WELD_TRAP_CANNOT_LEAVE_COMPONENT = 23, /* cannot leave component instance */
  WELD_TRAP_STRING_OUT_OF_BOUNDS = 24, /* string content out-of-bounds */
  WELD_TRAP_LIST_OUT_OF_BOUNDS = 25, /* list content out-of-bounds */
  WELD_TRAP_HOST_STRING_OUT_OF_BOUNDS = 26, /* string pointer/length out of bounds of memory */
  WELD_TRAP_REALLOC_OUT_OF_BOUNDS = 27, /* realloc return: beyond end of memory */
  WELD_TRAP_REALLOC_UNALIGNED = 28, /* realloc return: result not aligned */
  WELD_TRAP_INVALID_UTF8 = 29, /* invalid utf-8 */
  WELD_TRAP_INCOMPLETE_UTF8 = 30, /* incomplete utf-8 byte sequence */
  WELD_TRAP_HANDLE_WRONG_TYPE = 31, /* used with the wrong type */
  WELD_TRAP_OWNED_RESOURCE_BORROWED = 32, /* cannot remove owned resource while borrowed */
  WELD_TRAP_BORROWS_REMAIN = 33, /* borrow handles still remain at the end of the call */
  WELD_TRAP_INVALID_VARIANT_DISCRIMINANT = 34, /* invalid variant discriminant */
  WELD_TRAP_INVALID_CHAR_BIT_PATTERN = 35, /* invalid `char` bit pattern */
  WELD_TRAP_UNSUPPORTED_BUILTIN = 36, /* canonical built-in not supported by weld */
  WELD_TRAP_BACKPRESSURE_OUT_OF_RANGE = 37, /* backpressure counter out of range */
  WELD_TRAP_EXIT = 38, /* exit */
  WELD_TRAP_UNCAUGHT_EXCEPTION = 39, /* uncaught exception */
  WELD_TRAP_NULL_EXCEPTION_REFERENCE = 40, /* null exception reference */
  WELD_TRAP_NULL_STRUCT_REFERENCE = 41, /* null structure reference */
  WELD_TRAP_NULL_ARRAY_REFERENCE = 42, /* null array reference */
  WELD_TRAP_NULL_I31_REFERENCE = 43, /* null i31 reference */
  WELD_TRAP_CAST_FAILURE = 44, /* cast failure */
  WELD_TRAP_ARRAY_OUT_OF_BOUNDS = 45, /* out of bounds array access */
  WELD_TRAP_ALLOCATION_TOO_LARGE = 46, /* allocation size too large */
  WELD_TRAP_GC_HEAP_EXHAUSTED = 47, /* GC heap out of memory */
  WELD_TRAP_SYNC_TASK_BLOCKED = 48, /* cannot block a synchronous task before returning */
  WELD_TRAP_WAITABLE_IN_SET = 49, /* waitable cannot be used synchronously while added to a waitable set */
  WELD_TRAP_UNSUPPORTED_CALLBACK_CODE = 50, /* unsupported callback code */
  WELD_TRAP_ASYNC_DEADLOCK = 51, /* deadlock detected: event loop cannot make further progress */
  WELD_TRAP_STREAM_WRITE_AFTER_DROP = 52, /* cannot write to stream after being notified that the readable end dropped */
  WELD_TRAP_STREAM_READ_AFTER_DROP = 53, /* cannot read from stream after being notified that the writable end dropped */
  WELD_TRAP_STREAM_LIFT_AFTER_DROP = 54, /* cannot lift stream after being notified that the writable end dropped */
  WELD_TRAP_FUTURE_WRITE_AFTER_DONE = 55, /* cannot write to future after previous write succeeded or readable end dropped */
  WELD_TRAP_FUTURE_READ_AFTER_DONE = 56, /* cannot read from future after previous read succeeded */
  WELD_TRAP_FUTURE_LIFT_AFTER_DONE = 57, /* cannot lift future after previous read succeeded */
  WELD_TRAP_INTRA_COMPONENT_COPY = 58, /* cannot read from and write to intra-component future */
  WELD_TRAP_CONCURRENT_COPY = 59, /* cannot have concurrent operations active on a future/stream */
  WELD_TRAP_DROP_BUSY_STREAM = 60, /* cannot drop busy stream */
  WELD_TRAP_REMOVE_BUSY_STREAM = 61, /* cannot remove busy stream */
  WELD_TRAP_FUTURE_DROPPED_UNWRITTEN = 62, /* cannot drop future write end without first writing a value */
  WELD_TRAP_LIFT_STREAM_IN_SET = 63, /* cannot lift stream while it's in a waitable set */
  WELD_TRAP_LIFT_FUTURE_IN_SET = 64, /* cannot lift future while it's in a waitable set */
  WELD_TRAP_WAITABLE_SET_BUSY = 65, /* cannot drop waitable set with waiters */
  WELD_TRAP_SUBTASK_NOT_RESOLVED = 66, /* cannot drop a subtask which has not yet resolved */
  WELD_TRAP_TASK_ALREADY_RETURNED = 67, /* task already returned */
  WELD_TRAP_TASK_RETURN_MISMATCH = 68, /* invalid `task.return` signature and/or options for current task */
  WELD_TRAP_TASK_NOT_RETURNED = 69, /* async-lifted export failed to produce a result */
  WELD_TRAP_COPY_BUFFER_OUT_OF_BOUNDS = 70, /* stream or future buffer out of bounds */
  WELD_TRAP_WRONG_HANDLE_KIND = 71, /* handle index used with the wrong type */
  WELD_TRAP_NO_STACK_FOR_TASK = 72, /* out of memory for an async task's stack */
  WELD_TRAP_THREAD_NOT_SUSPENDED = 73, /* thread is not suspended */
  WELD_TRAP_CANCEL_NOT_DELIVERED = 74, /* task.cancel called without a pending cancellation */
  WELD_TRAP_CANCEL_REQUESTED_TWICE = 75, /* subtask cancellation already requested */
  WELD_TRAP_STORE_MOVED = 76, /* store moved while async tasks were suspended in it */
} weld_trap_code;

/* Instantiate a module with `n` imports (NULL when n is 0): segments, start function.
   NULL on failure, with the reason in weld_last_error(). */
weld_instance *weld_instantiate(const weld_module *module, const weld_import *imports, size_t n);

/* Free an instance and everything it owns. NULL is ignored. */
void weld_instance_free(weld_instance *inst);

/* Call export number `export_index` (module export order): arguments in vals[0..params],
   results written to vals[0..results]; `vals` needs max(params, results) slots.
   Returns 0 or a weld_trap_code. The per-export entry points wrap this. */
uint32_t weld_call(weld_instance *inst, uint32_t export_index, weld_val *vals);

/* The spec's text for a trap code ("integer divide by zero"); static storage. */
const char *weld_trap_message(uint32_t code);

/* The wasm backtrace of the last trap on this thread ("wasm backtrace:" and one line per
   frame, innermost first, named from the name section) into buf, NUL-terminated and cut to cap
   bytes. Returns the whole text's length (0: no frames recorded), like snprintf; clears it. */
size_t weld_trap_backtrace(char *buf, size_t cap);

/* Why the last failing call on this thread failed; valid until the next failure. */
const char *weld_last_error(void);

/* Base address of the memory exported as `name` and its length in bytes (*len); NULL if there is
   no such memory. Valid until the memory grows (any call into the instance may grow it). A 64-bit
   memory (memory64) may be longer than 4 GiB; its addresses are offsets from the base too. */
uint8_t *weld_memory_data(weld_instance *inst, const char *name, size_t *len);

/* ---- GC references ----------------------------------------------------------------------
 * anyref values (structs, arrays, i31) are 64-bit words (uint64_t), and so are externrefs that
 * wasm made from them. Objects move when the collector runs, which any call into the instance
 * may do: a word a call returned is valid only until the next call. To keep one, root it:
 * the collector updates the word a root holds. A handle that was given back reads nothing. */

/* Root `ref`: a handle, never 0. */
uint64_t weld_root(weld_instance *inst, uint64_t ref);
/* The word root `root` holds now into *ref; 0 if it was given back (or is no root). */
int weld_root_get(weld_instance *inst, uint64_t root, uint64_t *ref);
/* Give a root back (a handle that was already given back is ignored). */
void weld_unroot(weld_instance *inst, uint64_t root);
/* The externref word of host value `value` (below 2^62); 0 (null) if it is larger. */
uint64_t weld_externref(uint64_t value);
/* 1 and the host value in *value if `ref` is an externref a host made; else 0. */
int weld_externref_value(uint64_t ref, uint64_t *value);

/* From inside a host function called by wasm: abandon the call and make the weld_call that
   entered wasm return `code`. Skips the C frames in between without clean-up. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void weld_trap(uint32_t code);

/* ---- Components -------------------------------------------------------------------------
 * A component compiled with `weld compile app.wasm --emit obj --name p` is one object defining
 * the descriptor `p__component`; `--emit header --name p` writes p.h with C types for its
 * interface types and typed static inline wrappers over the functions below. Values cross in
 * the C layout p.h declares (weld_contract::component::clayout defines it; the runtime reads and
 * writes exactly that). */

/* A compiled component's descriptor (opaque; `<prefix>__component` in the object). */
typedef struct weld_component_module weld_component_module;

/* An instantiated component and the store that owns all of it. */
typedef struct weld_component weld_component;

/* Any function pointer; cast back to its real type before calling. */
typedef void (*weld_fn)(void);

/* Calls a typed host function `func`: args[i] points at parameter i in C layout, `ret` at the
   result (NULL if none). The generated header defines one per import. */
typedef uint32_t (*weld_component_adapter)(weld_fn func, void *ctx, const void *const *args,
                                           void *ret);

/* A host function offered for the component import `name` (matched by full name, e.g.
   "wasi:cli/stdout@0.2.0#get-stdout"); p.h's p_import_<name>(fn, ctx) fills one in. */
typedef struct weld_component_import {
  const char *name;
  weld_component_adapter adapter;
  weld_fn func;
  void *ctx;
} weld_component_import;

/* Instantiate a component; every import it needs must be among the `n` entries. NULL on
   failure, with the reason in weld_last_error(). */
weld_component *weld_component_instantiate(const weld_component_module *desc,
                                           const weld_component_import *imports, size_t n);

/* Call export number `export_index` (the header's order): args[i] points at argument i in C
   layout (args may be NULL without parameters); the result is written to `ret` (malloc'd
   strings and lists, owned by the caller) when the call returns 0. On a trap `ret` holds
   nothing the caller owns (what a trapped result had allocated is not freed), and the
   instance refuses further calls; an invalid argument (not UTF-8, a bad char or tag, NULL
   with a length) is refused with its trap code before the call enters, and the instance stays
   usable. Exports whose values the compiler covers (no resources,
   UTF-8 strings) run a compiled host entry that reads the arguments and writes the result in
   place; the others convert through the runtime's generic path. */
uint32_t weld_component_call(weld_component *inst, uint32_t export_index,
                             const void *const *args, void *ret);

/* Free an instance (NULL is ignored). */
void weld_component_free(weld_component *inst);

/* Calls of async exports the host does not wait for: start one, then poll it (run what can run
   without blocking), wait for it (run until it resolves) or cancel it (ask its task to stop).
   Each answers WELD_CALL_PENDING while the call has not resolved (the handle stays valid), or
   a final answer that frees the handle: 0 with the result in `ret` (as weld_component_call
   writes it), WELD_CALL_CANCELLED, or a trap code (a call that can never resolve traps with
   WELD_TRAP_ASYNC_DEADLOCK from wait). `ret` must be writable for the result type. */
#define WELD_CALL_PENDING 0x100u
#define WELD_CALL_CANCELLED 0x101u
typedef struct weld_async_call weld_async_call;

/* Start a call of async export `export_index` with `args` as for weld_component_call; the
   handle goes to *call. 0, or the trap code (then *call is NULL). */
uint32_t weld_component_call_start(weld_component *inst, uint32_t export_index,
                                   const void *const *args, weld_async_call **call);
uint32_t weld_component_call_poll(weld_component *inst, weld_async_call *call, void *ret);
uint32_t weld_component_call_wait(weld_component *inst, weld_async_call *call, void *ret);
uint32_t weld_component_call_cancel(weld_component *inst, weld_async_call *call, void *ret);

/* Load a plugin: a component compiled with `weld compile --emit sharedlib`. Checked before it is
   loaded (ELF headers: machine, no initialisers or library dependencies, nothing truncated; a
   file that fails runs no code) and after (contract version, target, world text against its
   hash and against the component's own types). expected_world_hash: the <PREFIX>_WORLD_HASH of
   the header the host was built with (only a plugin with exactly that world loads), or 0.
   Returns the component for weld_component_instantiate (or <prefix>__instantiate_plugin), or
   NULL with the reason in weld_last_error(). Plugins stay loaded until the process ends. */
const weld_component_module *weld_plugin_open(const char *path, uint64_t expected_world_hash);

/* The main of a WASI command executable: run the component `desc` links with argv/envp.
   Options before the program's arguments (ended by `--` or the first other argument):
   `--dir HOST[::GUEST]` preopens a directory, `--env NAME[=VALUE]` sets a variable (without a
   value: the host's, from envp); nothing else is visible. Returns the program's exit status,
   134 after printing `trap: <message>` and a wasm backtrace if it traps, 2 for a bad option, 1 if the component
   cannot be instantiated (e.g. it imports something the WASI host does not provide).
   `desc` is meant to be the descriptor linked into the same executable: release builds of the
   runtime check only its header (magic, ABI version, CPU features), not its tables; pass a
   plugin's descriptor (weld_plugin_open) to the plugin API instead. */
int weld_main(const weld_component_module *desc, int argc, char **argv, char **envp);

/* weld_main with flags: WELD_MAIN_TRAP_UNKNOWN_IMPORTS lets a component that imports functions
   the WASI host does not provide run; calling one traps ("call to a missing import"). */
#define WELD_MAIN_TRAP_UNKNOWN_IMPORTS 1u
int weld_main_flags(const weld_component_module *desc, uint32_t flags, int argc, char **argv,
                    char **envp);

#ifdef __cplusplus
}
#endif

#endif /* WELD_H */
