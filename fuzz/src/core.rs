//! Core-module differential testing: generation, the call plan, one runner per engine and the
//! comparison oracle.

use crate::Rng;
use std::fmt;
use weld_contract::trap::TrapCode;
use weld_runtime::{Extern, Instance, InstantiateError, Library, Store, ValRaw};

/// The most bytes either engine's GC heap may hold. Random constant expressions ask for
/// arrays of hundreds of megabytes; filling and faulting those in took most of a campaign's
/// time and showed nothing (an allocation past one engine's limit is inconclusive). Linear
/// memories stay far below it (`max_memory32_bytes`).
pub const GC_HEAP_LIMIT: usize = 64 << 20;

/// Fuel each generated module starts with (decremented per loop iteration and call).
pub const FUEL: u32 = 3_000;

/// One generated case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The seed it came from.
    pub seed: u64,
    /// The module.
    pub bytes: Vec<u8>,
    /// Whether weld compiles it with explicit bounds checks (else guard pages).
    pub explicit_bounds: bool,
}

/// Which core cases may use Wasm GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcCases {
    /// Half of them, chosen by the seed (the default).
    Half,
    /// Every one (`FUZZ_GC=1`, for GC campaigns); the rest of each seed's choices stay the same.
    All,
}

impl GcCases {
    /// `All` when the environment says `FUZZ_GC=1`.
    pub fn from_env() -> GcCases {
        match std::env::var("FUZZ_GC").as_deref() {
            Ok("1") => GcCases::All,
            _ => GcCases::Half,
        }
    }
}

/// The wasm-smith configuration: what weld implements, nothing it does not.
pub fn smith_config(rng: &mut Rng, gc: GcCases) -> wasm_smith::Config {
    let simd = rng.chance(3, 4);
    wasm_smith::Config {
        // On: MVP, multi-value, sign-ext, saturating conversions, bulk memory, reference types,
        // multi-memory, SIMD, relaxed SIMD (deterministic on both sides), extended-const, tail
        // calls, 64-bit memories and tables, exception handling.
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        simd_enabled: simd,
        relaxed_simd_enabled: simd,
        extended_const_enabled: true,
        tail_call_enabled: true,
        memory64_enabled: true,
        max_memories: 1 + rng.below(3) as usize,
        max_tables: 1 + rng.below(3) as usize,
        exceptions_enabled: true,
        gc_enabled: rng.chance(1, 2) || gc == GcCases::All,
        // Off: what weld does not implement.
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        shared_everything_threads_enabled: false,
        compact_imports_enabled: false,
        // Self-contained and observable.
        max_imports: 0,
        export_everything: true,
        allow_start_export: true,
        // NaN bits are nondeterministic in the spec; canonicalised NaNs keep them from leaking
        // into integers and memory.
        canonicalize_nans: true,
        // One case in three avoids traps (loads masked into bounds, no `unreachable`), so that
        // calls run deeper and return values more often.
        disallow_traps: rng.chance(1, 3),
        min_funcs: 3,
        max_funcs: 12,
        min_memories: u32::from(rng.chance(3, 4)),
        max_instructions: 120,
        min_types: 3,
        max_types: 12,
        max_globals: 12,
        max_data_segments: 8,
        max_element_segments: 8,
        max_elements: 20,
        max_table_elements: 1_000,
        // Small memories so that the final comparison reads little. Every memory has a maximum
        // (a grow within it is still exercised): a memory without one can grow to 4 GiB, and
        // comparing that took ~18 s a case (growth to the 4 GiB limit is covered by the spec
        // suite's memory_grow tests instead).
        max_memory32_bytes: 8 * 65536,
        max_memory64_bytes: 8 * 65536,
        memory_max_size_required: true,
        ..wasm_smith::Config::default()
    }
}

/// The module for `seed` (GC per `FUZZ_GC`, see [`GcCases::from_env`]), or `None` when
/// wasm-smith gave up on the random bytes.
pub fn gen_case(seed: u64) -> Option<Case> {
    let mut rng = Rng::new(seed ^ 0xC0DE_0000_0000_0000);
    let len = 4096 + rng.below(32768) as usize;
    let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let config = smith_config(&mut rng, GcCases::from_env());
    let mut u = arbitrary::Unstructured::new(&data);
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(FUEL).ok()?;
    Some(Case {
        seed,
        bytes: module.to_bytes(),
        explicit_bounds: seed % 2 == 1,
    })
}

/// A value crossing the host boundary, as both engines see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// i32
    I32(u32),
    /// i64
    I64(u64),
    /// f32 bits
    F32(u32),
    /// f64 bits
    F64(u64),
    /// v128 bits
    V128(u128),
    /// A reference, as far as both engines can tell what it is.
    Ref(RefSeen),
}

/// What is comparable about a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefSeen {
    /// Null.
    Null,
    /// Not null, nothing more comparable (a function, extern or exception reference, or a host
    /// value inside `anyref`).
    Opaque,
    /// An `i31ref` and its bits.
    I31(u32),
    /// A struct.
    Struct,
    /// An array and its length.
    Array(u32),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v:#x}"),
            Value::I64(v) => write!(f, "i64:{v:#x}"),
            Value::F32(v) => write!(f, "f32:{v:#x}({})", f32::from_bits(*v)),
            Value::F64(v) => write!(f, "f64:{v:#x}({})", f64::from_bits(*v)),
            Value::V128(v) => write!(f, "v128:{v:#034x}"),
            Value::Ref(r) => write!(f, "ref:{r:?}"),
        }
    }
}

fn f32_nan(b: u32) -> bool {
    f32::from_bits(b).is_nan()
}

fn f64_nan(b: u64) -> bool {
    f64::from_bits(b).is_nan()
}

/// Equal, or equal up to the NaN bits the spec leaves nondeterministic (any NaN matches any
/// NaN: canonical versus arithmetic NaNs are not told apart).
pub fn values_match(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => x == y || (f32_nan(x) && f32_nan(y)),
        (Value::F64(x), Value::F64(y)) => x == y || (f64_nan(x) && f64_nan(y)),
        (Value::V128(x), Value::V128(y)) => {
            let lanes32 = (0..4).all(|i| {
                let (p, q) = ((x >> (32 * i)) as u32, (y >> (32 * i)) as u32);
                p == q || (f32_nan(p) && f32_nan(q))
            });
            let lanes64 = (0..2).all(|i| {
                let (p, q) = ((x >> (64 * i)) as u64, (y >> (64 * i)) as u64);
                p == q || (f64_nan(p) && f64_nan(q))
            });
            x == y || lanes32 || lanes64
        }
        _ => a == b,
    }
}

/// What one call (or the instantiation) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It returned these values.
    Returned(Vec<Value>),
    /// It trapped (weld's own code; Wasmtime's mapped by [`wasmtime_trap`]). Outcomes are
    /// compared with [`normalize_trap`] applied.
    Trapped(TrapCode),
    /// The engine refused (a link error, an API error): never expected.
    Error(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(vs) => {
                f.write_str("[")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Outcome::Trapped(t) => write!(f, "trap: {t}"),
            Outcome::Error(e) => write!(f, "error: {e}"),
        }
    }
}

fn outcomes_match(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Returned(x), Outcome::Returned(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_match(*p, *q))
        }
        (Outcome::Trapped(x), Outcome::Trapped(y)) => normalize_trap(*x) == normalize_trap(*y),
        _ => a == b,
    }
}

/// Trap codes that name the same condition in both engines map to one code: Wasmtime reports
/// an out-of-range `call_indirect` index as a table access out of bounds, and a null
/// `call_ref` or `throw_ref` as a null reference.
pub fn normalize_trap(t: TrapCode) -> TrapCode {
    match t {
        TrapCode::UndefinedElement => TrapCode::TableOutOfBounds,
        // Wasmtime raises one "null reference" trap for every null dereference.
        TrapCode::NullFunctionReference
        | TrapCode::NullExceptionReference
        | TrapCode::NullStructReference
        | TrapCode::NullArrayReference
        | TrapCode::NullI31Reference => TrapCode::NullReference,
        other => other,
    }
}

/// Wasmtime's trap as weld's code (`None`: a trap weld has no code for).
pub fn wasmtime_trap(t: wasmtime::Trap) -> Option<TrapCode> {
    use wasmtime::Trap as W;
    Some(match t {
        W::StackOverflow => TrapCode::StackOverflow,
        W::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        W::TableOutOfBounds => TrapCode::TableOutOfBounds,
        W::IndirectCallToNull => TrapCode::UninitializedElement,
        W::BadSignature => TrapCode::IndirectCallTypeMismatch,
        W::IntegerOverflow => TrapCode::IntegerOverflow,
        W::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        W::BadConversionToInteger => TrapCode::BadConversionToInteger,
        W::UnreachableCodeReached => TrapCode::Unreachable,
        W::NullReference => TrapCode::NullReference,
        W::CannotEnterComponent => TrapCode::CannotEnterComponent,
        W::CannotLeaveComponent => TrapCode::CannotLeaveComponent,
        W::InvalidChar => TrapCode::InvalidCharBitPattern,
        W::CastFailure => TrapCode::CastFailure,
        W::ArrayOutOfBounds => TrapCode::ArrayOutOfBounds,
        W::AllocationTooLarge => TrapCode::AllocationTooLarge,
        _ => return None,
    })
}

/// A parameter or result type of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// i32
    I32,
    /// i64
    I64,
    /// f32
    F32,
    /// f64
    F64,
    /// v128
    V128,
    /// A function reference (only its nullness is comparable).
    FuncRef,
    /// An extern or exception reference (only its nullness is comparable).
    ExternRef,
    /// A reference of the `any` hierarchy: its kind, an `i31`'s value, an array's length are
    /// compared.
    AnyRef,
}

/// The type of an export's parameter (`param`: only nullable references, which the plan
/// passes as null) or result; `func_types[i]` says whether type `i` is a function type.
fn ty_of(v: wasmparser::ValType, param: bool, func_types: &[bool]) -> Option<Ty> {
    use wasmparser::{AbstractHeapType as A, HeapType as H, UnpackedIndex as U, ValType as V};
    Some(match v {
        V::I32 => Ty::I32,
        V::I64 => Ty::I64,
        V::F32 => Ty::F32,
        V::F64 => Ty::F64,
        V::V128 => Ty::V128,
        V::Ref(r) if param && !r.is_nullable() => return None,
        V::Ref(r) => match r.heap_type() {
            H::Abstract { shared: false, ty } => match ty {
                A::Func | A::NoFunc => Ty::FuncRef,
                A::Extern | A::NoExtern | A::Exn | A::NoExn => Ty::ExternRef,
                A::Any | A::Eq | A::I31 | A::Struct | A::Array | A::None => Ty::AnyRef,
                _ => return None,
            },
            H::Concrete(U::Module(i)) => match func_types.get(i as usize)? {
                true => Ty::FuncRef,
                false => Ty::AnyRef,
            },
            _ => return None,
        },
    })
}

/// One call of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The export.
    pub export: String,
    /// Its arguments.
    pub args: Vec<Value>,
    /// Its result types.
    pub results: Vec<Ty>,
}

/// What to do with an instance: the calls, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The calls.
    pub calls: Vec<Call>,
}

impl Plan {
    /// One line per call (`=EXPORT arg arg ...`, the export name's bytes in hex, args as
    /// `type:hex`): the `.calls` file format.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for c in &self.calls {
            s.push('=');
            for b in c.export.bytes() {
                s.push_str(&format!("{b:02x}"));
            }
            for a in &c.args {
                s.push(' ');
                s.push_str(&arg_text(*a));
            }
            s.push('\n');
        }
        s
    }

    /// Read the `.calls` format back; result types come from `bytes`.
    pub fn from_text(bytes: &[u8], text: &str) -> Result<Plan, String> {
        let sigs = export_signatures(bytes)?;
        let mut calls = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut words = line.split(' ');
            let hex = words.next().unwrap_or("").trim_start_matches('=');
            let name: Result<Vec<u8>, String> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
                .collect();
            let export = String::from_utf8(name?).map_err(|e| e.to_string())?;
            let (_, results) = sigs
                .iter()
                .find(|(n, _)| *n == export)
                .map(|(_, s)| s.clone())
                .ok_or_else(|| format!("no exported function {export:?}"))?;
            let args = words.map(parse_arg).collect::<Result<Vec<_>, _>>()?;
            calls.push(Call {
                export,
                args,
                results,
            });
        }
        Ok(Plan { calls })
    }
}

fn arg_text(v: Value) -> String {
    match v {
        Value::I32(x) => format!("i32:{x:x}"),
        Value::I64(x) => format!("i64:{x:x}"),
        Value::F32(x) => format!("f32:{x:x}"),
        Value::F64(x) => format!("f64:{x:x}"),
        Value::V128(x) => format!("v128:{x:x}"),
        Value::Ref(_) => "ref:null".into(),
    }
}

fn parse_arg(w: &str) -> Result<Value, String> {
    let (ty, hex) = w
        .split_once(':')
        .ok_or_else(|| format!("bad argument {w:?}"))?;
    let n = |h: &str| u128::from_str_radix(h, 16).map_err(|e| format!("{w:?}: {e}"));
    Ok(match ty {
        "i32" => Value::I32(n(hex)? as u32),
        "i64" => Value::I64(n(hex)? as u64),
        "f32" => Value::F32(n(hex)? as u32),
        "f64" => Value::F64(n(hex)? as u64),
        "v128" => Value::V128(n(hex)?),
        "ref" => Value::Ref(RefSeen::Null),
        _ => return Err(format!("bad argument type {w:?}")),
    })
}

type Signature = (Vec<Ty>, Vec<Ty>);

/// Exported functions with their signatures, in export order.
pub fn export_signatures(bytes: &[u8]) -> Result<Vec<(String, Signature)>, String> {
    use wasmparser::{Payload, TypeRef};
    let mut raw: Vec<Option<wasmparser::FuncType>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut exports = Vec::new();
    for p in wasmparser::Parser::new(0).parse_all(bytes) {
        match p.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => {
                for rg in r.into_iter() {
                    for st in rg.map_err(|e| e.to_string())?.into_types() {
                        raw.push(match st.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Func(t) = imp.map_err(|e| e.to_string())?.ty {
                        funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    funcs.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        exports.push((e.name.to_string(), e.index));
                    }
                }
            }
            _ => {}
        }
    }
    let func_types: Vec<bool> = raw.iter().map(Option::is_some).collect();
    let sig = |f: &wasmparser::FuncType| -> Option<Signature> {
        let p: Option<Vec<Ty>> = f
            .params()
            .iter()
            .map(|t| ty_of(*t, true, &func_types))
            .collect();
        let r: Option<Vec<Ty>> = f
            .results()
            .iter()
            .map(|t| ty_of(*t, false, &func_types))
            .collect();
        p.zip(r)
    };
    Ok(exports
        .into_iter()
        .filter_map(|(name, index)| {
            let t = funcs.get(index as usize)?;
            let f = raw.get(*t as usize)?.as_ref()?;
            Some((name, sig(f)?))
        })
        .collect())
}

const I32S: &[u32] = &[
    0,
    1,
    2,
    7,
    8,
    0xff,
    0xffff,
    0x1_0000,
    0xfff8,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_fffc,
];
const I64S: &[u64] = &[
    0,
    1,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];
const F32S: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.5,
    2147483648.0,
    -2147483904.0,
    4294967296.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    f32::MIN_POSITIVE,
    f32::MAX,
];
const F64S: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.5,
    2147483648.0,
    -2147483649.0,
    9223372036854775808.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    f64::MIN_POSITIVE,
    f64::MAX,
];

fn gen_arg(rng: &mut Rng, t: Ty) -> Value {
    let pick = rng.below(3);
    match t {
        Ty::I32 => Value::I32(match pick {
            0 => I32S[rng.below(I32S.len() as u64) as usize],
            1 => rng.below(0x2_0000) as u32,
            _ => rng.next_u64() as u32,
        }),
        Ty::I64 => Value::I64(match pick {
            0 => I64S[rng.below(I64S.len() as u64) as usize],
            1 => rng.below(0x2_0000),
            _ => rng.next_u64(),
        }),
        Ty::F32 => Value::F32(match pick {
            0 | 1 => F32S[rng.below(F32S.len() as u64) as usize].to_bits(),
            _ => rng.next_u64() as u32,
        }),
        Ty::F64 => Value::F64(match pick {
            0 | 1 => F64S[rng.below(F64S.len() as u64) as usize].to_bits(),
            _ => rng.next_u64(),
        }),
        Ty::V128 => Value::V128(u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())),
        Ty::FuncRef | Ty::ExternRef | Ty::AnyRef => Value::Ref(RefSeen::Null),
    }
}

/// The call plan for `case`: every exported function once, in export order, then a few
/// exports again with other arguments (state left by earlier calls matters).
pub fn plan(case: &Case) -> Result<Plan, String> {
    let sigs = export_signatures(&case.bytes)?;
    let mut rng = Rng::new(case.seed ^ 0xA5A5_5A5A);
    let mut calls = Vec::new();
    let mut add = |rng: &mut Rng, (name, (params, results)): &(String, Signature)| {
        calls.push(Call {
            export: name.clone(),
            args: params.iter().map(|t| gen_arg(rng, *t)).collect(),
            results: results.clone(),
        });
    };
    for s in &sigs {
        add(&mut rng, s);
    }
    if !sigs.is_empty() {
        for _ in 0..sigs.len().min(6) {
            let s = &sigs[rng.below(sigs.len() as u64) as usize];
            add(&mut rng, s);
        }
    }
    Ok(Plan { calls })
}

/// Everything observable after running a plan.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Instantiation (`Returned([])` when it succeeded).
    pub instantiate: Option<Outcome>,
    /// One outcome per call of the plan that ran.
    pub calls: Vec<Outcome>,
    /// Exported globals after the last call.
    pub globals: Vec<(String, Value)>,
    /// Exported memories after the last call.
    pub memories: Vec<(String, Vec<u8>)>,
    /// Exported tables' sizes after the last call.
    pub tables: Vec<(String, u64)>,
}

/// The oracle's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything observed matched.
    Same,
    /// One engine exhausted its stack and the other did not: the depths differ, nothing after
    /// is comparable.
    Inconclusive(String),
    /// The engines disagree.
    Diverged(String),
}

/// Whether every differing byte of two memories lies in a 4- or 8-byte window that is a NaN
/// on both sides.
fn memory_diff_is_nan_only(a: &[u8], b: &[u8]) -> bool {
    let f32_at = |m: &[u8], i: usize| {
        m.get(i..i + 4)
            .map(|w| f32_nan(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
    };
    let f64_at = |m: &[u8], i: usize| {
        m.get(i..i + 8).map(|w| {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            f64_nan(u64::from_le_bytes(x))
        })
    };
    a.iter().zip(b).enumerate().all(|(i, (x, y))| {
        x == y
            || (i.saturating_sub(3)..=i)
                .any(|s| f32_at(a, s) == Some(true) && f32_at(b, s) == Some(true))
            || (i.saturating_sub(7)..=i)
                .any(|s| f64_at(a, s) == Some(true) && f64_at(b, s) == Some(true))
    })
}

/// Whether an engine gave up for lack of host memory (a huge `table.grow` or `memory.grow`):
/// the spec lets a grow fail for any reason, so such a call is not comparable.
/// Whether an outcome is an engine running out of something it may size differently: memory
/// for a grow, or GC heap for an allocation (weld's heap limit and object size limit are its
/// own; Wasmtime's GC heap has other ones).
fn is_resource_exhaustion(o: &Outcome) -> bool {
    match o {
        Outcome::Error(e) => e.contains("out of memory") || e.contains("failed to allocate"),
        Outcome::Trapped(t) => {
            matches!(t, TrapCode::AllocationTooLarge | TrapCode::GcHeapExhausted)
        }
        _ => false,
    }
}

/// Compare what weld (`w`) and Wasmtime (`t`) observed running the same plan.
pub fn compare(plan: &Plan, w: &Observation, t: &Observation) -> Verdict {
    let so = Outcome::Trapped(TrapCode::StackOverflow);
    match (&w.instantiate, &t.instantiate) {
        (Some(a), Some(b))
            if a != b && (is_resource_exhaustion(a) || is_resource_exhaustion(b)) =>
        {
            return Verdict::Inconclusive(format!("instantiation: weld {a}, wasmtime {b}"));
        }
        (Some(a), Some(b)) if a == &so || b == &so => {
            return if a == b {
                Verdict::Same
            } else {
                Verdict::Inconclusive(format!("instantiation: weld {a}, wasmtime {b}"))
            };
        }
        (Some(a), Some(b)) if !outcomes_match(a, b) => {
            return Verdict::Diverged(format!("instantiation: weld {a}, wasmtime {b}"));
        }
        (Some(Outcome::Returned(_)), Some(Outcome::Returned(_))) => {}
        (Some(_), Some(_)) => return Verdict::Same,
        (a, b) => return Verdict::Diverged(format!("instantiation: weld {a:?}, wasmtime {b:?}")),
    }
    for (i, (a, b)) in w.calls.iter().zip(&t.calls).enumerate() {
        let name = plan.calls.get(i).map_or("?", |c| c.export.as_str());
        if is_resource_exhaustion(a) || is_resource_exhaustion(b) {
            // A grow the host could not back: engines may legitimately differ.
            return Verdict::Inconclusive(format!("call {i} {name:?}: weld {a}, wasmtime {b}"));
        }
        if a == &so || b == &so {
            // Both out of stack: equal; but the depths reached (and so memory, globals and fuel)
            // may differ, so nothing after this call is compared.
            return if a == b {
                Verdict::Same
            } else {
                Verdict::Inconclusive(format!("call {i} {name:?}: weld {a}, wasmtime {b}"))
            };
        }
        if !outcomes_match(a, b) {
            return Verdict::Diverged(format!("call {i} {name:?}: weld {a}, wasmtime {b}"));
        }
    }
    if w.calls.len() != t.calls.len() {
        return Verdict::Diverged(format!(
            "calls made: weld {}, wasmtime {}",
            w.calls.len(),
            t.calls.len()
        ));
    }
    if w.globals.len() != t.globals.len() {
        return Verdict::Diverged("exported globals differ in number".into());
    }
    for ((n, a), (_, b)) in w.globals.iter().zip(&t.globals) {
        if !values_match(*a, *b) {
            return Verdict::Diverged(format!("global {n:?}: weld {a}, wasmtime {b}"));
        }
    }
    if w.tables != t.tables {
        return Verdict::Diverged(format!(
            "table sizes: weld {:?}, wasmtime {:?}",
            w.tables, t.tables
        ));
    }
    if w.memories.len() != t.memories.len() {
        return Verdict::Diverged("exported memories differ in number".into());
    }
    for ((n, a), (_, b)) in w.memories.iter().zip(&t.memories) {
        if a.len() != b.len() {
            return Verdict::Diverged(format!(
                "memory {n:?}: weld {} bytes, wasmtime {} bytes",
                a.len(),
                b.len()
            ));
        }
        if a != b && !memory_diff_is_nan_only(a, b) {
            let first = a
                .iter()
                .zip(b.iter())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            return Verdict::Diverged(format!(
                "memory {n:?} differs first at {first:#x}: weld {:02x?}, wasmtime {:02x?}",
                &a[first..(first + 8).min(a.len())],
                &b[first..(first + 8).min(b.len())]
            ));
        }
    }
    Verdict::Same
}

// ---------------------------------------------------------------------------------------------
// weld

/// How weld handled a module.
#[derive(Debug, Clone)]
pub enum WeldCompile {
    /// The object.
    Object(Vec<u8>),
    /// weld declined a feature it does not implement.
    Unsupported(String),
    /// weld rejected the (valid) module or failed otherwise.
    Failed(String),
    /// weld panicked.
    Panicked(String),
}

/// Compile `case` with weld under `prefix`, catching panics.
pub fn weld_compile(case: &Case, prefix: &str) -> WeldCompile {
    let options = weld::Options {
        prefix: prefix.to_string(),
        c_entry_points: false,
        relaxed_simd: weld::RelaxedSimd::Deterministic,
        threads: 1,
        bounds_checks: if case.explicit_bounds {
            weld::BoundsChecks::Explicit
        } else {
            weld::BoundsChecks::Guard
        },
        ..weld::Options::default()
    };
    let r = std::panic::catch_unwind(|| weld::compile_module(&case.bytes, &options));
    match r {
        Ok(Ok(obj)) => WeldCompile::Object(obj),
        Ok(Err(e @ weld::Error::Unsupported { .. })) => WeldCompile::Unsupported(e.to_string()),
        Ok(Err(e)) => WeldCompile::Failed(e.to_string()),
        Err(p) => WeldCompile::Panicked(panic_text(&*p)),
    }
}

/// The message of a caught panic.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

fn raw(v: Value) -> ValRaw {
    match v {
        Value::I32(x) => ValRaw::i32(x as i32),
        Value::I64(x) => ValRaw::i64(x as i64),
        Value::F32(x) => ValRaw::f32(x),
        Value::F64(x) => ValRaw::f64(x),
        Value::V128(x) => ValRaw::from_u128(x),
        Value::Ref(_) => ValRaw::default(),
    }
}

fn from_raw(store: &Store, r: ValRaw, t: Ty) -> Value {
    use weld_runtime::gc::RefKind;
    let v = r.get_u128();
    match t {
        Ty::I32 => Value::I32(v as u32),
        Ty::I64 => Value::I64(v as u64),
        Ty::F32 => Value::F32(v as u32),
        Ty::F64 => Value::F64(v as u64),
        Ty::V128 => Value::V128(v),
        Ty::FuncRef | Ty::ExternRef => Value::Ref(match v as u64 {
            0 => RefSeen::Null,
            _ => RefSeen::Opaque,
        }),
        Ty::AnyRef => Value::Ref(match store.ref_kind(v as u64) {
            Some(RefKind::Null) => RefSeen::Null,
            Some(RefKind::I31(x)) => RefSeen::I31(x),
            Some(RefKind::Struct) => RefSeen::Struct,
            Some(RefKind::Array(n)) => RefSeen::Array(n),
            // A host value, or a word that points nowhere in the heap (which no engine
            // would show: it cannot equal Wasmtime's view).
            Some(RefKind::Host(_)) => RefSeen::Opaque,
            None => RefSeen::Array(u32::MAX),
        }),
    }
}

fn weld_ty(t: weld_runtime::ValType) -> Ty {
    use weld_runtime::ValType as V;
    match t {
        V::I32 => Ty::I32,
        V::I64 => Ty::I64,
        V::F32 => Ty::F32,
        V::F64 => Ty::F64,
        V::V128 => Ty::V128,
        V::FuncRef => Ty::FuncRef,
        V::AnyRef => Ty::AnyRef,
        // Only null-ness is compared.
        V::ExternRef | V::ExnRef => Ty::ExternRef,
    }
}

/// Run `plan` on a fresh weld instance of the module compiled under `prefix` in `lib`.
pub fn run_weld(lib: &Library, prefix: &str, plan: &Plan) -> Observation {
    let mut obs = Observation::default();
    let module = match lib.module(prefix) {
        Ok(m) => m,
        Err(e) => {
            obs.instantiate = Some(Outcome::Error(format!("loading: {e}")));
            return obs;
        }
    };
    let mut store = Store::new();
    // A collection at every allocation, so that random code runs with objects moving under it.
    store.set_gc_interval(1);
    store.set_gc_poison(true);
    store.set_gc_heap_limit(GC_HEAP_LIMIT);
    let inst = match Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(InstantiateError::Trap(t)) => {
            obs.instantiate = Some(Outcome::Trapped(t.code));
            return obs;
        }
        Err(InstantiateError::Link(e)) => {
            obs.instantiate = Some(Outcome::Error(e));
            return obs;
        }
    };
    obs.instantiate = Some(Outcome::Returned(vec![]));
    run_weld_calls(&mut store, inst, plan, &mut obs);
    obs
}

fn run_weld_calls(store: &mut Store, inst: Instance, plan: &Plan, obs: &mut Observation) {
    for call in &plan.calls {
        let Some(Extern::Func(f)) = inst.export(store, &call.export) else {
            obs.calls
                .push(Outcome::Error(format!("no export {:?}", call.export)));
            return;
        };
        let args: Vec<ValRaw> = call.args.iter().map(|a| raw(*a)).collect();
        let out = match f.call(store, &args) {
            Ok(rs) => Outcome::Returned(
                rs.into_iter()
                    .zip(&call.results)
                    .map(|(r, t)| from_raw(store, r, *t))
                    .collect(),
            ),
            Err(t) => Outcome::Trapped(t.code),
        };
        obs.calls.push(out);
    }
    for (name, ext) in inst.exports(store) {
        match ext {
            Extern::Global(g) => {
                let ty = weld_ty(g.ty(store).ty);
                obs.globals.push((name, from_raw(store, g.get(store), ty)));
            }
            Extern::Memory(m) => obs.memories.push((name, m.data(store).to_vec())),
            Extern::Table(t) => obs.tables.push((name, t.size(store))),
            Extern::Func(_) | Extern::Tag(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wasmtime

/// The Wasmtime engine configured like weld: the same features, the same stack budget.
pub fn wasmtime_engine() -> wasmtime::Engine {
    let mut c = wasmtime::Config::new();
    c.wasm_multi_memory(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(true)
        .relaxed_simd_deterministic(true)
        .wasm_reference_types(true)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true)
        .wasm_extended_const(true)
        .wasm_tail_call(true)
        .wasm_exceptions(true)
        .wasm_function_references(true)
        .wasm_gc(true)
        .wasm_memory64(true)
        .wasm_component_model(true)
        .wasm_component_model_fixed_length_lists(true)
        .wasm_component_model_map(true)
        .max_wasm_stack(512 * 1024)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .collector(wasmtime::Collector::Copying);
    #[allow(clippy::expect_used)]
    wasmtime::Engine::new(&c).expect("the Wasmtime configuration is valid")
}

fn wasmtime_error(e: &wasmtime::Error) -> Outcome {
    if e.is::<wasmtime::ThrownException>() {
        return Outcome::Trapped(TrapCode::UncaughtException);
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(t) => match wasmtime_trap(*t) {
            Some(code) => Outcome::Trapped(normalize_trap(code)),
            None => Outcome::Error(format!("wasmtime trap {t}")),
        },
        None => Outcome::Error(format!("{e:#}")),
    }
}

fn wt_val(v: Value) -> wasmtime::Val {
    match v {
        Value::I32(x) => wasmtime::Val::I32(x as i32),
        Value::I64(x) => wasmtime::Val::I64(x as i64),
        Value::F32(x) => wasmtime::Val::F32(x),
        Value::F64(x) => wasmtime::Val::F64(x),
        Value::V128(x) => wasmtime::Val::V128(x.into()),
        Value::Ref(_) => wasmtime::Val::I32(0),
    }
}

fn opaque(present: bool) -> Value {
    Value::Ref(if present {
        RefSeen::Opaque
    } else {
        RefSeen::Null
    })
}

fn from_wt(store: &mut wasmtime::Store<wasmtime::StoreLimits>, v: &wasmtime::Val) -> Value {
    use wasmtime::Val as V;
    match v {
        V::I32(x) => Value::I32(*x as u32),
        V::I64(x) => Value::I64(*x as u64),
        V::F32(x) => Value::F32(*x),
        V::F64(x) => Value::F64(*x),
        V::V128(x) => Value::V128(x.as_u128()),
        V::FuncRef(f) => opaque(f.is_some()),
        V::ExternRef(r) => opaque(r.is_some()),
        V::ExnRef(r) => opaque(r.is_some()),
        V::ContRef(r) => opaque(r.is_some()),
        V::AnyRef(None) => Value::Ref(RefSeen::Null),
        V::AnyRef(Some(r)) => Value::Ref(any_seen(store, r)),
    }
}

/// What Wasmtime shows of a non-null `anyref`.
fn any_seen(
    store: &mut wasmtime::Store<wasmtime::StoreLimits>,
    r: &wasmtime::Rooted<wasmtime::AnyRef>,
) -> RefSeen {
    if let Ok(Some(i)) = r.as_i31(&*store) {
        return RefSeen::I31(i.get_u32());
    }
    if r.is_struct(&*store).unwrap_or(false) {
        return RefSeen::Struct;
    }
    match r.as_array(&*store) {
        Ok(Some(a)) => RefSeen::Array(a.len(&*store).unwrap_or(u32::MAX - 1)),
        _ => RefSeen::Opaque,
    }
}

/// Run `plan` on a fresh Wasmtime instance of `bytes`.
pub fn run_wasmtime(engine: &wasmtime::Engine, bytes: &[u8], plan: &Plan) -> Observation {
    let mut obs = Observation::default();
    let module = match wasmtime::Module::new(engine, bytes) {
        Ok(m) => m,
        Err(e) => {
            obs.instantiate = Some(Outcome::Error(format!("wasmtime rejected: {e:#}")));
            return obs;
        }
    };
    // weld's own limit on table sizes, so that a huge `table.grow` fails (-1) in both.
    let limits = wasmtime::StoreLimitsBuilder::new()
        .table_elements(weld_runtime::table::MAX_TABLE_ELEMENTS as usize)
        .memory_size(GC_HEAP_LIMIT)
        .instances(10)
        .tables(100)
        .memories(100)
        .build();
    let mut store = wasmtime::Store::new(engine, limits);
    store.limiter(|l| l);
    let inst = match wasmtime::Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(e) => {
            obs.instantiate = Some(wasmtime_error(&e));
            return obs;
        }
    };
    obs.instantiate = Some(Outcome::Returned(vec![]));
    for call in &plan.calls {
        let Some(f) = inst.get_func(&mut store, &call.export) else {
            obs.calls
                .push(Outcome::Error(format!("no export {:?}", call.export)));
            return obs;
        };
        let ty = f.ty(&store);
        let args: Vec<wasmtime::Val> = call
            .args
            .iter()
            .zip(ty.params())
            .map(|(a, t)| match (a, t) {
                (Value::Ref(_), wasmtime::ValType::Ref(r)) => {
                    wasmtime::Val::null_ref(r.heap_type())
                }
                _ => wt_val(*a),
            })
            .collect();
        let mut results: Vec<wasmtime::Val> = ty.results().map(|_| wasmtime::Val::I32(0)).collect();
        let out = match f.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(|r| from_wt(&mut store, r)).collect()),
            Err(e) => wasmtime_error(&e),
        };
        obs.calls.push(out);
    }
    let exports: Vec<(String, wasmtime::Extern)> = inst
        .exports(&mut store)
        .map(|e| (e.name().to_string(), e.into_extern()))
        .collect();
    for (name, ext) in exports {
        match ext {
            wasmtime::Extern::Global(g) => {
                let v = g.get(&mut store);
                obs.globals.push((name, from_wt(&mut store, &v)));
            }
            wasmtime::Extern::Memory(m) => obs.memories.push((name, m.data(&store).to_vec())),
            wasmtime::Extern::Table(t) => obs.tables.push((name, t.size(&store))),
            _ => {}
        }
    }
    obs
}
