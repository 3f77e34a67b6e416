//! [`Val`]: a component-level value as the host sees it, printed in WAVE syntax (the text format
//! of `wasmtime run --invoke`) and checked against an interface type.

use super::types::Types;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Display, Formatter, Write};
use weld_contract::component::TypeDef;

/// A resource crossing to or from the host: its resource type (index into
/// `ComponentInfo::resources`) and its representation in the defining instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceHandle {
    /// Resource type.
    pub resource: u32,
    /// The defining instance's representation (`resource.new`'s argument).
    pub rep: u32,
}

impl ResourceHandle {
    /// The `resource` of a handle a host function returns for a resource type the host defines:
    /// the runtime replaces it with the type its result type names
    /// ([`Val::resolve_host_resources`]).
    pub const HOST: u32 = u32::MAX;

    /// A host resource's `rep`, with its type left for the runtime to fill in.
    pub fn host(rep: u32) -> ResourceHandle {
        ResourceHandle {
            resource: ResourceHandle::HOST,
            rep,
        }
    }
}

/// A component value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// bool
    Bool(bool),
    /// s8
    S8(i8),
    /// u8
    U8(u8),
    /// s16
    S16(i16),
    /// u16
    U16(u16),
    /// s32
    S32(i32),
    /// u32
    U32(u32),
    /// s64
    S64(i64),
    /// u64
    U64(u64),
    /// f32
    F32(f32),
    /// f64
    F64(f64),
    /// char
    Char(char),
    /// string
    String(String),
    /// list<T>
    List(Vec<Val>),
    /// record: fields in type order
    Record(Vec<(String, Val)>),
    /// tuple
    Tuple(Vec<Val>),
    /// variant: case name and payload
    Variant(String, Option<Box<Val>>),
    /// enum case
    Enum(String),
    /// option
    Option(Option<Box<Val>>),
    /// result
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// flags: the names that are set
    Flags(Vec<String>),
    /// own<R>
    Own(ResourceHandle),
    /// borrow<R>
    Borrow(ResourceHandle),
    /// The readable end of a stream, in transit between two tables.
    Stream(ChannelRef),
    /// The readable end of a future, in transit.
    Future(ChannelRef),
    /// An error context, in transit (the store's id of the immutable value).
    ErrorContext(u32),
}

/// A stream or future in transit: its type (the `stream<T>`/`future<T>` type, an index into
/// `ComponentInfo::types`) and the store's id of the shared channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelRef {
    /// The stream or future type.
    pub ty: u32,
    /// The channel.
    pub id: u32,
}

/// WAVE keywords that must be written with a `%` prefix when used as a variant or enum case
/// (wasm-wave writes record fields and flags without it).
const KEYWORDS: &[&str] = &["true", "false", "some", "none", "ok", "err", "inf", "nan"];

fn label(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    if KEYWORDS.contains(&name) {
        f.write_char('%')?;
    }
    f.write_str(name)
}

/// One character of a WAVE string or char literal, escaped as wasm-wave (and so `wasmtime run
/// --invoke`) writes it: both quotes, backslash, tab, CR and LF by name; other control
/// characters as `\u{hex}`; combining and unprintable ones as Rust's `escape_debug` does.
fn escaped(f: &mut Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\\' | '"' | '\'' | '\t' | '\r' | '\n' => write!(f, "{}", c.escape_default()),
        c if c.is_control() => write!(f, "{}", c.escape_unicode()),
        c => write!(f, "{}", c.escape_debug()),
    }
}

fn float(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_nan() {
        f.write_str("nan")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        write!(f, "{v}")
    }
}

fn seq<'a>(
    f: &mut Formatter<'_>,
    open: &str,
    close: &str,
    items: impl Iterator<Item = &'a Val>,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, v) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str(close)
}

fn payload(f: &mut Formatter<'_>, v: &Option<Box<Val>>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "({v})"),
        None => Ok(()),
    }
}

impl Display for Val {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Val::Bool(b) => write!(f, "{b}"),
            Val::S8(v) => write!(f, "{v}"),
            Val::U8(v) => write!(f, "{v}"),
            Val::S16(v) => write!(f, "{v}"),
            Val::U16(v) => write!(f, "{v}"),
            Val::S32(v) => write!(f, "{v}"),
            Val::U32(v) => write!(f, "{v}"),
            Val::S64(v) => write!(f, "{v}"),
            Val::U64(v) => write!(f, "{v}"),
            Val::F32(v) => {
                if v.is_finite() {
                    write!(f, "{v}")
                } else {
                    float(f, f64::from(*v))
                }
            }
            Val::F64(v) => float(f, *v),
            Val::Char(c) => {
                f.write_char('\'')?;
                escaped(f, *c)?;
                f.write_char('\'')
            }
            Val::String(s) => {
                f.write_char('"')?;
                for c in s.chars() {
                    escaped(f, c)?;
                }
                f.write_char('"')
            }
            Val::List(vs) => seq(f, "[", "]", vs.iter()),
            Val::Tuple(vs) => seq(f, "(", ")", vs.iter()),
            // As wasm-wave writes records: fields that are `none` left out, `{:}` when none
            // is left.
            Val::Record(fields) => {
                let mut shown = fields
                    .iter()
                    .filter(|(_, v)| !matches!(v, Val::Option(None)))
                    .peekable();
                if shown.peek().is_none() {
                    return f.write_str("{:}");
                }
                f.write_char('{')?;
                for (i, (name, v)) in shown.enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {v}")?;
                }
                f.write_char('}')
            }
            Val::Variant(name, v) => {
                label(f, name)?;
                payload(f, v)
            }
            Val::Enum(name) => label(f, name),
            Val::Option(None) => f.write_str("none"),
            Val::Option(Some(v)) => write!(f, "some({v})"),
            Val::Result(Ok(v)) => {
                f.write_str("ok")?;
                payload(f, v)
            }
            Val::Result(Err(v)) => {
                f.write_str("err")?;
                payload(f, v)
            }
            Val::Flags(names) => {
                f.write_char('{')?;
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(name)?;
                }
                f.write_char('}')
            }
            Val::Own(h) => write!(f, "own<{}>({})", h.resource, h.rep),
            Val::Borrow(h) => write!(f, "borrow<{}>({})", h.resource, h.rep),
            Val::Stream(c) => write!(f, "stream<{}>({})", c.ty, c.id),
            Val::Future(c) => write!(f, "future<{}>({})", c.ty, c.id),
            Val::ErrorContext(e) => write!(f, "error-context({e})"),
        }
    }
}

/// Drop `vals`, releasing each list of plain scalars (bytes read or written through WASI
/// streams, say) in one step: dropping a `Vec<Val>` otherwise visits every element.
#[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
pub(crate) fn release(vals: Vec<Val>) {
    let mut stack = vals;
    while let Some(v) = stack.pop() {
        match v {
            Val::List(mut vs) | Val::Tuple(mut vs) => {
                if vs.iter().all(Val::is_plain_scalar) {
                    // SAFETY: every element is a variant without heap data (no drop glue to
                    // run), so forgetting them leaks nothing; the buffer is freed below.
                    unsafe { vs.set_len(0) };
                } else {
                    stack.append(&mut vs);
                }
            }
            Val::Record(fs) => stack.extend(fs.into_iter().map(|(_, v)| v)),
            Val::Option(Some(b))
            | Val::Result(Ok(Some(b)))
            | Val::Result(Err(Some(b)))
            | Val::Variant(_, Some(b)) => stack.push(*b),
            other => drop(other),
        }
    }
}

impl Val {
    /// A number, bool or char: a variant that owns nothing.
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    fn is_plain_scalar(&self) -> bool {
        matches!(
            self,
            Val::Bool(_)
                | Val::S8(_)
                | Val::U8(_)
                | Val::S16(_)
                | Val::U16(_)
                | Val::S32(_)
                | Val::U32(_)
                | Val::S64(_)
                | Val::U64(_)
                | Val::F32(_)
                | Val::F64(_)
                | Val::Char(_)
        )
    }
}

/// The `Val` variant of a scalar type (numbers, bool, char, string): a value has the type
/// exactly when it is that variant. `None` for every other type.
fn scalar_discriminant(def: &TypeDef) -> Option<core::mem::Discriminant<Val>> {
    let v = match def {
        TypeDef::Bool => Val::Bool(false),
        TypeDef::S8 => Val::S8(0),
        TypeDef::U8 => Val::U8(0),
        TypeDef::S16 => Val::S16(0),
        TypeDef::U16 => Val::U16(0),
        TypeDef::S32 => Val::S32(0),
        TypeDef::U32 => Val::U32(0),
        TypeDef::S64 => Val::S64(0),
        TypeDef::U64 => Val::U64(0),
        TypeDef::F32 => Val::F32(0.0),
        TypeDef::F64 => Val::F64(0.0),
        TypeDef::Char => Val::Char('\0'),
        TypeDef::String => Val::String(String::new()),
        _ => return None,
    };
    Some(core::mem::discriminant(&v))
}

fn payload_ok(types: Types<'_>, v: &Option<Box<Val>>, t: Option<u32>) -> Result<(), String> {
    match (v, t) {
        (None, None) => Ok(()),
        (Some(v), Some(t)) => v.check(types, t),
        (Some(_), None) => Err("unexpected payload".into()),
        (None, Some(_)) => Err("missing payload".into()),
    }
}

impl Val {
    /// Give every handle whose resource is [`ResourceHandle::HOST`] the resource type that `ty`
    /// names at its position, if `host_defined` says the host defines that type. Other values
    /// are left alone (and fail [`Val::check`] if they do not fit).
    pub fn resolve_host_resources(
        &mut self,
        types: Types<'_>,
        ty: u32,
        host_defined: &dyn Fn(u32) -> bool,
    ) {
        let mut stack = alloc::vec![(self, ty)];
        while let Some((v, ty)) = stack.pop() {
            match (v, types.get(ty)) {
                (Val::Own(h) | Val::Borrow(h), TypeDef::Own(r) | TypeDef::Borrow(r))
                    if h.resource == ResourceHandle::HOST && host_defined(*r) =>
                {
                    h.resource = *r;
                }
                // Scalars hold no handles: a list of them (bytes) needs no visit per element.
                (Val::List(vs), _) => {
                    if let Some(t) = types.element(ty) {
                        if scalar_discriminant(types.get(t)).is_none() {
                            stack.extend(vs.iter_mut().map(|v| (v, t)));
                        }
                    }
                }
                (Val::Tuple(vs), TypeDef::Tuple(ts)) => {
                    stack.extend(vs.iter_mut().zip(ts.iter().copied()));
                }
                (Val::Record(fs), TypeDef::Record(ts)) => {
                    stack.extend(
                        fs.iter_mut()
                            .map(|(_, v)| v)
                            .zip(ts.iter().map(|(_, t)| *t)),
                    );
                }
                (Val::Variant(name, Some(v)), TypeDef::Variant(cases)) => {
                    if let Some((_, Some(t))) = cases.iter().find(|(n, _)| n == name) {
                        stack.push((v, *t));
                    }
                }
                (Val::Option(Some(v)), TypeDef::Option(t)) => stack.push((v, *t)),
                (Val::Result(Ok(Some(v))), TypeDef::Result { ok: Some(t), .. })
                | (Val::Result(Err(Some(v))), TypeDef::Result { err: Some(t), .. }) => {
                    stack.push((v, *t));
                }
                _ => {}
            }
        }
    }

    /// Whether the value has type `ty` of `types`; the error says where it does not.
    pub fn check(&self, types: Types<'_>, ty: u32) -> Result<(), String> {
        let def = types.get(ty);
        let ok = match (self, def) {
            (Val::Bool(_), TypeDef::Bool)
            | (Val::S8(_), TypeDef::S8)
            | (Val::U8(_), TypeDef::U8)
            | (Val::S16(_), TypeDef::S16)
            | (Val::U16(_), TypeDef::U16)
            | (Val::S32(_), TypeDef::S32)
            | (Val::U32(_), TypeDef::U32)
            | (Val::S64(_), TypeDef::S64)
            | (Val::U64(_), TypeDef::U64)
            | (Val::F32(_), TypeDef::F32)
            | (Val::F64(_), TypeDef::F64)
            | (Val::Char(_), TypeDef::Char)
            | (Val::String(_), TypeDef::String) => true,
            (Val::List(vs), TypeDef::FixedList { len, .. }) if vs.len() != *len as usize => {
                return Err(format!(
                    "expected a list of {len} elements, found {}",
                    vs.len()
                ));
            }
            (
                Val::List(vs),
                TypeDef::List(t) | TypeDef::FixedList { elem: t, .. } | TypeDef::Map { entry: t },
            ) => {
                // Lists of scalars (bytes above all): one comparison per element.
                if let Some(d) = scalar_discriminant(types.get(*t)) {
                    if vs.iter().all(|v| core::mem::discriminant(v) == d) {
                        return Ok(());
                    }
                }
                return vs.iter().try_for_each(|v| v.check(types, *t));
            }
            (Val::Record(fs), TypeDef::Record(want)) => {
                if fs.len() != want.len() {
                    return Err(format!("expected {} record fields", want.len()));
                }
                for ((name, v), (want_name, t)) in fs.iter().zip(want) {
                    if name != want_name {
                        return Err(format!("expected field `{want_name}`, found `{name}`"));
                    }
                    v.check(types, *t)
                        .map_err(|e| format!("field `{name}`: {e}"))?;
                }
                return Ok(());
            }
            (Val::Tuple(vs), TypeDef::Tuple(ts)) => {
                if vs.len() != ts.len() {
                    return Err(format!("expected a tuple of {}", ts.len()));
                }
                return vs.iter().zip(ts).try_for_each(|(v, t)| v.check(types, *t));
            }
            (Val::Variant(name, v), TypeDef::Variant(cases)) => {
                let Some((_, t)) = cases.iter().find(|(n, _)| n == name) else {
                    return Err(format!("no case `{name}`"));
                };
                return payload_ok(types, v, *t);
            }
            (Val::Enum(name), TypeDef::Enum(names)) => names.contains(name),
            (Val::Option(v), TypeDef::Option(t)) => {
                return v.as_ref().map_or(Ok(()), |v| v.check(types, *t));
            }
            (Val::Result(Ok(v)), TypeDef::Result { ok, .. }) => return payload_ok(types, v, *ok),
            (Val::Result(Err(v)), TypeDef::Result { err, .. }) => {
                return payload_ok(types, v, *err)
            }
            (Val::Flags(set), TypeDef::Flags(names)) => set.iter().all(|s| names.contains(s)),
            (Val::Own(h), TypeDef::Own(r)) | (Val::Borrow(h), TypeDef::Borrow(r)) => {
                h.resource == *r
            }
            // A host may lend a resource it owns.
            (Val::Own(h), TypeDef::Borrow(r)) => h.resource == *r,
            (Val::Stream(c), TypeDef::Stream(_)) | (Val::Future(c), TypeDef::Future(_)) => {
                c.ty == ty
            }
            (Val::ErrorContext(_), TypeDef::ErrorContext) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("value `{self}` does not have type {def:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn s(text: &str) -> Val {
        Val::String(text.into())
    }

    #[test]
    fn strings_and_chars_are_escaped_as_wasm_wave_writes_them() {
        assert_eq!(s("it's \"x\"\\").to_string(), r#""it\'s \"x\"\\""#);
        assert_eq!(
            s("a\tb\r\n\0\u{1b}\u{7f}").to_string(),
            r#""a\tb\r\n\u{0}\u{1b}\u{7f}""#
        );
        // Combining and invisible characters are spelled out; printable ones are not.
        assert_eq!(
            s("e\u{301}\u{200b}é😀").to_string(),
            r#""e\u{301}\u{200b}é😀""#
        );
        assert_eq!(Val::Char('"').to_string(), r#"'\"'"#);
        assert_eq!(Val::Char('\'').to_string(), r"'\''");
    }

    #[test]
    fn records_leave_out_none_fields_and_labels_are_marked_only_for_cases() {
        let rec = |fields: Vec<(&str, Val)>| {
            Val::Record(fields.into_iter().map(|(n, v)| (n.into(), v)).collect())
        };
        let r = rec(vec![
            ("a", Val::U8(1)),
            ("none", Val::Option(None)),
            ("ok", Val::Bool(true)),
        ]);
        assert_eq!(r.to_string(), "{a: 1, ok: true}");
        assert_eq!(rec(vec![("b", Val::Option(None))]).to_string(), "{:}");
        assert_eq!(
            Val::Flags(vec!["ok".into(), "x".into()]).to_string(),
            "{ok, x}"
        );
        assert_eq!(Val::Enum("none".into()).to_string(), "%none");
        assert_eq!(
            Val::Variant("some".into(), Some(Box::new(Val::S32(-1)))).to_string(),
            "%some(-1)"
        );
    }

    #[test]
    fn floats_are_written_as_wasm_wave_writes_them() {
        assert_eq!(Val::F64(1.5).to_string(), "1.5");
        assert_eq!(Val::F64(1.0).to_string(), "1");
        assert_eq!(Val::F64(1e20).to_string(), "100000000000000000000");
        assert_eq!(Val::F64(-0.0).to_string(), "-0");
        assert_eq!(Val::F32(f32::NAN).to_string(), "nan");
        assert_eq!(Val::F32(f32::NEG_INFINITY).to_string(), "-inf");
    }
}
