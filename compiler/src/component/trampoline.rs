//! Lowering trampolines: the native code behind every lowered function.
//!
//! A core instance imports a lowered function like any other: it calls `(vmctx, params...)`
//! through a funcref slot. For a lowering, that "vmctx" is the runtime's `VMLoweringContext`
//! and the code is a trampoline built here for the lowering's core signature: it spills the
//! parameters into `ValRaw` slots on its stack, calls `ctx.callback(ctx, slots)` — where the
//! runtime does the Canonical ABI work — and returns the results the callback left in the
//! slots. One trampoline per lowering, each specialised to its signature, so no dynamic
//! signature dispatch happens at call time.

use crate::codegen::{clif_type, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Function, InstBuilder, MemFlagsData, Signature,
    StackSlotData, StackSlotKind, UserFuncName,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_contract::component::descriptor::LOWERING_CALLBACK;
use weld_contract::info::ValType;
use weld_contract::vmctx::VALRAW_SIZE;

/// Namespace of lowering-trampoline names (functions use 0, export trampolines 1).
const NAMESPACE: u32 = 2;

/// Compile the trampoline of lowering `index` with the given core signature.
pub fn compile_lowering_trampoline(
    env: &ModuleEnv<'_>,
    index: u32,
    params: &[ValType],
    results: &[ValType],
) -> Result<CompiledFunction> {
    let call_conv = env.call_conv();
    let mut sig = Signature::new(call_conv);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(results.iter().map(|t| AbiParam::new(clif_type(*t))));
    let mut ctx = cranelift_codegen::Context::new();
    ctx.func = Function::with_name_signature(UserFuncName::user(NAMESPACE, index), sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let lctx = b.block_params(entry)[0];
        let args: Vec<_> = b.block_params(entry)[1..].to_vec();
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
        b.finalize(env.isa.frontend_config());
    }
    crate::codegen::finish(env, &mut ctx, index)
}
