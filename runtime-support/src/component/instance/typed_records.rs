//! Records and tuples in typed calls: Rust tuples `(A, ..)` as `tuple<A, ..>`, and structs
//! declared with [`component_record!`](crate::component_record) as records, field by field.
//!
//! In: Rust values and one side's memory ([`CanonCx`]). Out: flat values, or bytes at the
//! offsets the Canonical ABI gives the fields. Layouts are computed at compile time of the host
//! program from the field types' [`ComponentType`] constants (`record_layout`), with the same
//! rules as `weld_contract::component::abi` (checked against it in the tests); a record's field
//! names are checked against the component's when the typed function is made.

use super::typed_values::{ComponentType, Lift, Lower};
use crate::component::abi::CanonCx;
use crate::trap::Trap;
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// `align_to` of the Canonical ABI (the contract's), for constants.
pub use weld_contract::component::abi::align_to as align_up;

/// The size and alignment of a record with fields of these `(size, align)`s.
pub const fn record_layout(fields: &[(u32, u32)]) -> (u32, u32) {
    let (mut size, mut align, mut i) = (0, 1, 0);
    while i < fields.len() {
        let (s, a) = fields[i];
        size = align_up(size, a) + s;
        if a > align {
            align = a;
        }
        i += 1;
    }
    (align_up(size, align), align)
}

/// The offset of field `k` of a record with fields of these `(size, align)`s.
pub const fn field_offset(fields: &[(u32, u32)], k: usize) -> u32 {
    let (mut off, mut i) = (0, 0);
    while i < k {
        off = align_up(off, fields[i].1) + fields[i].0;
        i += 1;
    }
    align_up(off, fields[k].1)
}

/// A field's type check.
pub type FieldCheck = fn(&[TypeDef], u32) -> bool;

/// Whether `ty` is a record with exactly these fields, in order: WIT names (Rust's `_` read as
/// WIT's `-`) and types.
pub fn record_typecheck(types: &[TypeDef], ty: u32, fields: &[(&str, FieldCheck)]) -> bool {
    let Some(TypeDef::Record(want)) = types.get(ty as usize) else {
        return false;
    };
    want.len() == fields.len()
        && want.iter().zip(fields).all(|((name, t), (rust, check))| {
            let rust = rust.strip_prefix("r#").unwrap_or(rust);
            name.len() == rust.len()
                && name
                    .bytes()
                    .zip(rust.bytes())
                    .all(|(w, r)| w == r || (w == b'-' && r == b'_'))
                && check(types, *t)
        })
}

/// The slots `at..at + n` of `flat`, or a trap.
pub fn slots(flat: &[ValRaw], at: usize, n: usize) -> Result<&[ValRaw], Trap> {
    flat.get(at..at + n)
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))
}

/// The slots `at..at + n` of `out`, or a trap.
pub fn slots_mut(out: &mut [ValRaw], at: usize, n: usize) -> Result<&mut [ValRaw], Trap> {
    out.get_mut(at..at + n)
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))
}

macro_rules! tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            const FLAT: usize = 0 $(+ $t::FLAT)+;
            const SIZE: u32 = record_layout(&[$(($t::SIZE, $t::ALIGN)),+]).0;
            const ALIGN: u32 = record_layout(&[$(($t::SIZE, $t::ALIGN)),+]).1;
            fn typecheck(types: &[TypeDef], ty: u32) -> bool {
                let Some(TypeDef::Tuple(ts)) = types.get(ty as usize) else { return false };
                let mut it = ts.iter();
                $(if !it.next().is_some_and(|t| $t::typecheck(types, *t)) { return false; })+
                it.next().is_none()
            }
        }

        impl<$($t: Lower),+> Lower for ($($t,)+) {
            #[allow(unused_assignments)]
            fn lower<X: CanonCx + ?Sized>(&self, cx: &mut X, out: &mut [ValRaw]) -> Result<(), Trap> {
                let mut at = 0;
                $(
                    self.$n.lower(cx, slots_mut(out, at, $t::FLAT)?)?;
                    at += $t::FLAT;
                )+
                Ok(())
            }
            fn store<X: CanonCx + ?Sized>(&self, cx: &mut X, ptr: u32) -> Result<(), Trap> {
                let fields = [$(($t::SIZE, $t::ALIGN)),+];
                $(self.$n.store(cx, ptr + field_offset(&fields, $n))?;)+
                Ok(())
            }
        }

        impl<$($t: Lift),+> Lift for ($($t,)+) {
            #[allow(unused_assignments)]
            fn lift<X: CanonCx + ?Sized>(cx: &mut X, flat: &[ValRaw]) -> Result<Self, Trap> {
                let mut at = 0;
                Ok(($({
                    let v = $t::lift(cx, slots(flat, at, $t::FLAT)?)?;
                    at += $t::FLAT;
                    v
                },)+))
            }
            fn load<X: CanonCx + ?Sized>(cx: &mut X, ptr: u32) -> Result<Self, Trap> {
                let fields = [$(($t::SIZE, $t::ALIGN)),+];
                Ok(($($t::load(cx, ptr + field_offset(&fields, $n))?,)+))
            }
        }
    };
}

tuple!(0 A);
tuple!(0 A, 1 B);
tuple!(0 A, 1 B, 2 C);
tuple!(0 A, 1 B, 2 C, 3 D);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 G);

/// Declare a Rust struct that stands for a component record in typed calls
/// ([`ComponentInstance::typed_func`](crate::component::ComponentInstance::typed_func),
/// [`HostImports::func_wrap`](crate::component::HostImports::func_wrap)): its fields, in
/// order and with `_` for WIT's `-`, must be the record's.
///
/// ```ignore
/// weld_runtime::component_record! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct Person { pub id: u32, pub full_name: String }   // record { id, full-name }
/// }
/// ```
#[macro_export]
macro_rules! component_record {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($fvis:vis $field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$meta])* $vis struct $name { $($fvis $field: $ty),+ }
        $crate::__component_record_impl!($name { $($field: $ty = stringify!($field)),+ });
    };
}

/// The typed-call traits of a record struct `$name` whose fields are `$field: $ty`, named
/// `$wit` in WIT (or in Rust's spelling, `_` for `-`). For [`component_record!`] and generated
/// bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __component_record_impl {
    ($name:ident { $($field:ident : $ty:ty = $wit:expr),+ $(,)? }) => {
        impl $crate::component::ComponentType for $name {
            const FLAT: usize = 0 $(+ <$ty as $crate::component::ComponentType>::FLAT)+;
            const SIZE: u32 = $crate::component::typed_records::record_layout(&[$((
                <$ty as $crate::component::ComponentType>::SIZE,
                <$ty as $crate::component::ComponentType>::ALIGN,
            )),+]).0;
            const ALIGN: u32 = $crate::component::typed_records::record_layout(&[$((
                <$ty as $crate::component::ComponentType>::SIZE,
                <$ty as $crate::component::ComponentType>::ALIGN,
            )),+]).1;
            fn typecheck(types: &[$crate::component::TypeDef], ty: u32) -> bool {
                $crate::component::typed_records::record_typecheck(types, ty, &[$((
                    $wit,
                    <$ty as $crate::component::ComponentType>::typecheck
                        as $crate::component::typed_records::FieldCheck,
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
                let mut at = 0;
                $(
                    let n = <$ty as $crate::component::ComponentType>::FLAT;
                    let slots = $crate::component::typed_records::slots_mut(out, at, n)?;
                    $crate::component::Lower::lower(&self.$field, cx, slots)?;
                    at += n;
                )+
                Ok(())
            }
            #[allow(unused_assignments)]
            fn store<X: $crate::component::CanonCx + ?Sized>(
                &self,
                cx: &mut X,
                ptr: u32,
            ) -> Result<(), $crate::trap::Trap> {
                let fields = [$((
                    <$ty as $crate::component::ComponentType>::SIZE,
                    <$ty as $crate::component::ComponentType>::ALIGN,
                )),+];
                let mut k = 0;
                $(
                    let at = ptr + $crate::component::typed_records::field_offset(&fields, k);
                    $crate::component::Lower::store(&self.$field, cx, at)?;
                    k += 1;
                )+
                Ok(())
            }
        }

        impl $crate::component::Lift for $name {
            #[allow(unused_assignments)]
            fn lift<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                flat: &[$crate::component::ValRaw],
            ) -> Result<Self, $crate::trap::Trap> {
                let mut at = 0;
                Ok($name { $($field: {
                    let n = <$ty as $crate::component::ComponentType>::FLAT;
                    let slots = $crate::component::typed_records::slots(flat, at, n)?;
                    at += n;
                    <$ty as $crate::component::Lift>::lift(cx, slots)?
                }),+ })
            }
            #[allow(unused_assignments)]
            fn load<X: $crate::component::CanonCx + ?Sized>(
                cx: &mut X,
                ptr: u32,
            ) -> Result<Self, $crate::trap::Trap> {
                let fields = [$((
                    <$ty as $crate::component::ComponentType>::SIZE,
                    <$ty as $crate::component::ComponentType>::ALIGN,
                )),+];
                let mut k = 0;
                Ok($name { $($field: {
                    let at = ptr + $crate::component::typed_records::field_offset(&fields, k);
                    k += 1;
                    <$ty as $crate::component::Lift>::load(cx, at)?
                }),+ })
            }
        }
    };
}
