//! Where a descriptor from outside may point: the memory its shared object mapped.
//!
//! In: while a plugin's descriptors are loaded ([`Scope`]), the address ranges of the plugin's
//! loadable segments, read from the dynamic loader (`dl_iterate_phdr`). Out: [`inside`], which
//! every pointer and length read from a descriptor goes through before it is followed
//! (`module::slice`, `module::reference`, the code pointers). A damaged plugin whose descriptor
//! points elsewhere is refused instead of read (found by the hostile-input campaign: flipped
//! relocation addends made the loader follow pointers into unmapped memory). Outside a scope every
//! address passes: a descriptor linked into the program is weld's own, as its code is.

use alloc::vec::Vec;
use core::cell::RefCell;

/// One mapped range: start, end, readable, executable.
type Range = (usize, usize, bool, bool);

std::thread_local! {
    static IMAGE: RefCell<Option<Vec<Range>>> = const { RefCell::new(None) };
}

/// Restricts [`inside`] to one shared object's segments until dropped.
#[derive(Debug)]
pub(crate) struct Scope(());

impl Scope {
    /// The segments of the loaded object that holds `addr`; `None` when no loaded object does.
    pub(crate) fn of_object_at(addr: usize) -> Option<Scope> {
        let ranges = segments_holding(addr)?;
        IMAGE.with(|i| *i.borrow_mut() = Some(ranges));
        Some(Scope(()))
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        IMAGE.with(|i| *i.borrow_mut() = None);
    }
}

/// Whether `len` bytes at `addr` lie in one readable mapped range of the object being loaded
/// (in an executable one, if `exec`); always true outside a [`Scope`]. A segment mapped without
/// read permission is never inside: reading it would fault (found by the hostile-input
/// campaign, case 1311374: a segment whose flags lost `PF_R`).
pub(crate) fn inside(addr: usize, len: usize, exec: bool) -> bool {
    IMAGE.with(|i| match &*i.borrow() {
        None => true,
        Some(ranges) => addr.checked_add(len).is_some_and(|end| {
            ranges
                .iter()
                .any(|&(s, e, r, x)| r && s <= addr && end <= e && (x || !exec))
        }),
    })
}

/// The loadable segments of the loaded object one of whose segments holds `addr`.
fn segments_holding(addr: usize) -> Option<Vec<Range>> {
    struct Search {
        addr: usize,
        found: Option<Vec<Range>>,
    }
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `Search` passed to `dl_iterate_phdr` below, and `info` the
        // loader's description of one object, valid during this call; its `dlpi_phdr` points at
        // `dlpi_phnum` program headers.
        unsafe {
            let search = &mut *(data as *mut Search);
            let info = &*info;
            let phdrs = core::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
            let base = info.dlpi_addr as usize;
            let ranges: Vec<Range> = phdrs
                .iter()
                .filter(|p| p.p_type == libc::PT_LOAD)
                .map(|p| {
                    let start = base.wrapping_add(p.p_vaddr as usize);
                    let end = start.wrapping_add(p.p_memsz as usize);
                    (
                        start,
                        end,
                        p.p_flags & libc::PF_R != 0,
                        p.p_flags & libc::PF_X != 0,
                    )
                })
                .collect();
            if ranges
                .iter()
                .any(|&(s, e, _, _)| s <= search.addr && search.addr < e)
            {
                search.found = Some(ranges);
                return 1;
            }
            0
        }
    }
    let mut search = Search { addr, found: None };
    // SAFETY: `visit` matches the callback type and only reads what the loader hands it;
    // `search` outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&mut search as *mut Search).cast()) };
    search.found
}
