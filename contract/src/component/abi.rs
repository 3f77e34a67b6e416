//! The Canonical ABI's rules, defined once for the compiler and the runtime: alignment, size
//! and flattening of component value types (`alignment`, `elem_size`, `flatten_type` and
//! `flatten_functype` of the spec's `definitions.py`), discriminant sizes, and the limits
//! (`MAX_FLAT_PARAMS`, `MAX_FLAT_RESULTS`, `MAX_STRING_BYTE_LENGTH`), computed over the
//! interned type arena of a [`ComponentInfo`](super::ComponentInfo).
//!
//! In: type indices into the arena. Out: numbers and flat core types. The compiler plans its
//! trampolines and lowered signatures with these, the runtime lifts and lowers with them, and
//! [`super::clayout`] builds the C layout on the same discriminant and alignment rules; no
//! crate has a second copy.
//!
//! Specialised types are "despecialised" on the fly: a tuple is laid out as a record, an enum,
//! option or result as a variant (see [`Types::cases`]; `align`, `size` and `flatten` walk the
//! definitions in place). Type indices are checked when a component is loaded (in range, no
//! cycles); should an unchecked arena reach this code anyway, a bad index reads as `bool`
//! instead of panicking.

use super::TypeDef;
use alloc::vec;
use alloc::vec::Vec;

/// Flat parameters beyond this many are passed in memory, through one pointer.
pub const MAX_FLAT_PARAMS: usize = 16;
/// Flat results beyond this many are returned through memory.
pub const MAX_FLAT_RESULTS: usize = 1;
/// Most flat parameters an async lower passes directly (more go through one pointer).
pub const MAX_FLAT_ASYNC_PARAMS: usize = 4;
/// The longest string, in bytes, the Canonical ABI moves (`MAX_STRING_BYTE_LENGTH`).
pub const MAX_STRING_BYTE_LENGTH: u64 = (1 << 31) - 1;
/// The canonical NaN of f32 (`CANONICAL_FLOAT32_NAN`): what lifting makes of every f32 NaN.
pub const CANONICAL_F32_NAN: u32 = 0x7fc0_0000;
/// The canonical NaN of f64 (`CANONICAL_FLOAT64_NAN`).
pub const CANONICAL_F64_NAN: u64 = 0x7ff8_0000_0000_0000;
/// Every value type's `elem_size` is below this (validation refuses larger fixed-length lists).
pub const MAX_VALUE_BYTE_SIZE: u32 = 1 << 28;
/// How far [`Types::flatten`] counts: a fixed-length list may flatten to millions of core
/// values, but every flattening longer than [`MAX_FLAT_PARAMS`] is passed in memory, so beyond
/// this many the exact length never matters and flattening stops.
pub const FLAT_COUNT_LIMIT: usize = 4 * MAX_FLAT_PARAMS;
/// The bit of a Latin-1+UTF-16 string's length that says "UTF-16" (`UTF16_TAG`).
pub const UTF16_TAG: u32 = 1 << 31;

/// A core value type of the flattened ABI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flat {
    /// i32
    I32,
    /// i64
    I64,
    /// f32
    F32,
    /// f64
    F64,
}

/// `join` of two flat types in a variant's payload position.
pub fn join(a: Flat, b: Flat) -> Flat {
    match (a, b) {
        (a, b) if a == b => a,
        (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32) => Flat::I32,
        _ => Flat::I64,
    }
}

/// Round `n` up to a multiple of `align` (a power of two), saturating.
pub const fn align_to(n: u32, align: u32) -> u32 {
    let mask = if align == 0 { 0 } else { align - 1 };
    n.saturating_add(mask) & !mask
}

/// Size in bytes of a variant discriminant for `n` cases.
pub const fn discriminant_size(n: usize) -> u32 {
    if n <= 1 << 8 {
        1
    } else if n <= 1 << 16 {
        2
    } else {
        4
    }
}

/// Number of i32 words a flags value of `n` labels flattens to.
pub fn flag_words(n: usize) -> usize {
    n.div_ceil(32)
}

static FALLBACK: TypeDef = TypeDef::Bool;

/// A view of a type arena, laid out for one memory's pointer size: 4 bytes for a 32-bit
/// memory, 8 for a 64-bit one (the Canonical ABI's `ptr_size`; strings and lists are a pointer
/// and a length of that size, and flatten to two values of the memory's index type).
#[derive(Clone, Copy, Debug)]
pub struct Types<'a> {
    defs: &'a [TypeDef],
    ptr: u32,
}

impl<'a> Types<'a> {
    /// Wrap an arena, for a 32-bit memory.
    pub fn new(defs: &'a [TypeDef]) -> Types<'a> {
        Types { defs, ptr: 4 }
    }

    /// Wrap an arena, for a 64-bit memory (memory64).
    pub fn memory64(defs: &'a [TypeDef]) -> Types<'a> {
        Types { defs, ptr: 8 }
    }

    /// The same arena laid out for a 64-bit memory when `wide`, else a 32-bit one.
    pub fn with_memory64(self, wide: bool) -> Types<'a> {
        Types {
            defs: self.defs,
            ptr: if wide { 8 } else { 4 },
        }
    }

    /// `ptr_size`: 4 or 8.
    pub fn ptr_size(&self) -> u32 {
        self.ptr
    }

    /// The core type of a pointer or length: `ptr_type`.
    pub fn ptr_flat(&self) -> Flat {
        if self.ptr == 8 {
            Flat::I64
        } else {
            Flat::I32
        }
    }

    /// The definition of `t`.
    pub fn get(&self, t: u32) -> &'a TypeDef {
        self.defs.get(t as usize).unwrap_or(&FALLBACK)
    }

    /// The element type of a variable-length list: `list<T>`'s `T`, or a map's entry tuple
    /// (a map is `list<tuple<K, V>>` to the Canonical ABI).
    pub fn list_elem(&self, t: u32) -> Option<u32> {
        match self.get(t) {
            TypeDef::List(e) | TypeDef::Map { entry: e } => Some(*e),
            _ => None,
        }
    }

    /// The element type of any list: `list<T>`, `list<T, N>`, or a map's entry tuple.
    pub fn element(&self, t: u32) -> Option<u32> {
        match self.get(t) {
            TypeDef::FixedList { elem, .. } => Some(*elem),
            _ => self.list_elem(t),
        }
    }

    /// A map's key and value types.
    pub fn map_key_value(&self, t: u32) -> Option<(u32, u32)> {
        match self.get(t) {
            TypeDef::Map { entry } => match self.get(*entry) {
                TypeDef::Tuple(kv) => match kv[..] {
                    [k, v] => Some((k, v)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The payload types of a variant-like type (variant, enum, option, result), by case index;
    /// `None` for other types.
    pub fn cases(&self, t: u32) -> Option<Vec<Option<u32>>> {
        Some(match self.get(t) {
            TypeDef::Variant(cases) => cases.iter().map(|(_, t)| *t).collect(),
            TypeDef::Enum(names) => vec![None; names.len()],
            TypeDef::Option(t) => vec![None, Some(*t)],
            TypeDef::Result { ok, err } => vec![*ok, *err],
            _ => return None,
        })
    }

    /// Calls `f` with each payload type of a variant-like type (variant, enum, option, result)
    /// and returns its number of cases; `None` for other types. Allocation-free: layouts are
    /// computed on every call that lifts or lowers.
    fn each_payload(&self, t: u32, mut f: impl FnMut(u32)) -> Option<usize> {
        match self.get(t) {
            TypeDef::Variant(cases) => {
                cases.iter().filter_map(|(_, p)| *p).for_each(f);
                Some(cases.len())
            }
            TypeDef::Enum(names) => Some(names.len()),
            TypeDef::Option(p) => {
                f(*p);
                Some(2)
            }
            TypeDef::Result { ok, err } => {
                ok.iter().chain(err.iter()).copied().for_each(f);
                Some(2)
            }
            _ => None,
        }
    }

    /// Calls `f` with each field type of a record or tuple; false for other types.
    fn each_field(&self, t: u32, f: impl FnMut(u32)) -> bool {
        match self.get(t) {
            TypeDef::Record(fields) => fields.iter().map(|(_, t)| *t).for_each(f),
            TypeDef::Tuple(ts) => ts.iter().copied().for_each(f),
            _ => return false,
        }
        true
    }

    /// The case count, largest payload alignment (at least 1) and largest payload size of a
    /// variant-like type.
    fn variant_shape(&self, t: u32) -> (usize, u32, u32) {
        let (mut align, mut size) = (1, 0);
        let n = self
            .each_payload(t, |p| {
                align = align.max(self.align(p));
                size = size.max(self.size(p));
            })
            .unwrap_or(0);
        (n, align, size)
    }

    /// `alignment(t)`.
    pub fn align(&self, t: u32) -> u32 {
        match self.get(t) {
            TypeDef::Bool | TypeDef::S8 | TypeDef::U8 => 1,
            TypeDef::S16 | TypeDef::U16 => 2,
            TypeDef::S32 | TypeDef::U32 | TypeDef::F32 | TypeDef::Char => 4,
            TypeDef::S64 | TypeDef::U64 | TypeDef::F64 => 8,
            TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. } => self.ptr,
            TypeDef::Own(_)
            | TypeDef::Borrow(_)
            | TypeDef::Stream(_)
            | TypeDef::Future(_)
            | TypeDef::ErrorContext => 4,
            TypeDef::FixedList { elem, .. } => self.align(*elem),
            TypeDef::Record(_) | TypeDef::Tuple(_) => {
                let mut a = 1;
                self.each_field(t, |f| a = a.max(self.align(f)));
                a
            }
            TypeDef::Flags(names) => match names.len() {
                0..=8 => 1,
                9..=16 => 2,
                _ => 4,
            },
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => {
                let mut a = 1;
                let n = self
                    .each_payload(t, |p| a = a.max(self.align(p)))
                    .unwrap_or(0);
                discriminant_size(n).max(a)
            }
        }
    }

    /// `elem_size(t)`.
    pub fn size(&self, t: u32) -> u32 {
        match self.get(t) {
            TypeDef::Bool | TypeDef::S8 | TypeDef::U8 => 1,
            TypeDef::S16 | TypeDef::U16 => 2,
            TypeDef::S32 | TypeDef::U32 | TypeDef::F32 | TypeDef::Char => 4,
            TypeDef::S64 | TypeDef::U64 | TypeDef::F64 => 8,
            TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. } => 2 * self.ptr,
            TypeDef::FixedList { elem, len } => self.size(*elem).saturating_mul(*len),
            TypeDef::Own(_)
            | TypeDef::Borrow(_)
            | TypeDef::Stream(_)
            | TypeDef::Future(_)
            | TypeDef::ErrorContext => 4,
            TypeDef::Record(_) | TypeDef::Tuple(_) => {
                let (mut s, mut a) = (0u32, 1);
                self.each_field(t, |f| {
                    let fa = self.align(f);
                    s = align_to(s, fa).saturating_add(self.size(f));
                    a = a.max(fa);
                });
                align_to(s, a)
            }
            TypeDef::Flags(names) => match names.len() {
                0 => 0,
                1..=8 => 1,
                9..=16 => 2,
                n => 4 * flag_words(n) as u32,
            },
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => {
                let (n, case_align, payload) = self.variant_shape(t);
                let s = align_to(discriminant_size(n), case_align).saturating_add(payload);
                align_to(s, discriminant_size(n).max(case_align))
            }
        }
    }

    /// Alignment of a record with these field types (also of a tuple of parameters).
    pub fn record_align(&self, fields: &[u32]) -> u32 {
        fields.iter().map(|f| self.align(*f)).max().unwrap_or(1)
    }

    /// Size of a record with these field types.
    pub fn record_size(&self, fields: &[u32]) -> u32 {
        let mut s = 0u32;
        for f in fields {
            s = align_to(s, self.align(*f)).saturating_add(self.size(*f));
        }
        align_to(s, self.record_align(fields))
    }

    /// Byte offset of each field of a record with these field types.
    pub fn field_offsets(&self, fields: &[u32]) -> Vec<u32> {
        let mut s = 0u32;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            s = align_to(s, self.align(*f));
            out.push(s);
            s = s.saturating_add(self.size(*f));
        }
        out
    }

    /// `max_case_alignment`.
    pub fn max_case_align(&self, cases: &[Option<u32>]) -> u32 {
        cases
            .iter()
            .flatten()
            .map(|c| self.align(*c))
            .max()
            .unwrap_or(1)
    }

    /// Offset of a variant's payload from its start.
    pub fn payload_offset(&self, cases: &[Option<u32>]) -> u32 {
        align_to(discriminant_size(cases.len()), self.max_case_align(cases))
    }

    /// `flatten_type(t)`, appended to `out`; exact up to [`FLAT_COUNT_LIMIT`] values, longer
    /// flattenings are cut short (still longer than the limit).
    pub fn flatten(&self, t: u32, out: &mut Vec<Flat>) {
        match self.get(t) {
            TypeDef::Bool
            | TypeDef::S8
            | TypeDef::U8
            | TypeDef::S16
            | TypeDef::U16
            | TypeDef::S32
            | TypeDef::U32
            | TypeDef::Char
            | TypeDef::Own(_)
            | TypeDef::Borrow(_)
            | TypeDef::Stream(_)
            | TypeDef::Future(_)
            | TypeDef::ErrorContext => out.push(Flat::I32),
            TypeDef::S64 | TypeDef::U64 => out.push(Flat::I64),
            TypeDef::F32 => out.push(Flat::F32),
            TypeDef::F64 => out.push(Flat::F64),
            TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. } => {
                out.extend([self.ptr_flat(); 2])
            }
            TypeDef::FixedList { elem, len } => {
                for _ in 0..*len {
                    if out.len() > FLAT_COUNT_LIMIT {
                        break;
                    }
                    self.flatten(*elem, out);
                }
            }
            TypeDef::Record(_) | TypeDef::Tuple(_) => {
                self.each_field(t, |f| self.flatten(f, out));
            }
            TypeDef::Flags(names) => out.extend(vec![Flat::I32; flag_words(names.len())]),
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => {
                // The discriminant, then each payload position joined over the cases.
                out.push(Flat::I32);
                let start = out.len();
                let mut scratch = Vec::new();
                self.each_payload(t, |p| self.join_payload(p, out, start, &mut scratch));
            }
        }
    }

    /// Join payload type `p`'s flattening into the payload positions `out[start..]`, growing
    /// them as needed (`scratch` is working space).
    fn join_payload(&self, p: u32, out: &mut Vec<Flat>, start: usize, scratch: &mut Vec<Flat>) {
        scratch.clear();
        self.flatten(p, scratch);
        for (i, ft) in scratch.iter().enumerate() {
            match out.get_mut(start + i) {
                Some(have) => *have = join(*have, *ft),
                None => out.push(*ft),
            }
        }
    }

    /// `flatten_variant`: the discriminant then the joined payload positions.
    pub fn flatten_variant(&self, cases: &[Option<u32>]) -> Vec<Flat> {
        let mut out = vec![Flat::I32];
        let mut scratch = Vec::new();
        for p in cases.iter().flatten() {
            self.join_payload(*p, &mut out, 1, &mut scratch);
        }
        out
    }

    /// `flatten_types` of a list of types.
    pub fn flatten_all(&self, ts: &[u32]) -> Vec<Flat> {
        let mut out = Vec::new();
        for t in ts {
            self.flatten(*t, &mut out);
        }
        out
    }

    /// The number of flat values of `t`.
    pub fn flat_count(&self, t: u32) -> usize {
        let mut out = Vec::new();
        self.flatten(t, &mut out);
        out.len()
    }
}

/// Flattened core signature of a function: `flatten_functype(ft, context)`.
pub fn flatten_functype(
    types: Types<'_>,
    params: &[u32],
    result: Option<u32>,
    lower: bool,
) -> (Vec<Flat>, Vec<Flat>) {
    let mut flat_params = types.flatten_all(params);
    if flat_params.len() > MAX_FLAT_PARAMS {
        flat_params = vec![types.ptr_flat()];
    }
    let mut flat_results = types.flatten_all(result.as_slice());
    if flat_results.len() > MAX_FLAT_RESULTS {
        if lower {
            flat_params.push(types.ptr_flat());
            flat_results.clear();
        } else {
            flat_results = vec![types.ptr_flat()];
        }
    }
    (flat_params, flat_results)
}

/// Where an `async` canonical function is flattened (the spec's `flatten_functype` with the
/// `async` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncContext {
    /// `canon lift async` with a `callback`: the core function returns the packed callback
    /// code.
    LiftCallback,
    /// `canon lift async` without one (stackful): the core function returns nothing; it
    /// hands its results to `task.return`.
    LiftStackful,
    /// `canon lower async`: more than [`MAX_FLAT_ASYNC_PARAMS`] parameters go through one
    /// pointer, a result always through one more, and the core function returns the packed
    /// subtask state.
    Lower,
}

/// The core signature of `canon lift` (`lift`) or `canon lower` of `ft` with options `opts`:
/// [`flatten_functype`], or [`flatten_async_functype`] under the `async` option.
pub fn canon_signature(
    types: Types<'_>,
    ft: &super::FuncTy,
    opts: &super::CanonOpts,
    lift: bool,
) -> (Vec<Flat>, Vec<Flat>) {
    let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
    if !opts.async_ {
        return flatten_functype(types, &params, ft.result, !lift);
    }
    let context = match (lift, opts.callback.is_some()) {
        (true, true) => AsyncContext::LiftCallback,
        (true, false) => AsyncContext::LiftStackful,
        (false, _) => AsyncContext::Lower,
    };
    flatten_async_functype(types, &params, ft.result, context)
}

/// Flattened core signature of an `async` lift or lower.
pub fn flatten_async_functype(
    types: Types<'_>,
    params: &[u32],
    result: Option<u32>,
    context: AsyncContext,
) -> (Vec<Flat>, Vec<Flat>) {
    let mut flat_params = types.flatten_all(params);
    let limit = match context {
        AsyncContext::Lower => MAX_FLAT_ASYNC_PARAMS,
        AsyncContext::LiftCallback | AsyncContext::LiftStackful => MAX_FLAT_PARAMS,
    };
    if flat_params.len() > limit {
        flat_params = vec![types.ptr_flat()];
    }
    let flat_results = match context {
        AsyncContext::LiftCallback => vec![Flat::I32],
        AsyncContext::LiftStackful => Vec::new(),
        AsyncContext::Lower => {
            if result.is_some() {
                flat_params.push(types.ptr_flat());
            }
            vec![Flat::I32]
        }
    };
    (flat_params, flat_results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn async_lowers_spill_past_four_params_and_return_a_status_word() {
        let defs = [TypeDef::U32, TypeDef::String];
        let t = Types::new(&defs);
        let (p, r) = flatten_async_functype(t, &[0; 4], Some(1), AsyncContext::Lower);
        assert_eq!(
            p,
            vec![Flat::I32; 5],
            "four params stay flat, the result pointer follows"
        );
        assert_eq!(r, vec![Flat::I32]);
        let (p, r) = flatten_async_functype(t, &[0; 5], None, AsyncContext::Lower);
        assert_eq!((p, r), (vec![Flat::I32], vec![Flat::I32]));
    }

    #[test]
    fn async_lifts_return_a_callback_code_or_nothing() {
        let defs = [TypeDef::U32];
        let t = Types::new(&defs);
        let (p, r) = flatten_async_functype(t, &[0; 16], Some(0), AsyncContext::LiftCallback);
        assert_eq!((p.len(), r), (16, vec![Flat::I32]));
        let (p, r) = flatten_async_functype(t, &[0; 17], Some(0), AsyncContext::LiftStackful);
        assert_eq!((p.len(), r.len()), (1, 0));
    }
}
