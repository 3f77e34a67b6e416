//! Component round trips: host → caller component → (fused adapter) → callee component → back.
//!
//! For a random interface type `T`, both components export `echo: func(x: T, pad: P) -> T`,
//! where `P` is a record of sixteen `u64`s that forces the parameters to be passed through
//! memory. That makes every core function tiny and type-independent:
//!
//! - callee: the parameters arrive as a pointer to `{x: T, pad: P}` in its memory, and `x` is at
//!   offset 0 — exactly the layout of a `T` result — so it returns the pointer (or, when `T`
//!   flattens to a single value, loads that value);
//! - caller: it forwards the same pointer to the lowered callee function with a return area,
//!   and returns the return area (or the single flat value).
//!
//! The two components use different memories, allocators and string encodings, so every value
//! is lifted from one memory and lowered into the other by weld's adapters.

use super::Rng;
use std::fmt::Write;
use weld_contract::component::StringEncoding;
use weld_runtime::component::Val;

/// A generated interface type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// bool
    Bool,
    /// s8
    S8,
    /// u8
    U8,
    /// s16
    S16,
    /// u16
    U16,
    /// s32
    S32,
    /// u32
    U32,
    /// s64
    S64,
    /// u64
    U64,
    /// f32
    F32,
    /// f64
    F64,
    /// char
    Char,
    /// string
    String,
    /// list<T>
    List(Box<Ty>),
    /// record with fields f0..
    Record(Vec<Ty>),
    /// tuple
    Tuple(Vec<Ty>),
    /// variant with cases c0.. (some with payloads)
    Variant(Vec<Option<Ty>>),
    /// enum with cases e0..
    Enum(u32),
    /// option<T>
    Option(Box<Ty>),
    /// result<T?, E?>
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    /// flags f0..
    Flags(u32),
    /// list<T, N>
    FixedList(Box<Ty>, u32),
    /// map<K, V>, K a key type (an integer, bool, char or string)
    Map(Box<Ty>, Box<Ty>),
}

/// A random map key type (the `<keytype>` production: no floats, nothing compound).
fn gen_key(rng: &mut Rng) -> Ty {
    match rng.below(6) {
        0 => Ty::Bool,
        1 => Ty::U8,
        2 => Ty::S32,
        3 => Ty::U64,
        4 => Ty::Char,
        _ => Ty::String,
    }
}

/// A random type of nesting depth at most `depth`.
pub fn gen_type(rng: &mut Rng, depth: u32) -> Ty {
    let leaf = depth == 0 || rng.chance(2, 5);
    if leaf {
        return match rng.below(13) {
            0 => Ty::Bool,
            1 => Ty::S8,
            2 => Ty::U8,
            3 => Ty::S16,
            4 => Ty::U16,
            5 => Ty::S32,
            6 => Ty::U32,
            7 => Ty::S64,
            8 => Ty::U64,
            9 => Ty::F32,
            10 => Ty::F64,
            11 => Ty::Char,
            _ => Ty::String,
        };
    }
    let d = depth - 1;
    match rng.below(11) {
        0 => Ty::List(Box::new(gen_type(rng, d))),
        // Mostly short (flat when small enough), sometimes long enough for a copy loop.
        9 => Ty::FixedList(
            Box::new(gen_type(rng, d)),
            if rng.chance(1, 4) {
                9 + rng.below(40) as u32
            } else {
                1 + rng.below(4) as u32
            },
        ),
        10 => Ty::Map(Box::new(gen_key(rng)), Box::new(gen_type(rng, d))),
        1 => Ty::Record((0..1 + rng.below(4)).map(|_| gen_type(rng, d)).collect()),
        2 => Ty::Tuple((0..1 + rng.below(3)).map(|_| gen_type(rng, d)).collect()),
        3 => Ty::Variant(
            (0..1 + rng.below(4))
                .map(|_| rng.chance(2, 3).then(|| gen_type(rng, d)))
                .collect(),
        ),
        4 => Ty::Enum(1 + rng.below(300) as u32),
        5 => Ty::Option(Box::new(gen_type(rng, d))),
        6 => Ty::Result(
            rng.chance(3, 4).then(|| Box::new(gen_type(rng, d))),
            rng.chance(3, 4).then(|| Box::new(gen_type(rng, d))),
        ),
        7 => Ty::Flags(1 + rng.below(32) as u32),
        _ => Ty::String,
    }
}

/// The type in component text format (inline type expressions).
pub fn wat_type(t: &Ty) -> String {
    match t {
        Ty::Bool => "bool".into(),
        Ty::S8 => "s8".into(),
        Ty::U8 => "u8".into(),
        Ty::S16 => "s16".into(),
        Ty::U16 => "u16".into(),
        Ty::S32 => "s32".into(),
        Ty::U32 => "u32".into(),
        Ty::S64 => "s64".into(),
        Ty::U64 => "u64".into(),
        Ty::F32 => "f32".into(),
        Ty::F64 => "f64".into(),
        Ty::Char => "char".into(),
        Ty::String => "string".into(),
        Ty::List(e) => format!("(list {})", wat_type(e)),
        Ty::FixedList(e, n) => format!("(list {} {n})", wat_type(e)),
        Ty::Map(k, v) => format!("(map {} {})", wat_type(k), wat_type(v)),
        Ty::Record(fs) => {
            let mut s = "(record".to_string();
            for (i, f) in fs.iter().enumerate() {
                let _ = write!(s, " (field \"f{i}\" {})", wat_type(f));
            }
            s + ")"
        }
        Ty::Tuple(ts) => {
            let mut s = "(tuple".to_string();
            for t in ts {
                let _ = write!(s, " {}", wat_type(t));
            }
            s + ")"
        }
        Ty::Variant(cs) => {
            let mut s = "(variant".to_string();
            for (i, c) in cs.iter().enumerate() {
                match c {
                    Some(t) => {
                        let _ = write!(s, " (case \"c{i}\" {})", wat_type(t));
                    }
                    None => {
                        let _ = write!(s, " (case \"c{i}\")");
                    }
                }
            }
            s + ")"
        }
        Ty::Enum(n) => {
            let mut s = "(enum".to_string();
            for i in 0..*n {
                let _ = write!(s, " \"e{i}\"");
            }
            s + ")"
        }
        Ty::Option(t) => format!("(option {})", wat_type(t)),
        Ty::Result(ok, err) => {
            let mut s = "(result".to_string();
            if let Some(ok) = ok {
                let _ = write!(s, " {}", wat_type(ok));
            }
            if let Some(err) = err {
                let _ = write!(s, " (error {})", wat_type(err));
            }
            s + ")"
        }
        Ty::Flags(n) => {
            let mut s = "(flags".to_string();
            for i in 0..*n {
                let _ = write!(s, " \"f{i}\"");
            }
            s + ")"
        }
    }
}

/// Component-level type definitions: records, variants, enums and flags must be named to
/// appear in exported signatures, so each becomes `t<k>`, defined once and exported by the
/// root, imported (with an `eq` bound) by the inner components.
#[derive(Default)]
struct TypeTable {
    /// Definition text of `t<k>`, referring to earlier named types as `$t<j>`.
    defs: Vec<String>,
}

impl TypeTable {
    /// The text that refers to `t` (naming nested types as needed).
    fn reference(&mut self, t: &Ty) -> String {
        let named = matches!(
            t,
            Ty::Record(_) | Ty::Variant(_) | Ty::Enum(_) | Ty::Flags(_)
        );
        let text = match t {
            Ty::List(e) => format!("(list {})", self.reference(e)),
            Ty::FixedList(e, n) => format!("(list {} {n})", self.reference(e)),
            Ty::Map(k, v) => {
                let k = self.reference(k);
                format!("(map {k} {})", self.reference(v))
            }
            Ty::Record(fs) => {
                let mut s = "(record".to_string();
                for (i, f) in fs.iter().enumerate() {
                    let r = self.reference(f);
                    let _ = write!(s, " (field \"f{i}\" {r})");
                }
                s + ")"
            }
            Ty::Tuple(ts) => {
                let mut s = "(tuple".to_string();
                for t in ts {
                    let r = self.reference(t);
                    let _ = write!(s, " {r}");
                }
                s + ")"
            }
            Ty::Variant(cs) => {
                let mut s = "(variant".to_string();
                for (i, c) in cs.iter().enumerate() {
                    match c {
                        Some(t) => {
                            let r = self.reference(t);
                            let _ = write!(s, " (case \"c{i}\" {r})");
                        }
                        None => {
                            let _ = write!(s, " (case \"c{i}\")");
                        }
                    }
                }
                s + ")"
            }
            Ty::Option(t) => format!("(option {})", self.reference(t)),
            Ty::Result(ok, err) => {
                let mut s = "(result".to_string();
                if let Some(ok) = ok {
                    let r = self.reference(ok);
                    let _ = write!(s, " {r}");
                }
                if let Some(err) = err {
                    let r = self.reference(err);
                    let _ = write!(s, " (error {r})");
                }
                s + ")"
            }
            other => wat_type(other),
        };
        if named {
            self.defs.push(text);
            format!("$t{}", self.defs.len() - 1)
        } else {
            text
        }
    }

    /// Definitions exported by the root component.
    fn root_defs(&self) -> String {
        let mut s = String::new();
        for (k, d) in self.defs.iter().enumerate() {
            let _ = write!(
                s,
                "\n  (type $d{k} {d})\n  (export $t{k} \"t{k}\" (type $d{k}))"
            );
        }
        s
    }

    /// Definitions imported by an inner component.
    fn inner_defs(&self) -> String {
        let mut s = String::new();
        for (k, d) in self.defs.iter().enumerate() {
            let _ = write!(
                s,
                "\n    (type $d{k} {d})\n    (import \"t{k}\" (type $t{k} (eq $d{k})))"
            );
        }
        s
    }

    /// Instantiation arguments passing every named type.
    fn withs(&self) -> String {
        (0..self.defs.len())
            .map(|k| format!(" (with \"t{k}\" (type $t{k}))"))
            .collect()
    }
}

/// Canonical ABI flat core types of `t` (`None`: more than one value).
fn single_flat(t: &Ty) -> Option<&'static str> {
    Some(match t {
        Ty::Bool | Ty::S8 | Ty::U8 | Ty::S16 | Ty::U16 | Ty::S32 | Ty::U32 | Ty::Char => "i32",
        Ty::Enum(_) => "i32",
        Ty::Flags(n) if *n <= 32 => "i32",
        Ty::S64 | Ty::U64 => "i64",
        Ty::F32 => "f32",
        Ty::F64 => "f64",
        Ty::Record(fs) if fs.len() == 1 => single_flat(&fs[0])?,
        Ty::Tuple(ts) if ts.len() == 1 => single_flat(&ts[0])?,
        Ty::FixedList(e, 1) => single_flat(e)?,
        Ty::Variant(cs) if cs.iter().all(|c| c.is_none()) => "i32",
        Ty::Result(None, None) => "i32",
        _ => return None,
    })
}

/// The load instruction that reads a single-flat-value `t` from memory at the pointer on the
/// stack.
fn single_load(t: &Ty) -> String {
    match t {
        Ty::Bool | Ty::U8 => "i32.load8_u".into(),
        Ty::S8 => "i32.load8_s".into(),
        Ty::U16 => "i32.load16_u".into(),
        Ty::S16 => "i32.load16_s".into(),
        Ty::S32 | Ty::U32 | Ty::Char => "i32.load".into(),
        Ty::S64 | Ty::U64 => "i64.load".into(),
        Ty::F32 => "f32.load".into(),
        Ty::F64 => "f64.load".into(),
        Ty::Enum(n) if *n <= 256 => "i32.load8_u".into(),
        Ty::Enum(_) => "i32.load16_u".into(),
        Ty::Flags(n) if *n <= 8 => "i32.load8_u".into(),
        Ty::Flags(n) if *n <= 16 => "i32.load16_u".into(),
        Ty::Flags(_) => "i32.load".into(),
        Ty::Variant(cs) if cs.len() <= 256 => "i32.load8_u".into(),
        Ty::Variant(_) => "i32.load16_u".into(),
        Ty::Result(..) => "i32.load8_u".into(),
        Ty::Record(fs) => single_load(&fs[0]),
        Ty::Tuple(ts) => single_load(&ts[0]),
        Ty::FixedList(e, _) => single_load(e),
        _ => "unreachable".into(),
    }
}

fn encoding_opt(e: StringEncoding) -> &'static str {
    match e {
        StringEncoding::Utf8 => "string-encoding=utf8",
        StringEncoding::Utf16 => "string-encoding=utf16",
        StringEncoding::CompactUtf16 => "string-encoding=latin1+utf16",
    }
}

const REALLOC: &str = r#"
      (global $bump (mut i32) (i32.const 4096))
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
          (then (return (local.get $old))))
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
          (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $bump)
                    (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1)))
                    (i32.const -1)) (then unreachable))))
        (if (i32.ne (local.get $old) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
        (local.get $p))"#;

/// The composed component for type `t`; exports `echo` (through both components) and
/// `direct-echo` (the callee alone).
pub fn component(t: &Ty, caller: StringEncoding, callee: StringEncoding) -> String {
    let mut table = TypeTable::default();
    let ty = table.reference(t);
    let pad_ty = Ty::Record(vec![Ty::U64; 16]);
    let pad = table.reference(&pad_ty);
    let (root_defs, inner_defs, withs) = (table.root_defs(), table.inner_defs(), table.withs());
    let (callee_body, callee_result, fwd_results, fwd_body) = match single_flat(t) {
        None => (
            "local.get 0".to_string(),
            "(result i32)".to_string(),
            String::new(),
            "(call $echo (local.get 0) (i32.const 1024)) (i32.const 1024)".to_string(),
        ),
        Some(ft) => (
            format!("local.get 0 {}", single_load(t)),
            format!("(result {ft})"),
            format!("(result {ft})"),
            "(call $echo (local.get 0))".to_string(),
        ),
    };
    let lowered_params = if single_flat(t).is_some() {
        "(param i32)"
    } else {
        "(param i32 i32)"
    };
    let callee_enc = encoding_opt(callee);
    let caller_enc = encoding_opt(caller);
    format!(
        r#"(component{root_defs}
  (component $callee{inner_defs}
    (core module $m
      (memory (export "mem") 1)
      {REALLOC}
      (func (export "echo") (param i32) {callee_result} {callee_body}))
    (core instance $i (instantiate $m))
    (func (export "echo") (param "x" {ty}) (param "pad" {pad}) (result {ty})
      (canon lift (core func $i "echo") (memory $i "mem") (realloc (func $i "realloc")) {callee_enc})))
  (component $caller{inner_defs}
    (import "echo" (func $echo (param "x" {ty}) (param "pad" {pad}) (result {ty})))
    (core module $libc
      (memory (export "mem") 1)
      {REALLOC})
    (core instance $libc (instantiate $libc))
    (core func $echo' (canon lower (func $echo) (memory $libc "mem") (realloc (func $libc "realloc")) {caller_enc}))
    (core module $main
      (import "" "echo" (func $echo {lowered_params} {fwd_results}))
      (func (export "echo") (param i32) {callee_result} {fwd_body}))
    (core instance $main (instantiate $main (with "" (instance (export "echo" (func $echo'))))))
    (func (export "echo") (param "x" {ty}) (param "pad" {pad}) (result {ty})
      (canon lift (core func $main "echo") (memory $libc "mem") (realloc (func $libc "realloc")) {caller_enc})))
  (instance $callee (instantiate $callee{withs}))
  (instance $caller (instantiate $caller{withs} (with "echo" (func $callee "echo"))))
  (export "echo" (func $caller "echo"))
  (export "direct-echo" (func $callee "echo")))"#
    )
}

/// A component that serves its export `echo: func(x: T, pad: P) -> T` by calling the host's
/// import `echo` of the same type (lowered with `encoding`): the host sees the value cross out
/// and back in.
pub fn host_echo_component(t: &Ty, encoding: StringEncoding) -> String {
    let mut table = TypeTable::default();
    let ty = table.reference(t);
    let pad_ty = Ty::Record(vec![Ty::U64; 16]);
    let pad = table.reference(&pad_ty);
    // Types the import names must be imported too.
    let root_defs = table.inner_defs();
    let (result, fwd_results, fwd_body, lowered_params) = match single_flat(t) {
        None => (
            "(result i32)".to_string(),
            String::new(),
            "(call $echo (local.get 0) (i32.const 1024)) (i32.const 1024)".to_string(),
            "(param i32 i32)",
        ),
        Some(ft) => (
            format!("(result {ft})"),
            format!("(result {ft})"),
            "(call $echo (local.get 0))".to_string(),
            "(param i32)",
        ),
    };
    let enc = encoding_opt(encoding);
    format!(
        r#"(component{root_defs}
  (import "echo" (func $echo (param "x" {ty}) (param "pad" {pad}) (result {ty})))
  (core module $libc
    (memory (export "mem") 1)
    {REALLOC})
  (core instance $libc (instantiate $libc))
  (core func $echo' (canon lower (func $echo) (memory $libc "mem") (realloc (func $libc "realloc")) {enc}))
  (core module $main
    (import "" "echo" (func $echo {lowered_params} {fwd_results}))
    (func (export "echo") (param i32) {result} {fwd_body}))
  (core instance $main (instantiate $main (with "" (instance (export "echo" (func $echo'))))))
  (func (export "echo") (param "x" {ty}) (param "pad" {pad}) (result {ty})
    (canon lift (core func $main "echo") (memory $libc "mem") (realloc (func $libc "realloc")) {enc})))"#
    )
}

const CHARS: &[char] = &[
    'a', 'Z', '0', ' ', 'é', 'ÿ', 'ā', '☃', 'ツ', '𝄞', '\u{7f}', '\u{80}', '\u{ffff}',
];

fn gen_char(rng: &mut Rng) -> char {
    CHARS[rng.below(CHARS.len() as u64) as usize]
}

/// A random value of type `t`.
pub fn gen_value(rng: &mut Rng, t: &Ty) -> Val {
    let n = rng.next_u64();
    match t {
        Ty::Bool => Val::Bool(n & 1 == 1),
        Ty::S8 => Val::S8(n as i8),
        Ty::U8 => Val::U8(n as u8),
        Ty::S16 => Val::S16(n as i16),
        Ty::U16 => Val::U16(n as u16),
        Ty::S32 => Val::S32(n as i32),
        Ty::U32 => Val::U32(n as u32),
        Ty::S64 => Val::S64(n as i64),
        Ty::U64 => Val::U64(n),
        // Non-NaN floats: NaN payloads are not required to survive a crossing.
        Ty::F32 => Val::F32((n as i32) as f32 / 7.0),
        Ty::F64 => Val::F64((n as i64) as f64 / 3.0),
        Ty::Char => Val::Char(gen_char(rng)),
        Ty::String => {
            let len = rng.below(12);
            Val::String((0..len).map(|_| gen_char(rng)).collect())
        }
        Ty::List(e) => {
            let len = rng.below(5);
            Val::List((0..len).map(|_| gen_value(rng, e)).collect())
        }
        Ty::Record(fs) => Val::Record(
            fs.iter()
                .enumerate()
                .map(|(i, f)| (format!("f{i}"), gen_value(rng, f)))
                .collect(),
        ),
        Ty::Tuple(ts) => Val::Tuple(ts.iter().map(|t| gen_value(rng, t)).collect()),
        Ty::Variant(cs) => {
            let i = rng.below(cs.len() as u64) as usize;
            Val::Variant(
                format!("c{i}"),
                cs[i].as_ref().map(|t| Box::new(gen_value(rng, t))),
            )
        }
        Ty::Enum(k) => Val::Enum(format!("e{}", rng.below(*k as u64))),
        Ty::Option(t) => Val::Option(rng.chance(1, 2).then(|| Box::new(gen_value(rng, t)))),
        Ty::Result(ok, err) => {
            if rng.chance(1, 2) {
                Val::Result(Ok(ok.as_ref().map(|t| Box::new(gen_value(rng, t)))))
            } else {
                Val::Result(Err(err.as_ref().map(|t| Box::new(gen_value(rng, t)))))
            }
        }
        Ty::Flags(k) => Val::Flags(
            (0..*k)
                .filter(|_| rng.chance(1, 3))
                .map(|i| format!("f{i}"))
                .collect(),
        ),
        Ty::FixedList(e, n) => Val::List((0..*n).map(|_| gen_value(rng, e)).collect()),
        // A map is a list of entries to the Canonical ABI (and to weld's `Val`).
        Ty::Map(k, v) => {
            let len = rng.below(5);
            Val::List(
                (0..len)
                    .map(|_| Val::Tuple(vec![gen_value(rng, k), gen_value(rng, v)]))
                    .collect(),
            )
        }
    }
}

/// The padding argument.
pub fn pad_value() -> Val {
    Val::Record(
        (0..16)
            .map(|i| (format!("f{i}"), Val::U64(i * 0x0101_0101)))
            .collect(),
    )
}

/// All three string encodings.
pub const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];
