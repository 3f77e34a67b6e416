//! Calls from a component out to C host functions through compiled host calls.
//!
//! In: the C functions a host offers for imports ([`HostImports::insert_c`]), and the
//! `Lowering::host_call` adapters the compiler generated. Out: each such import's lowering
//! bound to its adapter, which lowers the guest's arguments straight into C values in the
//! instance's scratch arena ([`Scratch`]), calls the host function through
//! `CoreDef::HostCall`, and lifts the C result straight into the guest, freeing the host's
//! `malloc`ed parts as it copies them. The runtime only binds and enters; no [`super::Val`] is
//! made. An import whose lowering has no adapter (resources, another string encoding than
//! UTF-8) keeps the generic path through the `Val` closure offered with it.

use super::{link, raise_on_err, trap, HostFunc, HostImports, Inner};
use crate::func::Func;
use crate::instance::{Extern, InstantiateError};
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::ffi::c_void;
use weld_contract::component::CoreDef;
use weld_contract::info::{FuncType, ValType};
use weld_contract::trap::TrapCode;

/// `weld_component_adapter`: calls the typed C host function `func` with `ctx`, one pointer
/// per argument (each to a C value) and the result's address; non-zero is a trap code.
pub type CAdapter = unsafe extern "C" fn(
    func: *const c_void,
    ctx: *mut c_void,
    args: *const *const c_void,
    ret: *mut c_void,
) -> u32;

/// A C host function as the generated header registers it.
#[derive(Clone, Copy, Debug)]
pub struct CHostFunc {
    /// The header's adapter for the import's type.
    pub adapter: CAdapter,
    /// The host's typed function.
    pub func: *const c_void,
    /// Passed to every call.
    pub ctx: *mut c_void,
}

impl HostImports {
    /// Offer the C host function `c` as import `name`, with `f` serving the same import
    /// through [`super::Val`]s where no compiled host call covers it.
    ///
    /// # Safety
    /// `c.adapter` must call `c.func` with C values of the import's type in the layout of the
    /// component's generated header, and both must stay callable with `c.ctx` for as long as
    /// any instance made with these imports lives.
    pub unsafe fn insert_c(&mut self, name: &str, c: CHostFunc, f: Box<HostFunc>) {
        let key = super::normalize(name).into_owned();
        self.insert_normalized(key.clone(), f);
        self.c_funcs.insert(key, c);
    }

    /// Keep `what` alive as long as these imports and every instance made with them.
    #[cfg(feature = "std")]
    pub(crate) fn keep_alive(&mut self, what: alloc::rc::Rc<dyn core::any::Any>) {
        self.keep.push(what);
    }
}

/// Bytes per chunk of the scratch arena (a larger allocation gets a chunk of its own size).
const CHUNK: usize = 64 * 1024;

/// Largest scratch allocation: positions are kept in 32 bits.
const MAX_ALLOC: usize = u32::MAX as usize / 2;

/// The scratch arena of one component instance: the C arguments of host calls in progress,
/// released when each call returns (stack order: a host function may call back in), and after
/// a trap by the entry that caught it. Chunks are raw blocks, so that no borrow of a chunk
/// overlaps the pointers handed out into it.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// Start and size in bytes of each chunk (8-aligned, from the global allocator).
    chunks: Vec<(core::ptr::NonNull<u8>, usize)>,
    /// The chunk allocations go to, and the bytes used in it.
    current: usize,
    used: usize,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for (p, size) in self.chunks.drain(..) {
            if let Ok(layout) = core::alloc::Layout::from_size_align(size, 8) {
                // SAFETY: allocated in `grow` with this layout, freed once.
                unsafe { alloc::alloc::dealloc(p.as_ptr(), layout) };
            }
        }
    }
}

impl Scratch {
    /// The position to release back to: chunk index and bytes used, as one word.
    pub(super) fn mark(&self) -> u64 {
        ((self.current as u64) << 32) | self.used as u64
    }

    /// Give back everything allocated since `mark`.
    pub(super) fn release(&mut self, mark: u64) {
        let (chunk, used) = ((mark >> 32) as usize, (mark & 0xffff_ffff) as usize);
        if chunk < self.chunks.len() || (chunk == 0 && used == 0) {
            self.current = chunk;
            self.used = used;
        }
    }

    /// A new chunk of at least `size` bytes at index `self.current`, replacing a smaller one
    /// there (chunks past the current one hold nothing live). `None` when out of memory.
    fn grow(&mut self, size: usize) -> Option<()> {
        let bytes = size.max(CHUNK).next_multiple_of(8);
        let layout = core::alloc::Layout::from_size_align(bytes, 8).ok()?;
        // SAFETY: the layout has a non-zero size.
        let p = core::ptr::NonNull::new(unsafe { alloc::alloc::alloc(layout) })?;
        match self.chunks.get_mut(self.current) {
            Some(old) => {
                let (q, n) = core::mem::replace(old, (p, bytes));
                if let Ok(l) = core::alloc::Layout::from_size_align(n, 8) {
                    // SAFETY: allocated here with this layout; nothing live points into it.
                    unsafe { alloc::alloc::dealloc(q.as_ptr(), l) };
                }
            }
            None => self.chunks.push((p, bytes)),
        }
        Some(())
    }

    /// `size` zeroed bytes aligned to `align` (at most 8); `None` for a larger alignment, a
    /// size past [`MAX_ALLOC`], or when out of memory.
    pub(super) fn alloc(&mut self, size: usize, align: usize) -> Option<*mut u8> {
        if align > 8 || !align.is_power_of_two() || size > MAX_ALLOC {
            return None;
        }
        if self.chunks.is_empty() {
            self.current = 0;
            self.used = 0;
            self.grow(size)?;
        }
        loop {
            let (base, cap) = *self.chunks.get(self.current)?;
            let start = self.used.next_multiple_of(align);
            let end = start + size;
            if end <= cap {
                self.used = end;
                // SAFETY: `start..end` lies inside the chunk; nothing else refers to it.
                return Some(unsafe {
                    let p = base.as_ptr().add(start);
                    core::ptr::write_bytes(p, 0, size);
                    p
                });
            }
            // Full: the next chunk, made (or replaced) when it is too small for this block.
            self.current += 1;
            self.used = 0;
            if self.chunks.get(self.current).is_none_or(|c| c.1 < size) {
                self.grow(size)?;
            }
        }
    }
}

/// The context of a `CoreDef::HostCall`: the C function, or none (the import is served
/// another way, and the lowering is bound to its trampoline instead).
#[derive(Debug)]
pub(super) struct HostCallCtx {
    c: Option<CHostFunc>,
}

/// The contexts of an instance's host calls. Boxed: compiled code keeps their addresses.
pub(super) type HostCallCtxs = Vec<Box<HostCallCtx>>;

impl Inner {
    /// The function an adapter imports as `CoreDef::HostCall(import)`.
    pub(super) fn host_call_func(
        &self,
        store: &mut Store,
        import: u32,
    ) -> Result<Func, InstantiateError> {
        let c = self
            .c_imports
            .get(import as usize)
            .ok_or_else(|| link("host call of an unknown import"))?;
        let mut ctx = Box::new(HostCallCtx { c: *c });
        let ptr = &mut *ctx as *mut HostCallCtx as *mut u8;
        self.host_call_ctxs.borrow_mut().push(ctx);
        let ty = FuncType {
            params: vec![ValType::I64; 2],
            results: Vec::new(),
        };
        // SAFETY: `host_call` is an `extern "C" fn(ctx, i64, i64)` matching `ty`, and `ptr` is
        // a `HostCallCtx` living as long as the (leaked) shared state.
        Ok(unsafe { Func::host(store, ty, host_call as *const u8, ptr) })
    }

    /// What lowering `l`'s users import: its compiled host call when the host serves its
    /// import with a C function and the compiler generated one, else `None` (the trampoline).
    pub(super) fn host_call_adapter(&self, store: &Store, l: u32) -> Option<Func> {
        let info = self.info();
        let lowering = info.lowerings.get(l as usize)?;
        let weld_contract::component::LoweringTarget::Import(i) = lowering.target else {
            return None;
        };
        self.c_imports.get(i as usize)?.as_ref()?;
        let def = CoreDef::Export {
            instance: lowering.host_call?,
            name: weld_contract::component::ADAPTER_EXPORT.into(),
        };
        match self.export(store, &def) {
            Ok(Extern::Func(f)) => Some(f),
            _ => None,
        }
    }

    /// The scratch arena's intrinsics: allocate, mark, release.
    pub(super) fn scratch(&self) -> &RefCell<Scratch> {
        &self.scratch
    }

    /// Run `f`, an entry from the host; if it traps, give back the scratch it left behind
    /// (the host calls it interrupted never released theirs).
    pub(super) fn with_scratch_reset<T>(
        &self,
        f: impl FnOnce() -> Result<T, Trap>,
    ) -> Result<T, Trap> {
        let mark = self.scratch.borrow().mark();
        let result = f();
        if result.is_err() {
            if let Ok(mut s) = self.scratch.try_borrow_mut() {
                s.release(mark);
            }
        }
        result
    }
}

/// `CoreDef::HostCall`.
extern "C" fn host_call(ctx: *mut u8, args: i64, ret: i64) {
    // SAFETY: registered with a `HostCallCtx` that lives as long as the instance.
    let Some(c) = (unsafe { &*(ctx as *const HostCallCtx) }).c else {
        return raise_on_err(Err(trap(TrapCode::MissingImport)));
    };
    let args = core::ptr::with_exposed_provenance::<*const c_void>(args as usize);
    let ret = core::ptr::with_exposed_provenance_mut::<c_void>(ret as usize);
    // SAFETY: the host registered `adapter` for this import's type (`insert_c`); the compiled
    // host call passes one C value of each parameter's type and a result buffer of the
    // result's C size, all in the scratch arena and unused by anything else.
    let code = unsafe { (c.adapter)(c.func, c.ctx, args, ret) };
    if code != 0 {
        let code = u8::try_from(code)
            .ok()
            .and_then(TrapCode::from_u8)
            .unwrap_or(TrapCode::InvalidValue);
        raise_on_err::<()>(Err(trap(code)));
    }
}

/// `Intrinsic::ScratchAlloc`.
pub(super) extern "C" fn scratch_alloc(
    ctx: *mut u8,
    _old: i64,
    _: i64,
    align: i64,
    size: i64,
) -> i64 {
    // SAFETY: registered with an `IntrinsicCtx` whose instance lives (`intrinsic_func`).
    let inner = unsafe { super::intrinsics::ctx_inner(ctx) };
    let p = usize::try_from(size)
        .ok()
        .and_then(|size| inner.scratch().borrow_mut().alloc(size, align as usize));
    match p {
        Some(p) => p.expose_provenance() as i64,
        None => raise_on_err(Err(trap(TrapCode::InvalidValue))),
    }
}

/// `Intrinsic::ScratchMark`.
pub(super) extern "C" fn scratch_mark(ctx: *mut u8) -> i64 {
    // SAFETY: as `scratch_alloc`.
    let inner = unsafe { super::intrinsics::ctx_inner(ctx) };
    inner.scratch().borrow().mark() as i64
}

/// `Intrinsic::ScratchRelease`.
pub(super) extern "C" fn scratch_release(ctx: *mut u8, mark: i64) {
    // SAFETY: as `scratch_alloc`.
    let inner = unsafe { super::intrinsics::ctx_inner(ctx) };
    inner.scratch().borrow_mut().release(mark as u64);
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn the_scratch_arena_reuses_what_a_returned_call_released() {
        let mut s = Scratch::default();
        let outer = s.mark();
        let a = s.alloc(10, 8).unwrap();
        let inner = s.mark();
        let b = s.alloc(100_000, 4).unwrap();
        assert_ne!(a, b);
        assert_eq!(b as usize % 4, 0);
        // SAFETY: `b` has 100,000 bytes.
        unsafe { b.write_bytes(0xAA, 100_000) };
        s.release(inner);
        let again = s.alloc(100_000, 4).unwrap();
        assert_eq!(again, b, "the big chunk is reused");
        // SAFETY: as above.
        assert_eq!(unsafe { *again.add(99_999) }, 0, "and handed out zeroed");
        s.release(outer);
        assert_eq!(s.alloc(10, 8), Some(a));
        assert_eq!(s.alloc(1, 16), None);
        assert_eq!(s.alloc(usize::MAX / 2, 8), None);
    }
}
