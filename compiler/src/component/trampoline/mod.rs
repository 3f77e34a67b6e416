//! Lowering trampolines: the native code behind every lowered function.
//!
//! A core instance imports a lowered function like any other: it calls `(vmctx, params...)`
//! through a funcref slot. For a lowering, that "vmctx" is the runtime's `VMLoweringContext`
//! and the code is a trampoline built here for the lowering's core signature, one per lowering.
//!
//! - **Generic**: spill the parameters into `ValRaw` slots on the stack, call
//!   `ctx.callback(ctx, slots)` — the runtime does the Canonical ABI work — and return the
//!   results the callback left in the slots.
//! - **Fused** (a call into another component's lifted function that
//!   [`weld_contract::component::plan`] covers: integers, floats, bools, chars, records/tuples
//!   of them and strings UTF-8 on both sides in, one scalar or nothing out): check the
//!   caller's `may_leave` and the callee's `may_enter` flags, each string's bounds in the
//!   caller's memory and its UTF-8 (the `utf8_valid` libcall), then mark the callee entered,
//!   copy each string into a buffer from the callee's `realloc` (called directly; the
//!   `string_copy` libcall checks the buffer against the callee's memory and copies), convert
//!   each scalar as lifting then lowering would (mask or sign-extend narrow integers, normalise
//!   bools, canonicalise NaNs), call the callee's core function directly, run its post-return, and mark it
//!   enterable again. No `Val`s, no dispatch, no runtime callback. A failed check before
//!   anything changed (flags, an invalid `char`, a string out of bounds, too long or not UTF-8)
//!   branches to the generic path, which repeats the check in the runtime and raises the proper
//!   trap; after `realloc` ran, a buffer outside the callee's memory traps in `string_copy`.
//!   The runtime leaves the context's `callee_realloc` null when it cannot back the string
//!   copies (e.g. both sides use one memory): then strings always take the generic path.
//!
//! ```text
//! fused(ctx, a, (p, n)):  if !caller.may_leave || !callee.may_enter || !ctx.callee_realloc
//!                            || p + n > caller.memory.length || n > 2^31-1
//!                            || !utf8_valid(caller.base + p, n)          → generic(ctx, a, p, n)
//!                         callee.may_enter = 0; callee.may_leave = 0
//!                         q = realloc(0, 0, 1, n); string_copy(callee.memory, q, caller.base + p, n)
//!                         callee.may_leave = 1
//!                         r = callee.func(callee.vmctx, conv(a), q, n)
//!                         if post_return { callee.may_leave = 0; post_return(r); callee.may_leave = 1 }
//!                         callee.may_enter = 1; return conv(r)
//! ```

use crate::codegen::{clif_type, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_contract::component::descriptor::LOWERING_CALLBACK;
use weld_contract::component::plan::FusedPlan;
use weld_contract::component::ComponentInfo;
use weld_contract::info::ValType;
use weld_contract::vmctx::VALRAW_SIZE;

/// Namespace of lowering-trampoline names (functions use 0, export trampolines 1).
const NAMESPACE: u32 = 2;

/// The plan of a fused call for lowering `index`, if it can be fused: the contract's one
/// definition ([`weld_contract::component::plan`]), which the runtime's fused path follows too.
pub fn fused_plan(info: &ComponentInfo, index: u32) -> Option<FusedPlan> {
    weld_contract::component::plan::fused_plan(info, index)
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
    let call_conv = env.native_call_conv();
    let sig = crate::codegen::funcref::signature(call_conv, &params, &results);
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
        if let Some(plan) = &plan {
            let rconv = plan.result.as_slice();
            fused_body(
                &mut b,
                lctx,
                &args,
                &plan.params,
                rconv,
                &params,
                &results,
                generic,
                call_conv,
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

mod fused;
#[cfg(test)]
mod tests;

use fused::fused_body;
