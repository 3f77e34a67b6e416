//! Component values in `.wast` scripts: conversion of `WastVal` arguments to the runtime's
//! [`Val`] and comparison of results with the expected `WastVal`.

use wast::component::WastVal;
use weld_runtime::component::Val;

/// Convert an argument.
pub fn to_val(v: &WastVal<'_>) -> Val {
    match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(f) => Val::F32(f32::from_bits(f.bits)),
        WastVal::F64(f) => Val::F64(f64::from_bits(f.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String(s.to_string()),
        WastVal::List(l) => Val::List(l.iter().map(to_val).collect()),
        WastVal::Record(f) => {
            Val::Record(f.iter().map(|(n, v)| (n.to_string(), to_val(v))).collect())
        }
        WastVal::Tuple(t) => Val::Tuple(t.iter().map(to_val).collect()),
        WastVal::Variant(n, p) => {
            Val::Variant(n.to_string(), p.as_ref().map(|p| Box::new(to_val(p))))
        }
        WastVal::Enum(n) => Val::Enum(n.to_string()),
        WastVal::Option(o) => Val::Option(o.as_ref().map(|p| Box::new(to_val(p)))),
        WastVal::Result(r) => Val::Result(match r {
            Ok(p) => Ok(p.as_ref().map(|p| Box::new(to_val(p)))),
            Err(p) => Err(p.as_ref().map(|p| Box::new(to_val(p)))),
        }),
        WastVal::Flags(f) => Val::Flags(f.iter().map(|n| n.to_string()).collect()),
    }
}

fn opt_matches(e: &Option<Box<WastVal<'_>>>, a: &Option<Box<Val>>) -> bool {
    match (e, a) {
        (None, None) => true,
        (Some(e), Some(a)) => matches(e, a),
        _ => false,
    }
}

/// Whether `actual` is the value `expected` describes (floats compare by bits, any NaN matches a
/// NaN; flags compare as sets).
pub fn matches(expected: &WastVal<'_>, actual: &Val) -> bool {
    match (expected, actual) {
        (WastVal::Bool(e), Val::Bool(a)) => e == a,
        (WastVal::U8(e), Val::U8(a)) => e == a,
        (WastVal::S8(e), Val::S8(a)) => e == a,
        (WastVal::U16(e), Val::U16(a)) => e == a,
        (WastVal::S16(e), Val::S16(a)) => e == a,
        (WastVal::U32(e), Val::U32(a)) => e == a,
        (WastVal::S32(e), Val::S32(a)) => e == a,
        (WastVal::U64(e), Val::U64(a)) => e == a,
        (WastVal::S64(e), Val::S64(a)) => e == a,
        (WastVal::F32(e), Val::F32(a)) => {
            let e = f32::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastVal::F64(e), Val::F64(a)) => {
            let e = f64::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastVal::Char(e), Val::Char(a)) => e == a,
        (WastVal::String(e), Val::String(a)) => e == a,
        (WastVal::List(e), Val::List(a)) | (WastVal::Tuple(e), Val::Tuple(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a))
        }
        (WastVal::Record(e), Val::Record(a)) => {
            e.len() == a.len()
                && e.iter()
                    .zip(a)
                    .all(|((en, ev), (an, av))| en == an && matches(ev, av))
        }
        (WastVal::Variant(en, ep), Val::Variant(an, ap)) => en == an && opt_matches(ep, ap),
        (WastVal::Enum(e), Val::Enum(a)) => e == a,
        (WastVal::Option(e), Val::Option(a)) => opt_matches(e, a),
        (WastVal::Result(Ok(e)), Val::Result(Ok(a)))
        | (WastVal::Result(Err(e)), Val::Result(Err(a))) => opt_matches(e, a),
        (WastVal::Flags(e), Val::Flags(a)) => {
            let mut e: Vec<&str> = e.to_vec();
            let mut a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            e.sort_unstable();
            a.sort_unstable();
            e == a
        }
        _ => false,
    }
}

/// Whether a component result matches an expectation the script wrote with a core form
/// (`f32.const`/`f64.const` are both core and component syntax; the parser reads them as core).
pub fn matches_core(expected: &wast::core::WastRetCore<'_>, actual: &Val) -> bool {
    use wast::core::{NanPattern, WastRetCore};
    match (expected, actual) {
        (WastRetCore::F32(NanPattern::Value(e)), Val::F32(a)) => {
            let e = f32::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastRetCore::F64(NanPattern::Value(e)), Val::F64(a)) => {
            let e = f64::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastRetCore::F32(_), Val::F32(a)) => a.is_nan(),
        (WastRetCore::F64(_), Val::F64(a)) => a.is_nan(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_compare_as_sets_and_nans_match_nans() {
        assert!(matches(
            &WastVal::Flags(vec!["b", "a"]),
            &Val::Flags(vec!["a".into(), "b".into()])
        ));
        assert!(matches(
            &WastVal::F32(wast::token::F32 { bits: 0x7fc0_0001 }),
            &Val::F32(f32::NAN)
        ));
        assert!(!matches(&WastVal::U32(1), &Val::S32(1)));
    }
}
