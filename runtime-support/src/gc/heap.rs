//! The GC heap of a store: where compiled code and the runtime allocate structs and arrays.
//!
//! In: allocation requests (a header word and a size) from the `gc_alloc` libcall, constant
//! expressions and the array built-ins. Out: zeroed, 8-aligned objects with their header
//! written. Memory comes in chunks from the global allocator (on bare metal, the platform's
//! hooks) and is returned when the store is dropped. The heap's [`VMGcHeap`] (next free byte,
//! end of the current chunk) leads the struct, so compiled code can bump-allocate inline.
//! Allocation beyond the heap's limit traps (`GcHeapExhausted`); nothing here panics.

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::vec::Vec;
use weld_contract::gc::{MAX_OBJECT_SIZE, OBJECT_ALIGN};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::VMGcHeap;

/// Bytes of one ordinary chunk; larger objects get a chunk of their own.
const CHUNK: usize = 256 * 1024;
/// Default limit of a store's GC heap.
pub const DEFAULT_GC_HEAP_LIMIT: usize = 1 << 30;

/// A store's GC heap.
#[repr(C)]
#[derive(Debug)]
pub struct GcHeap {
    /// What compiled code reads; must stay the first field.
    pub(crate) vm: VMGcHeap,
    /// Every chunk: start and size.
    chunks: Vec<(usize, usize)>,
    /// Bytes in chunks.
    bytes: usize,
    /// Most bytes the heap may hold.
    limit: usize,
    /// Objects allocated so far.
    pub(crate) objects: u64,
}

impl GcHeap {
    /// An empty heap that may grow to `limit` bytes.
    pub(crate) fn new(limit: usize) -> GcHeap {
        GcHeap {
            vm: VMGcHeap::default(),
            chunks: Vec::new(),
            bytes: 0,
            limit,
            objects: 0,
        }
    }

    /// A zeroed object of `size` bytes with `header` written at its start.
    pub(crate) fn alloc(&mut self, header: u64, size: u64) -> Result<*mut u8, TrapCode> {
        if size > MAX_OBJECT_SIZE || !size.is_multiple_of(u64::from(OBJECT_ALIGN)) || size < 8 {
            return Err(TrapCode::AllocationTooLarge);
        }
        let size = size as usize;
        if self.vm.limit - self.vm.next < size {
            self.new_chunk(size)?;
        }
        let at = self.vm.next;
        self.vm.next += size;
        self.objects += 1;
        // SAFETY: `at..at + size` lies in a chunk this heap owns (zeroed when it was made,
        // handed out once), 8-aligned.
        unsafe { (at as *mut u64).write(header) };
        Ok(at as *mut u8)
    }

    /// Start a new chunk with room for `size` bytes.
    fn new_chunk(&mut self, size: usize) -> Result<(), TrapCode> {
        let len = size.max(CHUNK);
        if self.bytes.saturating_add(len) > self.limit {
            return Err(TrapCode::GcHeapExhausted);
        }
        let layout = Layout::from_size_align(len, OBJECT_ALIGN as usize)
            .map_err(|_| TrapCode::AllocationTooLarge)?;
        // SAFETY: `len` is at least 8.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(TrapCode::GcHeapExhausted);
        }
        self.chunks.push((ptr as usize, len));
        self.bytes += len;
        self.vm.next = ptr as usize;
        self.vm.limit = ptr as usize + len;
        Ok(())
    }

    /// Whether `size` bytes at `addr` lie inside one of the heap's chunks.
    pub(crate) fn contains(&self, addr: u64, size: u64) -> bool {
        self.chunks.iter().any(|&(start, len)| {
            let (start, len) = (start as u64, len as u64);
            addr >= start && addr.checked_add(size).is_some_and(|e| e <= start + len)
        })
    }

    /// Bytes the heap holds.
    pub fn size(&self) -> usize {
        self.bytes
    }
}

impl Drop for GcHeap {
    fn drop(&mut self) {
        for &(start, len) in &self.chunks {
            // SAFETY: allocated in `new_chunk` with this size and alignment.
            unsafe {
                dealloc(
                    start as *mut u8,
                    Layout::from_size_align_unchecked(len, OBJECT_ALIGN as usize),
                )
            };
        }
    }
}
