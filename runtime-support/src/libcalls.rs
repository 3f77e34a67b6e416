//! The libcall table (`vmctx + VMCTX_LIBCALLS` points at [`LIBCALLS`]) and the operations behind
//! it: `memory.grow/fill/copy/init`, `data.drop`, `table.grow/fill/copy/init`, `elem.drop`, and
//! raising a trap. Each entry is an `extern "C"` shell around a method returning
//! `Result<_, TrapCode>`; the shell raises the trap only after every value with a destructor is
//! gone, because raising unwinds over it without running destructors.
//!
//! Indices come from compiled code; a bad one traps instead of panicking.

use crate::instance::InstanceData;
use crate::memory::MemoryData;
use crate::table::TableData;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{VMException, VMStoreContext, VMCTX_INSTANCE, VMCTX_STORE};

/// `start..end` of `len` items at `offset` in a space of `size`, or an error if it does not fit.
pub(crate) fn bounds(offset: u64, len: u64, size: usize) -> Result<(usize, usize), ()> {
    let end = offset.checked_add(len).ok_or(())?;
    if end > size as u64 {
        return Err(());
    }
    Ok((offset as usize, end as usize))
}

const MEM_OOB: TrapCode = TrapCode::MemoryOutOfBounds;
const TABLE_OOB: TrapCode = TrapCode::TableOutOfBounds;

impl InstanceData {
    fn memory(&self, index: u32) -> Result<*mut MemoryData, TrapCode> {
        self.memories.get(index as usize).copied().ok_or(MEM_OOB)
    }

    fn table(&self, index: u32) -> Result<*mut TableData, TrapCode> {
        self.tables.get(index as usize).copied().ok_or(TABLE_OOB)
    }

    /// `memory.grow`: old size in pages, or `u64::MAX` (-1).
    pub(crate) fn memory_grow(&mut self, mem: u32, delta: u64) -> u64 {
        let Ok(mem) = self.memory(mem) else {
            return u64::MAX;
        };
        // SAFETY: memories of the instance live as long as the store.
        unsafe { (*mem).grow(delta) }.unwrap_or(u64::MAX)
    }

    /// `memory.fill`.
    pub(crate) fn memory_fill(
        &mut self,
        mem: u32,
        dst: u64,
        val: u8,
        len: u64,
    ) -> Result<(), TrapCode> {
        // SAFETY: memories of the instance live as long as the store; wasm is paused in us.
        let bytes = unsafe { (*self.memory(mem)?).bytes_mut() };
        let (start, end) = bounds(dst, len, bytes.len()).map_err(|_| MEM_OOB)?;
        bytes[start..end].fill(val);
        Ok(())
    }

    /// `memory.copy` (the memories may be the same; ranges may overlap).
    pub(crate) fn memory_copy(
        &mut self,
        dst_mem: u32,
        src_mem: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let (d, s) = (self.memory(dst_mem)?, self.memory(src_mem)?);
        // SAFETY: both memories live as long as the store.
        let (dlen, slen) = unsafe { ((*d).len() as usize, (*s).len() as usize) };
        let (dst, _) = bounds(dst, len, dlen).map_err(|_| MEM_OOB)?;
        let (src, _) = bounds(src, len, slen).map_err(|_| MEM_OOB)?;
        // SAFETY: both ranges were checked against their memories' accessible lengths;
        // `ptr::copy` allows overlap.
        unsafe { core::ptr::copy((*s).address(src), (*d).address(dst), len as usize) };
        Ok(())
    }

    /// `memory.init`.
    pub(crate) fn memory_init(
        &mut self,
        mem: u32,
        seg: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let module = &self.module.inner;
        let d = module.info.datas.get(seg as usize).ok_or(MEM_OOB)?;
        let data: &[u8] = match self.data_dropped.get(seg as usize) {
            Some(false) => &module.data[d.offset as usize..d.offset as usize + d.len as usize],
            _ => &[],
        };
        let (s, e) = bounds(u64::from(src), u64::from(len), data.len()).map_err(|_| MEM_OOB)?;
        // SAFETY: memories of the instance live as long as the store; wasm is paused in us.
        let bytes = unsafe { (*self.memory(mem)?).bytes_mut() };
        let (start, end) = bounds(dst, u64::from(len), bytes.len()).map_err(|_| MEM_OOB)?;
        bytes[start..end].copy_from_slice(&data[s..e]);
        Ok(())
    }

    /// `data.drop`.
    pub(crate) fn data_drop(&mut self, seg: u32) {
        if let Some(d) = self.data_dropped.get_mut(seg as usize) {
            *d = true;
        }
    }

    /// `table.grow`: old size, or `u32::MAX` (-1).
    pub(crate) fn table_grow(&mut self, table: u32, delta: u64, init: usize) -> u64 {
        let Ok(t) = self.table(table) else {
            return u64::MAX;
        };
        // SAFETY: tables of the instance live as long as the store.
        unsafe { (*t).grow(delta, init) }.unwrap_or(u64::MAX)
    }

    /// `table.fill`.
    pub(crate) fn table_fill(
        &mut self,
        table: u32,
        dst: u64,
        val: usize,
        len: u64,
    ) -> Result<(), TrapCode> {
        // SAFETY: tables of the instance live as long as the store.
        let elems = unsafe { (*self.table(table)?).elements_mut() };
        let (s, e) = bounds(dst, len, elems.len()).map_err(|_| TABLE_OOB)?;
        elems[s..e].fill(val);
        Ok(())
    }

    /// `table.copy` (the tables may be the same; ranges may overlap).
    pub(crate) fn table_copy(
        &mut self,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let (d, s) = (self.table(dst_table)?, self.table(src_table)?);
        // SAFETY: both tables live as long as the store.
        let (dlen, slen) = unsafe { ((*d).elements().len(), (*s).elements().len()) };
        let (dst, _) = bounds(dst, len, dlen).map_err(|_| TABLE_OOB)?;
        let (src, _) = bounds(src, len, slen).map_err(|_| TABLE_OOB)?;
        // SAFETY: ranges checked above; `ptr::copy` allows overlap (same table).
        unsafe {
            let from = (*s).elements().as_ptr().add(src);
            let to = (*d).elements_mut().as_mut_ptr().add(dst);
            core::ptr::copy(from, to, len as usize);
        }
        Ok(())
    }

    /// `table.init`.
    pub(crate) fn table_init(
        &mut self,
        table: u32,
        seg: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let items: &[usize] = self.elems.get(seg as usize).ok_or(TABLE_OOB)?;
        let len = u64::from(len);
        let (s, e) = bounds(u64::from(src), len, items.len()).map_err(|_| TABLE_OOB)?;
        // SAFETY: tables of the instance live as long as the store and are not `self.elems`.
        let elems = unsafe { (*self.table(table)?).elements_mut() };
        let (start, end) = bounds(dst, len, elems.len()).map_err(|_| TABLE_OOB)?;
        elems[start..end].copy_from_slice(&items[s..e]);
        Ok(())
    }

    /// `elem.drop`.
    pub(crate) fn elem_drop(&mut self, seg: u32) {
        if let Some(items) = self.elems.get_mut(seg as usize) {
            *items = alloc::vec::Vec::new();
        }
    }
}

/// The instance of a vmctx.
///
/// # Safety
/// `vmctx` must be the vmctx of a live instance, and no other reference to its `InstanceData`
/// may be in use.
pub(crate) unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    // SAFETY: instantiation stores the instance's address at this offset.
    unsafe { &mut **(vmctx.add(VMCTX_INSTANCE as usize) as *const *mut InstanceData) }
}

/// Raise `r`'s trap, if any. Called by the shells with nothing left to drop.
///
/// # Safety
/// Must be called from a libcall entered from compiled code with `vmctx`.
unsafe fn check(vmctx: *mut u8, r: Result<(), TrapCode>) {
    if let Err(code) = r {
        // SAFETY: the caller is a libcall shell called by wasm under an active entry.
        unsafe { raise_from_wasm(vmctx, code) }
    }
}

/// Raise `code` for the compiled code that called a libcall with `vmctx`: the backtrace starts
/// at the function and frame that code left in the store context before the call.
///
/// # Safety
/// Must be called from a libcall entered from compiled code with `vmctx`, with nothing to drop.
pub(crate) unsafe fn raise_from_wasm(vmctx: *mut u8, code: TrapCode) -> ! {
    // SAFETY: compiled code passes its own vmctx, whose store pointer and instance are live; it
    // wrote `exit_fp`/`exit_func` just before calling the libcall.
    unsafe {
        let store = *(vmctx.add(VMCTX_STORE as usize) as *const *const VMStoreContext);
        let (fp, func) = ((*store).exit_fp, (*store).exit_func);
        let module = &instance(vmctx).module.inner;
        let pc = func
            .checked_sub(module.info.imported_funcs)
            .and_then(|i| module.func_ranges.get(i as usize))
            .map(|r| module.code + r.start as usize);
        crate::entry::raise_at(code, pc, fp)
    }
}

macro_rules! shell {
    ($(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? => $method:ident) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// Called only by compiled code, with its own vmctx.
        pub unsafe extern "C" fn $name(vmctx: *mut u8, $($arg: $ty),*) $(-> $ret)? {
            // SAFETY: compiled code passes its own vmctx; the instance is not otherwise borrowed
            // while wasm runs.
            let inst = unsafe { instance(vmctx) };
            #[allow(clippy::unused_unit)]
            {
                shell!(@ret vmctx, inst.$method($($arg),*) $(, $ret)?)
            }
        }
    };
    (@ret $vmctx:ident, $e:expr, $ret:ty) => { $e };
    (@ret $vmctx:ident, $e:expr) => {
        // SAFETY: the result owns nothing; see `check`.
        unsafe { check($vmctx, $e) }
    };
}

shell!(/// `memory.grow`.
    memory_grow(mem: u32, delta: u64) -> u64 => memory_grow);
shell!(/// `memory.fill`.
    memory_fill(mem: u32, dst: u64, val: u32, len: u64) => memory_fill_u32);
shell!(/// `memory.copy`.
    memory_copy(dst_mem: u32, src_mem: u32, dst: u64, src: u64, len: u64) => memory_copy);
shell!(/// `memory.init`.
    memory_init(mem: u32, seg: u32, dst: u64, src: u32, len: u32) => memory_init);
shell!(/// `table.grow`.
    table_grow(table: u32, delta: u64, init: usize) -> u64 => table_grow);
shell!(/// `table.fill`.
    table_fill(table: u32, dst: u64, val: usize, len: u64) => table_fill);
shell!(/// `table.copy`.
    table_copy(dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64) => table_copy);
shell!(/// `table.init`.
    table_init(table: u32, seg: u32, dst: u64, src: u32, len: u32) => table_init);
shell!(/// `data.drop`.
    data_drop(seg: u32) -> () => data_drop);
shell!(/// `elem.drop`.
    elem_drop(seg: u32) -> () => elem_drop);

impl InstanceData {
    fn memory_fill_u32(&mut self, mem: u32, dst: u64, val: u32, len: u64) -> Result<(), TrapCode> {
        self.memory_fill(mem, dst, val as u8, len)
    }
}

/// Raise a trap with a [`TrapCode`] byte (an unknown byte raises `InvalidValue`).
///
/// # Safety
/// Called only by compiled code under an active entry.
pub unsafe extern "C" fn trap(vmctx: *mut u8, code: u32) {
    let code = u8::try_from(code)
        .ok()
        .and_then(TrapCode::from_u8)
        .unwrap_or(TrapCode::InvalidValue);
    // SAFETY: called by wasm under an active entry; this frame owns nothing.
    unsafe { raise_from_wasm(vmctx, code) }
}

/// The libcall table, in `Libcall::ALL` order (checked by a test).
#[repr(C)]
#[derive(Debug)]
pub struct LibcallTable {
    /// `memory.grow`
    pub memory_grow: unsafe extern "C" fn(*mut u8, u32, u64) -> u64,
    /// `memory.fill`
    pub memory_fill: unsafe extern "C" fn(*mut u8, u32, u64, u32, u64),
    /// `memory.copy`
    pub memory_copy: unsafe extern "C" fn(*mut u8, u32, u32, u64, u64, u64),
    /// `memory.init`
    pub memory_init: unsafe extern "C" fn(*mut u8, u32, u32, u64, u32, u32),
    /// `data.drop`
    pub data_drop: unsafe extern "C" fn(*mut u8, u32),
    /// `table.grow`
    pub table_grow: unsafe extern "C" fn(*mut u8, u32, u64, usize) -> u64,
    /// `table.fill`
    pub table_fill: unsafe extern "C" fn(*mut u8, u32, u64, usize, u64),
    /// `table.copy`
    pub table_copy: unsafe extern "C" fn(*mut u8, u32, u32, u64, u64, u64),
    /// `table.init`
    pub table_init: unsafe extern "C" fn(*mut u8, u32, u32, u64, u32, u32),
    /// `elem.drop`
    pub elem_drop: unsafe extern "C" fn(*mut u8, u32),
    /// `trap`
    pub trap: unsafe extern "C" fn(*mut u8, u32),
    /// `exn_new`
    pub exn_new: unsafe extern "C" fn(*mut u8, u32) -> *mut VMException,
    /// `throw` (an assembly shim: see [`crate::arch::weld_rt_throw`])
    pub throw: unsafe extern "C" fn(*mut u8, *mut VMException),
    /// `exn_release`
    pub exn_release: unsafe extern "C" fn(*mut u8, *mut VMException),
    /// `gc_alloc`
    pub gc_alloc: unsafe extern "C" fn(*mut u8, u64, u64) -> *mut u8,
    /// `gc_is_subtype`
    pub gc_is_subtype: unsafe extern "C" fn(*mut u8, u32, u32) -> u32,
    /// `array_new_data`
    pub array_new_data: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32) -> *mut u8,
    /// `array_new_elem`
    pub array_new_elem: unsafe extern "C" fn(*mut u8, u32, u32, u32, u32) -> *mut u8,
    /// `array_init_data`
    pub array_init_data: unsafe extern "C" fn(*mut u8, *mut u8, u32, u32, u32, u32, u32),
    /// `array_init_elem`
    pub array_init_elem: unsafe extern "C" fn(*mut u8, *mut u8, u32, u32, u32, u32, u32),
    /// `array_copy`
    pub array_copy: unsafe extern "C" fn(*mut u8, *mut u8, u32, *mut u8, u32, u32, u32),
}

/// The table every vmctx points at.
pub static LIBCALLS: LibcallTable = LibcallTable {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    trap,
    exn_new: crate::exception::exn_new,
    throw: crate::arch::weld_rt_throw,
    exn_release: crate::exception::exn_release,
    gc_alloc: crate::gc::libcalls::gc_alloc,
    gc_is_subtype: crate::gc::libcalls::gc_is_subtype,
    array_new_data: crate::gc::libcalls::array_new_data,
    array_new_elem: crate::gc::libcalls::array_new_elem,
    array_init_data: crate::gc::libcalls::array_init_data,
    array_init_elem: crate::gc::libcalls::array_init_elem,
    array_copy: crate::gc::libcalls::array_copy,
};
