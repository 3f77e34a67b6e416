//! Lists in typed calls: `Vec<T>` and `[T]` as `list<T>`, `[T; N]` as the fixed-length
//! `list<T, N>`, `BTreeMap<K, V>` (and `HashMap` with `std`) as `map<K, V>`, for any element
//! types of the typed path.
//!
//! In: Rust values and one side's memory ([`CanonCx`]). Out: flat values or bytes in that
//! memory, laid out by the element's [`ComponentType`] constants. A `list<T>` lowers into a
//! buffer from the side's `realloc` (checked as the spec's `store_list_into_range` does) and
//! lifts after the alignment and bounds checks of `load_list_from_range`; a fixed-length list
//! is inline, element after element, flat or in memory like a record.

use super::typed_values::{out_slot, read, slot, ComponentType, Lift, Lower};
use crate::component::abi::{alloc_checked, CanonCx};
use crate::trap::Trap;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
#[cfg(feature = "std")]
use std::collections::HashMap;
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

fn bad() -> Trap {
    Trap::new(TrapCode::InvalidValue)
}

impl<T: ComponentType> ComponentType for [T] {
    const FLAT: usize = 2;
    const SIZE: u32 = 8;
    const ALIGN: u32 = 4;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        matches!(types.get(ty as usize), Some(TypeDef::List(e)) if T::typecheck(types, *e))
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    const FLAT: usize = 2;
    const SIZE: u32 = 8;
    const ALIGN: u32 = 4;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        <[T]>::typecheck(types, ty)
    }
}

/// Store the elements into a fresh buffer of the side; its `(ptr, len)`.
fn store_elements<T: Lower, C: CanonCx + ?Sized>(
    cx: &mut C,
    items: &[T],
) -> Result<(u32, u32), Trap> {
    let len = u32::try_from(items.len()).map_err(|_| bad())?;
    let bytes = u32::try_from(u64::from(len) * u64::from(T::SIZE)).map_err(|_| bad())?;
    let ptr = alloc_checked(cx, 0, 0, T::ALIGN, bytes, TrapCode::ListOutOfBounds)?;
    for (i, item) in (0u32..).zip(items) {
        item.store(cx, ptr + i * T::SIZE)?;
    }
    Ok((ptr, len))
}

/// The elements of the list at `ptr` of `len` elements, checked as `load_list_from_range`.
fn load_elements<T: Lift, C: CanonCx + ?Sized>(
    cx: &mut C,
    ptr: u32,
    len: u32,
) -> Result<Vec<T>, Trap> {
    if !ptr.is_multiple_of(T::ALIGN.max(1)) {
        return Err(Trap::new(TrapCode::UnalignedPointer));
    }
    let end = u64::from(ptr) + u64::from(len) * u64::from(T::SIZE);
    if end > cx.memory()?.len() as u64 {
        return Err(Trap::new(TrapCode::ListOutOfBounds));
    }
    // Rust values may be larger than their guest form: reserve a bounded amount up front.
    let mut out = Vec::with_capacity((len as usize).min(4096));
    for i in 0..len {
        out.push(T::load(cx, ptr + i * T::SIZE)?);
    }
    Ok(out)
}

impl<T: Lower> Lower for [T] {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        let (ptr, len) = store_elements(cx, self)?;
        *out_slot(out, 0)? = ValRaw::i32(ptr as i32);
        *out_slot(out, 1)? = ValRaw::i32(len as i32);
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        let (p, len) = store_elements(cx, self)?;
        p.store(cx, ptr)?;
        len.store(cx, ptr + 4)
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        self.as_slice().lower(cx, out)
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        self.as_slice().store(cx, ptr)
    }
}

impl<T: Lift> Lift for Vec<T> {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        let ptr = slot(flat, 0)?.get_i32() as u32;
        let len = slot(flat, 1)?.get_i32() as u32;
        load_elements(cx, ptr, len)
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        let p = u32::from_le_bytes(read(cx, ptr)?);
        let len = u32::from_le_bytes(read(cx, ptr + 4)?);
        load_elements(cx, p, len)
    }
}

impl<T: ComponentType, const N: usize> ComponentType for [T; N] {
    const FLAT: usize = T::FLAT * N;
    const SIZE: u32 = T::SIZE * N as u32;
    const ALIGN: u32 = T::ALIGN;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        matches!(types.get(ty as usize),
            Some(TypeDef::FixedList { elem, len }) if *len as usize == N && T::typecheck(types, *elem))
    }
}

impl<T: Lower, const N: usize> Lower for [T; N] {
    fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
        if out.len() < Self::FLAT {
            return Err(bad());
        }
        for (item, slots) in self.iter().zip(out.chunks_mut(T::FLAT.max(1))) {
            item.lower(cx, slots)?;
        }
        Ok(())
    }
    fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
        for (i, item) in (0u32..).zip(self) {
            item.store(cx, ptr + i * T::SIZE)?;
        }
        Ok(())
    }
}

impl<T: Lift, const N: usize> Lift for [T; N] {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        let mut out = Vec::with_capacity(N);
        for slots in flat.chunks(T::FLAT.max(1)).take(N) {
            out.push(T::lift(cx, slots)?);
        }
        out.try_into().map_err(|_| bad())
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        let mut out = Vec::with_capacity(N);
        for i in 0..N as u32 {
            out.push(T::load(cx, ptr + i * T::SIZE)?);
        }
        out.try_into().map_err(|_| bad())
    }
}

/// Whether `ty` is a map whose entry tuple is `(K, V)`.
fn map_typecheck<K: ComponentType, V: ComponentType>(types: &[TypeDef], ty: u32) -> bool {
    matches!(types.get(ty as usize), Some(TypeDef::Map { entry }) if <(K, V)>::typecheck(types, *entry))
}

/// Maps: `map<K, V>` is `list<tuple<K, V>>` to the Canonical ABI; entries cross in the map's
/// order, and a key a component sends twice keeps its last value.
macro_rules! map_type {
    ($map:ident, $($bound:tt)+) => {
        impl<K: ComponentType + $($bound)+, V: ComponentType> ComponentType for $map<K, V> {
            const FLAT: usize = 2;
            const SIZE: u32 = 8;
            const ALIGN: u32 = 4;
            fn typecheck(types: &[TypeDef], ty: u32) -> bool {
                map_typecheck::<K, V>(types, ty)
            }
        }

        impl<K: Lower + $($bound)+, V: Lower> Lower for $map<K, V> {
            fn lower<C: CanonCx + ?Sized>(&self, cx: &mut C, out: &mut [ValRaw]) -> Result<(), Trap> {
                let entries: Vec<(&K, &V)> = self.iter().collect();
                entries.as_slice().lower(cx, out)
            }
            fn store<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32) -> Result<(), Trap> {
                let entries: Vec<(&K, &V)> = self.iter().collect();
                entries.as_slice().store(cx, ptr)
            }
        }

        impl<K: Lift + $($bound)+, V: Lift> Lift for $map<K, V> {
            fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
                Ok(Vec::<(K, V)>::lift(cx, flat)?.into_iter().collect())
            }
            fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
                Ok(Vec::<(K, V)>::load(cx, ptr)?.into_iter().collect())
            }
        }
    };
}

map_type!(BTreeMap, Ord);
#[cfg(feature = "std")]
map_type!(HashMap, Eq + core::hash::Hash);
