//! [`ComponentInstance`]: replaying a [`ComponentModule`]'s flattened graph in a store, and the
//! three kinds of boundary crossing at run time:
//!
//! ```text
//! host ──call──► export (Lifted) ─ lower args ─► core func ─ lift results ─► post-return
//! core ──trampoline──► lowering_callback ─┬─ Lifted: lift from caller, enter callee (as above),
//!                                         │          lower results into the caller
//!                                         └─ Import: lift from caller, host closure, lower back
//! core ──► resource.new / rep / drop builtins (handle tables in ResourceState)
//! ```
//!
//! A trap inside a callback is raised with [`entry::raise`] once every Rust value of the
//! callback has been dropped: it unwinds to the innermost entry into wasm, which is the
//! [`Func::call`] that (directly or through wasm frames only) called the trampoline.
//!
//! Lifetime: lowering contexts hold a raw pointer to the shared state, and compiled code in the
//! store keeps pointers to those contexts for as long as the store lives. The store offers no
//! hook to free them with it, so the shared state of every instance is deliberately leaked
//! (one strong count that is never released).

mod async_builtins;
mod async_host;
pub mod borrowed;
mod cancel;
mod handles;
mod host_call;
mod tasks;
mod thread_builtins;
mod threads;
pub use async_host::{AsyncCall, CallState};
pub use host_call::{CAdapter, CHostFunc};
mod host_entry;
mod intrinsics;
mod transcode;
pub mod typed;
pub mod typed_cases;
mod typed_lists;
pub mod typed_records;
pub mod typed_values;
pub mod typed_variants;

use super::abi::{flat_from_raw, Abi, CanonCx, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::module::{lifted_core_type, ComponentModule};
use super::names::normalize;
use super::resources::{Loan, ResourceState};
use super::types::{Flat, Types};
use super::val::Val;
use crate::entry;
use crate::func::Func;
use crate::instance::{Extern, Instance, InstantiateError};
use crate::memory::Memory;
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use async_builtins::TaskFrame;
use core::cell::{Cell, RefCell};
use typed::TypedHost;
#[cfg(feature = "generic-abi")]
use weld_contract::component::abi::MAX_FLAT_ASYNC_PARAMS;
#[cfg(feature = "generic-abi")]
use weld_contract::component::concurrency::{pack_subtask, SubtaskState};
use weld_contract::component::descriptor::VMLoweringContext;
use weld_contract::component::{
    Builtin, CanonOpts, ComponentExport, ComponentInfo, CoreDef, FuncTy, Lifted, Lowering,
    LoweringTarget, StringEncoding, TypeDef,
};
use weld_contract::info::{FuncType, ValType};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// A host function a component imports.
pub type HostFunc = dyn FnMut(&[Val]) -> Result<Option<Val>, Trap>;

/// A typed host function, shared by the instances that import it.
type SharedTypedHost = Rc<RefCell<Box<dyn TypedHost>>>;

/// A host callback told that a guest dropped its own handle of a host resource (the rep).
pub type HostDrop = dyn FnMut(u32);

/// The host functions offered to components, by import name, and the drop callbacks of the
/// resource types the host defines, by resource name (`<interface>#<resource>`). Names are
/// compared after [`normalize`] (so a host registered as `wasi:cli/stdout@0.2` serves every
/// `0.2.x` import).
///
/// A host function returning `own<R>` of a host-defined `R` gives
/// `Val::Own(ResourceHandle::host(rep))`: the runtime fills in the resource type from the
/// function's result type and gives the guest a new handle for `rep`. Handles the guest passes
/// back arrive as `Val::Borrow`/`Val::Own` with the same rep.
#[derive(Default)]
pub struct HostImports {
    funcs: BTreeMap<String, Rc<RefCell<Box<HostFunc>>>>,
    /// Functions with Rust types ([`HostImports::func_wrap`]).
    typed: BTreeMap<String, SharedTypedHost>,
    drops: BTreeMap<String, Rc<RefCell<Box<HostDrop>>>>,
    /// C functions ([`HostImports::insert_c`]), beside their `Val` closures in `funcs`.
    c_funcs: BTreeMap<String, host_call::CHostFunc>,
    /// What the contexts of C functions point into, kept alive by every instance.
    keep: Vec<Rc<dyn core::any::Any>>,
    trap_unknown: bool,
}

impl core::fmt::Debug for HostImports {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set()
            .entries(
                self.funcs
                    .keys()
                    .chain(self.typed.keys())
                    .chain(self.drops.keys()),
            )
            .finish()
    }
}

impl HostImports {
    /// No imports.
    pub fn new() -> HostImports {
        HostImports::default()
    }

    /// Offer `f` as import `name` (replacing an earlier one).
    pub fn insert(
        &mut self,
        name: impl AsRef<str>,
        f: impl FnMut(&[Val]) -> Result<Option<Val>, Trap> + 'static,
    ) {
        self.insert_normalized(normalize(name.as_ref()).into_owned(), Box::new(f));
    }

    /// [`HostImports::insert`] of a name already [`normalize`]d (WASI's registrar builds its
    /// names from normalised interfaces: normalising again was wasted start-up work).
    pub(crate) fn insert_normalized(&mut self, key: String, f: Box<HostFunc>) {
        debug_assert_eq!(normalize(&key), key.as_str());
        self.typed.remove(&key);
        self.c_funcs.remove(&key);
        self.funcs.insert(key, Rc::new(RefCell::new(f)));
    }

    /// Offer `f` as import `name` with Rust types: parameters `P` (a tuple of
    /// [`ComponentType`](typed_values::ComponentType)s) and result `R` (`()` for none), replacing
    /// an earlier function of that name. Instantiation checks the types against the
    /// component's import (a mismatch is a link error); a call then lifts the guest's arguments
    /// straight into `P` and lowers `R` back, with no `Val`s: the fast way to serve imports.
    /// Such a function cannot be called through [`HostImports::call`].
    pub fn func_wrap<P, R, F>(&mut self, name: impl AsRef<str>, f: F)
    where
        P: typed_values::LiftParams + 'static,
        R: typed_values::LowerResult + 'static,
        F: FnMut(P) -> Result<R, Trap> + 'static,
    {
        let key = normalize(name.as_ref()).into_owned();
        self.funcs.remove(&key);
        self.c_funcs.remove(&key);
        let wrapped: Box<dyn TypedHost> = Box::new(typed::Wrapped {
            f,
            _signature: core::marker::PhantomData,
        });
        self.typed.insert(key, Rc::new(RefCell::new(wrapped)));
    }

    /// [`HostImports::func_wrap`] for functions that borrow string parameters: `f` also gets
    /// the [`Caller`](borrowed::Caller), and a [`WasmStr`](borrowed::WasmStr) parameter is read
    /// in place with [`Caller::str`](borrowed::Caller::str) instead of being copied into a
    /// `String` (validated all the same: the spec's traps stand).
    pub fn func_wrap_with_caller<P, R, F>(&mut self, name: impl AsRef<str>, f: F)
    where
        P: typed_values::LiftParams + 'static,
        R: typed_values::LowerResult + 'static,
        F: FnMut(&borrowed::Caller<'_>, P) -> Result<R, Trap> + 'static,
    {
        let key = normalize(name.as_ref()).into_owned();
        self.funcs.remove(&key);
        self.c_funcs.remove(&key);
        let wrapped: Box<dyn TypedHost> = Box::new(typed::WrappedWithCaller {
            f,
            _signature: core::marker::PhantomData,
        });
        self.typed.insert(key, Rc::new(RefCell::new(wrapped)));
    }

    /// Call `f(rep)` when a guest drops an own handle of host resource type `resource`
    /// (`wasi:io/streams@0.2#output-stream`), replacing an earlier callback.
    pub fn on_drop(&mut self, resource: impl AsRef<str>, f: impl FnMut(u32) + 'static) {
        self.on_drop_normalized(normalize(resource.as_ref()).into_owned(), Box::new(f));
    }

    /// [`HostImports::on_drop`] of a name already [`normalize`]d.
    pub(crate) fn on_drop_normalized(&mut self, key: String, f: Box<HostDrop>) {
        debug_assert_eq!(normalize(&key), key.as_str());
        self.drops.insert(key, Rc::new(RefCell::new(f)));
    }

    /// Let a component that imports functions not offered here instantiate anyway: calling one
    /// traps with [`TrapCode::MissingImport`] (like `wasmtime run --trap-unknown-imports`).
    /// Off by default: instantiation fails naming the first missing import.
    pub fn set_trap_unknown_imports(&mut self, on: bool) {
        self.trap_unknown = on;
    }

    /// Whether `name` is offered.
    pub fn contains(&self, name: &str) -> bool {
        let key = normalize(name);
        self.funcs.contains_key(key.as_ref()) || self.typed.contains_key(key.as_ref())
    }

    /// Every offered import name (normalised).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs
            .keys()
            .chain(self.typed.keys())
            .map(String::as_str)
    }

    fn func(&self, name: &str) -> Option<&Rc<RefCell<Box<HostFunc>>>> {
        self.funcs.get(normalize(name).as_ref())
    }

    fn drop_fn(&self, resource: &str) -> Option<&Rc<RefCell<Box<HostDrop>>>> {
        self.drops.get(normalize(resource).as_ref())
    }

    /// Call host function `name` directly (no component involved): for tests and for hosts
    /// that compose their own functions. A missing name traps with `MissingImport`.
    pub fn call(&self, name: &str, args: &[Val]) -> Result<Option<Val>, Trap> {
        let f = self.func(name).ok_or(trap(TrapCode::MissingImport))?;
        let mut f = f
            .try_borrow_mut()
            .map_err(|_| trap(TrapCode::CannotEnterComponent))?;
        (*f)(args)
    }

    /// Run the drop callback of host resource type `resource` for `rep`, as a guest dropping
    /// its handle would; whether there was one.
    pub fn drop_resource(&self, resource: &str, rep: u32) -> bool {
        let Some(f) = self.drop_fn(resource) else {
            return false;
        };
        match f.try_borrow_mut() {
            Ok(mut f) => {
                (*f)(rep);
                true
            }
            Err(_) => false,
        }
    }
}

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

fn bad() -> Trap {
    trap(TrapCode::InvalidValue)
}

/// State shared by an instance handle and its callbacks.
struct Inner {
    module: ComponentModule,
    /// The store of the innermost host entry (set by `new` and `call`).
    store: Cell<*mut Store>,
    core: RefCell<Vec<Instance>>,
    state: RefCell<ResourceState>,
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    imports: Vec<Rc<RefCell<Box<HostFunc>>>>,
    /// Per import: the typed host function serving it, if it is one (then `imports` holds a
    /// placeholder that traps).
    typed_imports: Vec<Option<SharedTypedHost>>,
    /// Per import: the C host function serving it, if it is one (`imports` holds its `Val`
    /// closure too, for a lowering without a compiled host call).
    c_imports: Vec<Option<host_call::CHostFunc>>,
    /// C arguments of host calls in progress.
    scratch: RefCell<host_call::Scratch>,
    /// Per export: its host entry, once a call has found it.
    host_entry_funcs: RefCell<Vec<Option<Func>>>,
    /// The host's `HostImports::keep`.
    _keep: Vec<Rc<dyn core::any::Any>>,
    host_call_ctxs: RefCell<host_call::HostCallCtxs>,
    /// Per lowering: its options' memory and realloc, once resolved (typed host calls).
    #[allow(clippy::type_complexity)]
    lowering_opts: RefCell<Vec<Option<(Option<Memory>, Option<Func>)>>>,
    /// Drop callback per resource type (host-defined ones with a callback only).
    host_drops: Vec<Option<Rc<RefCell<Box<HostDrop>>>>>,
    lowering_funcs: RefCell<Vec<Option<Func>>>,
    // Boxed: compiled code keeps their addresses, which must not move when the Vec grows.
    #[allow(clippy::vec_box)]
    lowering_ctxs: RefCell<Vec<Box<LoweringCtx>>>,
    #[allow(clippy::vec_box)]
    builtin_ctxs: RefCell<Vec<Box<BuiltinCtx>>>,
    intrinsic_ctxs: RefCell<intrinsics::IntrinsicCtxs>,
    transcode_ctxs: RefCell<transcode::TranscodeCtxs>,
    handle_ctxs: RefCell<handles::HandleCtxs>,
    /// The loans of the adapters' calls with handles in progress (see `handles`).
    loan_frames: RefCell<handles::LoanFrames>,
    /// Task-local storage (`context.get/set`) of every task on the stack, innermost last: one
    /// per lifted call (including its post-return), one for instantiation.
    tasks: RefCell<Vec<TaskFrame>>,
    /// Calls of callback-lifted functions in progress (`tasks.rs`).
    async_tasks: RefCell<Vec<Option<tasks::Task>>>,
    /// Free slots of `async_tasks`.
    async_free: RefCell<Vec<u32>>,
    /// The event loop's clock (`tasks.rs`).
    async_clock: Cell<u64>,
    /// The fibers tasks run on (`threads.rs`).
    fibers: RefCell<threads::Fibers>,
    /// The fiber running now (none on a host call's stack).
    current_fiber: Cell<Option<u32>>,
    /// How many entries of `tasks` lie below the running fiber's.
    fiber_base: Cell<usize>,
    /// Every thread (`thread_builtins.rs`), by id; an instance's thread table maps its
    /// indices to these ids.
    threads: RefCell<Vec<Option<thread_builtins::ThreadRec>>>,
    /// A thread the blocking one handed over to, for the code that regains control to run.
    switch_to: Cell<Option<u32>>,
    /// Whether the graph uses thread built-ins: only then does every call get a thread.
    uses_threads: bool,
    /// The store the fibers' jobs run in (`threads.rs`: `check_store`).
    fiber_store: Cell<*mut Store>,
}

/// The context of a lowering trampoline; starts with the contract's [`VMLoweringContext`].
#[repr(C)]
struct LoweringCtx {
    base: VMLoweringContext,
    inner: *const Inner,
    index: u32,
}

/// The context of a resource builtin.
#[repr(C)]
struct BuiltinCtx {
    inner: *const Inner,
    resource: u32,
    /// The component instance whose handle table it uses ([`builtin_table`]).
    instance: u32,
}

/// An instantiated component.
#[derive(Clone)]
pub struct ComponentInstance {
    inner: Rc<Inner>,
}

impl core::fmt::Debug for ComponentInstance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ComponentInstance")
            .field("exports", &self.inner.module.info().exports.len())
            .finish_non_exhaustive()
    }
}

/// One side of a crossing, over a store.
struct StoreCx<'a> {
    store: &'a mut Store,
    inner: &'a Inner,
    inst: u32,
    memory: Option<Memory>,
    realloc: Option<Func>,
    encoding: StringEncoding,
    host: bool,
    loans: &'a mut Vec<Loan>,
    /// The host call lifting for a [`HostImports::func_wrap_with_caller`] function, else 0.
    call: u64,
    /// The call borrows lowered into this side belong to (0: the instance's synchronous call;
    /// else an async task's scope, `tasks.rs`).
    scope: u32,
}

impl CanonCx for StoreCx<'_> {
    fn encoding(&self) -> StringEncoding {
        self.encoding
    }
    fn host_side(&self) -> bool {
        self.host
    }
    fn host_call(&self) -> u64 {
        self.call
    }
    fn memory(&self) -> Result<&[u8], Trap> {
        Ok(self.memory.ok_or_else(bad)?.data(self.store))
    }
    fn memory_mut(&mut self) -> Result<&mut [u8], Trap> {
        Ok(self.memory.ok_or_else(bad)?.data_mut(self.store))
    }
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Trap> {
        let f = self.realloc.ok_or_else(bad)?;
        if f.arity(self.store) != (4, 1) {
            return Err(bad());
        }
        let mut slots = [old_ptr, old_size, align, new_size].map(|v| ValRaw::i32(v as i32));
        f.call_in_place(self.store, &mut slots)?;
        Ok(slots[0].get_i32() as u32)
    }
    fn lift_own(&mut self, resource: u32, index: u32) -> Result<u32, Trap> {
        self.inner.state()?.lift_own(self.inst, resource, index)
    }
    fn lift_borrow(&mut self, resource: u32, index: u32) -> Result<u32, Trap> {
        let loans = &mut *self.loans;
        self.inner
            .state()?
            .lift_borrow(self.inst, resource, index, loans)
    }
    fn lower_own(&mut self, resource: u32, rep: u32) -> Result<u32, Trap> {
        self.inner.state()?.lower_own(self.inst, resource, rep)
    }
    fn lower_borrow(&mut self, resource: u32, rep: u32) -> Result<u32, Trap> {
        let scope = self.scope;
        self.inner
            .state()?
            .lower_borrow_in(self.inst, resource, rep, scope)
    }
    fn lift_channel(&mut self, ty: u32, index: u32) -> Result<u32, Trap> {
        self.inner.state()?.lift_end(self.inst, index, ty)
    }
    fn lower_channel(&mut self, ty: u32, id: u32) -> Result<u32, Trap> {
        self.inner.state()?.lower_end(self.inst, id, ty)
    }
    fn lift_error_context(&mut self, index: u32) -> Result<u32, Trap> {
        let mut st = self.inner.state()?;
        let id = st.error_context(self.inst, index)?;
        st.async_.errors.retain(id);
        Ok(id)
    }
    fn lower_error_context(&mut self, id: u32) -> Result<u32, Trap> {
        let entry = crate::component::table::Entry::ErrorContext(id);
        self.inner.state()?.inst(self.inst)?.table.add(entry)
    }
}

fn valtype_flat(t: ValType) -> Flat {
    match t {
        ValType::I64 => Flat::I64,
        ValType::F32 => Flat::F32,
        ValType::F64 => Flat::F64,
        _ => Flat::I32,
    }
}

fn to_raw(flat: &[u64]) -> Vec<ValRaw> {
    flat.iter()
        .map(|v| ValRaw::from_u128(u128::from(*v)))
        .collect()
}

fn from_raw(raw: &[ValRaw], tys: &[ValType]) -> Vec<u64> {
    raw.iter()
        .zip(tys)
        .map(|(r, t)| flat_from_raw(r.get_u128(), valtype_flat(*t)))
        .collect()
}

fn param_types(ft: &FuncTy) -> Vec<u32> {
    ft.params.iter().map(|(_, t)| *t).collect()
}

impl Inner {
    fn info(&self) -> &ComponentInfo {
        self.module.info()
    }

    /// Export `name`, if `args` are values of its parameter types (else `InvalidValue`).
    fn export_for(&self, name: &str, args: &[Val]) -> Result<&ComponentExport, Trap> {
        let info = self.info();
        let e = info
            .exports
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(bad)?;
        let ft = info.func_types.get(e.func.ty as usize).ok_or_else(bad)?;
        let types = Types::new(&info.types);
        let typed = args.len() == ft.params.len()
            && args
                .iter()
                .zip(&ft.params)
                .all(|(a, (_, t))| a.check(types, *t).is_ok());
        if typed {
            Ok(e)
        } else {
            Err(bad())
        }
    }

    fn state(&self) -> Result<core::cell::RefMut<'_, ResourceState>, Trap> {
        self.state.try_borrow_mut().map_err(|_| bad())
    }

    /// The store of the current host entry.
    ///
    /// # Safety
    /// Only call while wasm of this instance runs on this thread or from `new`/`call`: then the
    /// pointer is the `&mut Store` of the innermost host entry, which outlives the callback.
    #[allow(clippy::mut_from_ref)]
    unsafe fn store(&self) -> &mut Store {
        // SAFETY: see the function's contract.
        unsafe { &mut *self.store.get() }
    }

    fn export(&self, store: &Store, def: &CoreDef) -> Result<Extern, Trap> {
        let CoreDef::Export { instance, name } = def else {
            return Err(bad());
        };
        let inst = self.core.borrow().get(*instance as usize).copied();
        inst.and_then(|i| i.export(store, name)).ok_or_else(bad)
    }

    /// Call the core function a lift names with `args`: an export or a lowering through
    /// its function, a resource built-in lifted as it is (`(canon lift (core func
    /// $resource.new))`) directly, as its trampoline would.
    fn call_core(
        &self,
        store: &mut Store,
        def: &CoreDef,
        core_ty: &FuncType,
        args: &[u64],
    ) -> Result<Vec<ValRaw>, Trap> {
        let arg = || args.first().map(|v| *v as u32).ok_or_else(bad);
        let one = |v: u32| Ok(alloc::vec![ValRaw::i32(v as i32)]);
        match def {
            CoreDef::ResourceNew(r) => {
                let inst = self.resource_instance(*r)?;
                one(self.state()?.resource_new(inst, *r, arg()?)?)
            }
            CoreDef::ResourceRep(r) => {
                let inst = self.resource_instance(*r)?;
                one(self.state()?.resource_rep(inst, *r, arg()?)?)
            }
            CoreDef::ResourceDrop { resource, instance } => {
                self.resource_drop(*resource, *instance, arg()?)?;
                Ok(Vec::new())
            }
            _ => {
                let func = match def {
                    CoreDef::Lowering(i) => self.lowering_func(store, *i).map_err(|_| bad())?,
                    _ => self.func(store, def)?,
                };
                if func.ty(store) != *core_ty {
                    return Err(bad());
                }
                func.call(store, &to_raw(args))
            }
        }
    }

    fn func(&self, store: &Store, def: &CoreDef) -> Result<Func, Trap> {
        match self.export(store, def)? {
            Extern::Func(f) => Ok(f),
            _ => Err(bad()),
        }
    }

    fn cx<'a>(
        &'a self,
        store: &'a mut Store,
        opts: &CanonOpts,
        host: bool,
        loans: &'a mut Vec<Loan>,
    ) -> Result<StoreCx<'a>, Trap> {
        let memory = match &opts.memory {
            Some(d) => match self.export(store, d)? {
                Extern::Memory(m) => Some(m),
                _ => return Err(bad()),
            },
            None => None,
        };
        let realloc = opts
            .realloc
            .as_ref()
            .map(|d| self.func(store, d))
            .transpose()?;
        Ok(StoreCx {
            store,
            inner: self,
            inst: opts.instance,
            memory,
            realloc,
            encoding: opts.encoding,
            host,
            loans,
            call: 0,
            scope: 0,
        })
    }

    fn set_flags(
        &self,
        inst: u32,
        may_enter: Option<bool>,
        may_leave: Option<bool>,
    ) -> Result<(), Trap> {
        let mut st = self.state()?;
        let s = st.inst(inst)?;
        if let Some(e) = may_enter {
            s.set_may_enter(e);
        }
        if let Some(l) = may_leave {
            s.set_may_leave(l);
        }
        Ok(())
    }

    /// Enter a lifted function with `args` from a side using `src` encoding: check entry, lower
    /// the arguments, call, check borrows, lift the results. Returns them with the core results
    /// for [`Inner::finish_lifted`].
    fn call_lifted(
        &self,
        store: &mut Store,
        f: &Lifted,
        args: &[Val],
        src: StringEncoding,
        host: bool,
    ) -> Result<(Vec<Val>, Vec<u64>), Trap> {
        let info = self.info();
        let ft = info.func_types.get(f.ty as usize).ok_or_else(bad)?;
        let types = Types::new(&info.types);
        let callee = f.opts.instance;
        self.enter_lifted(callee, ft.async_)?;
        let mut no_loans = Vec::new();
        let flat_args = {
            let mut cx = self.cx(store, &f.opts, host, &mut no_loans)?;
            Abi { types, src }.lower_values(
                &mut cx,
                MAX_FLAT_PARAMS,
                args,
                &param_types(ft),
                None,
            )?
        };
        self.set_flags(callee, None, Some(true))?;
        let core_ty = lifted_core_type(info, f);
        let raw = self.call_core(store, &f.func, &core_ty, &flat_args)?;
        self.state()?.finish_call(callee)?;
        let flat_results = from_raw(&raw, &core_ty.results);
        let results = {
            let mut cx = self.cx(store, &f.opts, host, &mut no_loans)?;
            let abi = Abi {
                types,
                src: f.opts.encoding,
            };
            abi.lift_values(
                &mut cx,
                MAX_FLAT_RESULTS,
                &flat_results,
                ft.result.as_slice(),
            )?
        };
        Ok((results, flat_results))
    }

    /// Enter component instance `callee` for a lifted call: it must be enterable; it may
    /// neither be entered again nor call out until the call lets it, and a new task begins.
    fn enter_lifted(&self, callee: u32, may_block: bool) -> Result<(), Trap> {
        {
            let mut st = self.state()?;
            let s = st.inst(callee)?;
            if !s.may_enter() {
                return Err(trap(TrapCode::CannotEnterComponent));
            }
            s.set_may_enter(false);
            s.set_may_leave(false);
        }
        let thread = if self.uses_threads {
            Some(self.new_thread(callee, None, thread_builtins::ThreadState::Running)?)
        } else {
            None
        };
        self.tasks.borrow_mut().push(TaskFrame {
            may_block,
            entered: Some(callee),
            thread,
            ..TaskFrame::default()
        });
        Ok(())
    }

    /// Run the post-return function (the instance may not leave meanwhile), then let the
    /// instance be entered again.
    fn finish_lifted(
        &self,
        store: &mut Store,
        f: &Lifted,
        flat_results: &[u64],
    ) -> Result<(), Trap> {
        let callee = f.opts.instance;
        if let Some(pr) = &f.opts.post_return {
            self.set_flags(callee, None, Some(false))?;
            self.func(store, pr)?.call(store, &to_raw(flat_results))?;
            self.set_flags(callee, None, Some(true))?;
        }
        let frame = self.tasks.borrow_mut().pop();
        if let Some(t) = frame.and_then(|f| f.thread) {
            self.end_thread(t)?;
        }
        self.set_flags(callee, Some(true), None)
    }

    /// A built-in the runtime implements (`l.opts.instance` is the caller); other built-ins trap
    /// with "cannot leave" where the caller may not leave, else as unsupported.
    fn run_builtin(
        &self,
        index: u32,
        l: &Lowering,
        b: &Builtin,
        flat_in: &[u64],
    ) -> Result<Vec<u64>, Trap> {
        let caller = l.opts.instance;
        match (b, flat_in, l.core_results.as_slice()) {
            (Builtin::ContextGet { slot }, [], [t]) => {
                let i = *slot as usize;
                let tasks = self.tasks.borrow();
                let v = *tasks
                    .last()
                    .and_then(|c| c.context.get(i))
                    .ok_or_else(bad)?;
                Ok(alloc::vec![if *t == ValType::I64 {
                    v
                } else {
                    v & 0xffff_ffff
                }])
            }
            (Builtin::ContextSet { slot }, [v], []) => {
                let i = *slot as usize;
                let mut tasks = self.tasks.borrow_mut();
                *tasks
                    .last_mut()
                    .and_then(|c| c.context.get_mut(i))
                    .ok_or_else(bad)? = *v;
                Ok(Vec::new())
            }
            (Builtin::BackpressureInc, [], []) => {
                self.state()?.backpressure(caller, true)?;
                Ok(Vec::new())
            }
            (Builtin::BackpressureDec, [], []) => {
                self.state()?.backpressure(caller, false)?;
                Ok(Vec::new())
            }
            (Builtin::Unsupported(_), _, _)
            | (Builtin::ContextGet { .. }, _, _)
            | (Builtin::ContextSet { .. }, _, _)
                if !self.state()?.inst(caller)?.may_leave() =>
            {
                Err(trap(TrapCode::CannotLeaveComponent))
            }
            _ => self.run_async_builtin(index, l, b, flat_in),
        }
    }

    /// Call host import `k` with `args`, checking its result against `ty`, the function type
    /// of the lowering (what the caller will lower the result at). Host resource handles the
    /// host returns take the types `ty` names: those are the caller's view of the resources.
    #[cfg(feature = "generic-abi")]
    fn call_host(&self, k: u32, ty: u32, args: &[Val]) -> Result<Vec<Val>, Trap> {
        let info = self.info();
        let ft = info.func_types.get(ty as usize).ok_or_else(bad)?;
        let f = self.imports.get(k as usize).ok_or_else(bad)?;
        let result = {
            let mut f = f
                .try_borrow_mut()
                .map_err(|_| trap(TrapCode::CannotEnterComponent))?;
            (*f)(args)?
        };
        let types = Types::new(&info.types);
        let host_defined = |r: u32| {
            info.resources
                .get(r as usize)
                .is_some_and(|res| res.instance == HOST_RESOURCE)
        };
        match (result, ft.result) {
            (None, None) => Ok(Vec::new()),
            (Some(mut v), Some(t)) => {
                v.resolve_host_resources(types, t, &host_defined);
                v.check(types, t).map_err(|_| bad())?;
                Ok(alloc::vec![v])
            }
            _ => Err(bad()),
        }
    }

    /// The lowering callback's work: `flat_in` are the core arguments; returns core results.
    /// A lowering without the generic path: only canonical built-ins run here
    /// (`lowering_func` refuses the others at instantiation).
    #[cfg(not(feature = "generic-abi"))]
    fn run_lowering(&self, index: u32, flat_in: &[u64]) -> Result<Vec<u64>, Trap> {
        let l = self.info().lowerings.get(index as usize).ok_or_else(bad)?;
        match &l.target {
            LoweringTarget::Builtin(b) => self.run_builtin(index, l, b, flat_in),
            _ => Err(bad()),
        }
    }

    #[cfg(feature = "generic-abi")]
    fn run_lowering(&self, index: u32, flat_in: &[u64]) -> Result<Vec<u64>, Trap> {
        let info = self.info();
        let l = info.lowerings.get(index as usize).ok_or_else(bad)?;
        let caller = l.opts.instance;
        if let LoweringTarget::Builtin(b) = &l.target {
            return self.run_builtin(index, l, b, flat_in);
        }
        if !self.state()?.inst(caller)?.may_leave() {
            return Err(trap(TrapCode::CannotLeaveComponent));
        }
        let ft = info.func_types.get(l.ty as usize).ok_or_else(bad)?;
        let types = Types::new(&info.types);
        let async_lower = l.opts.async_;
        if !async_lower && ft.async_ && !self.may_block_in(caller) {
            return Err(trap(TrapCode::SyncTaskBlocked));
        }
        // An async lower's result pointer is its last core parameter.
        let (flat_args, async_retptr) = match (async_lower, ft.result, flat_in.split_last()) {
            (true, Some(_), Some((p, rest))) => (rest, Some(*p as u32)),
            _ => (flat_in, None),
        };
        if let (true, LoweringTarget::Lifted(f)) = (async_lower, &l.target) {
            // An async lower of a function that may block gets a task (a fiber) of its own.
            if f.opts.async_ || ft.async_ {
                let packed = self.async_call(index, f, flat_args.to_vec(), async_retptr)?;
                return Ok(alloc::vec![u64::from(packed)]);
            }
        }
        // SAFETY: called from a lowering trampoline, i.e. while wasm of this instance runs.
        let store = unsafe { self.store() };
        let host = matches!(l.target, LoweringTarget::Import(_));
        let mut loans = Vec::new();
        let args = {
            let mut cx = self.cx(store, &l.opts, host, &mut loans)?;
            let abi = Abi {
                types,
                src: l.opts.encoding,
            };
            let max = if async_lower {
                MAX_FLAT_ASYNC_PARAMS
            } else {
                MAX_FLAT_PARAMS
            };
            abi.lift_values(&mut cx, max, flat_args, &param_types(ft))?
        };
        let (results, src, pending) = match &l.target {
            LoweringTarget::Lifted(f) if f.opts.async_ => {
                let args = tasks::Args::Vals(args, l.opts.encoding);
                let results = self.call_and_wait(f, args)?;
                (results, f.opts.encoding, None)
            }
            LoweringTarget::Lifted(f) => {
                let (results, flat) = self.call_lifted(store, f, &args, l.opts.encoding, false)?;
                crate::component::val::release(args);
                (results, f.opts.encoding, Some((f, flat)))
            }
            LoweringTarget::Import(k) => {
                let results = self.call_host(*k, l.ty, &args)?;
                crate::component::val::release(args);
                (results, StringEncoding::Utf8, None)
            }
            LoweringTarget::Builtin(_) => return Err(trap(TrapCode::UnsupportedBuiltin)),
        };
        let result_tys = ft.result.as_slice();
        let (max_results, retptr) = if async_lower {
            (0, async_retptr)
        } else if types.flatten_all(result_tys).len() > MAX_FLAT_RESULTS {
            let p = flat_in.last().copied().ok_or_else(bad)? as u32;
            (MAX_FLAT_RESULTS, Some(p))
        } else {
            (MAX_FLAT_RESULTS, None)
        };
        self.set_flags(caller, None, Some(false))?;
        let mut flat_out = {
            let mut cx = self.cx(store, &l.opts, host, &mut loans)?;
            Abi { types, src }.lower_values(&mut cx, max_results, &results, result_tys, retptr)?
        };
        self.set_flags(caller, None, Some(true))?;
        crate::component::val::release(results);
        if let Some((f, flat)) = pending {
            self.finish_lifted(store, f, &flat)?;
        }
        self.state()?.end_loans(&loans);
        if async_lower {
            flat_out = alloc::vec![u64::from(pack_subtask(SubtaskState::Returned, None))];
        }
        Ok(flat_out)
    }

    fn resource_instance(&self, r: u32) -> Result<u32, Trap> {
        Ok(self
            .info()
            .resources
            .get(r as usize)
            .ok_or_else(bad)?
            .instance)
    }

    /// `canon resource.drop` called by component instance `caller`: remove the handle from the
    /// caller's table and, for an own handle, run the destructor — as a call into the defining
    /// instance when the caller is another instance (which must then be enterable).
    fn resource_drop(&self, r: u32, caller: u32, handle: u32) -> Result<(), Trap> {
        let def = self.resource_instance(r)?;
        let Some(rep) = self.state()?.resource_drop(caller, r, handle)? else {
            return Ok(());
        };
        let dtor = self
            .info()
            .resources
            .get(r as usize)
            .and_then(|res| res.dtor.as_ref());
        if def == HOST_RESOURCE {
            if let Some(Some(f)) = self.host_drops.get(r as usize) {
                let mut f = f
                    .try_borrow_mut()
                    .map_err(|_| trap(TrapCode::CannotEnterComponent))?;
                (*f)(rep);
            }
            return Ok(());
        }
        let cross = def != caller;
        if cross && !self.state()?.inst(def)?.may_enter() {
            return Err(trap(TrapCode::CannotEnterComponent));
        }
        let Some(dtor) = dtor else {
            return Ok(());
        };
        // SAFETY: called from a builtin, i.e. while wasm of this instance runs.
        let store = unsafe { self.store() };
        let f = self.func(store, dtor)?;
        if cross {
            // As if the defining instance exported the destructor: a call into it, a new task.
            self.set_flags(def, Some(false), None)?;
            self.tasks.borrow_mut().push(TaskFrame {
                entered: Some(def),
                ..TaskFrame::default()
            });
        }
        f.call(store, &[ValRaw::i32(rep as i32)])?;
        if cross {
            self.tasks.borrow_mut().pop();
            self.set_flags(def, Some(true), None)?;
        }
        Ok(())
    }
}

/// The component instance whose handle table resource built-in `def` works on: the caller's for
/// `resource.drop` (any instance may drop a handle it holds), the defining instance's for
/// `resource.new` / `resource.rep` (only the defining component may use those).
pub(crate) fn builtin_table(info: &ComponentInfo, def: &CoreDef) -> Option<u32> {
    let defined_by = |r: &u32| info.resources.get(*r as usize).map(|res| res.instance);
    match def {
        CoreDef::ResourceNew(r) | CoreDef::ResourceRep(r) => defined_by(r),
        CoreDef::ResourceDrop { instance, .. } => Some(*instance),
        _ => None,
    }
}

/// `Resource::instance` of a resource type the host provides.
const HOST_RESOURCE: u32 = u32::MAX;

/// Raise `result`'s trap, if any. Call only as the last thing of a callback, with nothing left
/// to drop in the callback's frame.
fn raise_on_err<T>(result: Result<T, Trap>) -> T {
    match result {
        Ok(v) => v,
        // SAFETY: the frames up to the innermost entry are wasm frames and this callback, which
        // owns nothing at this point (`result` is the only local and it is plain data).
        Err(t) => unsafe { entry::raise(t.code) },
    }
}

/// The callback lowering trampolines call.
extern "C" fn lowering_callback(ctx: *mut VMLoweringContext, slots: *mut ValRaw) {
    // SAFETY: `ctx` is the `LoweringCtx` this runtime registered for the trampoline (the
    // trampoline passes it unchanged); its `inner` is leaked, so it is alive.
    let (inner, index) = unsafe {
        let ctx = &*(ctx as *const LoweringCtx);
        (&*ctx.inner, ctx.index)
    };
    // The trampoline's slots, as many as the lowering's core parameters or results.
    let slice = |slots: *mut ValRaw| -> Result<&mut [ValRaw], Trap> {
        let l = inner.info().lowerings.get(index as usize).ok_or_else(bad)?;
        let n = l.core_params.len().max(l.core_results.len());
        // SAFETY: the trampoline provides one slot per core parameter and at least one per
        // core result (contract), so `n` slots; nothing else refers to them during the call.
        Ok(unsafe { core::slice::from_raw_parts_mut(slots, n) })
    };
    if let Some(host) = typed::typed_import(inner, index) {
        return raise_on_err(slice(slots).and_then(|s| inner.run_typed_host(index, host, s)));
    }
    raise_on_err(generic_lowering(inner, index, slots))
}

/// The lowering's work in the runtime (`Inner::run_lowering`): the trampoline's slots in,
/// results back into them.
fn generic_lowering(inner: &Inner, index: u32, slots: *mut ValRaw) -> Result<(), Trap> {
    {
        let l = inner.info().lowerings.get(index as usize).ok_or_else(bad)?;
        let flat_in: Vec<u64> = l
            .core_params
            .iter()
            .enumerate()
            // SAFETY: the trampoline stored one slot per core parameter (contract).
            .map(|(i, t)| flat_from_raw(unsafe { (*slots.add(i)).get_u128() }, valtype_flat(*t)))
            .collect();
        let out = inner.run_lowering(index, &flat_in)?;
        if out.len() != l.core_results.len() {
            return Err(bad());
        }
        for (i, v) in out.iter().enumerate() {
            // SAFETY: the trampoline provides at least one slot per core result.
            unsafe { *slots.add(i) = ValRaw::from_u128(u128::from(*v)) };
        }
        Ok(())
    }
}

/// # Safety
/// `ctx` must be a registered `BuiltinCtx`.
unsafe fn builtin(ctx: *mut u8) -> (&'static Inner, u32, u32) {
    // SAFETY: the caller passes a live `BuiltinCtx`, whose `inner` is leaked.
    unsafe {
        let ctx = &*(ctx as *const BuiltinCtx);
        (&*ctx.inner, ctx.resource, ctx.instance)
    }
}

extern "C" fn resource_new(ctx: *mut u8, rep: i32) -> i32 {
    // SAFETY: registered with a `BuiltinCtx` in `builtin_func`.
    let (inner, r, inst) = unsafe { builtin(ctx) };
    let result = inner
        .state()
        .and_then(|mut st| st.resource_new(inst, r, rep as u32));
    raise_on_err(result) as i32
}

extern "C" fn resource_rep(ctx: *mut u8, handle: i32) -> i32 {
    // SAFETY: registered with a `BuiltinCtx` in `builtin_func`.
    let (inner, r, inst) = unsafe { builtin(ctx) };
    let result = inner
        .state()
        .and_then(|mut st| st.resource_rep(inst, r, handle as u32));
    raise_on_err(result) as i32
}

extern "C" fn resource_drop(ctx: *mut u8, handle: i32) {
    // SAFETY: registered with a `BuiltinCtx` in `builtin_func`.
    let (inner, r, caller) = unsafe { builtin(ctx) };
    let result = inner.resource_drop(r, caller, handle as u32);
    raise_on_err(result)
}

fn link(why: impl Into<String>) -> InstantiateError {
    InstantiateError::Link(why.into())
}

impl Inner {
    fn lowering_func(&self, store: &mut Store, i: u32) -> Result<Func, InstantiateError> {
        if let Some(Some(f)) = self.lowering_funcs.borrow().get(i as usize) {
            return Ok(*f);
        }
        if let Some(f) = self.host_call_adapter(store, i) {
            if let Some(slot) = self.lowering_funcs.borrow_mut().get_mut(i as usize) {
                *slot = Some(f);
            }
            return Ok(f);
        }
        let builtin = self
            .info()
            .lowerings
            .get(i as usize)
            .is_some_and(|l| matches!(l.target, LoweringTarget::Builtin(_)));
        if !cfg!(feature = "generic-abi") && !builtin && typed::typed_import(self, i).is_none() {
            return Err(link(format!(
                "lowering {i} needs the runtime's generic Canonical ABI path, which this runtime \
                 is built without (feature `generic-abi`)"
            )));
        }
        let l = self
            .info()
            .lowerings
            .get(i as usize)
            .ok_or_else(|| link("bad lowering"))?;
        let code = *self
            .module
            .inner
            .lowerings
            .get(i as usize)
            .ok_or_else(|| link("bad lowering"))?;
        let mut ctx = Box::new(LoweringCtx {
            base: VMLoweringContext {
                callback: lowering_callback as *const u8,
            },
            inner: self,
            index: i,
        });
        let ptr = &mut *ctx as *mut LoweringCtx as *mut u8;
        self.lowering_ctxs.borrow_mut().push(ctx);
        let ty = FuncType {
            params: l.core_params.clone(),
            results: l.core_results.clone(),
        };
        // SAFETY: `code` is the compiled trampoline of lowering `i`, whose core signature was
        // checked against `ty` at load; it expects a context starting with VMLoweringContext,
        // which `ptr` is, and which lives as long as the (leaked) shared state.
        let f = unsafe { Func::host(store, ty, code, ptr) };
        if let Some(slot) = self.lowering_funcs.borrow_mut().get_mut(i as usize) {
            *slot = Some(f);
        }
        Ok(f)
    }

    fn builtin_func(&self, store: &mut Store, def: &CoreDef) -> Result<Func, InstantiateError> {
        let (r, code, ty) = match def {
            CoreDef::ResourceNew(r) => (*r, resource_new as *const u8, (1, 1)),
            CoreDef::ResourceRep(r) => (*r, resource_rep as *const u8, (1, 1)),
            CoreDef::ResourceDrop { resource, .. } => {
                (*resource, resource_drop as *const u8, (1, 0))
            }
            _ => return Err(link("not a builtin")),
        };
        let caller = builtin_table(self.info(), def).ok_or_else(|| link("bad resource builtin"))?;
        let mut ctx = Box::new(BuiltinCtx {
            inner: self,
            resource: r,
            instance: caller,
        });
        let ptr = &mut *ctx as *mut BuiltinCtx as *mut u8;
        self.builtin_ctxs.borrow_mut().push(ctx);
        let ty = FuncType {
            params: alloc::vec![ValType::I32; ty.0],
            results: alloc::vec![ValType::I32; ty.1],
        };
        // SAFETY: the builtins are `extern "C" fn(ctx, i32) [-> i32]` matching `ty`, and `ptr`
        // is a `BuiltinCtx` living as long as the (leaked) shared state.
        Ok(unsafe { Func::host(store, ty, code, ptr) })
    }
}

impl ComponentInstance {
    /// Instantiate `module` in `store`: create its core instances in order, wiring each import
    /// to an earlier instance's export, a lowering or a resource builtin; `host` must offer every
    /// import the component needs.
    pub fn new(
        store: &mut Store,
        module: &ComponentModule,
        host: &HostImports,
    ) -> Result<ComponentInstance, InstantiateError> {
        let info = module.info();
        let mut imports = Vec::with_capacity(info.imports.len());
        let mut typed_imports = Vec::with_capacity(info.imports.len());
        let mut c_imports = Vec::with_capacity(info.imports.len());
        for imp in &info.imports {
            // Normalised once for both lookups (it allocates for every `@0.2.x` name).
            let key = normalize(&imp.name);
            let t = host.typed.get(key.as_ref());
            if let Some(t) = t {
                let ft = info.func_types.get(imp.ty as usize);
                if !ft.is_some_and(|ft| t.borrow().typecheck(&info.types, ft)) {
                    return Err(link(format!(
                        "host function {} is {}, but the component imports it as {}",
                        imp.name,
                        t.borrow().signature(),
                        ft.map_or_else(
                            || "an unknown type".into(),
                            |ft| weld_contract::component::world::func_text(info, ft)
                        )
                    )));
                }
            }
            // A typed host function answers in the synchronous flat convention only.
            let lowered_async = |k: usize| {
                info.lowerings.iter().any(|l| {
                    l.opts.async_
                        && matches!(l.target, LoweringTarget::Import(i) if i as usize == k)
                })
            };
            if t.is_some() && lowered_async(typed_imports.len()) {
                return Err(link(format!(
                    "host function {} is lowered `async`: serve it with HostImports::insert, \
                     not a typed (func_wrap) function",
                    imp.name
                )));
            }
            typed_imports.push(t.cloned());
            c_imports.push(host.c_funcs.get(key.as_ref()).copied());
            let f = match host.funcs.get(key.as_ref()) {
                None if t.is_some() => {
                    let typed_only: Box<HostFunc> = Box::new(|_| Err(bad()));
                    Rc::new(RefCell::new(typed_only))
                }
                Some(f) => f.clone(),
                None if host.trap_unknown => {
                    let missing: Box<HostFunc> = Box::new(|_| Err(trap(TrapCode::MissingImport)));
                    Rc::new(RefCell::new(missing))
                }
                None => return Err(link(format!("missing import {}", imp.name))),
            };
            imports.push(f);
        }
        let host_drops = info
            .resources
            .iter()
            .map(|r| (r.instance == HOST_RESOURCE).then(|| host.drop_fn(&r.name).cloned())?)
            .collect();
        let defined_by = info.resources.iter().map(|r| r.instance).collect();
        let inner = Rc::new(Inner {
            module: module.clone(),
            store: Cell::new(store),
            core: RefCell::new(Vec::new()),
            state: RefCell::new(ResourceState::new(info.component_instances, defined_by)),
            imports,
            typed_imports,
            c_imports,
            scratch: RefCell::default(),
            host_entry_funcs: RefCell::new(alloc::vec![None; info.exports.len()]),
            _keep: host.keep.clone(),
            host_call_ctxs: RefCell::default(),
            lowering_opts: RefCell::new(alloc::vec![None; info.lowerings.len()]),
            host_drops,
            lowering_funcs: RefCell::new(alloc::vec![None; info.lowerings.len()]),
            lowering_ctxs: RefCell::new(Vec::new()),
            builtin_ctxs: RefCell::new(Vec::new()),
            intrinsic_ctxs: RefCell::new(Vec::new()),
            transcode_ctxs: RefCell::new(Vec::new()),
            handle_ctxs: RefCell::new(Vec::new()),
            loan_frames: RefCell::new(Vec::new()),
            tasks: RefCell::new(alloc::vec![TaskFrame::default()]),
            async_tasks: RefCell::new(Vec::new()),
            async_free: RefCell::new(Vec::new()),
            async_clock: Cell::new(0),
            fibers: RefCell::new(threads::Fibers::default()),
            current_fiber: Cell::new(None),
            fiber_base: Cell::new(0),
            threads: RefCell::new(Vec::new()),
            switch_to: Cell::new(None),
            fiber_store: Cell::new(store),
            uses_threads: info
                .lowerings
                .iter()
                .any(|l| matches!(&l.target, LoweringTarget::Builtin(b) if b.is_thread())),
        });
        // Leak one strong count: callbacks keep `*const Inner` for the store's whole life.
        let _ = Rc::into_raw(inner.clone());
        let mut host_memory = None;
        for (i, ci) in info.instances.iter().enumerate() {
            let mut externs = Vec::with_capacity(ci.args.len());
            for arg in &ci.args {
                let ext = match arg {
                    CoreDef::Export { .. } => inner.export(store, arg).map_err(|_| {
                        link(format!("core instance {i}: unresolved import {arg:?}"))
                    })?,
                    CoreDef::Lowering(l) => Extern::Func(inner.lowering_func(store, *l)?),
                    CoreDef::Flag { instance, flag } => {
                        Extern::Global(inner.flag_global(store, *instance, *flag)?)
                    }
                    CoreDef::Handle {
                        op,
                        lowering,
                        resource,
                    } => Extern::Func(inner.handle_func(store, *op, *lowering, *resource)),
                    CoreDef::Transcode { lowering, results } => {
                        Extern::Func(inner.transcode_func(store, *lowering, *results))
                    }
                    CoreDef::Intrinsic { op, memory } => {
                        Extern::Func(inner.intrinsic_func(store, *op, memory.as_ref())?)
                    }
                    CoreDef::HostCall(import) => {
                        Extern::Func(inner.host_call_func(store, *import)?)
                    }
                    CoreDef::HostMemory => Extern::Memory(
                        *host_memory.get_or_insert_with(|| Memory::host_address_space(store)),
                    ),
                    _ => Extern::Func(inner.builtin_func(store, arg)?),
                };
                externs.push(ext);
            }
            let m = module
                .inner
                .modules
                .get(ci.module as usize)
                .ok_or_else(|| link("bad module index"))?;
            inner.store.set(store);
            let core = Instance::new(store, m, &externs)?;
            inner.core.borrow_mut().push(core);
        }
        Ok(ComponentInstance { inner })
    }

    /// Call export `name` with `args`; its result (if the function has one) or the trap.
    /// Arguments of the wrong type trap with `InvalidValue`.
    pub fn call(&self, store: &mut Store, name: &str, args: &[Val]) -> Result<Option<Val>, Trap> {
        let inner = &*self.inner;
        let e = inner.export_for(name, args)?;
        inner.check_store(store)?;
        let saved = inner.store.replace(store);
        let depth = inner.depth();
        let result = inner.with_scratch_reset(|| {
            if e.func.opts.async_ {
                let results = inner.call_and_wait(
                    &e.func,
                    tasks::Args::Vals(args.to_vec(), StringEncoding::Utf8),
                )?;
                return Ok(results.into_iter().next());
            }
            let (results, flat) =
                inner.call_lifted(store, &e.func, args, StringEncoding::Utf8, true)?;
            inner.finish_lifted(store, &e.func, &flat)?;
            Ok(results.into_iter().next())
        });
        inner.store.set(saved);
        // A trap leaves the tasks and loans it unwound on the stacks.
        inner.unwind_to(depth);
        result
    }

    /// The type of export `name`: parameters and result as indices into [`Self::types`].
    pub fn func_type(&self, name: &str) -> Option<&FuncTy> {
        let info = self.inner.info();
        let e = info.exports.iter().find(|e| e.name == name)?;
        info.func_types.get(e.func.ty as usize)
    }

    /// Every exported function with its type.
    pub fn exports(&self) -> Vec<(&str, &FuncTy)> {
        let info = self.inner.info();
        info.exports
            .iter()
            .filter_map(|e| Some((e.name.as_str(), info.func_types.get(e.func.ty as usize)?)))
            .collect()
    }

    /// The interface type arena the function types index.
    pub fn types(&self) -> &[TypeDef] {
        &self.inner.info().types
    }

    /// The component this is an instance of.
    pub fn module(&self) -> &ComponentModule {
        &self.inner.module
    }
}
