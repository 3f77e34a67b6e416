//! Wasm GC objects in the runtime: the store's heap ([`heap`]), the libcalls behind the array
//! built-ins that read segments ([`libcalls`]), and the object operations constant
//! expressions and hosts need.
//!
//! In: canonical type ids (whose layouts `crate::types` keeps) and values as [`ValRaw`]. Out:
//! objects laid out as `weld_contract::gc` defines, the same layout compiled code reads and
//! writes inline. Hosts see reference words through [`RefKind`], which looks inside an object
//! only after checking that the word points into the store's own heap.

mod collect;
pub(crate) use collect::collect;
pub mod heap;
pub(crate) mod libcalls;
pub(crate) mod roots;

use crate::store::Store;
use heap::GcHeap;
use weld_contract::gc::{
    array_header, array_size, struct_header, struct_layout, Composite, RefWord, StorageType,
    ARRAY_LENGTH, OBJECT_HEADER, OBJECT_TYPE_ID,
};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{ValRaw, VMCTX_GC_HEAP};

/// Times a collection where the platform has a clock.
pub(crate) struct Clock {
    #[cfg(feature = "std")]
    start: std::time::Instant,
}

impl Clock {
    pub(crate) fn start() -> Clock {
        Clock {
            #[cfg(feature = "std")]
            start: std::time::Instant::now(),
        }
    }

    /// Add the time since `start` to `stats` as one pause.
    pub(crate) fn stop(self, stats: &mut heap::GcStats) {
        #[cfg(feature = "std")]
        {
            let ns = self.start.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
            stats.pause_total_ns += ns;
            stats.pause_max_ns = stats.pause_max_ns.max(ns);
        }
        #[cfg(not(feature = "std"))]
        let _ = stats;
    }
}

/// Print `stats` to standard error (`WELD_GC_STATS=1`).
#[cfg(feature = "std")]
pub(crate) fn print_stats(s: &heap::GcStats) {
    std::eprintln!(
        "weld gc: {} collections, {} MiB allocated, {} MiB copied, {} KiB live, \
         peak heap {} MiB, pauses {:.3} ms total, {:.3} ms max",
        s.collections,
        s.allocated >> 20,
        s.copied >> 20,
        s.live >> 10,
        s.peak >> 20,
        s.pause_total_ns as f64 / 1e6,
        s.pause_max_ns as f64 / 1e6,
    );
}

/// The heap a vmctx points at.
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance, and no other reference to the heap in use.
pub(crate) unsafe fn heap_of<'a>(vmctx: *mut u8) -> &'a mut GcHeap {
    // SAFETY: instantiation stores the store's heap address at this offset; the heap lives as
    // long as the store.
    unsafe { &mut **(vmctx.add(VMCTX_GC_HEAP as usize) as *const *mut GcHeap) }
}

/// Write the first `size` bytes of `v` (a value in native order) at `at`.
///
/// # Safety
/// `at..at + size` must be writable object memory.
pub(crate) unsafe fn write_value(at: *mut u8, size: u32, v: ValRaw) {
    let src = v.bytes.as_ptr();
    // SAFETY: the caller guarantees the destination. Fixed sizes compile to single stores
    // rather than a call to `memcpy` per element.
    unsafe {
        match size {
            1 => at.write(v.bytes[0]),
            2 => core::ptr::copy_nonoverlapping(src, at, 2),
            4 => core::ptr::copy_nonoverlapping(src, at, 4),
            8 => core::ptr::copy_nonoverlapping(src, at, 8),
            _ => core::ptr::copy_nonoverlapping(src, at, (size as usize).min(16)),
        }
    }
}

/// A new struct of canonical type `id` with `fields` in declaration order.
pub(crate) fn new_struct(heap: &mut GcHeap, id: u32, fields: &[ValRaw]) -> Result<u64, TrapCode> {
    let Some(Composite::Struct(types)) = crate::types::composite_of(id) else {
        return Err(TrapCode::CastFailure);
    };
    let layout = struct_layout(&types);
    let obj = heap.alloc(struct_header(id, layout.size), u64::from(layout.size))?;
    for ((t, off), v) in types.iter().zip(&layout.offsets).zip(fields) {
        // SAFETY: the field lies inside the object just allocated with this layout.
        unsafe { write_value(obj.add(*off as usize), t.storage.size(), *v) };
    }
    Ok(obj as u64)
}

/// The element storage of canonical array type `id`.
pub(crate) fn array_elem(id: u32) -> Result<StorageType, TrapCode> {
    match crate::types::composite_of(id) {
        Some(Composite::Array(f)) => Ok(f.storage),
        _ => Err(TrapCode::CastFailure),
    }
}

/// What a new array's elements are.
pub enum ArrayInit<'a> {
    /// Every element the same value (`array.new`, `array.new_default`).
    Fill(ValRaw),
    /// The elements' bytes, already in the array's storage layout (`array.new_data`).
    Bytes(&'a [u8]),
    /// Element `i` is `f(i)`.
    Each(&'a dyn Fn(u32) -> ValRaw),
}

/// A new array of canonical type `id` with `len` elements initialised by `init`.
pub(crate) fn new_array(
    heap: &mut GcHeap,
    id: u32,
    len: u32,
    init: ArrayInit<'_>,
) -> Result<u64, TrapCode> {
    let storage = array_elem(id)?;
    let size = array_size(storage, len).ok_or(TrapCode::AllocationTooLarge)?;
    let obj = heap.alloc(array_header(id, len), size)?;
    let esize = storage.size() as usize;
    let total = len as usize * esize;
    // SAFETY: `obj + OBJECT_HEADER .. + total` is the element storage just allocated.
    let elems = unsafe { obj.add(OBJECT_HEADER as usize) };
    match init {
        ArrayInit::Fill(v) if v.bytes[..esize.min(16)].iter().all(|b| *b == 0) => {
            // SAFETY: as above.
            unsafe { elems.write_bytes(0, total) };
        }
        ArrayInit::Fill(v) if total > 0 => {
            // SAFETY: as above; each copy doubles the initialised prefix, never past `total`.
            unsafe {
                write_value(elems, esize as u32, v);
                let mut done = esize;
                while done < total {
                    let n = done.min(total - done);
                    core::ptr::copy_nonoverlapping(elems, elems.add(done), n);
                    done += n;
                }
            }
        }
        ArrayInit::Fill(_) => {}
        ArrayInit::Bytes(b) => {
            if b.len() != total {
                return Err(TrapCode::InvalidValue);
            }
            // SAFETY: as above, and `b` has exactly `total` bytes.
            unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), elems, total) };
        }
        ArrayInit::Each(f) => {
            for i in 0..len {
                // SAFETY: element `i` lies inside the array just allocated for `len` elements.
                unsafe { write_value(elems.add(i as usize * esize), esize as u32, f(i)) };
            }
        }
    }
    Ok(obj as u64)
}

/// A reference the host keeps across calls into wasm: the collector updates the word it
/// holds when the object moves. Get it with [`Store::root`], read it with
/// [`Store::root_get`], give it back with [`Store::unroot`]; a handle that was given back
/// reads nothing, so no stale word can be read through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcRoot {
    index: u32,
    generation: u32,
}

impl GcRoot {
    /// Its slot index and generation (for handles that cross a C API).
    pub fn parts(self) -> (u32, u32) {
        (self.index, self.generation)
    }

    /// A root from [`Self::parts`] (a made-up one reads nothing).
    pub fn from_parts(index: u32, generation: u32) -> GcRoot {
        GcRoot { index, generation }
    }
}

/// The `externref` word of host value `n` (at most `weld_contract::gc::MAX_HOST_VALUE`).
pub fn externref(n: u64) -> Option<u64> {
    weld_contract::gc::extern_from_host(n)
}

/// The host value an `externref` (or internalized `anyref`) word carries, if it is one.
pub fn host_value(word: u64) -> Option<u64> {
    match RefWord::classify(word) {
        RefWord::Host(n) => Some(n),
        _ => None,
    }
}

impl Store {
    /// Keep the reference `word` (an `anyref` or `externref` a call returned, or a global or
    /// table element read) valid across calls into wasm, which may move the object it names.
    /// Words a call returns are valid only until the next call: root those to keep.
    pub fn root(&mut self, word: u64) -> GcRoot {
        let roots = &mut self.gc.roots;
        match roots.free.pop() {
            Some(i) => {
                let slot = &mut roots.host[i as usize];
                slot.word = Some(word);
                GcRoot {
                    index: i,
                    generation: slot.generation,
                }
            }
            None => {
                roots.host.push(roots::HostSlot {
                    word: Some(word),
                    generation: 0,
                });
                GcRoot {
                    index: roots.host.len() as u32 - 1,
                    generation: 0,
                }
            }
        }
    }

    /// The word `root` holds now; `None` once it was given back.
    pub fn root_get(&self, root: GcRoot) -> Option<u64> {
        let slot = self.gc.roots.host.get(root.index as usize)?;
        (slot.generation == root.generation)
            .then_some(slot.word)
            .flatten()
    }

    /// Give `root` back; whether it was held.
    pub fn unroot(&mut self, root: GcRoot) -> bool {
        let roots = &mut self.gc.roots;
        match roots.host.get_mut(root.index as usize) {
            Some(slot) if slot.generation == root.generation && slot.word.is_some() => {
                slot.word = None;
                slot.generation = slot.generation.wrapping_add(1);
                roots.free.push(root.index);
                true
            }
            _ => false,
        }
    }
}

/// What a reference word of the `any` or `extern` hierarchy holds, as a host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// Null.
    Null,
    /// An `i31ref`'s 31 bits.
    I31(u32),
    /// A host value (`ref.extern n`, possibly internalized).
    Host(u64),
    /// A struct.
    Struct,
    /// An array of this length.
    Array(u32),
}

impl Store {
    /// What the reference word `word` (of the `any` or `extern` hierarchy) holds; `None` when
    /// it points nowhere in this store's heap.
    pub fn ref_kind(&self, word: u64) -> Option<RefKind> {
        Some(match RefWord::classify(word) {
            RefWord::Null => RefKind::Null,
            RefWord::I31(v) => RefKind::I31(v),
            RefWord::Host(n) => RefKind::Host(n),
            RefWord::Object(addr) => {
                if !self.gc.contains(addr, u64::from(OBJECT_HEADER)) {
                    return None;
                }
                // SAFETY: the header lies inside a chunk of this store's heap, which only
                // holds objects written by `GcHeap::alloc`.
                let (id, len) = unsafe {
                    let p = addr as *const u8;
                    (
                        (p.add(OBJECT_TYPE_ID as usize) as *const u32).read(),
                        (p.add(ARRAY_LENGTH as usize) as *const u32).read(),
                    )
                };
                match weld_contract::gc::TypeKind::of_id(id) {
                    Some(weld_contract::gc::TypeKind::Struct) => RefKind::Struct,
                    Some(weld_contract::gc::TypeKind::Array) => RefKind::Array(len),
                    _ => return None,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
