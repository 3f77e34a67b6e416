//! The [`Store`]: owner of everything instantiated together. Instances, memories, tables,
//! globals and functions live in the store's arenas at fixed addresses until the store is dropped,
//! so compiled code may keep raw pointers to them (funcref slots in tables, imported memories).
//! Handles ([`crate::Memory`] and friends) are indices into these arenas.
//!
//! Architecture invariant: nothing in a store is freed before the store itself.

use crate::func::FuncData;
use crate::global::GlobalData;
use crate::instance::InstanceData;
use crate::memory::MemoryData;
use crate::table::TableData;
use crate::tag::TagData;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::ptr::NonNull;
use weld_contract::vmctx::VMStoreContext;

/// Default bytes of native stack wasm may use below its entry point.
pub const DEFAULT_MAX_WASM_STACK: usize = 512 * 1024;

/// Values at fixed addresses, freed when the arena is dropped.
pub(crate) struct Arena<T> {
    items: Vec<NonNull<T>>,
}

impl<T> Arena<T> {
    const fn new() -> Self {
        Arena { items: Vec::new() }
    }

    /// Move `value` to a fixed address; returns its index and address.
    pub(crate) fn push(&mut self, value: T) -> (usize, *mut T) {
        let ptr = NonNull::from(Box::leak(Box::new(value)));
        self.items.push(ptr);
        (self.items.len() - 1, ptr.as_ptr())
    }

    /// The address of item `i`.
    pub(crate) fn ptr(&self, i: usize) -> *mut T {
        self.items
            .get(i)
            .expect("weld: handle used with a store it does not belong to")
            .as_ptr()
    }

    /// Item `i`.
    pub(crate) fn get(&self, i: usize) -> &T {
        // SAFETY: items live until the arena is dropped; shared access through `&self`.
        unsafe { &*self.ptr(i) }
    }

    /// Item `i`, mutably.
    pub(crate) fn get_mut(&mut self, i: usize) -> &mut T {
        // SAFETY: items live until the arena is dropped; `&mut self` makes this access unique
        // among references handed out by the arena.
        unsafe { &mut *self.ptr(i) }
    }
}

impl<T> Drop for Arena<T> {
    fn drop(&mut self) {
        for item in self.items.drain(..) {
            // SAFETY: every item came from `Box::leak` in `push` and is freed exactly once here.
            drop(unsafe { Box::from_raw(item.as_ptr()) });
        }
    }
}

/// A `#[repr(C)]` VM struct that compiled code reads: either owned (allocated here) or living
/// inside an instance's vmctx (owned by the instance).
#[derive(Debug)]
pub(crate) struct VmPtr<T> {
    ptr: *mut T,
    owned: bool,
}

impl<T> VmPtr<T> {
    /// Allocate `value` at a fixed address.
    pub(crate) fn owned(value: T) -> Self {
        VmPtr {
            ptr: Box::into_raw(Box::new(value)),
            owned: true,
        }
    }

    /// Refer to a struct inside a vmctx.
    ///
    /// # Safety
    /// `ptr` must be valid and properly aligned for as long as this value is used.
    pub(crate) unsafe fn inside_vmctx(ptr: *mut T) -> Self {
        VmPtr { ptr, owned: false }
    }

    /// Its address.
    pub(crate) fn ptr(&self) -> *mut T {
        self.ptr
    }
}

impl<T> Drop for VmPtr<T> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: owned pointers come from `Box::into_raw` in `owned`.
            drop(unsafe { Box::from_raw(self.ptr) });
        }
    }
}

/// Everything instantiated together, and the state compiled code shares ([`VMStoreContext`]).
/// Not `Send`: wasm of one store runs on one thread.
pub struct Store {
    pub(crate) ctx: VmPtr<VMStoreContext>,
    pub(crate) max_wasm_stack: usize,
    /// Active entries into wasm (nested entries from host functions count too).
    pub(crate) depth: u32,
    // Field order is drop order: instances (which free their vmctx) first.
    pub(crate) instances: Arena<InstanceData>,
    pub(crate) funcs: Arena<FuncData>,
    pub(crate) tables: Arena<TableData>,
    pub(crate) globals: Arena<GlobalData>,
    pub(crate) memories: Arena<MemoryData>,
    pub(crate) tags: Arena<TagData>,
    /// The GC heap every instance of the store allocates in (at a fixed address).
    pub(crate) gc: Box<crate::gc::heap::GcHeap>,
    _not_send: PhantomData<*mut u8>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("instances", &self.instances.items.len())
            .field("memories", &self.memories.items.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        #[cfg(feature = "std")]
        crate::signals::install_handlers();
        let mut store = Store {
            ctx: VmPtr::owned(VMStoreContext {
                stack_limit: 0,
                exit_fp: 0,
                exit_func: 0,
                exit_frame: 0,
                entries: core::ptr::null(),
            }),
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            depth: 0,
            instances: Arena::new(),
            funcs: Arena::new(),
            tables: Arena::new(),
            globals: Arena::new(),
            memories: Arena::new(),
            tags: Arena::new(),
            gc: Box::new(crate::gc::heap::GcHeap::new(
                crate::gc::heap::DEFAULT_GC_HEAP_LIMIT,
                core::ptr::null_mut(),
            )),
            _not_send: PhantomData,
        };
        store.gc.ctx = store.ctx.ptr();
        #[cfg(feature = "std")]
        if let Some(limit) = crate::gc::heap::limit_from_env() {
            store.gc.set_limit(limit);
        }
        store
    }

    /// What the GC heap's collector has done so far (also printed when the store is dropped
    /// if `WELD_GC_STATS=1`).
    pub fn gc_stats(&self) -> crate::gc::heap::GcStats {
        self.gc.stats()
    }

    /// The most bytes the GC heap may hold (default 1 GiB); allocation beyond traps.
    pub fn set_gc_heap_limit(&mut self, bytes: usize) {
        self.gc.set_limit(bytes);
    }

    /// Collect garbage whenever `bytes` have been allocated since the last collection (or
    /// three quarters of what survived it, if more; default 16 MiB). Small values trade
    /// speed for memory (and exercise the collector in tests).
    pub fn set_gc_interval(&mut self, bytes: usize) {
        self.gc.set_interval(bytes);
    }

    /// Whether each collection overwrites the memory it frees, so that a reference the
    /// collector failed to update reads garbage at once instead of stale data (for testing the
    /// collector; slow).
    pub fn set_gc_poison(&mut self, on: bool) {
        self.gc.poison = on;
    }

    /// Collect garbage now; whether a collection ran (it cannot while wasm whose frames the
    /// collector cannot walk is running).
    pub fn collect_garbage(&mut self) -> bool {
        crate::gc::collect(&mut self.gc)
    }

    /// Bytes of native stack wasm may use below the outermost entry (default 512 KiB).
    pub fn set_max_wasm_stack(&mut self, bytes: usize) {
        self.max_wasm_stack = bytes;
    }

    /// The context compiled code of this store shares.
    pub(crate) fn ctx_ptr(&self) -> *mut VMStoreContext {
        self.ctx.ptr()
    }
}
