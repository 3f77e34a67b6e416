//! Switching between stacks, in assembly: `weld_rt_fiber_switch(save, to, arg)` pushes the
//! callee-saved registers and the return address on the current stack, stores the stack
//! pointer at `save`, loads `to` as the stack pointer, pops the registers saved there and
//! returns `arg` on that stack. A new stack is prepared ([`initial_frame`]) so that the first
//! switch to it "returns" into `weld_rt_fiber_start`, which calls the fiber's main function
//! with the fiber as its argument.
//!
//! ```text
//! saved frame (from the saved sp up)
//! x86_64   r15 r14 r13 r12 rbx rbp rip                      (7 words, 56 bytes)
//! aarch64  x19..x28 x29 x30 d8..d15 pad                      (22 words, 176 bytes)
//! riscv64  ra s0..s11 fs0..fs11 pad                          (26 words, 208 bytes)
//! ```
//! The first frame of a new stack holds the fiber pointer where the start routine reads it
//! (r12, x19, s1), a zero frame pointer (so backtraces end there) and the start routine as
//! the return address.

extern "C" {
    /// Save this stack's registers, store its stack pointer at `save`, continue on the stack
    /// whose saved stack pointer is `to`; returns the `arg` of the switch that comes back.
    pub(crate) fn weld_rt_fiber_switch(save: *mut usize, to: usize, arg: usize) -> usize;
}

/// Size of the frame a switch leaves on the stack it leaves, in bytes.
#[cfg(target_arch = "x86_64")]
const FRAME: usize = 64;
#[cfg(target_arch = "aarch64")]
const FRAME: usize = 176;
#[cfg(target_arch = "riscv64")]
const FRAME: usize = 208;

/// (word index of the fiber pointer, of the frame pointer, of the return address) in a frame.
#[cfg(target_arch = "x86_64")]
const SLOTS: (usize, usize, usize) = (3, 5, 6);
#[cfg(target_arch = "aarch64")]
const SLOTS: (usize, usize, usize) = (0, 10, 11);
#[cfg(target_arch = "riscv64")]
const SLOTS: (usize, usize, usize) = (2, 1, 0);

extern "C" {
    fn weld_rt_fiber_start();
}

/// Write the first frame of a stack whose top (16-byte aligned) is `top` and return the
/// stack pointer to switch to: the switch starts `main(fiber)` there.
///
/// # Safety
/// `[top - FRAME, top)` must be writable memory of a stack nothing runs on.
pub(crate) unsafe fn initial_frame(top: usize, fiber: usize) -> usize {
    let sp = top - FRAME;
    let words = sp as *mut usize;
    // SAFETY: the caller guarantees the range; `FRAME` covers every slot written.
    unsafe {
        for i in 0..FRAME / 8 {
            words.add(i).write(0);
        }
        words.add(SLOTS.0).write(fiber);
        words.add(SLOTS.1).write(0);
        words
            .add(SLOTS.2)
            .write(weld_rt_fiber_start as *const () as usize);
    }
    sp
}

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.weld_rt_fiber_switch,\"ax\",@progbits",
    ".globl weld_rt_fiber_switch",
    ".hidden weld_rt_fiber_switch",
    ".type weld_rt_fiber_switch,@function",
    ".p2align 4",
    "weld_rt_fiber_switch:",
    // rdi = save, rsi = to, rdx = arg; the return address is already on the stack.
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "mov rax, rdx",
    "ret",
    ".size weld_rt_fiber_switch, . - weld_rt_fiber_switch",
    ".popsection",
    "",
    ".pushsection .text.weld_rt_fiber_start,\"ax\",@progbits",
    ".globl weld_rt_fiber_start",
    ".hidden weld_rt_fiber_start",
    ".type weld_rt_fiber_start,@function",
    ".p2align 4",
    "weld_rt_fiber_start:",
    "mov rdi, r12",
    "and rsp, -16",
    "call {main}",
    "ud2",
    ".size weld_rt_fiber_start, . - weld_rt_fiber_start",
    ".popsection",
    main = sym super::weld_rt_fiber_main,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".globl weld_rt_fiber_switch",
    ".hidden weld_rt_fiber_switch",
    ".type weld_rt_fiber_switch,%function",
    ".p2align 4",
    "weld_rt_fiber_switch:",
    // x0 = save, x1 = to, x2 = arg
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov sp, x1",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "add sp, sp, #176",
    "mov x0, x2",
    "ret",
    ".size weld_rt_fiber_switch, . - weld_rt_fiber_switch",
    "",
    ".globl weld_rt_fiber_start",
    ".hidden weld_rt_fiber_start",
    ".type weld_rt_fiber_start,%function",
    ".p2align 4",
    "weld_rt_fiber_start:",
    "mov x0, x19",
    "bl {main}",
    "brk #1",
    ".size weld_rt_fiber_start, . - weld_rt_fiber_start",
    main = sym super::weld_rt_fiber_main,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".text",
    // LLVM assembles global asm without the crate's target features; `fsd`/`fld` need D.
    ".option push",
    ".option arch, +d",
    ".globl weld_rt_fiber_switch",
    ".hidden weld_rt_fiber_switch",
    ".type weld_rt_fiber_switch,@function",
    ".p2align 2",
    "weld_rt_fiber_switch:",
    // a0 = save, a1 = to, a2 = arg
    "addi sp, sp, -208",
    "sd ra, 0(sp)",
    "sd s0, 8(sp)",
    "sd s1, 16(sp)",
    "sd s2, 24(sp)",
    "sd s3, 32(sp)",
    "sd s4, 40(sp)",
    "sd s5, 48(sp)",
    "sd s6, 56(sp)",
    "sd s7, 64(sp)",
    "sd s8, 72(sp)",
    "sd s9, 80(sp)",
    "sd s10, 88(sp)",
    "sd s11, 96(sp)",
    "fsd fs0, 104(sp)",
    "fsd fs1, 112(sp)",
    "fsd fs2, 120(sp)",
    "fsd fs3, 128(sp)",
    "fsd fs4, 136(sp)",
    "fsd fs5, 144(sp)",
    "fsd fs6, 152(sp)",
    "fsd fs7, 160(sp)",
    "fsd fs8, 168(sp)",
    "fsd fs9, 176(sp)",
    "fsd fs10, 184(sp)",
    "fsd fs11, 192(sp)",
    "sd sp, 0(a0)",
    "mv sp, a1",
    "ld ra, 0(sp)",
    "ld s0, 8(sp)",
    "ld s1, 16(sp)",
    "ld s2, 24(sp)",
    "ld s3, 32(sp)",
    "ld s4, 40(sp)",
    "ld s5, 48(sp)",
    "ld s6, 56(sp)",
    "ld s7, 64(sp)",
    "ld s8, 72(sp)",
    "ld s9, 80(sp)",
    "ld s10, 88(sp)",
    "ld s11, 96(sp)",
    "fld fs0, 104(sp)",
    "fld fs1, 112(sp)",
    "fld fs2, 120(sp)",
    "fld fs3, 128(sp)",
    "fld fs4, 136(sp)",
    "fld fs5, 144(sp)",
    "fld fs6, 152(sp)",
    "fld fs7, 160(sp)",
    "fld fs8, 168(sp)",
    "fld fs9, 176(sp)",
    "fld fs10, 184(sp)",
    "fld fs11, 192(sp)",
    "addi sp, sp, 208",
    "mv a0, a2",
    "ret",
    ".size weld_rt_fiber_switch, . - weld_rt_fiber_switch",
    "",
    ".globl weld_rt_fiber_start",
    ".hidden weld_rt_fiber_start",
    ".type weld_rt_fiber_start,@function",
    ".p2align 2",
    "weld_rt_fiber_start:",
    "mv a0, s1",
    "call {main}",
    "unimp",
    ".size weld_rt_fiber_start, . - weld_rt_fiber_start",
    ".option pop",
    main = sym super::weld_rt_fiber_main,
);
