/* A threaded-code interpreter whose instruction handlers hand over to each other with
 * guaranteed tail calls (`musttail`; clang's -mtail-call makes them wasm `return_call_indirect`):
 * without frames being replaced, the first thousands of dispatches would exhaust any stack.
 *
 * The interpreted program sums the Collatz stopping times of 1..N (N from argv, default
 * 1000000, what `make bench` runs) and prints the sum and how many instructions ran, which
 * compiler/tests/wasm3_programs.rs checks against its own computation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct inst;
typedef int64_t (*handler)(int64_t *r, const struct inst *pc, int64_t ran);
struct inst {
  handler run;
  int a;          /* register */
  int64_t imm;    /* immediate */
  int target;     /* branch target (instruction index) */
};

static const struct inst *code;

#define NEXT(pc) __attribute__((musttail)) return (pc)->run(r, (pc), ran + 1)

static int64_t op_set(int64_t *r, const struct inst *pc, int64_t ran) {
  r[pc->a] = pc->imm;
  NEXT(pc + 1);
}
static int64_t op_mov(int64_t *r, const struct inst *pc, int64_t ran) {
  r[pc->a] = r[pc->imm];
  NEXT(pc + 1);
}
static int64_t op_jeq(int64_t *r, const struct inst *pc, int64_t ran) {
  NEXT(r[pc->a] == pc->imm ? code + pc->target : pc + 1);
}
static int64_t op_jodd(int64_t *r, const struct inst *pc, int64_t ran) {
  NEXT((r[pc->a] & 1) ? code + pc->target : pc + 1);
}
static int64_t op_triple_plus_one(int64_t *r, const struct inst *pc, int64_t ran) {
  r[pc->a] = 3 * r[pc->a] + 1;
  NEXT(pc + 1);
}
static int64_t op_half(int64_t *r, const struct inst *pc, int64_t ran) {
  r[pc->a] /= 2;
  NEXT(pc + 1);
}
static int64_t op_inc(int64_t *r, const struct inst *pc, int64_t ran) {
  r[pc->a] += 1;
  NEXT(pc + 1);
}
static int64_t op_jle(int64_t *r, const struct inst *pc, int64_t ran) {
  NEXT(r[pc->a] <= r[pc->imm] ? code + pc->target : pc + 1);
}
static int64_t op_jmp(int64_t *r, const struct inst *pc, int64_t ran) {
  (void)r;
  NEXT(code + pc->target);
}
static int64_t op_halt(int64_t *r, const struct inst *pc, int64_t ran) {
  (void)r;
  (void)pc;
  return ran;
}

/* r0 = n, r1 = x, r2 = sum of stopping times, r3 = N */
static const struct inst program[] = {
    /* 0 */ {op_set, 0, 1, 0},
    /* 1 */ {op_set, 2, 0, 0},
    /* 2 */ {op_mov, 1, 0, 0},         /* loop_n: x = n */
    /* 3 */ {op_jeq, 1, 1, 10},        /* loop_x: x == 1 -> next_n */
    /* 4 */ {op_inc, 2, 0, 0},
    /* 5 */ {op_jodd, 1, 0, 8},
    /* 6 */ {op_half, 1, 0, 0},
    /* 7 */ {op_jmp, 0, 0, 3},
    /* 8 */ {op_triple_plus_one, 1, 0, 0},
    /* 9 */ {op_jmp, 0, 0, 3},
    /* 10 */ {op_inc, 0, 0, 0},        /* next_n */
    /* 11 */ {op_jle, 0, 3, 2},        /* n <= N -> loop_n */
    /* 12 */ {op_halt, 0, 0, 0},
};

int main(int argc, char **argv) {
  int64_t r[4] = {0, 0, 0, argc > 1 ? atoll(argv[1]) : 1000000};
  code = program;
  int64_t ran = code->run(r, code, 1);
  printf("collatz steps for 1..%lld: %lld\n", (long long)r[3], (long long)r[2]);
  printf("instructions run: %lld\n", (long long)ran);
  return 0;
}
