//! The process-wide registry of compiled code: which address ranges hold wasm code, and the trap
//! table of each. The signal handler asks it "is this PC wasm code, and which trap is here?".
//!
//! Descriptors are `'static` and libraries are never unloaded, so the registry only grows: it is
//! an append-only linked list of leaked nodes, read with atomic loads only. That makes
//! [`lookup`] async-signal-safe (no locks, no allocation).

use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use weld_contract::descriptor::VMTrapEntry;
use weld_contract::trap::TrapCode;

/// One registered range of code.
#[derive(Debug)]
struct CodeRange {
    start: usize,
    len: usize,
    traps: &'static [VMTrapEntry],
    next: *mut CodeRange,
}

static HEAD: AtomicPtr<CodeRange> = AtomicPtr::new(ptr::null_mut());

/// Register `len` bytes of code at `start` with their trap table (sorted by offset). Registering
/// the same start twice is a no-op.
pub fn register(start: usize, len: usize, traps: &'static [VMTrapEntry]) {
    if len == 0 || find(start).is_some_and(|r| r.start == start) {
        return;
    }
    let node = Box::into_raw(Box::new(CodeRange {
        start,
        len,
        traps,
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
    Some(trap_at(range.traps, pc - range.start))
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
        register(base, 16, &FAKE_TRAPS);
        register(base, 16, &FAKE_TRAPS);
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
    }
}
