//! What a static executable linked against musl needs from the runtime: `_dl_find_object`.
//!
//! In: a program counter, from the unwinder. Out: the loaded object that holds it and where
//! its unwind table (`PT_GNU_EH_FRAME`) is. Why here: weld links musl executables with the
//! system's `libgcc_eh`, which Debian builds against glibc 2.35+ and so finds unwind tables
//! with glibc's `_dl_find_object`; musl has no such function. This one answers from
//! `dl_iterate_phdr`, which musl does have, so unwinding (a Rust panic's backtrace, for
//! instance) works as it does with glibc.

use core::ffi::{c_int, c_void};

/// glibc's `struct dl_find_object` on 64-bit targets (no `dlfo_eh_dbase`, no `dlfo_eh_count`).
#[repr(C)]
pub struct DlFindObject {
    flags: u64,
    map_start: *mut c_void,
    map_end: *mut c_void,
    link_map: *mut c_void,
    eh_frame: *mut c_void,
    reserved: [u64; 7],
}

/// What the search looks for and what it found.
struct Search {
    pc: usize,
    found: Option<(usize, usize, usize)>,
}

unsafe extern "C" fn visit(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `dl_iterate_phdr` passes a valid `info` for this call and our `Search` as `data`.
    let (info, search) = unsafe { (&*info, &mut *data.cast::<Search>()) };
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: `dlpi_phdr` points at `dlpi_phnum` program headers of a loaded object.
    let phdrs =
        unsafe { core::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let base = info.dlpi_addr as usize;
    let (mut start, mut end, mut holds, mut eh) = (usize::MAX, 0, false, 0);
    for p in phdrs {
        let lo = base.wrapping_add(p.p_vaddr as usize);
        match p.p_type {
            libc::PT_LOAD => {
                let hi = lo.wrapping_add(p.p_memsz as usize);
                start = start.min(lo);
                end = end.max(hi);
                holds |= (lo..hi).contains(&search.pc);
            }
            libc::PT_GNU_EH_FRAME => eh = lo,
            _ => {}
        }
    }
    if !holds {
        return 0;
    }
    search.found = Some((start, end, eh));
    1
}

/// glibc's `_dl_find_object`: 0 and `*result` filled when `pc` is in a loaded object, else -1.
///
/// # Safety
/// `result` must point at writable memory for a `struct dl_find_object`.
// Under test (on glibc) not exported: glibc's own would be shadowed.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn _dl_find_object(pc: *mut c_void, result: *mut DlFindObject) -> c_int {
    let mut search = Search {
        pc: pc as usize,
        found: None,
    };
    // SAFETY: `visit` matches the callback type and only uses `search` during the call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw mut search).cast()) };
    let Some((start, end, eh)) = search.found else {
        return -1;
    };
    // SAFETY: the caller provides a writable `dl_find_object`.
    unsafe {
        result.write(DlFindObject {
            flags: 0,
            map_start: start as *mut c_void,
            map_end: end as *mut c_void,
            link_map: core::ptr::null_mut(),
            eh_frame: eh as *mut c_void,
            reserved: [0; 7],
        });
    }
    0
}

#[cfg(test)]
mod tests {
    use super::{_dl_find_object, DlFindObject};
    use core::ffi::c_void;

    fn empty() -> DlFindObject {
        DlFindObject {
            flags: 1,
            map_start: core::ptr::null_mut(),
            map_end: core::ptr::null_mut(),
            link_map: core::ptr::null_mut(),
            eh_frame: core::ptr::null_mut(),
            reserved: [0; 7],
        }
    }

    #[test]
    fn code_of_this_program_is_found_with_its_unwind_table() {
        let pc = code_of_this_program_is_found_with_its_unwind_table as fn() as usize;
        let mut r = empty();
        // SAFETY: `r` is a writable dl_find_object.
        assert_eq!(unsafe { _dl_find_object(pc as *mut c_void, &mut r) }, 0);
        let (start, end) = (r.map_start as usize, r.map_end as usize);
        assert!(start <= pc && pc < end, "{start:#x} {pc:#x} {end:#x}");
        let eh = r.eh_frame as usize;
        assert!(
            start <= eh && eh < end,
            "eh_frame_hdr {eh:#x} outside the object"
        );
        assert_eq!(r.flags, 0);
    }

    #[test]
    fn an_address_in_no_object_is_not_found() {
        let mut r = empty();
        // SAFETY: `r` is a writable dl_find_object.
        assert_eq!(unsafe { _dl_find_object(16 as *mut c_void, &mut r) }, -1);
    }
}
