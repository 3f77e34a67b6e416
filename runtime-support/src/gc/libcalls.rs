//! The GC libcalls: allocation for compiled code, the subtype check behind casts to types
//! that are not final, and the array built-ins that read data or element segments or move
//! many elements (`array.new_data/new_elem/init_data/init_elem/copy`).
//!
//! In: the caller's vmctx, type indices of its module (mapped to canonical ids through the
//! instance's module) and object addresses compiled code has already null-checked. Out:
//! objects, or a trap with the spec's text raised into the caller.

use super::{array_elem, heap_of, new_array, write_value, ArrayInit};
use crate::instance::InstanceData;
use crate::libcalls::{bounds, instance, raise_from_wasm};
use weld_contract::gc::{ARRAY_LENGTH, OBJECT_HEADER};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// Raise `r`'s trap or return its value.
///
/// # Safety
/// Must be called from a libcall entered from compiled code with `vmctx`, with nothing to drop.
unsafe fn done<T>(vmctx: *mut u8, r: Result<T, TrapCode>) -> T {
    match r {
        Ok(v) => v,
        // SAFETY: the caller is a libcall called by wasm under an active entry.
        Err(code) => unsafe { raise_from_wasm(vmctx, code) },
    }
}

/// The length of the array at `array`.
///
/// # Safety
/// `array` must be the address of a live array object.
unsafe fn array_len(array: *const u8) -> u32 {
    // SAFETY: every array has its length at this offset.
    unsafe { (array.add(ARRAY_LENGTH as usize) as *const u32).read() }
}

impl InstanceData {
    fn canonical(&self, type_index: u32) -> Result<u32, TrapCode> {
        let ids = &self.module.inner.type_ids;
        ids.get(type_index as usize)
            .copied()
            .ok_or(TrapCode::CastFailure)
    }

    /// The bytes of data segment `seg` (empty once dropped).
    fn data_bytes(&self, seg: u32) -> &[u8] {
        let m = &self.module.inner;
        match (
            m.info.datas.get(seg as usize),
            self.data_dropped.get(seg as usize),
        ) {
            (Some(d), Some(false)) => m
                .data
                .get(d.offset as usize..(d.offset + d.len) as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The evaluated items of element segment `seg` (empty once dropped).
    fn elem_items(&self, seg: u32) -> &[usize] {
        self.elems.get(seg as usize).map_or(&[], |v| v.as_slice())
    }
}

/// `gc_alloc`.
///
/// # Safety
/// Called only by compiled code, with its own vmctx.
pub unsafe extern "C" fn gc_alloc(vmctx: *mut u8, header: u64, size: u64) -> *mut u8 {
    // SAFETY: compiled code passes its own vmctx; nothing else uses the heap while wasm runs.
    let r = unsafe { heap_of(vmctx) }.alloc(header, size);
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r) }
}

/// `gc_is_subtype`.
///
/// # Safety
/// Called only by compiled code.
pub unsafe extern "C" fn gc_is_subtype(_vmctx: *mut u8, a: u32, b: u32) -> u32 {
    u32::from(crate::types::is_subtype(a, b))
}

/// `array.new_data`.
///
/// # Safety
/// Called only by compiled code, with its own vmctx.
pub unsafe extern "C" fn array_new_data(
    vmctx: *mut u8,
    type_index: u32,
    seg: u32,
    offset: u32,
    len: u32,
) -> *mut u8 {
    // SAFETY: compiled code passes its own vmctx.
    let (inst, heap) = unsafe { (instance(vmctx), heap_of(vmctx)) };
    let r = (|| {
        let id = inst.canonical(type_index)?;
        let esize = array_elem(id)?.size() as u64;
        let bytes = inst.data_bytes(seg);
        let n = u64::from(len) * esize;
        let (start, _) =
            bounds(u64::from(offset), n, bytes.len()).map_err(|_| TrapCode::MemoryOutOfBounds)?;
        let elems = bytes
            .get(start..start + n as usize)
            .ok_or(TrapCode::MemoryOutOfBounds)?;
        new_array(heap, id, len, ArrayInit::Bytes(elems))
    })();
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r) as *mut u8 }
}

/// `array.new_elem`.
///
/// # Safety
/// Called only by compiled code, with its own vmctx.
pub unsafe extern "C" fn array_new_elem(
    vmctx: *mut u8,
    type_index: u32,
    seg: u32,
    offset: u32,
    len: u32,
) -> *mut u8 {
    let r = (|| {
        // SAFETY: compiled code passes its own vmctx.
        let inst = unsafe { instance(vmctx) };
        let id = inst.canonical(type_index)?;
        if array_elem(id)?.size() != 8 {
            return Err(TrapCode::InvalidValue);
        }
        let (start, _) = bounds(
            u64::from(offset),
            u64::from(len),
            inst.elem_items(seg).len(),
        )
        .map_err(|_| TrapCode::TableOutOfBounds)?;
        // The allocation may collect, which rewrites the segment's words: read them after
        // it, through a fresh borrow of the instance.
        // SAFETY: as above; `inst` is not used past this point.
        let array = new_array(
            unsafe { heap_of(vmctx) },
            id,
            len,
            ArrayInit::Fill(ValRaw::default()),
        )?;
        // SAFETY: as above; nothing else borrows the instance now.
        let items = unsafe { instance(vmctx) }.elem_items(seg);
        let elems = (array as usize + OBJECT_HEADER as usize) as *mut u64;
        for (i, item) in items[start..start + len as usize].iter().enumerate() {
            // SAFETY: the array was just allocated with `len` 8-byte reference elements.
            unsafe { elems.add(i).write(*item as u64) };
        }
        Ok(array)
    })();
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r) as *mut u8 }
}

/// Element `i`'s address in `array` after checking `dst + len` against its length.
///
/// # Safety
/// `array` must be the address of a live array object.
unsafe fn array_range(array: *mut u8, dst: u32, len: u32, esize: u64) -> Result<*mut u8, TrapCode> {
    // SAFETY: the caller guarantees a live array.
    let alen = unsafe { array_len(array) };
    bounds(u64::from(dst), u64::from(len), alen as usize)
        .map_err(|_| TrapCode::ArrayOutOfBounds)?;
    // SAFETY: `dst <= alen`, so the address is inside the object or one past its elements.
    Ok(unsafe { array.add(OBJECT_HEADER as usize + dst as usize * esize as usize) })
}

/// `array.init_data`.
///
/// # Safety
/// Called only by compiled code, with its own vmctx and a non-null array of its type.
pub unsafe extern "C" fn array_init_data(
    vmctx: *mut u8,
    array: *mut u8,
    type_index: u32,
    seg: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    // SAFETY: compiled code passes its own vmctx.
    let inst = unsafe { instance(vmctx) };
    let r = (|| {
        let esize = array_elem(inst.canonical(type_index)?)?.size() as u64;
        // SAFETY: compiled code passes a live, non-null array.
        let at = unsafe { array_range(array, dst, len, esize)? };
        let bytes = inst.data_bytes(seg);
        let n = u64::from(len) * esize;
        let (s, e) =
            bounds(u64::from(src), n, bytes.len()).map_err(|_| TrapCode::MemoryOutOfBounds)?;
        // SAFETY: `n` bytes fit in the array from `at` (checked above).
        unsafe { core::ptr::copy_nonoverlapping(bytes[s..e].as_ptr(), at, n as usize) };
        Ok(())
    })();
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r) }
}

/// `array.init_elem`.
///
/// # Safety
/// Called only by compiled code, with its own vmctx and a non-null array of its type.
pub unsafe extern "C" fn array_init_elem(
    vmctx: *mut u8,
    array: *mut u8,
    type_index: u32,
    seg: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    // SAFETY: compiled code passes its own vmctx.
    let inst = unsafe { instance(vmctx) };
    let r = (|| {
        let _ = inst.canonical(type_index)?;
        // SAFETY: compiled code passes a live, non-null array of references (8 bytes each).
        let at = unsafe { array_range(array, dst, len, 8)? };
        let items = inst.elem_items(seg);
        let (s, e) = bounds(u64::from(src), u64::from(len), items.len())
            .map_err(|_| TrapCode::TableOutOfBounds)?;
        for (i, item) in items[s..e].iter().enumerate() {
            // SAFETY: element `dst + i` is inside the array (checked above).
            unsafe { write_value(at.add(i * 8), 8, ValRaw::i64(*item as i64)) };
        }
        Ok(())
    })();
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r) }
}

/// `array.copy` (the arrays may be the same; ranges may overlap).
///
/// # Safety
/// Called only by compiled code, with non-null arrays whose elements are `esize` bytes.
pub unsafe extern "C" fn array_copy(
    vmctx: *mut u8,
    dst: *mut u8,
    di: u32,
    src: *mut u8,
    si: u32,
    len: u32,
    esize: u32,
) {
    let esize = u64::from(esize);
    // SAFETY: compiled code passes live, non-null arrays of this element size.
    let r = unsafe {
        array_range(dst, di, len, esize).and_then(|d| Ok((d, array_range(src, si, len, esize)?)))
    };
    if let Ok((d, s)) = r {
        // SAFETY: both ranges were checked against their arrays; `copy` allows overlap.
        unsafe { core::ptr::copy(s, d, (u64::from(len) * esize) as usize) };
    }
    // SAFETY: `r` owns nothing.
    unsafe { done(vmctx, r.map(|_| ())) }
}
