//! Rust types with a Canonical ABI form: how each one is type-checked against an interface
//! type, and lowered to / lifted from flat core values and linear memory, directly.

use crate::component::abi::{f32_canon, f64_canon, to_char, CanonCx};
use crate::component::string::{load_string, store_string};
use crate::trap::Trap;
use alloc::string::String;
use weld_contract::component::{StringEncoding, TypeDef};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// A Rust type that stands for one interface type in typed calls
/// ([`TypedFunc`](super::typed::TypedFunc), [`HostImports::func_wrap`](super::HostImports::func_wrap)):
/// `bool`, the integers, `f32`, `f64`, `char`, `String`, `&str` (parameters the host passes
/// only), and built from these: `Vec<T>` (and `&[T]` to pass) for `list<T>`, `[T; N]` for
/// `list<T, N>`, `BTreeMap`/`HashMap` for `map<K, V>` (`typed_lists.rs`), tuples and [`component_record!`](crate::component_record)
/// structs (`typed_records.rs`), `Option<T>` and `Result<T, E>` (`typed_variants.rs`), and
/// the enums, variants and flags of `component_enum!`, `component_variant!` and
/// `component_flags!` (`typed_cases.rs`). [`Lower`] types can go into a component, [`Lift`] types come out of one.
pub trait ComponentType {
    /// Flat core values it takes.
    const FLAT: usize;
    /// Bytes in linear memory.
    const SIZE: u32;
    /// Alignment in linear memory.
    const ALIGN: u32;
    /// Whether interface type `ty` (an index into `types`) is this type.
    fn typecheck(types: &[TypeDef], ty: u32) -> bool;
}

/// A [`ComponentType`] the host can give a component.
pub trait Lower: ComponentType {
    /// Lower into `Self::FLAT` slots.
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap>;
    /// Store at `ptr` (aligned, in bounds: checked by the caller).
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap>;
}

/// A [`ComponentType`] the host can take from a component.
pub trait Lift: ComponentType + Sized {
    /// Lift from `Self::FLAT` slots.
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap>;
    /// Load from `ptr` (aligned, in bounds: checked by the caller).
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap>;
}

fn oob() -> Trap {
    Trap::new(TrapCode::MemoryOutOfBounds)
}

fn write<C: CanonCx + ?Sized, const N: usize>(
    cx: &mut C,
    ptr: u32,
    bytes: [u8; N],
) -> Result<(), Trap> {
    let start = ptr as usize;
    cx.memory_mut()?
        .get_mut(start..start + N)
        .ok_or_else(oob)?
        .copy_from_slice(&bytes);
    Ok(())
}

pub(super) fn read<C: CanonCx + ?Sized, const N: usize>(cx: &C, ptr: u32) -> Result<[u8; N], Trap> {
    let start = ptr as usize;
    let mut out = [0; N];
    out.copy_from_slice(cx.memory()?.get(start..start + N).ok_or_else(oob)?);
    Ok(out)
}

pub(super) fn slot(flat: &[ValRaw], i: usize) -> Result<ValRaw, Trap> {
    flat.get(i)
        .copied()
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))
}

pub(super) fn out_slot(out: &mut [ValRaw], i: usize) -> Result<&mut ValRaw, Trap> {
    out.get_mut(i)
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))
}

/// The [`ComponentType`] of a one-slot scalar: interface type `$def`, `$size` bytes aligned
/// to their size.
macro_rules! scalar_type {
    ($($t:ty => $def:ident, $size:literal;)*) => {$(
        impl ComponentType for $t {
            const FLAT: usize = 1;
            const SIZE: u32 = $size;
            const ALIGN: u32 = $size;
            fn typecheck(types: &[TypeDef], ty: u32) -> bool {
                matches!(types.get(ty as usize), Some(TypeDef::$def))
            }
        }
    )*};
}

scalar_type! {
    u8 => U8, 1;
    i8 => S8, 1;
    u16 => U16, 2;
    i16 => S16, 2;
    u32 => U32, 4;
    i32 => S32, 4;
    u64 => U64, 8;
    i64 => S64, 8;
    bool => Bool, 1;
    char => Char, 4;
    f32 => F32, 4;
    f64 => F64, 8;
}

/// Integers in an i32 (`$slot` = `i32`) or i64 slot: lifting keeps the low bits (as the
/// Canonical ABI's `lift_flat` does), lowering zero- or sign-extends.
macro_rules! int {
    ($($t:ty => $slot:ident, $get:ident;)*) => {$(
        impl Lower for $t {
            fn lower<C: CanonCx + ?Sized>(&self, _: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
                *out_slot(out, 0)? = ValRaw::$slot(*self as $slot);
                Ok(())
            }
            fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
                write(cx, ptr, self.to_le_bytes())
            }
        }

        impl Lift for $t {
            fn lift<C: CanonCx + ?Sized>(_: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
                Ok(slot(flat, 0)?.$get() as $t)
            }
            fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
                Ok(<$t>::from_le_bytes(read(cx, ptr)?))
            }
        }
    )*};
}

int! {
    u8 => i32, get_i32;
    i8 => i32, get_i32;
    u16 => i32, get_i32;
    i16 => i32, get_i32;
    u32 => i32, get_i32;
    i32 => i32, get_i32;
    u64 => i64, get_i64;
    i64 => i64, get_i64;
}

impl Lower for bool {
    fn lower<C: CanonCx + ?Sized>(&self, _: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        *out_slot(out, 0)? = ValRaw::i32(i32::from(*self));
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write(cx, ptr, [u8::from(*self)])
    }
}

impl Lift for bool {
    fn lift<C: CanonCx + ?Sized>(_: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        Ok(slot(flat, 0)?.get_i32() != 0)
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        Ok(read::<C, 1>(cx, ptr)?[0] != 0)
    }
}

impl Lower for char {
    fn lower<C: CanonCx + ?Sized>(&self, _: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        *out_slot(out, 0)? = ValRaw::i32(*self as i32);
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write(cx, ptr, (*self as u32).to_le_bytes())
    }
}

impl Lift for char {
    fn lift<C: CanonCx + ?Sized>(_: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        to_char(slot(flat, 0)?.get_i32() as u32)
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        to_char(u32::from_le_bytes(read(cx, ptr)?))
    }
}

impl Lower for f32 {
    fn lower<C: CanonCx + ?Sized>(&self, _: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        *out_slot(out, 0)? = ValRaw::f32(f32_canon(self.to_bits()).to_bits());
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write(cx, ptr, f32_canon(self.to_bits()).to_bits().to_le_bytes())
    }
}

impl Lift for f32 {
    fn lift<C: CanonCx + ?Sized>(_: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        Ok(f32_canon(slot(flat, 0)?.get_f32()))
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        Ok(f32_canon(u32::from_le_bytes(read(cx, ptr)?)))
    }
}

impl Lower for f64 {
    fn lower<C: CanonCx + ?Sized>(&self, _: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        *out_slot(out, 0)? = ValRaw::f64(f64_canon(self.to_bits()).to_bits());
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        write(cx, ptr, f64_canon(self.to_bits()).to_bits().to_le_bytes())
    }
}

impl Lift for f64 {
    fn lift<C: CanonCx + ?Sized>(_: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        Ok(f64_canon(slot(flat, 0)?.get_f64()))
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        Ok(f64_canon(u64::from_le_bytes(read(cx, ptr)?)))
    }
}

/// Strings: `(ptr, len)` in the side's encoding; lowering calls the side's `realloc`, lifting
/// checks bounds and decodes (invalid UTF-8 or UTF-16 traps). `str` (behind a reference) lowers
/// without the host allocating; `String` also lifts.
impl ComponentType for str {
    const FLAT: usize = 2;
    const SIZE: u32 = 8;
    const ALIGN: u32 = 4;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        matches!(types.get(ty as usize), Some(TypeDef::String))
    }
}

impl Lower for str {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        let (ptr, len) = store_string(cx, self, StringEncoding::Utf8)?;
        *out_slot(out, 0)? = ValRaw::i32(ptr as i32);
        *out_slot(out, 1)? = ValRaw::i32(len as i32);
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        let (p, len) = store_string(cx, self, StringEncoding::Utf8)?;
        write(cx, ptr, p.to_le_bytes())?;
        write(cx, ptr + 4, len.to_le_bytes())
    }
}

impl ComponentType for String {
    const FLAT: usize = str::FLAT;
    const SIZE: u32 = str::SIZE;
    const ALIGN: u32 = str::ALIGN;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        str::typecheck(types, ty)
    }
}

impl Lower for String {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        self.as_str().lower(cx, out)
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        self.as_str().store(cx, ptr)
    }
}

impl Lift for String {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        let ptr = slot(flat, 0)?.get_i32() as u32;
        let len = slot(flat, 1)?.get_i32() as u32;
        load_string(cx, ptr, len)
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        let p = u32::from_le_bytes(read(cx, ptr)?);
        let len = u32::from_le_bytes(read(cx, ptr + 4)?);
        load_string(cx, p, len)
    }
}

/// A reference lowers as what it refers to (`&str`, `&String`, ...).
impl<T: ComponentType + ?Sized> ComponentType for &T {
    const FLAT: usize = T::FLAT;
    const SIZE: u32 = T::SIZE;
    const ALIGN: u32 = T::ALIGN;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        T::typecheck(types, ty)
    }
}

impl<T: Lower + ?Sized> Lower for &T {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        (**self).lower(cx, out)
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        (**self).store(cx, ptr)
    }
}

/// The parameters of a typed call: a tuple of [`ComponentType`]s, `()` to `(A, B, C, D, E, F)`.
pub trait ComponentParams {
    /// Flat core values all parameters take.
    const FLAT: usize;
    /// Whether the parameter types `params` (indices into `types`) are these.
    fn typecheck(types: &[TypeDef], params: &[u32]) -> bool;
}

/// Parameters the host can pass (every element [`Lower`]).
pub trait LowerParams: ComponentParams {
    /// Lower every parameter, in order, into `out`.
    fn lower_all<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap>;
}

/// Parameters the host can receive (every element [`Lift`]).
pub trait LiftParams: ComponentParams + Sized {
    /// Lift every parameter from `flat`.
    fn lift_all<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap>;
}

fn bad() -> Trap {
    Trap::new(TrapCode::InvalidValue)
}

macro_rules! params {
    ($($n:tt $t:ident),*) => {
        impl<$($t: ComponentType),*> ComponentParams for ($($t,)*) {
            const FLAT: usize = 0 $(+ $t::FLAT)*;
            #[allow(unused_variables, unused_mut)]
            fn typecheck(types: &[TypeDef], params: &[u32]) -> bool {
                let mut it = params.iter();
                $(if !it.next().is_some_and(|t| $t::typecheck(types, *t)) { return false; })*
                it.next().is_none()
            }
        }

        impl<$($t: Lower),*> LowerParams for ($($t,)*) {
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn lower_all<X: CanonCx + ?Sized>(&self, cx: &mut X, out: &mut [ValRaw]) -> Result<(), Trap> {
                let mut at = 0;
                $(
                    let end = at + $t::FLAT;
                    self.$n.lower(cx, out.get_mut(at..end).ok_or_else(bad)?)?;
                    at = end;
                )*
                Ok(())
            }
        }

        impl<$($t: Lift),*> LiftParams for ($($t,)*) {
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
            fn lift_all<X: CanonCx + ?Sized>(cx: &mut X, flat: &[ValRaw]) -> Result<Self, Trap> {
                let mut at = 0;
                Ok(($({
                    let end = at + $t::FLAT;
                    let v = $t::lift(cx, flat.get(at..end).ok_or_else(bad)?)?;
                    at = end;
                    v
                },)*))
            }
        }
    };
}

params!();
params!(0 A);
params!(0 A, 1 B);
params!(0 A, 1 B, 2 C);
params!(0 A, 1 B, 2 C, 3 D);
params!(0 A, 1 B, 2 C, 3 D, 4 E);
params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 G);

/// The result of a typed call: `()` for none, or one [`ComponentType`].
pub trait ComponentResult {
    /// Flat core values the result takes (more than one travels through memory).
    const FLAT: usize;
    /// Whether the function's result type (`None`: no result) is this.
    fn typecheck(types: &[TypeDef], result: Option<u32>) -> bool;
}

/// A result the host can return (from a [`func_wrap`](super::HostImports::func_wrap) function).
pub trait LowerResult: ComponentResult {
    /// Lower into `Self::FLAT` slots.
    fn lower_result<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw])
        -> Result<(), Trap>;
    /// Store at `ptr` (checked for alignment and bounds here).
    fn store_result<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap>;
}

/// A result the host can receive (from a [`TypedFunc`](super::typed::TypedFunc)).
pub trait LiftResult: ComponentResult + Sized {
    /// Lift from `Self::FLAT` slots.
    fn lift_result<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap>;
    /// Load from `ptr` (checked for alignment and bounds here).
    fn load_result<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap>;
}

impl ComponentResult for () {
    const FLAT: usize = 0;
    fn typecheck(_: &[TypeDef], result: Option<u32>) -> bool {
        result.is_none()
    }
}

impl LowerResult for () {
    fn lower_result<C: CanonCx + ?Sized>(&self, _: &mut C, _: &mut [ValRaw]) -> Result<(), Trap> {
        Ok(())
    }
    fn store_result<C: CanonCx + ?Sized>(&self, _: &mut C, _: u32) -> Result<(), Trap> {
        Ok(())
    }
}

impl LiftResult for () {
    fn lift_result<C: CanonCx + ?Sized>(_: &mut C, _: &[ValRaw]) -> Result<Self, Trap> {
        Ok(())
    }
    fn load_result<C: CanonCx + ?Sized>(_: &mut C, _: u32) -> Result<Self, Trap> {
        Ok(())
    }
}

/// Check that `ptr` is aligned for `T` and `T` fits in memory there.
fn check_ptr<T: ComponentType + ?Sized, C: CanonCx + ?Sized>(cx: &C, ptr: u32) -> Result<(), Trap> {
    if !ptr.is_multiple_of(T::ALIGN) {
        return Err(Trap::new(TrapCode::UnalignedPointer));
    }
    if u64::from(ptr) + u64::from(T::SIZE) > cx.memory()?.len() as u64 {
        return Err(oob());
    }
    Ok(())
}

impl<T: ComponentType> ComponentResult for T {
    const FLAT: usize = T::FLAT;
    fn typecheck(types: &[TypeDef], result: Option<u32>) -> bool {
        result.is_some_and(|r| T::typecheck(types, r))
    }
}

impl<T: Lower> LowerResult for T {
    fn lower_result<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        out: &mut [ValRaw],
    ) -> Result<(), Trap> {
        self.lower(cx, out)
    }
    fn store_result<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        check_ptr::<T, C>(cx, ptr)?;
        self.store(cx, ptr)
    }
}

impl<T: Lift> LiftResult for T {
    fn lift_result<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        T::lift(cx, flat)
    }
    fn load_result<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        check_ptr::<T, C>(cx, ptr)?;
        T::load(cx, ptr)
    }
}
