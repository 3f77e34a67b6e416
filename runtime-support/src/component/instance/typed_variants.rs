//! Options and results in typed calls: `Option<T>` as `option<T>`, `Result<T, E>` as
//! `result<T, E>` (with `()` for a case without payload).
//!
//! In: Rust values and one side's memory ([`CanonCx`]). Out: a discriminant and the case's
//! payload, flat (the payload in the first slots after the discriminant, the rest zero; the
//! flat values are raw bits, so a payload in a slot that the other case widened reads and writes
//! the same low bits as the spec's `wrap`/`extend` coercions) or in memory (a one-byte
//! discriminant, the payload at the next multiple of the cases' largest alignment).

use super::typed_cases::{bad_case, start_flat};
use super::typed_records::{align_up, slots, slots_mut};
use super::typed_values::{ComponentType, Lift, Lower};
use crate::component::abi::CanonCx;
use crate::trap::Trap;
use weld_contract::component::TypeDef;
use weld_contract::vmctx::ValRaw;

/// A case payload of a result: a [`ComponentType`], or `()` for none.
pub trait Payload {
    /// Flat values, bytes and alignment (0, 0 and 1 for none).
    const FLAT: usize;
    /// Bytes in memory.
    const SIZE: u32;
    /// Alignment in memory.
    const ALIGN: u32;
    /// Whether the case's type (`None`: no payload) is this.
    fn typecheck(types: &[TypeDef], ty: Option<u32>) -> bool;
}

impl Payload for () {
    const FLAT: usize = 0;
    const SIZE: u32 = 0;
    const ALIGN: u32 = 1;
    fn typecheck(_: &[TypeDef], ty: Option<u32>) -> bool {
        ty.is_none()
    }
}

impl<T: ComponentType> Payload for T {
    const FLAT: usize = T::FLAT;
    const SIZE: u32 = T::SIZE;
    const ALIGN: u32 = T::ALIGN;
    fn typecheck(types: &[TypeDef], ty: Option<u32>) -> bool {
        ty.is_some_and(|t| T::typecheck(types, t))
    }
}

/// A payload that lowers (`()` lowers nothing).
pub trait LowerPayload: Payload {
    /// Lower into `Self::FLAT` slots.
    fn lower_payload<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        out: &mut [ValRaw],
    ) -> Result<(), Trap>;
    /// Store at `ptr`.
    fn store_payload<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap>;
}

/// A payload that lifts.
pub trait LiftPayload: Payload + Sized {
    /// Lift from `Self::FLAT` slots.
    fn lift_payload<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap>;
    /// Load from `ptr`.
    fn load_payload<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap>;
}

impl LowerPayload for () {
    fn lower_payload<C: CanonCx + ?Sized>(&self, _: &mut C, _: &mut [ValRaw]) -> Result<(), Trap> {
        Ok(())
    }
    fn store_payload<C: CanonCx + ?Sized>(&self, _: &mut C, _: u32) -> Result<(), Trap> {
        Ok(())
    }
}

impl LiftPayload for () {
    fn lift_payload<C: CanonCx + ?Sized>(_: &mut C, _: &[ValRaw]) -> Result<Self, Trap> {
        Ok(())
    }
    fn load_payload<C: CanonCx + ?Sized>(_: &mut C, _: u32) -> Result<Self, Trap> {
        Ok(())
    }
}

impl<T: Lower> LowerPayload for T {
    fn lower_payload<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        out: &mut [ValRaw],
    ) -> Result<(), Trap> {
        self.lower(cx, out)
    }
    fn store_payload<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        self.store(cx, ptr)
    }
}

impl<T: Lift> LiftPayload for T {
    fn lift_payload<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        T::lift(cx, flat)
    }
    fn load_payload<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        T::load(cx, ptr)
    }
}

/// Layout of a two-case variant with payloads of alignments `a`, `b` and sizes `sa`, `sb`:
/// the payload's offset, the size and the alignment.
const fn two_cases(a: u32, sa: u32, b: u32, sb: u32) -> (u32, u32, u32) {
    let align = if a > b { a } else { b };
    let size = if sa > sb { sa } else { sb };
    let offset = align_up(1, align);
    (offset, align_up(offset + size, align), align)
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

fn write_case<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32, case: u8) -> Result<(), Trap> {
    case.store(cx, ptr)
}

impl<T: ComponentType> ComponentType for Option<T> {
    const FLAT: usize = 1 + T::FLAT;
    const SIZE: u32 = two_cases(1, 0, T::ALIGN, T::SIZE).1;
    const ALIGN: u32 = two_cases(1, 0, T::ALIGN, T::SIZE).2;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        matches!(types.get(ty as usize), Some(TypeDef::Option(t)) if T::typecheck(types, *t))
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        start_flat(out, u32::from(self.is_some()))?;
        match self {
            Some(v) => v.lower(cx, slots_mut(out, 1, T::FLAT)?),
            None => Ok(()),
        }
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write_case(cx, ptr, u8::from(self.is_some()))?;
        match self {
            Some(v) => v.store(cx, ptr + two_cases(1, 0, T::ALIGN, T::SIZE).0),
            None => Ok(()),
        }
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        match slots(flat, 0, 1)?[0].get_i32() {
            0 => Ok(None),
            1 => T::lift(cx, slots(flat, 1, T::FLAT)?).map(Some),
            _ => Err(bad_case()),
        }
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        match u8::load(cx, ptr)? {
            0 => Ok(None),
            1 => T::load(cx, ptr + two_cases(1, 0, T::ALIGN, T::SIZE).0).map(Some),
            _ => Err(bad_case()),
        }
    }
}

impl<T: Payload, E: Payload> ComponentType for Result<T, E> {
    const FLAT: usize = 1 + max(T::FLAT, E::FLAT);
    const SIZE: u32 = two_cases(T::ALIGN, T::SIZE, E::ALIGN, E::SIZE).1;
    const ALIGN: u32 = two_cases(T::ALIGN, T::SIZE, E::ALIGN, E::SIZE).2;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        matches!(types.get(ty as usize),
            Some(TypeDef::Result { ok, err }) if T::typecheck(types, *ok) && E::typecheck(types, *err))
    }
}

impl<T: LowerPayload, E: LowerPayload> Lower for Result<T, E> {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        start_flat(out, u32::from(self.is_err()))?;
        match self {
            Ok(v) => v.lower_payload(cx, slots_mut(out, 1, T::FLAT)?),
            Err(e) => e.lower_payload(cx, slots_mut(out, 1, E::FLAT)?),
        }
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write_case(cx, ptr, u8::from(self.is_err()))?;
        let at = ptr + two_cases(T::ALIGN, T::SIZE, E::ALIGN, E::SIZE).0;
        match self {
            Ok(v) => v.store_payload(cx, at),
            Err(e) => e.store_payload(cx, at),
        }
    }
}

impl<T: LiftPayload, E: LiftPayload> Lift for Result<T, E> {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        match slots(flat, 0, 1)?[0].get_i32() {
            0 => T::lift_payload(cx, slots(flat, 1, T::FLAT)?).map(Ok),
            1 => E::lift_payload(cx, slots(flat, 1, E::FLAT)?).map(Err),
            _ => Err(bad_case()),
        }
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        let at = ptr + two_cases(T::ALIGN, T::SIZE, E::ALIGN, E::SIZE).0;
        match u8::load(cx, ptr)? {
            0 => T::load_payload(cx, at).map(Ok),
            1 => E::load_payload(cx, at).map(Err),
            _ => Err(bad_case()),
        }
    }
}
