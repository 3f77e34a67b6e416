//! Typed calls across the host boundary: exports called and imports provided with Rust types.
//!
//! In: Rust values ([`ComponentType`]s in tuples). Out: the same Canonical ABI effects as the
//! `Val` path ([`ComponentInstance::call`], [`HostImports::insert`]) — same checks, same traps —
//! but lowered and lifted straight between Rust values and flat core values: the export, its
//! core function, memory, realloc and post-return are looked up and type-checked once
//! ([`ComponentInstance::typed_func`], or at instantiation for [`HostImports::func_wrap`]), and
//! a call allocates nothing beyond what the values themselves need (a `String` result). This is
//! what makes a host→component or component→host call cost tens of nanoseconds.
//!
//! Covered: parameters and results of the types [`ComponentType`] lists with at most 16 flat
//! parameters (spilled parameter lists need the `Val` path). Everything else: the `Val` path.

use super::borrowed::Caller;
use super::typed_values::{
    ComponentParams, ComponentResult, LiftParams, LiftResult, LowerParams, LowerResult,
};
use super::{bad, trap, ComponentInstance, Inner, StoreCx};
use crate::component::abi::{CanonCx, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::module::lifted_core_type;
use crate::func::Func;
use crate::instance::Extern;
use crate::memory::Memory;
use crate::store::Store;
use crate::trap::Trap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;
use weld_contract::component::{FuncTy, Lifted, TypeDef};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// Why a typed function could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedError {
    /// No exported function of this name.
    NoSuchExport(String),
    /// The export's type is not the Rust types asked for (the text names both sides).
    TypeMismatch(String),
    /// The function's signature needs the `Val` path (more than 16 flat parameters).
    Unsupported(String),
}

impl core::fmt::Display for TypedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TypedError::NoSuchExport(n) => write!(f, "no exported function {n:?}"),
            TypedError::TypeMismatch(m) | TypedError::Unsupported(m) => f.write_str(m),
        }
    }
}

/// Whether `ft` is `P -> R` in the typed path.
fn signature_matches<P: ComponentParams, R: ComponentResult>(
    types: &[TypeDef],
    ft: &FuncTy,
) -> bool {
    let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
    P::typecheck(types, &params) && R::typecheck(types, ft.result)
}

/// An exported function, checked to have parameters `P` and result `R`
/// (from [`ComponentInstance::typed_func`]).
pub struct TypedFunc<P, R> {
    inner: Rc<Inner>,
    lifted: Lifted,
    func: Func,
    /// Core parameter and result counts.
    arity: (usize, usize),
    memory: Option<Memory>,
    realloc: Option<Func>,
    post_return: Option<Func>,
    _signature: PhantomData<fn(P) -> R>,
}

impl<P, R> core::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish_non_exhaustive()
    }
}

impl ComponentInstance {
    /// Export `name` as a function of parameters `P` (a tuple) and result `R` (`()` for none):
    /// looked up and type-checked once, then called by [`TypedFunc::call`] without `Val`s.
    pub fn typed_func<P: LowerParams, R: LiftResult>(
        &self,
        store: &Store,
        name: &str,
    ) -> Result<TypedFunc<P, R>, TypedError> {
        let inner = &*self.inner;
        let info = inner.info();
        let e = info
            .exports
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| TypedError::NoSuchExport(name.into()))?;
        let ft = info
            .func_types
            .get(e.func.ty as usize)
            .ok_or_else(|| TypedError::NoSuchExport(name.into()))?;
        if !signature_matches::<P, R>(&info.types, ft) {
            return Err(TypedError::TypeMismatch(format!(
                "export {name:?} has type {}, not the Rust types asked for ({} -> {})",
                weld_contract::component::world::func_text(info, ft),
                core::any::type_name::<P>(),
                core::any::type_name::<R>()
            )));
        }
        if P::FLAT > MAX_FLAT_PARAMS {
            return Err(TypedError::Unsupported(format!(
                "export {name:?} takes {} flat parameters; typed calls take at most \
                 {MAX_FLAT_PARAMS} (use ComponentInstance::call)",
                P::FLAT
            )));
        }
        let broken = |what: &str| TypedError::TypeMismatch(format!("export {name:?}: {what}"));
        let func = inner
            .func(store, &e.func.func)
            .map_err(|_| broken("its core function is missing"))?;
        let core_ty = lifted_core_type(info, &e.func);
        let want_results = if R::FLAT > MAX_FLAT_RESULTS {
            1
        } else {
            R::FLAT
        };
        if func.ty(store) != core_ty
            || core_ty.params.len() != P::FLAT
            || core_ty.results.len() != want_results
        {
            return Err(broken("its core function has another signature"));
        }
        let opts = &e.func.opts;
        let memory = match &opts.memory {
            Some(d) => match inner.export(store, d) {
                Ok(Extern::Memory(m)) => Some(m),
                _ => return Err(broken("its memory is missing")),
            },
            None => None,
        };
        let realloc = match &opts.realloc {
            Some(d) => Some(
                inner
                    .func(store, d)
                    .map_err(|_| broken("its realloc is missing"))?,
            ),
            None => None,
        };
        let post_return = match &opts.post_return {
            Some(d) => Some(
                inner
                    .func(store, d)
                    .map_err(|_| broken("its post-return function is missing"))?,
            ),
            None => None,
        };
        Ok(TypedFunc {
            inner: self.inner.clone(),
            lifted: e.func.clone(),
            func,
            arity: func.arity(store),
            memory,
            realloc,
            post_return,
            _signature: PhantomData,
        })
    }
}

impl<P, R> TypedFunc<P, R> {
    /// Whether this is an export of `instance` (and not of another instance of the same
    /// component).
    pub fn belongs_to(&self, instance: &ComponentInstance) -> bool {
        Rc::ptr_eq(&self.inner, &instance.inner)
    }
}

impl<P: LowerParams, R: LiftResult> TypedFunc<P, R> {
    /// Call with `params` in `store` (the store the instance lives in); the result or the trap.
    /// Entering an instance that may not be entered (it trapped, or is on the stack) traps as
    /// [`ComponentInstance::call`] does.
    pub fn call(&self, store: &mut Store, params: P) -> Result<R, Trap> {
        let inner = &*self.inner;
        inner.check_store(store)?;
        let saved = inner.store.replace(store);
        let depth = inner.depth();
        let result = inner.with_scratch_reset(|| self.enter(store, params));
        inner.store.set(saved);
        // A trap leaves the tasks and loans it unwound on the stacks.
        inner.unwind_to(depth);
        result
    }

    fn enter(&self, store: &mut Store, params: P) -> Result<R, Trap> {
        let inner = &*self.inner;
        let callee = self.lifted.opts.instance;
        let async_ty = inner
            .info()
            .func_types
            .get(self.lifted.ty as usize)
            .is_some_and(|f| f.async_);
        inner.enter_lifted(callee, async_ty)?;
        let mut slots = [ValRaw::default(); MAX_FLAT_PARAMS];
        let mut loans = Vec::new();
        params.lower_all(&mut self.cx(store, &mut loans), &mut slots[..P::FLAT])?;
        inner.set_flags(callee, None, Some(true))?;
        self.func.call_in_place(store, &mut slots)?;
        inner.state()?.finish_call(callee)?;
        let result = {
            let mut cx = self.cx(store, &mut loans);
            if R::FLAT > MAX_FLAT_RESULTS {
                R::load_result(&mut cx, slots[0].get_i32() as u32)?
            } else {
                R::lift_result(&mut cx, &slots[..R::FLAT])?
            }
        };
        if let Some(pr) = self.post_return {
            // Its parameters are the core results, already in place.
            inner.set_flags(callee, None, Some(false))?;
            pr.call_in_place(store, &mut slots[..self.arity.1.max(1)])?;
            inner.set_flags(callee, None, Some(true))?;
        }
        inner.tasks.borrow_mut().pop();
        inner.set_flags(callee, Some(true), None)?;
        Ok(result)
    }

    fn cx<'a>(&'a self, store: &'a mut Store, loans: &'a mut Vec<super::Loan>) -> StoreCx<'a> {
        StoreCx {
            store,
            inner: &self.inner,
            inst: self.lifted.opts.instance,
            memory: self.memory,
            realloc: self.realloc,
            encoding: self.lifted.opts.encoding,
            host: true,
            loans,
            call: 0,
            scope: 0,
        }
    }
}

/// A host function with Rust parameter and result types ([`HostImports::func_wrap`]).
pub(super) trait TypedHost {
    /// Whether the component's import type `ft` is this function's.
    fn typecheck(&self, types: &[TypeDef], ft: &FuncTy) -> bool;
    /// Lift the parameters from `slots`, call, lower the result into `slots` (or through the
    /// return pointer after the parameters), on the caller's side `cx`.
    fn call(&mut self, cx: &mut StoreCx<'_>, slots: &mut [ValRaw]) -> Result<(), Trap>;
    /// The Rust signature, for error messages.
    fn signature(&self) -> String;
}

/// `f` as a [`TypedHost`].
pub(super) struct Wrapped<P, R, F> {
    pub(super) f: F,
    pub(super) _signature: PhantomData<fn(P) -> R>,
}

impl<P, R, F> TypedHost for Wrapped<P, R, F>
where
    P: LiftParams,
    R: LowerResult,
    F: FnMut(P) -> Result<R, Trap>,
{
    fn typecheck(&self, types: &[TypeDef], ft: &FuncTy) -> bool {
        P::FLAT <= MAX_FLAT_PARAMS && signature_matches::<P, R>(types, ft)
    }

    fn call(&mut self, cx: &mut StoreCx<'_>, slots: &mut [ValRaw]) -> Result<(), Trap> {
        let params = P::lift_all(cx, slots.get(..P::FLAT).ok_or_else(bad)?)?;
        let result = (self.f)(params)?;
        lower_host_result(cx, slots, P::FLAT, result)
    }

    fn signature(&self) -> String {
        format!(
            "{} -> {}",
            core::any::type_name::<P>(),
            core::any::type_name::<R>()
        )
    }
}

/// Lower a typed host function's result into `slots` (or through the return pointer after the
/// `params` flat parameters), on the caller's side `cx`.
fn lower_host_result<R: LowerResult>(
    cx: &mut StoreCx<'_>,
    slots: &mut [ValRaw],
    params: usize,
    result: R,
) -> Result<(), Trap> {
    if R::FLAT <= MAX_FLAT_RESULTS {
        // A flat scalar: no realloc runs.
        return result.lower_result(cx, slots.get_mut(..R::FLAT).ok_or_else(bad)?);
    }
    // Storing the result may call the caller's realloc, which may not call out.
    let (inner, caller) = (cx.inner, cx.inst);
    inner.set_flags(caller, None, Some(false))?;
    let retptr = slots.get(params).ok_or_else(bad)?.get_i32() as u32;
    result.store_result(cx, retptr)?;
    inner.set_flags(caller, None, Some(true))
}

/// `f` with the caller's side as a [`TypedHost`].
pub(super) struct WrappedWithCaller<P, R, F> {
    pub(super) f: F,
    pub(super) _signature: PhantomData<fn(P) -> R>,
}

impl<P, R, F> TypedHost for WrappedWithCaller<P, R, F>
where
    P: LiftParams,
    R: LowerResult,
    F: FnMut(&Caller<'_>, P) -> Result<R, Trap>,
{
    fn typecheck(&self, types: &[TypeDef], ft: &FuncTy) -> bool {
        P::FLAT <= MAX_FLAT_PARAMS && signature_matches::<P, R>(types, ft)
    }

    fn call(&mut self, cx: &mut StoreCx<'_>, slots: &mut [ValRaw]) -> Result<(), Trap> {
        let params = P::lift_all(cx, slots.get(..P::FLAT).ok_or_else(bad)?)?;
        let result = {
            let caller = Caller {
                // A caller without a memory has no strings to lend.
                memory: cx.memory().unwrap_or(&[]),
                call: cx.host_call(),
            };
            (self.f)(&caller, params)?
        };
        lower_host_result(cx, slots, P::FLAT, result)
    }

    fn signature(&self) -> String {
        format!(
            "(&Caller, {}) -> {}",
            core::any::type_name::<P>(),
            core::any::type_name::<R>()
        )
    }
}

impl Inner {
    /// A lowering of typed host import `host`: check that the caller may leave, then let the
    /// host function work on the trampoline's slots with the caller's memory and realloc.
    pub(super) fn run_typed_host(
        &self,
        index: u32,
        host: &super::SharedTypedHost,
        slots: &mut [ValRaw],
    ) -> Result<(), Trap> {
        let l = self.info().lowerings.get(index as usize).ok_or_else(bad)?;
        let caller = l.opts.instance;
        if !self.state()?.inst(caller)?.may_leave() {
            return Err(trap(TrapCode::CannotLeaveComponent));
        }
        // SAFETY: called from a lowering trampoline, i.e. while wasm of this instance runs.
        let store = unsafe { self.store() };
        let (memory, realloc) = self.lowering_opts(store, index)?;
        let mut f = host
            .try_borrow_mut()
            .map_err(|_| trap(TrapCode::CannotEnterComponent))?;
        let mut loans = Vec::new();
        let mut cx = StoreCx {
            store,
            inner: self,
            inst: caller,
            memory,
            realloc,
            encoding: l.opts.encoding,
            host: true,
            loans: &mut loans,
            call: super::borrowed::next_host_call(),
            scope: 0,
        };
        f.call(&mut cx, slots)
    }

    /// The memory and realloc of lowering `index`'s options, resolved on first use.
    fn lowering_opts(
        &self,
        store: &Store,
        index: u32,
    ) -> Result<(Option<Memory>, Option<Func>), Trap> {
        if let Some(Some(cached)) = self.lowering_opts.borrow().get(index as usize) {
            return Ok(*cached);
        }
        let l = self.info().lowerings.get(index as usize).ok_or_else(bad)?;
        let memory = match &l.opts.memory {
            Some(d) => match self.export(store, d)? {
                Extern::Memory(m) => Some(m),
                _ => return Err(bad()),
            },
            None => None,
        };
        let realloc = l
            .opts
            .realloc
            .as_ref()
            .map(|d| self.func(store, d))
            .transpose()?;
        if let Some(slot) = self.lowering_opts.borrow_mut().get_mut(index as usize) {
            *slot = Some((memory, realloc));
        }
        Ok((memory, realloc))
    }
}

/// The typed host import of `inner` behind lowering `index`, if it has one.
pub(super) fn typed_import(inner: &Inner, index: u32) -> Option<&super::SharedTypedHost> {
    match &inner.info().lowerings.get(index as usize)?.target {
        weld_contract::component::LoweringTarget::Import(k) => {
            inner.typed_imports.get(*k as usize)?.as_ref()
        }
        _ => None,
    }
}
