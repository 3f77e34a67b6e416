//! Casts: `ref.test`, `ref.cast`, `br_on_cast` and `br_on_cast_fail`.
//!
//! In: a reference word and a target reference type. Out: an `i32` that says whether the
//! value belongs to the type, from inline checks: the word's tag bits (`i31`, host value,
//! object, see `weld_contract::gc`), then the object's canonical type id (two low bits: struct
//! or array), compared with the target's id from the vmctx. Only when the ids differ and the
//! target type is not final does a libcall walk the supertype chain. Function references are
//! checked the same way through their `VMFuncRef`'s type id.

use super::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::Operator;
use weld_contract::gc::{TypeKind, HOST_TAG, I31_TAG, OBJECT_TYPE_ID, TAG_MASK, TYPE_KIND_MASK};
use weld_contract::info::HeapType;
use weld_contract::libcall::Libcall;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx;

impl Translator<'_, '_> {
    /// Cast operators; `Ok(false)` if `op` is not one.
    pub(crate) fn casts(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator::*;
        match *op {
            RefTestNonNull { hty } | RefTestNullable { hty } => {
                let v = self.pop();
                let nullable = matches!(op, RefTestNullable { .. });
                let heap = self.heap(hty)?;
                let t = self.ref_test(v, heap, nullable);
                self.push(t);
            }
            RefCastNonNull { hty } | RefCastNullable { hty } => {
                let v = self.pop();
                let nullable = matches!(op, RefCastNullable { .. });
                let heap = self.heap(hty)?;
                let t = self.ref_test(v, heap, nullable);
                self.trapz(t, TrapCode::CastFailure);
                self.push(v);
            }
            BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let v = self.stack.last().copied().unwrap_or(self.vmctx);
                let heap = self.heap(to_ref_type.heap_type())?;
                let t = self.ref_test(v, heap, to_ref_type.is_nullable());
                let cond = match op {
                    BrOnCast { .. } => t,
                    _ => self.b.ins().icmp_imm_s(IntCC::Equal, t, 0),
                };
                self.br_if_with(relative_depth, cond);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn heap(&self, h: wasmparser::HeapType) -> Result<HeapType> {
        crate::frontend::types::heap_type(h, self.offset)
    }

    /// `1` (i32) if `v` is a value of `(ref null? heap)`, else `0`.
    pub(crate) fn ref_test(&mut self, v: Value, heap: HeapType, nullable: bool) -> Value {
        let done = self.b.create_block();
        let result = self.b.append_block_param(done, types::I32);
        let non_null = self.b.create_block();
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        let null_answer = self.b.ins().iconst(types::I32, i64::from(nullable));
        self.b
            .ins()
            .brif(is_null, done, &[null_answer.into()], non_null, &[]);
        self.b.seal_block(non_null);
        self.b.switch_to_block(non_null);
        self.test_non_null(v, heap, done);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        result
    }

    /// Jump to `done` with whether non-null `v` is of `heap`.
    fn test_non_null(&mut self, v: Value, heap: HeapType, done: cranelift_codegen::ir::Block) {
        use HeapType as H;
        let answer = match heap {
            H::Any | H::Extern | H::Func | H::Exn => self.b.ins().iconst(types::I32, 1),
            H::None | H::NoExtern | H::NoFunc | H::NoExn => self.b.ins().iconst(types::I32, 0),
            H::Eq => {
                // An i31 or an object: anything but a host value.
                let tag = self.b.ins().band_imm_s(v, TAG_MASK as i64);
                let host = self
                    .b
                    .ins()
                    .icmp_imm_s(IntCC::NotEqual, tag, HOST_TAG as i64);
                self.b.ins().uextend(types::I32, host)
            }
            H::I31 => {
                let low = self.b.ins().ireduce(types::I32, v);
                self.b.ins().band_imm_s(low, I31_TAG as i64)
            }
            H::Struct => return self.test_object(v, Some(TypeKind::Struct), None, done),
            H::Array => return self.test_object(v, Some(TypeKind::Array), None, done),
            H::Concrete(t) => match self.env.info.type_defs.kind(t) {
                Some(TypeKind::Func) | None => {
                    let flags = MemFlagsData::trusted().with_readonly();
                    let off = vmctx::FUNCREF_TYPE_ID as i32;
                    let id = self.b.ins().load(types::I32, flags, v, off);
                    self.compare_ids(id, t)
                }
                Some(_) => return self.test_object(v, None, Some(t), done),
            },
        };
        self.b.ins().jump(done, &[answer.into()]);
    }

    /// Jump to `done` with whether `v` is an object of kind `kind` or of type `t` (or below).
    fn test_object(
        &mut self,
        v: Value,
        kind: Option<TypeKind>,
        t: Option<u32>,
        done: cranelift_codegen::ir::Block,
    ) {
        let object = self.b.create_block();
        let tag = self.b.ins().band_imm_s(v, TAG_MASK as i64);
        let zero = self.b.ins().iconst(types::I32, 0);
        self.b.ins().brif(tag, done, &[zero.into()], object, &[]);
        self.b.seal_block(object);
        self.b.switch_to_block(object);
        let flags = MemFlagsData::trusted().with_readonly();
        let id = self
            .b
            .ins()
            .load(types::I32, flags, v, OBJECT_TYPE_ID as i32);
        let answer = match (kind, t) {
            (_, Some(t)) => self.compare_ids(id, t),
            (Some(k), None) => {
                let bits = self.b.ins().band_imm_s(id, i64::from(TYPE_KIND_MASK));
                let is = self.b.ins().icmp_imm_s(IntCC::Equal, bits, k as i64);
                self.b.ins().uextend(types::I32, is)
            }
            (None, None) => self.b.ins().iconst(types::I32, 1),
        };
        self.b.ins().jump(done, &[answer.into()]);
    }

    /// Whether type `t` is final: no other type can declare it as a supertype.
    pub(crate) fn is_final_type(&self, t: u32) -> bool {
        let types = &self.env.info.type_defs.types;
        types.get(t as usize).is_none_or(|s| s.is_final)
    }

    /// Whether canonical id `id` is type `t` of this module or one of its subtypes: equality
    /// inline; for a type that is not final, the supertype walk on inequality.
    pub(crate) fn compare_ids(&mut self, id: Value, t: u32) -> Value {
        let want = self.canonical_type_id(t);
        let same = self.b.ins().icmp(IntCC::Equal, id, want);
        let same = self.b.ins().uextend(types::I32, same);
        if self.is_final_type(t) {
            return same;
        }
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let r = self.b.append_block_param(join, types::I32);
        self.b.ins().brif(same, join, &[same.into()], slow, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let sub = self.libcall(Libcall::GcIsSubtype, &[id, want])[0];
        self.b.ins().jump(join, &[sub.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        r
    }
}
