//! The fused body of a lowering trampoline (see the parent module): flag and string checks,
//! string copies through the callee's `realloc` and the `string_copy` libcall, scalar
//! conversions, and the direct call of the callee and its post-return.

use crate::codegen::funcref::FuncRefCall;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    types, AbiParam, InstBuilder, MemFlagsData, Signature, Value,
};
use cranelift_frontend::FunctionBuilder;
use weld_contract::component::abi::{CANONICAL_F32_NAN, CANONICAL_F64_NAN};
use weld_contract::component::descriptor::{
    FLAGS_MAY_ENTER, FLAGS_MAY_LEAVE, LOWERING_CALLEE, LOWERING_CALLEE_FLAGS,
    LOWERING_CALLEE_MEMORY, LOWERING_CALLEE_REALLOC, LOWERING_CALLER_FLAGS, LOWERING_CALLER_MEMORY,
    LOWERING_POST_RETURN,
};
use weld_contract::component::plan::FlatConv as Conv;
use weld_contract::info::ValType;
use weld_contract::libcall::{Libcall, LibcallType};
use weld_contract::vmctx::{
    FUNCREF_VMCTX, MEMORY_BASE, MEMORY_LENGTH, PTR, STORE_EXIT_FP, STORE_EXIT_FUNC, VMCTX_LIBCALLS,
    VMCTX_STORE,
};

/// Convert one flat value (32-bit lanes for the narrow kinds).
fn convert(b: &mut FunctionBuilder<'_>, v: Value, c: Conv) -> Value {
    match c {
        Conv::Same | Conv::Char | Conv::StrPtr | Conv::StrLen => v,
        Conv::Bool => {
            let nz = b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
            b.ins().uextend(types::I32, nz)
        }
        Conv::U8 => b.ins().band_imm_s(v, 0xff),
        Conv::U16 => b.ins().band_imm_s(v, 0xffff),
        Conv::S8 | Conv::S16 => {
            let narrow = if c == Conv::S8 { types::I8 } else { types::I16 };
            let n = b.ins().ireduce(narrow, v);
            b.ins().sextend(types::I32, n)
        }
        Conv::F32 => {
            let nan = b.ins().fcmp(FloatCC::Unordered, v, v);
            let canon = b.ins().f32const(Ieee32::with_bits(CANONICAL_F32_NAN));
            b.ins().select(nan, canon, v)
        }
        Conv::F64 => {
            let nan = b.ins().fcmp(FloatCC::Unordered, v, v);
            let canon = b.ins().f64const(Ieee64::with_bits(CANONICAL_F64_NAN));
            b.ins().select(nan, canon, v)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn fused_body(
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
    let cvmctx = b.ins().load(types::I64, ro, callee, FUNCREF_VMCTX as i32);
    // Calls through a funcref: the callee, its realloc and post-return are usually wasm
    // (Cranelift's tail convention), but may be host code (see `FuncRefCall`).
    let through =
        |base: Value, params: &'static [ValType], results: &'static [ValType]| FuncRefCall {
            base,
            offset: 0,
            flags: ro,
            params,
            results,
            native: call_conv,
            handlers: None,
        };
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
    let mut call_args = Vec::with_capacity(args.len());
    for (a, c) in args.iter().zip(pconv) {
        call_args.push(convert(b, *a, *c));
    }
    if !strings.is_empty() {
        let realloc = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLEE_REALLOC as i32);
        let target = b
            .ins()
            .load(types::I64, ro, lctx, LOWERING_CALLEE_MEMORY as i32);
        let realloc = through(realloc, &[ValType::I32; 4], &[ValType::I32]);
        for (&i, &(src, _)) in strings.iter().zip(&sources) {
            let len = args[i + 1];
            let zero = b.ins().iconst(types::I32, 0);
            let align = b.ins().iconst(types::I32, 1);
            let dst = realloc.call(b, &[zero, zero, align, len])[0];
            libcall(
                b,
                cvmctx,
                Libcall::StringCopy,
                &[target, dst, src, len],
                call_conv,
            );
            call_args[i] = dst;
        }
        b.ins().store(rw, one, callee_flags, FLAGS_MAY_LEAVE as i32);
    }
    let callee_call = FuncRefCall {
        params,
        results,
        ..through(callee, &[], &[])
    };
    let raw = callee_call.call(b, &call_args);
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
    let post_call = FuncRefCall {
        params: results,
        ..through(post, &[], &[])
    };
    post_call.call(b, &raw);
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
const MAX_STRING_LEN: i64 = weld_contract::component::abi::MAX_STRING_BYTE_LENGTH as i64;

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
