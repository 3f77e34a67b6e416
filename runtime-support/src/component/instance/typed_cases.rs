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
    // Generated bindings pass WIT's own spelling (which may have all-caps words, `get-URL`); a
    // raw identifier (`r#type`) stands for the word itself.
    let rust = rust.strip_prefix("r#").unwrap_or(rust);
    if wit == rust {
        return true;
    }
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
        $crate::__component_enum_impl!($name { $($case = stringify!($case)),+ });
    };
}

/// The typed-call traits of a fieldless enum `$name` whose cases are named `$wit` in WIT (or
/// in Rust's spelling). For [`component_enum!`] and generated bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __component_enum_impl {
    ($name:ident { $($case:ident = $wit:expr),+ $(,)? }) => {
        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1;
            const SIZE: u32 = $crate::component::typed_cases::tag_size([$($wit),+].len());
            const ALIGN: u32 = <Self as $crate::component::ComponentType>::SIZE;
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                $crate::component::typed_cases::enum_typecheck(types, ty, &[$($wit),+])
            }
        }

        impl $crate::component::Lower for $name {
            fn lower<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                out: &mut [$crate::component::ValRaw],
            ) -> Result<(), $crate::trap::Trap> {
                let i: u32 = $crate::__case_index!(self, $name, $($case),+);
                $crate::component::Lower::lower(&i, cx, out)
            }
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                let i: u32 = $crate::__case_index!(self, $name, $($case),+);
                let size = <Self as $crate::component::ComponentType>::SIZE;
                $crate::component::typed_cases::store_tag(cx, ptr, size, i)
            }
        }

        impl $crate::component::Lift for $name {
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                let i = <u32 as $crate::component::Lift>::lift(cx, flat)?;
                [$($name::$case),+]
                    .into_iter()
                    .nth(i as usize)
                    .ok_or_else($crate::component::typed_cases::bad_case)
            }
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                let size = <Self as $crate::component::ComponentType>::SIZE;
                let i = $crate::component::typed_cases::load_tag(cx, ptr, size)?;
                [$($name::$case),+]
                    .into_iter()
                    .nth(i as usize)
                    .ok_or_else($crate::component::typed_cases::bad_case)
            }
        }
    };
}

/// The index of the case `$value` (of enum `$name`) is.
#[doc(hidden)]
#[macro_export]
macro_rules! __case_index {
    ($value:expr, $name:ident, $($case:ident),+) => {{
        let mut i = 0u32;
        let mut found = 0u32;
        $(
            if matches!($value, $name::$case { .. }) {
                found = i;
            }
            i += 1;
        )+
        let _ = i;
        found
    }};
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

        impl $crate::component::typed_cases::FlagBits for $name {
            const NAMES: &'static [&'static str] = &[$(stringify!($flag)),+];
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
        $crate::__component_flags_impl!($name);
    };
}

/// A flags type as bits: flag `i` is bit `i`.
pub trait FlagBits: Sized {
    /// The flags' names, WIT's or Rust's spelling.
    const NAMES: &'static [&'static str];
    /// The set flags as bits.
    fn bits(&self) -> u32;
    /// The flags set in `bits` (bits beyond the flags ignored, as lifting does).
    fn from_bits(bits: u32) -> Self;
}

/// Bytes of a flags value of `n` flags (at most 32).
pub const fn flags_size(n: usize) -> u32 {
    match n {
        0..=8 => 1,
        9..=16 => 2,
        _ => 4,
    }
}

/// The typed-call traits of a [`FlagBits`] type of at most 32 flags. For
/// [`component_flags!`] and generated bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __component_flags_impl {
    ($name:ident) => {
        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1;
            const SIZE: u32 = $crate::component::typed_cases::flags_size(
                <Self as $crate::component::typed_cases::FlagBits>::NAMES.len(),
            );
            const ALIGN: u32 = <Self as $crate::component::ComponentType>::SIZE;
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                let names = <Self as $crate::component::typed_cases::FlagBits>::NAMES;
                names.len() <= 32
                    && $crate::component::typed_cases::flags_typecheck(types, ty, names)
            }
        }

        impl $crate::component::Lower for $name {
            fn lower<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                out: &mut [$crate::component::ValRaw],
            ) -> Result<(), $crate::trap::Trap> {
                let bits = $crate::component::typed_cases::FlagBits::bits(self);
                $crate::component::Lower::lower(&bits, cx, out)
            }
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                let bits = $crate::component::typed_cases::FlagBits::bits(self);
                let size = <Self as $crate::component::ComponentType>::SIZE;
                $crate::component::typed_cases::store_tag(cx, ptr, size, bits)
            }
        }

        impl $crate::component::Lift for $name {
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                let bits = <u32 as $crate::component::Lift>::lift(cx, flat)?;
                Ok(<Self as $crate::component::typed_cases::FlagBits>::from_bits(bits))
            }
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                let size = <Self as $crate::component::ComponentType>::SIZE;
                let bits = $crate::component::typed_cases::load_tag(cx, ptr, size)?;
                Ok(<Self as $crate::component::typed_cases::FlagBits>::from_bits(bits))
            }
        }
    };
}

/// Declare a Rust enum that stands for a component `variant` in typed calls: a case with a
/// payload holds one value of its type, a case without is a unit case.
///
/// ```ignore
/// weld_runtime::component_variant! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub enum Shape { Circle(f32), Named(String), Empty }   // variant shape { circle(f32), named(string), empty }
/// }
/// ```
#[macro_export]
macro_rules! component_variant {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($case:ident $(($ty:ty))?),+ $(,)? }) => {
        $(#[$meta])* $vis enum $name { $($case $(($ty))?),+ }
        $crate::__component_variant_impl!($name { $($case $(($ty))? = stringify!($case)),+ });
    };
}

/// The payload type of a case: its type, or `()` for none.
#[doc(hidden)]
#[macro_export]
macro_rules! __payload_ty {
    () => {
        ()
    };
    ($ty:ty) => {
        $ty
    };
}

/// The typed-call traits of an enum `$name` standing for a variant whose cases are named `$wit`
/// in WIT (or in Rust's spelling). For [`component_variant!`] and generated bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __component_variant_impl {
    ($name:ident { $($case:ident $(($ty:ty))? = $wit:expr),+ $(,)? }) => {
        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 1 + $crate::component::typed_cases::max_of(&[$(
                <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::FLAT
                    as u32
            ),+]) as usize;
            const ALIGN: u32 = $crate::component::typed_cases::larger(
                $crate::component::typed_cases::tag_size([$($wit),+].len()),
                $crate::component::typed_cases::max_of(&[$(
                    <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::ALIGN
                ),+]),
            );
            const SIZE: u32 = $crate::component::typed_records::align_up(
                $crate::component::typed_cases::payload_at(
                    [$($wit),+].len(),
                    &[$(<$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::ALIGN),+],
                ) + $crate::component::typed_cases::max_of(&[$(
                    <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::SIZE
                ),+]),
                <Self as $crate::component::ComponentType>::ALIGN,
            );
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                $crate::component::typed_cases::variant_typecheck(types, ty, &[$((
                    $wit,
                    <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::typecheck
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
                    $crate::__variant_lower_case!(self, cx, out, i, $name::$case $(, $ty)?);
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
                let n = [$($wit),+].len();
                let tag = $crate::component::typed_cases::tag_size(n);
                let at = ptr + $crate::component::typed_cases::payload_at(
                    n,
                    &[$(<$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::ALIGN),+],
                );
                let mut i = 0u32;
                $(
                    $crate::__variant_store_case!(self, cx, ptr, tag, at, i, $name::$case $(, $ty)?);
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
                let found = <u32 as $crate::component::Lift>::lift(cx, flat)?;
                let mut i = 0u32;
                $(
                    if found == i {
                        let n = <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::FLAT;
                        let slots = $crate::component::typed_records::slots(flat, 1, n)?;
                        let payload = <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::LiftPayload>::lift_payload(cx, slots)?;
                        return Ok($crate::__variant_make!($name::$case, payload $(, $ty)?));
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
                let n = [$($wit),+].len();
                let tag = $crate::component::typed_cases::tag_size(n);
                let at = ptr + $crate::component::typed_cases::payload_at(
                    n,
                    &[$(<$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::Payload>::ALIGN),+],
                );
                let found = $crate::component::typed_cases::load_tag(cx, ptr, tag)?;
                let mut i = 0u32;
                $(
                    if found == i {
                        let payload = <$crate::__payload_ty!($($ty)?) as $crate::component::typed_variants::LiftPayload>::load_payload(cx, at)?;
                        return Ok($crate::__variant_make!($name::$case, payload $(, $ty)?));
                    }
                    i += 1;
                )+
                Err($crate::component::typed_cases::bad_case())
            }
        }
    };
}

/// Lower `$value` if it is case `$path` (number `$i`), and return.
#[doc(hidden)]
#[macro_export]
macro_rules! __variant_lower_case {
    ($value:expr, $cx:ident, $out:ident, $i:expr, $path:path) => {
        if let $path = $value {
            return $crate::component::typed_cases::start_flat($out, $i);
        }
    };
    ($value:expr, $cx:ident, $out:ident, $i:expr, $path:path, $ty:ty) => {
        if let $path(v) = $value {
            $crate::component::typed_cases::start_flat($out, $i)?;
            let n = <$ty as $crate::component::typed_variants::Payload>::FLAT;
            let slots = $crate::component::typed_records::slots_mut($out, 1, n)?;
            return $crate::component::typed_variants::LowerPayload::lower_payload(v, $cx, slots);
        }
    };
}

/// Store `$value` at `$ptr` (payload at `$at`) if it is case `$path` (number `$i`), and return.
#[doc(hidden)]
#[macro_export]
macro_rules! __variant_store_case {
    ($value:expr, $cx:ident, $ptr:ident, $tag:ident, $at:ident, $i:expr, $path:path) => {
        if let $path = $value {
            return $crate::component::typed_cases::store_tag($cx, $ptr, $tag, $i);
        }
    };
    ($value:expr, $cx:ident, $ptr:ident, $tag:ident, $at:ident, $i:expr, $path:path, $ty:ty) => {
        if let $path(v) = $value {
            $crate::component::typed_cases::store_tag($cx, $ptr, $tag, $i)?;
            return $crate::component::typed_variants::LowerPayload::store_payload(v, $cx, $at);
        }
    };
}

/// Case `$path` made from its lifted payload (`()` for a unit case).
#[doc(hidden)]
#[macro_export]
macro_rules! __variant_make {
    ($path:path, $payload:ident) => {{
        let () = $payload;
        $path
    }};
    ($path:path, $payload:ident, $ty:ty) => {
        $path($payload)
    };
}

/// Where a variant's payload starts: after the discriminant of `cases` cases, at the largest
/// payload alignment.
pub const fn payload_at(cases: usize, aligns: &[u32]) -> u32 {
    super::typed_records::align_up(tag_size(cases), max_of(aligns))
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
        assert!(same_name("get-URL", "get-URL") && same_name("HTTP", "HTTP"));
        assert!(same_name("type", "r#type"));
    }
}
