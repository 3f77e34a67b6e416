//! Translation of one function body: the operand stack, structured control flow, locals, globals
//! and calls. Operators of other families are handed to `numeric`, `memory`, `table` and `simd`.
//!
//! Operand stack values are Cranelift values; v128 values may be of any 128-bit vector type on
//! the stack and are bitcast to `I8X16` wherever they cross a block, call or local boundary.
//! Unreachable code is validated but not translated: `reachable` turns false after a branch and
//! only control operators are tracked until the enclosing `else`/`end`.

use super::exceptions::{self, Delivers, Handler, Handlers};
use super::funcref::FuncRefCall;
use super::{clif_trap, clif_type, finish, CompiledFunction, ModuleEnv};
use crate::error::{Error, Result};
use crate::frontend::FunctionInput;
use cranelift_codegen::ir::{
    self, condcodes::IntCC, types, BlockArg, ExtFuncData, ExternalName, Function, InstBuilder,
    MemFlagsData, Signature, UserExternalName, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, FuncValidatorAllocations, Operator};
use weld_contract::info::ValType;
use weld_contract::libcall::{Libcall, LibcallType};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx;

/// Reusable allocations across functions compiled by one thread.
pub struct FuncContext {
    pub(crate) builder: FunctionBuilderContext,
    pub(crate) ctx: cranelift_codegen::Context,
    validator: FuncValidatorAllocations,
}

impl Default for FuncContext {
    fn default() -> FuncContext {
        FuncContext {
            builder: FunctionBuilderContext::new(),
            ctx: cranelift_codegen::Context::new(),
            validator: FuncValidatorAllocations::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Block,
    Loop,
    /// An `if` whose `else` has not been seen; `else_block` takes the `if`'s parameters.
    If {
        else_block: ir::Block,
    },
    /// An `if` after its `else`.
    Else,
    /// A `try_table`, whose catch clauses are `handlers[first_handler..]` while it is open.
    TryTable {
        first_handler: usize,
    },
}

/// Where a `VMFuncRef` is (`base + offset`, loaded with `flags`), and whether it is known to
/// hold wasm code (an import the component graph binds to a defined function).
#[derive(Clone, Copy)]
struct FuncRefAt {
    base: Value,
    offset: i32,
    flags: MemFlagsData,
    wasm: bool,
}

#[derive(Debug, Clone)]
struct Frame {
    kind: FrameKind,
    /// Where `end` continues; takes the results.
    next: ir::Block,
    /// Loop header (branch target of a loop); takes the parameters.
    header: Option<ir::Block>,
    params: Vec<ir::Type>,
    results: Vec<ir::Type>,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether code at the frame's start was reachable.
    start_reachable: bool,
    /// Whether any branch or fallthrough reaches `next`.
    exit_reachable: bool,
    /// For `if`: the parameter values, passed to the else block when there is no `else`.
    if_params: Vec<Value>,
}

impl Frame {
    fn branch_target(&self) -> (ir::Block, usize) {
        match self.header {
            Some(h) => (h, self.params.len()),
            None => (self.next, self.results.len()),
        }
    }
}

/// State of the function being translated.
pub(crate) struct Translator<'a, 'b> {
    pub(crate) env: &'a ModuleEnv<'a>,
    pub(crate) b: FunctionBuilder<'b>,
    pub(crate) vmctx: Value,
    pub(crate) stack: Vec<Value>,
    control: Vec<Frame>,
    pub(crate) reachable: bool,
    /// Nesting depth of blocks opened in unreachable code.
    dead_depth: u32,
    locals: Vec<Variable>,
    local_types: Vec<ValType>,
    func_refs: HashMap<u32, ir::FuncRef>,
    sig_refs: HashMap<u32, ir::SigRef>,
    libcall_sigs: HashMap<Libcall, ir::SigRef>,
    pub(crate) offset: u64,
    /// Index of the function being translated.
    index: u32,
    /// Catch clauses of the open `try_table`s, outermost first (each table's clauses in
    /// reverse order: see `try_table`).
    pub(crate) handlers: Vec<Handler>,
}

/// Compile defined function `index`.
pub fn compile_function(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    index: u32,
    input: &FunctionInput<'_>,
) -> Result<CompiledFunction> {
    translate_function(env, fctx, index, input)?;
    finish(env, &mut fctx.ctx, index)
}

/// Translate defined function `index` to CLIF in `fctx.ctx.func` (validating it on the way),
/// without compiling it.
pub(crate) fn translate_function(
    env: &ModuleEnv<'_>,
    fctx: &mut FuncContext,
    index: u32,
    input: &FunctionInput<'_>,
) -> Result<()> {
    let ty = env.func_type(index).clone();
    let sig = env.wasm_signature(&ty);
    let v = &input.validator;
    let mut validator = wasmparser::FuncToValidate {
        resources: v.resources.clone(),
        index: v.index,
        ty: v.ty,
        features: v.features,
    }
    .into_validator(std::mem::take(&mut fctx.validator));
    fctx.ctx.clear();
    fctx.ctx.func = Function::with_name_signature(UserFuncName::user(0, index), sig);
    {
        let mut b = FunctionBuilder::new(&mut fctx.ctx.func, &mut fctx.builder);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = b.block_params(entry)[0];
        let params: Vec<Value> = b.block_params(entry)[1..].to_vec();

        // Stack limit: vmctx -> store -> stack_limit.
        let vmctx_gv = b.create_global_value(ir::GlobalValueData::VMContext);
        let ro = b
            .func
            .dfg
            .mem_flags
            .insert_unchecked(MemFlagsData::trusted().with_readonly());
        let plain = b
            .func
            .dfg
            .mem_flags
            .insert_unchecked(MemFlagsData::trusted());
        let store_gv = b.create_global_value(ir::GlobalValueData::Load {
            base: vmctx_gv,
            offset: (vmctx::VMCTX_STORE as i32).into(),
            global_type: types::I64,
            flags: ro,
        });
        let limit_gv = b.create_global_value(ir::GlobalValueData::Load {
            base: store_gv,
            offset: (vmctx::STORE_STACK_LIMIT as i32).into(),
            global_type: types::I64,
            flags: plain,
        });
        b.func.stack_limit = Some(limit_gv);

        let mut t = Translator {
            env,
            b,
            vmctx,
            stack: Vec::new(),
            control: Vec::new(),
            reachable: true,
            dead_depth: 0,
            locals: Vec::new(),
            local_types: Vec::new(),
            func_refs: HashMap::new(),
            sig_refs: HashMap::new(),
            libcall_sigs: HashMap::new(),
            offset: 0,
            index,
            handlers: Vec::new(),
        };
        for (p, vt) in params.iter().zip(&ty.params) {
            let var = t.b.declare_var(clif_type(*vt));
            if vt.is_gc_ref() {
                t.b.declare_var_needs_stack_map(var);
            }
            t.b.def_var(var, *p);
            t.locals.push(var);
            t.local_types.push(*vt);
        }
        let mut locals_reader = input.body.get_locals_reader()?;
        for _ in 0..locals_reader.get_count() {
            let offset = locals_reader.original_position();
            let (count, vt) = locals_reader.read()?;
            validator.define_locals(offset, count, vt)?;
            let vt = crate::frontend::val_type_at(vt, &t.env.info.type_defs, offset)?;
            for _ in 0..count {
                let var = t.b.declare_var(clif_type(vt));
                if vt.is_gc_ref() {
                    t.b.declare_var_needs_stack_map(var);
                }
                let zero = t.zero(vt);
                t.b.def_var(var, zero);
                t.locals.push(var);
                t.local_types.push(vt);
            }
        }
        // The function body is a block whose `end` returns.
        let exit = t.new_block(&ty.results);
        t.push_frame(
            FrameKind::Block,
            exit,
            None,
            (vec![], ty.results.clone()),
            vec![],
        );
        let mut reader = input.body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            validator.op(offset, &op)?;
            t.offset = offset;
            if env.options.debug_info {
                // Where each instruction came from, for `emit::debug`'s line tables.
                t.b.set_srcloc(ir::SourceLoc::new(offset as u32));
            }
            t.operator(&op)?;
        }
        reader.finish()?;
        // The final `end` left us in the exit block with the results on the stack.
        if t.reachable {
            let results: Vec<Value> = t.stack.drain(..).collect();
            let results = t.canonicalize_all(&results);
            t.b.ins().return_(&results);
        }
        t.b.finalize(env.isa.frontend_config());
    }
    fctx.validator = validator.into_allocations();
    Ok(())
}

fn args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl<'a, 'b> Translator<'a, 'b> {
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::unsupported(what, self.offset)
    }

    pub(crate) fn pop(&mut self) -> Value {
        // The validator ran first, so the stack has the operand.
        self.stack.pop().unwrap_or_else(|| {
            // Unreachable for valid input; keep going with a dummy to avoid a panic.
            self.b.ins().iconst(types::I32, 0)
        })
    }

    pub(crate) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub(crate) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let b = self.pop();
        let a = self.pop();
        (a, b, c)
    }

    pub(crate) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn peekn(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len().saturating_sub(n)..].to_vec()
    }

    /// A zero of a value type.
    pub(crate) fn zero(&mut self, vt: ValType) -> Value {
        match vt {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64
            | ValType::FuncRef
            | ValType::ExternRef
            | ValType::ExnRef
            | ValType::AnyRef => self.b.ins().iconst(types::I64, 0),
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => {
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                self.b.ins().vconst(types::I8X16, c)
            }
        }
    }

    /// Bitcast any 128-bit vector to the canonical `I8X16`; other values pass through.
    pub(crate) fn canonicalize(&mut self, v: Value) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        if ty.is_vector() && ty != types::I8X16 {
            let flags = MemFlagsData::new().with_endianness(ir::Endianness::Little);
            self.b.ins().bitcast(types::I8X16, flags, v)
        } else {
            v
        }
    }

    pub(crate) fn canonicalize_all(&mut self, vals: &[Value]) -> Vec<Value> {
        vals.iter().map(|v| self.canonicalize(*v)).collect()
    }

    /// Trap with `code`, ending the block.
    pub(crate) fn trap(&mut self, code: TrapCode) {
        self.b.ins().trap(clif_trap(code));
    }

    /// Trap with `code` when `cond` is non-zero.
    pub(crate) fn trapnz(&mut self, cond: Value, code: TrapCode) {
        self.b.ins().trapnz(cond, clif_trap(code));
    }

    /// Trap with `code` when `cond` is zero.
    pub(crate) fn trapz(&mut self, cond: Value, code: TrapCode) {
        self.b.ins().trapz(cond, clif_trap(code));
    }

    /// Load a pointer-sized field of the vmctx that never changes.
    pub(crate) fn load_vmctx_ro(&mut self, offset: u32) -> Value {
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b
            .ins()
            .load(types::I64, flags, self.vmctx, offset as i32)
    }

    fn block_types(&self, bt: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => {
                let vt = crate::frontend::val_type_at(t, &self.env.info.type_defs, self.offset)
                    .unwrap_or(ValType::I32);
                (vec![], vec![vt])
            }
            BlockType::FuncType(i) => {
                let ft = &self.env.info.types[i as usize];
                (ft.params.clone(), ft.results.clone())
            }
        }
    }

    /// Mark `v`, a value of wasm type `t`, as one the collector must find at every call it is
    /// live across (`ValType::is_gc_ref`).
    pub(crate) fn declare_ref(&mut self, v: Value, t: ValType) {
        if t.is_gc_ref() {
            self.b.declare_value_needs_stack_map(v);
        }
    }

    /// [`Self::declare_ref`] for each value, typed by `types`.
    pub(crate) fn declare_refs(&mut self, vals: &[Value], types: &[ValType]) {
        for (v, t) in vals.iter().zip(types) {
            self.declare_ref(*v, *t);
        }
    }

    fn new_block(&mut self, tys: &[ValType]) -> ir::Block {
        let block = self.b.create_block();
        for t in tys {
            let p = self.b.append_block_param(block, clif_type(*t));
            self.declare_ref(p, *t);
        }
        block
    }

    /// Jump to `block` with the top `n` stack values.
    fn jump_with_top(&mut self, block: ir::Block, n: usize) {
        let vals = self.peekn(n);
        let vals = self.canonicalize_all(&vals);
        self.b.ins().jump(block, &args(&vals));
    }

    fn switch_to(&mut self, block: ir::Block) {
        self.b.switch_to_block(block);
    }

    fn push_block_params(&mut self, block: ir::Block) {
        let params = self.b.block_params(block).to_vec();
        self.stack.extend(params);
    }

    /// Translate one operator.
    fn operator(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.dead_operator(op);
        }
        use Operator::*;
        match *op {
            Nop => {}
            Unreachable => {
                self.trap(TrapCode::Unreachable);
                self.reachable = false;
            }
            Block { blockty } => {
                let (params, results) = self.block_types(blockty);
                let next = self.new_block(&results);
                self.push_frame(FrameKind::Block, next, None, (params, results), vec![]);
            }
            Loop { blockty } => {
                let (params, results) = self.block_types(blockty);
                let header = self.new_block(&params);
                let next = self.new_block(&results);
                self.jump_with_top(header, params.len());
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                self.switch_to(header);
                self.push_block_params(header);
                self.push_frame(
                    FrameKind::Loop,
                    next,
                    Some(header),
                    (params, results),
                    vec![],
                );
            }
            If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_types(blockty);
                let then_block = self.b.create_block();
                let else_block = self.new_block(&params);
                let next = self.new_block(&results);
                let if_params = self.peekn(params.len());
                let if_params = self.canonicalize_all(&if_params);
                self.b
                    .ins()
                    .brif(cond, then_block, &[], else_block, &args(&if_params));
                self.b.seal_block(then_block);
                self.switch_to(then_block);
                self.push_frame(
                    FrameKind::If { else_block },
                    next,
                    None,
                    (params, results),
                    if_params,
                );
            }
            TryTable { ref try_table } => self.try_table(try_table),
            Throw { tag_index } => self.throw(tag_index),
            ThrowRef => self.throw_ref(),
            Else => self.else_op(),
            End => self.end_op(),
            Br { relative_depth } => {
                self.br(relative_depth);
                self.reachable = false;
            }
            BrIf { relative_depth } => {
                let cond = self.pop();
                self.br_if_with(relative_depth, cond);
            }
            BrTable { ref targets } => {
                let index = self.pop();
                let mut blocks = Vec::with_capacity(targets.len() as usize);
                for depth in targets.targets() {
                    blocks.push(self.br_table_target(depth?)?);
                }
                let default = self.br_table_target(targets.default())?;
                let jt = ir::JumpTableData::new(default, &blocks);
                let jt = self.b.create_jump_table(jt);
                self.b.ins().br_table(index, jt);
                self.reachable = false;
            }
            Return => {
                let n = self.control[0].results.len();
                let vals = self.peekn(n);
                let vals = self.canonicalize_all(&vals);
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
            Call { function_index } => self.call(function_index, false)?,
            ReturnCall { function_index } => self.call(function_index, true)?,
            CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false)?,
            ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true)?,
            CallRef { type_index } | ReturnCallRef { type_index } => {
                let funcref = self.pop();
                self.trapz(funcref, TrapCode::NullFunctionReference);
                let tail = matches!(op, ReturnCallRef { .. });
                self.call_funcref(type_index, funcref, tail);
            }
            RefAsNonNull => {
                let v = self.pop();
                self.trapz(v, TrapCode::NullReference);
                self.push(v);
            }
            BrOnNull { relative_depth } => {
                let v = self.pop();
                let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                self.br_if_with(relative_depth, is_null);
                self.push(v);
            }
            BrOnNonNull { relative_depth } => {
                let v = self.stack.last().copied().unwrap_or(self.vmctx);
                let non_null = self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
                self.br_if_with(relative_depth, non_null);
                self.pop();
            }
            Drop => {
                self.pop();
            }
            Select | TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let (a, b) = (self.canonicalize(a), self.canonicalize(b));
                let v = self.b.ins().select(c, a, b);
                if let TypedSelect { ty } = *op {
                    let ty = crate::frontend::val_type_at(ty, &self.env.info.type_defs, 0)?;
                    self.declare_ref(v, ty);
                }
                self.push(v);
            }
            TypedSelectMulti { .. } => return Err(self.unsupported("select with several results")),
            LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            LocalSet { local_index } => {
                let v = self.pop();
                let v = self.canonicalize(v);
                self.b.def_var(self.locals[local_index as usize], v);
            }
            LocalTee { local_index } => {
                let v = self.pop();
                let v = self.canonicalize(v);
                self.b.def_var(self.locals[local_index as usize], v);
                self.push(v);
            }
            GlobalGet { global_index } => {
                let ty = self.env.info.global_types[global_index as usize].ty;
                let addr = self.global_addr(global_index);
                let v = self
                    .b
                    .ins()
                    .load(clif_type(ty), MemFlagsData::trusted(), addr, 0);
                self.declare_ref(v, ty);
                self.push(v);
            }
            GlobalSet { global_index } => {
                let v = self.pop();
                let v = self.canonicalize(v);
                let addr = self.global_addr(global_index);
                self.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
            }
            _ => {
                if self.numeric(op)?
                    || self.memory(op)?
                    || self.table(op)?
                    || self.simd(op)?
                    || self.gc(op)?
                {
                    return Ok(());
                }
                return Err(self.unsupported(format!("operator {op:?}")));
            }
        }
        Ok(())
    }

    /// Operators in unreachable code: only track nesting.
    fn dead_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.else_op(),
            Operator::End if self.dead_depth == 0 => self.end_op(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn else_op(&mut self) {
        let Some(frame) = self.control.last().cloned() else {
            return;
        };
        let FrameKind::If { else_block } = frame.kind else {
            return;
        };
        if self.reachable {
            self.jump_with_top(frame.next, frame.results.len());
            if let Some(f) = self.control.last_mut() {
                f.exit_reachable = true;
            }
        }
        self.stack.truncate(frame.height);
        self.b.seal_block(else_block);
        self.switch_to(else_block);
        self.push_block_params(else_block);
        self.reachable = frame.start_reachable;
        if let Some(f) = self.control.last_mut() {
            f.kind = FrameKind::Else;
        }
    }

    fn end_op(&mut self) {
        let Some(frame) = self.control.pop() else {
            return;
        };
        let mut exit_reachable = frame.exit_reachable;
        if self.reachable {
            self.jump_with_top(frame.next, frame.results.len());
            exit_reachable = true;
        }
        if let FrameKind::If { else_block } = frame.kind {
            // No `else`: the parameters flow through to the results.
            self.b.seal_block(else_block);
            self.switch_to(else_block);
            if frame.start_reachable {
                let vals = frame.if_params.clone();
                self.b.ins().jump(frame.next, &args(&vals));
                exit_reachable = true;
            }
        }
        if let Some(h) = frame.header {
            self.b.seal_block(h);
        }
        if let FrameKind::TryTable { first_handler } = frame.kind {
            // Every call that can reach the clauses' landing blocks has been made.
            for h in self.handlers.split_off(first_handler) {
                self.b.seal_block(h.block);
            }
        }
        self.stack.truncate(frame.height);
        self.b.seal_block(frame.next);
        self.switch_to(frame.next);
        self.reachable = exit_reachable;
        if exit_reachable {
            self.push_block_params(frame.next);
        }
    }

    /// The block a branch to the frame at `relative_depth` goes to and how many values it
    /// takes; the frame's exit becomes reachable unless the target is a loop header.
    fn branch_target(&mut self, relative_depth: u32) -> (ir::Block, usize) {
        let depth = self.control.len() - 1 - relative_depth as usize;
        let frame = &mut self.control[depth];
        if frame.header.is_none() {
            frame.exit_reachable = true;
        }
        frame.branch_target()
    }

    /// Open a frame whose parameters are the top `params.len()` stack values.
    fn push_frame(
        &mut self,
        kind: FrameKind,
        next: ir::Block,
        header: Option<ir::Block>,
        (params, results): (Vec<ValType>, Vec<ValType>),
        if_params: Vec<Value>,
    ) {
        let height = self.stack.len() - params.len();
        let params = params.iter().map(|t| clif_type(*t)).collect();
        let results = results.iter().map(|t| clif_type(*t)).collect();
        self.control.push(Frame {
            kind,
            next,
            header,
            params,
            results,
            height,
            start_reachable: true,
            exit_reachable: false,
            if_params,
        });
    }

    /// Branch to the frame at `relative_depth` when `cond` is non-zero, passing the top values.
    pub(crate) fn br_if_with(&mut self, relative_depth: u32, cond: Value) {
        let (target, n) = self.branch_target(relative_depth);
        let vals = self.peekn(n);
        let vals = self.canonicalize_all(&vals);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, target, &args(&vals), cont, &[]);
        self.b.seal_block(cont);
        self.switch_to(cont);
    }

    fn br(&mut self, relative_depth: u32) {
        let (target, n) = self.branch_target(relative_depth);
        self.jump_with_top(target, n);
    }

    fn br_table_target(&mut self, relative_depth: u32) -> Result<ir::BlockCall> {
        let (target, n) = self.branch_target(relative_depth);
        let vals = self.peekn(n);
        let vals = self.canonicalize_all(&vals);
        Ok(self.b.func.dfg.block_call(target, &args(&vals)))
    }

    /// Address of a global's storage.
    fn global_addr(&mut self, index: u32) -> Value {
        let imported = self.env.info.imported_globals;
        if index < imported {
            let off = self.env.offsets.imported_global(index);
            self.load_vmctx_ro(off)
        } else {
            let off = self.env.offsets.defined_global(index - imported);
            self.b.ins().iadd_imm_s(self.vmctx, off as i64)
        }
    }

    fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let sig = self
            .env
            .wasm_signature(&self.env.info.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    /// Pop `n` call arguments, canonicalised.
    fn pop_args(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        let vals: Vec<Value> = self.stack.drain(at..).collect();
        self.canonicalize_all(&vals)
    }

    /// `call` (`tail`: `return_call`) of function `index`: a direct call of a defined function,
    /// or through the import's funcref slot.
    fn call(&mut self, index: u32, tail: bool) -> Result<()> {
        let type_index = self.env.info.funcs[index as usize];
        let nparams = self.env.info.types[type_index as usize].params.len();
        let call_args = self.pop_args(nparams);
        if index < self.env.info.imported_funcs {
            let slot = self.env.offsets.funcref(index);
            let flags = MemFlagsData::trusted().with_readonly().with_can_move();
            let wasm = self.env.info.wasm_imports.binary_search(&index).is_ok();
            let at = FuncRefAt {
                base: self.vmctx,
                offset: slot as i32,
                flags,
                wasm,
            };
            self.call_through(type_index, at, &call_args, tail);
            return Ok(());
        }
        let fref = match self.func_refs.get(&index) {
            Some(f) => *f,
            None => {
                let sig = self.sig_ref(type_index);
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName::new(0, index));
                let f = self.b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature: sig,
                    colocated: true,
                    patchable: false,
                });
                self.func_refs.insert(index, f);
                f
            }
        };
        let mut all = Vec::with_capacity(call_args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(&call_args);
        if tail {
            self.b.ins().return_call(fref, &all);
            self.reachable = false;
        } else {
            let handlers = Handlers {
                vmctx: self.vmctx,
                list: &self.handlers,
            };
            let results = exceptions::call(&mut self.b, fref, &all, Some(handlers));
            let types = self.env.info.types[type_index as usize].results.clone();
            self.declare_refs(&results, &types);
            self.stack.extend(results);
        }
        Ok(())
    }

    /// `try_table`: fill a landing block per catch clause (in the enclosing scope, where the
    /// clauses' labels are resolved), then open the block with the clauses as handlers.
    fn try_table(&mut self, tt: &wasmparser::TryTable) {
        let (params, results) = self.block_types(tt.ty);
        // End the current block, so the landing blocks can be filled before the body goes on.
        let body = self.b.create_block();
        self.b.ins().jump(body, &[]);
        let first_handler = self.handlers.len();
        let mut clauses = Vec::with_capacity(tt.catches.len());
        for c in &tt.catches {
            use wasmparser::Catch;
            let (tag, label, delivers) = match *c {
                Catch::One { tag, label } => (Some(tag), label, Delivers::Payload),
                Catch::OneRef { tag, label } => (Some(tag), label, Delivers::PayloadAndRef),
                Catch::All { label } => (None, label, Delivers::Nothing),
                Catch::AllRef { label } => (None, label, Delivers::Ref),
            };
            let landing = self.b.create_block();
            self.b.append_block_param(landing, types::I64);
            let vals = self.landing(landing, tag, delivers);
            self.branch_with(label, &vals);
            clauses.push(Handler {
                tag,
                block: landing,
            });
        }
        // Stored so that reading the list backwards gives the innermost `try_table` first
        // and its clauses in order (the first matching clause wins).
        self.handlers.extend(clauses.into_iter().rev());
        self.b.seal_block(body);
        self.switch_to(body);
        let next = self.new_block(&results);
        self.push_frame(
            FrameKind::TryTable { first_handler },
            next,
            None,
            (params, results),
            vec![],
        );
    }

    /// Branch to the frame at `relative_depth` with `vals` (not from the stack).
    fn branch_with(&mut self, relative_depth: u32, vals: &[Value]) {
        let (target, _) = self.branch_target(relative_depth);
        let vals = self.canonicalize_all(vals);
        self.b.ins().jump(target, &args(&vals));
    }

    /// `call_indirect` (`tail`: `return_call_indirect`): bounds, null and type checks, then the
    /// call through the element's funcref.
    fn call_indirect(&mut self, type_index: u32, table_index: u32, tail: bool) -> Result<()> {
        let index = self.pop();
        let (base, len) = self.table_base_len(table_index);
        let index64 = self.widen_index(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index64, len);
        self.trapnz(oob, TrapCode::UndefinedElement);
        let off = self.b.ins().ishl_imm_s(index64, 3);
        let addr = self.b.ins().iadd(base, off);
        let funcref = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 0);
        self.trapz(funcref, TrapCode::UninitializedElement);
        let actual = self.b.ins().load(
            types::I32,
            MemFlagsData::trusted(),
            funcref,
            vmctx::FUNCREF_TYPE_ID as i32,
        );
        // The function's type must be the expected one or (GC) declare it as a supertype,
        // which only a type that is not final can be.
        if self.is_final_type(type_index) {
            let expected = self.canonical_type_id(type_index);
            let mismatch = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
            self.trapnz(mismatch, TrapCode::IndirectCallTypeMismatch);
        } else {
            let fits = self.compare_ids(actual, type_index);
            self.trapz(fits, TrapCode::IndirectCallTypeMismatch);
        }
        self.call_funcref(type_index, funcref, tail);
        Ok(())
    }

    /// Call the (non-null) `VMFuncRef` at `funcref` with the type's arguments from the stack.
    fn call_funcref(&mut self, type_index: u32, funcref: Value, tail: bool) {
        let nparams = self.env.info.types[type_index as usize].params.len();
        let call_args = self.pop_args(nparams);
        let at = FuncRefAt {
            base: funcref,
            offset: 0,
            flags: MemFlagsData::trusted(),
            wasm: false,
        };
        self.call_through(type_index, at, &call_args, tail);
    }

    /// Call the `VMFuncRef` at `base + offset`, a function of type `type_index`, in the
    /// convention it names (see [`FuncRefCall`]); push its results, or end the block for a tail
    /// call.
    fn call_through(&mut self, type_index: u32, at: FuncRefAt, call_args: &[Value], tail: bool) {
        let ty = &self.env.info.types[type_index as usize];
        let call = FuncRefCall {
            base: at.base,
            offset: at.offset,
            flags: at.flags,
            params: &ty.params,
            results: &ty.results,
            native: self.env.native_call_conv(),
            handlers: Some(Handlers {
                vmctx: self.vmctx,
                list: &self.handlers,
            }),
            exit: Some((self.vmctx, &self.env.exits)),
        };
        if tail {
            if at.wasm {
                call.tail_call_wasm(&mut self.b, call_args);
            } else {
                call.tail_call(&mut self.b, call_args);
            }
            self.reachable = false;
        } else {
            let results = if at.wasm {
                call.call_wasm(&mut self.b, call_args)
            } else {
                call.call(&mut self.b, call_args)
            };
            let types = ty.results.clone();
            self.declare_refs(&results, &types);
            self.stack.extend(results);
        }
    }

    /// Call a runtime libcall through the vmctx's libcall table (through an exit trampoline
    /// when it may collect garbage and the module has them).
    pub(crate) fn libcall(&mut self, lc: Libcall, call_args: &[Value]) -> Vec<Value> {
        let (sig, code) = self.libcall_target(lc);
        if super::exit::COLLECTING_LIBCALLS.contains(&lc) {
            let key = super::exit::libcall_key(lc);
            if let Some(index) = self.env.exits.get(&key) {
                let ends = [self.vmctx, code, self.vmctx];
                return super::exit::call_exit(&mut self.b, index, &key, ends, call_args);
            }
        }
        let mut all = vec![self.vmctx];
        all.extend_from_slice(call_args);
        let inst = self.b.ins().call_indirect(sig, code, &all);
        self.b.inst_results(inst).to_vec()
    }

    /// The signature and code address of a libcall, after leaving the frame pointer and
    /// function index where a trap raised by the libcall starts its backtrace (see the
    /// runtime's `backtrace` module).
    pub(crate) fn libcall_target(&mut self, lc: Libcall) -> (ir::SigRef, Value) {
        let sig = match self.libcall_sigs.get(&lc) {
            Some(s) => *s,
            None => {
                // `throw` never returns normally, and what returns through an exception
                // handler must assume every register clobbered: Cranelift's `preserve_all`
                // passes arguments as C does and, at a `try_call`, says exactly that (a
                // C-convention `try_call` would expect callee-saved registers restored).
                let call_conv = match lc {
                    Libcall::Throw => cranelift_codegen::isa::CallConv::PreserveAll,
                    _ => self.env.native_call_conv(),
                };
                let mut sig = Signature::new(call_conv);
                let t = |t: &LibcallType| match t {
                    LibcallType::I32 => types::I32,
                    LibcallType::I64 | LibcallType::Ptr => types::I64,
                };
                sig.params.push(ir::AbiParam::new(types::I64));
                sig.params
                    .extend(lc.params().iter().map(|p| ir::AbiParam::new(t(p))));
                sig.returns
                    .extend(lc.results().iter().map(|p| ir::AbiParam::new(t(p))));
                let s = self.b.import_signature(sig);
                self.libcall_sigs.insert(lc, s);
                s
            }
        };
        let table = self.load_vmctx_ro(vmctx::VMCTX_LIBCALLS);
        let code = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted().with_readonly().with_can_move(),
            table,
            (lc as u32 * vmctx::PTR) as i32,
        );
        let store = self.load_vmctx_ro(vmctx::VMCTX_STORE);
        let fp = self.b.ins().get_frame_pointer(types::I64);
        let index = self.b.ins().iconst(types::I32, i64::from(self.index));
        let flags = MemFlagsData::trusted();
        self.b
            .ins()
            .store(flags, fp, store, vmctx::STORE_EXIT_FP as i32);
        self.b
            .ins()
            .store(flags, index, store, vmctx::STORE_EXIT_FUNC as i32);
        (sig, code)
    }
}
