//! Linear memories. The [`VMMemory`] compiled code reads lives either inside the defining
//! instance's vmctx or, for memories the host creates, in its own allocation; [`MemoryData`] owns
//! the backing [`Reservation`] and keeps `VMMemory::length` up to date.
//!
//! Guard mode (code compiled without explicit bounds checks) reserves
//! [`GUARDED_RESERVATION`] bytes so every access with a static offset below [`GUARD_BYTES`]
//! past a 32-bit index faults; explicit mode reserves only the maximum size. 64-bit memories
//! (memory64) are always checked explicitly by compiled code, so they too reserve only their
//! maximum, at most [`MAX_PAGES_64`] pages. The base never moves.

use crate::store::{Store, VmPtr};
use crate::sys::Reservation;
use weld_contract::descriptor::{GUARDED_RESERVATION, GUARD_BYTES};
use weld_contract::info::{IndexType, MemoryType};
use weld_contract::vmctx::VMMemory;
use weld_contract::WASM_PAGE_SIZE;

/// Most pages a (32-bit) memory can have.
pub const MAX_PAGES: u64 = 65536;

/// Most pages a 64-bit memory can have here (16 GiB): the address space a memory reserves up
/// front so that its base never moves. A larger declared maximum is capped to it (growing
/// past it fails as `memory.grow` may); a larger minimum cannot be instantiated.
pub const MAX_PAGES_64: u64 = 4 * MAX_PAGES;

const _: () = assert!(GUARDED_RESERVATION == (MAX_PAGES * WASM_PAGE_SIZE) + GUARD_BYTES);

/// A linear memory's state.
#[derive(Debug)]
pub(crate) struct MemoryData {
    vm: VmPtr<VMMemory>,
    /// `None` for the host's address space ([`MemoryData::host_address_space`]).
    reservation: Option<Reservation>,
    declared_max: Option<u64>,
    max_pages: u64,
    explicit_bounds: bool,
    index: IndexType,
}

impl MemoryData {
    /// Create a memory of type `ty`; its `VMMemory` is `vm` (inside a vmctx) or a new allocation.
    /// `None` if the type is impossible or the address space cannot be reserved.
    ///
    /// # Safety
    /// `vm`, if given, must stay valid for the life of the returned value.
    pub(crate) unsafe fn new(
        ty: MemoryType,
        explicit_bounds: bool,
        vm: Option<*mut VMMemory>,
    ) -> Option<MemoryData> {
        let limit = match ty.index {
            IndexType::I32 => MAX_PAGES,
            IndexType::I64 => MAX_PAGES_64,
        };
        let max_pages = ty.max.unwrap_or(limit).min(limit);
        if ty.min > max_pages {
            return None;
        }
        // A 64-bit memory has no guard region whatever the code's mode (its accesses are
        // always checked).
        let explicit_bounds = explicit_bounds || ty.index == IndexType::I64;
        let initial = usize::try_from(ty.min * WASM_PAGE_SIZE).ok()?;
        let max_bytes = usize::try_from(max_pages * WASM_PAGE_SIZE).ok()?;
        let reserve = if explicit_bounds {
            max_bytes
        } else {
            usize::try_from(GUARDED_RESERVATION).ok()?
        };
        // Without `std` a heap block cannot grow in place: size it for the declared maximum,
        // or only the minimum if there is none.
        let heap_max = match ty.max {
            Some(_) => max_bytes,
            None => initial,
        };
        let reservation = Reservation::new(reserve, initial, heap_max)?;
        let value = VMMemory {
            base: reservation.base(),
            length: ty.min * WASM_PAGE_SIZE,
        };
        let vm = match vm {
            Some(ptr) => {
                // SAFETY: the caller guarantees `ptr` stays valid; it is aligned vmctx storage.
                unsafe {
                    ptr.write(value);
                    VmPtr::inside_vmctx(ptr)
                }
            }
            None => VmPtr::owned(value),
        };
        Some(MemoryData {
            vm,
            reservation: Some(reservation),
            declared_max: ty.max,
            max_pages,
            explicit_bounds,
            index: ty.index,
        })
    }

    /// The host's whole address space as a 64-bit memory: base 0, a length no address
    /// reaches. Generated host entries read and write the C values of a generated header
    /// through it (`CoreDef::HostMemory`); it never grows, and the runtime's own accessors see
    /// it as empty.
    pub(crate) fn host_address_space() -> MemoryData {
        let pages = u64::MAX / WASM_PAGE_SIZE;
        MemoryData {
            vm: VmPtr::owned(VMMemory {
                base: core::ptr::null_mut(),
                length: pages * WASM_PAGE_SIZE,
            }),
            reservation: None,
            declared_max: Some(pages),
            max_pages: pages,
            explicit_bounds: true,
            index: IndexType::I64,
        }
    }

    /// Whether this is [`MemoryData::host_address_space`].
    pub(crate) fn is_host_address_space(&self) -> bool {
        self.reservation.is_none()
    }

    /// The struct compiled code reads.
    pub(crate) fn vm(&self) -> *mut VMMemory {
        self.vm.ptr()
    }

    /// Current length in bytes.
    pub(crate) fn len(&self) -> u64 {
        // SAFETY: `vm` is valid for our whole life.
        unsafe { (*self.vm.ptr()).length }
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        self.len() / WASM_PAGE_SIZE
    }

    /// The address of byte `offset`.
    ///
    /// # Safety
    /// `offset` must be at most [`Self::len`].
    pub(crate) unsafe fn address(&self, offset: usize) -> *mut u8 {
        match self.reservation {
            // SAFETY: the caller keeps `offset` inside the reservation's accessible bytes.
            Some(_) => unsafe { self.base().add(offset) },
            None => core::ptr::with_exposed_provenance_mut(offset),
        }
    }

    /// First byte.
    pub(crate) fn base(&self) -> *mut u8 {
        self.reservation
            .as_ref()
            .map_or(core::ptr::null_mut(), Reservation::base)
    }

    /// The type as import matching sees it: current size as minimum.
    pub(crate) fn ty(&self) -> MemoryType {
        MemoryType {
            min: self.pages(),
            max: self.declared_max,
            index: self.index,
        }
    }

    /// Whether this memory lacks guard regions.
    pub(crate) fn explicit_bounds(&self) -> bool {
        self.explicit_bounds
    }

    /// `memory.grow`: the old size in pages, or `None` past the maximum or when out of memory.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        let bytes = new * WASM_PAGE_SIZE;
        let reservation = self.reservation.as_mut()?;
        if !reservation.make_accessible(usize::try_from(bytes).ok()?) {
            return None;
        }
        // SAFETY: `vm` is valid for our whole life.
        unsafe { (*self.vm.ptr()).length = bytes };
        Some(old)
    }

    /// The accessible bytes.
    ///
    /// # Safety
    /// No compiled code may write to the memory while the slice is alive.
    pub(crate) unsafe fn bytes(&self) -> &[u8] {
        if self.reservation.is_none() {
            return &[];
        }
        let len = usize::try_from(self.len()).unwrap_or(0);
        // SAFETY: the first `len` bytes of the reservation are mapped read-write.
        unsafe { core::slice::from_raw_parts(self.base(), len) }
    }

    /// The accessible bytes, mutably.
    ///
    /// # Safety
    /// No compiled code may access the memory while the slice is alive.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn bytes_mut(&self) -> &mut [u8] {
        if self.reservation.is_none() {
            return &mut [];
        }
        let len = usize::try_from(self.len()).unwrap_or(0);
        // SAFETY: the first `len` bytes of the reservation are mapped read-write.
        unsafe { core::slice::from_raw_parts_mut(self.base(), len) }
    }
}

/// A handle to a linear memory of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory(pub(crate) usize);

impl Memory {
    /// A new memory owned by `store` (e.g. the spectest memory). Make it with
    /// `explicit_bounds == false` (guard regions) if code compiled in guard mode may import it.
    /// `None` if the type is invalid or the memory cannot be reserved.
    pub fn new(store: &mut Store, ty: MemoryType, explicit_bounds: bool) -> Option<Memory> {
        // SAFETY: no vmctx storage is given; the memory owns its VMMemory.
        let data = unsafe { MemoryData::new(ty, explicit_bounds, None)? };
        Some(Memory(store.memories.push(data).0))
    }

    /// The host's address space as a 64-bit memory of `store`
    /// ([`MemoryData::host_address_space`]), for generated host entries to import.
    pub(crate) fn host_address_space(store: &mut Store) -> Memory {
        Memory(store.memories.push(MemoryData::host_address_space()).0)
    }

    /// The memory's current bytes.
    pub fn data<'a>(&self, store: &'a Store) -> &'a [u8] {
        // SAFETY: wasm of this store cannot run while the store is borrowed.
        unsafe { store.memories.get(self.0).bytes() }
    }

    /// The memory's current bytes, mutably.
    pub fn data_mut<'a>(&self, store: &'a mut Store) -> &'a mut [u8] {
        // SAFETY: wasm of this store cannot run while the store is borrowed mutably.
        unsafe { store.memories.get_mut(self.0).bytes_mut() }
    }

    /// Current size in pages.
    pub fn size_pages(&self, store: &Store) -> u64 {
        store.memories.get(self.0).pages()
    }

    /// Grow by `delta` pages: the old size, or `None` if that is not possible.
    pub fn grow(&self, store: &mut Store, delta: u64) -> Option<u64> {
        store.memories.get_mut(self.0).grow(delta)
    }

    /// The current type (minimum = current size).
    pub fn ty(&self, store: &Store) -> MemoryType {
        store.memories.get(self.0).ty()
    }

    /// Whether this memory has no guard regions (only explicit-bounds code may use it).
    pub fn explicit_bounds(&self, store: &Store) -> bool {
        store.memories.get(self.0).explicit_bounds()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            min,
            max,
            index: IndexType::I32,
        }
    }

    #[test]
    fn growing_returns_the_old_size_and_stops_at_the_maximum() {
        let mut store = Store::new();
        let mem = Memory::new(&mut store, ty(1, Some(3)), false).expect("memory");
        assert_eq!(mem.size_pages(&store), 1);
        assert_eq!(mem.grow(&mut store, 0), Some(1));
        assert_eq!(mem.grow(&mut store, 2), Some(1));
        assert_eq!(mem.size_pages(&store), 3);
        assert_eq!(mem.grow(&mut store, 1), None);
        assert_eq!(mem.data(&store).len(), 3 * 65536);
        mem.data_mut(&mut store)[3 * 65536 - 1] = 9;
        assert_eq!(mem.data(&store)[3 * 65536 - 1], 9);
    }

    #[test]
    fn memories_without_a_maximum_stop_at_four_gibibytes() {
        let mut store = Store::new();
        let mem = Memory::new(&mut store, ty(0, None), true).expect("memory");
        assert_eq!(mem.grow(&mut store, MAX_PAGES + 1), None);
        assert_eq!(mem.grow(&mut store, u64::MAX), None);
        assert_eq!(mem.grow(&mut store, 1), Some(0));
    }

    #[test]
    fn a_minimum_above_the_maximum_is_refused() {
        let mut store = Store::new();
        assert!(Memory::new(&mut store, ty(2, Some(1)), false).is_none());
        assert!(Memory::new(&mut store, ty(MAX_PAGES + 1, None), false).is_none());
    }

    #[test]
    fn explicit_memories_reserve_only_their_maximum() {
        // SAFETY: the memory owns its VMMemory.
        let data = unsafe { MemoryData::new(ty(1, Some(2)), true, None) }.expect("memory");
        assert_eq!(data.reservation_size(), 2 * 65536);
        // SAFETY: as above.
        let guarded = unsafe { MemoryData::new(ty(1, Some(2)), false, None) }.expect("memory");
        assert_eq!(guarded.reservation_size() as u64, GUARDED_RESERVATION);
    }

    #[test]
    fn guarded_memories_fault_just_past_their_length() {
        // SAFETY: the memory owns its VMMemory.
        let data = unsafe { MemoryData::new(ty(1, None), false, None) }.expect("memory");
        assert!(crate::sys::is_accessible(data.base(), 65536));
        // SAFETY: the pointer is inside the reservation (mapped, maybe PROT_NONE).
        assert!(!crate::sys::is_accessible(
            unsafe { data.base().add(65536) },
            1
        ));
    }

    impl MemoryData {
        fn reservation_size(&self) -> usize {
            self.reservation.as_ref().map_or(0, Reservation::reserved)
        }
    }
}
