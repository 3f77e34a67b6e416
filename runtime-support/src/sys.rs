//! Address-space reservations for linear memories. Hosted: `mmap` a `PROT_NONE` region of the
//! full reserved size and `mprotect` the accessible prefix read-write as the memory grows, so
//! everything past the length faults. Without `std`: one zeroed heap block of the largest size the
//! memory may reach (no guard pages exist, so only explicit-bounds code can run there).
//!
//! Either way the base never moves.

/// A reserved region whose first `accessible` bytes can be read and written.
#[derive(Debug)]
pub(crate) struct Reservation {
    base: *mut u8,
    reserved: usize,
    accessible: usize,
}

#[cfg(feature = "std")]
impl Reservation {
    /// Reserve `reserve` bytes (at least one page), the first `initial` accessible. `_max` (the
    /// most bytes the memory may grow to) only matters without `std`.
    pub(crate) fn new(reserve: usize, initial: usize, _max: usize) -> Option<Reservation> {
        let reserve = reserve.max(initial).max(1);
        // SAFETY: an anonymous private mapping with no address hint cannot alias anything.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                reserve,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let mut r = Reservation {
            base: base as *mut u8,
            reserved: reserve,
            accessible: 0,
        };
        if !r.make_accessible(initial) {
            return None;
        }
        Some(r)
    }

    /// Make the first `len` bytes accessible (`len` never shrinks); false if impossible.
    pub(crate) fn make_accessible(&mut self, len: usize) -> bool {
        if len > self.reserved {
            return false;
        }
        if len <= self.accessible {
            return true;
        }
        // SAFETY: the range lies inside our own mapping.
        let ok = unsafe {
            libc::mprotect(
                self.base as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
            ) == 0
        };
        if ok {
            self.accessible = len;
        }
        ok
    }
}

#[cfg(feature = "std")]
impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: we own the mapping; nobody uses it once its owner is dropped.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.reserved) };
    }
}

#[cfg(not(feature = "std"))]
impl Reservation {
    fn layout(size: usize) -> Option<core::alloc::Layout> {
        core::alloc::Layout::from_size_align(size.max(1), 16).ok()
    }

    /// Allocate `max` zeroed bytes (a heap block cannot grow in place), the first `initial`
    /// accessible. `reserve` is ignored: there is no address space to reserve.
    pub(crate) fn new(_reserve: usize, initial: usize, max: usize) -> Option<Reservation> {
        let size = max.max(initial);
        let layout = Self::layout(size)?;
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if base.is_null() {
            return None;
        }
        Some(Reservation {
            base,
            reserved: size,
            accessible: initial,
        })
    }

    /// Make the first `len` bytes accessible; false if beyond the block.
    pub(crate) fn make_accessible(&mut self, len: usize) -> bool {
        if len > self.reserved {
            return false;
        }
        self.accessible = self.accessible.max(len);
        true
    }
}

#[cfg(not(feature = "std"))]
impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(layout) = Self::layout(self.reserved) {
            // SAFETY: allocated in `new` with this very layout.
            unsafe { alloc::alloc::dealloc(self.base, layout) };
        }
    }
}

impl Reservation {
    /// First byte.
    pub(crate) fn base(&self) -> *mut u8 {
        self.base
    }
}

#[cfg(test)]
impl Reservation {
    /// Bytes reserved.
    pub(crate) fn reserved(&self) -> usize {
        self.reserved
    }
}

/// Whether `len` bytes at `ptr` are mapped read-write, according to `/proc/self/maps`.
#[cfg(all(test, feature = "std"))]
pub(crate) fn is_accessible(ptr: *mut u8, len: usize) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let start = ptr as usize;
    let end = start + len;
    maps.lines().any(|line| {
        let mut parts = line.split_whitespace();
        let (Some(range), Some(perms)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Some((a, b)) = range.split_once('-') else {
            return false;
        };
        let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else {
            return false;
        };
        a <= start && end <= b && perms.starts_with("rw")
    })
}
