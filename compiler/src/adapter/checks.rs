//! Checking a host's arguments before a call enters the component.
//!
//! In: a value of an interface type in the host's memory (a C value of the generated header).
//! Out: instructions that trap, with the codes the lowering would raise, on anything the
//! lowering would refuse: a NULL pointer with a length, a length past 2^32 - 1, an unaligned
//! list, a string that is not UTF-8 or too long, a bad char, a bad discriminant. A host entry
//! runs them before it marks the instance entered, so a C caller's bad argument is an error
//! the instance survives (as on the generic path), while a trap once inside poisons it.

use super::values::{Cx, Loc};
use wasm_encoder::{BlockType, Instruction as I, ValType};
use weld_contract::component::abi::{discriminant_size, MAX_STRING_BYTE_LENGTH};
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;

/// Whether a value of `t` can be invalid at all (`depth` bounds the recursion).
pub(super) fn can_fail(cx: &Cx<'_, '_, '_>, t: u32, depth: u32) -> bool {
    if depth > super::MAX_DEPTH {
        return true;
    }
    match cx.types.get(t) {
        TypeDef::Char
        | TypeDef::String
        | TypeDef::List(_)
        | TypeDef::Map { .. }
        | TypeDef::Variant(_)
        | TypeDef::Enum(_)
        | TypeDef::Option(_)
        | TypeDef::Result { .. } => true,
        TypeDef::FixedList { elem, .. } => can_fail(cx, *elem, depth + 1),
        TypeDef::Record(fs) => fs.iter().any(|(_, f)| can_fail(cx, *f, depth + 1)),
        TypeDef::Tuple(ts) => ts.iter().any(|f| can_fail(cx, *f, depth + 1)),
        _ => false,
    }
}

impl Cx<'_, '_, '_> {
    /// Check the value of type `t` at `src` (in the `from` side's memory, which is wide).
    pub fn check(&mut self, t: u32, src: Loc<'_>) {
        let Loc::Mem { mem, addr, offset } = src else {
            return;
        };
        let at = |extra: u32| Loc::Mem {
            mem,
            addr,
            offset: offset + extra,
        };
        let layout = self.types.with_memory64(true);
        match self.types.get(t) {
            TypeDef::Char => {
                let b = &mut *self.body;
                b.push(I::LocalGet(addr));
                b.push(I::I32Load(super::body::memarg(mem, offset, 0)));
                b.push(I::I32Const(0xD800));
                b.push(I::I32Sub);
                b.push(I::I32Const(0x800));
                b.push(I::I32LtU);
                b.push(I::LocalGet(addr));
                b.push(I::I32Load(super::body::memarg(mem, offset, 0)));
                b.push(I::I32Const(0x11_0000));
                b.push(I::I32GeU);
                b.push(I::I32Or);
                b.trap_if(TrapCode::InvalidCharBitPattern);
            }
            TypeDef::String => {
                let (p, n) = self.pointer_pair(at(0), TrapCode::StringOutOfBounds);
                let Some(check) = self.from.validate_utf8 else {
                    return self.body.trap(TrapCode::InvalidValue);
                };
                let b = &mut *self.body;
                b.push(I::LocalGet(n));
                b.push(I::I32Const(MAX_STRING_BYTE_LENGTH as i32));
                b.push(I::I32GtU);
                b.trap_if(TrapCode::StringOutOfBounds);
                b.push(I::LocalGet(p));
                b.push(I::LocalGet(n));
                b.push(I::I64ExtendI32U);
                b.push(I::Call(check));
            }
            TypeDef::List(e) | TypeDef::Map { entry: e } => {
                let e = *e;
                let (p, n) = self.pointer_pair(at(0), TrapCode::ListOutOfBounds);
                self.body
                    .check_align(p, true, layout.align(e), TrapCode::UnalignedPointer);
                if can_fail(self, e, 0) {
                    self.each_checked(e, mem, p, n);
                }
            }
            TypeDef::FixedList { elem, len } => {
                let (elem, len) = (*elem, *len);
                if can_fail(self, elem, 0) {
                    let size = layout.size(elem);
                    for i in 0..len {
                        self.check(elem, at(i * size));
                    }
                }
            }
            TypeDef::Record(fs) => {
                let tys: Vec<u32> = fs.iter().map(|(_, t)| *t).collect();
                self.check_fields(&tys, mem, addr, offset);
            }
            TypeDef::Tuple(ts) => {
                let tys = ts.clone();
                self.check_fields(&tys, mem, addr, offset);
            }
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => self.check_variant(t, mem, addr, offset),
            _ => {}
        }
    }

    fn check_fields(&mut self, tys: &[u32], mem: u32, addr: u32, offset: u32) {
        let offsets = self.types.with_memory64(true).field_offsets(tys);
        for (t, off) in tys.iter().zip(offsets) {
            let src = Loc::Mem {
                mem,
                addr,
                offset: offset + off,
            };
            self.check(*t, src);
        }
    }

    /// The discriminant in range, then the payload of its case.
    fn check_variant(&mut self, t: u32, mem: u32, addr: u32, offset: u32) {
        let cases = self.types.cases(t).unwrap_or_default();
        let m = super::body::memarg(mem, offset, 0);
        let b = &mut *self.body;
        let d = b.local(ValType::I32);
        b.push(I::LocalGet(addr));
        b.push(match discriminant_size(cases.len()) {
            1 => I::I32Load8U(m),
            2 => I::I32Load16U(m),
            _ => I::I32Load(m),
        });
        b.push(I::LocalTee(d));
        b.push(I::I32Const(cases.len() as i32));
        b.push(I::I32GeU);
        b.trap_if(TrapCode::InvalidVariantDiscriminant);
        let at = self.types.with_memory64(true).payload_offset(&cases);
        for (i, case) in cases.iter().enumerate() {
            let Some(p) = *case else { continue };
            if !can_fail(self, p, 0) {
                continue;
            }
            let b = &mut *self.body;
            b.push(I::LocalGet(d));
            b.push(I::I32Const(i as i32));
            b.push(I::I32Eq);
            b.push(I::If(BlockType::Empty));
            let src = Loc::Mem {
                mem,
                addr,
                offset: offset + at,
            };
            self.check(p, src);
            self.body.push(I::End);
        }
    }

    /// Check `n` elements of type `e` from address local `p` (an `i64`) on.
    fn each_checked(&mut self, e: u32, mem: u32, p: u32, n: u32) {
        let size = self.types.with_memory64(true).size(e);
        let b = &mut *self.body;
        let (at, left) = (b.local(ValType::I64), b.local(ValType::I32));
        b.push(I::LocalGet(p));
        b.push(I::LocalSet(at));
        b.push(I::LocalGet(n));
        b.push(I::LocalSet(left));
        b.push(I::Block(BlockType::Empty));
        b.push(I::Loop(BlockType::Empty));
        b.push(I::LocalGet(left));
        b.push(I::I32Eqz);
        b.push(I::BrIf(1));
        self.check(
            e,
            Loc::Mem {
                mem,
                addr: at,
                offset: 0,
            },
        );
        let b = &mut *self.body;
        b.push(I::LocalGet(at));
        b.push(I::I64Const(size.into()));
        b.push(I::I64Add);
        b.push(I::LocalSet(at));
        b.push(I::LocalGet(left));
        b.push(I::I32Const(-1));
        b.push(I::I32Add);
        b.push(I::LocalSet(left));
        b.push(I::Br(0));
        b.push(I::End);
        b.push(I::End);
    }
}
