//! Scalar numeric operators: constants, integer and float arithmetic, comparisons, conversions.
//! Cranelift's instructions already have WebAssembly semantics for division traps, shift masks,
//! `fmin`/`fmax` and `nearest`, so most operators map one to one.

use super::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types, InstBuilder, MemFlagsData, Value,
};
use wasmparser::Operator;

impl Translator<'_, '_> {
    fn unop(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(self, a, b);
        self.push(v);
    }

    fn icmp_op(&mut self, cc: IntCC) {
        self.binop(|t, a, b| {
            let c = t.b.ins().icmp(cc, a, b);
            t.b.ins().uextend(types::I32, c)
        });
    }

    fn fcmp_op(&mut self, cc: FloatCC) {
        self.binop(|t, a, b| {
            let c = t.b.ins().fcmp(cc, a, b);
            t.b.ins().uextend(types::I32, c)
        });
    }

    fn eqz(&mut self) {
        self.unop(|t, a| {
            let c = t.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
            t.b.ins().uextend(types::I32, c)
        });
    }

    fn sext_in_place(&mut self, narrow: types::Type) {
        self.unop(|t, a| {
            let ty = t.b.func.dfg.value_type(a);
            let n = t.b.ins().ireduce(narrow, a);
            t.b.ins().sextend(ty, n)
        });
    }

    fn bitcast_to(&mut self, ty: types::Type) {
        self.unop(|t, a| t.b.ins().bitcast(ty, MemFlagsData::new(), a));
    }

    /// Scalar operators; `Ok(false)` if `op` is not one.
    pub(crate) fn numeric(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32, F64, I32, I64};
        use Operator::*;
        match *op {
            I32Const { value } => {
                let v = self.b.ins().iconst(I32, value as i64);
                self.push(v);
            }
            I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            I32Eqz | I64Eqz => self.eqz(),
            I32Eq | I64Eq => self.icmp_op(IntCC::Equal),
            I32Ne | I64Ne => self.icmp_op(IntCC::NotEqual),
            I32LtS | I64LtS => self.icmp_op(IntCC::SignedLessThan),
            I32LtU | I64LtU => self.icmp_op(IntCC::UnsignedLessThan),
            I32GtS | I64GtS => self.icmp_op(IntCC::SignedGreaterThan),
            I32GtU | I64GtU => self.icmp_op(IntCC::UnsignedGreaterThan),
            I32LeS | I64LeS => self.icmp_op(IntCC::SignedLessThanOrEqual),
            I32LeU | I64LeU => self.icmp_op(IntCC::UnsignedLessThanOrEqual),
            I32GeS | I64GeS => self.icmp_op(IntCC::SignedGreaterThanOrEqual),
            I32GeU | I64GeU => self.icmp_op(IntCC::UnsignedGreaterThanOrEqual),
            F32Eq | F64Eq => self.fcmp_op(FloatCC::Equal),
            F32Ne | F64Ne => self.fcmp_op(FloatCC::NotEqual),
            F32Lt | F64Lt => self.fcmp_op(FloatCC::LessThan),
            F32Gt | F64Gt => self.fcmp_op(FloatCC::GreaterThan),
            F32Le | F64Le => self.fcmp_op(FloatCC::LessThanOrEqual),
            F32Ge | F64Ge => self.fcmp_op(FloatCC::GreaterThanOrEqual),
            I32Clz | I64Clz => self.unop(|t, a| t.b.ins().clz(a)),
            I32Ctz | I64Ctz => self.unop(|t, a| t.b.ins().ctz(a)),
            I32Popcnt | I64Popcnt => self.unop(|t, a| t.b.ins().popcnt(a)),
            I32Add | I64Add => self.binop(|t, a, b| t.b.ins().iadd(a, b)),
            I32Sub | I64Sub => self.binop(|t, a, b| t.b.ins().isub(a, b)),
            I32Mul | I64Mul => self.binop(|t, a, b| t.b.ins().imul(a, b)),
            I32DivS | I64DivS => self.binop(|t, a, b| t.b.ins().sdiv(a, b)),
            I32DivU | I64DivU => self.binop(|t, a, b| t.b.ins().udiv(a, b)),
            I32RemS | I64RemS => self.binop(|t, a, b| t.b.ins().srem(a, b)),
            I32RemU | I64RemU => self.binop(|t, a, b| t.b.ins().urem(a, b)),
            I32And | I64And => self.binop(|t, a, b| t.b.ins().band(a, b)),
            I32Or | I64Or => self.binop(|t, a, b| t.b.ins().bor(a, b)),
            I32Xor | I64Xor => self.binop(|t, a, b| t.b.ins().bxor(a, b)),
            I32Shl | I64Shl => self.binop(|t, a, b| t.b.ins().ishl(a, b)),
            I32ShrS | I64ShrS => self.binop(|t, a, b| t.b.ins().sshr(a, b)),
            I32ShrU | I64ShrU => self.binop(|t, a, b| t.b.ins().ushr(a, b)),
            I32Rotl | I64Rotl => self.binop(|t, a, b| t.b.ins().rotl(a, b)),
            I32Rotr | I64Rotr => self.binop(|t, a, b| t.b.ins().rotr(a, b)),
            F32Abs | F64Abs => self.unop(|t, a| t.b.ins().fabs(a)),
            F32Neg | F64Neg => self.unop(|t, a| t.b.ins().fneg(a)),
            F32Ceil | F64Ceil => self.unop(|t, a| t.b.ins().ceil(a)),
            F32Floor | F64Floor => self.unop(|t, a| t.b.ins().floor(a)),
            F32Trunc | F64Trunc => self.unop(|t, a| t.b.ins().trunc(a)),
            F32Nearest | F64Nearest => self.unop(|t, a| t.b.ins().nearest(a)),
            F32Sqrt | F64Sqrt => self.unop(|t, a| t.b.ins().sqrt(a)),
            F32Add | F64Add => self.binop(|t, a, b| t.b.ins().fadd(a, b)),
            F32Sub | F64Sub => self.binop(|t, a, b| t.b.ins().fsub(a, b)),
            F32Mul | F64Mul => self.binop(|t, a, b| t.b.ins().fmul(a, b)),
            F32Div | F64Div => self.binop(|t, a, b| t.b.ins().fdiv(a, b)),
            F32Min | F64Min => self.binop(|t, a, b| t.b.ins().fmin(a, b)),
            F32Max | F64Max => self.binop(|t, a, b| t.b.ins().fmax(a, b)),
            F32Copysign | F64Copysign => self.binop(|t, a, b| t.b.ins().fcopysign(a, b)),
            I32WrapI64 => self.unop(|t, a| t.b.ins().ireduce(I32, a)),
            I64ExtendI32S => self.unop(|t, a| t.b.ins().sextend(I64, a)),
            I64ExtendI32U => self.unop(|t, a| t.b.ins().uextend(I64, a)),
            I32TruncF32S | I32TruncF64S => self.unop(|t, a| t.b.ins().fcvt_to_sint(I32, a)),
            I32TruncF32U | I32TruncF64U => self.unop(|t, a| t.b.ins().fcvt_to_uint(I32, a)),
            I64TruncF32S | I64TruncF64S => self.unop(|t, a| t.b.ins().fcvt_to_sint(I64, a)),
            I64TruncF32U | I64TruncF64U => self.unop(|t, a| t.b.ins().fcvt_to_uint(I64, a)),
            I32TruncSatF32S | I32TruncSatF64S => {
                self.unop(|t, a| t.b.ins().fcvt_to_sint_sat(I32, a))
            }
            I32TruncSatF32U | I32TruncSatF64U => {
                self.unop(|t, a| t.b.ins().fcvt_to_uint_sat(I32, a))
            }
            I64TruncSatF32S | I64TruncSatF64S => {
                self.unop(|t, a| t.b.ins().fcvt_to_sint_sat(I64, a))
            }
            I64TruncSatF32U | I64TruncSatF64U => {
                self.unop(|t, a| t.b.ins().fcvt_to_uint_sat(I64, a))
            }
            F32ConvertI32S | F32ConvertI64S => self.unop(|t, a| t.b.ins().fcvt_from_sint(F32, a)),
            F32ConvertI32U | F32ConvertI64U => self.unop(|t, a| t.b.ins().fcvt_from_uint(F32, a)),
            F64ConvertI32S | F64ConvertI64S => self.unop(|t, a| t.b.ins().fcvt_from_sint(F64, a)),
            F64ConvertI32U | F64ConvertI64U => self.unop(|t, a| t.b.ins().fcvt_from_uint(F64, a)),
            F32DemoteF64 => self.unop(|t, a| t.b.ins().fdemote(F32, a)),
            F64PromoteF32 => self.unop(|t, a| t.b.ins().fpromote(F64, a)),
            I32ReinterpretF32 => self.bitcast_to(I32),
            I64ReinterpretF64 => self.bitcast_to(I64),
            F32ReinterpretI32 => self.bitcast_to(F32),
            F64ReinterpretI64 => self.bitcast_to(F64),
            I32Extend8S | I64Extend8S => self.sext_in_place(types::I8),
            I32Extend16S | I64Extend16S => self.sext_in_place(types::I16),
            I64Extend32S => self.sext_in_place(types::I32),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
