//! Tables. Elements are machine words: funcref elements point at a `VMFuncRef` (null for
//! `ref.null func`), externref elements are host words (0 for `ref.null extern`). The storage is a
//! `Vec` that may move when the table grows; the [`VMTable`] compiled code reads (inside the
//! defining vmctx, or owned for host-created tables) is updated after every change of address.

use crate::store::{Store, VmPtr};
use alloc::vec::Vec;
use weld_contract::info::{IndexType, RefType, TableType, ValType};
use weld_contract::vmctx::VMTable;

/// Most elements a table may have (an implementation limit, like other engines have).
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table's state.
#[derive(Debug)]
pub(crate) struct TableData {
    vm: VmPtr<VMTable>,
    elements: Vec<usize>,
    elem: ValType,
    declared_max: Option<u64>,
    index: IndexType,
    ref_type: Option<RefType>,
    /// The canonical id of the type a concrete `ref_type` names (from the defining module).
    concrete: Option<u32>,
}

impl TableData {
    /// Create a table of type `ty` with every element `init`; its `VMTable` is `vm` (inside a
    /// vmctx) or a new allocation. `None` if the type is impossible or too large.
    ///
    /// # Safety
    /// `vm`, if given, must stay valid for the life of the returned value.
    pub(crate) unsafe fn new(ty: TableType, init: usize, vm: Option<*mut VMTable>) -> Option<Self> {
        if ty.min > ty.max.unwrap_or(u64::MAX) || ty.min > MAX_TABLE_ELEMENTS {
            return None;
        }
        let mut elements = Vec::new();
        elements
            .try_reserve_exact(usize::try_from(ty.min).ok()?)
            .ok()?;
        elements.resize(usize::try_from(ty.min).ok()?, init);
        let value = VMTable {
            base: elements.as_mut_ptr(),
            length: ty.min,
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
        Some(TableData {
            vm,
            elements,
            elem: ty.elem,
            declared_max: ty.max,
            index: ty.index,
            ref_type: ty.ref_type,
            concrete: None,
        })
    }

    /// This table with the canonical type id its concrete element type names (from the module
    /// that defines it, for import matching).
    pub(crate) fn with_concrete(mut self, f: Option<u32>) -> Self {
        self.concrete = f;
        self
    }

    /// The canonical id of the type a concrete element type names.
    pub(crate) fn concrete(&self) -> Option<u32> {
        self.concrete
    }

    fn sync(&mut self) {
        // SAFETY: `vm` is valid for our whole life.
        unsafe {
            *self.vm.ptr() = VMTable {
                base: self.elements.as_mut_ptr(),
                length: self.elements.len() as u64,
            }
        };
    }

    /// The struct compiled code reads.
    pub(crate) fn vm(&self) -> *mut VMTable {
        self.vm.ptr()
    }

    /// The type as import matching sees it: current size as minimum.
    pub(crate) fn ty(&self) -> TableType {
        TableType {
            elem: self.elem,
            min: self.elements.len() as u64,
            max: self.declared_max,
            index: self.index,
            ref_type: self.ref_type,
        }
    }

    /// The elements.
    pub(crate) fn elements(&self) -> &[usize] {
        &self.elements
    }

    /// The elements, mutably (the length cannot change through this).
    pub(crate) fn elements_mut(&mut self) -> &mut [usize] {
        &mut self.elements
    }

    /// `table.grow`: the old size, or `None` past the maximum or when out of memory.
    pub(crate) fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new > self.declared_max.unwrap_or(u64::MAX) || new > MAX_TABLE_ELEMENTS {
            return None;
        }
        let new = usize::try_from(new).ok()?;
        self.elements
            .try_reserve_exact(new - self.elements.len())
            .ok()?;
        self.elements.resize(new, init);
        self.sync();
        Some(old)
    }
}

/// A handle to a table of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table(pub(crate) usize);

impl Table {
    /// A new table owned by `store` with every element `init` (a `*const VMFuncRef` or host word;
    /// 0 for null). `None` if the type is invalid or too large.
    pub fn new(store: &mut Store, mut ty: TableType, init: usize) -> Option<Table> {
        // The host has no module types: a concrete reference type is widened (see `for_host`).
        ty.ref_type = weld_contract::info::RefType::for_host(ty.ref_type, ty.elem);
        // SAFETY: no vmctx storage is given; the table owns its VMTable.
        let data = unsafe { TableData::new(ty, init, None)? };
        let (h, p) = store.tables.push(data);
        if ty.elem.is_gc_ref() {
            store.gc.roots.tables.push(p);
        }
        Some(Table(h))
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, store: &Store, index: u64) -> Option<usize> {
        let i = usize::try_from(index).ok()?;
        store.tables.get(self.0).elements().get(i).copied()
    }

    /// Set element `index`; false if out of bounds.
    pub fn set(&self, store: &mut Store, index: u64, value: usize) -> bool {
        let Ok(i) = usize::try_from(index) else {
            return false;
        };
        match store.tables.get_mut(self.0).elements_mut().get_mut(i) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Current number of elements.
    pub fn size(&self, store: &Store) -> u64 {
        store.tables.get(self.0).elements().len() as u64
    }

    /// Grow by `delta` elements set to `init`: the old size, or `None`.
    pub fn grow(&self, store: &mut Store, delta: u64, init: usize) -> Option<u64> {
        store.tables.get_mut(self.0).grow(delta, init)
    }

    /// The current type (minimum = current size).
    pub fn ty(&self, store: &Store) -> TableType {
        store.tables.get(self.0).ty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_a_table_moves_its_storage_and_updates_the_vm_struct() {
        let mut store = Store::new();
        let ty = TableType {
            elem: ValType::FuncRef,
            min: 2,
            max: Some(5),
            index: IndexType::I32,
            ref_type: None,
        };
        let t = Table::new(&mut store, ty, 0).expect("table");
        assert_eq!(t.grow(&mut store, 3, 7), Some(2));
        assert_eq!(t.grow(&mut store, 1, 7), None);
        assert_eq!(t.get(&store, 4), Some(7));
        assert_eq!(t.get(&store, 5), None);
        let data = store.tables.get(t.0);
        // SAFETY: the VMTable is valid while the store lives.
        let vm = unsafe { &*data.vm() };
        assert_eq!(vm.length, 5);
        assert_eq!(vm.base as *const usize, data.elements().as_ptr());
    }
}
