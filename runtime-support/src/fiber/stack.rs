//! The memory a fiber runs on. Hosted: an `mmap`ed block whose lowest page is `PROT_NONE`, so
//! running off the end faults instead of overwriting whatever lies below (the alternate signal
//! stack then reports it). Without `std`: a heap block (no guard page exists; compiled code
//! still stops at the store's stack limit, which lies well inside the block).
//!
//! In: a size in bytes. Out: the block's usable range, `[low, top)`, `top` 16-byte aligned.

/// One fiber stack.
#[derive(Debug)]
pub(crate) struct Stack {
    base: *mut u8,
    size: usize,
    /// Bytes at `base` that may not be touched (the guard page).
    guard: usize,
}

#[cfg(feature = "std")]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

impl Stack {
    /// Lowest usable address.
    pub(crate) fn low(&self) -> usize {
        self.base as usize + self.guard
    }

    /// One past the highest usable address, 16-byte aligned.
    pub(crate) fn top(&self) -> usize {
        (self.base as usize + self.size) & !15
    }
}

#[cfg(feature = "std")]
impl Stack {
    /// A stack with at least `size` usable bytes above a guard page; `None` when the address
    /// space is exhausted.
    pub(crate) fn new(size: usize) -> Option<Stack> {
        let page = page_size();
        let usable = size.checked_add(page - 1)? & !(page - 1);
        let total = usable.checked_add(page)?;
        // SAFETY: an anonymous private mapping with no address hint cannot alias anything.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: the first page of our own mapping.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            // SAFETY: our own mapping, not yet shared.
            unsafe { libc::munmap(base, total) };
            return None;
        }
        Some(Stack {
            base: base as *mut u8,
            size: total,
            guard: page,
        })
    }
}

#[cfg(feature = "std")]
impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: we own the mapping; the fiber running on it is gone (or was abandoned
        // suspended: its frames hold nothing that needs dropping by contract of `Fiber`).
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

#[cfg(not(feature = "std"))]
impl Stack {
    fn layout(size: usize) -> Option<core::alloc::Layout> {
        core::alloc::Layout::from_size_align(size.max(16), 16).ok()
    }

    /// A heap block of `size` bytes; `None` when the allocator has none.
    pub(crate) fn new(size: usize) -> Option<Stack> {
        let layout = Self::layout(size)?;
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc::alloc::alloc(layout) };
        if base.is_null() {
            return None;
        }
        Some(Stack {
            base,
            size: layout.size(),
            guard: 0,
        })
    }
}

#[cfg(not(feature = "std"))]
impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(layout) = Self::layout(self.size) {
            // SAFETY: allocated in `new` with this very layout.
            unsafe { alloc::alloc::dealloc(self.base, layout) };
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn a_stack_has_its_usable_bytes_above_an_inaccessible_guard_page() {
        let s = Stack::new(100_000).expect("stack");
        assert!(s.top() - s.low() >= 100_000);
        assert_eq!(s.top() % 16, 0);
        assert!(crate::sys::is_accessible(
            s.low() as *mut u8,
            s.top() - s.low()
        ));
        assert!(!crate::sys::is_accessible(s.base, 1));
    }
}
