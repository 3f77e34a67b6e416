//! The plan of a fused call, defined once: which lowerings of one component's lifted function
//! into another cross without `Val`s, and how each flat value crosses.
//!
//! In: the flattened [`ComponentInfo`] and a lowering's index. Out: a [`FusedPlan`] (one
//! [`FlatConv`] per flat parameter and for the result), or `None` when the lowering takes the
//! general path. The compiler builds its fused trampolines from this plan, and the runtime's
//! own fused path (taken when a compiled check fails, to raise the proper trap, or when the
//! runtime cannot back the compiled string copies) follows the same plan: both paths accept the
//! same calls and convert every value the same way, NaNs included.
//!
//! Covered: parameters that are bools, integers, floats, chars, records and tuples of those,
//! and strings UTF-8 on both sides (both memories and the callee's `realloc` present), at most
//! [`MAX_FLAT_PARAMS`] flat values; a result that is one such scalar (not a `char`: it would be
//! checked after the callee ran, when no path can be taken back), or nothing. Not covered:
//! components that use task-local context (`context.get`/`set`), kept by the general path.

use super::abi::MAX_FLAT_PARAMS;
use super::{ComponentInfo, LoweringTarget, StringEncoding, TypeDef};
use alloc::vec::Vec;

/// How one flat value crosses from caller to callee (or the result back): lifting from one
/// side then lowering into the other, as the Canonical ABI does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlatConv {
    /// 32- or 64-bit integers: as they are.
    Same,
    /// bool: zero stays zero, anything else becomes one.
    Bool,
    /// u8: the low 8 bits.
    U8,
    /// s8: the low 8 bits, sign-extended.
    S8,
    /// u16: the low 16 bits.
    U16,
    /// s16: the low 16 bits, sign-extended.
    S16,
    /// f32: a NaN becomes the canonical NaN (`canonicalize_nan32`, the deterministic profile).
    F32,
    /// f64: a NaN becomes the canonical NaN (`canonicalize_nan64`).
    F64,
    /// char: must be a Unicode scalar value (else `InvalidCharBitPattern`).
    Char,
    /// A UTF-8 string's offset in the caller's memory (the next value is its length), replaced
    /// by the offset of its copy in the callee's memory.
    StrPtr,
    /// A UTF-8 string's length in bytes (the previous value is its offset).
    StrLen,
}

impl FlatConv {
    /// The conversion of a scalar type; `None` for others.
    pub fn of(def: &TypeDef) -> Option<FlatConv> {
        Some(match def {
            TypeDef::Bool => FlatConv::Bool,
            TypeDef::U8 => FlatConv::U8,
            TypeDef::S8 => FlatConv::S8,
            TypeDef::U16 => FlatConv::U16,
            TypeDef::S16 => FlatConv::S16,
            TypeDef::U32 | TypeDef::S32 | TypeDef::U64 | TypeDef::S64 => FlatConv::Same,
            TypeDef::F32 => FlatConv::F32,
            TypeDef::F64 => FlatConv::F64,
            TypeDef::Char => FlatConv::Char,
            _ => return None,
        })
    }
}

/// How a fused call moves its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FusedPlan {
    /// One conversion per flat parameter.
    pub params: Vec<FlatConv>,
    /// The result's conversion; `None` for a function without a result.
    pub result: Option<FlatConv>,
}

impl FusedPlan {
    /// Whether a string crosses (then the caller's and callee's memories and the callee's
    /// `realloc` take part).
    pub fn has_strings(&self) -> bool {
        self.params.contains(&FlatConv::StrPtr)
    }
}

/// The flat conversions of a value of type `t` made of scalars, records and tuples.
fn scalars(types: &[TypeDef], t: u32, depth: u32, out: &mut Vec<FlatConv>) -> Option<()> {
    if depth > 64 {
        return None;
    }
    match types.get(t as usize)? {
        TypeDef::Record(fields) => {
            for (_, f) in fields {
                scalars(types, *f, depth + 1, out)?;
            }
        }
        TypeDef::Tuple(ts) => {
            for f in ts {
                scalars(types, *f, depth + 1, out)?;
            }
        }
        def => out.push(FlatConv::of(def)?),
    }
    Some(())
}

/// The plan of lowering `index`, if it is a fused call this plan covers (see the module docs).
pub fn fused_plan(info: &ComponentInfo, index: u32) -> Option<FusedPlan> {
    let l = info.lowerings.get(index as usize)?;
    let LoweringTarget::Lifted(callee) = &l.target else {
        return None;
    };
    let uses_context = info
        .lowerings
        .iter()
        .any(|x| matches!(&x.target, LoweringTarget::Builtin(n) if n.starts_with("Context")));
    if uses_context || callee.ty != l.ty {
        return None;
    }
    let strings_ok = l.opts.encoding == StringEncoding::Utf8
        && callee.opts.encoding == StringEncoding::Utf8
        && l.opts.memory.is_some()
        && callee.opts.memory.is_some()
        && callee.opts.realloc.is_some();
    let ft = info.func_types.get(l.ty as usize)?;
    let mut params = Vec::new();
    for (_, t) in &ft.params {
        if matches!(info.types.get(*t as usize)?, TypeDef::String) {
            if !strings_ok {
                return None;
            }
            params.extend([FlatConv::StrPtr, FlatConv::StrLen]);
        } else {
            scalars(&info.types, *t, 0, &mut params)?;
        }
    }
    let mut results = Vec::new();
    if let Some(r) = ft.result {
        scalars(&info.types, r, 0, &mut results)?;
    }
    let ok = params.len() <= MAX_FLAT_PARAMS
        && results.len() <= 1
        && !results.contains(&FlatConv::Char)
        && params.len() == l.core_params.len()
        && results.len() == l.core_results.len();
    ok.then(|| FusedPlan {
        params,
        result: results.first().copied(),
    })
}
