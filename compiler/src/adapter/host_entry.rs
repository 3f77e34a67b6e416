//! A compiled host entry: the adapter through which a C host calls one export, its values in
//! the generated header's C layout.
//!
//! In: an export of the root component (its lifted function and type). Out: an adapter module
//! whose one export, `adapter`, is `(args: i64, ret: i64) -> ()`. The C host is treated as a
//! component whose memory is its whole address space, a 64-bit memory
//! ([`CoreDef::HostMemory`]): on a 64-bit host the header's C layout is exactly the Canonical
//! ABI's layout over such a memory (8-byte pointers and lengths), so the same value translator
//! ([`super::values`]) that fuses two components lowers C arguments into the component and
//! lifts its result into C, with the host side `wide`:
//!
//! ```text
//! adapter(args, ret): trap unless callee.may_enter; every argument checked (super::checks)
//!                     callee.may_enter = 0; [callee.may_leave = 0]
//!                     param k read from the C value at *(args + 8k), lowered into the callee
//!                     (flat, or into a buffer from its realloc); [callee.may_leave = 1]
//!                     r = callee(..)
//!                     result lifted from r into *ret (strings and lists from HostRealloc)
//!                     callee.may_leave = 0; post_return(r); callee.may_leave = 1
//!                     callee.may_enter = 1
//! ```
//!
//! The host's values are checked before the instance is entered, so that a bad argument leaves
//! it usable (strings with `HostValidateUtf8`); the host's pointers are otherwise trusted (the
//! header's contract), while everything read from the component is checked as in a fused
//! call. Covered: every value type but resource handles, between UTF-8 sides
//! ([`covers`]).

use super::body::{valtype, Body, Size};
use super::module::{
    allocates, call_into_locals, call_post_return, finish, holds, is_string, set, AdapterModule,
    Imports,
};
use super::values::{Cx, HandleFuncs, Loc, Side, Slot};
use wasm_encoder::{Instruction as I, ValType};
use weld_contract::component::abi::{flatten_functype, Types, MAX_FLAT_PARAMS};
use weld_contract::component::{ComponentExport, ComponentFlag, CoreDef, FuncTy, Intrinsic};
use weld_contract::trap::TrapCode;

/// Whether export `e` (of type `ft`) gets a compiled host entry ([`super::host_covers`]).
pub fn covers(types: Types<'_>, e: &ComponentExport, ft: &FuncTy) -> bool {
    super::host_covers(types, e.func.opts.encoding, ft)
}

/// Build the host entry of export `e` (function type `ft`).
pub fn build(types: Types<'_>, e: &ComponentExport, ft: &FuncTy) -> AdapterModule {
    let callee = &e.func;
    let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
    let strings_in = params.iter().any(|t| holds(types, *t, 0, is_string));
    let strings_out = ft.result.is_some_and(|t| holds(types, t, 0, is_string));
    let mut im = Imports::default();
    let intrinsic = |op| CoreDef::Intrinsic { op, memory: None };
    let trap = im.func(intrinsic(Intrinsic::Trap), &[ValType::I32], &[]);
    let host = Side {
        wide: true,
        memory: Some(im.memory(CoreDef::HostMemory, true)),
        realloc: Some(im.func(
            intrinsic(Intrinsic::HostRealloc),
            &[ValType::I64; 4],
            &[ValType::I64],
        )),
        validate_utf8: strings_in.then(|| {
            im.func(
                intrinsic(Intrinsic::HostValidateUtf8),
                &[ValType::I64; 2],
                &[],
            )
        }),
        transcode: None,
        free: None,
        checked: false,
    };
    let component = im.side(&callee.opts, strings_out, None);
    let (lift_params, lift_results) = flatten_functype(types, &params, ft.result, false);
    let (callee_func, post_return) = im.lifted(callee, &lift_params, &lift_results);
    let may_enter = im.flag(callee.opts.instance, ComponentFlag::MayEnter);
    let may_leave = im.flag(callee.opts.instance, ComponentFlag::MayLeave);

    let (args, ret) = (0, 1);
    let mut body = Body::new(2, trap);
    body.push(I::GlobalGet(may_enter));
    body.push(I::I32Eqz);
    body.trap_if(TrapCode::CannotEnterComponent);
    // The host's arguments are checked before the instance is entered: a bad one is the
    // caller's error, which leaves the instance usable.
    let no_handles = HandleFuncs::default();
    let addrs = argument_addresses(&mut body, params.len() as u32, args, host);
    {
        let mut cx = Cx::new(&mut body, types, (host, component), &no_handles);
        for (t, a) in params.iter().zip(&addrs) {
            if super::checks::can_fail(&cx, *t, 0) {
                cx.check(*t, host_loc(host, *a));
            }
        }
    }
    let host = Side {
        checked: true,
        ..host
    };
    set(&mut body, may_enter, 0);
    let args_allocate = types.flatten_all(&params).len() > MAX_FLAT_PARAMS
        || params.iter().any(|t| holds(types, *t, 0, allocates));
    if args_allocate {
        set(&mut body, may_leave, 0);
    }
    let sides = (host, component);
    let callee_args = lower_arguments(&mut body, types, &params, &addrs, sides, &no_handles);
    if args_allocate {
        set(&mut body, may_leave, 1);
    }
    let results = call_into_locals(&mut body, callee_func, &callee_args, &lift_results);
    if let Some(t) = ft.result {
        lift_result(&mut body, types, t, &results, ret, (component, host));
    }
    call_post_return(&mut body, post_return, may_leave, &results);
    set(&mut body, may_enter, 1);
    body.push(I::End);
    finish(im, body, &[ValType::I64; 2], &[])
}

/// The address of each C argument (parameter `k`'s is stored at `args + 8k`), in new locals.
fn argument_addresses(body: &mut Body, n: u32, args: u32, host: Side) -> Vec<u32> {
    let host_mem = host.memory.unwrap_or(0);
    (0..n)
        .map(|k| {
            let a = body.local(ValType::I64);
            body.push(I::LocalGet(args));
            body.push(I::I64Load(super::body::memarg(host_mem, 8 * k, 3)));
            body.push(I::LocalSet(a));
            a
        })
        .collect()
}

/// The C value at address local `a` of the host's memory.
fn host_loc(host: Side, a: u32) -> Loc<'static> {
    Loc::Mem {
        mem: host.memory.unwrap_or(0),
        addr: a,
        offset: 0,
    }
}

/// Lower each C argument (at the addresses in locals `addrs`) into the callee: flat, or into
/// one buffer from its `realloc` when the parameters spill. Returns the callee's argument
/// locals.
fn lower_arguments(
    body: &mut Body,
    types: Types<'_>,
    params: &[u32],
    addrs: &[u32],
    (host, to): (Side, Side),
    handles: &HandleFuncs,
) -> Vec<u32> {
    let from = |a: u32| host_loc(host, a);
    let flats = types.flatten_all(params);
    if flats.len() <= MAX_FLAT_PARAMS {
        let dst: Vec<Slot> = flats
            .iter()
            .map(|ty| Slot {
                local: body.local(valtype(*ty)),
                ty: *ty,
            })
            .collect();
        let mut cx = Cx::new(body, types, (host, to), handles);
        let mut at = 0;
        for (t, a) in params.iter().zip(addrs) {
            let n = types.flat_count(*t);
            cx.value(*t, from(*a), Loc::Flat(dst.get(at..at + n).unwrap_or(&[])));
            at += n;
        }
        return dst.iter().map(|s| s.local).collect();
    }
    let (Some(to_mem), align, size) = (
        to.memory,
        types.record_align(params),
        types.record_size(params),
    ) else {
        body.trap(TrapCode::InvalidValue);
        return vec![body.local(ValType::I32)];
    };
    let q = body.allocate(to, align, Size::Const(size), TrapCode::MemoryOutOfBounds);
    let offsets = types.field_offsets(params);
    let mut cx = Cx::new(body, types, (host, to), handles);
    for ((t, a), off) in params.iter().zip(addrs).zip(offsets) {
        let dst = Loc::Mem {
            mem: to_mem,
            addr: q,
            offset: off,
        };
        cx.value(*t, from(*a), dst);
    }
    vec![q]
}

/// Lift the callee's result (flat, or in its memory at the pointer it returned, checked) into
/// the C value at `ret`.
fn lift_result(
    body: &mut Body,
    types: Types<'_>,
    t: u32,
    results: &[u32],
    ret: u32,
    (from, host): (Side, Side),
) {
    let no_handles = HandleFuncs::default();
    let (Some(host_mem), Some(r)) = (host.memory, results.first()) else {
        return body.trap(TrapCode::InvalidValue);
    };
    let dst = Loc::Mem {
        mem: host_mem,
        addr: ret,
        offset: 0,
    };
    if types.flat_count(t) == 1 {
        let src = [Slot {
            local: *r,
            ty: types.flatten_all(&[t])[0],
        }];
        return Cx::new(body, types, (from, host), &no_handles).value(t, Loc::Flat(&src), dst);
    }
    let Some(from_mem) = from.memory else {
        return body.trap(TrapCode::InvalidValue);
    };
    body.check_align(*r, false, types.align(t), TrapCode::UnalignedPointer);
    body.check_range(
        (from_mem, false),
        *r,
        None,
        types.size(t),
        TrapCode::MemoryOutOfBounds,
    );
    let src = Loc::Mem {
        mem: from_mem,
        addr: *r,
        offset: 0,
    };
    Cx::new(body, types, (from, host), &no_handles).value(t, src, dst);
}
