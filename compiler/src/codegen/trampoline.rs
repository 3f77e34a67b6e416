//! Array-call trampolines: the entry the host uses to call a wasm function with a uniform
//! signature `extern "C" fn(vmctx, *mut ValRaw)`. Arguments are read from the value slots, the
//! function is called (directly, or through its funcref slot if it is an import), and the
//! results are written back to the slots from index 0.

use super::func::FuncContext;
use super::funcref::FuncRefCall;
use super::{clif_type, finish, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    types, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, Signature,
    UserExternalName, UserFuncName,
};
use cranelift_frontend::FunctionBuilder;
use weld_contract::vmctx::VALRAW_SIZE;

/// Namespace of trampoline function names (functions use 0).
const TRAMPOLINE_NAMESPACE: u32 = 1;

/// Build the array-call trampoline for function `index`.
pub fn compile_trampoline(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    index: u32,
) -> Result<CompiledFunction> {
    let ty = env.func_type(index).clone();
    let mut sig = Signature::new(env.native_call_conv());
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    fctx.ctx.clear();
    fctx.ctx.func =
        Function::with_name_signature(UserFuncName::user(TRAMPOLINE_NAMESPACE, index), sig);
    {
        let mut b = FunctionBuilder::new(&mut fctx.ctx.func, &mut fctx.builder);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx_v = b.block_params(entry)[0];
        let vals = b.block_params(entry)[1];
        let flags = MemFlagsData::trusted();
        let mut args = Vec::with_capacity(ty.params.len() + 1);
        for (i, p) in ty.params.iter().enumerate() {
            let v = b
                .ins()
                .load(clif_type(*p), flags, vals, (i as u32 * VALRAW_SIZE) as i32);
            args.push(v);
        }
        let results = if index < env.info.imported_funcs {
            // An exported import: its slot may hold wasm or host code.
            let call = FuncRefCall {
                base: vmctx_v,
                offset: env.offsets.funcref(index) as i32,
                flags: MemFlagsData::trusted().with_readonly(),
                params: &ty.params,
                results: &ty.results,
                native: env.native_call_conv(),
                handlers: None,
                // Called from the host: no wasm frame below to find.
                exit: None,
            };
            call.call(&mut b, &args)
        } else {
            let callee_sig = b.import_signature(env.wasm_signature(&ty));
            let name = b
                .func
                .declare_imported_user_function(UserExternalName::new(0, index));
            let f = b.import_function(ExtFuncData {
                name: ExternalName::user(name),
                signature: callee_sig,
                colocated: true,
                patchable: false,
            });
            args.insert(0, vmctx_v);
            let inst = b.ins().call(f, &args);
            b.inst_results(inst).to_vec()
        };
        for (i, r) in results.iter().enumerate() {
            b.ins()
                .store(flags, *r, vals, (i as u32 * VALRAW_SIZE) as i32);
        }
        b.ins().return_(&[]);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, index)
}
