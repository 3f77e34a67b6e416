//! Lowering trampolines: the native code behind every lowered function.
//!
//! A core instance imports a lowered function like any other: it calls `(vmctx, params...)`
//! through a funcref slot. For a lowering, that "vmctx" is the runtime's `VMLoweringContext`
//! and the code is a trampoline built here for the lowering's core signature, one per lowering.
//!
//! - **Generic**: spill the parameters into `ValRaw` slots on the stack, call
//!   `ctx.callback(ctx, slots)` — the runtime does the Canonical ABI work — and return the
//!   results the callback left in the slots.
//! - **Fused** (a call into another component's lifted function whose parameters are
//!   integers, floats, bools, chars, records/tuples of them and strings UTF-8 on both sides, at
//!   most 16 flat parameters, and whose result is one such scalar or nothing): check the
//!   caller's `may_leave` and the callee's `may_enter` flags, each string's bounds in the
//!   caller's memory and its UTF-8 (the `utf8_valid` libcall), then mark the callee entered,
//!   copy each string into a buffer from the callee's `realloc` (called directly; the
//!   `string_copy` libcall checks the buffer against the callee's memory and copies), convert
//!   each scalar as lifting then lowering would (mask or sign-extend narrow integers, normalise
//!   bools), call the callee's core function directly, run its post-return, and mark it
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
    condcodes::IntCC, types, AbiParam, ArgumentPurpose, Function, InstBuilder, MemFlagsData,
    Signature, StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use weld_contract::component::descriptor::{
    FLAGS_MAY_ENTER, FLAGS_MAY_LEAVE, LOWERING_CALLBACK, LOWERING_CALLEE, LOWERING_CALLEE_FLAGS,
    LOWERING_CALLEE_MEMORY, LOWERING_CALLEE_REALLOC, LOWERING_CALLER_FLAGS, LOWERING_CALLER_MEMORY,
    LOWERING_POST_RETURN,
};
use weld_contract::component::{ComponentInfo, LoweringTarget, StringEncoding, TypeDef};
use weld_contract::info::ValType;
use weld_contract::libcall::{Libcall, LibcallType};
use weld_contract::vmctx::{
    FUNCREF_FUNC, FUNCREF_VMCTX, MEMORY_BASE, MEMORY_LENGTH, PTR, STORE_EXIT_FP, STORE_EXIT_FUNC,
    VALRAW_SIZE, VMCTX_LIBCALLS, VMCTX_STORE,
};

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
    /// A UTF-8 string's offset in the caller's memory (the next value is its length): replaced
    /// by the offset of its copy in the callee's memory.
    StrPtr,
    /// A UTF-8 string's length in bytes (the previous value is its offset).
    StrLen,
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
    // Strings: UTF-8 on both sides, the caller's memory to read from, the callee's memory and
    // realloc to copy into.
    let strings_ok = l.opts.encoding == StringEncoding::Utf8
        && callee.opts.encoding == StringEncoding::Utf8
        && l.opts.memory.is_some()
        && callee.opts.memory.is_some()
        && callee.opts.realloc.is_some();
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
        if matches!(info.types.get(*t as usize)?, TypeDef::String) {
            if !strings_ok {
                return None;
            }
            params.extend([Conv::StrPtr, Conv::StrLen]);
        } else {
            convs(&info.types, *t, &mut params)?;
        }
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
        Conv::Same | Conv::Char | Conv::StrPtr | Conv::StrLen => v,
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
    // The callee's core function and vmctx (whose libcall table the string libcalls use).
    let callee = b.ins().load(types::I64, ro, lctx, LOWERING_CALLEE as i32);
    let code = b.ins().load(types::I64, ro, callee, FUNCREF_FUNC as i32);
    let cvmctx = b.ins().load(types::I64, ro, callee, FUNCREF_VMCTX as i32);
    let strings: Vec<usize> = pconv
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == Conv::StrPtr)
        .map(|(i, _)| i)
        .collect();
    // Host addresses of the strings in the caller's memory, once checked.
    let mut sources = Vec::new();
    if !strings.is_empty() {
        let realloc = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLEE_REALLOC as i32);
        let have = b.ins().icmp_imm_s(IntCC::NotEqual, realloc, 0);
        ok = b.ins().band(ok, have);
        let bounds = b.create_block();
        b.ins().brif(ok, bounds, &[], generic, &[]);
        b.switch_to_block(bounds);
        b.seal_block(bounds);
        let mem = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLER_MEMORY as i32);
        let base = b.ins().load(types::I64, ro, mem, MEMORY_BASE as i32);
        let length = b.ins().load(types::I64, rw, mem, MEMORY_LENGTH as i32);
        let mut fits = b.ins().iconst(types::I8, 1);
        for &i in &strings {
            let (ptr, len) = (args[i], args[i + 1]);
            let p64 = b.ins().uextend(types::I64, ptr);
            let n64 = b.ins().uextend(types::I64, len);
            let end = b.ins().iadd(p64, n64);
            let inside = b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, length);
            let short = b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, len, MAX_STRING_LEN);
            let both = b.ins().band(inside, short);
            fits = b.ins().band(fits, both);
            sources.push((b.ins().iadd(base, p64), n64));
        }
        let utf8 = b.create_block();
        b.ins().brif(fits, utf8, &[], generic, &[]);
        b.switch_to_block(utf8);
        b.seal_block(utf8);
        for &(src, n64) in &sources {
            let valid = libcall(b, cvmctx, Libcall::Utf8Valid, &[src, n64], call_conv)[0];
            let next = b.create_block();
            b.ins().brif(valid, next, &[], generic, &[]);
            b.switch_to_block(next);
            b.seal_block(next);
        }
        ok = b.ins().iconst(types::I8, 1);
    }
    let fast = b.create_block();
    b.ins().brif(ok, fast, &[], generic, &[]);
    b.switch_to_block(fast);
    b.seal_block(fast);
    let zero = b.ins().iconst(types::I32, 0);
    let one = b.ins().iconst(types::I32, 1);
    b.ins()
        .store(rw, zero, callee_flags, FLAGS_MAY_ENTER as i32);
    // While strings are lowered into it (its realloc runs) the callee may not leave.
    let leave = if strings.is_empty() { one } else { zero };
    b.ins()
        .store(rw, leave, callee_flags, FLAGS_MAY_LEAVE as i32);
    let mut call_args = vec![cvmctx];
    for (a, c) in args.iter().zip(pconv) {
        call_args.push(convert(b, *a, *c));
    }
    if !strings.is_empty() {
        let realloc = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLEE_REALLOC as i32);
        let rcode = b.ins().load(types::I64, ro, realloc, FUNCREF_FUNC as i32);
        let rvmctx = b.ins().load(types::I64, ro, realloc, FUNCREF_VMCTX as i32);
        let target = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLEE_MEMORY as i32);
        let mut rsig = Signature::new(call_conv);
        rsig.params
            .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
        rsig.params.extend([AbiParam::new(types::I32); 4]);
        rsig.returns.push(AbiParam::new(types::I32));
        let rsig = b.import_signature(rsig);
        for (&i, &(src, _)) in strings.iter().zip(&sources) {
            let len = args[i + 1];
            let zero = b.ins().iconst(types::I32, 0);
            let align = b.ins().iconst(types::I32, 1);
            let call = b
                .ins()
                .call_indirect(rsig, rcode, &[rvmctx, zero, zero, align, len]);
            let dst = b.inst_results(call)[0];
            libcall(
                b,
                cvmctx,
                Libcall::StringCopy,
                &[target, dst, src, len],
                call_conv,
            );
            call_args[1 + i] = dst;
        }
        b.ins().store(rw, one, callee_flags, FLAGS_MAY_LEAVE as i32);
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

/// The longest string the Canonical ABI moves (`MAX_STRING_BYTE_LENGTH`, 2^31 - 1 bytes).
const MAX_STRING_LEN: i64 = (1 << 31) - 1;

/// Call runtime libcall `lc` through the libcall table of `vmctx` (the callee's: a trampoline
/// has none of its own). A trap the libcall raises starts its backtrace at this frame, which
/// belongs to no wasm function.
fn libcall(
    b: &mut FunctionBuilder<'_>,
    vmctx: Value,
    lc: Libcall,
    call_args: &[Value],
    call_conv: cranelift_codegen::isa::CallConv,
) -> Vec<Value> {
    let t = |t: &LibcallType| match t {
        LibcallType::I32 => types::I32,
        LibcallType::I64 | LibcallType::Ptr => types::I64,
    };
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(lc.params().iter().map(|p| AbiParam::new(t(p))));
    sig.returns
        .extend(lc.results().iter().map(|p| AbiParam::new(t(p))));
    let sig = b.import_signature(sig);
    let ro = MemFlagsData::trusted().with_readonly();
    let table = b.ins().load(types::I64, ro, vmctx, VMCTX_LIBCALLS as i32);
    let code = b
        .ins()
        .load(types::I64, ro, table, (lc as u32 * PTR) as i32);
    let store = b.ins().load(types::I64, ro, vmctx, VMCTX_STORE as i32);
    let fp = b.ins().get_frame_pointer(types::I64);
    let no_func = b.ins().iconst(types::I32, i64::from(u32::MAX as i32));
    let rw = MemFlagsData::trusted();
    b.ins().store(rw, fp, store, STORE_EXIT_FP as i32);
    b.ins().store(rw, no_func, store, STORE_EXIT_FUNC as i32);
    let mut all = vec![vmctx];
    all.extend_from_slice(call_args);
    let inst = b.ins().call_indirect(sig, code, &all);
    b.inst_results(inst).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use crate::wat;

    /// The fused plans of every lowering of a caller that imports `f` from a callee lifting it
    /// with `callee_opts`, lowered with `caller_opts`.
    fn plans(
        ty: &str,
        callee_opts: &str,
        caller_opts: &str,
    ) -> Vec<Option<(Vec<Conv>, Vec<Conv>)>> {
        plans_lowered_as(
            ty,
            callee_opts,
            caller_opts,
            "(param i32 i32 i32) (result i32)",
        )
    }

    /// [`plans`], with the caller's core import of `f` typed `core`.
    fn plans_lowered_as(
        ty: &str,
        callee_opts: &str,
        caller_opts: &str,
        core: &str,
    ) -> Vec<Option<(Vec<Conv>, Vec<Conv>)>> {
        let bytes = wat(&format!(
            r#"(component
              (component $callee
                (core module $m
                  (memory (export "mem") 1)
                  (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
                  (func (export "f") (param i32 i32 i32) (result i32) i32.const 0))
                (core instance $i (instantiate $m))
                (func (export "f") {ty}
                  (canon lift (core func $i "f") {callee_opts})))
              (instance $callee (instantiate $callee))
              (component $caller
                (import "f" (func $f {ty}))
                (core module $libc
                  (memory (export "mem") 1)
                  (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
                (core instance $libc (instantiate $libc))
                (core func $f' (canon lower (func $f) {caller_opts}))
                (core module $main (import "" "f" (func {core})))
                (core instance (instantiate $main (with "" (instance (export "f" (func $f')))))))
              (instance (instantiate $caller (with "f" (func $callee "f")))))"#
        ));
        let options = Options::default();
        let t = super::super::translate::translate(&bytes, options.features()).expect("valid");
        let (info, _arena) = super::super::inline::Inliner::run(&t).expect("flattens");
        (0..info.lowerings.len())
            .map(|i| fused_plan(&info, i as u32))
            .collect()
    }

    const STR_U8: &str = r#"(param "s" string) (param "b" u8) (result u32)"#;
    const BOTH_MEMORIES: &str = r#"(memory $i "mem") (realloc (func $i "realloc"))"#;

    #[test]
    fn a_utf8_string_between_two_memories_is_fused_as_pointer_and_length() {
        let plans = plans(STR_U8, BOTH_MEMORIES, r#"(memory $libc "mem")"#);
        assert_eq!(
            plans,
            [Some((
                vec![Conv::StrPtr, Conv::StrLen, Conv::Zero(8)],
                vec![Conv::Same]
            ))]
        );
    }

    #[test]
    fn strings_in_other_encodings_take_the_generic_path() {
        let callee = format!(r#"{BOTH_MEMORIES} string-encoding=utf16"#);
        assert_eq!(plans(STR_U8, &callee, r#"(memory $libc "mem")"#), [None]);
        let caller = r#"(memory $libc "mem") string-encoding=latin1+utf16"#;
        assert_eq!(plans(STR_U8, BOTH_MEMORIES, caller), [None]);
    }

    #[test]
    fn scalars_alone_are_fused_without_any_memory() {
        let plans = plans(
            r#"(param "a" u32) (param "b" u32) (param "c" bool) (result u32)"#,
            "",
            "",
        );
        assert_eq!(
            plans,
            [Some((
                vec![Conv::Same, Conv::Same, Conv::Bool],
                vec![Conv::Same]
            ))]
        );
    }

    #[test]
    fn a_string_result_takes_the_generic_path() {
        let ty = r#"(param "a" u32) (param "b" u32) (param "c" u32) (result string)"#;
        let callee = r#"(memory $i "mem") (realloc (func $i "realloc"))"#;
        let caller = r#"(memory $libc "mem") (realloc (func $libc "realloc"))"#;
        let plans = plans_lowered_as(ty, callee, caller, "(param i32 i32 i32 i32)");
        assert_eq!(plans, [None]);
    }
}
