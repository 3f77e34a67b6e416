//! Lowering trampolines: the native code behind every lowered function.
//!
//! A core instance imports a lowered function like any other: it calls `(vmctx, params...)`
//! through a funcref slot. For a lowering, that "vmctx" is the runtime's `VMLoweringContext`
//! and the code is a trampoline built here for the lowering's core signature, one per lowering.
//!
//! - **Generic**: spill the parameters into `ValRaw` slots on the stack, call
//!   `ctx.callback(ctx, slots)` — the runtime does the Canonical ABI work — and return the
//!   results the callback left in the slots.
//! - **Fused** (a call into another component's lifted function whose types need no linear
//!   memory: integers, floats, bools, chars, and records/tuples of them, at most 16 parameters
//!   and one result): check the caller's `may_leave` and the callee's `may_enter` flags, mark the
//!   callee entered, convert each value as lifting then lowering would (mask or sign-extend
//!   narrow integers, normalise bools), call the callee's core function directly, run its
//!   post-return, and mark it enterable again. No allocation, no dispatch: a handful of loads and
//!   stores around a direct call. Any failed check (flags, an invalid `char`) branches to the
//!   generic path, which repeats the check in the runtime and raises the proper trap — so the
//!   trampoline itself never traps and needs no trap table.
//!
//! ```text
//! fused(ctx, a, b):  if !caller.may_leave || !callee.may_enter  → generic(ctx, a, b)
//!                    callee.may_enter = 0; callee.may_leave = 1
//!                    r = callee.func(callee.vmctx, conv(a), conv(b))
//!                    if post_return { callee.may_leave = 0; post_return(r); callee.may_leave = 1 }
//!                    callee.may_enter = 1; return conv(r)
//! ```

use crate::codegen::{clif_type, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    condcodes::IntCC, types, AbiParam, ArgumentPurpose, Function, InstBuilder, MemFlagsData,
    Signature, StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_contract::component::descriptor::{
    FLAGS_MAY_ENTER, FLAGS_MAY_LEAVE, LOWERING_CALLBACK, LOWERING_CALLEE, LOWERING_CALLEE_FLAGS,
    LOWERING_CALLER_FLAGS, LOWERING_POST_RETURN,
};
use weld_contract::component::{ComponentInfo, LoweringTarget, TypeDef};
use weld_contract::info::ValType;
use weld_contract::vmctx::{FUNCREF_FUNC, FUNCREF_VMCTX, VALRAW_SIZE};

/// Namespace of lowering-trampoline names (functions use 0, export trampolines 1).
const NAMESPACE: u32 = 2;

/// How one flat value is converted between a fused call's caller and callee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// Passed as it is (32/64-bit integers, floats).
    Same,
    /// bool: zero stays zero, anything else becomes one.
    Bool,
    /// Keep the low 8 or 16 bits (u8, u16).
    Zero(u8),
    /// Sign-extend the low 8 or 16 bits (s8, s16).
    Sign(u8),
    /// char: must be a Unicode scalar value.
    Char,
}

fn convs(types: &[TypeDef], t: u32, out: &mut Vec<Conv>) -> Option<()> {
    match types.get(t as usize)? {
        TypeDef::Bool => out.push(Conv::Bool),
        TypeDef::U8 => out.push(Conv::Zero(8)),
        TypeDef::S8 => out.push(Conv::Sign(8)),
        TypeDef::U16 => out.push(Conv::Zero(16)),
        TypeDef::S16 => out.push(Conv::Sign(16)),
        TypeDef::S32 | TypeDef::U32 | TypeDef::S64 | TypeDef::U64 | TypeDef::F32 | TypeDef::F64 => {
            out.push(Conv::Same)
        }
        TypeDef::Char => out.push(Conv::Char),
        TypeDef::Record(fields) => {
            for (_, f) in fields {
                convs(types, *f, out)?;
            }
        }
        TypeDef::Tuple(ts) => {
            for f in ts {
                convs(types, *f, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// The conversions of a fused call for lowering `index`, if it can be fused: `(params, result)`.
pub fn fused_plan(info: &ComponentInfo, index: u32) -> Option<(Vec<Conv>, Vec<Conv>)> {
    let l = info.lowerings.get(index as usize)?;
    let LoweringTarget::Lifted(callee) = &l.target else {
        return None;
    };
    // Task-local context (context.get/set) is kept by the runtime's call path only.
    let uses_context = info
        .lowerings
        .iter()
        .any(|x| matches!(&x.target, LoweringTarget::Builtin(n) if n.starts_with("Context")));
    if uses_context || callee.ty != l.ty {
        return None;
    }
    let ft = info.func_types.get(l.ty as usize)?;
    let mut params = Vec::new();
    for (_, t) in &ft.params {
        convs(&info.types, *t, &mut params)?;
    }
    let mut results = Vec::new();
    if let Some(r) = ft.result {
        convs(&info.types, r, &mut results)?;
    }
    // A result is checked after the callee ran: an invalid char could no longer take the
    // generic path, so results that need checking are not fused.
    let ok = params.len() <= 16
        && results.len() <= 1
        && !results.contains(&Conv::Char)
        && params.len() == l.core_params.len()
        && results.len() == l.core_results.len();
    ok.then_some((params, results))
}

/// Compile the trampoline of lowering `index`.
pub fn compile_lowering_trampoline(
    env: &ModuleEnv<'_>,
    info: &ComponentInfo,
    index: u32,
) -> Result<CompiledFunction> {
    let (params, results) = info
        .lowerings
        .get(index as usize)
        .map(|l| (l.core_params.clone(), l.core_results.clone()))
        .unwrap_or_default();
    let plan = fused_plan(info, index);
    let call_conv = env.call_conv();
    let mut sig = Signature::new(call_conv);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(results.iter().map(|t| AbiParam::new(clif_type(*t))));
    let mut ctx = cranelift_codegen::Context::new();
    ctx.func = Function::with_name_signature(UserFuncName::user(NAMESPACE, index), sig.clone());
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let lctx = b.block_params(entry)[0];
        let args: Vec<Value> = b.block_params(entry)[1..].to_vec();
        let generic = b.create_block();
        if let Some((pconv, rconv)) = &plan {
            fused_body(
                &mut b, lctx, &args, pconv, rconv, &params, &results, generic, call_conv,
            );
        } else {
            b.ins().jump(generic, &[]);
        }
        b.switch_to_block(generic);
        b.seal_block(generic);
        if plan.is_some() {
            b.set_cold_block(generic);
        }
        generic_body(&mut b, lctx, &args, &params, &results, call_conv);
        b.finalize(env.isa.frontend_config());
    }
    crate::codegen::finish(env, &mut ctx, index)
}

/// Spill, call the runtime's callback, reload.
fn generic_body(
    b: &mut FunctionBuilder<'_>,
    lctx: Value,
    args: &[Value],
    params: &[ValType],
    results: &[ValType],
    call_conv: cranelift_codegen::isa::CallConv,
) {
    let slots = params.len().max(results.len()).max(1) as u32;
    let ss = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        slots * VALRAW_SIZE,
        4,
    ));
    let base = b.ins().stack_addr(types::I64, ss, 0);
    let flags = MemFlagsData::trusted();
    for (i, a) in args.iter().enumerate() {
        b.ins()
            .store(flags, *a, base, (i as u32 * VALRAW_SIZE) as i32);
    }
    let callback = b.ins().load(
        types::I64,
        MemFlagsData::trusted().with_readonly(),
        lctx,
        LOWERING_CALLBACK as i32,
    );
    let mut cb_sig = Signature::new(call_conv);
    cb_sig.params.push(AbiParam::new(types::I64));
    cb_sig.params.push(AbiParam::new(types::I64));
    let cb_sig = b.import_signature(cb_sig);
    b.ins().call_indirect(cb_sig, callback, &[lctx, base]);
    let mut out = Vec::new();
    for (i, r) in results.iter().enumerate() {
        out.push(
            b.ins()
                .load(clif_type(*r), flags, base, (i as u32 * VALRAW_SIZE) as i32),
        );
    }
    b.ins().return_(&out);
}

/// Convert one flat value (32-bit lanes for the narrow kinds).
fn convert(b: &mut FunctionBuilder<'_>, v: Value, c: Conv) -> Value {
    match c {
        Conv::Same | Conv::Char => v,
        Conv::Bool => {
            let nz = b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
            b.ins().uextend(types::I32, nz)
        }
        Conv::Zero(bits) => b.ins().band_imm_s(v, (1i64 << bits) - 1),
        Conv::Sign(bits) => {
            let narrow = if bits == 8 { types::I8 } else { types::I16 };
            let n = b.ins().ireduce(narrow, v);
            b.ins().sextend(types::I32, n)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fused_body(
    b: &mut FunctionBuilder<'_>,
    lctx: Value,
    args: &[Value],
    pconv: &[Conv],
    rconv: &[Conv],
    params: &[ValType],
    results: &[ValType],
    generic: cranelift_codegen::ir::Block,
    call_conv: cranelift_codegen::isa::CallConv,
) {
    let ro = MemFlagsData::trusted().with_readonly();
    let rw = MemFlagsData::trusted();
    let caller_flags = b
        .ins()
        .load(types::I64, ro, lctx, LOWERING_CALLER_FLAGS as i32);
    let callee_flags = b
        .ins()
        .load(types::I64, ro, lctx, LOWERING_CALLEE_FLAGS as i32);
    let may_leave = b
        .ins()
        .load(types::I32, rw, caller_flags, FLAGS_MAY_LEAVE as i32);
    let may_enter = b
        .ins()
        .load(types::I32, rw, callee_flags, FLAGS_MAY_ENTER as i32);
    let both = b.ins().band(may_leave, may_enter);
    let mut ok = b.ins().icmp_imm_s(IntCC::NotEqual, both, 0);
    for (a, c) in args.iter().zip(pconv) {
        if *c == Conv::Char {
            // A Unicode scalar value: below 0x110000 and not a surrogate.
            let in_range = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, *a, 0x11_0000);
            let off = b.ins().iadd_imm_s(*a, -0xD800);
            let surrogate = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, off, 0x800);
            let not_surrogate = b.ins().bnot(surrogate);
            let valid = b.ins().band(in_range, not_surrogate);
            ok = b.ins().band(ok, valid);
        }
    }
    let fast = b.create_block();
    b.ins().brif(ok, fast, &[], generic, &[]);
    b.switch_to_block(fast);
    b.seal_block(fast);
    let zero = b.ins().iconst(types::I32, 0);
    let one = b.ins().iconst(types::I32, 1);
    b.ins()
        .store(rw, zero, callee_flags, FLAGS_MAY_ENTER as i32);
    b.ins().store(rw, one, callee_flags, FLAGS_MAY_LEAVE as i32);
    let callee = b.ins().load(types::I64, ro, lctx, LOWERING_CALLEE as i32);
    let code = b.ins().load(types::I64, ro, callee, FUNCREF_FUNC as i32);
    let cvmctx = b.ins().load(types::I64, ro, callee, FUNCREF_VMCTX as i32);
    let mut call_args = vec![cvmctx];
    for (a, c) in args.iter().zip(pconv) {
        call_args.push(convert(b, *a, *c));
    }
    let mut callee_sig = Signature::new(call_conv);
    callee_sig
        .params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    callee_sig
        .params
        .extend(params.iter().map(|t| AbiParam::new(clif_type(*t))));
    callee_sig
        .returns
        .extend(results.iter().map(|t| AbiParam::new(clif_type(*t))));
    let callee_sig = b.import_signature(callee_sig);
    let call = b.ins().call_indirect(callee_sig, code, &call_args);
    let raw: Vec<Value> = b.inst_results(call).to_vec();
    // Post-return, with the callee not allowed to leave.
    let post = b
        .ins()
        .load(types::I64, ro, lctx, LOWERING_POST_RETURN as i32);
    let with_post = b.create_block();
    let done = b.create_block();
    b.ins().brif(post, with_post, &[], done, &[]);
    b.switch_to_block(with_post);
    b.seal_block(with_post);
    let zero = b.ins().iconst(types::I32, 0);
    b.ins()
        .store(rw, zero, callee_flags, FLAGS_MAY_LEAVE as i32);
    let pcode = b.ins().load(types::I64, ro, post, FUNCREF_FUNC as i32);
    let pvmctx = b.ins().load(types::I64, ro, post, FUNCREF_VMCTX as i32);
    let mut post_sig = Signature::new(call_conv);
    post_sig
        .params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    post_sig
        .params
        .extend(results.iter().map(|t| AbiParam::new(clif_type(*t))));
    let post_sig = b.import_signature(post_sig);
    let mut post_args = vec![pvmctx];
    post_args.extend(raw.iter().copied());
    b.ins().call_indirect(post_sig, pcode, &post_args);
    let one = b.ins().iconst(types::I32, 1);
    b.ins().store(rw, one, callee_flags, FLAGS_MAY_LEAVE as i32);
    b.ins().jump(done, &[]);
    b.switch_to_block(done);
    b.seal_block(done);
    let one = b.ins().iconst(types::I32, 1);
    b.ins().store(rw, one, callee_flags, FLAGS_MAY_ENTER as i32);
    let out: Vec<Value> = raw
        .iter()
        .zip(rconv)
        .map(|(v, c)| convert(b, *v, *c))
        .collect();
    b.ins().return_(&out);
}
