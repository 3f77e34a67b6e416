//! Linear-memory operators: loads, stores, `memory.size/grow`, bulk memory.
//!
//! Address computation is the one decision that matters for speed and safety here. With guard
//! regions (the default on 64-bit hosted targets) a 32-bit index plus a static offset below
//! `GUARD_BYTES` always lands inside the memory's reservation, so the access needs no check: an
//! out-of-bounds access faults on an inaccessible page and the runtime turns the fault into a
//! trap through the trap table. Otherwise (explicit mode, a huge static offset, or a 64-bit
//! memory, whose index no reservation can cover) the access is compared with the current length
//! first.
//!
//! Addresses and sizes of 64-bit memories (memory64) are i64 operands; the runtime's libcalls
//! take 64-bit addresses and lengths for every memory, so 32-bit ones are zero-extended.

use super::func::Translator;
use crate::error::Result;
use crate::options::BoundsChecks;
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::{MemArg, Operator};
use weld_contract::descriptor::GUARD_BYTES;
use weld_contract::info::IndexType;
use weld_contract::libcall::Libcall;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx;

impl Translator<'_, '_> {
    /// Address of this memory's `VMMemory` struct.
    pub(crate) fn vmmemory(&mut self, mem: u32) -> Value {
        let imported = self.env.info.imported_memories;
        if mem < imported {
            let off = self.env.offsets.imported_memory(mem);
            self.load_vmctx_ro(off)
        } else {
            let off = self.env.offsets.defined_memory(mem - imported);
            self.b.ins().iadd_imm_s(self.vmctx, off as i64)
        }
    }

    /// The memory's base. It never moves, so the load is marked `readonly` and `can_move`:
    /// Cranelift merges and hoists repeated loads.
    fn memory_base(&mut self, mem: u32) -> Value {
        self.load_base(mem)
    }

    fn load_base(&mut self, mem: u32) -> Value {
        let vm = self.vmmemory(mem);
        self.b.ins().load(
            types::I64,
            MemFlagsData::trusted().with_readonly().with_can_move(),
            vm,
            vmctx::MEMORY_BASE as i32,
        )
    }

    /// Current length in bytes.
    pub(crate) fn memory_length(&mut self, mem: u32) -> Value {
        let vm = self.vmmemory(mem);
        self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            vm,
            vmctx::MEMORY_LENGTH as i32,
        )
    }

    /// Native address for an access of `size` bytes at `index + offset`, with whatever check
    /// the bounds mode needs; returns the address and the immediate offset to use.
    pub(crate) fn access_addr(
        &mut self,
        mem: u32,
        index: Value,
        offset: u64,
        size: u32,
    ) -> (Value, i32) {
        let is64 = self.memory_index_type(mem) == IndexType::I64;
        let index = self.widen_index(index);
        let guarded = self.env.options.bounds_checks == BoundsChecks::Guard
            && !is64
            && offset + size as u64 <= GUARD_BYTES
            && offset <= i32::MAX as u64;
        let base = self.memory_base(mem);
        if guarded {
            let addr = self.b.ins().iadd(base, index);
            return (addr, offset as i32);
        }
        let len = self.memory_length(mem);
        // A 32-bit index is below 2^32 and offset + size below 2^33: no overflow in 64 bits. A
        // 64-bit index can overflow: that access is out of bounds too. An `offset + size` past
        // 2^64 saturates, which no memory's length reaches either.
        let reach = offset.saturating_add(u64::from(size));
        let oob = if is64 {
            let reach = self.b.ins().iconst(types::I64, reach as i64);
            let (end, overflow) = self.b.ins().uadd_overflow(index, reach);
            let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.b.ins().bor(past, overflow)
        } else {
            let end = self.b.ins().iadd_imm_s(index, reach as i64);
            self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len)
        };
        self.trapnz(oob, TrapCode::MemoryOutOfBounds);
        let addr = self.b.ins().iadd(base, index);
        if offset <= i32::MAX as u64 {
            (addr, offset as i32)
        } else {
            let addr = self.b.ins().iadd_imm_s(addr, offset as i64);
            (addr, 0)
        }
    }

    /// The address type of memory `mem`.
    pub(crate) fn memory_index_type(&self, mem: u32) -> IndexType {
        self.env
            .info
            .memories
            .get(mem as usize)
            .map_or(IndexType::I32, |m| m.index)
    }

    /// `x` as an i64: zero-extended if it is an i32 (an address or size of a 32-bit memory or
    /// table), unchanged if it is already one.
    pub(crate) fn widen_index(&mut self, x: Value) -> Value {
        if self.b.func.dfg.value_type(x) == types::I64 {
            x
        } else {
            self.b.ins().uextend(types::I64, x)
        }
    }

    /// A 64-bit size or old size from the runtime as the `index` type's value (-1 stays -1).
    pub(crate) fn narrow_index(&mut self, x: Value, index: IndexType) -> Value {
        match index {
            IndexType::I64 => x,
            IndexType::I32 => self.b.ins().ireduce(types::I32, x),
        }
    }

    pub(crate) fn heap_flags(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_endianness(ir::Endianness::Little)
            .with_trap_code(Some(ir::TrapCode::HEAP_OUT_OF_BOUNDS))
    }

    /// Load `ty` (memory width `size`), extended per `ext`.
    pub(crate) fn load(&mut self, memarg: &MemArg, ty: ir::Type, size: u32, ext: Ext) -> Value {
        let index = self.pop();
        let (addr, off) = self.access_addr(mem_index(memarg), index, memarg.offset, size);
        let flags = self.heap_flags();
        let ins = self.b.ins();
        match ext {
            Ext::None => ins.load(ty, flags, addr, off),
            Ext::S8 => ins.sload8(ty, flags, addr, off),
            Ext::U8 => ins.uload8(ty, flags, addr, off),
            Ext::S16 => ins.sload16(ty, flags, addr, off),
            Ext::U16 => ins.uload16(ty, flags, addr, off),
            Ext::S32 => ins.sload32(flags, addr, off),
            Ext::U32 => ins.uload32(flags, addr, off),
        }
    }

    /// Load a value of `ty` without popping (index given).
    pub(crate) fn load_at(&mut self, memarg: &MemArg, index: Value, ty: ir::Type) -> Value {
        let size = ty.bytes();
        let (addr, off) = self.access_addr(mem_index(memarg), index, memarg.offset, size);
        let flags = self.heap_flags();
        self.b.ins().load(ty, flags, addr, off)
    }

    /// Store the low `size` bytes of the popped value.
    pub(crate) fn store(&mut self, memarg: &MemArg, size: u32) {
        let value = self.pop();
        let index = self.pop();
        self.store_at(memarg, index, value, size);
    }

    /// Store `value` (its low `size` bytes) at `index`.
    pub(crate) fn store_at(&mut self, memarg: &MemArg, index: Value, value: Value, size: u32) {
        let (addr, off) = self.access_addr(mem_index(memarg), index, memarg.offset, size);
        let flags = self.heap_flags();
        let ty = self.b.func.dfg.value_type(value);
        let ins = self.b.ins();
        if ty.bytes() == size {
            ins.store(flags, value, addr, off);
        } else {
            match size {
                1 => ins.istore8(flags, value, addr, off),
                2 => ins.istore16(flags, value, addr, off),
                _ => ins.istore32(flags, value, addr, off),
            };
        }
    }

    /// Memory operators; `Ok(false)` if `op` is not one.
    pub(crate) fn memory(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32, F64, I32, I64};
        use Operator::*;
        match op {
            I32Load { memarg } => self.ld(memarg, I32, 4, Ext::None),
            I64Load { memarg } => self.ld(memarg, I64, 8, Ext::None),
            F32Load { memarg } => self.ld(memarg, F32, 4, Ext::None),
            F64Load { memarg } => self.ld(memarg, F64, 8, Ext::None),
            I32Load8S { memarg } => self.ld(memarg, I32, 1, Ext::S8),
            I32Load8U { memarg } => self.ld(memarg, I32, 1, Ext::U8),
            I32Load16S { memarg } => self.ld(memarg, I32, 2, Ext::S16),
            I32Load16U { memarg } => self.ld(memarg, I32, 2, Ext::U16),
            I64Load8S { memarg } => self.ld(memarg, I64, 1, Ext::S8),
            I64Load8U { memarg } => self.ld(memarg, I64, 1, Ext::U8),
            I64Load16S { memarg } => self.ld(memarg, I64, 2, Ext::S16),
            I64Load16U { memarg } => self.ld(memarg, I64, 2, Ext::U16),
            I64Load32S { memarg } => self.ld(memarg, I64, 4, Ext::S32),
            I64Load32U { memarg } => self.ld(memarg, I64, 4, Ext::U32),
            I32Store { memarg } | F32Store { memarg } => self.store(memarg, 4),
            I64Store { memarg } | F64Store { memarg } => self.store(memarg, 8),
            I32Store8 { memarg } | I64Store8 { memarg } => self.store(memarg, 1),
            I32Store16 { memarg } | I64Store16 { memarg } => self.store(memarg, 2),
            I64Store32 { memarg } => self.store(memarg, 4),
            MemorySize { mem } => {
                let len = self.memory_length(*mem);
                let pages = self.b.ins().ushr_imm_s(len, 16);
                let pages = self.narrow_index(pages, self.memory_index_type(*mem));
                self.push(pages);
            }
            MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.widen_index(delta);
                let index = self.memory_index_type(*mem);
                let mem = self.b.ins().iconst(I32, *mem as i64);
                let r = self.libcall(Libcall::MemoryGrow, &[mem, delta]);
                let r = self.narrow_index(r[0], index);
                self.push(r);
            }
            MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let dst = self.widen_index(dst);
                let len = self.widen_index(len);
                let mem = self.b.ins().iconst(I32, *mem as i64);
                self.libcall(Libcall::MemoryFill, &[mem, dst, val, len]);
            }
            MemoryCopy { dst_mem, src_mem } => {
                // Each address has its memory's type; the length is an i64 only if both are.
                let (dst, src, len) = self.pop3();
                let dst = self.widen_index(dst);
                let src = self.widen_index(src);
                let len = self.widen_index(len);
                let dm = self.b.ins().iconst(I32, *dst_mem as i64);
                let sm = self.b.ins().iconst(I32, *src_mem as i64);
                self.libcall(Libcall::MemoryCopy, &[dm, sm, dst, src, len]);
            }
            MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_index(dst);
                let m = self.b.ins().iconst(I32, *mem as i64);
                let d = self.b.ins().iconst(I32, *data_index as i64);
                self.libcall(Libcall::MemoryInit, &[m, d, dst, src, len]);
            }
            DataDrop { data_index } => {
                let d = self.b.ins().iconst(I32, *data_index as i64);
                self.libcall(Libcall::DataDrop, &[d]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn ld(&mut self, memarg: &MemArg, ty: ir::Type, size: u32, ext: Ext) {
        let v = self.load(memarg, ty, size, ext);
        self.push(v);
    }
}

/// How a narrow load extends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ext {
    None,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

/// The memory a `MemArg` addresses.
fn mem_index(memarg: &MemArg) -> u32 {
    match memarg.target {
        wasmparser::MemArgTarget::Memory(m) => m,
        // Array targets belong to the GC proposal, refused by the front end.
        wasmparser::MemArgTarget::Array(_) => 0,
    }
}
