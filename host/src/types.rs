//! Rust types as component types: each [`WitType`] names its WIT type (in the spelling of
//! `weld_contract::component::world::type_text`, so a host's expectation compares as text with
//! what a plugin declares) and converts to and from the runtime's dynamic [`Val`].
//!
//! | Rust | WIT |
//! |---|---|
//! | `bool`, `u8`..`u64`, `i8`..`i64`, `f32`, `f64`, `char`, `String` | `bool`, `u8`..`u64`, `s8`..`s64`, `f32`, `f64`, `char`, `string` |
//! | `Vec<T>` | `list<T>` |
//! | `[T; N]` | `list<T, N>` |
//! | `BTreeMap<K, V>`, `HashMap<K, V>` | `map<K, V>` (entries in the map's order; duplicate keys from a component: the last wins) |
//! | `Option<T>` | `option<T>` |
//! | `Result<T, E>` (with `()` for no payload) | `result<T, E>` (`_` for none) |
//! | `(A, B, ...)` up to 8 | `tuple<A, B, ...>` |
//!
//! Parameters are tuples of these ([`WitParams`]); a function without a result returns `()`.

use crate::CallError;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use weld_runtime::{Trap, TrapCode, Val};

/// A Rust type with a component-model counterpart.
pub trait WitType: Sized {
    /// The WIT type text (`list<string>`).
    fn wit() -> String;
    /// The dynamic value.
    fn into_val(self) -> Val;
    /// Back from a dynamic value; `None` if it has another shape.
    fn from_val(v: Val) -> Option<Self>;
}

macro_rules! scalar {
    ($($t:ty => $wit:literal, $var:ident;)*) => {$(
        impl WitType for $t {
            fn wit() -> String {
                $wit.into()
            }
            fn into_val(self) -> Val {
                Val::$var(self)
            }
            fn from_val(v: Val) -> Option<Self> {
                match v {
                    Val::$var(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}

scalar! {
    bool => "bool", Bool;
    u8 => "u8", U8;
    u16 => "u16", U16;
    u32 => "u32", U32;
    u64 => "u64", U64;
    i8 => "s8", S8;
    i16 => "s16", S16;
    i32 => "s32", S32;
    i64 => "s64", S64;
    f32 => "f32", F32;
    f64 => "f64", F64;
    char => "char", Char;
    String => "string", String;
}

impl<T: WitType> WitType for Vec<T> {
    fn wit() -> String {
        format!("list<{}>", T::wit())
    }
    fn into_val(self) -> Val {
        Val::List(self.into_iter().map(T::into_val).collect())
    }
    fn from_val(v: Val) -> Option<Self> {
        match v {
            Val::List(items) => items.into_iter().map(T::from_val).collect(),
            _ => None,
        }
    }
}

impl<T: WitType, const N: usize> WitType for [T; N] {
    fn wit() -> String {
        format!("list<{}, {N}>", T::wit())
    }
    fn into_val(self) -> Val {
        Val::List(self.into_iter().map(T::into_val).collect())
    }
    fn from_val(v: Val) -> Option<Self> {
        let items: Vec<T> = Vec::from_val(v)?;
        items.try_into().ok()
    }
}

/// The `(key, value)` pairs of a map value: a list of 2-tuples, as the Canonical ABI has it.
fn map_entries<K: WitType, V: WitType>(v: Val) -> Option<Vec<(K, V)>> {
    let Val::List(items) = v else { return None };
    items
        .into_iter()
        .map(|e| match e {
            Val::Tuple(kv) => {
                let [k, v]: [Val; 2] = kv.try_into().ok()?;
                Some((K::from_val(k)?, V::from_val(v)?))
            }
            _ => None,
        })
        .collect()
}

fn map_val<K: WitType, V: WitType>(entries: impl Iterator<Item = (K, V)>) -> Val {
    Val::List(
        entries
            .map(|(k, v)| Val::Tuple(vec![k.into_val(), v.into_val()]))
            .collect(),
    )
}

impl<K: WitType + Ord, V: WitType> WitType for BTreeMap<K, V> {
    fn wit() -> String {
        format!("map<{}, {}>", K::wit(), V::wit())
    }
    fn into_val(self) -> Val {
        map_val(self.into_iter())
    }
    fn from_val(v: Val) -> Option<Self> {
        map_entries(v).map(|e| e.into_iter().collect())
    }
}

impl<K: WitType + Eq + Hash, V: WitType> WitType for HashMap<K, V> {
    fn wit() -> String {
        format!("map<{}, {}>", K::wit(), V::wit())
    }
    fn into_val(self) -> Val {
        map_val(self.into_iter())
    }
    fn from_val(v: Val) -> Option<Self> {
        map_entries(v).map(|e| e.into_iter().collect())
    }
}

impl<T: WitType> WitType for Option<T> {
    fn wit() -> String {
        format!("option<{}>", T::wit())
    }
    fn into_val(self) -> Val {
        Val::Option(self.map(|x| Box::new(x.into_val())))
    }
    fn from_val(v: Val) -> Option<Self> {
        match v {
            Val::Option(None) => Some(None),
            Val::Option(Some(x)) => T::from_val(*x).map(Some),
            _ => None,
        }
    }
}

/// A result payload: a [`WitType`], or `()` for none.
pub trait Payload: Sized {
    /// The payload's WIT text, `_` for none.
    fn wit() -> String;
    /// The dynamic payload.
    fn into_payload(self) -> Option<Box<Val>>;
    /// Back from a dynamic payload.
    fn from_payload(v: Option<Box<Val>>) -> Option<Self>;
}

impl Payload for () {
    fn wit() -> String {
        "_".into()
    }
    fn into_payload(self) -> Option<Box<Val>> {
        None
    }
    fn from_payload(v: Option<Box<Val>>) -> Option<Self> {
        v.is_none().then_some(())
    }
}

impl<T: WitType> Payload for T {
    fn wit() -> String {
        T::wit()
    }
    fn into_payload(self) -> Option<Box<Val>> {
        Some(Box::new(self.into_val()))
    }
    fn from_payload(v: Option<Box<Val>>) -> Option<Self> {
        T::from_val(*v?)
    }
}

impl<T: Payload, E: Payload> WitType for Result<T, E> {
    fn wit() -> String {
        format!("result<{}, {}>", T::wit(), E::wit())
    }
    fn into_val(self) -> Val {
        Val::Result(match self {
            Ok(t) => Ok(t.into_payload()),
            Err(e) => Err(e.into_payload()),
        })
    }
    fn from_val(v: Val) -> Option<Self> {
        match v {
            Val::Result(Ok(t)) => T::from_payload(t).map(Ok),
            Val::Result(Err(e)) => E::from_payload(e).map(Err),
            _ => None,
        }
    }
}

macro_rules! tuple {
    ($($n:ident)+) => {
        impl<$($n: WitType),+> WitType for ($($n,)+) {
            fn wit() -> String {
                let parts: Vec<String> = vec![$($n::wit()),+];
                format!("tuple<{}>", parts.join(", "))
            }
            #[allow(non_snake_case)]
            fn into_val(self) -> Val {
                let ($($n,)+) = self;
                Val::Tuple(vec![$($n.into_val()),+])
            }
            #[allow(non_snake_case)]
            fn from_val(v: Val) -> Option<Self> {
                let Val::Tuple(items) = v else { return None };
                let mut items = items.into_iter();
                $(let $n = $n::from_val(items.next()?)?;)+
                items.next().is_none().then_some(($($n,)+))
            }
        }

        impl<$($n: WitType),+> WitParams for ($($n,)+) {
            fn wit() -> Vec<String> {
                vec![$($n::wit()),+]
            }
            #[allow(non_snake_case)]
            fn into_vals(self) -> Vec<Val> {
                let ($($n,)+) = self;
                vec![$($n.into_val()),+]
            }
        }
    };
}

/// A function's parameters: a tuple of [`WitType`]s (`()` for none).
pub trait WitParams {
    /// Each parameter's WIT type.
    fn wit() -> Vec<String>;
    /// The dynamic values.
    fn into_vals(self) -> Vec<Val>;
}

impl WitParams for () {
    fn wit() -> Vec<String> {
        Vec::new()
    }
    fn into_vals(self) -> Vec<Val> {
        Vec::new()
    }
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);

/// A function's result: a [`WitType`], or `()` for a function without one.
pub trait WitResult: Sized {
    /// The result's WIT type, `None` for no result.
    fn wit() -> Option<String>;
    /// Back from the dynamic result.
    fn from_result(v: Option<Val>) -> Option<Self>;
}

impl WitResult for () {
    fn wit() -> Option<String> {
        None
    }
    fn from_result(v: Option<Val>) -> Option<Self> {
        v.is_none().then_some(())
    }
}

impl<T: WitType> WitResult for T {
    fn wit() -> Option<String> {
        Some(T::wit())
    }
    fn from_result(v: Option<Val>) -> Option<Self> {
        T::from_val(v?)
    }
}

/// For generated bindings: an export's result as `T` (another shape is [`CallError::Result`]).
pub fn result_of<T: WitResult>(out: Option<Val>) -> Result<T, CallError> {
    let shown = out.clone();
    T::from_result(out).ok_or_else(|| CallError::Result(shown.unwrap_or(Val::Tuple(Vec::new()))))
}

/// For generated bindings: an import's next argument as `T`; a missing or mistyped one traps
/// (`InvalidValue`), as the runtime checked the types and this cannot happen.
pub fn arg<T: WitType>(args: &mut impl Iterator<Item = Val>) -> Result<T, Trap> {
    args.next()
        .and_then(T::from_val)
        .ok_or_else(|| Trap::new(TrapCode::InvalidValue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: WitType + PartialEq + std::fmt::Debug + Clone>(x: T) {
        assert_eq!(T::from_val(x.clone().into_val()), Some(x));
    }

    #[test]
    fn rust_types_name_their_wit_types() {
        assert_eq!(
            <Vec<(u32, String)> as WitType>::wit(),
            "list<tuple<u32, string>>"
        );
        assert_eq!(
            <Result<Option<i64>, ()> as WitType>::wit(),
            "result<option<s64>, _>"
        );
        assert_eq!(<(u8, char) as WitParams>::wit(), ["u8", "char"]);
        assert_eq!(<() as WitResult>::wit(), None);
    }

    #[test]
    fn values_round_trip_and_other_shapes_are_refused() {
        round_trip(vec![(1u32, "a".to_string()), (2, "b".into())]);
        round_trip::<Result<u8, String>>(Err("no".into()));
        round_trip::<Result<(), ()>>(Ok(()));
        round_trip(Some(-3i16));
        round_trip('é');
        assert_eq!(u32::from_val(Val::S32(1)), None);
        assert_eq!(<(u8, u8)>::from_val(Val::Tuple(vec![Val::U8(1)])), None);
    }

    #[test]
    fn arrays_are_fixed_length_lists_and_maps_are_lists_of_entries() {
        assert_eq!(<[u16; 4] as WitType>::wit(), "list<u16, 4>");
        assert_eq!(
            <BTreeMap<String, Vec<u8>> as WitType>::wit(),
            "map<string, list<u8>>"
        );
        assert_eq!(<HashMap<char, bool> as WitType>::wit(), "map<char, bool>");
        round_trip([1u16, 2, 3, 4]);
        round_trip(BTreeMap::from([("a".to_string(), 1u32), ("b".into(), 2)]));
        round_trip(HashMap::from([('x', true)]));
        // The map's value is what the Canonical ABI carries: a list of (key, value) tuples.
        let v = BTreeMap::from([(1u8, 2u8)]).into_val();
        assert_eq!(v, Val::List(vec![Val::Tuple(vec![Val::U8(1), Val::U8(2)])]));
        // A component may send a key twice: the last value wins.
        let twice = Val::List(vec![
            Val::Tuple(vec![Val::U8(1), Val::U8(2)]),
            Val::Tuple(vec![Val::U8(1), Val::U8(3)]),
        ]);
        assert_eq!(
            BTreeMap::from_val(twice),
            Some(BTreeMap::from([(1u8, 3u8)]))
        );
        assert_eq!(<[u8; 2]>::from_val(Val::List(vec![Val::U8(1)])), None);
    }
}
