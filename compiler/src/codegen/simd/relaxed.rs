//! Relaxed-SIMD operators (Wasm 3.0): v128 operators whose result the spec lets an
//! implementation pick from a small set, so that each maps onto one fast instruction per target.
//!
//! In: one relaxed operator and the option [`RelaxedSimd`]. Out: its CLIF. The choice per
//! target is documented on [`RelaxedSimd`] itself (the one place `weld compile --help` and the
//! README point at). `Deterministic` picks the same result on every target, matching Wasmtime's
//! deterministic mode bit for bit so the two can be fuzzed against each other; `Native` on
//! x86-64 uses the SSE instructions whose edge cases the spec allows, and equals `Deterministic`
//! on aarch64, whose instructions already give the deterministic result.

use super::super::func::Translator;
use crate::options::RelaxedSimd;
use cranelift_codegen::ir::{
    types::{Type, F32X4, F64X2, I16X8, I32X4, I64X2, I8X16},
    InstBuilder, Value,
};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Relaxed-SIMD operators; `false` if `op` is not one.
    pub(crate) fn relaxed_simd(&mut self, op: &Operator<'_>) -> bool {
        use Operator::*;
        let x86 = self.x86_native_relaxed();
        match *op {
            I8x16RelaxedSwizzle => self.bin_with(I8X16, |t, a, s| {
                if x86 {
                    // Index ≥ 128 gives 0, any other picks lane `s % 16`: both allowed.
                    t.b.ins().x86_pshufb(a, s)
                } else {
                    t.b.ins().swizzle(a, s)
                }
            }),
            I32x4RelaxedTruncF32x4S => self.un_with(F32X4, |t, a| {
                if x86 {
                    // NaN and out-of-range lanes give i32::MIN: an allowed result.
                    t.b.ins().x86_cvtt2dq(I32X4, a)
                } else {
                    t.b.ins().fcvt_to_sint_sat(I32X4, a)
                }
            }),
            I32x4RelaxedTruncF32x4U => {
                self.un_with(F32X4, |t, a| t.b.ins().fcvt_to_uint_sat(I32X4, a))
            }
            I32x4RelaxedTruncF64x2SZero => self.un_with(F64X2, |t, a| {
                let wide = if x86 {
                    t.b.ins().x86_cvtt2dq(I64X2, a)
                } else {
                    t.b.ins().fcvt_to_sint_sat(I64X2, a)
                };
                t.narrow_with_zero_high(wide, true)
            }),
            I32x4RelaxedTruncF64x2UZero => self.un_with(F64X2, |t, a| {
                let wide = t.b.ins().fcvt_to_uint_sat(I64X2, a);
                t.narrow_with_zero_high(wide, false)
            }),
            F32x4RelaxedMadd => self.madd(F32X4, false),
            F32x4RelaxedNmadd => self.madd(F32X4, true),
            F64x2RelaxedMadd => self.madd(F64X2, false),
            F64x2RelaxedNmadd => self.madd(F64X2, true),
            I8x16RelaxedLaneselect => self.laneselect(I8X16),
            I16x8RelaxedLaneselect => self.laneselect(I16X8),
            I32x4RelaxedLaneselect => self.laneselect(I32X4),
            I64x2RelaxedLaneselect => self.laneselect(I64X2),
            F32x4RelaxedMin => self.relaxed_minmax(F32X4, false),
            F32x4RelaxedMax => self.relaxed_minmax(F32X4, true),
            F64x2RelaxedMin => self.relaxed_minmax(F64X2, false),
            F64x2RelaxedMax => self.relaxed_minmax(F64X2, true),
            I16x8RelaxedQ15mulrS => self.bin_with(I16X8, |t, a, b| {
                if x86 {
                    // i16::MIN × i16::MIN gives i16::MIN instead of saturating: allowed.
                    t.b.ins().x86_pmulhrsw(a, b)
                } else {
                    t.b.ins().sqmul_round_sat(a, b)
                }
            }),
            I16x8RelaxedDotI8x16I7x16S => self.bin_with(I8X16, |t, a, b| t.dot_i16(a, b)),
            I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.vec(I32X4);
                let b = self.vec(I8X16);
                let a = self.vec(I8X16);
                let dot = self.dot_i32(a, b);
                let r = self.b.ins().iadd(dot, c);
                self.push_vec(r);
            }
            _ => return false,
        }
        true
    }

    /// Whether relaxed operators take the x86-64 instructions' results.
    fn x86_native_relaxed(&self) -> bool {
        self.env.options.relaxed_simd == RelaxedSimd::Native
            && self.env.options.target.arch() == crate::Arch::X86_64
    }

    /// `relaxed_madd` (`a * b + c`) or `relaxed_nmadd` (`-(a * b) + c`). Fused wherever the
    /// target has FMA or determinism is asked for; otherwise a multiply and an add.
    fn madd(&mut self, ty: Type, negate: bool) {
        let c = self.vec(ty);
        let b = self.vec(ty);
        let a = self.vec(ty);
        let a = if negate { self.b.ins().fneg(a) } else { a };
        let fused = self.env.options.relaxed_simd == RelaxedSimd::Deterministic
            || self.env.isa.has_native_fma();
        let r = if fused {
            self.b.ins().fma(a, b, c)
        } else {
            let m = self.b.ins().fmul(a, b);
            self.b.ins().fadd(m, c)
        };
        self.push_vec(r);
    }

    /// `relaxed_laneselect(a, b, m)`: `bitselect`, or x86's `blendv` (which looks only at each
    /// lane's top bit) where one exists for the lane width.
    fn laneselect(&mut self, ty: Type) {
        let m = self.vec(ty);
        let b = self.vec(ty);
        let a = self.vec(ty);
        let r = if self.x86_native_relaxed() && ty != I16X8 {
            self.b.ins().blendv(m, a, b)
        } else {
            self.b.ins().bitselect(m, a, b)
        };
        self.push_vec(r);
    }

    /// `relaxed_min`/`relaxed_max`: wasm's `min`/`max`, or on x86 `pmin`/`pmax`, whose shape the
    /// backend turns into one `minps`/`maxps` (NaN and ±0 operands may give either input).
    fn relaxed_minmax(&mut self, ty: Type, max: bool) {
        if self.x86_native_relaxed() {
            return self.pminmax(ty, max);
        }
        let b = self.vec(ty);
        let a = self.vec(ty);
        let r = if max {
            self.b.ins().fmax(a, b)
        } else {
            self.b.ins().fmin(a, b)
        };
        self.push_vec(r);
    }

    /// The signed `i8 × i8` products of `a` and `b`, low and high halves, as i16 lanes.
    fn byte_products(&mut self, a: Value, b: Value) -> (Value, Value) {
        let lo = self.extmul_halves(a, b, false);
        let hi = self.extmul_halves(a, b, true);
        (lo, hi)
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s`: pairs of products summed into i16 lanes. Both
    /// operands signed (wrapping), or x86's `pmaddubsw` (the second operand's bytes unsigned,
    /// saturating sums): the two agree whenever the second operand's bytes are below 128.
    fn dot_i16(&mut self, a: Value, b: Value) -> Value {
        if self.x86_native_relaxed() {
            return self.b.ins().x86_pmaddubsw(a, b);
        }
        let (lo, hi) = self.byte_products(a, b);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// The four products under each i32 lane of `i32x4.relaxed_dot_i8x16_i7x16_add_s`, summed:
    /// exactly (both operands signed), or from `pmaddubsw`'s saturated pair sums on x86.
    fn dot_i32(&mut self, a: Value, b: Value) -> Value {
        if self.x86_native_relaxed() {
            let pairs = self.b.ins().x86_pmaddubsw(a, b);
            let lo = self.widen(pairs, false, true);
            let hi = self.widen(pairs, true, true);
            return self.b.ins().iadd_pairwise(lo, hi);
        }
        let (lo, hi) = self.byte_products(a, b);
        let sum_lo = self.pairwise_widened(lo);
        let sum_hi = self.pairwise_widened(hi);
        self.b.ins().iadd_pairwise(sum_lo, sum_hi)
    }

    /// Adjacent i16 lanes of `x` summed, exactly, into i32 lanes.
    fn pairwise_widened(&mut self, x: Value) -> Value {
        let lo = self.widen(x, false, true);
        let hi = self.widen(x, true, true);
        self.b.ins().iadd_pairwise(lo, hi)
    }
}
