//! Fixed-width SIMD operators (v128: wasm 2.0, and Wasm 3.0's relaxed SIMD in `relaxed.rs`).
//!
//! Lowering choices:
//! - wasm has one `v128` type, CLIF has one type per lane shape. Each operator bitcasts its
//!   operands to the lane type it needs (`vec`) and pushes its result bitcast back to `I8X16`
//!   (`push_vec`), so every v128 on the operand stack has the canonical type and operators that
//!   treat values opaquely (`select`, locals, branches) never see two different vector types.
//!   Bitcasts between vector types are free: the register allocator coalesces the moves.
//! - Most operators map one to one onto a Cranelift instruction with wasm semantics (`swizzle`,
//!   `shuffle`, `fmin`/`fmax`, saturating arithmetic, `avg_round`, `sqmul_round_sat`,
//!   `snarrow`/`unarrow`, `vhigh_bits`, `vany_true`/`vall_true`, ...).
//! - Shift counts are masked to the lane width explicitly rather than relying on the backend.
//! - Composite operators use the instruction shapes the x86-64 backend pattern-matches into
//!   single instructions: extmul is `imul` of two widened halves, extadd-pairwise and the dot
//!   product are `iadd_pairwise` of widened halves, `convert_low` is a conversion of
//!   `swiden_low`/`uwiden_low`, and `trunc_sat_f64x2_*_zero` is a 64-bit saturating conversion
//!   narrowed against a zero constant (`snarrow`/`uunarrow`).
//! - `pmin`/`pmax` are the spec's definitions as compare + `bitselect`: `pmin(a, b)` is
//!   `b < a ? b : a`, `pmax(a, b)` is `a < b ? b : a`.
//! - Memory operators (in `memory.rs`) compute addresses with `access_addr`, like scalar
//!   accesses, and use `heap_flags` so a fault is reported as an out-of-bounds access.

mod memory;
mod relaxed;
#[cfg(test)]
mod tests;

use super::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{
    condcodes::{FloatCC, IntCC},
    types::{Type, F32X4, F64X2, I16, I16X8, I32, I32X4, I64X2, I8, I8X16},
    Endianness, InstBuilder, MemFlagsData, Opcode, Value,
};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// `x` as a vector of type `ty` (a no-op bitcast when needed).
    pub(crate) fn as_vec(&mut self, ty: Type, x: Value) -> Value {
        if self.b.func.dfg.value_type(x) == ty {
            x
        } else {
            let flags = MemFlagsData::new().with_endianness(Endianness::Little);
            self.b.ins().bitcast(ty, flags, x)
        }
    }

    /// Pop a v128 as a vector of type `ty`.
    pub(crate) fn vec(&mut self, ty: Type) -> Value {
        let x = self.pop();
        self.as_vec(ty, x)
    }

    /// Push a vector result in the canonical `I8X16` type.
    pub(crate) fn push_vec(&mut self, x: Value) {
        let x = self.canonicalize(x);
        self.push(x);
    }

    /// A `ty` vector constant of 16 bytes.
    fn vconst_bytes(&mut self, ty: Type, bytes: &[u8]) -> Value {
        let c = self.b.func.dfg.constants.insert(bytes.to_vec().into());
        self.b.ins().vconst(ty, c)
    }

    /// A unary instruction whose controlling type is its operand's.
    fn un(&mut self, ty: Type, op: Opcode) {
        let a = self.vec(ty);
        let (inst, dfg) = self.b.ins().Unary(op, ty, a);
        let r = dfg.first_result(inst);
        self.push_vec(r);
    }

    /// A binary instruction whose controlling type is its first operand's.
    fn bin(&mut self, ty: Type, op: Opcode) {
        let b = self.vec(ty);
        let a = self.vec(ty);
        let (inst, dfg) = self.b.ins().Binary(op, ty, a, b);
        let r = dfg.first_result(inst);
        self.push_vec(r);
    }

    /// Apply `f` to one popped operand of type `ty`.
    fn un_with(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.vec(ty);
        let r = f(self, a);
        self.push_vec(r);
    }

    /// Apply `f` to two popped operands of type `ty`.
    fn bin_with(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let b = self.vec(ty);
        let a = self.vec(ty);
        let r = f(self, a, b);
        self.push_vec(r);
    }

    fn icmp_vec(&mut self, ty: Type, cc: IntCC) {
        self.bin_with(ty, |t, a, b| t.b.ins().icmp(cc, a, b));
    }

    fn fcmp_vec(&mut self, ty: Type, cc: FloatCC) {
        self.bin_with(ty, |t, a, b| t.b.ins().fcmp(cc, a, b));
    }

    /// Shift of lanes of `ty` by a scalar count taken modulo the lane width.
    fn shift(&mut self, ty: Type, op: Opcode) {
        let count = self.pop();
        let count = self
            .b
            .ins()
            .band_imm_u(count, i64::from(ty.lane_bits() - 1));
        let a = self.vec(ty);
        let (inst, dfg) = self.b.ins().Binary(op, ty, a, count);
        let r = dfg.first_result(inst);
        self.push_vec(r);
    }

    /// Widen the low or high half of a vector, sign- or zero-extending.
    fn widen(&mut self, x: Value, high: bool, signed: bool) -> Value {
        let ins = self.b.ins();
        match (high, signed) {
            (false, true) => ins.swiden_low(x),
            (true, true) => ins.swiden_high(x),
            (false, false) => ins.uwiden_low(x),
            (true, false) => ins.uwiden_high(x),
        }
    }

    /// `extend_{low,high}`: widen one half of a `ty` vector.
    fn extend(&mut self, ty: Type, high: bool, signed: bool) {
        self.un_with(ty, |t, a| t.widen(a, high, signed));
    }

    /// `extmul_{low,high}`: widen one half of both operands, then multiply.
    fn extmul(&mut self, ty: Type, high: bool, signed: bool) {
        self.bin_with(ty, |t, a, b| {
            let a = t.widen(a, high, signed);
            let b = t.widen(b, high, signed);
            t.b.ins().imul(a, b)
        });
    }

    /// `extadd_pairwise`: add adjacent lanes into lanes of twice the width.
    fn extadd_pairwise(&mut self, ty: Type, signed: bool) {
        self.un_with(ty, |t, a| {
            let lo = t.widen(a, false, signed);
            let hi = t.widen(a, true, signed);
            t.b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `pmin` (`b < a ? b : a`) or `pmax` (`a < b ? b : a`).
    fn pminmax(&mut self, ty: Type, max: bool) {
        self.bin_with(ty, |t, a, b| {
            let mask = if max {
                t.b.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                t.b.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let mask = t.as_vec(ty, mask);
            t.b.ins().bitselect(mask, b, a)
        });
    }

    /// `extract_lane` of lane type `ty`; narrow integer lanes are extended to i32.
    fn extract_lane(&mut self, ty: Type, lane: u8, signed: bool) {
        let v = self.vec(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match ty.lane_type() {
            I8 | I16 if signed => self.b.ins().sextend(I32, x),
            I8 | I16 => self.b.ins().uextend(I32, x),
            _ => x,
        };
        self.push(x);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop();
        let x = self.narrow_scalar(ty, x);
        let v = self.vec(ty);
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_vec(r);
    }

    /// An i32 operand reduced to an i8/i16 lane when `ty` has such lanes.
    fn narrow_scalar(&mut self, ty: Type, x: Value) -> Value {
        match ty.lane_type() {
            I8 | I16 => self.b.ins().ireduce(ty.lane_type(), x),
            _ => x,
        }
    }

    fn splat_op(&mut self, ty: Type) {
        let x = self.pop();
        let x = self.narrow_scalar(ty, x);
        let r = self.b.ins().splat(ty, x);
        self.push_vec(r);
    }

    /// `all_true` / `bitmask` / `any_true`: a vector reduced to an i32.
    fn reduce(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.vec(ty);
        let r = f(self, a);
        let r = if self.b.func.dfg.value_type(r) == I32 {
            r
        } else {
            self.b.ins().uextend(I32, r)
        };
        self.push(r);
    }

    /// SIMD operators; `Ok(false)` if `op` is not one.
    pub(crate) fn simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        if self.simd_memory(op)? {
            return Ok(true);
        }
        use Opcode as O;
        use Operator::*;
        match *op {
            V128Const { value } => {
                let r = self.vconst_bytes(I8X16, value.bytes());
                self.push(r);
            }
            I8x16Shuffle { lanes } => {
                let b = self.vec(I8X16);
                let a = self.vec(I8X16);
                let mask = self.b.func.dfg.immediates.push(lanes.to_vec().into());
                let r = self.b.ins().shuffle(a, b, mask);
                self.push(r);
            }
            I8x16Swizzle => self.bin_with(I8X16, |t, a, b| t.b.ins().swizzle(a, b)),

            // Lanes.
            I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, true),
            I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, false),
            I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, true),
            I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, false),
            I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, false),
            I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, false),
            F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, false),
            F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, false),
            I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),
            I8x16Splat => self.splat_op(I8X16),
            I16x8Splat => self.splat_op(I16X8),
            I32x4Splat => self.splat_op(I32X4),
            I64x2Splat => self.splat_op(I64X2),
            F32x4Splat => self.splat_op(F32X4),
            F64x2Splat => self.splat_op(F64X2),

            // Integer comparisons.
            I8x16Eq => self.icmp_vec(I8X16, IntCC::Equal),
            I8x16Ne => self.icmp_vec(I8X16, IntCC::NotEqual),
            I8x16LtS => self.icmp_vec(I8X16, IntCC::SignedLessThan),
            I8x16LtU => self.icmp_vec(I8X16, IntCC::UnsignedLessThan),
            I8x16GtS => self.icmp_vec(I8X16, IntCC::SignedGreaterThan),
            I8x16GtU => self.icmp_vec(I8X16, IntCC::UnsignedGreaterThan),
            I8x16LeS => self.icmp_vec(I8X16, IntCC::SignedLessThanOrEqual),
            I8x16LeU => self.icmp_vec(I8X16, IntCC::UnsignedLessThanOrEqual),
            I8x16GeS => self.icmp_vec(I8X16, IntCC::SignedGreaterThanOrEqual),
            I8x16GeU => self.icmp_vec(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            I16x8Eq => self.icmp_vec(I16X8, IntCC::Equal),
            I16x8Ne => self.icmp_vec(I16X8, IntCC::NotEqual),
            I16x8LtS => self.icmp_vec(I16X8, IntCC::SignedLessThan),
            I16x8LtU => self.icmp_vec(I16X8, IntCC::UnsignedLessThan),
            I16x8GtS => self.icmp_vec(I16X8, IntCC::SignedGreaterThan),
            I16x8GtU => self.icmp_vec(I16X8, IntCC::UnsignedGreaterThan),
            I16x8LeS => self.icmp_vec(I16X8, IntCC::SignedLessThanOrEqual),
            I16x8LeU => self.icmp_vec(I16X8, IntCC::UnsignedLessThanOrEqual),
            I16x8GeS => self.icmp_vec(I16X8, IntCC::SignedGreaterThanOrEqual),
            I16x8GeU => self.icmp_vec(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            I32x4Eq => self.icmp_vec(I32X4, IntCC::Equal),
            I32x4Ne => self.icmp_vec(I32X4, IntCC::NotEqual),
            I32x4LtS => self.icmp_vec(I32X4, IntCC::SignedLessThan),
            I32x4LtU => self.icmp_vec(I32X4, IntCC::UnsignedLessThan),
            I32x4GtS => self.icmp_vec(I32X4, IntCC::SignedGreaterThan),
            I32x4GtU => self.icmp_vec(I32X4, IntCC::UnsignedGreaterThan),
            I32x4LeS => self.icmp_vec(I32X4, IntCC::SignedLessThanOrEqual),
            I32x4LeU => self.icmp_vec(I32X4, IntCC::UnsignedLessThanOrEqual),
            I32x4GeS => self.icmp_vec(I32X4, IntCC::SignedGreaterThanOrEqual),
            I32x4GeU => self.icmp_vec(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            I64x2Eq => self.icmp_vec(I64X2, IntCC::Equal),
            I64x2Ne => self.icmp_vec(I64X2, IntCC::NotEqual),
            I64x2LtS => self.icmp_vec(I64X2, IntCC::SignedLessThan),
            I64x2GtS => self.icmp_vec(I64X2, IntCC::SignedGreaterThan),
            I64x2LeS => self.icmp_vec(I64X2, IntCC::SignedLessThanOrEqual),
            I64x2GeS => self.icmp_vec(I64X2, IntCC::SignedGreaterThanOrEqual),

            // Float comparisons (`ne` is true for unordered operands, like CLIF's `ne`).
            F32x4Eq => self.fcmp_vec(F32X4, FloatCC::Equal),
            F32x4Ne => self.fcmp_vec(F32X4, FloatCC::NotEqual),
            F32x4Lt => self.fcmp_vec(F32X4, FloatCC::LessThan),
            F32x4Gt => self.fcmp_vec(F32X4, FloatCC::GreaterThan),
            F32x4Le => self.fcmp_vec(F32X4, FloatCC::LessThanOrEqual),
            F32x4Ge => self.fcmp_vec(F32X4, FloatCC::GreaterThanOrEqual),
            F64x2Eq => self.fcmp_vec(F64X2, FloatCC::Equal),
            F64x2Ne => self.fcmp_vec(F64X2, FloatCC::NotEqual),
            F64x2Lt => self.fcmp_vec(F64X2, FloatCC::LessThan),
            F64x2Gt => self.fcmp_vec(F64X2, FloatCC::GreaterThan),
            F64x2Le => self.fcmp_vec(F64X2, FloatCC::LessThanOrEqual),
            F64x2Ge => self.fcmp_vec(F64X2, FloatCC::GreaterThanOrEqual),

            // Bitwise.
            V128Not => self.un(I8X16, O::Bnot),
            V128And => self.bin(I8X16, O::Band),
            V128Or => self.bin(I8X16, O::Bor),
            V128Xor => self.bin(I8X16, O::Bxor),
            V128AndNot => self.bin_with(I8X16, |t, a, b| t.b.ins().band_not(a, b)),
            V128Bitselect => {
                let c = self.vec(I8X16);
                let b = self.vec(I8X16);
                let a = self.vec(I8X16);
                let r = self.b.ins().bitselect(c, a, b);
                self.push(r);
            }
            V128AnyTrue => self.reduce(I8X16, |t, a| t.b.ins().vany_true(a)),

            // Reductions.
            I8x16AllTrue => self.reduce(I8X16, |t, a| t.b.ins().vall_true(a)),
            I16x8AllTrue => self.reduce(I16X8, |t, a| t.b.ins().vall_true(a)),
            I32x4AllTrue => self.reduce(I32X4, |t, a| t.b.ins().vall_true(a)),
            I64x2AllTrue => self.reduce(I64X2, |t, a| t.b.ins().vall_true(a)),
            I8x16Bitmask => self.reduce(I8X16, |t, a| t.b.ins().vhigh_bits(I32, a)),
            I16x8Bitmask => self.reduce(I16X8, |t, a| t.b.ins().vhigh_bits(I32, a)),
            I32x4Bitmask => self.reduce(I32X4, |t, a| t.b.ins().vhigh_bits(I32, a)),
            I64x2Bitmask => self.reduce(I64X2, |t, a| t.b.ins().vhigh_bits(I32, a)),

            // Integer unary.
            I8x16Abs => self.un(I8X16, O::Iabs),
            I16x8Abs => self.un(I16X8, O::Iabs),
            I32x4Abs => self.un(I32X4, O::Iabs),
            I64x2Abs => self.un(I64X2, O::Iabs),
            I8x16Neg => self.un(I8X16, O::Ineg),
            I16x8Neg => self.un(I16X8, O::Ineg),
            I32x4Neg => self.un(I32X4, O::Ineg),
            I64x2Neg => self.un(I64X2, O::Ineg),
            I8x16Popcnt => self.un(I8X16, O::Popcnt),

            // Shifts.
            I8x16Shl => self.shift(I8X16, O::Ishl),
            I8x16ShrS => self.shift(I8X16, O::Sshr),
            I8x16ShrU => self.shift(I8X16, O::Ushr),
            I16x8Shl => self.shift(I16X8, O::Ishl),
            I16x8ShrS => self.shift(I16X8, O::Sshr),
            I16x8ShrU => self.shift(I16X8, O::Ushr),
            I32x4Shl => self.shift(I32X4, O::Ishl),
            I32x4ShrS => self.shift(I32X4, O::Sshr),
            I32x4ShrU => self.shift(I32X4, O::Ushr),
            I64x2Shl => self.shift(I64X2, O::Ishl),
            I64x2ShrS => self.shift(I64X2, O::Sshr),
            I64x2ShrU => self.shift(I64X2, O::Ushr),

            // Integer binary.
            I8x16Add => self.bin(I8X16, O::Iadd),
            I16x8Add => self.bin(I16X8, O::Iadd),
            I32x4Add => self.bin(I32X4, O::Iadd),
            I64x2Add => self.bin(I64X2, O::Iadd),
            I8x16Sub => self.bin(I8X16, O::Isub),
            I16x8Sub => self.bin(I16X8, O::Isub),
            I32x4Sub => self.bin(I32X4, O::Isub),
            I64x2Sub => self.bin(I64X2, O::Isub),
            I16x8Mul => self.bin(I16X8, O::Imul),
            I32x4Mul => self.bin(I32X4, O::Imul),
            I64x2Mul => self.bin(I64X2, O::Imul),
            I8x16AddSatS => self.bin(I8X16, O::SaddSat),
            I8x16AddSatU => self.bin(I8X16, O::UaddSat),
            I8x16SubSatS => self.bin(I8X16, O::SsubSat),
            I8x16SubSatU => self.bin(I8X16, O::UsubSat),
            I16x8AddSatS => self.bin(I16X8, O::SaddSat),
            I16x8AddSatU => self.bin(I16X8, O::UaddSat),
            I16x8SubSatS => self.bin(I16X8, O::SsubSat),
            I16x8SubSatU => self.bin(I16X8, O::UsubSat),
            I8x16MinS => self.bin(I8X16, O::Smin),
            I8x16MinU => self.bin(I8X16, O::Umin),
            I8x16MaxS => self.bin(I8X16, O::Smax),
            I8x16MaxU => self.bin(I8X16, O::Umax),
            I16x8MinS => self.bin(I16X8, O::Smin),
            I16x8MinU => self.bin(I16X8, O::Umin),
            I16x8MaxS => self.bin(I16X8, O::Smax),
            I16x8MaxU => self.bin(I16X8, O::Umax),
            I32x4MinS => self.bin(I32X4, O::Smin),
            I32x4MinU => self.bin(I32X4, O::Umin),
            I32x4MaxS => self.bin(I32X4, O::Smax),
            I32x4MaxU => self.bin(I32X4, O::Umax),
            I8x16AvgrU => self.bin(I8X16, O::AvgRound),
            I16x8AvgrU => self.bin(I16X8, O::AvgRound),
            I16x8Q15MulrSatS => self.bin(I16X8, O::SqmulRoundSat),

            // Narrowing, widening, pairwise.
            I8x16NarrowI16x8S => self.bin(I16X8, O::Snarrow),
            I8x16NarrowI16x8U => self.bin(I16X8, O::Unarrow),
            I16x8NarrowI32x4S => self.bin(I32X4, O::Snarrow),
            I16x8NarrowI32x4U => self.bin(I32X4, O::Unarrow),
            I16x8ExtendLowI8x16S => self.extend(I8X16, false, true),
            I16x8ExtendHighI8x16S => self.extend(I8X16, true, true),
            I16x8ExtendLowI8x16U => self.extend(I8X16, false, false),
            I16x8ExtendHighI8x16U => self.extend(I8X16, true, false),
            I32x4ExtendLowI16x8S => self.extend(I16X8, false, true),
            I32x4ExtendHighI16x8S => self.extend(I16X8, true, true),
            I32x4ExtendLowI16x8U => self.extend(I16X8, false, false),
            I32x4ExtendHighI16x8U => self.extend(I16X8, true, false),
            I64x2ExtendLowI32x4S => self.extend(I32X4, false, true),
            I64x2ExtendHighI32x4S => self.extend(I32X4, true, true),
            I64x2ExtendLowI32x4U => self.extend(I32X4, false, false),
            I64x2ExtendHighI32x4U => self.extend(I32X4, true, false),
            I16x8ExtMulLowI8x16S => self.extmul(I8X16, false, true),
            I16x8ExtMulHighI8x16S => self.extmul(I8X16, true, true),
            I16x8ExtMulLowI8x16U => self.extmul(I8X16, false, false),
            I16x8ExtMulHighI8x16U => self.extmul(I8X16, true, false),
            I32x4ExtMulLowI16x8S => self.extmul(I16X8, false, true),
            I32x4ExtMulHighI16x8S => self.extmul(I16X8, true, true),
            I32x4ExtMulLowI16x8U => self.extmul(I16X8, false, false),
            I32x4ExtMulHighI16x8U => self.extmul(I16X8, true, false),
            I64x2ExtMulLowI32x4S => self.extmul(I32X4, false, true),
            I64x2ExtMulHighI32x4S => self.extmul(I32X4, true, true),
            I64x2ExtMulLowI32x4U => self.extmul(I32X4, false, false),
            I64x2ExtMulHighI32x4U => self.extmul(I32X4, true, false),
            I16x8ExtAddPairwiseI8x16S => self.extadd_pairwise(I8X16, true),
            I16x8ExtAddPairwiseI8x16U => self.extadd_pairwise(I8X16, false),
            I32x4ExtAddPairwiseI16x8S => self.extadd_pairwise(I16X8, true),
            I32x4ExtAddPairwiseI16x8U => self.extadd_pairwise(I16X8, false),
            I32x4DotI16x8S => self.bin_with(I16X8, |t, a, b| {
                let lo = t.extmul_halves(a, b, false);
                let hi = t.extmul_halves(a, b, true);
                t.b.ins().iadd_pairwise(lo, hi)
            }),

            // Float unary.
            F32x4Ceil => self.un(F32X4, O::Ceil),
            F32x4Floor => self.un(F32X4, O::Floor),
            F32x4Trunc => self.un(F32X4, O::Trunc),
            F32x4Nearest => self.un(F32X4, O::Nearest),
            F32x4Abs => self.un(F32X4, O::Fabs),
            F32x4Neg => self.un(F32X4, O::Fneg),
            F32x4Sqrt => self.un(F32X4, O::Sqrt),
            F64x2Ceil => self.un(F64X2, O::Ceil),
            F64x2Floor => self.un(F64X2, O::Floor),
            F64x2Trunc => self.un(F64X2, O::Trunc),
            F64x2Nearest => self.un(F64X2, O::Nearest),
            F64x2Abs => self.un(F64X2, O::Fabs),
            F64x2Neg => self.un(F64X2, O::Fneg),
            F64x2Sqrt => self.un(F64X2, O::Sqrt),

            // Float binary.
            F32x4Add => self.bin(F32X4, O::Fadd),
            F32x4Sub => self.bin(F32X4, O::Fsub),
            F32x4Mul => self.bin(F32X4, O::Fmul),
            F32x4Div => self.bin(F32X4, O::Fdiv),
            F32x4Min => self.bin(F32X4, O::Fmin),
            F32x4Max => self.bin(F32X4, O::Fmax),
            F32x4PMin => self.pminmax(F32X4, false),
            F32x4PMax => self.pminmax(F32X4, true),
            F64x2Add => self.bin(F64X2, O::Fadd),
            F64x2Sub => self.bin(F64X2, O::Fsub),
            F64x2Mul => self.bin(F64X2, O::Fmul),
            F64x2Div => self.bin(F64X2, O::Fdiv),
            F64x2Min => self.bin(F64X2, O::Fmin),
            F64x2Max => self.bin(F64X2, O::Fmax),
            F64x2PMin => self.pminmax(F64X2, false),
            F64x2PMax => self.pminmax(F64X2, true),

            // Conversions.
            I32x4TruncSatF32x4S => self.un_with(F32X4, |t, a| t.b.ins().fcvt_to_sint_sat(I32X4, a)),
            I32x4TruncSatF32x4U => self.un_with(F32X4, |t, a| t.b.ins().fcvt_to_uint_sat(I32X4, a)),
            F32x4ConvertI32x4S => self.un_with(I32X4, |t, a| t.b.ins().fcvt_from_sint(F32X4, a)),
            F32x4ConvertI32x4U => self.un_with(I32X4, |t, a| t.b.ins().fcvt_from_uint(F32X4, a)),
            I32x4TruncSatF64x2SZero => self.un_with(F64X2, |t, a| {
                let wide = t.b.ins().fcvt_to_sint_sat(I64X2, a);
                t.narrow_with_zero_high(wide, true)
            }),
            I32x4TruncSatF64x2UZero => self.un_with(F64X2, |t, a| {
                let wide = t.b.ins().fcvt_to_uint_sat(I64X2, a);
                t.narrow_with_zero_high(wide, false)
            }),
            F64x2ConvertLowI32x4S => self.un_with(I32X4, |t, a| {
                let wide = t.b.ins().swiden_low(a);
                t.b.ins().fcvt_from_sint(F64X2, wide)
            }),
            F64x2ConvertLowI32x4U => self.un_with(I32X4, |t, a| {
                let wide = t.b.ins().uwiden_low(a);
                t.b.ins().fcvt_from_uint(F64X2, wide)
            }),
            F32x4DemoteF64x2Zero => self.un_with(F64X2, |t, a| t.b.ins().fvdemote(a)),
            F64x2PromoteLowF32x4 => self.un_with(F32X4, |t, a| t.b.ins().fvpromote_low(a)),

            _ => return Ok(self.relaxed_simd(op)),
        }
        Ok(true)
    }

    /// The two i64 lanes of `wide` narrowed (saturating, signed or unsigned) into the low i32
    /// lanes, the high two lanes zero: the `*_zero` conversions from f64x2.
    fn narrow_with_zero_high(&mut self, wide: Value, signed: bool) -> Value {
        let zero = self.vconst_bytes(I64X2, &[0; 16]);
        if signed {
            self.b.ins().snarrow(wide, zero)
        } else {
            self.b.ins().uunarrow(wide, zero)
        }
    }

    /// The signed products of one half of the lanes of `a` and `b`, widened.
    fn extmul_halves(&mut self, a: Value, b: Value, high: bool) -> Value {
        let a = self.widen(a, high, true);
        let b = self.widen(b, high, true);
        self.b.ins().imul(a, b)
    }
}
