/* A bare-metal image for aarch64 or riscv64: no libc, no OS services but three raw Linux system calls
 * (write, exit, rt_sigaction), so that it runs under qemu-user. It is the platform of
 * weld_platform.h: a static arena for memory, an abort that prints and exits, and a fault handler
 * (here a SIGILL/SIGSEGV handler; on a board, the synchronous exception vector) that gives wasm
 * traps to the runtime. It calls the component linked beside it and prints the results. */
#include "weld_platform.h"

extern const char demo__component[];

/* --- Raw system calls (Linux's generic numbers; aarch64: number in x8, arguments in x0..x3,
 * `svc #0`; riscv64: number in a7, arguments in a0..a3, `ecall`). --- */
static long sys4(long n, long a, long b, long c, long d) {
#if defined(__aarch64__)
  register long r_n __asm__("x8") = n;
  register long r0 __asm__("x0") = a;
  register long r1 __asm__("x1") = b;
  register long r2 __asm__("x2") = c;
  register long r3 __asm__("x3") = d;
  __asm__ volatile("svc #0" : "+r"(r0) : "r"(r_n), "r"(r1), "r"(r2), "r"(r3) : "memory");
#elif defined(__riscv)
  register long r_n __asm__("a7") = n;
  register long r0 __asm__("a0") = a;
  register long r1 __asm__("a1") = b;
  register long r2 __asm__("a2") = c;
  register long r3 __asm__("a3") = d;
  __asm__ volatile("ecall" : "+r"(r0) : "r"(r_n), "r"(r1), "r"(r2), "r"(r3) : "memory");
#else
#error "aarch64 or riscv64"
#endif
  return r0;
}
static long sys3(long n, long a, long b, long c) { return sys4(n, a, b, c, 0); }
enum { SYS_write = 64, SYS_exit_group = 94, SYS_rt_sigaction = 134 };

static void out(const char *s, size_t n) { sys3(SYS_write, 1, (long)s, (long)n); }
static void puts_(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  out(s, n);
}
static void put_u64(uint64_t v) {
  char buf[24];
  int i = sizeof buf;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  out(buf + i, sizeof buf - i);
}
static _Noreturn void exit_(int code) {
  for (;;) sys3(SYS_exit_group, code, 0, 0);
}

/* --- The platform of weld_platform.h. --- */
static unsigned char arena[4 << 20] __attribute__((aligned(16)));
static size_t used;

void *weld_platform_alloc(size_t size, size_t align) {
  size_t at = (used + align - 1) & ~(align - 1);
  if (at > sizeof arena || size > sizeof arena - at) return 0;
  used = at + size;
  return arena + at;
}
void weld_platform_free(void *ptr, size_t size, size_t align) {
  (void)ptr, (void)size, (void)align; /* a bump allocator keeps everything */
}
_Noreturn void weld_platform_abort(const char *msg, size_t len) {
  out(msg, len);
  out("\n", 1);
  exit_(70);
}

/* The fault "exception vector": pc, sp and frame pointer from the kernel's struct ucontext, whose
 * uc_mcontext starts at byte 176 on both targets. aarch64: fault_address, x0..x30, sp, pc.
 * riscv64: pc, x1..x31 (sp = x2, s0 = x8). */
static void on_fault(int sig, void *info, void *uc) {
  (void)info;
  const uint64_t *m = (const uint64_t *)((const char *)uc + 176);
#if defined(__aarch64__)
  weld_handle_fault(m[33], m[32], m[30]);
#else
  weld_handle_fault(m[0], m[2], m[8]);
#endif
  puts_("fault outside wasm\n");
  exit_(128 + sig);
}
static void install_fault_handler(void) {
  /* The kernel's struct sigaction: handler, flags, [restorer on aarch64], mask. */
  struct {
    void (*handler)(int, void *, void *);
    unsigned long flags;
#if defined(__aarch64__)
    unsigned long restorer;
#endif
    unsigned long mask;
  } sa = {0};
  sa.handler = on_fault;
  sa.flags = 0x4 /* SA_SIGINFO */ | 0x40000000 /* SA_NODEFER */;
  sys4(SYS_rt_sigaction, 4 /* SIGILL */, (long)&sa, 0, 8);
  sys4(SYS_rt_sigaction, 5 /* SIGTRAP */, (long)&sa, 0, 8);
  sys4(SYS_rt_sigaction, 11 /* SIGSEGV */, (long)&sa, 0, 8);
}

/* --- The program. --- */
static void report(const char *what, int32_t r, uint64_t v) {
  puts_(what);
  if (r == 0) {
    puts_(" = ");
    put_u64(v);
  } else if (r > 0) {
    size_t n;
    const char *m = weld_bare_trap_message((uint32_t)r, &n);
    puts_(": trap: ");
    out(m, n);
  } else {
    puts_(": cannot call");
  }
  puts_("\n");
}

static int main_(void) {
  install_fault_handler();
  uint64_t v = 0, args[2];
  args[0] = 90;
  report("fib(90)", weld_bare_call(demo__component, "fib", args, 1, &v), v);
  args[0] = 1000;
  report("checksum(1000)", weld_bare_call(demo__component, "checksum", args, 1, &v), v);
  args[0] = 100;
  report("records(100)", weld_bare_call(demo__component, "records", args, 1, &v), v);
  args[0] = 84, args[1] = 2;
  report("div(84, 2)", weld_bare_call(demo__component, "div", args, 2, &v), v);
  args[0] = 1, args[1] = 0;
  report("div(1, 0)", weld_bare_call(demo__component, "div", args, 2, &v), v);
  report("fib(10) after the trap", weld_bare_call(demo__component, "fib", (args[0] = 10, args), 1, &v), v);
  puts_("arena used: ");
  put_u64(used);
  puts_(" bytes\n");
  return 0;
}

_Noreturn void _start(void) { exit_(main_()); }
