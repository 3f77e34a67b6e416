//! Exit trampolines: how compiled code that may hold GC references calls native code (host
//! functions, the runtime's built-ins, and the libcalls that can collect garbage) so that the
//! collector can find every wasm frame below.
//!
//! In: the native signatures a module's code calls. Out: one small function per signature,
//! `(caller vmctx, code, callee vmctx, args...) -> results` in the wasm convention, which
//! writes its own frame pointer to the store context's `exit_frame` (keeping the previous value
//! to put back), then calls `code` in the platform's convention. The frame record it pushes
//! holds the return address into its wasm caller and that caller's frame pointer, which is
//! exactly where the collector's walk over wasm frames starts (`weld_contract::vmctx`'s
//! `STORE_EXIT_FRAME`). A module whose values cannot be GC references has none, and its native
//! calls stay direct.

use super::func::FuncContext;
use super::{clif_type, finish, CompiledFunction, ModuleEnv};
use crate::error::Result;
use cranelift_codegen::ir::{
    self, types, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData,
    Signature, UserExternalName, UserFuncName, Value,
};
use cranelift_frontend::FunctionBuilder;
use std::collections::BTreeMap;
use weld_contract::gc::Composite;
use weld_contract::info::{ModuleInfo, ValType};
use weld_contract::libcall::{Libcall, LibcallType};
use weld_contract::vmctx;

/// Namespace of exit trampoline names.
pub(crate) const EXIT_NAMESPACE: u32 = 5;

/// A native signature after the callee's vmctx: parameter and result types, references
/// written as `I64` (the words they are).
pub type NativeKey = (Vec<ValType>, Vec<ValType>);

/// The libcalls that may collect garbage, and so leave wasm through an exit trampoline.
pub const COLLECTING_LIBCALLS: [Libcall; 3] = [
    Libcall::GcAlloc,
    Libcall::ArrayNewData,
    Libcall::ArrayNewElem,
];

/// The exit trampolines of a module, by native signature.
#[derive(Debug, Default, Clone)]
pub struct ExitTrampolines {
    index: BTreeMap<NativeKey, u32>,
}

fn word(t: ValType) -> ValType {
    if t.is_ref() {
        ValType::I64
    } else {
        t
    }
}

/// The key of a wasm function type's native signature.
pub fn key_of(params: &[ValType], results: &[ValType]) -> NativeKey {
    (
        params.iter().map(|t| word(*t)).collect(),
        results.iter().map(|t| word(*t)).collect(),
    )
}

/// The key of a libcall's signature.
pub fn libcall_key(lc: Libcall) -> NativeKey {
    let t = |t: &LibcallType| match t {
        LibcallType::I32 => ValType::I32,
        LibcallType::I64 | LibcallType::Ptr => ValType::I64,
    };
    (
        lc.params().iter().map(t).collect(),
        lc.results().iter().map(t).collect(),
    )
}

/// Whether values of the module can be GC references (an `any` or `extern` reference anywhere
/// in its types, globals or tables).
pub fn may_hold_gc_refs(info: &ModuleInfo) -> bool {
    let gc = ValType::is_gc_ref;
    let defs = &info.type_defs;
    let in_types = defs.types.iter().any(|t| match &t.composite {
        Composite::Func { params, results } => {
            params.iter().chain(results).any(|p| gc(defs.repr(*p)))
        }
        Composite::Struct(_) | Composite::Array(_) => true,
    });
    in_types
        || info.global_types.iter().any(|g| gc(g.ty))
        || info.table_types.iter().any(|t| gc(t.elem))
}

impl ExitTrampolines {
    /// The exit trampolines `info`'s code needs: one per function type's native signature and
    /// per collecting libcall; none when it cannot hold GC references.
    pub fn plan(info: &ModuleInfo) -> ExitTrampolines {
        if !may_hold_gc_refs(info) {
            return ExitTrampolines::default();
        }
        let mut keys: Vec<NativeKey> = info
            .types
            .iter()
            .zip(&info.type_defs.types)
            .filter(|(_, d)| matches!(d.composite, Composite::Func { .. }))
            .map(|(t, _)| key_of(&t.params, &t.results))
            .chain(COLLECTING_LIBCALLS.iter().map(|lc| libcall_key(*lc)))
            .collect();
        keys.sort();
        keys.dedup();
        let index = keys.into_iter().zip(0..).collect();
        ExitTrampolines { index }
    }

    /// The trampoline for native signature `key`, if the module has exit trampolines.
    pub fn get(&self, key: &NativeKey) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// Every trampoline's signature, in index order.
    pub fn keys(&self) -> Vec<NativeKey> {
        let mut v: Vec<(&NativeKey, &u32)> = self.index.iter().collect();
        v.sort_by_key(|(_, i)| **i);
        v.into_iter().map(|(k, _)| k.clone()).collect()
    }

    /// Number of trampolines.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the module has none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// The trampoline's own signature (wasm convention): caller vmctx, code, callee vmctx, args.
fn trampoline_signature(key: &NativeKey) -> Signature {
    let mut sig = Signature::new(super::funcref::WASM_CALL_CONV);
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.params
        .extend(key.0.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(key.1.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Call exit trampoline `index` (signature `key`) from the function `b` builds: `code` with
/// `callee_vmctx` and `args`, leaving from `caller_vmctx`'s store. The results.
pub fn call_exit(
    b: &mut FunctionBuilder<'_>,
    index: u32,
    key: &NativeKey,
    [caller_vmctx, code, callee_vmctx]: [Value; 3],
    args: &[Value],
) -> Vec<Value> {
    let sig = b.import_signature(trampoline_signature(key));
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(EXIT_NAMESPACE, index));
    let f = b.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature: sig,
        colocated: true,
        patchable: false,
    });
    let mut all = vec![caller_vmctx, code, callee_vmctx];
    all.extend_from_slice(args);
    let inst = b.ins().call(f, &all);
    b.inst_results(inst).to_vec()
}

/// Compile exit trampoline `index` of signature `key`.
pub fn compile_exit(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    index: u32,
    key: &NativeKey,
) -> Result<CompiledFunction> {
    fctx.ctx.clear();
    fctx.ctx.func = Function::with_name_signature(
        UserFuncName::user(EXIT_NAMESPACE, index),
        trampoline_signature(key),
    );
    {
        let mut b = FunctionBuilder::new(&mut fctx.ctx.func, &mut fctx.builder);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let (caller, code, callee) = (params[0], params[1], params[2]);
        let flags = MemFlagsData::trusted();
        let ro = flags.with_readonly().with_can_move();
        let store = b
            .ins()
            .load(types::I64, ro, caller, vmctx::VMCTX_STORE as i32);
        let at = vmctx::STORE_EXIT_FRAME as i32;
        let previous = b.ins().load(types::I64, flags, store, at);
        let fp = b.ins().get_frame_pointer(types::I64);
        b.ins().store(flags, fp, store, at);
        let mut native = Signature::new(env.native_call_conv());
        native.params.push(AbiParam::new(types::I64));
        native
            .params
            .extend(key.0.iter().map(|t| AbiParam::new(clif_type(*t))));
        native
            .returns
            .extend(key.1.iter().map(|t| AbiParam::new(clif_type(*t))));
        let sig = b.import_signature(native);
        let mut args = vec![callee];
        args.extend_from_slice(&params[3..]);
        let inst = b.ins().call_indirect(sig, code, &args);
        let results: Vec<ir::Value> = b.inst_results(inst).to_vec();
        b.ins().store(flags, previous, store, at);
        b.ins().return_(&results);
        b.finalize(env.isa.frontend_config());
    }
    finish(env, &mut fctx.ctx, index)
}
