//! Lowering trampolines: the native code behind every lowered function that no generated
//! adapter replaces (host imports, built-ins, and fused calls `crate::adapter` leaves to the
//! runtime).
//!
//! A core instance imports a lowered function like any other: it calls `(vmctx, params...)`
//! through a funcref slot. For a lowering, that "vmctx" is the runtime's `VMLoweringContext`
//! and the code is a trampoline built here for the lowering's core signature, one per lowering:
//! spill the parameters into `ValRaw` slots on the stack, call `ctx.callback(ctx, slots)` — the
//! runtime does the Canonical ABI work — and return the results the callback left in the slots.

use crate::codegen::{clif_type, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_contract::component::descriptor::LOWERING_CALLBACK;
use weld_contract::component::ComponentInfo;
use weld_contract::info::ValType;
use weld_contract::vmctx::VALRAW_SIZE;

/// Namespace of lowering-trampoline names (functions use 0, export trampolines 1).
const NAMESPACE: u32 = 2;

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
