//! What generated adapters import from the runtime besides core exports.
//!
//! In: a [`CoreDef::Flag`](weld_contract::component::CoreDef::Flag) or
//! [`CoreDef::Intrinsic`](weld_contract::component::CoreDef::Intrinsic) argument of a core
//! instance. Out: the extern it is wired to. A flag becomes a mutable `i32` global whose
//! storage is the component instance's own flag cell, so compiled adapters and the runtime's
//! generic path read and write the same word. An intrinsic becomes a host function with a small
//! context (the memory it reads); it raises its traps like every runtime callback, through the
//! innermost entry into wasm.

use super::{link, raise_on_err, trap, Inner};
use crate::func::Func;
use crate::global::Global;
use crate::instance::{Extern, InstantiateError};
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use weld_contract::component::{ComponentFlag, CoreDef, Intrinsic};
use weld_contract::info::{FuncType, GlobalType, ValType};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{VMGlobal, VMMemory};

/// The context of one intrinsic function: the memory it reads, if any, and the instance.
#[derive(Debug)]
pub(super) struct IntrinsicCtx {
    memory: *const VMMemory,
    inner: *const Inner,
}

/// The instance of an intrinsic's context.
///
/// # Safety
/// `ctx` must be the context an intrinsic was registered with (`intrinsic_func`).
pub(super) unsafe fn ctx_inner<'a>(ctx: *mut u8) -> &'a Inner {
    // SAFETY: the context and its instance live as long as the (leaked) shared state.
    unsafe { &*(*(ctx as *const IntrinsicCtx)).inner }
}

impl Inner {
    /// The global an adapter imports for `flag` of component instance `instance`.
    pub(super) fn flag_global(
        &self,
        store: &mut Store,
        instance: u32,
        flag: ComponentFlag,
    ) -> Result<Global, InstantiateError> {
        let ptr = {
            let mut st = self
                .state()
                .map_err(|t| link(alloc::format!("flag: {t}")))?;
            let s = st
                .inst(instance)
                .map_err(|_| link(alloc::format!("flag of unknown instance {instance}")))?;
            s.flag_ptr(flag)
        };
        let ty = GlobalType {
            ty: ValType::I32,
            mutable: true,
            ref_type: None,
        };
        // SAFETY: the flag cell is 16 aligned bytes in a box of the instance state, which lives
        // as long as the (leaked) shared state, so as long as the store uses it.
        Ok(unsafe { Global::at(store, ty, ptr as *mut VMGlobal) })
    }

    /// The host function behind intrinsic `op`, reading `memory` when it needs one.
    pub(super) fn intrinsic_func(
        &self,
        store: &mut Store,
        op: Intrinsic,
        memory: Option<&(u32, String)>,
    ) -> Result<Func, InstantiateError> {
        let memory = match (op.reads_memory(), memory) {
            (false, None) => core::ptr::null(),
            (true, Some((instance, name))) => {
                let def = CoreDef::Export {
                    instance: *instance,
                    name: name.clone(),
                };
                match self.export(store, &def) {
                    Ok(Extern::Memory(m)) if !store.memories.get(m.0).is_host_address_space() => {
                        store.memories.get(m.0).vm() as *const VMMemory
                    }
                    _ => return Err(link(alloc::format!("intrinsic {op:?}: no memory {name}"))),
                }
            }
            _ => return Err(link(alloc::format!("intrinsic {op:?}: wrong memory"))),
        };
        let code = match op {
            Intrinsic::Trap => raise_trap as *const u8,
            Intrinsic::ValidateUtf8 => validate_utf8 as *const u8,
            Intrinsic::HostValidateUtf8 => host_validate_utf8 as *const u8,
            Intrinsic::HostRealloc => host_realloc as *const u8,
            Intrinsic::HostFree => host_free as *const u8,
            Intrinsic::ScratchAlloc => super::host_call::scratch_alloc as *const u8,
            Intrinsic::ScratchMark => super::host_call::scratch_mark as *const u8,
            Intrinsic::ScratchRelease => super::host_call::scratch_release as *const u8,
        };
        let mut ctx = Box::new(IntrinsicCtx {
            memory,
            inner: self,
        });
        let ptr = &mut *ctx as *mut IntrinsicCtx as *mut u8;
        self.intrinsic_ctxs.borrow_mut().push(ctx);
        let (params, results) = op.signature();
        let ty = FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        };
        // SAFETY: `code` is an `extern "C" fn(ctx, ...)` with `op.signature()`, matching `ty`,
        // and `ptr` is an `IntrinsicCtx` living as long as the (leaked) shared state.
        Ok(unsafe { Func::host(store, ty, code, ptr) })
    }
}

/// `Intrinsic::Trap`.
extern "C" fn raise_trap(_ctx: *mut u8, code: i32) {
    let code = u8::try_from(code)
        .ok()
        .and_then(TrapCode::from_u8)
        .unwrap_or(TrapCode::InvalidValue);
    raise_on_err::<()>(Err(trap(code)))
}

/// `Intrinsic::ValidateUtf8`.
extern "C" fn validate_utf8(ctx: *mut u8, ptr: i32, len: i32) {
    // SAFETY: registered with an `IntrinsicCtx` whose memory is live (`intrinsic_func`).
    let mem = unsafe { &*(*(ctx as *const IntrinsicCtx)).memory };
    raise_on_err(check_utf8(mem, ptr as u32, len as u32))
}

/// `Intrinsic::HostValidateUtf8`.
extern "C" fn host_validate_utf8(_ctx: *mut u8, ptr: i64, len: i64) {
    let Ok(len) = usize::try_from(len) else {
        return raise_on_err(Err(trap(TrapCode::StringOutOfBounds)));
    };
    if len == 0 {
        return;
    }
    if ptr == 0 {
        return raise_on_err(Err(trap(TrapCode::InvalidValue)));
    }
    // SAFETY: a compiled host entry passes a string of the C host's arguments: the header's
    // contract is that it points at `len` readable bytes, not written during the call.
    let bytes = unsafe {
        core::slice::from_raw_parts(core::ptr::with_exposed_provenance::<u8>(ptr as usize), len)
    };
    raise_on_err(crate::component::string::utf8(bytes).map(|_| ()))
}

/// `Intrinsic::HostRealloc`: the C allocator in the Canonical ABI's `realloc` form.
extern "C" fn host_realloc(_ctx: *mut u8, old: i64, old_size: i64, align: i64, size: i64) -> i64 {
    let p = host_alloc::realloc(
        old as usize,
        old_size as usize,
        align as usize,
        size as usize,
    );
    if p == 0 {
        return raise_on_err(Err(trap(TrapCode::InvalidValue)));
    }
    p as i64
}

/// `Intrinsic::HostFree`.
extern "C" fn host_free(_ctx: *mut u8, ptr: i64, size: i64, align: i64) {
    host_alloc::free(ptr as usize, size as usize, align as usize)
}

/// The allocator a C host frees what it receives with: the C library's with `std` (`free`),
/// else the platform's (`weld_platform_free(ptr, size, align)`).
mod host_alloc {
    /// `realloc(old, old_size, align, size)`: the new block's address, 0 when out of memory.
    #[cfg(feature = "std")]
    pub(super) fn realloc(old: usize, _old_size: usize, align: usize, size: usize) -> usize {
        // malloc's blocks are aligned for every C type; the Canonical ABI asks at most 8.
        if align > 16 {
            return 0;
        }
        let old = core::ptr::with_exposed_provenance_mut::<libc::c_void>(old);
        // SAFETY: `old` is 0 or a block this function returned (the Canonical ABI only
        // reallocates what the same `realloc` gave); a size of at least 1 never frees.
        let p = unsafe {
            if old.is_null() {
                libc::malloc(size.max(1))
            } else {
                libc::realloc(old, size.max(1))
            }
        };
        p.expose_provenance()
    }

    /// Free a block of the host's allocator (0 is ignored).
    #[cfg(feature = "std")]
    pub(super) fn free(ptr: usize, _size: usize, _align: usize) {
        // SAFETY: a block the C host allocated with `malloc` for a result it handed over (the
        // header's contract), freed once, after its bytes were copied out.
        unsafe { libc::free(core::ptr::with_exposed_provenance_mut(ptr)) }
    }

    /// Free a block of the platform's allocator (0 is ignored).
    #[cfg(not(feature = "std"))]
    pub(super) fn free(ptr: usize, size: usize, align: usize) {
        extern "C" {
            fn weld_platform_free(ptr: *mut u8, size: usize, align: usize);
        }
        if ptr != 0 {
            // SAFETY: a block the host allocated from the platform with this size and
            // alignment for a result it handed over, freed once.
            unsafe {
                weld_platform_free(
                    core::ptr::with_exposed_provenance_mut(ptr),
                    size.max(1),
                    align,
                )
            }
        }
    }

    /// `realloc(old, old_size, align, size)`: the new block's address, 0 when out of memory.
    #[cfg(not(feature = "std"))]
    pub(super) fn realloc(old: usize, old_size: usize, align: usize, size: usize) -> usize {
        extern "C" {
            fn weld_platform_alloc(size: usize, align: usize) -> *mut u8;
            fn weld_platform_free(ptr: *mut u8, size: usize, align: usize);
        }
        if !align.is_power_of_two() {
            return 0;
        }
        // SAFETY: the platform allocator's contract (weld_platform.h); `old` is 0 or a block
        // of `old_size` bytes this function returned with the same alignment.
        unsafe {
            let p = weld_platform_alloc(size.max(1), align);
            if !p.is_null() && old != 0 {
                let old = core::ptr::with_exposed_provenance_mut::<u8>(old);
                core::ptr::copy_nonoverlapping(old, p, old_size.min(size));
                weld_platform_free(old, old_size.max(1), align);
            }
            p.expose_provenance()
        }
    }
}

fn check_utf8(mem: &VMMemory, ptr: u32, len: u32) -> Result<(), Trap> {
    let end = u64::from(ptr) + u64::from(len);
    if end > mem.length {
        return Err(trap(TrapCode::StringOutOfBounds));
    }
    // SAFETY: `ptr..end` lies inside the memory (checked above); no wasm runs while this
    // reads it, and memories are not shared between threads.
    let bytes = unsafe { core::slice::from_raw_parts(mem.base.add(ptr as usize), len as usize) };
    crate::component::string::utf8(bytes).map(|_| ())
}

/// The contexts of an instance's intrinsics. Boxed: compiled code keeps their addresses,
/// which must not move when the list grows.
pub(super) type IntrinsicCtxs = Vec<Box<IntrinsicCtx>>;
