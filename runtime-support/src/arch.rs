//! Entering and leaving wasm, in assembly: `weld_rt_enter` saves the callee-saved registers and
//! the stack pointer in a [`JmpBuf`] and calls an array-call function; `weld_rt_unwind` restores
//! them and makes that `weld_rt_enter` return a trap code. This is `setjmp`/`longjmp` reduced to
//! what we need, so it also works without libc and from inside a signal handler.
//!
//! Only frames without destructors may be skipped by an unwind: wasm frames, and runtime frames
//! that are written so (see [`crate::libcalls`]).
//!
//! ```text
//! JmpBuf (words)   x86_64            aarch64                  riscv64
//! 0..              rbx rbp r12-r15   x19-x28 x29 x30          ra sp s0-s11
//!                  rsp rip           sp d8-d15                fs0-fs11
//! ```

use weld_contract::vmctx::ValRaw;

/// Saved machine state of one entry into wasm.
#[repr(C, align(16))]
#[derive(Debug, Default)]
pub struct JmpBuf {
    words: [usize; 32],
}

impl JmpBuf {
    /// The stack pointer of the caller of `weld_rt_enter` that filled this buffer: every frame
    /// of the wasm it called lies below it.
    pub fn stack_pointer(&self) -> usize {
        #[cfg(target_arch = "x86_64")]
        const SP: usize = 6;
        #[cfg(target_arch = "aarch64")]
        const SP: usize = 12;
        #[cfg(target_arch = "riscv64")]
        const SP: usize = 1;
        self.words[SP]
    }
}

/// An array-call function: `(vmctx, value slots)`.
pub type ArrayCall = unsafe extern "C" fn(*mut u8, *mut ValRaw);

extern "C" {
    /// Save the machine state in `buf`, call `f(vmctx, vals)`, return 0; or return the code given
    /// to [`weld_rt_unwind`] with this `buf`.
    pub fn weld_rt_enter(buf: *mut JmpBuf, f: ArrayCall, vmctx: *mut u8, vals: *mut ValRaw) -> u32;
    /// Return to the `weld_rt_enter` that filled `buf`, making it return `code` (non-zero).
    pub fn weld_rt_unwind(buf: *const JmpBuf, code: u32) -> !;
    /// The `throw` libcall: jumps to [`crate::exception::weld_rt_throw_impl`] with the
    /// caller's return address and frame pointer added as third and fourth arguments (a Rust
    /// function cannot read its own return address). Never returns.
    pub fn weld_rt_throw(vmctx: *mut u8, exn: *mut weld_contract::vmctx::VMException);
}

// `weld_rt_throw`: the caller is compiled wasm, which keeps its frame pointer in the frame
// register; on entry the return address is at [rsp] (x86_64) or in the link register. A tail
// jump keeps the stack as the caller left it, so the target sees a normal call.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.weld_rt_throw,\"ax\",@progbits",
    ".globl weld_rt_throw",
    ".hidden weld_rt_throw",
    ".type weld_rt_throw,@function",
    ".p2align 4",
    "weld_rt_throw:",
    "mov rdx, [rsp]",
    "mov rcx, rbp",
    "jmp {imp}",
    ".size weld_rt_throw, . - weld_rt_throw",
    ".popsection",
    imp = sym crate::exception::weld_rt_throw_impl,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".globl weld_rt_throw",
    ".hidden weld_rt_throw",
    ".type weld_rt_throw,%function",
    ".p2align 4",
    "weld_rt_throw:",
    "mov x2, x30",
    "mov x3, x29",
    "b {imp}",
    ".size weld_rt_throw, . - weld_rt_throw",
    imp = sym crate::exception::weld_rt_throw_impl,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".text",
    ".globl weld_rt_throw",
    ".hidden weld_rt_throw",
    ".type weld_rt_throw,@function",
    ".p2align 2",
    "weld_rt_throw:",
    "mv a2, ra",
    "mv a3, s0",
    "tail {imp}",
    ".size weld_rt_throw, . - weld_rt_throw",
    imp = sym crate::exception::weld_rt_throw_impl,
);

// Each function in a section of its own, as the compiler does for Rust functions: the linker can
// then place them with the rest of the start-up code (see the compiler's `link::startup_order`).
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.weld_rt_enter,\"ax\",@progbits",
    ".globl weld_rt_enter",
    ".hidden weld_rt_enter",
    ".type weld_rt_enter,@function",
    ".p2align 4",
    "weld_rt_enter:",
    // rdi = buf, rsi = f, rdx = vmctx, rcx = vals
    "mov [rdi + 0], rbx",
    "mov [rdi + 8], rbp",
    "mov [rdi + 16], r12",
    "mov [rdi + 24], r13",
    "mov [rdi + 32], r14",
    "mov [rdi + 40], r15",
    "lea rax, [rsp + 8]",
    "mov [rdi + 48], rax",
    "mov rax, [rsp]",
    "mov [rdi + 56], rax",
    // On entry rsp = 8 (mod 16); realign before the call.
    "sub rsp, 8",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "call rax",
    "add rsp, 8",
    "xor eax, eax",
    "ret",
    ".size weld_rt_enter, . - weld_rt_enter",
    ".popsection",
    "",
    ".pushsection .text.weld_rt_unwind,\"ax\",@progbits",
    ".globl weld_rt_unwind",
    ".hidden weld_rt_unwind",
    ".type weld_rt_unwind,@function",
    ".p2align 4",
    "weld_rt_unwind:",
    // rdi = buf, esi = code
    "mov rbx, [rdi + 0]",
    "mov rbp, [rdi + 8]",
    "mov r12, [rdi + 16]",
    "mov r13, [rdi + 24]",
    "mov r14, [rdi + 32]",
    "mov r15, [rdi + 40]",
    "mov rsp, [rdi + 48]",
    "mov eax, esi",
    "jmp qword ptr [rdi + 56]",
    ".size weld_rt_unwind, . - weld_rt_unwind",
    ".popsection",
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".globl weld_rt_enter",
    ".hidden weld_rt_enter",
    ".type weld_rt_enter,%function",
    ".p2align 4",
    "weld_rt_enter:",
    // x0 = buf, x1 = f, x2 = vmctx, x3 = vals
    "stp x19, x20, [x0, #0]",
    "stp x21, x22, [x0, #16]",
    "stp x23, x24, [x0, #32]",
    "stp x25, x26, [x0, #48]",
    "stp x27, x28, [x0, #64]",
    "stp x29, x30, [x0, #80]",
    "mov x9, sp",
    "str x9, [x0, #96]",
    "stp d8, d9, [x0, #104]",
    "stp d10, d11, [x0, #120]",
    "stp d12, d13, [x0, #136]",
    "stp d14, d15, [x0, #152]",
    "stp x29, x30, [sp, #-16]!",
    "mov x29, sp",
    "mov x9, x1",
    "mov x0, x2",
    "mov x1, x3",
    "blr x9",
    "ldp x29, x30, [sp], #16",
    "mov w0, #0",
    "ret",
    ".size weld_rt_enter, . - weld_rt_enter",
    "",
    ".globl weld_rt_unwind",
    ".hidden weld_rt_unwind",
    ".type weld_rt_unwind,%function",
    ".p2align 4",
    "weld_rt_unwind:",
    // x0 = buf, w1 = code
    "ldp x19, x20, [x0, #0]",
    "ldp x21, x22, [x0, #16]",
    "ldp x23, x24, [x0, #32]",
    "ldp x25, x26, [x0, #48]",
    "ldp x27, x28, [x0, #64]",
    "ldp x29, x30, [x0, #80]",
    "ldr x9, [x0, #96]",
    "mov sp, x9",
    "ldp d8, d9, [x0, #104]",
    "ldp d10, d11, [x0, #120]",
    "ldp d12, d13, [x0, #136]",
    "ldp d14, d15, [x0, #152]",
    "mov w0, w1",
    "ret",
    ".size weld_rt_unwind, . - weld_rt_unwind",
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".text",
    // LLVM assembles global asm without the crate's target features; `fsd`/`fld` need D.
    ".option push",
    ".option arch, +d",
    ".globl weld_rt_enter",
    ".hidden weld_rt_enter",
    ".type weld_rt_enter,@function",
    ".p2align 2",
    "weld_rt_enter:",
    // a0 = buf, a1 = f, a2 = vmctx, a3 = vals
    "sd ra, 0(a0)",
    "sd sp, 8(a0)",
    "sd s0, 16(a0)",
    "sd s1, 24(a0)",
    "sd s2, 32(a0)",
    "sd s3, 40(a0)",
    "sd s4, 48(a0)",
    "sd s5, 56(a0)",
    "sd s6, 64(a0)",
    "sd s7, 72(a0)",
    "sd s8, 80(a0)",
    "sd s9, 88(a0)",
    "sd s10, 96(a0)",
    "sd s11, 104(a0)",
    "fsd fs0, 112(a0)",
    "fsd fs1, 120(a0)",
    "fsd fs2, 128(a0)",
    "fsd fs3, 136(a0)",
    "fsd fs4, 144(a0)",
    "fsd fs5, 152(a0)",
    "fsd fs6, 160(a0)",
    "fsd fs7, 168(a0)",
    "fsd fs8, 176(a0)",
    "fsd fs9, 184(a0)",
    "fsd fs10, 192(a0)",
    "fsd fs11, 200(a0)",
    "addi sp, sp, -16",
    "sd ra, 8(sp)",
    "mv t0, a1",
    "mv a0, a2",
    "mv a1, a3",
    "jalr t0",
    "ld ra, 8(sp)",
    "addi sp, sp, 16",
    "li a0, 0",
    "ret",
    ".size weld_rt_enter, . - weld_rt_enter",
    "",
    ".globl weld_rt_unwind",
    ".hidden weld_rt_unwind",
    ".type weld_rt_unwind,@function",
    ".p2align 2",
    "weld_rt_unwind:",
    // a0 = buf, a1 = code
    "ld ra, 0(a0)",
    "ld sp, 8(a0)",
    "ld s0, 16(a0)",
    "ld s1, 24(a0)",
    "ld s2, 32(a0)",
    "ld s3, 40(a0)",
    "ld s4, 48(a0)",
    "ld s5, 56(a0)",
    "ld s6, 64(a0)",
    "ld s7, 72(a0)",
    "ld s8, 80(a0)",
    "ld s9, 88(a0)",
    "ld s10, 96(a0)",
    "ld s11, 104(a0)",
    "fld fs0, 112(a0)",
    "fld fs1, 120(a0)",
    "fld fs2, 128(a0)",
    "fld fs3, 136(a0)",
    "fld fs4, 144(a0)",
    "fld fs5, 152(a0)",
    "fld fs6, 160(a0)",
    "fld fs7, 168(a0)",
    "fld fs8, 176(a0)",
    "fld fs9, 184(a0)",
    "fld fs10, 192(a0)",
    "fld fs11, 200(a0)",
    "mv a0, a1",
    "ret",
    ".size weld_rt_unwind, . - weld_rt_unwind",
    ".option pop",
);

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" fn returns_normally(vmctx: *mut u8, vals: *mut ValRaw) {
        // SAFETY: the test passes a valid slot and a vmctx that is really a `*mut u32`.
        unsafe {
            *vals = ValRaw::i32(41);
            *(vmctx as *mut u32) += 1;
        }
    }

    unsafe extern "C" fn unwinds_with_seven(vmctx: *mut u8, vals: *mut ValRaw) {
        // SAFETY: the test passes the JmpBuf of the active entry as `vmctx`; this frame has no
        // destructors.
        unsafe {
            *vals = ValRaw::i32(1);
            weld_rt_unwind(vmctx as *const JmpBuf, 7)
        }
    }

    #[test]
    fn enter_returns_zero_when_the_callee_returns() {
        let mut buf = JmpBuf::default();
        let mut counter = 0u32;
        let mut val = ValRaw::default();
        // SAFETY: valid buffer, function and pointers for the duration of the call.
        let code = unsafe {
            weld_rt_enter(
                &mut buf,
                returns_normally,
                &mut counter as *mut u32 as *mut u8,
                &mut val,
            )
        };
        assert_eq!(code, 0);
        assert_eq!(counter, 1);
        assert_eq!(val.get_i32(), 41);
    }

    #[test]
    fn unwind_makes_enter_return_the_code() {
        for _ in 0..3 {
            let mut buf = JmpBuf::default();
            let mut val = ValRaw::default();
            let bufp: *mut JmpBuf = &mut buf;
            // SAFETY: the callee unwinds to this very entry, skipping only its own frame.
            let code =
                unsafe { weld_rt_enter(bufp, unwinds_with_seven, bufp as *mut u8, &mut val) };
            assert_eq!(code, 7);
            assert_eq!(val.get_i32(), 1);
        }
    }
}
