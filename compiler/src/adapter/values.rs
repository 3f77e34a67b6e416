//! Moving one value across a boundary: the core wasm that lifts a value of an interface type
//! from one side (flat locals or linear memory) and lowers it into the other, in one pass.
//!
//! In: a type of the flattened arena and where the value is and goes ([`Loc`]). Out:
//! instructions appended to the adapter's [`Body`]. Both sides see the same type, so layouts
//! and flat shapes agree; what changes is which memory a string or list lives in, and what the
//! Canonical ABI checks or normalises on the way: bools become 0/1, narrow integers are
//! truncated, chars and discriminants are checked, NaNs become the canonical NaN, flags lose
//! unknown bits, strings are validated, and lists and strings are copied into buffers from the
//! receiving side's `realloc`, whose results are checked. Lists of plain integers (no padding)
//! are copied whole with `memory.copy`. Resource handles move between the two sides' handle
//! tables through the runtime's handle operations. Traps go through the runtime's `Trap` intrinsic with
//! the codes the runtime's own lifting uses, so both paths fail alike.

use super::body::{memarg, valtype, Body, Size};
use wasm_encoder::{BlockType, Ieee32, Ieee64, Instruction as I, MemArg, ValType};

/// A load or store instruction for a memory argument.
type MemOp = fn(MemArg) -> I<'static>;
use weld_contract::component::abi::{
    discriminant_size, flag_words, Flat, Types, MAX_STRING_BYTE_LENGTH,
};
use weld_contract::component::abi::{CANONICAL_F32_NAN, CANONICAL_F64_NAN};
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;

/// One flat value held in a local, with the core type the local has (a variant's payload
/// positions hold the join of their cases' types).
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub local: u32,
    pub ty: Flat,
}

/// Where a value is, or goes.
#[derive(Clone, Copy, Debug)]
pub(super) enum Loc<'s> {
    /// Flat, in these locals (exactly the type's flat count).
    Flat(&'s [Slot]),
    /// In memory `mem` at the address in local `addr` plus `offset`.
    Mem { mem: u32, addr: u32, offset: u32 },
}

/// One side of a crossing: its memory (index in the adapter module), its `realloc` and, for
/// strings leaving it, its UTF-8 check or the transcoder to the other side (function indices),
/// when it has them. A `wide` side's memory is 64-bit (the host's address space): its values
/// are laid out with 8-byte pointers and lengths, and its addresses are `i64` locals. A side
/// with `free` (`(ptr: i64, size: i64, align: i64) -> ()`) hands over the strings and lists
/// lifted from it: each buffer is freed once its bytes are copied out.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Side {
    pub wide: bool,
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub validate_utf8: Option<u32>,
    pub transcode: Option<u32>,
    pub free: Option<u32>,
    /// Its strings were checked already (`super::checks`): no second UTF-8 pass.
    pub checked: bool,
}

/// The scalar kinds, by how they load, store and normalise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prim {
    Bool,
    U8,
    S8,
    U16,
    S16,
    I32,
    Char,
    I64,
    F32,
    F64,
}

impl Prim {
    fn of(def: &TypeDef) -> Option<Prim> {
        Some(match def {
            TypeDef::Bool => Prim::Bool,
            TypeDef::U8 => Prim::U8,
            TypeDef::S8 => Prim::S8,
            TypeDef::U16 => Prim::U16,
            TypeDef::S16 => Prim::S16,
            TypeDef::U32 | TypeDef::S32 => Prim::I32,
            TypeDef::Char => Prim::Char,
            TypeDef::U64 | TypeDef::S64 => Prim::I64,
            TypeDef::F32 => Prim::F32,
            TypeDef::F64 => Prim::F64,
            _ => return None,
        })
    }

    fn flat(self) -> Flat {
        match self {
            Prim::I64 => Flat::I64,
            Prim::F32 => Flat::F32,
            Prim::F64 => Flat::F64,
            _ => Flat::I32,
        }
    }
}

/// The handle operations a direction of a crossing imports: per resource type, the function
/// that moves an own handle and the one that lends a borrow.
#[derive(Clone, Debug, Default)]
pub(super) struct HandleFuncs {
    pub own: Vec<(u32, u32)>,
    pub borrow: Vec<(u32, u32)>,
}

/// The translator: a body, the type arena, the two sides of the crossing and its handle
/// operations.
pub(super) struct Cx<'b, 't, 'h> {
    pub body: &'b mut Body,
    pub types: Types<'t>,
    pub from: Side,
    pub to: Side,
    pub handles: &'h HandleFuncs,
}

/// Convert the flat value on the stack, held as `have`, to `want` (a narrower view of a
/// joined payload position).
fn narrow(b: &mut Body, have: Flat, want: Flat) {
    match (have, want) {
        (Flat::I64, Flat::I32) => b.push(I::I32WrapI64),
        (Flat::I32, Flat::F32) => b.push(I::F32ReinterpretI32),
        (Flat::I64, Flat::F32) => {
            b.push(I::I32WrapI64);
            b.push(I::F32ReinterpretI32);
        }
        (Flat::I64, Flat::F64) => b.push(I::F64ReinterpretI64),
        _ => {}
    }
}

/// Convert the flat value on the stack, of type `have`, to the position type `want`.
fn widen(b: &mut Body, have: Flat, want: Flat) {
    match (have, want) {
        (Flat::I32, Flat::I64) => b.push(I::I64ExtendI32U),
        (Flat::F32, Flat::I32) => b.push(I::I32ReinterpretF32),
        (Flat::F32, Flat::I64) => {
            b.push(I::I32ReinterpretF32);
            b.push(I::I64ExtendI32U);
        }
        (Flat::F64, Flat::I64) => b.push(I::I64ReinterpretF64),
        _ => {}
    }
}

/// The part of `loc` holding a component: flat values `start..start + len`, or `offset`
/// bytes further in memory.
fn part<'s>(loc: Loc<'s>, start: usize, len: usize, offset: u32) -> Loc<'s> {
    match loc {
        Loc::Flat(slots) => Loc::Flat(slots.get(start..start + len).unwrap_or(&[])),
        Loc::Mem {
            mem,
            addr,
            offset: o,
        } => Loc::Mem {
            mem,
            addr,
            offset: o + offset,
        },
    }
}

impl<'b, 't, 'h> Cx<'b, 't, 'h> {
    /// A translator appending to `body`, moving values `from` one side `to` the other.
    pub fn new(
        body: &'b mut Body,
        types: Types<'t>,
        (from, to): (Side, Side),
        handles: &'h HandleFuncs,
    ) -> Self {
        Cx {
            body,
            types,
            from,
            to,
            handles,
        }
    }
}

impl Cx<'_, '_, '_> {
    /// Translate a value of type `t` from `src` (on the `from` side) to `dst` (`to` side).
    pub fn value(&mut self, t: u32, src: Loc<'_>, dst: Loc<'_>) {
        let def = self.types.get(t);
        if let Some(p) = Prim::of(def) {
            return self.prim(p, src, dst);
        }
        match def {
            TypeDef::String => self.string(src, dst),
            TypeDef::List(e) | TypeDef::Map { entry: e } => self.list(*e, src, dst),
            TypeDef::FixedList { elem, len } => self.fixed_list(*elem, *len, src, dst),
            TypeDef::Record(fields) => {
                let tys: Vec<u32> = fields.iter().map(|(_, t)| *t).collect();
                self.fields(&tys, src, dst);
            }
            TypeDef::Tuple(tys) => self.fields(tys, src, dst),
            TypeDef::Flags(names) => self.flags(t, names.len(), src, dst),
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => self.variant(t, src, dst),
            TypeDef::Own(r) => self.handle(&self.handles.own, *r, src, dst),
            TypeDef::Borrow(r) => self.handle(&self.handles.borrow, *r, src, dst),
            _ => self.body.trap(TrapCode::InvalidValue),
        }
    }

    /// A handle: the runtime's operation (from `funcs`, by resource type) maps the caller's
    /// table index to the callee's, or back.
    fn handle(&mut self, funcs: &[(u32, u32)], resource: u32, src: Loc<'_>, dst: Loc<'_>) {
        let Some((_, f)) = funcs.iter().find(|(r, _)| *r == resource).copied() else {
            return self.body.trap(TrapCode::InvalidValue);
        };
        self.store_addr(dst);
        self.read(src, Flat::I32, I::I32Load);
        self.body.push(I::Call(f));
        self.write(dst, Flat::I32, I::I32Store);
    }

    /// The arena laid out as `side`'s memory lays values out.
    fn layout(&self, side: Side) -> Types<'_> {
        self.types.with_memory64(side.wide)
    }

    /// Translate the fields of a record or tuple (or a function's parameter list in memory).
    pub fn fields(&mut self, tys: &[u32], src: Loc<'_>, dst: Loc<'_>) {
        let from = self.layout(self.from).field_offsets(tys);
        let to = self.layout(self.to).field_offsets(tys);
        let mut flat = 0;
        for ((t, so), d) in tys.iter().zip(from).zip(to) {
            let n = self.types.flat_count(*t);
            self.value(*t, part(src, flat, n, so), part(dst, flat, n, d));
            flat += n;
        }
    }

    /// Push the address of `loc` (memory) for a store that follows.
    fn store_addr(&mut self, loc: Loc<'_>) {
        if let Loc::Mem { addr, .. } = loc {
            self.body.push(I::LocalGet(addr));
        }
    }

    /// Push a flat value of type `want` read from `loc`'s first position (flat) or its memory
    /// with `load`.
    fn read(&mut self, loc: Loc<'_>, want: Flat, load: impl FnOnce(MemArg) -> I<'static>) {
        match loc {
            Loc::Flat(slots) => {
                let Some(s) = slots.first() else {
                    return self.body.trap(TrapCode::InvalidValue);
                };
                self.body.push(I::LocalGet(s.local));
                narrow(self.body, s.ty, want);
            }
            Loc::Mem { mem, addr, offset } => {
                self.body.push(I::LocalGet(addr));
                self.body.push(load(memarg(mem, offset, 0)));
            }
        }
    }

    /// Write the flat value of type `have` on the stack to `loc` (whose address, for memory,
    /// [`Self::store_addr`] pushed first) with `store`.
    fn write(&mut self, loc: Loc<'_>, have: Flat, store: impl FnOnce(MemArg) -> I<'static>) {
        match loc {
            Loc::Flat(slots) => {
                let Some(s) = slots.first() else {
                    return self.body.trap(TrapCode::InvalidValue);
                };
                widen(self.body, have, s.ty);
                self.body.push(I::LocalSet(s.local));
            }
            Loc::Mem { mem, offset, .. } => self.body.push(store(memarg(mem, offset, 0))),
        }
    }

    fn prim(&mut self, p: Prim, src: Loc<'_>, dst: Loc<'_>) {
        self.store_addr(dst);
        let from_flat = matches!(src, Loc::Flat(_));
        self.read(src, p.flat(), |m| match p {
            Prim::Bool | Prim::U8 => I::I32Load8U(m),
            Prim::S8 => I::I32Load8S(m),
            Prim::U16 => I::I32Load16U(m),
            Prim::S16 => I::I32Load16S(m),
            Prim::I32 | Prim::Char => I::I32Load(m),
            Prim::I64 => I::I64Load(m),
            Prim::F32 => I::F32Load(m),
            Prim::F64 => I::F64Load(m),
        });
        self.normalise(p, from_flat);
        self.write(dst, p.flat(), |m| match p {
            Prim::Bool | Prim::U8 | Prim::S8 => I::I32Store8(m),
            Prim::U16 | Prim::S16 => I::I32Store16(m),
            Prim::I32 | Prim::Char => I::I32Store(m),
            Prim::I64 => I::I64Store(m),
            Prim::F32 => I::F32Store(m),
            Prim::F64 => I::F64Store(m),
        });
    }

    /// Lift then lower the scalar on the stack: what the spec does between two sides.
    fn normalise(&mut self, p: Prim, from_flat: bool) {
        let b = &mut *self.body;
        match p {
            Prim::Bool => {
                b.push(I::I32Const(0));
                b.push(I::I32Ne);
            }
            Prim::U8 if from_flat => {
                b.push(I::I32Const(0xff));
                b.push(I::I32And);
            }
            Prim::S8 if from_flat => b.push(I::I32Extend8S),
            Prim::U16 if from_flat => {
                b.push(I::I32Const(0xffff));
                b.push(I::I32And);
            }
            Prim::S16 if from_flat => b.push(I::I32Extend16S),
            Prim::Char => {
                let c = b.local(ValType::I32);
                b.push(I::LocalTee(c));
                // A surrogate (0xD800..=0xDFFF) or beyond 0x10FFFF.
                b.push(I::I32Const(0xD800));
                b.push(I::I32Sub);
                b.push(I::I32Const(0x800));
                b.push(I::I32LtU);
                b.push(I::LocalGet(c));
                b.push(I::I32Const(0x11_0000));
                b.push(I::I32GeU);
                b.push(I::I32Or);
                b.trap_if(TrapCode::InvalidCharBitPattern);
                b.push(I::LocalGet(c));
            }
            Prim::F32 => {
                let x = b.local(ValType::F32);
                b.push(I::LocalSet(x));
                b.push(I::F32Const(Ieee32::new(CANONICAL_F32_NAN)));
                b.push(I::LocalGet(x));
                b.push(I::LocalGet(x));
                b.push(I::LocalGet(x));
                b.push(I::F32Ne);
                b.push(I::Select);
            }
            Prim::F64 => {
                let x = b.local(ValType::F64);
                b.push(I::LocalSet(x));
                b.push(I::F64Const(Ieee64::new(CANONICAL_F64_NAN)));
                b.push(I::LocalGet(x));
                b.push(I::LocalGet(x));
                b.push(I::LocalGet(x));
                b.push(I::F64Ne);
                b.push(I::Select);
            }
            _ => {}
        }
    }

    /// Read a pointer and a length (a string's or a list's) from `src` into two new locals: the
    /// pointer of the `from` side's address type, the length an `i32` (a wider length than
    /// 2^32 - 1 raises `too_long`: no 32-bit memory could hold it).
    pub(super) fn pointer_pair(&mut self, src: Loc<'_>, too_long: TrapCode) -> (u32, u32) {
        let wide = self.from.wide;
        let (ptr, load): (Flat, MemOp) = if wide {
            (Flat::I64, I::I64Load)
        } else {
            (Flat::I32, I::I32Load)
        };
        let p = self.body.local(valtype(ptr));
        let n = self.body.local(ValType::I32);
        let width = self.layout(self.from).ptr_size();
        self.read(part(src, 0, 1, 0), ptr, load);
        self.body.push(I::LocalSet(p));
        self.read(part(src, 1, 1, width), ptr, load);
        if wide {
            let b = &mut *self.body;
            let n64 = b.local(ValType::I64);
            b.push(I::LocalTee(n64));
            b.push(I::I64Const(u32::MAX.into()));
            b.push(I::I64GtU);
            b.trap_if(too_long);
            b.push(I::LocalGet(n64));
            b.push(I::I32WrapI64);
        }
        self.body.push(I::LocalSet(n));
        if wide {
            // A host's NULL stands for no bytes only: NULL with a length is an invalid value.
            let b = &mut *self.body;
            b.push(I::LocalGet(p));
            b.push(I::I64Eqz);
            b.push(I::LocalGet(n));
            b.push(I::I32Const(0));
            b.push(I::I32Ne);
            b.push(I::I32And);
            b.trap_if(TrapCode::InvalidValue);
        }
        (p, n)
    }

    /// Write a pointer (a local of the `to` side's address type) and an `i32` length to `dst`.
    fn write_pair(&mut self, dst: Loc<'_>, p: u32, n: u32) {
        let wide = self.to.wide;
        let (ptr, store): (Flat, MemOp) = if wide {
            (Flat::I64, I::I64Store)
        } else {
            (Flat::I32, I::I32Store)
        };
        let width = self.layout(self.to).ptr_size();
        for (i, l) in [(0, p), (1, n)] {
            let at = part(dst, i, 1, width * i as u32);
            self.store_addr(at);
            self.body.push(I::LocalGet(l));
            if wide && i == 1 {
                self.body.push(I::I64ExtendI32U);
            }
            self.write(at, ptr, store);
        }
    }

    /// A string. UTF-8 into UTF-8: validated in place (bounds, then encoding), then copied
    /// whole into a buffer from the receiving side's `realloc`. Other encodings: the runtime's
    /// transcoder, which loads, checks and stores as the generic path does.
    fn string(&mut self, src: Loc<'_>, dst: Loc<'_>) {
        let (p, n) = self.pointer_pair(src, TrapCode::StringOutOfBounds);
        if let (Some(transcode), false, false) = (self.from.transcode, self.from.wide, self.to.wide)
        {
            let b = &mut *self.body;
            let (q, m, both) = (
                b.local(ValType::I32),
                b.local(ValType::I32),
                b.local(ValType::I64),
            );
            b.push(I::LocalGet(p));
            b.push(I::LocalGet(n));
            b.push(I::Call(transcode));
            b.push(I::LocalTee(both));
            b.push(I::I32WrapI64);
            b.push(I::LocalSet(q));
            b.push(I::LocalGet(both));
            b.push(I::I64Const(32));
            b.push(I::I64ShrU);
            b.push(I::I32WrapI64);
            b.push(I::LocalSet(m));
            return self.write_pair(dst, q, m);
        }
        let (Some(check), Some(from_mem), Some(to_mem)) =
            (self.from.validate_utf8, self.from.memory, self.to.memory)
        else {
            return self.body.trap(TrapCode::InvalidValue);
        };
        let b = &mut *self.body;
        if !self.from.checked {
            b.push(I::LocalGet(p));
            b.push(I::LocalGet(n));
            if self.from.wide {
                b.push(I::I64ExtendI32U);
            }
            b.push(I::Call(check));
            b.push(I::LocalGet(n));
            b.push(I::I32Const(MAX_STRING_BYTE_LENGTH as i32));
            b.push(I::I32GtU);
            b.trap_if(TrapCode::StringOutOfBounds);
        }
        let size = b.widened(n, self.to.wide);
        let q = b.allocate(self.to, 1, Size::Local(size), TrapCode::StringOutOfBounds);
        let b = &mut *self.body;
        b.push(I::LocalGet(q));
        b.push(I::LocalGet(p));
        b.push(I::LocalGet(n));
        if self.from.wide && self.to.wide {
            b.push(I::I64ExtendI32U);
        }
        b.push(I::MemoryCopy {
            src_mem: from_mem,
            dst_mem: to_mem,
        });
        self.free_source(p, n, 1, 1);
        self.write_pair(dst, q, n);
    }

    /// Free the `from` side's buffer at local `p` of `n` elements of `size` bytes, if that side
    /// hands its buffers over.
    fn free_source(&mut self, p: u32, n: u32, size: u32, align: u32) {
        let (Some(free), true) = (self.from.free, self.from.wide) else {
            return;
        };
        let b = &mut *self.body;
        b.push(I::LocalGet(p));
        b.push(I::LocalGet(n));
        b.push(I::I64ExtendI32U);
        b.push(I::I64Const(size.into()));
        b.push(I::I64Mul);
        b.push(I::I64Const(align.into()));
        b.push(I::Call(free));
    }

    /// Whether values of `t` are the same bytes on both sides: integers, and records and
    /// tuples of them without padding.
    fn plain(&self, t: u32) -> bool {
        let fields: &[u32] = match self.types.get(t) {
            TypeDef::U8
            | TypeDef::S8
            | TypeDef::U16
            | TypeDef::S16
            | TypeDef::U32
            | TypeDef::S32
            | TypeDef::U64
            | TypeDef::S64 => return true,
            TypeDef::Tuple(ts) => ts,
            TypeDef::FixedList { elem, .. } => return self.plain(*elem),
            TypeDef::Record(fs) => {
                let ts: Vec<u32> = fs.iter().map(|(_, t)| *t).collect();
                let sum: u32 = ts.iter().map(|t| self.types.size(*t)).sum();
                return sum == self.types.size(t) && ts.iter().all(|f| self.plain(*f));
            }
            _ => return false,
        };
        let sum: u32 = fields.iter().map(|t| self.types.size(*t)).sum();
        sum == self.types.size(t) && fields.iter().all(|f| self.plain(*f))
    }

    /// A list: checked where it is (alignment, bounds), copied into a buffer from the receiving
    /// side's `realloc`, whole when its elements are plain, else element by element.
    fn list(&mut self, elem: u32, src: Loc<'_>, dst: Loc<'_>) {
        let (p, n) = self.pointer_pair(src, TrapCode::ListOutOfBounds);
        let (from, to) = (self.layout(self.from), self.layout(self.to));
        let (src_size, src_align) = (from.size(elem), from.align(elem));
        let (size, align) = (to.size(elem), to.align(elem));
        let (Some(from_mem), Some(to_mem)) = (self.from.memory, self.to.memory) else {
            return self.body.trap(TrapCode::InvalidValue);
        };
        let (from_wide, to_wide) = (self.from.wide, self.to.wide);
        let b = &mut *self.body;
        b.check_align(p, from_wide, src_align, TrapCode::UnalignedPointer);
        b.check_range(
            (from_mem, from_wide),
            p,
            Some(n),
            src_size,
            TrapCode::ListOutOfBounds,
        );
        // Its byte length on the receiving side: a 32-bit memory cannot be given 2^32 bytes
        // or more (a whole 4 GiB memory, or elements wider there than here).
        let bytes64 = b.local(ValType::I64);
        b.push(I::LocalGet(n));
        b.push(I::I64ExtendI32U);
        b.push(I::I64Const(i64::from(size)));
        b.push(I::I64Mul);
        b.push(I::LocalTee(bytes64));
        if to_wide {
            b.push(I::Drop);
        } else {
            b.push(I::I64Const(1 << 32));
            b.push(I::I64GeU);
            b.trap_if(TrapCode::ListOutOfBounds);
        }
        let bytes = if to_wide {
            bytes64
        } else {
            let l = b.local(ValType::I32);
            b.push(I::LocalGet(bytes64));
            b.push(I::I32WrapI64);
            b.push(I::LocalSet(l));
            l
        };
        let q = b.allocate(
            self.to,
            align,
            Size::Local(bytes),
            TrapCode::ListOutOfBounds,
        );
        if self.plain(elem) {
            // Plain elements have no pointers: the same size on both sides.
            let b = &mut *self.body;
            b.push(I::LocalGet(q));
            b.push(I::LocalGet(p));
            b.push(I::LocalGet(bytes64));
            if !(from_wide && to_wide) {
                b.push(I::I32WrapI64);
            }
            b.push(I::MemoryCopy {
                src_mem: from_mem,
                dst_mem: to_mem,
            });
        } else {
            self.each_element(elem, (p, from_mem), (q, to_mem), n);
        }
        self.free_source(p, n, src_size, src_align);
        self.write_pair(dst, q, n);
    }

    /// A fixed-length list: inline like a record of `len` fields. Flat (at most
    /// `MAX_FLAT_PARAMS` values, so few elements) or short, element by element; in memory,
    /// copied whole when plain, else in a loop.
    fn fixed_list(&mut self, elem: u32, len: u32, src: Loc<'_>, dst: Loc<'_>) {
        let k = self.types.flat_count(elem);
        let (src_size, size) = (
            self.layout(self.from).size(elem),
            self.layout(self.to).size(elem),
        );
        let (
            Loc::Mem {
                mem: from_mem,
                addr: sa,
                offset: so,
            },
            Loc::Mem {
                mem: to_mem,
                addr: da,
                offset: doff,
            },
        ) = (src, dst)
        else {
            for i in 0..len {
                let f = i as usize * k;
                self.value(
                    elem,
                    part(src, f, k, i * src_size),
                    part(dst, f, k, i * size),
                );
            }
            return;
        };
        let plain = self.plain(elem);
        if !plain && len <= 4 {
            for i in 0..len {
                self.value(
                    elem,
                    part(src, 0, k, i * src_size),
                    part(dst, 0, k, i * size),
                );
            }
            return;
        }
        let (from_wide, to_wide) = (self.from.wide, self.to.wide);
        let b = &mut *self.body;
        let p = b.address_plus(sa, so, from_wide);
        let q = b.address_plus(da, doff, to_wide);
        if plain {
            b.push(I::LocalGet(q));
            b.push(I::LocalGet(p));
            let bytes = size.saturating_mul(len);
            b.push(if from_wide && to_wide {
                I::I64Const(bytes.into())
            } else {
                I::I32Const(bytes as i32)
            });
            b.push(I::MemoryCopy {
                src_mem: from_mem,
                dst_mem: to_mem,
            });
            return;
        }
        let n = b.local(ValType::I32);
        b.push(I::I32Const(len as i32));
        b.push(I::LocalSet(n));
        self.each_element(elem, (p, from_mem), (q, to_mem), n);
    }

    /// Translate `n` elements from `src` to `dst` (address locals of each side's type,
    /// memories), stepping by the element's size on each side.
    fn each_element(&mut self, elem: u32, src: (u32, u32), dst: (u32, u32), n: u32) {
        let (from_wide, to_wide) = (self.from.wide, self.to.wide);
        let steps = [
            (self.layout(self.from).size(elem), from_wide),
            (self.layout(self.to).size(elem), to_wide),
        ];
        let addr = |wide: bool| if wide { ValType::I64 } else { ValType::I32 };
        let b = &mut *self.body;
        let (sp, dp, left) = (
            b.local(addr(from_wide)),
            b.local(addr(to_wide)),
            b.local(ValType::I32),
        );
        for (to, from) in [(sp, src.0), (dp, dst.0), (left, n)] {
            b.push(I::LocalGet(from));
            b.push(I::LocalSet(to));
        }
        b.push(I::Block(BlockType::Empty));
        b.push(I::Loop(BlockType::Empty));
        b.push(I::LocalGet(left));
        b.push(I::I32Eqz);
        b.push(I::BrIf(1));
        let s = Loc::Mem {
            mem: src.1,
            addr: sp,
            offset: 0,
        };
        let d = Loc::Mem {
            mem: dst.1,
            addr: dp,
            offset: 0,
        };
        self.value(elem, s, d);
        let b = &mut *self.body;
        for (l, (step, wide)) in [sp, dp].into_iter().zip(steps) {
            b.push(I::LocalGet(l));
            b.push(if wide {
                I::I64Const(step.into())
            } else {
                I::I32Const(step as i32)
            });
            b.push(if wide { I::I64Add } else { I::I32Add });
            b.push(I::LocalSet(l));
        }
        b.push(I::LocalGet(left));
        b.push(I::I32Const(-1));
        b.push(I::I32Add);
        b.push(I::LocalSet(left));
        b.push(I::Br(0));
        b.push(I::End);
        b.push(I::End);
    }

    /// Flags: each 32-bit word (or the 1- or 2-byte value in memory) without unknown bits.
    fn flags(&mut self, t: u32, labels: usize, src: Loc<'_>, dst: Loc<'_>) {
        let words = flag_words(labels);
        let size = if labels <= 32 { self.types.size(t) } else { 4 };
        for w in 0..words {
            let known = labels - 32 * w;
            let mask = if known >= 32 {
                u32::MAX
            } else {
                (1u32 << known) - 1
            };
            let (s, d) = (part(src, w, 1, 4 * w as u32), part(dst, w, 1, 4 * w as u32));
            self.store_addr(d);
            self.read(s, Flat::I32, |m| match size {
                1 => I::I32Load8U(m),
                2 => I::I32Load16U(m),
                _ => I::I32Load(m),
            });
            self.body.push(I::I32Const(mask as i32));
            self.body.push(I::I32And);
            self.write(d, Flat::I32, |m| match size {
                1 => I::I32Store8(m),
                2 => I::I32Store16(m),
                _ => I::I32Store(m),
            });
        }
    }

    /// Variants, enums, options and results: the discriminant checked and copied, then the
    /// payload of its case (flat positions the case leaves unused are zeroed).
    fn variant(&mut self, t: u32, src: Loc<'_>, dst: Loc<'_>) {
        let cases = self.types.cases(t).unwrap_or_default();
        let ds = discriminant_size(cases.len());
        let (load, store): (MemOp, MemOp) = match ds {
            1 => (I::I32Load8U, I::I32Store8),
            2 => (I::I32Load16U, I::I32Store16),
            _ => (I::I32Load, I::I32Store),
        };
        let d = self.body.local(ValType::I32);
        self.read(part(src, 0, 1, 0), Flat::I32, load);
        self.body.push(I::LocalSet(d));
        self.body.push(I::LocalGet(d));
        self.body.push(I::I32Const(cases.len() as i32));
        self.body.push(I::I32GeU);
        self.body.trap_if(TrapCode::InvalidVariantDiscriminant);
        let disc = part(dst, 0, 1, 0);
        self.store_addr(disc);
        self.body.push(I::LocalGet(d));
        self.write(disc, Flat::I32, store);
        let flat_payload = match dst {
            Loc::Flat(slots) => slots.len().saturating_sub(1),
            Loc::Mem { .. } => 0,
        };
        if cases.iter().all(Option::is_none) && flat_payload == 0 {
            return;
        }
        let at = self.layout(self.from).payload_offset(&cases);
        let to_at = self.layout(self.to).payload_offset(&cases);
        // block $end, one block per case, then the dispatch in the innermost.
        let n = cases.len() as u32;
        for _ in 0..=n {
            self.body.push(I::Block(BlockType::Empty));
        }
        self.body.push(I::LocalGet(d));
        let targets: Vec<u32> = (0..n).collect();
        self.body.push(I::BrTable(targets.into(), 0));
        for (i, case) in cases.iter().enumerate() {
            self.body.push(I::End);
            let k = case.map_or(0, |p| self.types.flat_count(p));
            if let Some(p) = case {
                self.value(*p, part(src, 1, k, at), part(dst, 1, k, to_at));
            }
            if let Loc::Flat(slots) = dst {
                for s in slots.iter().skip(1 + k) {
                    self.body.push(match s.ty {
                        Flat::I32 => I::I32Const(0),
                        Flat::I64 => I::I64Const(0),
                        Flat::F32 => I::F32Const(Ieee32::new(0)),
                        Flat::F64 => I::F64Const(Ieee64::new(0)),
                    });
                    self.body.push(I::LocalSet(s.local));
                }
            }
            // Out to $end: past the blocks of the cases after this one.
            self.body.push(I::Br(n - 1 - i as u32));
        }
        self.body.push(I::End);
    }
}
