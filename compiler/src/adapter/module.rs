//! One adapter as a core wasm module.
//!
//! In: a fused lowering (the caller's `canon lower` of the callee's `canon lift`, same
//! function type) and the type arena. Out: the module's bytes and, in import order, what each
//! import is wired to. The module imports the two sides' memories, `realloc`s, the callee's
//! core function and post-return, the flags it checks (as `i32` globals) and the runtime's
//! intrinsics, and exports one function, `adapter`, with the lowered core signature:
//!
//! ```text
//! adapter(params...):  trap unless caller.may_leave; trap unless callee.may_enter
//!                      callee.may_enter = 0; callee.may_leave = 0; [begin_call]
//!                      args = params lowered into the callee (flat, or a realloc'd buffer)
//!                      callee.may_leave = 1
//!                      r = callee(args); [finish_call: no borrow left in the callee]
//!                      caller.may_leave = 0; result lifted from r, lowered for the caller
//!                      caller.may_leave = 1
//!                      callee.may_leave = 0; post_return(r); callee.may_leave = 1
//!                      callee.may_enter = 1; [end_call: loans end]; return result
//! ```
//!
//! The bracketed handle operations are imported only when a resource handle crosses, and the
//! `may_leave` writes are made only around lowering that can call a `realloc` (strings, lists,
//! spilled parameters): anywhere else no code runs that could observe them.
//!
//! A trap leaves the flags as they are: the callee stays unenterable (poisoned), as the
//! runtime's generic path leaves it.

use super::body::{valtype, Body, Size};
use super::values::{Cx, HandleFuncs, Loc, Side, Slot};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, Instruction as I, MemoryType, Module, TypeSection, ValType,
};
use weld_contract::component::abi::{flatten_functype, Flat, Types, MAX_FLAT_PARAMS};
use weld_contract::component::{
    ComponentFlag, CoreDef, FuncTy, HandleOp, Intrinsic, Lifted, Lowering, StringEncoding, TypeDef,
};
use weld_contract::trap::TrapCode;

/// Name of the adapter module's one export.
pub const EXPORT: &str = weld_contract::component::ADAPTER_EXPORT;

/// A generated adapter: its bytes and the definition of each import, in order.
pub struct AdapterModule {
    pub bytes: Vec<u8>,
    pub args: Vec<CoreDef>,
}

/// Imports being declared: the section, the wiring, and index counters.
#[derive(Default)]
pub(super) struct Imports {
    section: ImportSection,
    types: TypeSection,
    args: Vec<CoreDef>,
    funcs: u32,
    memories: u32,
    globals: u32,
}

impl Imports {
    pub(super) fn func(&mut self, def: CoreDef, params: &[ValType], results: &[ValType]) -> u32 {
        let ty = self.types.len();
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        self.section
            .import("", &self.args.len().to_string(), EntityType::Function(ty));
        self.args.push(def);
        self.funcs += 1;
        self.funcs - 1
    }

    /// The lifted function `f` (of core signature `params` → `results`) and its post-return
    /// function, if it has one.
    pub(super) fn lifted(
        &mut self,
        f: &Lifted,
        params: &[Flat],
        results: &[Flat],
    ) -> (u32, Option<u32>) {
        let func = self.func(f.func.clone(), &valtypes(params), &valtypes(results));
        let post_return = f
            .opts
            .post_return
            .clone()
            .map(|pr| self.func(pr, &valtypes(results), &[]));
        (func, post_return)
    }

    /// A memory import (`wide`: a 64-bit memory).
    pub(super) fn memory(&mut self, def: CoreDef, wide: bool) -> u32 {
        let ty = MemoryType {
            minimum: 0,
            maximum: None,
            memory64: wide,
            shared: false,
            page_size_log2: None,
        };
        self.section
            .import("", &self.args.len().to_string(), EntityType::Memory(ty));
        self.args.push(def);
        self.memories += 1;
        self.memories - 1
    }

    pub(super) fn flag(&mut self, instance: u32, flag: ComponentFlag) -> u32 {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        self.section
            .import("", &self.args.len().to_string(), EntityType::Global(ty));
        self.args.push(CoreDef::Flag { instance, flag });
        self.globals += 1;
        self.globals - 1
    }

    /// A side's memory and `realloc`, and for strings leaving it the UTF-8 check (UTF-8 on
    /// both sides) or `transcode`.
    pub(super) fn side(
        &mut self,
        opts: &weld_contract::component::CanonOpts,
        strings_out: bool,
        transcode: Option<CoreDef>,
    ) -> Side {
        let memory = opts
            .memory
            .clone()
            .map(|m| (self.memory(m.clone(), false), m));
        let i32s = [ValType::I32; 4];
        let realloc = opts
            .realloc
            .clone()
            .map(|r| self.func(r, &i32s, &[ValType::I32]));
        let transcode = transcode
            .filter(|_| strings_out)
            .map(|t| self.func(t, &i32s[..2], &[ValType::I64]));
        let validate_utf8 = match (&memory, strings_out && transcode.is_none()) {
            (Some((_, CoreDef::Export { instance, name })), true) => Some(self.func(
                CoreDef::Intrinsic {
                    op: Intrinsic::ValidateUtf8,
                    memory: Some((*instance, name.clone())),
                },
                &i32s[..2],
                &[],
            )),
            _ => None,
        };
        Side {
            wide: false,
            memory: memory.map(|(i, _)| i),
            realloc,
            validate_utf8,
            transcode,
            free: None,
            checked: false,
        }
    }
}

pub(super) fn valtypes(flats: &[Flat]) -> Vec<ValType> {
    flats.iter().map(|f| valtype(*f)).collect()
}

/// Whether a value of `t` holds a type that `pred` picks (anything, past [`super::MAX_DEPTH`]).
pub(super) fn holds(types: Types<'_>, t: u32, depth: u32, pred: fn(&TypeDef) -> bool) -> bool {
    depth > super::MAX_DEPTH
        || pred(types.get(t))
        || super::children(types, t)
            .into_iter()
            .any(|c| holds(types, c, depth + 1, pred))
}

/// A string: it crosses through the UTF-8 check or the transcoder.
pub(super) fn is_string(def: &TypeDef) -> bool {
    matches!(def, TypeDef::String)
}

/// A string or a variable-length list (or map): moving it allocates on the receiving side.
pub(super) fn allocates(def: &TypeDef) -> bool {
    matches!(
        def,
        TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. }
    )
}

/// The resource types of the own and borrow handles a value of `t` can hold.
fn resources(types: Types<'_>, t: u32, depth: u32, own: &mut Vec<u32>, borrow: &mut Vec<u32>) {
    if depth > super::MAX_DEPTH {
        return;
    }
    match types.get(t) {
        TypeDef::Own(r) if !own.contains(r) => own.push(*r),
        TypeDef::Borrow(r) if !borrow.contains(r) => borrow.push(*r),
        _ => {}
    }
    for c in super::children(types, t) {
        resources(types, c, depth + 1, own, borrow);
    }
}

/// The handle operations of lowering `index` for the parameters and for the result, and the
/// call bracket (begin, finish, end) when any handle crosses.
fn handle_funcs(
    im: &mut Imports,
    types: Types<'_>,
    index: u32,
    params: &[u32],
    result: Option<u32>,
) -> (HandleFuncs, HandleFuncs, Option<[u32; 3]>) {
    let (mut own_in, mut borrow_in, mut own_out, mut borrow_out) = Default::default();
    for t in params {
        resources(types, *t, 0, &mut own_in, &mut borrow_in);
    }
    if let Some(t) = result {
        resources(types, t, 0, &mut own_out, &mut borrow_out);
    }
    let mut import = |op: HandleOp, resource: u32| {
        let def = CoreDef::Handle {
            op,
            lowering: index,
            resource,
        };
        let n = usize::from(op.maps_handle());
        im.func(def, &[ValType::I32][..n], &[ValType::I32][..n])
    };
    let any = !(own_in.is_empty() && borrow_in.is_empty() && own_out.is_empty());
    let bracket = any.then(|| {
        [HandleOp::BeginCall, HandleOp::FinishCall, HandleOp::EndCall].map(|op| import(op, 0))
    });
    let map = |rs: Vec<u32>, op: HandleOp, import: &mut dyn FnMut(HandleOp, u32) -> u32| {
        rs.into_iter().map(|r| (r, import(op, r))).collect()
    };
    let params = HandleFuncs {
        own: map(own_in, HandleOp::OwnIn, &mut import),
        borrow: map(borrow_in, HandleOp::BorrowIn, &mut import),
    };
    // A result cannot hold a borrow (validation); one that did would trap in `values`.
    let results = HandleFuncs {
        own: map(own_out, HandleOp::OwnOut, &mut import),
        borrow: Vec::new(),
    };
    (params, results, bracket)
}

/// Build the adapter of lowering `l` (number `index`) of `callee` (function type `ft`).
pub fn build(
    types: Types<'_>,
    index: u32,
    l: &Lowering,
    callee: &Lifted,
    ft: &FuncTy,
) -> AdapterModule {
    let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
    let strings_in = params.iter().any(|t| holds(types, *t, 0, is_string));
    let strings_out = ft.result.is_some_and(|t| holds(types, t, 0, is_string));
    let mut im = Imports::default();
    let trap = im.func(
        CoreDef::Intrinsic {
            op: Intrinsic::Trap,
            memory: None,
        },
        &[ValType::I32],
        &[],
    );
    let utf8 =
        l.opts.encoding == StringEncoding::Utf8 && callee.opts.encoding == StringEncoding::Utf8;
    let transcode = |results| {
        (!utf8).then_some(CoreDef::Transcode {
            lowering: index,
            results,
        })
    };
    let caller = im.side(&l.opts, strings_in, transcode(false));
    let callee_side = im.side(&callee.opts, strings_out, transcode(true));
    let (lift_params, lift_results) = flatten_functype(types, &params, ft.result, false);
    let (callee_func, post_return) = im.lifted(callee, &lift_params, &lift_results);
    let (param_handles, result_handles, bracket) =
        handle_funcs(&mut im, types, index, &params, ft.result);
    let caller_may_leave = im.flag(l.opts.instance, ComponentFlag::MayLeave);
    let callee_may_enter = im.flag(callee.opts.instance, ComponentFlag::MayEnter);
    let callee_may_leave = im.flag(callee.opts.instance, ComponentFlag::MayLeave);

    let (lower_params, lower_results) = flatten_functype(types, &params, ft.result, true);
    let mut body = Body::new(lower_params.len() as u32, trap);
    for (flag, code) in [
        (caller_may_leave, TrapCode::CannotLeaveComponent),
        (callee_may_enter, TrapCode::CannotEnterComponent),
    ] {
        body.push(I::GlobalGet(flag));
        body.push(I::I32Eqz);
        body.trap_if(code);
    }
    // `may_leave` is cleared only around code that can call into the instance (its
    // `realloc`): elsewhere nothing could observe it.
    let args_allocate = types.flatten_all(&params).len() > MAX_FLAT_PARAMS
        || params.iter().any(|t| holds(types, *t, 0, allocates));
    let result_allocates = ft.result.is_some_and(|t| holds(types, t, 0, allocates));
    set(&mut body, callee_may_enter, 0);
    if args_allocate {
        set(&mut body, callee_may_leave, 0);
    }
    if let Some([begin, ..]) = bracket {
        body.push(I::Call(begin));
    }
    let args = lower_arguments(
        &mut body,
        types,
        &params,
        (caller, callee_side),
        &param_handles,
    );
    if args_allocate {
        set(&mut body, callee_may_leave, 1);
    }
    let results = call_into_locals(&mut body, callee_func, &args, &lift_results);
    if let Some([_, finish, _]) = bracket {
        body.push(I::Call(finish));
    }
    if result_allocates {
        set(&mut body, caller_may_leave, 0);
    }
    let out = ft.result.map(|t| {
        let retptr = (lower_params.len() as u32).saturating_sub(1);
        let sides = (callee_side, caller);
        lower_result(
            &mut body,
            types,
            t,
            &results,
            retptr,
            sides,
            &result_handles,
        )
    });
    if result_allocates {
        set(&mut body, caller_may_leave, 1);
    }
    call_post_return(&mut body, post_return, callee_may_leave, &results);
    set(&mut body, callee_may_enter, 1);
    if let Some([.., end]) = bracket {
        body.push(I::Call(end));
    }
    if let Some(Some(v)) = out {
        body.push(I::LocalGet(v));
    }
    body.push(I::End);
    finish(
        im,
        body,
        &valtypes(&lower_params),
        &valtypes(&lower_results),
    )
}

/// Call function `func` with the argument locals `args`; its results (of types `flats`) go to
/// new locals, which are returned.
pub(super) fn call_into_locals(
    body: &mut Body,
    func: u32,
    args: &[u32],
    flats: &[Flat],
) -> Vec<u32> {
    for a in args {
        body.push(I::LocalGet(*a));
    }
    body.push(I::Call(func));
    let results: Vec<u32> = flats.iter().map(|f| body.local(valtype(*f))).collect();
    for r in results.iter().rev() {
        body.push(I::LocalSet(*r));
    }
    results
}

/// Call the callee's post-return function, if it has one, on its core results, with its
/// `may_leave` flag cleared meanwhile.
pub(super) fn call_post_return(
    body: &mut Body,
    post_return: Option<u32>,
    may_leave: u32,
    results: &[u32],
) {
    if let Some(pr) = post_return {
        set(body, may_leave, 0);
        for r in results {
            body.push(I::LocalGet(*r));
        }
        body.push(I::Call(pr));
        set(body, may_leave, 1);
    }
}

pub(super) fn set(body: &mut Body, global: u32, v: i32) {
    body.push(I::I32Const(v));
    body.push(I::GlobalSet(global));
}

/// Lower the caller's arguments into the callee: flat to flat, or (spilled) from the tuple the
/// caller's pointer addresses into one from the callee's `realloc`. Returns the argument locals.
fn lower_arguments(
    body: &mut Body,
    types: Types<'_>,
    params: &[u32],
    (from, to): (Side, Side),
    handles: &HandleFuncs,
) -> Vec<u32> {
    let flats = types.flatten_all(params);
    if flats.len() <= MAX_FLAT_PARAMS {
        let src: Vec<Slot> = flats
            .iter()
            .enumerate()
            .map(|(i, ty)| Slot {
                local: i as u32,
                ty: *ty,
            })
            .collect();
        let dst: Vec<Slot> = flats
            .iter()
            .map(|ty| Slot {
                local: body.local(valtype(*ty)),
                ty: *ty,
            })
            .collect();
        let mut cx = Cx::new(body, types, (from, to), handles);
        cx.fields(params, Loc::Flat(&src), Loc::Flat(&dst));
        return dst.iter().map(|s| s.local).collect();
    }
    let (align, size) = (types.record_align(params), types.record_size(params));
    let (Some(from_mem), Some(to_mem)) = (from.memory, to.memory) else {
        body.trap(TrapCode::InvalidValue);
        return vec![body.local(ValType::I32)];
    };
    body.check_align(0, false, align, TrapCode::UnalignedPointer);
    body.check_range(
        (from_mem, false),
        0,
        None,
        size,
        TrapCode::MemoryOutOfBounds,
    );
    let q = body.allocate(to, align, Size::Const(size), TrapCode::MemoryOutOfBounds);
    let mut cx = Cx::new(body, types, (from, to), handles);
    let src = Loc::Mem {
        mem: from_mem,
        addr: 0,
        offset: 0,
    };
    let dst = Loc::Mem {
        mem: to_mem,
        addr: q,
        offset: 0,
    };
    cx.fields(params, src, dst);
    vec![q]
}

/// Lift the callee's result (flat, or in its memory at the pointer it returned) and lower it
/// for the caller: flat into a new local (returned), or into the caller's return area.
fn lower_result(
    body: &mut Body,
    types: Types<'_>,
    t: u32,
    results: &[u32],
    retptr: u32,
    (from, to): (Side, Side),
    handles: &HandleFuncs,
) -> Option<u32> {
    let mut flats = Vec::new();
    types.flatten(t, &mut flats);
    if let ([flat], [r]) = (flats.as_slice(), results) {
        let src = [Slot {
            local: *r,
            ty: *flat,
        }];
        let dst = [Slot {
            local: body.local(valtype(*flat)),
            ty: *flat,
        }];
        let mut cx = Cx::new(body, types, (from, to), handles);
        cx.value(t, Loc::Flat(&src), Loc::Flat(&dst));
        return Some(dst[0].local);
    }
    let (Some(from_mem), Some(to_mem), Some(r)) = (from.memory, to.memory, results.first()) else {
        body.trap(TrapCode::InvalidValue);
        return None;
    };
    let (align, size) = (types.align(t), types.size(t));
    body.check_align(*r, false, align, TrapCode::UnalignedPointer);
    body.check_range(
        (from_mem, false),
        *r,
        None,
        size,
        TrapCode::MemoryOutOfBounds,
    );
    body.check_align(retptr, false, align, TrapCode::UnalignedPointer);
    body.check_range(
        (to_mem, false),
        retptr,
        None,
        size,
        TrapCode::MemoryOutOfBounds,
    );
    let mut cx = Cx::new(body, types, (from, to), handles);
    let src = Loc::Mem {
        mem: from_mem,
        addr: *r,
        offset: 0,
    };
    let dst = Loc::Mem {
        mem: to_mem,
        addr: retptr,
        offset: 0,
    };
    cx.value(t, src, dst);
    None
}

/// Assemble the module: imports, the adapter's type, body and export.
pub(super) fn finish(
    mut im: Imports,
    body: Body,
    params: &[ValType],
    results: &[ValType],
) -> AdapterModule {
    let ty = im.types.len();
    im.types
        .ty()
        .function(params.iter().copied(), results.iter().copied());
    let mut funcs = FunctionSection::new();
    funcs.function(ty);
    let mut exports = ExportSection::new();
    exports.export(EXPORT, ExportKind::Func, im.funcs);
    let mut f = Function::new_with_locals_types(body.locals.iter().copied());
    for i in &body.insts {
        f.instruction(i);
    }
    let mut code = CodeSection::new();
    code.function(&f);
    let mut m = Module::new();
    m.section(&im.types);
    m.section(&im.section);
    m.section(&funcs);
    m.section(&exports);
    m.section(&code);
    AdapterModule {
        bytes: m.finish(),
        args: im.args,
    }
}
