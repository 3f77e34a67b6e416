//! What a static executable linked against musl needs from the runtime: `_dl_find_object`, and
//! a `memcmp` that compares a word at a time.
//!
//! In: a program counter, from the unwinder. Out: the loaded object that holds it and where
//! its unwind table (`PT_GNU_EH_FRAME`) is. Why here: weld links musl executables with the
//! system's `libgcc_eh`, which Debian builds against glibc 2.35+ and so finds unwind tables
//! with glibc's `_dl_find_object`; musl has no such function. This one answers from
//! `dl_iterate_phdr`, which musl does have, so unwinding (a Rust panic's backtrace, for
//! instance) works as it does with glibc.
//!
//! musl's `memcmp` compares one byte per iteration. Start-up compares many strings with long
//! shared prefixes (`wasi:filesystem/types@0.2.x#...`): with musl's, `memcmp` was 23% of a
//! hello-world's start-up instructions (callgrind: 172 k of 753 k). The runtime archive comes
//! before `libc.a` on the link line, so these definitions are the ones linked.

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

/// `memcmp`: the sign of the first differing byte (as unsigned), or 0.
///
/// # Safety
/// `a` and `b` must be readable for `n` bytes.
// Under test (on glibc) not exported, like `_dl_find_object`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    let mut i = 0;
    while n - i >= 8 {
        // SAFETY: `i + 8 <= n`, inside both readable ranges; unaligned reads are allowed.
        let (x, y) = unsafe {
            (
                a.add(i).cast::<u64>().read_unaligned(),
                b.add(i).cast::<u64>().read_unaligned(),
            )
        };
        if x != y {
            // Big-endian order makes the first differing byte the most significant one.
            return if u64::from_be(x) < u64::from_be(y) {
                -1
            } else {
                1
            };
        }
        i += 8;
    }
    while i < n {
        // SAFETY: `i < n`, inside both readable ranges.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return c_int::from(x) - c_int::from(y);
        }
        i += 1;
    }
    0
}

/// `bcmp`: zero exactly when the ranges are equal (what Rust's slice equality calls).
///
/// # Safety
/// `a` and `b` must be readable for `n` bytes.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> c_int {
    // SAFETY: the caller's promise, passed on.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::{_dl_find_object, bcmp, memcmp, DlFindObject};
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

    #[test]
    fn memcmp_orders_like_byte_slices_at_every_length_and_offset() {
        let mut a = [0u8; 40];
        for (i, x) in a.iter_mut().enumerate() {
            *x = (i * 7 + 3) as u8;
        }
        for len in 0..a.len() {
            // SAFETY: both ranges are `len` bytes of `a`.
            assert_eq!(unsafe { memcmp(a.as_ptr(), a.as_ptr(), len) }, 0);
            for at in 0..len {
                for delta in [1u8, 0x80, 0xff] {
                    let mut b = a;
                    b[at] = b[at].wrapping_add(delta);
                    let want = a[..len].cmp(&b[..len]);
                    // SAFETY: both ranges are `len` bytes of live arrays.
                    let got = unsafe { memcmp(a.as_ptr(), b.as_ptr(), len) };
                    assert_eq!(got.cmp(&0), want, "len {len}, byte {at}, +{delta}");
                    // SAFETY: as above, the other way round.
                    let back = unsafe { memcmp(b.as_ptr(), a.as_ptr(), len) };
                    assert_eq!(back.cmp(&0), want.reverse());
                    // SAFETY: as above.
                    assert_ne!(unsafe { bcmp(a.as_ptr(), b.as_ptr(), len) }, 0);
                }
            }
        }
    }
}
