//! C entry points: the functions a C host calls directly, declared by `weld compile --emit header`
//! and by `runtime-support/include/weld.h`.
//!
//! In: the module's exports. Out: one small Cranelift function per exported function, plus the
//! instantiate/free pair, all calling the runtime's C API (`weld_call`, `weld_instantiate`,
//! `weld_instance_free`: undefined symbols the linker resolves from `libweld_runtime.a`).
//!
//! ```text
//! uint32_t <prefix>_<mangle(export)>(weld_instance *inst, <params as C types>, <T *result>...)
//!     slots = 16-byte stack slots, max(params, results) of them
//!     slots[i] = param i
//!     rc = weld_call(inst, <export index>, slots)
//!     if rc == 0: *result_i = slots[i]
//!     return rc
//! weld_instance *<prefix>__instantiate(const weld_import *imports, size_t n)
//!     return weld_instantiate(&<prefix>__module, imports, n)
//! void <prefix>__free(weld_instance *inst)
//!     weld_instance_free(inst)
//! ```
//!
//! Exports with a v128 parameter or result get no entry point (C has no portable type for it).
//! The runtime is reached only through these undefined symbols, so objects built for hosts that
//! drive modules through the Rust API (`weld wast`) are compiled without entry points: see
//! [`crate::options::Options::c_entry_points`].

use super::func::FuncContext;
use super::{clif_type, finish, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    self, types, AbiParam, ExtFuncData, ExternalName, Function, GlobalValueData, InstBuilder,
    MemFlagsData, Signature, StackSlotData, StackSlotKind, UserExternalName, UserFuncName,
};
use cranelift_frontend::FunctionBuilder;
use weld_contract::info::{ExportKind, FuncType, ModuleInfo, ValType};
use weld_contract::symbols;
use weld_contract::vmctx::VALRAW_SIZE;

/// Name namespace of the runtime's C API functions (index into [`RUNTIME_SYMBOLS`]).
pub(crate) const RUNTIME_SYMBOL_NAMESPACE: u32 = 2;
/// Name namespace of the module's own descriptor (index 0).
pub(crate) const DESCRIPTOR_NAMESPACE: u32 = 3;
/// Name namespace of the entry points themselves (for error messages only).
const ENTRY_NAMESPACE: u32 = 4;

/// The runtime functions entry points call, by index.
pub(crate) const RUNTIME_SYMBOLS: [&str; 4] = [
    "weld_call",
    "weld_instantiate",
    "weld_instance_free",
    "weld_main_flags",
];
const WELD_CALL: u32 = 0;
const WELD_INSTANTIATE: u32 = 1;
const WELD_INSTANCE_FREE: u32 = 2;
const WELD_MAIN_FLAGS: u32 = 3;

/// One compiled entry point and its global symbol.
#[derive(Debug)]
pub struct EntryPoint {
    /// The symbol (`<prefix>_<mangle(export)>`, `<prefix>__instantiate`, `<prefix>__free`).
    pub symbol: String,
    /// Its code.
    pub code: CompiledFunction,
}

/// The function type of export `export` if it gets a C entry point: a function export without
/// v128 values.
pub fn c_callable(info: &ModuleInfo, export: usize) -> Option<&FuncType> {
    let e = info.exports.get(export)?;
    if e.kind != ExportKind::Func {
        return None;
    }
    let ty = info
        .types
        .get(*info.funcs.get(e.index as usize)? as usize)?;
    let v128 = ty
        .params
        .iter()
        .chain(&ty.results)
        .any(|t| *t == ValType::V128);
    (!v128).then_some(ty)
}

/// Compile every entry point of the module.
pub fn compile_entry_points(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
) -> Result<Vec<EntryPoint>> {
    let prefix = env.options.prefix.as_str();
    let mut out = Vec::new();
    out.push(EntryPoint {
        symbol: symbols::instantiate(prefix),
        code: instantiate(env, fctx)?,
    });
    out.push(EntryPoint {
        symbol: symbols::free(prefix),
        code: free(env, fctx)?,
    });
    for (i, e) in env.info.exports.iter().enumerate() {
        if let Some(ty) = c_callable(env.info, i) {
            out.push(EntryPoint {
                symbol: symbols::export_function(prefix, &e.name),
                code: export_entry(env, fctx, i as u32, &ty.clone())?,
            });
        }
    }
    Ok(out)
}

/// Start a function with `sig`; returns the builder positioned in its entry block, and the
/// function's parameters.
fn begin(
    fctx: &mut FuncContext,
    index: u32,
    sig: Signature,
) -> (FunctionBuilder<'_>, Vec<ir::Value>) {
    fctx.ctx.clear();
    fctx.ctx.func = Function::with_name_signature(UserFuncName::user(ENTRY_NAMESPACE, index), sig);
    let mut b = FunctionBuilder::new(&mut fctx.ctx.func, &mut fctx.builder);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    (b, params)
}

/// Import runtime function `which` with `sig` (a direct, PLT-resolved call).
fn runtime_fn(b: &mut FunctionBuilder<'_>, which: u32, sig: Signature) -> ir::FuncRef {
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(RUNTIME_SYMBOL_NAMESPACE, which));
    let signature = b.import_signature(sig);
    b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: true,
        patchable: false,
    })
}

fn c_sig(env: &ModuleEnv<'_>, params: &[ir::Type], ret: Option<ir::Type>) -> Signature {
    let mut sig = Signature::new(env.native_call_conv());
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns.extend(ret.map(AbiParam::new));
    sig
}

/// `int main(int argc, char **argv, char **envp)` of a command-component executable:
/// `return weld_main_flags(&<prefix>__component, flags, argc, argv, envp);` — the runtime sets
/// up WASI, runs `wasi:cli/run` and answers the exit status. Compiled here rather than from C
/// so that linking an executable needs no C compiler run (cc1 and as: 30-40 ms). Its
/// descriptor relocations name the component's descriptor.
pub fn exe_main(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    flags: u32,
) -> Result<CompiledFunction> {
    let sig = c_sig(env, &[types::I32, types::I64, types::I64], Some(types::I32));
    {
        let (mut b, params) = begin(fctx, u32::MAX - 3, sig);
        let desc = descriptor_address(&mut b);
        let flags = b.ins().iconst(types::I32, i64::from(flags));
        let callee_sig = c_sig(
            env,
            &[types::I64, types::I32, types::I32, types::I64, types::I64],
            Some(types::I32),
        );
        let f = runtime_fn(&mut b, WELD_MAIN_FLAGS, callee_sig);
        let call = b
            .ins()
            .call(f, &[desc, flags, params[0], params[1], params[2]]);
        let status = b.inst_results(call)[0];
        b.ins().return_(&[status]);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, u32::MAX - 3)
}

/// The address of the descriptor (relocated against it: see [`DESCRIPTOR_NAMESPACE`]).
fn descriptor_address(b: &mut FunctionBuilder<'_>) -> ir::Value {
    let desc_name = b
        .func
        .declare_imported_user_function(UserExternalName::new(DESCRIPTOR_NAMESPACE, 0));
    let gv = b.create_global_value(GlobalValueData::Symbol {
        name: ExternalName::user(desc_name),
        offset: 0.into(),
        colocated: true,
        tls: false,
    });
    b.ins().symbol_value(types::I64, gv)
}

fn instantiate(env: &ModuleEnv<'_>, fctx: &mut FuncContext) -> Result<CompiledFunction> {
    let sig = c_sig(env, &[types::I64, types::I64], Some(types::I64));
    {
        let (mut b, params) = begin(fctx, u32::MAX - 1, sig);
        let desc = descriptor_address(&mut b);
        let callee_sig = c_sig(env, &[types::I64; 3], Some(types::I64));
        let f = runtime_fn(&mut b, WELD_INSTANTIATE, callee_sig);
        let call = b.ins().call(f, &[desc, params[0], params[1]]);
        let inst = b.inst_results(call)[0];
        b.ins().return_(&[inst]);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, u32::MAX - 1)
}

fn free(env: &ModuleEnv<'_>, fctx: &mut FuncContext) -> Result<CompiledFunction> {
    let sig = c_sig(env, &[types::I64], None);
    {
        let (mut b, params) = begin(fctx, u32::MAX - 2, sig.clone());
        let f = runtime_fn(&mut b, WELD_INSTANCE_FREE, sig);
        b.ins().call(f, &[params[0]]);
        b.ins().return_(&[]);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, u32::MAX - 2)
}

/// `uint32_t f(weld_instance *, params..., result pointers...)` for export `export`.
fn export_entry(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    export: u32,
    ty: &FuncType,
) -> Result<CompiledFunction> {
    let mut params = vec![types::I64];
    params.extend(ty.params.iter().map(|t| clif_type(*t)));
    params.extend(ty.results.iter().map(|_| types::I64));
    let sig = c_sig(env, &params, Some(types::I32));
    {
        let (mut b, args) = begin(fctx, export, sig);
        let (inst, rest) = (args[0], &args[1..]);
        let (wasm_args, result_ptrs) = rest.split_at(ty.params.len());
        let slots = ty.params.len().max(ty.results.len()).max(1) as u32;
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            slots * VALRAW_SIZE,
            4,
        ));
        let buf = b.ins().stack_addr(types::I64, slot, 0);
        let flags = MemFlagsData::trusted();
        for (i, v) in wasm_args.iter().enumerate() {
            b.ins()
                .store(flags, *v, buf, (i as u32 * VALRAW_SIZE) as i32);
        }
        let index = b.ins().iconst(types::I32, i64::from(export));
        let callee_sig = c_sig(env, &[types::I64, types::I32, types::I64], Some(types::I32));
        let f = runtime_fn(&mut b, WELD_CALL, callee_sig);
        let call = b.ins().call(f, &[inst, index, buf]);
        let rc = b.inst_results(call)[0];
        let ok = b.create_block();
        let trapped = b.create_block();
        b.ins().brif(rc, trapped, &[], ok, &[]);
        b.seal_block(ok);
        b.seal_block(trapped);

        b.switch_to_block(trapped);
        b.ins().return_(&[rc]);

        b.switch_to_block(ok);
        for (i, (t, ptr)) in ty.results.iter().zip(result_ptrs).enumerate() {
            let v = b
                .ins()
                .load(clif_type(*t), flags, buf, (i as u32 * VALRAW_SIZE) as i32);
            // The host's pointer: not `trusted` (no alignment promise).
            b.ins().store(MemFlagsData::new(), v, *ptr, 0);
        }
        let zero = b.ins().iconst(types::I32, 0);
        b.ins().return_(&[zero]);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, export)
}
