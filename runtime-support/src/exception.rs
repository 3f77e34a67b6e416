//! Wasm exceptions: the objects (`exnref`s), throwing, and the search for a handler.
//!
//! In: a throw from compiled code (the `throw` libcall, entered through the assembly shim
//! `weld_rt_throw`, which adds the caller's return address and frame pointer), and the
//! exception tables the compiler wrote (`weld_contract::descriptor::VMCallSite`). Out: a jump
//! to the handler's code with its frame's stack and frame pointers restored and the exception's
//! address as the payload, or, when no wasm frame of this entry into wasm handles it, an
//! "uncaught exception" raised like a trap at that entry.
//!
//! The search walks the frame-pointer chain, the same walk as backtraces: each wasm frame's
//! return address is looked up in its module's call-site table; the handlers of a call site
//! name tag indices of the module whose vmctx the frame saved, and match when that vmctx's tag
//! identity is the exception's. The walk ends at the first frame that is not a compiled wasm
//! function (an array-call or lowering trampoline, the host): exceptions never cross host code
//! or a component boundary. Nothing here allocates or needs `std`, so it works on bare metal.

use crate::registry;
use alloc::alloc::{alloc_zeroed, dealloc};
use core::alloc::Layout;
use core::ptr;
use weld_contract::descriptor::{call_site_at, VMCallSite, VMHandler};
use weld_contract::info::{FuncType, ModuleInfo};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{exn_payload_slot, VMException, EXN_CATCH_ALL};

/// The live exceptions an instance's code threw: a doubly linked list through the objects'
/// headers, so releasing one is O(1). Dropping the list (with its instance, when the store is
/// dropped) frees whatever is left.
#[derive(Debug)]
pub(crate) struct ExnList {
    head: *mut VMException,
}

impl Default for ExnList {
    fn default() -> Self {
        ExnList {
            head: ptr::null_mut(),
        }
    }
}

fn layout(slots: u32) -> Option<Layout> {
    // Payload counts are at most wasmparser's 1,000 parameters: no overflow in `u32`.
    Layout::from_size_align(exn_payload_slot(slots.min(1 << 20)) as usize, 16).ok()
}

impl ExnList {
    /// A new exception with `tag`'s identity and `slots` zeroed payload slots. Running out of
    /// memory ends the process, as every allocation of the runtime does.
    fn alloc(&mut self, tag: *const u8, ty: &FuncType) -> *mut VMException {
        let slots = ty.params.len() as u32;
        let layout = layout(slots).expect("weld: exception payload too large");
        // SAFETY: the layout has a non-zero size (the header).
        let exn = unsafe { alloc_zeroed(layout) } as *mut VMException;
        if exn.is_null() {
            alloc::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `exn` is a fresh, zeroed allocation large enough for the header; the old head
        // is a live object of this list.
        unsafe {
            (*exn).tag = tag;
            (*exn).slots = slots;
            (*exn).payload = ty as *const FuncType as *const u8;
            (*exn).owner = self as *mut ExnList as *mut u8;
            (*exn).next = self.head;
            if !self.head.is_null() {
                (*self.head).prev = exn;
            }
        }
        self.head = exn;
        exn
    }

    /// Unlink and free `exn`.
    ///
    /// # Safety
    /// `exn` must be a live object of this list.
    unsafe fn free(&mut self, exn: *mut VMException) {
        // SAFETY: the caller guarantees `exn` is in this list, so its neighbours are too.
        unsafe {
            let (prev, next) = ((*exn).prev, (*exn).next);
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next = next;
            }
            if !next.is_null() {
                (*next).prev = prev;
            }
            if let Some(layout) = layout((*exn).slots) {
                dealloc(exn as *mut u8, layout);
            }
        }
    }
}

impl ExnList {
    /// Every payload word of a live exception that holds a GC reference.
    ///
    /// # Safety
    /// The list's objects must be live, their payload types those `exn_new` recorded.
    pub(crate) unsafe fn visit_refs(&self, visit: &mut dyn FnMut(*mut u64)) {
        let mut exn = self.head;
        while !exn.is_null() {
            // SAFETY: a live object of this list; its payload type outlives it.
            unsafe {
                let ty = &*((*exn).payload as *const FuncType);
                for (i, t) in ty.params.iter().enumerate() {
                    if t.is_gc_ref() {
                        let at = (exn as *mut u8).add(exn_payload_slot(i as u32) as usize);
                        visit(at as *mut u64);
                    }
                }
                exn = (*exn).next;
            }
        }
    }
}

impl Drop for ExnList {
    fn drop(&mut self) {
        while !self.head.is_null() {
            // SAFETY: the head is a live object of this list.
            unsafe { self.free(self.head) };
        }
    }
}

/// The `exn_new` libcall: a new exception of tag `tag` of the caller's module.
///
/// # Safety
/// Called only by compiled code, with its own vmctx and a tag index of its module.
pub unsafe extern "C" fn exn_new(vmctx: *mut u8, tag: u32) -> *mut VMException {
    // SAFETY: compiled code passes its own vmctx; nothing else borrows the instance now.
    let inst = unsafe { crate::libcalls::instance(vmctx) };
    let info = inst.module.info();
    let ty = info
        .tags
        .get(tag as usize)
        .and_then(|t| info.types.get(*t as usize));
    let Some(ty) = ty.filter(|_| tag < inst.offsets.counts.tags) else {
        // Validated code names only its own tags.
        // SAFETY: called by wasm under an active entry; this frame owns nothing.
        unsafe { crate::libcalls::raise_from_wasm(vmctx, TrapCode::InvalidValue) }
    };
    // SAFETY: a tag slot inside the vmctx (checked above).
    let identity = unsafe { *(vmctx.add(inst.offsets.tag(tag) as usize) as *const *const u8) };
    // The type lives in the module, which lives as long as the instance that owns the list.
    let ty: *const FuncType = ty;
    // SAFETY: as just said.
    inst.exceptions.alloc(identity, unsafe { &*ty })
}

/// The `exn_release` libcall: a plain `catch` has read `exn`'s payload; free it unless wasm
/// code saw it as an `exnref` (then other references may exist: it lives as long as its store).
///
/// # Safety
/// Called only by compiled code, with a live exception.
pub unsafe extern "C" fn exn_release(_vmctx: *mut u8, exn: *mut VMException) {
    // SAFETY: `exn` is live; its owner is the list of a live instance of this store.
    unsafe {
        if (*exn).escaped == 0 {
            (*((*exn).owner as *mut ExnList)).free(exn);
        }
    }
}

/// Where a handler continues: code address, stack pointer and frame pointer.
struct Resume {
    pc: usize,
    sp: usize,
    fp: usize,
}

/// The body of the `throw` libcall (see `arch::weld_rt_throw`): `ra` is the return address of
/// the call into `throw` and `fp` the frame pointer of the wasm function that made it.
///
/// # Safety
/// Called only through `weld_rt_throw` by compiled code under an active entry, with a live
/// exception.
#[no_mangle]
pub unsafe extern "C" fn weld_rt_throw_impl(
    _vmctx: *mut u8,
    exn: *mut VMException,
    ra: usize,
    fp: usize,
) -> ! {
    let entry = crate::entry::current();
    if entry.is_null() {
        // SAFETY: raising with no entry aborts; nothing to clean up.
        unsafe { crate::entry::raise(TrapCode::UncaughtException) }
    }
    // SAFETY: `entry` is this thread's live innermost entry; every frame between `fp` and its
    // stack pointer is live stack of this thread.
    let here = 0u8;
    let lo = ptr::addr_of!(here) as usize;
    let found = unsafe {
        let hi = (*entry).stack_pointer();
        find_handler((*exn).tag, ra, fp, lo, hi)
    };
    match found {
        // SAFETY: the handler's frame is live and its code expects the exception in the
        // first payload register; the frames skipped are wasm frames and this one, which holds
        // nothing to drop.
        Some(r) => unsafe { resume(r, exn as usize) },
        // Nothing in wasm can reach it any more unless it escaped as an exnref.
        // SAFETY: `exn` is live; then as above, the backtrace starting at the thrower.
        None => unsafe {
            exn_release(ptr::null_mut(), exn);
            crate::entry::raise_at(TrapCode::UncaughtException, Some(ra - 1), fp)
        },
    }
}

/// Search the wasm frames from the one with frame pointer `fp`, stopped at return address
/// `ra`, up to `hi`, for a handler of the exception with tag identity `tag`; `lo` is the stack
/// pointer of the caller (below every frame searched).
///
/// # Safety
/// `[lo, hi)` must be live stack of this thread.
unsafe fn find_handler(
    tag: *const u8,
    mut ra: usize,
    mut fp: usize,
    lo: usize,
    hi: usize,
) -> Option<Resume> {
    const WORD: usize = core::mem::size_of::<usize>();
    let readable = |addr: usize| addr >= lo && addr.is_multiple_of(WORD) && addr + WORD <= hi;
    loop {
        let (start, code) = registry::code_at(ra)?;
        let offset = ra - start;
        weld_contract::descriptor::func_at(code.funcs, offset)?;
        if !readable(fp) || !readable(fp + WORD) {
            return None;
        }
        if let Some(site) = call_site_at(code.call_sites, offset) {
            let sp = fp.checked_sub(site.frame_offset as usize)?;
            let at = sp.checked_add(site.vmctx_sp_offset as usize)?;
            if !readable(at) {
                return None;
            }
            // SAFETY: checked to lie in the live stack.
            let vmctx = unsafe { *(at as *const usize) } as *mut u8;
            let handlers = site_handlers(code.handlers, site)?;
            for h in handlers {
                // SAFETY: the frame saved its own vmctx there (the exception table says so).
                if unsafe { handler_matches(vmctx, h, tag) } {
                    return Some(Resume {
                        pc: start + h.target as usize,
                        sp,
                        fp,
                    });
                }
            }
        }
        // SAFETY: both words lie in the live stack (checked above).
        let (next_fp, next_ra) = unsafe { (*(fp as *const usize), *((fp + WORD) as *const usize)) };
        if next_fp <= fp {
            return None;
        }
        (fp, ra) = (next_fp, next_ra);
    }
}

fn site_handlers<'a>(handlers: &'a [VMHandler], site: &VMCallSite) -> Option<&'a [VMHandler]> {
    let start = site.handlers_start as usize;
    handlers.get(start..start.checked_add(site.handlers_len as usize)?)
}

/// Whether handler `h` of a frame whose vmctx is `vmctx` catches an exception of identity `tag`.
///
/// # Safety
/// `vmctx` must be the live vmctx of the module whose exception table holds `h`.
unsafe fn handler_matches(vmctx: *mut u8, h: &VMHandler, tag: *const u8) -> bool {
    if h.tag == EXN_CATCH_ALL {
        return true;
    }
    // SAFETY: the caller guarantees a live vmctx; the tag index was checked at load.
    let offsets = unsafe { &crate::libcalls::instance(vmctx).offsets };
    if h.tag >= offsets.counts.tags {
        return false;
    }
    // SAFETY: a tag slot inside that vmctx.
    unsafe { *(vmctx.add(offsets.tag(h.tag) as usize) as *const *const u8) == tag }
}

/// Jump to a handler: restore its stack and frame pointers and pass `payload` in the first
/// exception payload register of Cranelift's conventions.
///
/// # Safety
/// `r` must describe a live handler of a frame of this thread's stack.
unsafe fn resume(r: Resume, payload: usize) -> ! {
    // SAFETY: the caller guarantees the target; every skipped frame is dead from here on.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!(
            "mov rsp, {sp}",
            "mov rbp, {fp}",
            "jmp {pc}",
            sp = in(reg) r.sp,
            fp = in(reg) r.fp,
            pc = in(reg) r.pc,
            in("rax") payload,
            options(noreturn),
        );
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!(
            "mov sp, {sp}",
            "mov x29, {fp}",
            "br {pc}",
            sp = in(reg) r.sp,
            fp = in(reg) r.fp,
            pc = in(reg) r.pc,
            in("x0") payload,
            options(noreturn),
        );
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!(
            "mv sp, {sp}",
            "mv s0, {fp}",
            "jr {pc}",
            sp = in(reg) r.sp,
            fp = in(reg) r.fp,
            pc = in(reg) r.pc,
            in("a0") payload,
            options(noreturn),
        );
    }
}

/// Check a descriptor's exception table: call sites sorted and inside the code, handler ranges
/// inside the handler table, targets inside the code, tags of the module.
pub(crate) fn check_table(
    sites: &[VMCallSite],
    handlers: &[VMHandler],
    info: &ModuleInfo,
    code_len: usize,
) -> Result<(), &'static str> {
    if sites.windows(2).any(|w| w[0].ret >= w[1].ret) {
        return Err("exception call sites not sorted");
    }
    let in_code = |off: u32| (off as usize) < code_len;
    for s in sites {
        if !in_code(s.ret) || site_handlers(handlers, s).is_none() {
            return Err("exception call site");
        }
    }
    let tags = info.tags.len();
    if handlers
        .iter()
        .any(|h| !in_code(h.target) || (h.tag != EXN_CATCH_ALL && h.tag as usize >= tags))
    {
        return Err("exception handler");
    }
    Ok(())
}
