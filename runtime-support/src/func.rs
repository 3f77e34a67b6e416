//! Functions: a [`VMFuncRef`] (code, vmctx, canonical type id) that importers copy into their
//! funcref slots, plus — for exports of instances — the export's array-call trampoline, through
//! which the host calls it. Host functions ([`Func::host`]) have no trampoline: wasm can import
//! and call them, the host cannot call them through [`Func::call`].

use crate::arch::ArrayCall;
use crate::store::{Store, VmPtr};
use crate::trap::Trap;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::info::FuncType;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{FuncAbi, VMFuncRef, ValRaw};

/// A function's state.
#[derive(Debug)]
pub(crate) struct FuncData {
    /// The funcref: inside an instance's vmctx (exports) or owned (host functions).
    funcref: VmPtr<VMFuncRef>,
    ty: FuncType,
    /// Array-call trampoline and the vmctx to give it.
    entry: Option<(ArrayCall, *mut u8)>,
}

impl FuncData {
    /// Whether the function is wasm code (called in the wasm convention), not a host function.
    pub(crate) fn is_wasm(&self) -> bool {
        // SAFETY: `funcref` is valid for our whole life.
        unsafe { (*self.funcref.ptr()).abi == FuncAbi::Wasm as u32 }
    }

    /// An exported function of an instance.
    ///
    /// # Safety
    /// `funcref` and `vmctx` must stay valid for the life of the value; `trampoline` must be the
    /// array-call trampoline of a function of type `ty` expecting `vmctx`.
    pub(crate) unsafe fn export(
        funcref: *mut VMFuncRef,
        ty: FuncType,
        trampoline: ArrayCall,
        vmctx: *mut u8,
    ) -> FuncData {
        FuncData {
            // SAFETY: the caller guarantees `funcref` stays valid.
            funcref: unsafe { VmPtr::inside_vmctx(funcref) },
            ty,
            entry: Some((trampoline, vmctx)),
        }
    }

    /// The funcref importers copy.
    pub(crate) fn funcref(&self) -> VMFuncRef {
        // SAFETY: `funcref` is valid for our whole life.
        unsafe { *self.funcref.ptr() }
    }

    /// The canonical id of the type.
    pub(crate) fn type_id(&self) -> u32 {
        self.funcref().type_id
    }
}

/// A handle to a function of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func(pub(crate) usize);

impl Func {
    /// A host function wasm can import, e.g. spectest's `print_i32`.
    ///
    /// # Safety
    /// `code` must be an `extern "C" fn(host_ctx, params...) -> result` matching `ty` (i32/i64
    /// as integers, f32/f64 as floats, references as pointer-sized integers) in the platform's C
    /// calling convention (compiled code calls it so: [`FuncAbi::Native`]), and
    /// `host_ctx` must be valid for whatever `code` does with it while the store lives.
    pub unsafe fn host(
        store: &mut Store,
        ty: FuncType,
        code: *const u8,
        host_ctx: *mut u8,
    ) -> Func {
        let funcref = VMFuncRef {
            func: code,
            vmctx: host_ctx,
            type_id: crate::types::canonical_id(&ty),
            abi: FuncAbi::Native as u32,
        };
        let data = FuncData {
            funcref: VmPtr::owned(funcref),
            ty,
            entry: None,
        };
        Func(store.funcs.push(data).0)
    }

    /// The function's type.
    pub fn ty(&self, store: &Store) -> FuncType {
        store.funcs.get(self.0).ty.clone()
    }

    /// The address of the function's `VMFuncRef`: the value of a `funcref` referring to it.
    pub fn funcref(&self, store: &Store) -> usize {
        store.funcs.get(self.0).funcref.ptr() as usize
    }

    /// Call the function with `args` (one slot per parameter); its results, or the trap that
    /// stopped it. Host functions cannot be called this way (trap `InvalidValue`).
    pub fn call(&self, store: &mut Store, args: &[ValRaw]) -> Result<Vec<ValRaw>, Trap> {
        let data = store.funcs.get(self.0);
        let (params, results) = (data.ty.params.len(), data.ty.results.len());
        if args.len() != params {
            return Err(Trap::new(TrapCode::InvalidValue));
        }
        let mut slots = vec![ValRaw::default(); params.max(results).max(1)];
        slots[..params].copy_from_slice(args);
        self.call_in_place(store, &mut slots)?;
        slots.truncate(results);
        Ok(slots)
    }

    /// Call the function with its parameters in `slots[..params]`, leaving its results in
    /// `slots[..results]`: no allocation (for typed calls). `slots` must have room for both,
    /// else the call traps with `InvalidValue` without running.
    pub fn call_in_place(&self, store: &mut Store, slots: &mut [ValRaw]) -> Result<(), Trap> {
        let data = store.funcs.get(self.0);
        let (params, results) = (data.ty.params.len(), data.ty.results.len());
        let Some((trampoline, vmctx)) = data.entry else {
            return Err(Trap::new(TrapCode::InvalidValue));
        };
        if slots.len() < params.max(results).max(1) {
            return Err(Trap::new(TrapCode::InvalidValue));
        }

        let ctx = store.ctx_ptr();
        // SAFETY: the store context lives as long as the store.
        let saved_limit = unsafe { (*ctx).stack_limit };
        if store.depth == 0 {
            let here = 0u8;
            let sp = core::ptr::addr_of!(here) as usize;
            // SAFETY: as above.
            unsafe { (*ctx).stack_limit = sp.saturating_sub(store.max_wasm_stack) };
        }
        store.depth += 1;
        // SAFETY: the trampoline belongs to this export and expects this vmctx; `slots` has room
        // for every parameter and result; the instance lives as long as the store.
        let result = unsafe { crate::entry::enter(trampoline, vmctx, slots.as_mut_ptr()) };
        store.depth -= 1;
        // SAFETY: as above.
        unsafe { (*ctx).stack_limit = saved_limit };
        result.map_err(Trap::new)
    }

    /// Number of parameters and results.
    pub(crate) fn arity(&self, store: &Store) -> (usize, usize) {
        let ty = &store.funcs.get(self.0).ty;
        (ty.params.len(), ty.results.len())
    }
}
