//! The copying collector: Cheney's algorithm over the store's heap.
//!
//! In: the heap (its small-object regions are from-space; its large objects have a region
//! each), the roots (`roots.rs`: wasm frames through the stack maps, globals, tables, element
//! segments, exceptions). Out: every small object reachable from a root copied, breadth first,
//! into fresh regions; every large one reached kept where it is; every root and every
//! reference inside a surviving object rewritten to the copy; the old regions and unreached
//! large objects freed. A copied object's header becomes its forwarding address with both low
//! bits set, which no real header has (a type id's kind bits are 01 or 10).
//!
//! To-space is reserved before anything moves, for the worst case (everything survives), so
//! a collection never fails half-way; if it cannot be reserved, or the store runs wasm whose
//! frames cannot be walked, nothing is collected and the heap grows instead. Words that are
//! not references into the heap (null, `i31`, host values, addresses a host put into an
//! `externref`) are left alone.

use super::heap::{GcHeap, Region, LARGE, REGION};
use super::roots::frames_walkable;
use alloc::vec::Vec;
use weld_contract::gc::{
    object_size, repr_with, struct_layout, Composite, FieldType, FullType, StorageType, TypeKind,
    OBJECT_HEADER, TAG_MASK,
};

/// The header bits that mark a forwarded object.
const FORWARDED: u64 = 3;

/// What the collector needs of a type's objects besides their size (which their header
/// gives): where their references are.
#[derive(Debug)]
pub(crate) enum ObjLayout {
    /// A struct: the offsets of its reference fields.
    Struct { refs: Vec<u32> },
    /// An array: whether its elements are references.
    Array { refs: bool },
}

/// Layouts by canonical type id, computed once per type.
#[derive(Debug, Default)]
pub(crate) struct Layouts(Vec<Option<ObjLayout>>);

/// Whether a field of a canonical type (concrete references as canonical ids) is a GC
/// reference.
fn is_ref_field(f: &FieldType) -> bool {
    match f.storage {
        StorageType::Val(FullType::Ref(r)) => repr_with(r.heap, TypeKind::of_id).is_gc_ref(),
        _ => false,
    }
}

impl Layouts {
    /// The layout of canonical type `id`; `None` for an id that names no struct or array.
    fn get(&mut self, id: u32) -> Option<&ObjLayout> {
        let i = crate::types::index_of(id);
        if self.0.get(i).is_some_and(Option::is_some) {
            return self.0[i].as_ref();
        }
        let layout = match crate::types::composite_of(id)? {
            Composite::Struct(fields) => {
                let l = struct_layout(&fields);
                let refs = l.offsets.iter().zip(&fields);
                ObjLayout::Struct {
                    refs: refs
                        .filter(|(_, f)| is_ref_field(f))
                        .map(|(o, _)| *o)
                        .collect(),
                }
            }
            Composite::Array(f) => ObjLayout::Array {
                refs: is_ref_field(&f),
            },
            Composite::Func { .. } => return None,
        };
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i] = Some(layout);
        self.0[i].as_ref()
    }
}

/// A set of region start addresses (small-object regions, aligned to [`REGION`]): open
/// addressing, one or two probes per lookup.
struct RegionSet {
    slots: Vec<usize>,
    shift: u32,
}

impl RegionSet {
    fn new(regions: &[Region]) -> RegionSet {
        let bits = (regions.len() * 2)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let mut set = RegionSet {
            slots: alloc::vec![0; 1 << bits],
            shift: 64 - bits,
        };
        for r in regions {
            let mut i = set.hash(r.start);
            while set.slots[i] != 0 {
                i = (i + 1) & (set.slots.len() - 1);
            }
            set.slots[i] = r.start;
        }
        set
    }

    fn hash(&self, base: usize) -> usize {
        ((base as u64 >> REGION.trailing_zeros()).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift)
            as usize
    }

    fn contains(&self, addr: usize) -> bool {
        let base = addr & !(REGION - 1);
        let mut i = self.hash(base);
        loop {
            match self.slots[i] {
                0 => return false,
                s if s == base => return true,
                _ => i = (i + 1) & (self.slots.len() - 1),
            }
        }
    }
}

/// The copying state.
struct Copier<'a> {
    /// Small-object regions being evacuated.
    from: RegionSet,
    /// Large-object regions, sorted by address, and whether each was reached.
    large: &'a [Region],
    reached: Vec<bool>,
    /// Large objects reached but not yet scanned.
    pending: Vec<usize>,
    /// To-space: reserved regions, the one being filled, and where the next copy goes.
    to: Vec<Region>,
    current: usize,
    next: usize,
}

/// The index of the large-object region holding `addr`.
fn find_large(regions: &[Region], addr: usize) -> Option<usize> {
    let i = regions
        .partition_point(|r| r.start <= addr)
        .checked_sub(1)?;
    (addr - regions[i].start < regions[i].len).then_some(i)
}

impl Copier<'_> {
    /// Where a copy of `size` bytes goes: the current to-space region, or the next one.
    fn reserve(&mut self, size: usize) -> usize {
        let r = self.to[self.current];
        if self.next + size > r.start + r.len {
            self.to[self.current].used = self.next - r.start;
            self.current += 1;
            self.next = self.to[self.current].start;
        }
        let at = self.next;
        self.next += size;
        at
    }

    /// Rewrite the reference at `slot` to its object's copy, copying it first if needed (a
    /// large object is marked reached instead).
    ///
    /// # Safety
    /// `slot` must be a live word; references into the heap must point at objects.
    #[inline]
    unsafe fn update(&mut self, slot: *mut u64) {
        // SAFETY: the caller guarantees the slot and what heap words point at; to-space was
        // reserved for everything in from-space.
        unsafe {
            let w = *slot;
            if w == 0 || w & TAG_MASK != 0 {
                return;
            }
            let addr = w as usize;
            if !self.from.contains(addr) {
                self.reach_large(addr);
                return;
            }
            let header = *(w as *const u64);
            if header & FORWARDED == FORWARDED {
                *slot = header & !FORWARDED;
                return;
            }
            let size = object_size(header) as usize;
            let to = self.reserve(size);
            if size <= 64 {
                // Most objects are a few words: no call into `memcpy`. Copied as possibly
                // uninitialised words (padding is never written).
                for i in (0..size).step_by(8) {
                    let w = ((addr + i) as *const core::mem::MaybeUninit<u64>).read();
                    ((to + i) as *mut core::mem::MaybeUninit<u64>).write(w);
                }
            } else {
                core::ptr::copy_nonoverlapping(w as *const u8, to as *mut u8, size);
            }
            *(w as *mut u64) = to as u64 | FORWARDED;
            *slot = to as u64;
        }
    }

    /// Mark the large object at `addr` reached, if it is one.
    fn reach_large(&mut self, addr: usize) {
        if let Some(i) = find_large(self.large, addr) {
            if !self.reached[i] {
                self.reached[i] = true;
                self.pending.push(addr);
            }
        }
    }
}

/// Update the references inside the object at `at`; its size.
///
/// # Safety
/// `at` must be a surviving object.
unsafe fn scan_object(c: &mut Copier<'_>, layouts: &mut Layouts, at: usize) -> usize {
    // SAFETY: the caller guarantees the object.
    let header = unsafe { *(at as *const u64) };
    let size = object_size(header) as usize;
    match layouts.get(header as u32) {
        Some(ObjLayout::Struct { refs }) => {
            for off in refs {
                // SAFETY: a reference field inside the object.
                unsafe { c.update((at + *off as usize) as *mut u64) };
            }
        }
        Some(ObjLayout::Array { refs: true }) => {
            for i in 0..(header >> 32) as usize {
                let e = at + OBJECT_HEADER as usize + 8 * i;
                // SAFETY: element `i` of the array.
                unsafe { c.update(e as *mut u64) };
            }
        }
        _ => {}
    }
    size.max(8)
}

/// Scan every copied object and reached large object until nothing new is reached.
///
/// # Safety
/// To-space up to `c.next` must hold copied objects end to end, region by region.
unsafe fn scan(c: &mut Copier<'_>, layouts: &mut Layouts) {
    let (mut region, mut at) = (0, c.to[0].start);
    loop {
        while region < c.current || at < c.next {
            let end = if region < c.current {
                c.to[region].start + c.to[region].used
            } else {
                c.next
            };
            if at >= end {
                region += 1;
                at = c.to[region].start;
                continue;
            }
            // SAFETY: objects lie end to end in each region's used part.
            at += unsafe { scan_object(c, layouts, at) };
        }
        match c.pending.pop() {
            // SAFETY: a reached large object.
            Some(obj) => unsafe {
                scan_object(c, layouts, obj);
            },
            None => break,
        }
    }
}

/// Collect `heap`'s garbage; whether a collection ran.
pub(crate) fn collect(heap: &mut GcHeap) -> bool {
    // SAFETY: the heap's context pointer is its store's, live as long as the heap.
    if heap.ctx.is_null() || !unsafe { frames_walkable(heap.ctx, &heap.roots.parked) } {
        return false;
    }
    heap.close_region();
    let used: usize = heap.regions.iter().map(|r| r.used).sum();
    // Objects of at most `LARGE` bytes: a region wastes less than that at its end.
    let worst = used.div_ceil(REGION - LARGE) + 1;
    let mut to = Vec::with_capacity(worst);
    for _ in 0..worst {
        match heap.take_region() {
            Some(r) => to.push(r),
            None => {
                to.into_iter().for_each(|r| heap.give_back(r));
                return false;
            }
        }
    }
    let clock = super::Clock::start();
    let mut from = core::mem::take(&mut heap.regions);
    from.sort_unstable_by_key(|r| r.start);
    let mut large = core::mem::take(&mut heap.large);
    large.sort_unstable_by_key(|r| r.start);
    let mut layouts = core::mem::take(&mut heap.layouts);
    let mut c = Copier {
        from: RegionSet::new(&from),
        large: &large,
        reached: alloc::vec![false; large.len()],
        pending: Vec::new(),
        next: to[0].start,
        to,
        current: 0,
    };
    // SAFETY: every registered holder is live (registered by the store, freed with it), the
    // frames are walkable (checked above), and wasm is paused in this call.
    unsafe {
        heap.roots.visit(heap.ctx, &mut |slot| c.update(slot));
        scan(&mut c, &mut layouts);
    }
    let (mut to, current, next, reached) = (c.to, c.current, c.next, c.reached);
    heap.layouts = layouts;
    for r in from {
        if heap.poison {
            // SAFETY: the region is this heap's and holds nothing live any more.
            unsafe { core::ptr::write_bytes(r.start as *mut u8, 0xa5, r.used) };
        }
        heap.give_back(r);
    }
    heap.bytes = 0;
    let mut live = 0;
    for (r, keep) in large.into_iter().zip(reached) {
        if keep {
            live += r.len;
            heap.bytes += r.len;
            heap.large.push(r);
        } else {
            r.free();
        }
    }
    for r in to.drain(current + 1..) {
        heap.give_back(r);
    }
    to[current].used = next - to[current].start;
    live += to.iter().map(|r| r.used).sum::<usize>();
    heap.collected(live);
    for r in to {
        heap.start_region(r);
    }
    heap.extend_bump(0);
    clock.stop(&mut heap.stats);
    true
}
