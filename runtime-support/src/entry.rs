//! Entering wasm and raising traps. Each thread has a "current entry" pointer (the [`JmpBuf`] of
//! the innermost active [`enter`]); a trap — from a libcall or from the signal handler — unwinds
//! to it. Nested entries (wasm → host → wasm) save and restore the pointer.
//!
//! Without `std` there are no thread locals: the pointer is a plain global, which is right for
//! the single-threaded bare-metal targets that mode is for.

use crate::arch::{weld_rt_enter, weld_rt_unwind, ArrayCall, JmpBuf};
#[cfg(feature = "std")]
use core::cell::Cell;
use core::ptr;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{VMEntryRecord, VMStoreContext, ValRaw, VMCTX_STORE};

#[cfg(feature = "std")]
std::thread_local! {
    static CURRENT: Cell<*mut JmpBuf> = const { Cell::new(ptr::null_mut()) };
}

#[cfg(not(feature = "std"))]
static CURRENT: core::sync::atomic::AtomicPtr<JmpBuf> =
    core::sync::atomic::AtomicPtr::new(ptr::null_mut());

/// The innermost active entry of this thread, or null when the thread is not running wasm.
/// Async-signal-safe (a const-initialised thread local without destructor).
pub(crate) fn current() -> *mut JmpBuf {
    #[cfg(feature = "std")]
    {
        CURRENT.with(|c| c.get())
    }
    #[cfg(not(feature = "std"))]
    {
        CURRENT.load(core::sync::atomic::Ordering::Relaxed)
    }
}

pub(crate) fn set_current(buf: *mut JmpBuf) {
    #[cfg(feature = "std")]
    CURRENT.with(|c| c.set(buf));
    #[cfg(not(feature = "std"))]
    CURRENT.store(buf, core::sync::atomic::Ordering::Relaxed);
}

/// Call `f(vmctx, vals)` as an entry into wasm; a trap inside it comes back as `Err`.
///
/// # Safety
/// `f` must be an array-call function that accepts `vmctx` and `vals` (enough slots for its
/// parameters and results), and everything they point at must stay valid during the call.
pub unsafe fn enter(f: ArrayCall, vmctx: *mut u8, vals: *mut ValRaw) -> Result<(), TrapCode> {
    #[cfg(feature = "std")]
    crate::signals::prepare_thread();
    let mut buf = JmpBuf::default();
    let prev = current();
    if prev.is_null() {
        crate::backtrace::clear();
    }
    // SAFETY: every vmctx wasm is entered with is an instance's, whose store context pointer
    // lives at this offset for as long as the store.
    let ctx = unsafe { *(vmctx.add(VMCTX_STORE as usize) as *const *mut VMStoreContext) };
    // SAFETY: the store context is live.
    let record = unsafe { interrupted(ctx) };
    // SAFETY: as above; `record` stays in this frame, unmoved, until the links are restored.
    unsafe {
        (*ctx).entries = &record;
        (*ctx).exit_frame = 0;
    }
    set_current(&mut buf);
    // SAFETY: `buf` outlives the call; the caller vouches for `f`, `vmctx` and `vals`.
    let code = unsafe { weld_rt_enter(&mut buf, f, vmctx, vals) };
    set_current(prev);
    // SAFETY: as above; a trap unwound to here, so nothing of the activation is left.
    unsafe {
        (*ctx).exit_frame = record.exit_frame;
        (*ctx).entries = record.prev;
    }
    match code {
        0 => Ok(()),
        c => Err(u8::try_from(c)
            .ok()
            .and_then(TrapCode::from_u8)
            .unwrap_or(TrapCode::InvalidValue)),
    }
}

/// What [`enter`] keeps of the activation it interrupts (before it links the record from the
/// store context, for the collector, while the new activation runs).
///
/// # Safety
/// `ctx` must be a live store context.
unsafe fn interrupted(ctx: *mut VMStoreContext) -> VMEntryRecord {
    // SAFETY: the caller guarantees `ctx`.
    unsafe {
        // Inside an activation `entries` is never null: this entry is nested in it.
        let nested = !(*ctx).entries.is_null();
        VMEntryRecord {
            exit_frame: (*ctx).exit_frame,
            // Wasm ran below and left without an exit trampoline: its frames are unknown.
            opaque: nested && (*ctx).exit_frame == 0,
            prev: (*ctx).entries,
        }
    }
}

/// Raise `code` on this thread: unwind to the innermost [`enter`].
///
/// # Safety
/// Every frame between here and that entry must be a wasm frame or a frame with nothing to drop
/// (the unwind skips destructors). Aborts if the thread is not running wasm.
pub unsafe fn raise(code: TrapCode) -> ! {
    let buf = current();
    if buf.is_null() {
        abort();
    }
    // SAFETY: `buf` is the live JmpBuf of this thread's innermost entry.
    unsafe { record_backtrace(buf, None, frame_pointer()) };
    // SAFETY: `buf` is the live JmpBuf of an active entry on this thread; the caller guarantees
    // the skipped frames need no clean-up.
    unsafe { weld_rt_unwind(buf, code as u32) }
}

/// Raise `code` on this thread for the wasm function whose frame pointer is `fp`, at `pc` in
/// its code: the backtrace starts there. For libcalls, which know where wasm left off.
///
/// # Safety
/// As for [`raise`]; `fp` must be the frame pointer of a wasm frame of the innermost entry.
pub(crate) unsafe fn raise_at(code: TrapCode, pc: Option<usize>, fp: usize) -> ! {
    let buf = current();
    if buf.is_null() {
        abort();
    }
    // SAFETY: `buf` is the live JmpBuf of this thread's innermost entry; the caller guarantees
    // the rest.
    unsafe {
        record_backtrace(buf, pc, fp);
        weld_rt_unwind(buf, code as u32)
    }
}

/// Record the backtrace of a trap raised by runtime code, starting at `pc` and `fp`.
///
/// # Safety
/// `buf` must be the live JmpBuf of this thread's innermost entry.
unsafe fn record_backtrace(buf: *const JmpBuf, pc: Option<usize>, fp: usize) {
    let here = 0u8;
    let lo = core::ptr::addr_of!(here) as usize;
    // SAFETY: the entry's stack pointer lies above every frame between here and it, so
    // `[lo, hi)` is this thread's live stack.
    unsafe {
        let hi = (*buf).stack_pointer();
        crate::backtrace::record(pc, fp, lo, hi);
    }
}

/// The frame-pointer register. The chain it starts is followed only inside the live stack, so a
/// value that is no frame pointer (runtime code may use the register for other things) is safe.
#[inline(always)]
fn frame_pointer() -> usize {
    let fp: usize;
    // SAFETY: reads one register; no memory, no stack, no flags.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags));
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags));
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("mv {}, s0", out(reg) fp, options(nomem, nostack, preserves_flags));
    }
    fp
}

fn abort() -> ! {
    #[cfg(feature = "std")]
    std::process::abort();
    #[cfg(not(feature = "std"))]
    #[allow(clippy::panic)]
    {
        panic!("weld: trap raised outside of wasm")
    }
}
