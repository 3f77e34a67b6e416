//! The start-up arena: the global allocator of hosted builds, which serves the allocations of an
//! executable's start-up from one bump-allocated block.
//!
//! In: every heap allocation of the process (this is its `#[global_allocator]`). Out: memory
//! from the system allocator (`malloc`; dlmalloc with musl), except between [`begin`] and
//! [`end`], when it comes from a static arena by bumping a pointer.
//!
//! Why: a weld executable's `main` decodes the component's descriptor, builds its WASI host and
//! instantiates it before the program runs: about 1,700 short-lived allocations, of which glibc's
//! `malloc`/`free` took 40% of the instructions of hello-world's start-up (callgrind: 350 k of
//! 860 k). All of that memory lives until exit anyway or dies within start-up, so a bump
//! pointer is enough; the program itself then runs with the ordinary allocator (its
//! allocations come and go, and a bump arena would only grow). The arena is zero-filled `.bss`:
//! untouched pages cost nothing, and touched ones are faulted in as they are used (making them
//! present ahead with `MADV_POPULATE_WRITE` measured slower on the benchmark VM: 16 pages took
//! 35 µs in 16 KiB chunks, 28 µs as faults; hello-world 13 µs faster without it). Freeing the
//! last block gives it back (stack-like); any other free is ignored.
//!
//! Only `weld_main` turns the arena on; a library host never sees it (one relaxed atomic load
//! per allocation). A Rust host with its own global allocator turns the `startup-arena` feature
//! off.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Where everything outside the arena comes from: the C library's `malloc`, except with musl,
/// whose `malloc` maps and unmaps every large block (a WASI program writing 30 MB in 64 KiB
/// pieces: 0.58 s against glibc's 0.12); dlmalloc keeps them.
#[cfg(not(all(target_env = "musl", feature = "startup-arena")))]
static FALLBACK: std::alloc::System = std::alloc::System;
#[cfg(all(target_env = "musl", feature = "startup-arena"))]
static FALLBACK: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Bytes in the arena: hello-world's start-up allocates about 110 KiB; a component with many
/// modules or WASI interfaces more. Beyond it, allocations fall back to `malloc`.
const ARENA_BYTES: usize = 1 << 20;

#[repr(C, align(4096))]
struct Block(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: a range of the block belongs to one owner at a time (the bump pointer is atomic, and
// a range is handed out again only after its owner freed it); the block itself is never read or
// written here.
unsafe impl Sync for Block {}

static BLOCK: Block = Block(UnsafeCell::new([0; ARENA_BYTES]));
/// Offset of the next free byte in `BLOCK`.
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// Whether new allocations come from the arena.
static ON: AtomicBool = AtomicBool::new(false);

/// Serve allocations from the arena until [`end`]. For an executable's `main` only: memory freed
/// meanwhile is not reused (except the last block).
pub fn begin() {
    ON.store(true, Ordering::Relaxed);
}

/// Back to `malloc` for new allocations (arena blocks stay valid until the process exits).
pub fn end() {
    ON.store(false, Ordering::Relaxed);
}

/// Bytes handed out by the arena so far.
pub fn used() -> usize {
    NEXT.load(Ordering::Relaxed).min(ARENA_BYTES)
}

fn base() -> usize {
    BLOCK.0.get() as usize
}

fn in_arena(ptr: *mut u8) -> bool {
    (ptr as usize).wrapping_sub(base()) < ARENA_BYTES
}

/// A block for `layout` from the arena, or null when it does not fit.
fn bump(layout: Layout) -> *mut u8 {
    let base = base();
    let mut next = NEXT.load(Ordering::Relaxed);
    loop {
        // Align the address, not the offset: the block's own alignment is only a page. (A
        // mask, not `next_multiple_of`: alignments are powers of two, and a division per
        // allocation showed in the profile.)
        let mask = layout.align() - 1;
        let Some(start) = (base + next).checked_add(mask).map(|a| (a & !mask) - base) else {
            return core::ptr::null_mut();
        };
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if end > ARENA_BYTES {
            return core::ptr::null_mut();
        }
        match NEXT.compare_exchange_weak(next, end, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                // In bounds of `BLOCK` (end <= ARENA_BYTES): an address inside the static.
                return BLOCK.0.get().cast::<u8>().wrapping_add(start);
            }
            Err(now) => next = now,
        }
    }
}

/// The process's allocator: `malloc`, or the arena during start-up.
pub struct StartupArena;

// SAFETY: live arena blocks are distinct, in bounds and aligned as asked (a block is handed out
// again only after it was freed); everything else is the system allocator's, which gets back only pointers it gave out (arena
// pointers are recognised by address and never passed to it).
unsafe impl GlobalAlloc for StartupArena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            let p = bump(layout);
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { FALLBACK.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            let p = bump(layout);
            if !p.is_null() {
                // Freed last blocks are handed out again (see `dealloc`), so not every byte is
                // still the zero of .bss.
                // SAFETY: a fresh block of `layout.size()` bytes.
                unsafe { core::ptr::write_bytes(p, 0, layout.size()) };
                return p;
            }
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { FALLBACK.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_arena(ptr) {
            // The last block handed out is given back (a temporary dropped right away, the
            // old buffer of a vector that moved): start-up then touches fewer pages. Any
            // other block stays where it is until the process exits.
            let offset = ptr as usize - base();
            let _ = NEXT.compare_exchange(
                offset + layout.size(),
                offset,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            return;
        }
        // SAFETY: not an arena block, so the system allocator's, with this layout.
        unsafe { FALLBACK.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_arena(ptr) {
            // SAFETY: the system allocator's block, with the caller's guarantees.
            return unsafe { FALLBACK.realloc(ptr, layout, new_size) };
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // Grow the arena's last block in place (a vector being filled during start-up).
        let offset = ptr as usize - base();
        let old_end = offset + layout.size();
        if ON.load(Ordering::Relaxed) && new_size <= ARENA_BYTES - offset {
            let new_end = offset + new_size;
            if NEXT
                .compare_exchange(old_end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return ptr;
            }
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: a valid layout of non-zero size (it is larger than the old one).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct and at least `layout.size()` long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}

#[cfg(all(feature = "startup-arena", not(test)))]
#[global_allocator]
static ALLOCATOR: StartupArena = StartupArena;

#[cfg(test)]
mod tests {
    use super::{begin, end, in_arena, used, StartupArena, ARENA_BYTES};
    use core::alloc::{GlobalAlloc, Layout};

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    // One test: the arena's switch is process-wide.
    #[test]
    fn the_arena_serves_start_up_and_the_system_allocator_everything_else() {
        let a = StartupArena;
        // SAFETY: every block is used within its layout and freed (or dropped by the arena)
        // with the layout it was allocated with.
        unsafe {
            let before = a.alloc(layout(24, 8));
            assert!(!before.is_null() && !in_arena(before), "off until begin()");
            a.dealloc(before, layout(24, 8));

            begin();
            let start = used();
            let mut blocks = alloc::vec::Vec::new();
            for (size, align) in [(1, 1), (24, 8), (3, 64), (100, 4096), (7, 2)] {
                let p = a.alloc(layout(size, align));
                assert!(
                    in_arena(p) && (p as usize).is_multiple_of(align),
                    "{size}/{align}"
                );
                core::ptr::write_bytes(p, 0xAB, size);
                blocks.push((p as usize, size));
            }
            blocks.sort();
            for w in blocks.windows(2) {
                assert!(w[0].0 + w[0].1 <= w[1].0, "blocks overlap");
            }
            assert!(used() >= start + 135);

            let z = a.alloc_zeroed(layout(4000, 16));
            assert!(in_arena(z));
            assert!(core::slice::from_raw_parts(z, 4000).iter().all(|&b| b == 0));

            // The last block grows in place; an earlier one moves with its bytes.
            let last = a.alloc(layout(8, 8));
            core::ptr::write_bytes(last, 7, 8);
            assert_eq!(a.realloc(last, layout(8, 8), 64), last);
            let grown = a.realloc(z, layout(4000, 16), 5000);
            assert!(grown != z && in_arena(grown));
            assert!(core::slice::from_raw_parts(grown, 4000)
                .iter()
                .all(|&b| b == 0));
            a.dealloc(grown, layout(5000, 16));

            // The last block, freed, is handed out again, and zeroed when asked to be.
            let t = a.alloc(layout(256, 8));
            core::ptr::write_bytes(t, 0xEE, 256);
            a.dealloc(t, layout(256, 8));
            let again = a.alloc_zeroed(layout(256, 8));
            assert_eq!(again, t);
            assert!(core::slice::from_raw_parts(again, 256)
                .iter()
                .all(|&b| b == 0));
            // A block that is not the last stays taken.
            let below = a.alloc(layout(16, 8));
            let above = a.alloc(layout(16, 8));
            a.dealloc(below, layout(16, 8));
            assert!(a.alloc(layout(16, 8)) > above);

            // What does not fit comes from the system.
            let big = a.alloc(layout(ARENA_BYTES, 8));
            assert!(!big.is_null() && !in_arena(big));
            a.dealloc(big, layout(ARENA_BYTES, 8));

            end();
            let after = a.alloc(layout(24, 8));
            assert!(!in_arena(after), "off again after end()");
            a.dealloc(after, layout(24, 8));
            // An arena block reallocated after end() moves to the system allocator.
            let moved = a.realloc(last, layout(64, 8), 128);
            assert!(!in_arena(moved));
            assert_eq!(core::slice::from_raw_parts(moved, 8), &[7; 8]);
            a.dealloc(moved, layout(128, 8));
        }
    }
}
