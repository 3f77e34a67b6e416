//! v128 loads and stores. Every access goes through `access_addr`, so it gets the same bounds
//! check (or guard-page reliance) as a scalar access of the same size, and `heap_flags`, so a
//! fault maps to "out of bounds memory access".
//!
//! - `load8x8_s` etc. use CLIF's extending vector loads (`sload8x8`, ...).
//! - `load*_splat` load the scalar and `splat` it; `load*_zero` load the scalar and place it in
//!   lane 0 with `scalar_to_vector`, which zeroes the other lanes.
//! - `load*_lane` / `store*_lane` load or store one scalar and `insertlane` / `extractlane`.

use crate::codegen::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{
    types::{Type, I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16},
    InstBuilder, Value,
};
use wasmparser::{MemArg, MemArgTarget, Operator};

/// The memory a `MemArg` addresses.
fn mem_of(memarg: &MemArg) -> u32 {
    match memarg.target {
        MemArgTarget::Memory(m) => m,
        // Array targets belong to the GC proposal, refused by the front end.
        MemArgTarget::Array(_) => 0,
    }
}

/// The vector type whose lanes are the scalar type `ty`.
fn vec_of(ty: Type) -> Type {
    match ty {
        I8 => I8X16,
        I16 => I16X8,
        I32 => I32X4,
        _ => I64X2,
    }
}

/// Which extending vector load.
#[derive(Clone, Copy)]
enum Widen {
    S8x8,
    U8x8,
    S16x4,
    U16x4,
    S32x2,
    U32x2,
}

impl Translator<'_, '_> {
    /// Address of a `size`-byte access at the popped index: the address and immediate offset.
    fn simd_addr(&mut self, memarg: &MemArg, index: Value, size: u32) -> (Value, i32) {
        self.access_addr(mem_of(memarg), index, memarg.offset, size)
    }

    /// Load a value of type `ty` from the popped index.
    fn load_ty(&mut self, memarg: &MemArg, ty: Type) -> Value {
        let index = self.pop();
        self.load_at(memarg, index, ty)
    }

    fn load_widen(&mut self, memarg: &MemArg, w: Widen) {
        let index = self.pop();
        let (addr, off) = self.simd_addr(memarg, index, 8);
        let flags = self.heap_flags();
        let ins = self.b.ins();
        let r = match w {
            Widen::S8x8 => ins.sload8x8(flags, addr, off),
            Widen::U8x8 => ins.uload8x8(flags, addr, off),
            Widen::S16x4 => ins.sload16x4(flags, addr, off),
            Widen::U16x4 => ins.uload16x4(flags, addr, off),
            Widen::S32x2 => ins.sload32x2(flags, addr, off),
            Widen::U32x2 => ins.uload32x2(flags, addr, off),
        };
        self.push_vec(r);
    }

    fn load_splat(&mut self, memarg: &MemArg, ty: Type) {
        let x = self.load_ty(memarg, ty);
        let r = self.b.ins().splat(vec_of(ty), x);
        self.push_vec(r);
    }

    fn load_zero(&mut self, memarg: &MemArg, ty: Type) {
        let x = self.load_ty(memarg, ty);
        let r = self.b.ins().scalar_to_vector(vec_of(ty), x);
        self.push_vec(r);
    }

    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.vec(vec_of(ty));
        let index = self.pop();
        let x = self.load_at(memarg, index, ty);
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_vec(r);
    }

    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.vec(vec_of(ty));
        let index = self.pop();
        let x = self.b.ins().extractlane(v, lane);
        self.store_at(memarg, index, x, ty.bytes());
    }

    /// v128 memory operators; `Ok(false)` if `op` is not one.
    pub(super) fn simd_memory(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator::*;
        match op {
            V128Load { memarg } => {
                let r = self.load_ty(memarg, I8X16);
                self.push(r);
            }
            V128Store { memarg } => {
                let v = self.vec(I8X16);
                let index = self.pop();
                self.store_at(memarg, index, v, 16);
            }
            V128Load8x8S { memarg } => self.load_widen(memarg, Widen::S8x8),
            V128Load8x8U { memarg } => self.load_widen(memarg, Widen::U8x8),
            V128Load16x4S { memarg } => self.load_widen(memarg, Widen::S16x4),
            V128Load16x4U { memarg } => self.load_widen(memarg, Widen::U16x4),
            V128Load32x2S { memarg } => self.load_widen(memarg, Widen::S32x2),
            V128Load32x2U { memarg } => self.load_widen(memarg, Widen::U32x2),
            V128Load8Splat { memarg } => self.load_splat(memarg, I8),
            V128Load16Splat { memarg } => self.load_splat(memarg, I16),
            V128Load32Splat { memarg } => self.load_splat(memarg, I32),
            V128Load64Splat { memarg } => self.load_splat(memarg, I64),
            V128Load32Zero { memarg } => self.load_zero(memarg, I32),
            V128Load64Zero { memarg } => self.load_zero(memarg, I64),
            V128Load8Lane { memarg, lane } => self.load_lane(memarg, I8, *lane),
            V128Load16Lane { memarg, lane } => self.load_lane(memarg, I16, *lane),
            V128Load32Lane { memarg, lane } => self.load_lane(memarg, I32, *lane),
            V128Load64Lane { memarg, lane } => self.load_lane(memarg, I64, *lane),
            V128Store8Lane { memarg, lane } => self.store_lane(memarg, I8, *lane),
            V128Store16Lane { memarg, lane } => self.store_lane(memarg, I16, *lane),
            V128Store32Lane { memarg, lane } => self.store_lane(memarg, I32, *lane),
            V128Store64Lane { memarg, lane } => self.store_lane(memarg, I64, *lane),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
