//! A compiled host call: the adapter through which a component calls a C host function that
//! serves one of its imports, the values in the generated header's C layout.
//!
//! In: a lowering of a host import (the caller's options and the function type). Out: an
//! adapter module exporting `adapter` with the lowered core signature, which the runtime binds
//! the lowering to when the host serves the import with a C function
//! (`Lowering::host_call`); other hosts keep the trampoline. As for host entries
//! ([`super::host_entry`]) the host is a component whose memory is its address space, `wide`:
//!
//! ```text
//! adapter(params..): trap unless caller.may_leave; mark = ScratchMark()
//!                    args = 8 bytes per parameter, and each argument's C value, in scratch
//!                    param k lifted from the caller, lowered into its C value (strings and
//!                    lists into scratch too); ret = the result's C value, in scratch
//!                    HostCall(args, ret)                 (a non-zero return traps)
//!                    [caller.may_leave = 0] result lifted from *ret into the caller, each
//!                    string and list freed (HostFree) once copied; [caller.may_leave = 1]
//!                    ScratchRelease(mark); return the result
//! ```
//!
//! The scratch arena gives the host its arguments for the call only (the header's contract:
//! arguments are borrowed), and takes them back in one step; results are the host's
//! `malloc`ed buffers, which it hands over.

use super::body::{memarg, valtype, Body, Size};
use super::module::{finish, holds, is_string, set, valtypes, AdapterModule, Imports};
use super::values::{Cx, HandleFuncs, Loc, Side, Slot};
use wasm_encoder::{Instruction as I, ValType};
use weld_contract::component::abi::{flatten_functype, Types, MAX_FLAT_PARAMS};
use weld_contract::component::{ComponentFlag, CoreDef, FuncTy, Intrinsic, Lowering, TypeDef};
use weld_contract::trap::TrapCode;

/// Whether lowering `l` (of type `ft`) of a host import gets a compiled host call
/// ([`super::host_covers`]).
pub fn covers(types: Types<'_>, l: &Lowering, ft: &FuncTy) -> bool {
    super::host_covers(types, l.opts.encoding, ft)
}

/// The host side's imports: its memory, scratch allocator, result checks and `free`.
fn host_side(im: &mut Imports, strings_out: bool, results: bool) -> Side {
    let intrinsic = |op| CoreDef::Intrinsic { op, memory: None };
    let memory = Some(im.memory(CoreDef::HostMemory, true));
    let realloc = Some(im.func(
        intrinsic(Intrinsic::ScratchAlloc),
        &[ValType::I64; 4],
        &[ValType::I64],
    ));
    let validate_utf8 = strings_out.then(|| {
        im.func(
            intrinsic(Intrinsic::HostValidateUtf8),
            &[ValType::I64; 2],
            &[],
        )
    });
    let free = results.then(|| im.func(intrinsic(Intrinsic::HostFree), &[ValType::I64; 3], &[]));
    Side {
        wide: true,
        memory,
        realloc,
        validate_utf8,
        transcode: None,
        free,
        checked: false,
    }
}

/// Build the host call of lowering `l` of host import `import` (function type `ft`).
pub fn build(types: Types<'_>, import: u32, l: &Lowering, ft: &FuncTy) -> AdapterModule {
    let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
    let strings_in = params.iter().any(|t| holds(types, *t, 0, is_string));
    let strings_out = ft.result.is_some_and(|t| holds(types, t, 0, is_string));
    let allocates =
        |d: &TypeDef| matches!(d, TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. });
    let result_allocates = ft.result.is_some_and(|t| holds(types, t, 0, allocates));
    let mut im = Imports::default();
    let intrinsic = |op| CoreDef::Intrinsic { op, memory: None };
    let trap = im.func(intrinsic(Intrinsic::Trap), &[ValType::I32], &[]);
    let caller = im.side(&l.opts, strings_in, None);
    let host = host_side(&mut im, strings_out, result_allocates);
    let mark_fn = im.func(intrinsic(Intrinsic::ScratchMark), &[], &[ValType::I64]);
    let release_fn = im.func(intrinsic(Intrinsic::ScratchRelease), &[ValType::I64], &[]);
    let call = im.func(CoreDef::HostCall(import), &[ValType::I64; 2], &[]);
    let may_leave = im.flag(l.opts.instance, ComponentFlag::MayLeave);

    let (lower_params, lower_results) = flatten_functype(types, &params, ft.result, true);
    let mut body = Body::new(lower_params.len() as u32, trap);
    body.push(I::GlobalGet(may_leave));
    body.push(I::I32Eqz);
    body.trap_if(TrapCode::CannotLeaveComponent);
    let mark = body.local(ValType::I64);
    body.push(I::Call(mark_fn));
    body.push(I::LocalSet(mark));
    let no_handles = HandleFuncs::default();
    let args = lower_arguments(&mut body, types, &params, (caller, host), &no_handles);
    let host_mem = host.memory.unwrap_or(0);
    let ret = body.local(ValType::I64);
    if let Some(t) = ft.result {
        let c = types.with_memory64(true);
        let r = body.allocate(
            host,
            c.align(t),
            Size::Const(c.size(t)),
            TrapCode::InvalidValue,
        );
        body.push(I::LocalGet(r));
        body.push(I::LocalSet(ret));
    }
    body.push(I::LocalGet(args));
    body.push(I::LocalGet(ret));
    body.push(I::Call(call));
    if result_allocates {
        set(&mut body, may_leave, 0);
    }
    let out = ft.result.map(|t| {
        let retptr = (lower_params.len() as u32).saturating_sub(1);
        let src = Loc::Mem {
            mem: host_mem,
            addr: ret,
            offset: 0,
        };
        lift_result(&mut body, types, t, src, retptr, (host, caller))
    });
    if result_allocates {
        set(&mut body, may_leave, 1);
    }
    body.push(I::LocalGet(mark));
    body.push(I::Call(release_fn));
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

/// Lower the caller's arguments (flat parameters, or the tuple its pointer addresses) into C
/// values in scratch, one pointer to each in an array there. Returns the array's local.
fn lower_arguments(
    body: &mut Body,
    types: Types<'_>,
    params: &[u32],
    (from, host): (Side, Side),
    handles: &HandleFuncs,
) -> u32 {
    let host_mem = host.memory.unwrap_or(0);
    let c = types.with_memory64(true);
    let n = params.len() as u32;
    let args = body.allocate(host, 8, Size::Const(8 * n.max(1)), TrapCode::InvalidValue);
    let dsts: Vec<u32> = params
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let a = body.allocate(
                host,
                c.align(*t),
                Size::Const(c.size(*t)),
                TrapCode::InvalidValue,
            );
            body.push(I::LocalGet(args));
            body.push(I::LocalGet(a));
            body.push(I::I64Store(memarg(host_mem, 8 * k as u32, 3)));
            a
        })
        .collect();
    let dst = |a: u32| Loc::Mem {
        mem: host_mem,
        addr: a,
        offset: 0,
    };
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
        let mut cx = Cx::new(body, types, (from, host), handles);
        let mut at = 0;
        for (t, a) in params.iter().zip(&dsts) {
            let k = types.flat_count(*t);
            cx.value(*t, Loc::Flat(src.get(at..at + k).unwrap_or(&[])), dst(*a));
            at += k;
        }
        return args;
    }
    let Some(from_mem) = from.memory else {
        body.trap(TrapCode::InvalidValue);
        return args;
    };
    let (align, size) = (types.record_align(params), types.record_size(params));
    body.check_align(0, false, align, TrapCode::UnalignedPointer);
    body.check_range(
        (from_mem, false),
        0,
        None,
        size,
        TrapCode::MemoryOutOfBounds,
    );
    let offsets = types.field_offsets(params);
    let mut cx = Cx::new(body, types, (from, host), handles);
    for ((t, a), off) in params.iter().zip(&dsts).zip(offsets) {
        let src = Loc::Mem {
            mem: from_mem,
            addr: 0,
            offset: off,
        };
        cx.value(*t, src, dst(*a));
    }
    args
}

/// Lift the host's result from `src` into the caller: a new local when it is one flat value
/// (returned), else into the caller's return area at local `retptr` (checked).
fn lift_result(
    body: &mut Body,
    types: Types<'_>,
    t: u32,
    src: Loc<'_>,
    retptr: u32,
    (host, to): (Side, Side),
) -> Option<u32> {
    let no_handles = HandleFuncs::default();
    let flats = types.flatten_all(&[t]);
    if let [flat] = flats.as_slice() {
        let dst = [Slot {
            local: body.local(valtype(*flat)),
            ty: *flat,
        }];
        Cx::new(body, types, (host, to), &no_handles).value(t, src, Loc::Flat(&dst));
        return Some(dst[0].local);
    }
    let Some(to_mem) = to.memory else {
        body.trap(TrapCode::InvalidValue);
        return None;
    };
    body.check_align(retptr, false, types.align(t), TrapCode::UnalignedPointer);
    body.check_range(
        (to_mem, false),
        retptr,
        None,
        types.size(t),
        TrapCode::MemoryOutOfBounds,
    );
    let dst = Loc::Mem {
        mem: to_mem,
        addr: retptr,
        offset: 0,
    };
    Cx::new(body, types, (host, to), &no_handles).value(t, src, dst);
    None
}
