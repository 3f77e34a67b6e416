//! The process-wide registry of compiled code: which address ranges hold wasm code, with the trap
//! table and function ranges of each. The signal handler asks it "is this PC wasm code, and which
//! trap is here?"; the backtrace walker asks "is this return address wasm code?", and the
//! symbolizer "which function of which module is this?".
//!
//! Descriptors are `'static` and libraries are never unloaded, so the registry only grows: it is
//! an append-only linked list of leaked nodes, read with atomic loads only. That makes
//! [`lookup`] async-signal-safe (no locks, no allocation).

use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use weld_contract::descriptor::{VMCallSite, VMFuncRange, VMHandler, VMStackMap, VMTrapEntry};
use weld_contract::trap::TrapCode;

/// What the registry knows of one module's code besides its address range.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// Trap sites, sorted by offset.
    pub traps: &'static [VMTrapEntry],
    /// Defined functions' code ranges, sorted.
    pub funcs: &'static [VMFuncRange],
    /// The module's encoded `ModuleInfo` (decoded only to name functions in backtraces).
    pub info: &'static [u8],
    /// Call sites with exception handlers, sorted by return address.
    pub call_sites: &'static [VMCallSite],
    /// The handlers they point into.
    pub handlers: &'static [VMHandler],
    /// Calls with live GC references, sorted by return address.
    pub stack_maps: &'static [VMStackMap],
    /// The frame slots the stack maps point into.
    pub stack_slots: &'static [i32],
}

/// One registered range of code.
#[derive(Debug)]
struct CodeRange {
    start: usize,
    len: usize,
    code: CodeInfo,
    next: *mut CodeRange,
}

static HEAD: AtomicPtr<CodeRange> = AtomicPtr::new(ptr::null_mut());

/// Register `len` bytes of code at `start` with their trap table and function ranges.
/// Registering the same start twice is a no-op.
pub fn register(start: usize, len: usize, code: CodeInfo) {
    if len == 0 || find(start).is_some_and(|r| r.start == start) {
        return;
    }
    let node = Box::into_raw(Box::new(CodeRange {
        start,
        len,
        code,
        next: ptr::null_mut(),
    }));
    let mut head = HEAD.load(Ordering::Acquire);
    loop {
        // SAFETY: `node` is ours until published by the successful exchange below.
        unsafe { (*node).next = head };
        match HEAD.compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => head = now,
        }
    }
}

fn find(pc: usize) -> Option<&'static CodeRange> {
    let mut cur = HEAD.load(Ordering::Acquire);
    while !cur.is_null() {
        // SAFETY: nodes are leaked on registration and never freed or changed after publication.
        let node = unsafe { &*cur };
        if pc >= node.start && pc - node.start < node.len {
            return Some(node);
        }
        cur = node.next;
    }
    None
}

/// Where a PC is: `None` if not in registered code; `Some(None)` if in wasm code without a trap
/// entry; `Some(Some(code))` at a trap site. Async-signal-safe.
pub fn lookup(pc: usize) -> Option<Option<TrapCode>> {
    let range = find(pc)?;
    Some(trap_at(range.code.traps, pc - range.start))
}

/// The start of the registered code holding `pc`, and what is known of it. Async-signal-safe.
pub fn code_at(pc: usize) -> Option<(usize, CodeInfo)> {
    let range = find(pc)?;
    Some((range.start, range.code))
}

/// Whether `pc` is in registered wasm code. Async-signal-safe.
pub fn is_wasm(pc: usize) -> bool {
    find(pc).is_some()
}

/// Which module and function `pc` is in: the module's code info, the defined-function index in
/// it (if `pc` is in a function, not a trampoline), and `pc`'s offset from the function's start.
pub fn locate(pc: usize) -> Option<(CodeInfo, Option<(usize, usize)>)> {
    let range = find(pc)?;
    let offset = pc - range.start;
    let func = weld_contract::descriptor::func_at(range.code.funcs, offset)
        .map(|i| (i, offset - range.code.funcs[i].start as usize));
    Some((range.code, func))
}

/// The trap code at `offset` in a sorted trap table.
pub fn trap_at(traps: &[VMTrapEntry], offset: usize) -> Option<TrapCode> {
    let offset = u32::try_from(offset).ok()?;
    let i = traps.binary_search_by_key(&offset, |e| e.offset).ok()?;
    traps.get(i)?.trap_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    static FAKE_FUNCS: [VMFuncRange; 2] = [
        VMFuncRange { start: 0, len: 8 },
        VMFuncRange { start: 8, len: 6 },
    ];

    static FAKE_TRAPS: [VMTrapEntry; 3] = [
        VMTrapEntry { offset: 4, code: 1 },
        VMTrapEntry {
            offset: 10,
            code: 9,
        },
        VMTrapEntry {
            offset: 12,
            code: 200,
        },
    ];

    #[test]
    fn lookup_finds_trap_sites_in_registered_ranges_only() {
        let base = 0x7000_0000_0000usize;
        let code = CodeInfo {
            traps: &FAKE_TRAPS,
            funcs: &FAKE_FUNCS,
            info: &[],
            call_sites: &[],
            handlers: &[],
            stack_maps: &[],
            stack_slots: &[],
        };
        register(base, 16, code);
        register(base, 16, code);
        assert_eq!(lookup(base + 4), Some(Some(TrapCode::Unreachable)));
        assert_eq!(lookup(base + 10), Some(Some(TrapCode::TableOutOfBounds)));
        assert_eq!(lookup(base + 5), Some(None), "inside code, no trap site");
        assert_eq!(
            lookup(base + 12),
            Some(None),
            "an invalid code byte is no code"
        );
        assert_eq!(lookup(base + 16), None);
        assert_eq!(lookup(base - 1), None);
        assert!(is_wasm(base + 15) && !is_wasm(base + 16));
        assert_eq!(locate(base + 10).and_then(|(_, f)| f), Some((1, 2)));
        assert_eq!(
            locate(base + 14).map(|(_, f)| f),
            Some(None),
            "past the last function: a trampoline"
        );
    }
}
