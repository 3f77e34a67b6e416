//! Calls through a `VMFuncRef`, the one way compiled code calls a function it does not know
//! statically: an import, a table element (`call_indirect`), a `call_ref` operand, a fused
//! callee, its `realloc` and post-return.
//!
//! In: the funcref's address, the callee's wasm type and the arguments. Out: the call, in the
//! calling convention the funcref's `abi` field names (`weld_contract::vmctx::FuncAbi`): wasm
//! code uses Cranelift's `tail` convention, host code the platform's C convention, so the call
//! site branches on that field and has one call of each kind. A tail call (`return_call*`) is a
//! real tail call into wasm code and an ordinary call and return into host code.

use super::clif_type;
use super::exceptions::{self, Handlers};
use super::exit::{self, ExitTrampolines};
use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, InstBuilder, MemFlagsData, Signature, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use weld_contract::info::ValType;
use weld_contract::vmctx::{FUNCREF_ABI, FUNCREF_FUNC, FUNCREF_VMCTX};

/// The calling convention of compiled wasm functions.
pub const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The native signature of a wasm function type in `call_conv`: `(vmctx, params...) ->
/// results`.
pub fn signature(call_conv: CallConv, params: &[ValType], results: &[ValType]) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(results.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Where a funcref is and how to call it.
pub struct FuncRefCall<'a> {
    /// Address the `VMFuncRef` is at, plus `offset`.
    pub base: Value,
    /// Offset of the `VMFuncRef` from `base`.
    pub offset: i32,
    /// Flags of the loads from it (read-only for import slots, which never change).
    pub flags: MemFlagsData,
    /// The callee's wasm parameter types.
    pub params: &'a [ValType],
    /// The callee's wasm result types.
    pub results: &'a [ValType],
    /// The platform's C convention.
    pub native: CallConv,
    /// Exception handlers in scope: a call of wasm code is a `try_call` when there are any.
    pub handlers: Option<Handlers<'a>>,
    /// How a call of host code leaves wasm: through the caller module's exit trampoline (from
    /// this vmctx) when it has them, else directly.
    pub exit: Option<(Value, &'a ExitTrampolines)>,
}

impl FuncRefCall<'_> {
    /// Call with `args` (without the vmctx, which comes from the funcref); the results.
    pub fn call(&self, b: &mut FunctionBuilder<'_>, args: &[Value]) -> Vec<Value> {
        let (code, vmctx, abi) = self.load(b);
        let result_types: Vec<ir::Type> = self.results.iter().map(|t| clif_type(*t)).collect();
        let join = b.create_block();
        for t in &result_types {
            b.append_block_param(join, *t);
        }
        let (wasm, host) = (b.create_block(), b.create_block());
        b.ins().brif(abi, host, &[], wasm, &[]);
        for (block, cc) in [(wasm, WASM_CALL_CONV), (host, self.native)] {
            b.switch_to_block(block);
            b.seal_block(block);
            let sig = b.import_signature(signature(cc, self.params, self.results));
            let all = with_vmctx(vmctx, args);
            // Host code cannot throw a wasm exception: only the wasm call needs handlers.
            let results = if cc == WASM_CALL_CONV {
                exceptions::call_indirect(b, sig, code, &all, self.handlers)
            } else {
                self.call_host(b, sig, code, vmctx, args)
            };
            let results: Vec<ir::BlockArg> =
                results.iter().map(|v| ir::BlockArg::Value(*v)).collect();
            b.ins().jump(join, &results);
        }
        b.switch_to_block(join);
        b.seal_block(join);
        b.block_params(join).to_vec()
    }

    /// Call with `args` a funcref known to hold wasm code: no convention to read or branch on.
    pub fn call_wasm(&self, b: &mut FunctionBuilder<'_>, args: &[Value]) -> Vec<Value> {
        let (code, vmctx) = self.load_code(b);
        let sig = b.import_signature(signature(WASM_CALL_CONV, self.params, self.results));
        let all = with_vmctx(vmctx, args);
        exceptions::call_indirect(b, sig, code, &all, self.handlers)
    }

    /// [`Self::tail_call`] of a funcref known to hold wasm code.
    pub fn tail_call_wasm(&self, b: &mut FunctionBuilder<'_>, args: &[Value]) {
        let (code, vmctx) = self.load_code(b);
        let sig = b.import_signature(signature(WASM_CALL_CONV, self.params, self.results));
        b.ins()
            .return_call_indirect(sig, code, &with_vmctx(vmctx, args));
    }

    /// Call with `args` in tail position: the caller's frame is replaced when the callee is wasm
    /// code; host code is called and its results returned. Ends the current block.
    pub fn tail_call(&self, b: &mut FunctionBuilder<'_>, args: &[Value]) {
        let (code, vmctx, abi) = self.load(b);
        let (wasm, host) = (b.create_block(), b.create_block());
        b.ins().brif(abi, host, &[], wasm, &[]);
        let all = with_vmctx(vmctx, args);
        b.switch_to_block(wasm);
        b.seal_block(wasm);
        let sig = b.import_signature(signature(WASM_CALL_CONV, self.params, self.results));
        b.ins().return_call_indirect(sig, code, &all);
        b.switch_to_block(host);
        b.seal_block(host);
        let sig = b.import_signature(signature(self.native, self.params, self.results));
        let results = self.call_host(b, sig, code, vmctx, args);
        b.ins().return_(&results);
    }

    /// Call host code: through the exit trampoline of its signature when there is one.
    fn call_host(
        &self,
        b: &mut FunctionBuilder<'_>,
        sig: ir::SigRef,
        code: Value,
        vmctx: Value,
        args: &[Value],
    ) -> Vec<Value> {
        let key = exit::key_of(self.params, self.results);
        if let Some((caller, exits)) = self.exit {
            if let Some(index) = exits.get(&key) {
                return exit::call_exit(b, index, &key, [caller, code, vmctx], args);
            }
        }
        let call = b.ins().call_indirect(sig, code, &with_vmctx(vmctx, args));
        b.inst_results(call).to_vec()
    }

    fn load_code(&self, b: &mut FunctionBuilder<'_>) -> (Value, Value) {
        let at = |field: u32| self.offset + field as i32;
        let code = b
            .ins()
            .load(types::I64, self.flags, self.base, at(FUNCREF_FUNC));
        let vmctx = b
            .ins()
            .load(types::I64, self.flags, self.base, at(FUNCREF_VMCTX));
        (code, vmctx)
    }

    fn load(&self, b: &mut FunctionBuilder<'_>) -> (Value, Value, Value) {
        let at = |field: u32| self.offset + field as i32;
        let (code, vmctx) = self.load_code(b);
        let abi = b
            .ins()
            .load(types::I32, self.flags, self.base, at(FUNCREF_ABI));
        (code, vmctx, abi)
    }
}

fn with_vmctx(vmctx: Value, args: &[Value]) -> Vec<Value> {
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(vmctx);
    all.extend_from_slice(args);
    all
}
