//! The GC heap of a store: where compiled code and the runtime allocate structs and arrays.
//!
//! In: allocation requests (a header word and a size) from the `gc_alloc` libcall, constant
//! expressions and the array built-ins. Out: 8-aligned objects with their header written and
//! the rest left for the caller to initialise (every allocation site writes every field or
//! element, so the heap never zeroes memory). Objects are bumped through regions taken from
//! the global allocator (on bare metal, the platform's hooks) or from the regions the last
//! collection emptied; when the bytes allocated since the last collection pass a threshold,
//! the copying collector (`collect.rs`) moves the live objects into other regions. The heap's [`VMGcHeap`] (next free byte, end of the current
//! region) leads the struct, so compiled code could bump-allocate inline. Allocation that
//! the limit or the system cannot serve traps (`GcHeapExhausted`); nothing here panics.

use super::roots::Roots;
use alloc::alloc::{alloc, dealloc, Layout};
use alloc::vec::Vec;
use weld_contract::gc::{MAX_OBJECT_SIZE, OBJECT_ALIGN};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{VMGcHeap, VMStoreContext};

/// Bytes of one ordinary region.
pub(crate) const REGION: usize = 1 << 20;
/// Objects larger than this get a region of their own, which the collector keeps in place
/// instead of copying it (compiled code leaves them to `gc_alloc`).
pub(crate) const LARGE: usize = weld_contract::gc::LARGE_OBJECT as usize;
const _: () = assert!(
    LARGE <= REGION / 4,
    "a region wastes less than a large object"
);
/// Default limit of a store's GC heap.
pub const DEFAULT_GC_HEAP_LIMIT: usize = 1 << 30;
/// Bytes allocated between collections at least, by default. Between collections the heap holds what
/// survived plus what was allocated since, and a collection adds a copy of the survivors: a
/// threshold of three quarters of the survivors (at least this) keeps the peak near two and
/// three quarters times them, while the copying per allocated byte stays bounded.
pub const DEFAULT_GC_INTERVAL: usize = 16 << 20;

/// The heap limit `WELD_GC_HEAP_LIMIT` asks for: bytes, or with a `K`, `M` or `G` suffix.
#[cfg(feature = "std")]
pub(crate) fn limit_from_env() -> Option<usize> {
    parse_size(&std::env::var("WELD_GC_HEAP_LIMIT").ok()?)
}

/// `123`, `64K`, `512M`, `2G` as bytes.
#[cfg(any(feature = "std", test))]
pub(crate) fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

/// One region of memory objects are bumped through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    pub(crate) start: usize,
    pub(crate) len: usize,
    /// Bytes in use (the current region's is `vm.next - start` until it is left).
    pub(crate) used: usize,
}

impl Region {
    /// How a region of `len` bytes is allocated: small-object regions aligned to their size,
    /// so that the collector finds an address's region by masking it.
    fn layout(len: usize) -> Option<Layout> {
        let align = if len == REGION {
            REGION
        } else {
            OBJECT_ALIGN as usize
        };
        Layout::from_size_align(len.max(8), align).ok()
    }

    /// A region of `len` bytes (not initialised); `None` when the system has no memory.
    pub(crate) fn new(len: usize) -> Option<Region> {
        let layout = Self::layout(len)?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc(layout) };
        (!ptr.is_null()).then_some(Region {
            start: ptr as usize,
            len: layout.size(),
            used: 0,
        })
    }

    /// Give the memory back.
    pub(crate) fn free(self) {
        if let Some(layout) = Self::layout(self.len) {
            // SAFETY: allocated in `new` with this layout (`len` is the layout's size).
            unsafe { dealloc(self.start as *mut u8, layout) };
        }
    }
}

/// What the collector has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections run.
    pub collections: u64,
    /// Bytes allocated (counted when a region is left, or at a collection).
    pub allocated: u64,
    /// Bytes the collections copied (live data), in all.
    pub copied: u64,
    /// Live bytes after the last collection.
    pub live: u64,
    /// Largest size the heap reached, in bytes.
    pub peak: u64,
    /// Time spent collecting, in nanoseconds (0 where the platform has no clock).
    pub pause_total_ns: u64,
    /// Longest single collection, in nanoseconds.
    pub pause_max_ns: u64,
}

/// A store's GC heap.
#[repr(C)]
#[derive(Debug)]
pub struct GcHeap {
    /// What compiled code reads; must stay the first field.
    pub(crate) vm: VMGcHeap,
    /// The regions of small objects; the last is the one `vm` bumps through.
    pub(crate) regions: Vec<Region>,
    /// Regions of one large object each.
    pub(crate) large: Vec<Region>,
    /// Empty small-object regions kept for reuse.
    pub(crate) spare: Vec<Region>,
    /// Bytes in regions.
    pub(crate) bytes: usize,
    /// Most bytes the heap may hold between collections (a collection briefly needs room for
    /// a copy of what survives on top, as every copying collector does).
    limit: usize,
    /// `stats.allocated` at the last collection.
    allocated_before: u64,
    /// Collect when the bytes allocated since the last collection pass this.
    threshold: usize,
    /// The least `threshold` can be.
    interval: usize,
    /// Overwrite what a collection frees (tests: a stale reference then reads garbage).
    pub(crate) poison: bool,
    /// While non-zero, objects must not move (the runtime holds references in its locals).
    pub(crate) pinned: u32,
    /// Everything outside the heap that holds references into it.
    pub(crate) roots: Roots,
    /// The store's context: where wasm left off, and the activations it is nested in.
    pub(crate) ctx: *mut VMStoreContext,
    /// Where bumping started in the current region (what lies between it and `vm.next` is
    /// not yet counted in `stats.allocated`).
    bump_start: usize,
    /// Statistics.
    pub(crate) stats: GcStats,
    /// Object layouts by type, for the collector.
    pub(crate) layouts: super::collect::Layouts,
}

impl GcHeap {
    /// An empty heap of the store whose context is `ctx`, that may grow to `limit` bytes.
    pub(crate) fn new(limit: usize, ctx: *mut VMStoreContext) -> GcHeap {
        GcHeap {
            vm: VMGcHeap::default(),
            regions: Vec::new(),
            large: Vec::new(),
            spare: Vec::new(),
            bytes: 0,
            limit,
            allocated_before: 0,
            threshold: DEFAULT_GC_INTERVAL,
            interval: DEFAULT_GC_INTERVAL,
            poison: false,
            pinned: 0,
            roots: Roots::default(),
            ctx,
            bump_start: 0,
            stats: GcStats::default(),
            layouts: Default::default(),
        }
    }

    /// An object of `size` bytes with `header` written at its start (the rest for the caller
    /// to initialise). May collect garbage first unless the heap is pinned.
    pub(crate) fn alloc(&mut self, header: u64, size: u64) -> Result<*mut u8, TrapCode> {
        if size > MAX_OBJECT_SIZE || !size.is_multiple_of(u64::from(OBJECT_ALIGN)) || size < 8 {
            return Err(TrapCode::AllocationTooLarge);
        }
        let size = size as usize;
        if size > LARGE {
            return self.alloc_large(header, size);
        }
        if self.vm.limit.saturating_sub(self.vm.next) < size {
            self.refill(size)?;
        }
        debug_assert!(self.vm.next + size <= self.vm.limit);
        let at = self.vm.next;
        self.vm.next += size;
        // SAFETY: `at..at + size` lies in a region this heap owns, handed out once, 8-aligned.
        unsafe { (at as *mut u64).write(header) };
        Ok(at as *mut u8)
    }

    /// An object of more than [`LARGE`] bytes, in a region of its own.
    fn alloc_large(&mut self, header: u64, size: usize) -> Result<*mut u8, TrapCode> {
        let collected = self.collect_if_due(size);
        if !self.fits(size) && !collected {
            self.collect_now();
        }
        if !self.fits(size) {
            return Err(TrapCode::GcHeapExhausted);
        }
        let mut r = Region::new(size).ok_or(TrapCode::GcHeapExhausted)?;
        r.used = r.len;
        self.bytes += r.len;
        self.stats.peak = self.stats.peak.max(self.bytes as u64);
        self.large.push(r);
        self.stats.allocated += size as u64;
        // SAFETY: a fresh region of at least `size` bytes, 8-aligned.
        unsafe { (r.start as *mut u64).write(header) };
        Ok(r.start as *mut u8)
    }

    /// Whether `size` more bytes stay within the limit.
    fn fits(&self, size: usize) -> bool {
        self.bytes.saturating_add(size) <= self.limit
    }

    /// Count what was bumped in the current region since it was last counted.
    pub(crate) fn count_bumped(&mut self) {
        self.stats.allocated += (self.vm.next - self.bump_start) as u64;
        self.bump_start = self.vm.next;
    }

    /// Collect if enough was allocated since the last time; whether it did.
    fn collect_if_due(&mut self, size: usize) -> bool {
        self.count_bumped();
        let since = self.stats.allocated - self.allocated_before + size as u64;
        since >= self.threshold as u64 && self.collect_now()
    }

    /// Collect unless objects are pinned; whether it did. When it cannot, the next attempt
    /// waits for another threshold's worth of allocation (rather than every allocation).
    fn collect_now(&mut self) -> bool {
        if self.pinned == 0 && super::collect::collect(self) {
            return true;
        }
        self.count_bumped();
        self.allocated_before = self.stats.allocated;
        false
    }

    /// Make room for `size` bytes in the current region: collect when due, else (or then, if
    /// still short) start a new region.
    fn refill(&mut self, size: usize) -> Result<(), TrapCode> {
        let collected = self.collect_if_due(size);
        if self.extend_bump(size) {
            return Ok(());
        }
        if !self.fits(REGION) && !collected {
            self.collect_now();
            if self.extend_bump(size) {
                return Ok(());
            }
        }
        if !self.fits(REGION) {
            return Err(TrapCode::GcHeapExhausted);
        }
        let region = self.take_region().ok_or(TrapCode::GcHeapExhausted)?;
        self.start_region(region);
        // A fresh region has room for any small object, whatever the budget says.
        if self.extend_bump(size) {
            Ok(())
        } else {
            Err(TrapCode::GcHeapExhausted)
        }
    }

    /// An empty small-object region: a spare one, else a new one.
    pub(crate) fn take_region(&mut self) -> Option<Region> {
        self.spare.pop().or_else(|| Region::new(REGION))
    }

    /// Keep `r` for reuse while the spares stay below what the next cycle needs (the bytes
    /// allocated between collections, and a copy of the survivors); else free it. Regions
    /// given back to the system come back as fresh pages, whose faults cost more than the
    /// copying they hold.
    pub(crate) fn give_back(&mut self, mut r: Region) {
        if self.spare.len() * REGION < self.threshold + self.stats.live as usize {
            r.used = 0;
            self.spare.push(r);
        } else {
            r.free();
        }
    }

    /// Bump through `region` from its `used` mark on.
    pub(crate) fn start_region(&mut self, region: Region) {
        self.close_region();
        self.bytes += region.len;
        self.stats.peak = self.stats.peak.max(self.bytes as u64);
        self.vm.next = region.start + region.used;
        self.vm.limit = self.vm.next;
        self.bump_start = self.vm.next;
        self.regions.push(region);
    }

    /// Let compiled code bump `size` bytes or more through the current region, but no further
    /// than the next collection is due (so that a short interval is kept even inside a
    /// region); whether the region has room for `size` (then `vm.limit - vm.next >= size`).
    pub(crate) fn extend_bump(&mut self, size: usize) -> bool {
        let Some(r) = self.regions.last() else {
            return false;
        };
        let end = r.start + r.len;
        if end - self.vm.next < size {
            return false;
        }
        let since = (self.stats.allocated - self.allocated_before) as usize
            + (self.vm.next - self.bump_start);
        let budget = self.threshold.saturating_sub(since).max(size);
        self.vm.limit = end.min(self.vm.next.saturating_add(budget));
        true
    }

    /// Record how much of the current region is used.
    pub(crate) fn close_region(&mut self) {
        self.count_bumped();
        if let Some(r) = self.regions.last_mut() {
            r.used = self.vm.next - r.start;
        }
    }

    /// After a collection that left `live` bytes: when to collect next.
    pub(crate) fn collected(&mut self, live: usize) {
        self.allocated_before = self.stats.allocated;
        self.threshold = self.interval.max(live / 4 * 3);
        self.stats.collections += 1;
        self.stats.copied += live as u64;
        self.stats.live = live as u64;
    }

    /// Whether `size` bytes at `addr` lie inside one of the heap's regions.
    pub(crate) fn contains(&self, addr: u64, size: u64) -> bool {
        self.regions.iter().chain(&self.large).any(|r| {
            let (start, len) = (r.start as u64, r.len as u64);
            addr >= start && addr.checked_add(size).is_some_and(|e| e <= start + len)
        })
    }

    /// Change the limit.
    pub(crate) fn set_limit(&mut self, bytes: usize) {
        self.limit = bytes;
    }

    /// Change the least number of bytes allocated between collections.
    pub(crate) fn set_interval(&mut self, bytes: usize) {
        self.interval = bytes.max(1);
        self.threshold = self.interval.max(self.stats.live as usize / 4 * 3);
    }

    /// Bytes the heap holds.
    pub fn size(&self) -> usize {
        self.bytes
    }

    /// What the collector has done so far.
    pub fn stats(&self) -> GcStats {
        let mut s = self.stats;
        s.allocated += (self.vm.next - self.bump_start) as u64;
        s
    }
}

impl GcHeap {
    /// Print the statistics to standard error if `WELD_GC_STATS=1` and anything was allocated.
    pub(crate) fn report(&self) {
        #[cfg(feature = "std")]
        {
            let stats = self.stats();
            if std::env::var_os("WELD_GC_STATS").is_some_and(|v| v == "1") && stats.allocated > 0 {
                super::print_stats(&stats);
            }
        }
    }
}

impl Drop for GcHeap {
    fn drop(&mut self) {
        self.report();
        let all = self.regions.drain(..).chain(self.large.drain(..));
        for r in all.chain(self.spare.drain(..)) {
            r.free();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_or_without_a_unit() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("3m"), Some(3 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }
}
