//! The C API for components (`weld_component_*` in `include/weld.h`), on top of
//! [`ComponentInstance`]: values cross in the C layout of the generated header
//! ([`weld_contract::component::clayout`]): by the export's compiled host entry when it has
//! one, else converted to and from [`Val`] here.
//!
//! ```text
//! host.c ─► p_f(inst, args.., &ret) (static inline, p.h) ─► weld_component_call(inst, i, args, ret)
//!              ─► the export's compiled host entry (ComponentInstance::call_host_entry):
//!                 C args read, lowered, called, result lifted straight into *ret (malloc)
//!              or, for exports without one (resources, task-local context, non-UTF-8 strings):
//!              read C args ─► Val ─► ComponentInstance::call ─► Val ─► write C result (malloc)
//! wasm ─► the import's compiled host call: args lowered straight into C values (scratch arena)
//!              ─► adapter(func, ctx, args, ret) ─► host's typed function
//!              ─► result lifted straight into the guest, its malloc'd parts freed
//!        or, for imports without one (resources, non-UTF-8 strings):
//! wasm ─► lowering ─► HostImports closure ─► write C args ─► adapter(func, ctx, args, ret)
//!              ─► host's typed function ─► read C result, free its malloc'd parts ─► Val
//! ```
//!
//! Ownership: export arguments belong to the caller (only read); export results are written with
//! `malloc`ed strings and lists that the caller frees. Host import arguments are built here and
//! freed after the host function returns; host import results are read and then freed here
//! (the host must `malloc` them). A host function that returns non-zero traps with that code and
//! its result is neither read nor freed.

use crate::capi::{c_str, set_error};
use crate::component::c_values::CValues;
use crate::component::{
    AsyncCall, CHostFunc, CallState, ComponentInstance, ComponentModule, HostImports, Val,
};
use crate::{Store, Trap, TrapCode};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_char, c_void};
use weld_contract::component::descriptor::VMComponentDescriptor;
use weld_contract::component::{FuncTy, TypeDef};

/// `weld_component_adapter`: calls the typed host function `func`.
pub type Adapter = crate::component::CAdapter;

/// `weld_component_import`: a host function offered for component import `name`.
#[repr(C)]
#[derive(Debug)]
pub struct WeldComponentImport {
    /// Full import name (NUL-terminated).
    pub name: *const c_char,
    /// Calls `func` with arguments in C layout.
    pub adapter: Option<Adapter>,
    /// The host's typed function.
    pub func: *const c_void,
    /// Passed to every call.
    pub ctx: *mut c_void,
}

/// `weld_component`: a component instance with its own store.
#[derive(Debug)]
pub struct WeldComponent {
    store: Store,
    instance: ComponentInstance,
}

/// The closure that runs host import `ty` through its C adapter.
fn host_func(
    types: Vec<TypeDef>,
    ty: FuncTy,
    adapter: Adapter,
    func: *const c_void,
    ctx: *mut c_void,
) -> impl FnMut(&[Val]) -> Result<Option<Val>, Trap> + 'static {
    move |args: &[Val]| {
        let conv = CValues::new(&types);
        let trap = |c: TrapCode| Trap::new(c);
        if args.len() != ty.params.len() {
            return Err(trap(TrapCode::InvalidValue));
        }
        let mut bufs: Vec<Vec<u64>> = Vec::with_capacity(args.len());
        let mut failed = None;
        for ((_, t), v) in ty.params.iter().zip(args) {
            let mut b = conv.buffer(Some(*t));
            // SAFETY: `b` is aligned and large enough for a `t`.
            if let Err(c) = unsafe { conv.write(*t, v, b.as_mut_ptr() as *mut u8) } {
                failed = Some(c);
                break;
            }
            bufs.push(b);
        }
        let mut ret = conv.buffer(ty.result);
        let code = match failed {
            Some(c) => c as u32,
            None => {
                let ptrs: Vec<*const c_void> =
                    bufs.iter().map(|b| b.as_ptr() as *const c_void).collect();
                // SAFETY: the host registered `adapter` for this import's type; every argument
                // and the result buffer have the C layout its header declares.
                unsafe { adapter(func, ctx, ptrs.as_ptr(), ret.as_mut_ptr() as *mut c_void) }
            }
        };
        for ((_, t), b) in ty.params.iter().zip(&mut bufs) {
            // SAFETY: written by `conv.write` above with malloc'd parts.
            unsafe { conv.free(*t, b.as_mut_ptr() as *mut u8) };
        }
        if code != 0 {
            let c = u8::try_from(code).ok().and_then(TrapCode::from_u8);
            return Err(trap(c.unwrap_or(TrapCode::InvalidValue)));
        }
        let Some(r) = ty.result else { return Ok(None) };
        let p = ret.as_mut_ptr() as *mut u8;
        // SAFETY: the host filled the result buffer with a `r` whose strings and lists it
        // malloc'd (the header's documented contract); it is read once and freed once.
        let v = unsafe { conv.read(r, p) };
        // SAFETY: as above.
        unsafe { conv.free(r, p) };
        v.map(Some).map_err(trap)
    }
}

/// Load the plugin at `path` (a component compiled with `weld compile --emit sharedlib`) after
/// the checks of `weld_runtime::plugin` (ELF headers before loading: nothing of it runs if they
/// fail; descriptor, target and world after). With `expected_world_hash` non-zero, also require
/// that exact world: pass the `<PREFIX>_WORLD_HASH` of the header the host was built with. The
/// component descriptor for `weld_component_instantiate`, or NULL (see `weld_last_error`).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn weld_plugin_open(
    path: *const core::ffi::c_char,
    expected_world_hash: u64,
) -> *const VMComponentDescriptor {
    // SAFETY: the caller guarantees NULL or a NUL-terminated string.
    let Some(path) = (unsafe { c_str(path) }) else {
        set_error("weld_plugin_open: NULL or non-UTF-8 path".into());
        return core::ptr::null();
    };
    match crate::plugin::open_plugin(std::path::Path::new(path)) {
        Ok(d) if expected_world_hash != 0 && d.world_hash != expected_world_hash => {
            set_error(format!(
                "{path}: the plugin's world (hash {:#018x}) differs from the expected one \
                 ({expected_world_hash:#018x}); its world is:\n{}",
                d.world_hash, d.world
            ));
            core::ptr::null()
        }
        Ok(d) => d.descriptor,
        Err(e) => {
            set_error(format!("{path}: {e}"));
            core::ptr::null()
        }
    }
}

/// Instantiate the component `desc` describes, with the host functions `imports` (`n` entries,
/// matched by name). NULL on failure (see `weld_last_error`).
///
/// # Safety
/// `desc` must be a `<prefix>__component` descriptor of a linked weld object; `imports` must
/// point at `n` valid entries whose adapter and function match the import's generated header
/// declarations and whose `ctx` outlives the instance.
#[no_mangle]
pub unsafe extern "C" fn weld_component_instantiate(
    desc: *const VMComponentDescriptor,
    imports: *const WeldComponentImport,
    n: usize,
) -> *mut WeldComponent {
    if desc.is_null() {
        set_error("weld_component_instantiate: NULL component descriptor".into());
        return core::ptr::null_mut();
    }
    let offered: &[WeldComponentImport] = if n == 0 || imports.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees `n` valid entries.
        unsafe { core::slice::from_raw_parts(imports, n) }
    };
    // SAFETY: the caller guarantees the descriptor is weld's and static.
    match unsafe { instantiate(&*desc, offered) } {
        Ok(c) => Box::into_raw(Box::new(c)),
        Err(message) => {
            set_error(message);
            core::ptr::null_mut()
        }
    }
}

/// # Safety
/// As [`weld_component_instantiate`].
unsafe fn instantiate(
    desc: &'static VMComponentDescriptor,
    offered: &[WeldComponentImport],
) -> Result<WeldComponent, String> {
    // SAFETY: the caller vouches for the descriptor.
    let module = unsafe { ComponentModule::from_descriptor(desc) }.map_err(|e| format!("{e}"))?;
    let info = module.info();
    let mut host = HostImports::new();
    for imp in &info.imports {
        // SAFETY: the caller guarantees NUL-terminated names.
        let found = offered
            .iter()
            .find(|o| unsafe { c_str(o.name) } == Some(imp.name.as_str()))
            .ok_or_else(|| format!("missing import {}", imp.name))?;
        let adapter = found
            .adapter
            .ok_or_else(|| format!("import {}: NULL adapter", imp.name))?;
        if found.func.is_null() {
            return Err(format!("import {}: NULL function pointer", imp.name));
        }
        let ty = info
            .func_types
            .get(imp.ty as usize)
            .cloned()
            .ok_or_else(|| format!("import {}: bad type index", imp.name))?;
        let f = host_func(info.types.clone(), ty, adapter, found.func, found.ctx);
        let c = CHostFunc {
            adapter,
            func: found.func,
            ctx: found.ctx,
        };
        // SAFETY: the caller guarantees that the header's adapter calls the function with the
        // import's C types, for as long as the instance lives.
        unsafe { host.insert_c(&imp.name, c, Box::new(f)) };
    }
    let mut store = Store::new();
    let instance = ComponentInstance::new(&mut store, &module, &host).map_err(|e| match e {
        crate::InstantiateError::Trap(t) => format!("instantiation trapped: {t}"),
        crate::InstantiateError::Link(why) => why,
    })?;
    Ok(WeldComponent { store, instance })
}

/// Free an instance (NULL is ignored).
///
/// # Safety
/// `inst` must be NULL or come from `weld_component_instantiate`, not yet freed, not running.
#[no_mangle]
pub unsafe extern "C" fn weld_component_free(inst: *mut WeldComponent) {
    if !inst.is_null() {
        // SAFETY: the caller guarantees the pointer came from `Box::into_raw` above.
        drop(unsafe { Box::from_raw(inst) });
    }
}

/// Call export `export_index` with arguments in C layout; write the result to `ret`.
/// Returns 0 or the trap code.
///
/// # Safety
/// `inst` must be a live instance; `args` must hold one valid pointer per parameter, each at a
/// C value of the parameter's type; `ret` must be writable for the result type (or NULL when
/// there is none).
#[no_mangle]
pub unsafe extern "C" fn weld_component_call(
    inst: *mut WeldComponent,
    export_index: u32,
    args: *const *const c_void,
    ret: *mut c_void,
) -> u32 {
    let invalid = TrapCode::InvalidValue as u32;
    if inst.is_null() {
        return invalid;
    }
    // SAFETY: the caller guarantees a live instance, not used elsewhere during the call.
    let inst = unsafe { &mut *inst };
    let module = inst.instance.module().clone();
    let info = module.info();
    // SAFETY: the caller guarantees one pointer per parameter.
    let (e, ft) = match unsafe { export_args(info, export_index, args) } {
        Ok(found) => found,
        Err(c) => return c,
    };
    if ft.result.is_some() && ret.is_null() {
        return invalid;
    }
    if inst.instance.has_host_entry(export_index as usize) {
        // SAFETY: the caller guarantees valid C values of the header's layout for every
        // parameter (checked non-NULL above) and a writable result, unused elsewhere.
        let called = unsafe {
            inst.instance.call_host_entry(
                &mut inst.store,
                export_index as usize,
                args as *const *const u8,
                ret as *mut u8,
            )
        };
        return match called {
            Ok(_) => 0,
            Err(t) => t.code as u32,
        };
    }
    // SAFETY: the caller guarantees one valid pointer per parameter (checked non-NULL above).
    let vals = match unsafe { read_args(&info.types, ft, args) } {
        Ok(v) => v,
        Err(c) => return c,
    };
    let result = inst.instance.call(&mut inst.store, &e.name, &vals);
    // SAFETY: the caller guarantees `ret` writable for the result type.
    unsafe { write_result(&info.types, ft, result, ret) }
}

/// Export `export_index` and its type, once `args` holds a non-NULL pointer per parameter
/// (else `InvalidValue`'s code).
///
/// # Safety
/// `args` must be NULL or point at one pointer per parameter.
unsafe fn export_args(
    info: &weld_contract::component::ComponentInfo,
    export_index: u32,
    args: *const *const c_void,
) -> Result<(&weld_contract::component::ComponentExport, &FuncTy), u32> {
    let invalid = TrapCode::InvalidValue as u32;
    let e = info.exports.get(export_index as usize).ok_or(invalid)?;
    let ft = info.func_types.get(e.func.ty as usize).ok_or(invalid)?;
    if ft.params.is_empty() {
        return Ok((e, ft));
    }
    // SAFETY: the caller guarantees one pointer per parameter when `args` is not NULL.
    if args.is_null() || (0..ft.params.len()).any(|k| unsafe { *args.add(k) }.is_null()) {
        return Err(invalid);
    }
    Ok((e, ft))
}

/// Export `ft`'s arguments, read from C values (`args` holds one non-NULL pointer each).
///
/// # Safety
/// Each pointer must point at a C value of its parameter's type.
unsafe fn read_args(
    types: &[TypeDef],
    ft: &FuncTy,
    args: *const *const c_void,
) -> Result<Vec<Val>, u32> {
    let conv = CValues::new(types);
    let mut vals = Vec::with_capacity(ft.params.len());
    for (k, (_, t)) in ft.params.iter().enumerate() {
        // SAFETY: the caller guarantees one valid pointer per parameter.
        let p = unsafe { *args.add(k) } as *const u8;
        // SAFETY: `p` points at a C value of type `t` (or is NULL, which `read` refuses).
        match unsafe { conv.read(*t, p) } {
            Ok(v) => vals.push(v),
            Err(c) => return Err(c as u32),
        }
    }
    Ok(vals)
}

/// A call's outcome as C sees it: 0 with the result written to `ret`, or the trap code.
///
/// # Safety
/// `ret` must be writable for `ft`'s result type (or unused when there is none).
unsafe fn write_result(
    types: &[TypeDef],
    ft: &FuncTy,
    result: Result<Option<Val>, Trap>,
    ret: *mut c_void,
) -> u32 {
    let conv = CValues::new(types);
    match result {
        Ok(v) => match (ft.result, v) {
            // SAFETY: `ret` is writable for the result type.
            (Some(r), Some(v)) => match unsafe { conv.write(r, &v, ret as *mut u8) } {
                Ok(()) => 0,
                Err(c) => c as u32,
            },
            (None, None) => 0,
            _ => TrapCode::InvalidValue as u32,
        },
        Err(t) => t.code as u32,
    }
}

/// `weld_async_call`: a call of an async export in progress (`weld_component_call_start`).
#[derive(Debug)]
pub struct WeldCall {
    call: AsyncCall,
    export_index: u32,
}

/// `weld_component_call_poll` and the others' answer while the call has not resolved.
pub const WELD_CALL_PENDING: u32 = 0x100;
/// Their answer for a call cancelled before it returned.
pub const WELD_CALL_CANCELLED: u32 = 0x101;

/// Start a call of async export `export_index` with arguments as for `weld_component_call`;
/// the handle goes to `*call`. Returns 0 or the trap code (then `*call` is NULL).
///
/// # Safety
/// As `weld_component_call`; `call` must be writable.
#[no_mangle]
pub unsafe extern "C" fn weld_component_call_start(
    inst: *mut WeldComponent,
    export_index: u32,
    args: *const *const c_void,
    call: *mut *mut WeldCall,
) -> u32 {
    let invalid = TrapCode::InvalidValue as u32;
    if inst.is_null() || call.is_null() {
        return invalid;
    }
    // SAFETY: `call` is writable.
    unsafe { *call = core::ptr::null_mut() };
    // SAFETY: the caller guarantees a live instance, not used elsewhere during the call.
    let inst = unsafe { &mut *inst };
    let module = inst.instance.module().clone();
    let info = module.info();
    // SAFETY: the caller guarantees one pointer per parameter.
    let (e, ft) = match unsafe { export_args(info, export_index, args) } {
        Ok(found) => found,
        Err(c) => return c,
    };
    // SAFETY: as above.
    let vals = match unsafe { read_args(&info.types, ft, args) } {
        Ok(v) => v,
        Err(c) => return c,
    };
    match inst.instance.start_call(&mut inst.store, &e.name, &vals) {
        Ok(c) => {
            let handle = Box::new(WeldCall {
                call: c,
                export_index,
            });
            // SAFETY: `call` is writable.
            unsafe { *call = Box::into_raw(handle) };
            0
        }
        Err(t) => t.code as u32,
    }
}

/// How [`finish`] moves a call on.
#[derive(Clone, Copy)]
enum Step {
    Poll,
    Wait,
    Cancel,
}

/// Move `call` on by `step`; on a final answer write the result and free the handle.
///
/// # Safety
/// As the public functions that call it.
unsafe fn finish(
    inst: *mut WeldComponent,
    call: *mut WeldCall,
    ret: *mut c_void,
    step: Step,
) -> u32 {
    if inst.is_null() || call.is_null() {
        return TrapCode::InvalidValue as u32;
    }
    // SAFETY: the caller guarantees a live instance and a live handle of it.
    let (inst, c) = unsafe { (&mut *inst, &*call) };
    let module = inst.instance.module().clone();
    let info = module.info();
    let Some(ft) = info
        .exports
        .get(c.export_index as usize)
        .and_then(|e| info.func_types.get(e.func.ty as usize))
    else {
        return TrapCode::InvalidValue as u32;
    };
    if ft.result.is_some() && ret.is_null() {
        return TrapCode::InvalidValue as u32;
    }
    let state = match step {
        Step::Poll => inst.instance.poll_call(&mut inst.store, &c.call),
        Step::Cancel => inst.instance.cancel_call(&mut inst.store, &c.call),
        Step::Wait => {
            // SAFETY: the handle came from `Box::into_raw`; it is over after this.
            let owned = unsafe { Box::from_raw(call) };
            let r = inst.instance.wait_call(&mut inst.store, owned.call);
            return match r {
                Ok(CallState::Returned(v)) => {
                    // SAFETY: the caller guarantees `ret` writable for the result type.
                    unsafe { write_result(&info.types, ft, Ok(v), ret) }
                }
                Ok(CallState::Cancelled) => WELD_CALL_CANCELLED,
                Ok(CallState::Pending) => TrapCode::InvalidValue as u32,
                Err(t) => t.code as u32,
            };
        }
    };
    let answer = match state {
        Ok(CallState::Pending) => return WELD_CALL_PENDING,
        Ok(CallState::Returned(v)) => {
            // SAFETY: the caller guarantees `ret` writable for the result type.
            unsafe { write_result(&info.types, ft, Ok(v), ret) }
        }
        Ok(CallState::Cancelled) => WELD_CALL_CANCELLED,
        Err(t) => t.code as u32,
    };
    // SAFETY: the handle came from `Box::into_raw`; the call is over.
    drop(unsafe { Box::from_raw(call) });
    answer
}

/// Run what can run without blocking; `WELD_CALL_PENDING` (the handle stays valid), or the
/// final answer: 0 with the result in `ret`, `WELD_CALL_CANCELLED`, or a trap code (then the
/// handle is freed).
///
/// # Safety
/// `inst` live; `call` a live handle of it; `ret` writable for the result type.
#[no_mangle]
pub unsafe extern "C" fn weld_component_call_poll(
    inst: *mut WeldComponent,
    call: *mut WeldCall,
    ret: *mut c_void,
) -> u32 {
    // SAFETY: the caller's guarantees are `finish`'s.
    unsafe { finish(inst, call, ret, Step::Poll) }
}

/// Run until the call resolves; its final answer as for `weld_component_call_poll` (a call that
/// can never resolve traps with the deadlock code). The handle is freed.
///
/// # Safety
/// As `weld_component_call_poll`.
#[no_mangle]
pub unsafe extern "C" fn weld_component_call_wait(
    inst: *mut WeldComponent,
    call: *mut WeldCall,
    ret: *mut c_void,
) -> u32 {
    // SAFETY: the caller's guarantees are `finish`'s.
    unsafe { finish(inst, call, ret, Step::Wait) }
}

/// Ask the call's task to stop; its answer after the request as for `weld_component_call_poll`
/// (pending while the task has yet to reach a point where it learns of it).
///
/// # Safety
/// As `weld_component_call_poll`.
#[no_mangle]
pub unsafe extern "C" fn weld_component_call_cancel(
    inst: *mut WeldComponent,
    call: *mut WeldCall,
    ret: *mut c_void,
) -> u32 {
    // SAFETY: the caller's guarantees are `finish`'s.
    unsafe { finish(inst, call, ret, Step::Cancel) }
}
