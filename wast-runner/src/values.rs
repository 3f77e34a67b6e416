//! Conversions between `.wast` values and the runtime's raw value slots, and the matching rules
//! of `assert_return` (NaN patterns, v128 lane patterns, reference patterns).
//!
//! References travel as 8-byte words: null is 0, `ref.extern N` and `ref.host N` are the host
//! value N as `weld_contract::gc` encodes it, a funcref is the address of its `VMFuncRef`, and
//! other `any` references are looked at through the store ([`RefKind`]).

use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};
use weld_contract::gc::{extern_from_host, RefWord};
use weld_contract::info::ValType;
use weld_contract::vmctx::ValRaw;
use weld_runtime::gc::RefKind;

/// What a reference word holds, as the store that made it says.
pub type Classify<'a> = &'a dyn Fn(u64) -> Option<RefKind>;

fn host_word(n: u32) -> i64 {
    extern_from_host(u64::from(n)).unwrap_or(0) as i64
}

/// Convert an argument; `Err` names what is not supported.
pub fn arg(a: &WastArg<'_>) -> Result<ValRaw, String> {
    match a {
        WastArg::Core(c) => Ok(match c {
            WastArgCore::I32(v) => ValRaw::i32(*v),
            WastArgCore::I64(v) => ValRaw::i64(*v),
            WastArgCore::F32(f) => ValRaw::f32(f.bits),
            WastArgCore::F64(f) => ValRaw::f64(f.bits),
            WastArgCore::V128(v) => ValRaw::from_u128(u128::from_le_bytes(v.to_le_bytes())),
            WastArgCore::RefNull(_) => ValRaw::i64(0),
            WastArgCore::RefExtern(n) | WastArgCore::RefHost(n) => ValRaw::i64(host_word(*n)),
        }),
        _ => Err("component values in a core invoke".into()),
    }
}

fn f32_matches(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn v128_matches(p: &V128Pattern, v: u128) -> bool {
    let b = v.to_le_bytes();
    match p {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| b[i] == *x as u8),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]) == *x as u16),
        V128Pattern::I32x4(l) => l.iter().enumerate().all(|(i, x)| {
            u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap_or([0; 4])) == *x as u32
        }),
        V128Pattern::I64x2(l) => l.iter().enumerate().all(|(i, x)| {
            u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or([0; 8])) == *x as u64
        }),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, p)| {
            f32_matches(
                p,
                u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap_or([0; 4])),
            )
        }),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| {
            f64_matches(
                p,
                u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or([0; 8])),
            )
        }),
    }
}

/// Whether `actual` (of type `ty`) matches the expected result.
pub fn matches(
    expected: &WastRet<'_>,
    actual: ValRaw,
    ty: ValType,
    kind: Classify<'_>,
) -> Result<bool, String> {
    let WastRet::Core(e) = expected else {
        return Err("component values in a core assertion".into());
    };
    core_matches(e, actual, ty, kind)
}

fn core_matches(
    e: &WastRetCore<'_>,
    actual: ValRaw,
    ty: ValType,
    kind: Classify<'_>,
) -> Result<bool, String> {
    let word = actual.get_i64();
    let any = |want: &dyn Fn(RefKind) -> bool| {
        ty == ValType::AnyRef && kind(word as u64).is_some_and(want)
    };
    Ok(match e {
        WastRetCore::I32(v) => ty == ValType::I32 && actual.get_i32() == *v,
        WastRetCore::I64(v) => ty == ValType::I64 && actual.get_i64() == *v,
        WastRetCore::F32(p) => ty == ValType::F32 && f32_matches(p, actual.get_f32()),
        WastRetCore::F64(p) => ty == ValType::F64 && f64_matches(p, actual.get_f64()),
        WastRetCore::V128(p) => ty == ValType::V128 && v128_matches(p, actual.get_u128()),
        WastRetCore::RefNull(_) => ty.is_ref() && actual.get_i64() == 0,
        WastRetCore::RefExtern(None) => ty == ValType::ExternRef && word != 0,
        WastRetCore::RefExtern(Some(n)) => ty == ValType::ExternRef && word == host_word(*n),
        WastRetCore::RefHost(n) => ty == ValType::AnyRef && word == host_word(*n),
        WastRetCore::RefFunc(_) => ty == ValType::FuncRef && word != 0,
        WastRetCore::RefAny => any(&|k| k != RefKind::Null),
        WastRetCore::RefEq => {
            any(&|k| matches!(k, RefKind::I31(_) | RefKind::Struct | RefKind::Array(_)))
        }
        WastRetCore::RefI31 => any(&|k| matches!(k, RefKind::I31(_))),
        WastRetCore::RefStruct => any(&|k| k == RefKind::Struct),
        WastRetCore::RefArray => any(&|k| matches!(k, RefKind::Array(_))),
        WastRetCore::Either(alts) => {
            for a in alts {
                if core_matches(a, actual, ty, kind)? {
                    return Ok(true);
                }
            }
            false
        }
        other => return Err(format!("result pattern {other:?}")),
    })
}

/// Display a raw value of a type, for failure messages.
pub fn show(v: ValRaw, ty: ValType) -> String {
    match ty {
        ValType::I32 => format!("i32:{}", v.get_i32()),
        ValType::I64 => format!("i64:{}", v.get_i64()),
        ValType::F32 => format!("f32:{} ({:#x})", f32::from_bits(v.get_f32()), v.get_f32()),
        ValType::F64 => format!("f64:{} ({:#x})", f64::from_bits(v.get_f64()), v.get_f64()),
        ValType::V128 => format!("v128:{:#034x}", v.get_u128()),
        ValType::FuncRef => format!("funcref:{:#x}", v.get_i64()),
        ValType::ExternRef => format!("externref:{:?}", RefWord::classify(v.get_i64() as u64)),
        ValType::AnyRef => format!("anyref:{:?}", RefWord::classify(v.get_i64() as u64)),
        ValType::ExnRef => format!("exnref:{:#x}", v.get_i64()),
    }
}

/// Display an expected result.
pub fn show_expected(e: &WastRet<'_>) -> String {
    match e {
        WastRet::Core(c) => format!("{c:?}"),
        _ => "a component value".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_nan_pattern_accepts_only_canonical_nans() {
        let p = NanPattern::CanonicalNan;
        assert!(f32_matches(&p, 0x7fc0_0000));
        assert!(f32_matches(&p, 0xffc0_0000));
        assert!(!f32_matches(&p, 0x7fc0_0001));
        assert!(!f32_matches(&p, 0x3f80_0000));
    }

    #[test]
    fn arithmetic_nan_pattern_needs_the_quiet_bit() {
        let p = NanPattern::ArithmeticNan;
        assert!(f64_matches(&p, 0x7ff8_0000_0000_0001));
        assert!(!f64_matches(&p, 0x7ff0_0000_0000_0001));
    }
}
