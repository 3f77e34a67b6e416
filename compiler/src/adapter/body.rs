//! The adapter function under construction: its locals and instructions, and the checks every
//! crossing repeats (a range inside a memory, an aligned pointer, a checked `realloc`), each
//! raising its trap through the runtime's `Trap` intrinsic.
//!
//! In: what the translator ([`super::values`]) asks for. Out: the instruction list and the
//! local types that `super::module` assembles into the adapter's code.

use wasm_encoder::{BlockType, Instruction as I, MemArg, MemArgTarget, ValType};
use weld_contract::component::abi::Flat;
use weld_contract::trap::TrapCode;

use super::values::Side;

/// The adapter function being built: its instructions and locals.
pub(super) struct Body {
    params: u32,
    pub locals: Vec<ValType>,
    pub insts: Vec<I<'static>>,
    /// Function index of the `Trap` intrinsic.
    trap: u32,
}

pub(super) fn valtype(f: Flat) -> ValType {
    match f {
        Flat::I32 => ValType::I32,
        Flat::I64 => ValType::I64,
        Flat::F32 => ValType::F32,
        Flat::F64 => ValType::F64,
    }
}

pub(super) fn memarg(mem: u32, offset: u32, align: u32) -> MemArg {
    MemArg {
        offset: u64::from(offset),
        align,
        target: MemArgTarget::Memory(mem),
        ordering: None,
    }
}

impl Body {
    pub fn new(params: u32, trap: u32) -> Body {
        Body {
            params,
            locals: Vec::new(),
            insts: Vec::new(),
            trap,
        }
    }

    /// A new local of type `t`.
    pub fn local(&mut self, t: ValType) -> u32 {
        self.locals.push(t);
        self.params + self.locals.len() as u32 - 1
    }

    pub fn push(&mut self, i: I<'static>) {
        self.insts.push(i);
    }

    /// Raise `code`.
    pub fn trap(&mut self, code: TrapCode) {
        self.push(I::I32Const(code as i32));
        self.push(I::Call(self.trap));
        self.push(I::Unreachable);
    }

    /// Pop an `i32` condition; raise `code` if it is non-zero.
    pub fn trap_if(&mut self, code: TrapCode) {
        self.push(I::If(BlockType::Empty));
        self.trap(code);
        self.push(I::End);
    }

    /// Push memory `mem`'s size in bytes, as an `i64` (`wide`: a 64-bit memory).
    fn memory_bytes(&mut self, mem: u32, wide: bool) {
        self.push(I::MemorySize(mem));
        if !wide {
            self.push(I::I64ExtendI32U);
        }
        self.push(I::I64Const(16));
        self.push(I::I64Shl);
    }

    /// Trap with `code` unless `ptr + len * size` (unsigned, no overflow) fits memory `mem`
    /// (`wide`: a 64-bit memory, and `ptr` an `i64` local; `len` is an `i32` local).
    pub fn check_range(
        &mut self,
        (mem, wide): (u32, bool),
        ptr: u32,
        len: Option<u32>,
        size: u32,
        code: TrapCode,
    ) {
        self.push(I::LocalGet(ptr));
        if !wide {
            self.push(I::I64ExtendI32U);
        }
        match len {
            Some(n) => {
                self.push(I::LocalGet(n));
                self.push(I::I64ExtendI32U);
                self.push(I::I64Const(i64::from(size)));
                self.push(I::I64Mul);
            }
            None => self.push(I::I64Const(i64::from(size))),
        }
        // A 64-bit pointer near 2^64 could wrap: that is out of range too.
        let end = self.local(ValType::I64);
        self.push(I::I64Add);
        self.push(I::LocalTee(end));
        self.memory_bytes(mem, wide);
        self.push(I::I64GtU);
        if wide {
            self.push(I::LocalGet(end));
            self.push(I::LocalGet(ptr));
            self.push(I::I64LtU);
            self.push(I::I32Or);
        }
        self.trap_if(code);
    }

    /// Trap with `code` unless local `ptr` (an `i64` when `wide`) is a multiple of `align`.
    pub fn check_align(&mut self, ptr: u32, wide: bool, align: u32, code: TrapCode) {
        if align <= 1 {
            return;
        }
        self.push(I::LocalGet(ptr));
        if wide {
            self.push(I::I32WrapI64);
        }
        self.push(I::I32Const(align as i32 - 1));
        self.push(I::I32And);
        self.trap_if(code);
    }

    /// A new local holding `i32` local `n`, zero-extended to an `i64` when `wide` (else `n`).
    pub fn widened(&mut self, n: u32, wide: bool) -> u32 {
        if !wide {
            return n;
        }
        let l = self.local(ValType::I64);
        self.push(I::LocalGet(n));
        self.push(I::I64ExtendI32U);
        self.push(I::LocalSet(l));
        l
    }

    /// A new local holding address local `addr` plus `offset` (both of `wide`'s address type).
    pub fn address_plus(&mut self, addr: u32, offset: u32, wide: bool) -> u32 {
        let l = self.local(if wide { ValType::I64 } else { ValType::I32 });
        self.push(I::LocalGet(addr));
        if wide {
            self.push(I::I64Const(offset.into()));
            self.push(I::I64Add);
        } else {
            self.push(I::I32Const(offset as i32));
            self.push(I::I32Add);
        }
        self.push(I::LocalSet(l));
        l
    }

    /// `realloc(0, 0, align, size)` of `side` into a new local (of the side's address type),
    /// checked as the spec checks it: alignment (`UnalignedPointer`), then that `size` bytes
    /// fit (`oob`). A `Size::Local` is of the side's address type too.
    pub fn allocate(&mut self, side: Side, align: u32, size: Size, oob: TrapCode) -> u32 {
        let wide = side.wide;
        let addr = if wide { ValType::I64 } else { ValType::I32 };
        let (Some(realloc), Some(mem)) = (side.realloc, side.memory) else {
            self.trap(TrapCode::InvalidValue);
            return self.local(addr);
        };
        let konst = |n: u32| {
            if wide {
                I::I64Const(n.into())
            } else {
                I::I32Const(n as i32)
            }
        };
        // A byte count of a 64-bit side past 2^32 - 1 is refused before anything is allocated.
        let count = match (size, wide) {
            (Size::Local(l), true) => {
                let n = self.local(ValType::I32);
                self.push(I::LocalGet(l));
                self.push(I::I64Const(u32::MAX.into()));
                self.push(I::I64GtU);
                self.trap_if(oob);
                self.push(I::LocalGet(l));
                self.push(I::I32WrapI64);
                self.push(I::LocalSet(n));
                Some(n)
            }
            (Size::Local(l), false) => Some(l),
            (Size::Const(_), _) => None,
        };
        self.push(konst(0));
        self.push(konst(0));
        self.push(konst(align));
        match size {
            Size::Const(n) => self.push(konst(n)),
            Size::Local(l) => self.push(I::LocalGet(l)),
        }
        self.push(I::Call(realloc));
        let ptr = self.local(addr);
        self.push(I::LocalSet(ptr));
        self.check_align(ptr, wide, align, TrapCode::UnalignedPointer);
        match (size, count) {
            (_, Some(n)) => self.check_range((mem, wide), ptr, Some(n), 1, oob),
            (Size::Const(n), None) => self.check_range((mem, wide), ptr, None, n, oob),
            (Size::Local(_), None) => {}
        }
        ptr
    }
}

/// A byte count known now or held in a local.
#[derive(Clone, Copy, Debug)]
pub(super) enum Size {
    Const(u32),
    Local(u32),
}
