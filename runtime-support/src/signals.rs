//! Turning hardware traps into wasm traps (hosted Linux). Compiled code traps by executing `ud2`
//! (SIGILL) or by touching a guard page (SIGSEGV/SIGBUS), maybe by dividing (SIGFPE). The handler
//! looks the faulting PC up in the [`registry`](crate::registry); if it is wasm code and this
//! thread is inside an entry, it unwinds straight to that entry with the trap code. Otherwise it
//! hands the signal to whoever had it before us (a real crash stays a crash).
//!
//! The handler runs on an alternate signal stack (a wasm stack overflow may leave no room on the
//! thread stack); each thread that enters wasm gets one on its first entry.

use crate::registry;
use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use libc::{c_int, c_void, siginfo_t};
use std::sync::Once;
use weld_contract::trap::TrapCode;

const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The actions installed before ours, one per entry of [`SIGNALS`].
struct Previous(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);

// SAFETY: written only inside `INSTALL` (once, before or while our handler becomes visible via
// the same `sigaction` call), read afterwards.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new([MaybeUninit::zeroed(); 4]));
static INSTALL: Once = Once::new();

/// Install the process-wide handlers (once).
pub(crate) fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid value; we fill in the handler, an empty mask
            // and flags. `sigaction` writes the old action straight into our slot.
            unsafe {
                let mut action: libc::sigaction = core::mem::zeroed();
                let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = handler;
                action.sa_sigaction = f as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut action.sa_mask);
                let slot = (*PREVIOUS.0.get())[i].as_mut_ptr();
                libc::sigaction(*sig, &action, slot);
            }
        }
    });
}

/// Size of the alternate signal stack we install.
const ALT_STACK_SIZE: usize = 64 * 1024;

/// The first thread's alternate stack: a static block, so that the first entry (in an
/// executable, every entry) maps nothing and registers no thread-exit destructor (whose list
/// std grows with the C library's `malloc`: on musl a `brk` and a mapping, two pages, for
/// nothing). Untouched `.bss` costs nothing until a signal arrives. Its first page becomes the
/// guard; the alignment and the spare 64 KiB allow pages of up to 64 KiB.
#[repr(C, align(65536))]
struct FirstAltStack(UnsafeCell<[u8; ALT_STACK_SIZE + FIRST_SPARE]>);

const FIRST_SPARE: usize = 64 * 1024;

// SAFETY: only the thread that wins `FIRST_TAKEN` uses the block, and only as its signal stack
// (the kernel writes it); no Rust reference to its bytes is ever made.
unsafe impl Sync for FirstAltStack {}

static FIRST_ALT_STACK: FirstAltStack =
    FirstAltStack(UnsafeCell::new([0; ALT_STACK_SIZE + FIRST_SPARE]));
static FIRST_TAKEN: AtomicBool = AtomicBool::new(false);

/// Install [`FIRST_ALT_STACK`] as this thread's signal stack if no thread has taken it; false
/// if taken, or if it could not be installed (then the caller maps one).
fn install_first_alt_stack(guard: usize) -> bool {
    if guard > FIRST_SPARE || FIRST_TAKEN.swap(true, Ordering::Relaxed) {
        return false;
    }
    let base = FIRST_ALT_STACK.0.get().cast::<u8>();
    // SAFETY: the block is ours alone (we won `FIRST_TAKEN`); `base` is page-aligned (declared
    // 64 KiB-aligned; a loader that ignores that still aligns segments to pages), and
    // `[base, base + guard)` lies inside the block, as does the stack after the guard. A failed
    // call leaves the block unused.
    unsafe {
        if libc::mprotect(base.cast(), guard, libc::PROT_NONE) != 0 {
            return false;
        }
        let stack = libc::stack_t {
            ss_sp: base.add(guard).cast(),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE + FIRST_SPARE - guard,
        };
        libc::sigaltstack(&stack, ptr::null_mut()) == 0
    }
}

/// This thread's alternate signal stack, if we installed one.
struct AltStack {
    mapping: Cell<*mut c_void>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let mapping = self.mapping.get();
        if mapping.is_null() {
            return;
        }
        // SAFETY: we disable the alternate stack only if it is still ours, then unmap our own
        // mapping (guard page + stack), which nothing else references.
        unsafe {
            let mut cur: libc::stack_t = core::mem::zeroed();
            libc::sigaltstack(ptr::null(), &mut cur);
            if cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_sp == mapping.add(page_size()) {
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: ALT_STACK_SIZE,
                };
                libc::sigaltstack(&disable, ptr::null_mut());
            }
            libc::munmap(mapping, ALT_STACK_SIZE + page_size());
        }
    }
}

std::thread_local! {
    static ALT_STACK: AltStack = const { AltStack { mapping: Cell::new(ptr::null_mut()) } };
    static PREPARED: Cell<bool> = const { Cell::new(false) };
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Make this thread ready to run wasm: handlers installed, an alternate stack large enough.
pub(crate) fn prepare_thread() {
    if PREPARED.with(|p| p.get()) {
        return;
    }
    install_handlers();
    PREPARED.with(|p| p.set(true));
    // SAFETY: querying and installing an alternate stack for the current thread; the mapping is
    // owned by the thread-local `ALT_STACK`, which releases it at thread exit.
    unsafe {
        let mut cur: libc::stack_t = core::mem::zeroed();
        libc::sigaltstack(ptr::null(), &mut cur);
        if cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= ALT_STACK_SIZE {
            return;
        }
        let guard = page_size();
        if install_first_alt_stack(guard) {
            return;
        }
        let mapping = libc::mmap(
            ptr::null_mut(),
            ALT_STACK_SIZE + guard,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if mapping == libc::MAP_FAILED {
            return;
        }
        libc::mprotect(mapping, guard, libc::PROT_NONE);
        let stack = libc::stack_t {
            ss_sp: mapping.add(guard),
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        if libc::sigaltstack(&stack, ptr::null_mut()) != 0 {
            libc::munmap(mapping, ALT_STACK_SIZE + guard);
            return;
        }
        ALT_STACK.with(|a| a.mapping.set(mapping));
    }
}

/// The trap to report for a signal at a wasm PC that has no trap-table entry.
fn fallback_code(sig: c_int) -> TrapCode {
    match sig {
        libc::SIGILL => TrapCode::Unreachable,
        libc::SIGFPE => TrapCode::IntegerDivisionByZero,
        _ => TrapCode::MemoryOutOfBounds,
    }
}

/// The PC, stack pointer and frame pointer at which the signal happened.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn pc_sp_fp(ctx: *mut c_void) -> (usize, usize, usize) {
    let uc = ctx as *const libc::ucontext_t;
    // SAFETY: the caller guarantees `uc` is the kernel's ucontext.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let regs = &(*uc).uc_mcontext.gregs;
            (
                regs[libc::REG_RIP as usize] as usize,
                regs[libc::REG_RSP as usize] as usize,
                regs[libc::REG_RBP as usize] as usize,
            )
        }
        #[cfg(target_arch = "aarch64")]
        {
            let m = &(*uc).uc_mcontext;
            (m.pc as usize, m.sp as usize, m.regs[29] as usize)
        }
        #[cfg(target_arch = "riscv64")]
        {
            let regs = &(*uc).uc_mcontext.__gregs;
            (regs[0] as usize, regs[2] as usize, regs[8] as usize)
        }
    }
}

/// A fault at most this far below the stack pointer is the thread's stack guard, not a memory
/// access (linear memories live in their own, much larger reservations).
const STACK_FAULT_DISTANCE: usize = 1 << 20;

extern "C" fn handler(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let buf = crate::entry::current();
    if !buf.is_null() {
        // SAFETY: the kernel passes a valid ucontext to SA_SIGINFO handlers.
        let (pc, sp, fp) = unsafe { pc_sp_fp(ctx) };
        if let Some(site) = registry::lookup(pc) {
            // SAFETY: `info` is the kernel's siginfo; `si_addr` is defined for these signals.
            let addr = unsafe { (*info).si_addr() } as usize;
            let near_stack =
                addr < sp.wrapping_add(4096) && sp - addr.min(sp) < STACK_FAULT_DISTANCE;
            let code = match site {
                Some(code) => code,
                None if sig == libc::SIGSEGV && near_stack => TrapCode::StackOverflow,
                None => fallback_code(sig),
            };
            // SAFETY: the fault is in wasm code running under the active entry `buf`, so the
            // stack from the faulting `sp` up to the entry's is this thread's live stack.
            unsafe { crate::backtrace::record(Some(pc), fp, sp, (*buf).stack_pointer()) };
            // SAFETY: the fault is in wasm code running under the active entry `buf`; the frames
            // skipped are wasm frames and this handler's, none of which has destructors.
            unsafe { crate::arch::weld_rt_unwind(buf, code as u32) }
        }
    }
    // SAFETY: `info` and `ctx` come from the kernel and are passed on unchanged.
    unsafe { chain(sig, info, ctx) }
}

/// Give the signal to the handler that was installed before ours; if that was the default
/// action, restore it and return so that the faulting instruction re-raises the signal.
///
/// # Safety
/// Must be called from the signal handler with the kernel's arguments.
unsafe fn chain(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let Some(i) = SIGNALS.iter().position(|s| *s == sig) else {
        return;
    };
    // SAFETY: `INSTALL` finished writing the slot before our handler could run for `sig`
    // (the kernel writes the old action before installing ours).
    unsafe {
        let prev = (*PREVIOUS.0.get())[i].as_ptr();
        let action = (*prev).sa_sigaction;
        if action == libc::SIG_DFL || action == libc::SIG_IGN {
            let mut dfl: libc::sigaction = core::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, ptr::null_mut());
        } else if (*prev).sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = core::mem::transmute(action);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(c_int) = core::mem::transmute(action);
            f(sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{prepare_thread, ALT_STACK_SIZE, FIRST_ALT_STACK, FIRST_TAKEN};
    use alloc::vec::Vec;
    use core::sync::atomic::Ordering;

    /// This thread's signal stack: (start, size), or `None` when disabled.
    fn current_alt_stack() -> Option<(usize, usize)> {
        // SAFETY: querying this thread's signal stack into a zeroed stack_t.
        let cur = unsafe {
            let mut cur: libc::stack_t = core::mem::zeroed();
            libc::sigaltstack(core::ptr::null(), &mut cur);
            cur
        };
        (cur.ss_flags & libc::SS_DISABLE == 0).then_some((cur.ss_sp as usize, cur.ss_size))
    }

    #[test]
    fn every_thread_gets_its_own_signal_stack_and_only_one_the_static_block() {
        // All threads stay alive until each has its stack: a finished thread's mapping is
        // unmapped, and the next thread may be given the same addresses.
        let all_prepared = std::sync::Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let all_prepared = all_prepared.clone();
                std::thread::spawn(move || {
                    prepare_thread();
                    let stack = current_alt_stack();
                    all_prepared.wait();
                    stack
                })
            })
            .collect();
        let stacks: Vec<(usize, usize)> = threads
            .into_iter()
            .map(|t| t.join().unwrap().expect("no signal stack installed"))
            .collect();
        assert!(FIRST_TAKEN.load(Ordering::Relaxed));
        let block = FIRST_ALT_STACK.0.get() as usize;
        let block_end = block + core::mem::size_of_val(&FIRST_ALT_STACK);
        let mut in_block = 0;
        for (i, &(sp, size)) in stacks.iter().enumerate() {
            assert!(size >= ALT_STACK_SIZE, "stack {i} is {size} bytes");
            if (block..block_end).contains(&sp) {
                in_block += 1;
                assert!(
                    sp + size <= block_end,
                    "the static stack overruns its block"
                );
            }
            for &(other, _) in &stacks[i + 1..] {
                assert_ne!(sp, other, "two threads share a signal stack");
            }
        }
        assert!(in_block <= 1);
    }
}
