//! Exception handling in compiled code: `throw`, `throw_ref`, and the calls and landing code of
//! `try_table`.
//!
//! In: the handlers in scope at a call (the catch clauses of the enclosing `try_table`s, outermost
//! first) and the operators. Out: CLIF. Inside a `try_table`, every call that can throw (calls of
//! wasm functions and the `throw` libcall) is a Cranelift `try_call` whose exception table lists
//! the handlers innermost first, after the caller's vmctx as the dynamic context: the runtime's
//! unwinder reads the vmctx from the frame to resolve each handler's tag index to a tag identity
//! (`weld_contract::vmctx`) and compares it with the thrown exception's. Calls of host code stay
//! plain calls: host functions cannot throw wasm exceptions, and an exception never crosses host
//! frames (the unwinder stops at the entry into wasm).
//!
//! A handler's landing block receives the exception object's address, reads the payload the
//! clause delivers (`weld_contract::vmctx::EXN_PAYLOAD`) and branches to the clause's label.
//! A plain `catch` or `catch_all` then releases the object; a `*_ref` clause marks it escaped,
//! since wasm code now holds it as an `exnref`.

use super::func::Translator;
use super::{clif_trap, clif_type};
use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::{
    self, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, InstBuilder,
    MemFlagsData, Value,
};
use cranelift_frontend::FunctionBuilder;
use weld_contract::libcall::Libcall;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{exn_payload_slot, EXN_ESCAPED};

/// One catch clause in scope: the tag it catches (`None`: every exception) and its landing
/// block, which takes the exception object's address.
#[derive(Clone, Copy, Debug)]
pub struct Handler {
    /// Tag index, or `None` for `catch_all` / `catch_all_ref`.
    pub tag: Option<u32>,
    /// Landing block (one `i64` parameter).
    pub block: ir::Block,
}

/// The handlers in scope at a call and the caller's vmctx (the exception table's context).
#[derive(Clone, Copy, Debug)]
pub struct Handlers<'a> {
    /// The caller's vmctx.
    pub vmctx: Value,
    /// Handlers in reverse order of matching: the last one is tried first.
    pub list: &'a [Handler],
}

impl Handlers<'_> {
    /// An exception table for a call of signature `sig`, and the block a normal return
    /// continues in (with the call's results as parameters); `None` when no handler is in scope.
    fn table(
        &self,
        b: &mut FunctionBuilder<'_>,
        sig: ir::SigRef,
    ) -> Option<(ir::ExceptionTable, ir::Block)> {
        if self.list.is_empty() {
            return None;
        }
        let cont = b.create_block();
        let returns: Vec<ir::Type> = b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let mut rets = Vec::with_capacity(returns.len());
        for (i, ty) in returns.iter().enumerate() {
            b.append_block_param(cont, *ty);
            rets.push(BlockArg::TryCallRet(i as u32));
        }
        let normal = b.func.dfg.block_call(cont, &rets);
        let mut items = vec![ExceptionTableItem::Context(self.vmctx)];
        for h in self.list.iter().rev() {
            let call = b.func.dfg.block_call(h.block, &[BlockArg::TryCallExn(0)]);
            match h.tag {
                Some(tag) => items.push(ExceptionTableItem::Tag(
                    ExceptionTag::new(tag as usize),
                    call,
                )),
                None => {
                    // Everything is caught here: handlers further out can never run.
                    items.push(ExceptionTableItem::Default(call));
                    break;
                }
            }
        }
        let table = b
            .func
            .dfg
            .exception_tables
            .push(ExceptionTableData::new(sig, normal, items));
        Some((table, cont))
    }
}

/// After a `try_call`: continue in `cont` and return its parameters (the call's results).
fn continue_in(b: &mut FunctionBuilder<'_>, cont: ir::Block) -> Vec<Value> {
    b.switch_to_block(cont);
    b.seal_block(cont);
    b.block_params(cont).to_vec()
}

/// Call `callee` directly; a `try_call` when handlers are in scope.
pub fn call(
    b: &mut FunctionBuilder<'_>,
    callee: ir::FuncRef,
    args: &[Value],
    handlers: Option<Handlers<'_>>,
) -> Vec<Value> {
    let sig = b.func.dfg.ext_funcs[callee].signature;
    match handlers.and_then(|h| h.table(b, sig)) {
        Some((table, cont)) => {
            b.ins().try_call(callee, args, table);
            continue_in(b, cont)
        }
        None => {
            let inst = b.ins().call(callee, args);
            b.inst_results(inst).to_vec()
        }
    }
}

/// Call the code at `code` with signature `sig`; a `try_call_indirect` when handlers are in
/// scope.
pub fn call_indirect(
    b: &mut FunctionBuilder<'_>,
    sig: ir::SigRef,
    code: Value,
    args: &[Value],
    handlers: Option<Handlers<'_>>,
) -> Vec<Value> {
    match handlers.and_then(|h| h.table(b, sig)) {
        Some((table, cont)) => {
            b.ins().try_call_indirect(code, args, table);
            continue_in(b, cont)
        }
        None => {
            let inst = b.ins().call_indirect(sig, code, args);
            b.inst_results(inst).to_vec()
        }
    }
}

/// What a catch clause delivers to its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivers {
    /// The payload (`catch`).
    Payload,
    /// The payload and the exnref (`catch_ref`).
    PayloadAndRef,
    /// Nothing (`catch_all`).
    Nothing,
    /// The exnref (`catch_all_ref`).
    Ref,
}

impl Translator<'_, '_> {
    /// The parameter types of tag `tag`: its payload.
    fn tag_params(&self, tag: u32) -> Vec<weld_contract::info::ValType> {
        let ty = self.env.info.tags[tag as usize];
        self.env.info.types[ty as usize].params.clone()
    }

    /// `throw tag`: allocate the exception, store the payload from the stack, throw it.
    pub(crate) fn throw(&mut self, tag: u32) {
        let params = self.tag_params(tag);
        let at = self.stack.len() - params.len();
        let payload: Vec<Value> = self.stack.drain(at..).collect();
        let tag_val = self.b.ins().iconst(ir::types::I32, i64::from(tag));
        let exn = self.libcall(Libcall::ExnNew, &[tag_val])[0];
        for (i, v) in payload.into_iter().enumerate() {
            let v = self.canonicalize(v);
            let off = exn_payload_slot(i as u32);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, exn, off as i32);
        }
        self.throw_exn(exn);
    }

    /// `throw_ref`: trap on null, else throw the exception again.
    pub(crate) fn throw_ref(&mut self) {
        let exn = self.pop();
        self.trapz(exn, TrapCode::NullExceptionReference);
        self.throw_exn(exn);
    }

    /// Call the `throw` libcall (a `try_call` when handlers are in scope); it never returns.
    fn throw_exn(&mut self, exn: Value) {
        let (sig, code) = self.libcall_target(Libcall::Throw);
        let args = [self.vmctx, exn];
        let handlers = Handlers {
            vmctx: self.vmctx,
            list: &self.handlers,
        };
        call_indirect(&mut self.b, sig, code, &args, Some(handlers));
        self.b.ins().trap(clif_trap(TrapCode::Unreachable));
        self.reachable = false;
    }

    /// Fill a catch clause's landing block `landing`: read what the clause delivers from the
    /// exception and return the values to pass to its label. Leaves the builder in `landing`.
    pub(crate) fn landing(
        &mut self,
        landing: ir::Block,
        tag: Option<u32>,
        delivers: Delivers,
    ) -> Vec<Value> {
        self.b.switch_to_block(landing);
        let exn = self.b.block_params(landing)[0];
        let mut vals = Vec::new();
        if let (Some(tag), Delivers::Payload | Delivers::PayloadAndRef) = (tag, delivers) {
            for (i, vt) in self.tag_params(tag).into_iter().enumerate() {
                let off = exn_payload_slot(i as u32);
                let v = self
                    .b
                    .ins()
                    .load(clif_type(vt), MemFlagsData::trusted(), exn, off as i32);
                self.declare_ref(v, vt);
                vals.push(v);
            }
        }
        match delivers {
            Delivers::Payload | Delivers::Nothing => {
                self.libcall(Libcall::ExnRelease, &[exn]);
            }
            Delivers::PayloadAndRef | Delivers::Ref => {
                let one = self.b.ins().iconst(ir::types::I32, 1);
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), one, exn, EXN_ESCAPED as i32);
                vals.push(exn);
            }
        }
        vals
    }
}
