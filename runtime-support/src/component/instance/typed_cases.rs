//! Enums, variants and flags in typed calls, declared with [`component_enum!`](crate::component_enum),
//! [`component_variant!`](crate::component_variant) and [`component_flags!`](crate::component_flags).
//!
//! In: Rust values and one side's memory ([`CanonCx`](crate::component::CanonCx)). Out: a
//! discriminant (1, 2 or 4 bytes by the number of cases, as the contract's
//! `discriminant_size`) and a case's payload, or the bit words of a flags value. Names are
//! checked against the component's when the typed function is made: a Rust case `DarkRed`
//! stands for WIT's `dark-red`, a Rust flag `read_only` for `read-only`.

use super::typed_values::{Lift, Lower};
use crate::component::abi::CanonCx;
use crate::trap::Trap;
use weld_contract::component::abi::discriminant_size;
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// Whether WIT name `wit` is Rust name `rust`, written `CamelCase` (`DarkRed` for `dark-red`)
/// or `snake_case` (`read_only` for `read-only`).
pub fn same_name(wit: &str, rust: &str) -> bool {
    let mut w = wit.chars();
    for (i, r) in rust.chars().enumerate() {
        if r.is_ascii_uppercase() && i > 0 && w.next() != Some('-') {
            return false;
        }
        let want = if r == '_' {
            '-'
        } else {
            r.to_ascii_lowercase()
        };
        if w.next() != Some(want) {
            return false;
        }
    }
    w.next().is_none()
}

/// Bytes of the discriminant of `n` cases.
pub const fn tag_size(n: usize) -> u32 {
    discriminant_size(n)
}

/// The largest of `xs` (0 for none).
pub const fn max_of(xs: &[u32]) -> u32 {
    let (mut m, mut i) = (0, 0);
    while i < xs.len() {
        if xs[i] > m {
            m = xs[i];
        }
        i += 1;
    }
    m
}

/// Whether `ty` is an enum with these cases, in order.
pub fn enum_typecheck(types: &[TypeDef], ty: u32, cases: &[&str]) -> bool {
    matches!(types.get(ty as usize), Some(TypeDef::Enum(names))
        if names.len() == cases.len() && names.iter().zip(cases).all(|(w, r)| same_name(w, r)))
}

/// Whether `ty` is a flags type with these flags, in order.
pub fn flags_typecheck(types: &[TypeDef], ty: u32, flags: &[&str]) -> bool {
    matches!(types.get(ty as usize), Some(TypeDef::Flags(names))
        if names.len() == flags.len() && names.iter().zip(flags).all(|(w, r)| same_name(w, r)))
}

/// A case payload's type check (`None`: the case has no payload).
pub type PayloadCheck = fn(&[TypeDef], Option<u32>) -> bool;

/// Whether `ty` is a variant with these cases, in order: names and payload checks.
pub fn variant_typecheck(types: &[TypeDef], ty: u32, cases: &[(&str, PayloadCheck)]) -> bool {
    let Some(TypeDef::Variant(want)) = types.get(ty as usize) else {
        return false;
    };
    want.len() == cases.len()
        && want
            .iter()
            .zip(cases)
            .all(|((w, t), (r, check))| same_name(w, r) && check(types, *t))
}

/// The larger of `a` and `b`.
pub const fn larger(a: u32, b: u32) -> u32 {
    if a > b {
        a
    } else {
        b
    }
}

/// Store a discriminant of `size` bytes at `ptr`.
pub fn store_tag<C: CanonCx + ?Sized>(
    cx: &mut C,
    ptr: u32,
    size: u32,
    tag: u32,
) -> Result<(), Trap> {
    match size {
        1 => (tag as u8).store(cx, ptr),
        2 => (tag as u16).store(cx, ptr),
        _ => tag.store(cx, ptr),
    }
}

/// Load a discriminant of `size` bytes from `ptr`.
pub fn load_tag<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32, size: u32) -> Result<u32, Trap> {
    Ok(match size {
        1 => u32::from(u8::load(cx, ptr)?),
        2 => u32::from(u16::load(cx, ptr)?),
        _ => u32::load(cx, ptr)?,
    })
}

/// Write discriminant `tag` into the first flat slot and zero the payload slots.
pub fn start_flat(out: &mut [ValRaw], tag: u32) -> Result<(), Trap> {
    let (first, rest) = out
        .split_first_mut()
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))?;
    *first = ValRaw::i32(tag as i32);
    rest.fill(ValRaw::default());
    Ok(())
}

/// The trap of a discriminant beyond the cases.
pub fn bad_case() -> Trap {
    Trap::new(TrapCode::InvalidVariantDiscriminant)
}

/// Declare a Rust enum of fieldless cases that stands for a component `enum` in typed calls.
///
/// ```ignore
/// weld_runtime::component_enum! {
///     #[derive(Debug, Clone, Copy, PartialEq)]
///     pub enum Color { Red, DarkGreen }          // enum color { red, dark-green }
/// }
/// ```
#[macro_export]
macro_rules! component_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($case:ident),+ $(,)? }) => {
        $(#[$meta])* $vis enum $name { $($case),+ }

        impl $name {
            const CASES: &'static [&'static str] = &[$(stringify!($case)),+];
            const TAG: u32 = $crate::component::typed_cases::tag_size(Self::CASES.len());
            fn case_index(&self) -> u32 {
                let mut i = 0;
                $(
                    if matches!(self, Self::$case) {
                        return i;
                    }
                    i += 1;
                )+
                i
            }
            fn from_index(i: u32) -> Result<Self, $crate::trap::Trap> {
                [$(Self::$case),+]
                    .into_iter()
                    .nth(i as usize)
                    .ok_or_else($crate::component::typed_cases::bad_case)
            }
        }

        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1;
            const SIZE: u32 = Self::TAG;
            const ALIGN: u32 = Self::TAG;
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                $crate::component::typed_cases::enum_typecheck(types, ty, Self::CASES)
            }
        }

        impl $crate::component::Lower for $name {
            fn lower<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                out: &mut [$crate::component::ValRaw],
            ) -> Result<(), $crate::trap::Trap> {
                $crate::component::Lower::lower(&self.case_index(), cx, out)
            }
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                $crate::component::typed_cases::store_tag(cx, ptr, Self::TAG, self.case_index())
            }
        }

        impl $crate::component::Lift for $name {
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                Self::from_index(<u32 as $crate::component::Lift>::lift(cx, flat)?)
            }
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                Self::from_index($crate::component::typed_cases::load_tag(cx, ptr, Self::TAG)?)
            }
        }
    };
}

/// Declare a Rust struct of `bool` fields that stands for a component `flags` type (of at most
/// 32 flags) in typed calls.
///
/// ```ignore
/// weld_runtime::component_flags! {
///     #[derive(Debug, Clone, Copy, PartialEq, Default)]
///     pub struct Perms { pub read: bool, pub write: bool }   // flags perms { read, write }
/// }
/// ```
#[macro_export]
macro_rules! component_flags {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($fvis:vis $flag:ident : bool),+ $(,)? }) => {
        $(#[$meta])* $vis struct $name { $($fvis $flag: bool),+ }

        impl $name {
            const FLAGS: &'static [&'static str] = &[$(stringify!($flag)),+];
            const SIZE_: u32 = match Self::FLAGS.len() {
                0..=8 => 1,
                9..=16 => 2,
                _ => 4,
            };
            fn bits(&self) -> u32 {
                let (mut bits, mut i) = (0u32, 0u32);
                $(
                    bits |= u32::from(self.$flag) << i;
                    i += 1;
                )+
                let _ = i;
                bits
            }
            fn from_bits(bits: u32) -> Self {
                let mut i = 0u32;
                $name { $($flag: {
                    let set = bits & (1 << i) != 0;
                    i += 1;
                    set
                }),+ }
            }
        }

        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1;
            const SIZE: u32 = Self::SIZE_;
            const ALIGN: u32 = Self::SIZE_;
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                Self::FLAGS.len() <= 32
                    && $crate::component::typed_cases::flags_typecheck(types, ty, Self::FLAGS)
            }
        }

        impl $crate::component::Lower for $name {
            fn lower<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                out: &mut [$crate::component::ValRaw],
            ) -> Result<(), $crate::trap::Trap> {
                $crate::component::Lower::lower(&self.bits(), cx, out)
            }
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                $crate::component::typed_cases::store_tag(cx, ptr, Self::SIZE_, self.bits())
            }
        }

        impl $crate::component::Lift for $name {
            // Bits beyond the flags are ignored, as the Canonical ABI's lifting does.
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                Ok(Self::from_bits(<u32 as $crate::component::Lift>::lift(cx, flat)?))
            }
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                let bits = $crate::component::typed_cases::load_tag(cx, ptr, Self::SIZE_)?;
                Ok(Self::from_bits(bits))
            }
        }
    };
}

/// Declare a Rust enum that stands for a component `variant` in typed calls. Every case holds
/// one value: its payload type, or `()` for a case without one.
///
/// ```ignore
/// weld_runtime::component_variant! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum Shape { Circle(f32), Named(String), Empty(()) }   // variant shape { circle(f32), named(string), empty }
/// }
/// ```
#[macro_export]
macro_rules! component_variant {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($case:ident($ty:ty)),+ $(,)? }) => {
        $(#[$meta])* $vis enum $name { $($case($ty)),+ }

        impl $name {
            const CASES: &'static [&'static str] = &[$(stringify!($case)),+];
            const TAG: u32 = $crate::component::typed_cases::tag_size(Self::CASES.len());
            const PAYLOAD_ALIGN: u32 = $crate::component::typed_cases::max_of(
                &[$(<$ty as $crate::component::typed_variants::Payload>::ALIGN),+]);
            const PAYLOAD_AT: u32 =
                $crate::component::typed_records::align_up(Self::TAG, Self::PAYLOAD_ALIGN);
            const PAYLOAD_FLAT: usize = $crate::component::typed_cases::max_of(
                &[$(<$ty as $crate::component::typed_variants::Payload>::FLAT as u32),+]) as usize;
        }

        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1 + Self::PAYLOAD_FLAT;
            const ALIGN: u32 = $crate::component::typed_cases::larger(Self::TAG, Self::PAYLOAD_ALIGN);
            const SIZE: u32 = $crate::component::typed_records::align_up(
                Self::PAYLOAD_AT + $crate::component::typed_cases::max_of(
                    &[$(<$ty as $crate::component::typed_variants::Payload>::SIZE),+]),
                <Self as $crate::component::ComponentType>::ALIGN,
            );
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                $crate::component::typed_cases::variant_typecheck(types, ty, &[$((
                    stringify!($case),
                    <$ty as $crate::component::typed_variants::Payload>::typecheck
                        as $crate::component::typed_cases::PayloadCheck,
                )),+])
            }
        }

        impl $crate::component::Lower for $name {
            #[allow(unused_assignments)]
            fn lower<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                out: &mut [$crate::component::ValRaw],
            ) -> Result<(), $crate::trap::Trap> {
                let mut i = 0u32;
                $(
                    if let Self::$case(v) = self {
                        $crate::component::typed_cases::start_flat(out, i)?;
                        let n = <$ty as $crate::component::typed_variants::Payload>::FLAT;
                        let slots = $crate::component::typed_records::slots_mut(out, 1, n)?;
                        return $crate::component::typed_variants::LowerPayload::lower_payload(
                            v, cx, slots);
                    }
                    i += 1;
                )+
                Err($crate::component::typed_cases::bad_case())
            }
            #[allow(unused_assignments)]
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                let mut i = 0u32;
                $(
                    if let Self::$case(v) = self {
                        $crate::component::typed_cases::store_tag(cx, ptr, Self::TAG, i)?;
                        return $crate::component::typed_variants::LowerPayload::store_payload(
                            v, cx, ptr + Self::PAYLOAD_AT);
                    }
                    i += 1;
                )+
                Err($crate::component::typed_cases::bad_case())
            }
        }

        impl $crate::component::Lift for $name {
            #[allow(unused_assignments)]
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                let tag = <u32 as $crate::component::Lift>::lift(cx, flat)?;
                let mut i = 0u32;
                $(
                    if tag == i {
                        let n = <$ty as $crate::component::typed_variants::Payload>::FLAT;
                        let slots = $crate::component::typed_records::slots(flat, 1, n)?;
                        return Ok(Self::$case(
                            <$ty as $crate::component::typed_variants::LiftPayload>::lift_payload(
                                cx, slots)?,
                        ));
                    }
                    i += 1;
                )+
                Err($crate::component::typed_cases::bad_case())
            }
            #[allow(unused_assignments)]
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                let tag = $crate::component::typed_cases::load_tag(cx, ptr, Self::TAG)?;
                let mut i = 0u32;
                $(
                    if tag == i {
                        return Ok(Self::$case(
                            <$ty as $crate::component::typed_variants::LiftPayload>::load_payload(
                                cx, ptr + Self::PAYLOAD_AT)?,
                        ));
                    }
                    i += 1;
                )+
                Err($crate::component::typed_cases::bad_case())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn rust_names_stand_for_wit_names_in_either_case_style() {
        assert!(same_name("dark-green", "DarkGreen"));
        assert!(same_name("read-only", "read_only"));
        assert!(same_name("red", "Red") && same_name("red", "red"));
        assert!(!same_name("dark-green", "Darkgreen"));
        assert!(!same_name("darkgreen", "DarkGreen"));
        assert!(!same_name("red", "Re") && !same_name("re", "Red"));
    }
}
