//! Globals: 16 bytes of storage ([`VMGlobal`]) inside the defining vmctx, or owned for globals the
//! host creates; importers point at it.

use crate::store::{Store, VmPtr};
use weld_contract::info::GlobalType;
use weld_contract::vmctx::{VMGlobal, ValRaw};

/// A global's state.
#[derive(Debug)]
pub(crate) struct GlobalData {
    vm: VmPtr<VMGlobal>,
    ty: GlobalType,
    /// The canonical id of the type a concrete reference type names (from the defining module).
    concrete: Option<u32>,
}

impl GlobalData {
    /// A global of type `ty` holding `value`, stored at `vm` (inside a vmctx) or a new allocation.
    ///
    /// # Safety
    /// `vm`, if given, must stay valid for the life of the returned value.
    pub(crate) unsafe fn new(ty: GlobalType, value: ValRaw, vm: Option<*mut VMGlobal>) -> Self {
        let value = VMGlobal { bytes: value.bytes };
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
        GlobalData {
            vm,
            ty,
            concrete: None,
        }
    }

    /// This global with the canonical type id its concrete reference type names (from the module
    /// that defines it, for import matching).
    pub(crate) fn with_concrete(mut self, f: Option<u32>) -> Self {
        self.concrete = f;
        self
    }

    /// The canonical id of the type a concrete reference type names.
    pub(crate) fn concrete(&self) -> Option<u32> {
        self.concrete
    }

    /// The storage compiled code reads.
    pub(crate) fn vm(&self) -> *mut VMGlobal {
        self.vm.ptr()
    }

    /// The type.
    pub(crate) fn ty(&self) -> GlobalType {
        self.ty
    }

    /// The current value.
    pub(crate) fn get(&self) -> ValRaw {
        // SAFETY: `vm` is valid for our whole life.
        ValRaw {
            bytes: unsafe { (*self.vm.ptr()).bytes },
        }
    }
}

/// A handle to a global of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global(pub(crate) usize);

impl Global {
    /// A new global owned by `store`.
    pub fn new(store: &mut Store, mut ty: GlobalType, value: ValRaw) -> Global {
        // The host has no module types: a concrete reference type is widened (see `for_host`).
        ty.ref_type = weld_contract::info::RefType::for_host(ty.ref_type, ty.ty);
        // SAFETY: no vmctx storage is given; the global owns its VMGlobal.
        let data = unsafe { GlobalData::new(ty, value, None) };
        if ty.ty.is_gc_ref() {
            store.gc.roots.globals.push(data.vm() as *mut u64);
        }
        Global(store.globals.push(data).0)
    }

    /// A global of `store` whose storage is `vm`, owned elsewhere (a component instance's
    /// flags), keeping the value it holds.
    ///
    /// # Safety
    /// `vm` must point at 16 aligned, writable bytes that stay valid for the store's life.
    pub(crate) unsafe fn at(store: &mut Store, ty: GlobalType, vm: *mut VMGlobal) -> Global {
        // SAFETY: `vm` is valid and aligned (caller); reading its bytes first keeps its value.
        let data = unsafe {
            let value = ValRaw { bytes: (*vm).bytes };
            GlobalData::new(ty, value, Some(vm))
        };
        Global(store.globals.push(data).0)
    }

    /// The current value.
    pub fn get(&self, store: &Store) -> ValRaw {
        store.globals.get(self.0).get()
    }

    /// Set the value (of a mutable global); false if the global is immutable.
    pub fn set(&self, store: &mut Store, value: ValRaw) -> bool {
        let data = store.globals.get_mut(self.0);
        if !data.ty.mutable {
            return false;
        }
        // SAFETY: `vm` is valid while the store lives; no wasm runs during `&mut Store`.
        unsafe { (*data.vm()).bytes = value.bytes };
        true
    }

    /// The type.
    pub fn ty(&self, store: &Store) -> GlobalType {
        store.globals.get(self.0).ty()
    }
}
