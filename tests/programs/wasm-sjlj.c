/* The three functions LLVM's Wasm setjmp/longjmp lowering (`-mllvm -wasm-enable-sjlj`) calls,
 * for a wasi-libc that has none. A jmp_buf records which function invocation called setjmp and
 * the label LLVM gave that call; longjmp throws the C_LONGJMP tag (index 1) with a pointer to
 * the (env, value) pair, and the function that owns env catches it, tests it against its own
 * invocation and resumes at the label. */
#include <stdint.h>
#include <stdlib.h>

struct weld_jmp_buf {
  void *invocation; /* function invocation that called setjmp */
  uint32_t label;   /* which setjmp call in it */
  struct {
    void *env;
    int value;
  } thrown;         /* what longjmp throws a pointer to */
};

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
  struct weld_jmp_buf *jb = env;
  if (label == 0 || invocation == NULL)
    abort();
  jb->invocation = invocation;
  jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
  struct weld_jmp_buf *jb = env;
  return jb->invocation == invocation ? jb->label : 0;
}

void __wasm_longjmp(void *env, int value) {
  struct weld_jmp_buf *jb = env;
  jb->thrown.env = env;
  jb->thrown.value = value == 0 ? 1 : value;
  __builtin_wasm_throw(1, &jb->thrown);
}
