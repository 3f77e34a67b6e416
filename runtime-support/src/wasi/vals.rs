//! Reading arguments from and building [`Val`]s for WASI's WIT types. Accessors trap with
//! `InvalidValue` on a value of the wrong shape (the runtime type-checks values, so that only
//! happens on a host bug), never panic.

use super::table::bad_args;
use crate::component::{ResourceHandle, Val};
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// Argument `i`.
pub(crate) fn arg(args: &[Val], i: usize) -> Result<&Val, Trap> {
    args.get(i).ok_or_else(bad_args)
}

/// The rep of resource argument `i` (own or borrow).
pub(crate) fn rep(args: &[Val], i: usize) -> Result<u32, Trap> {
    match arg(args, i)? {
        Val::Own(h) | Val::Borrow(h) => Ok(h.rep),
        _ => Err(bad_args()),
    }
}

/// A `u64` argument.
pub(crate) fn u64_arg(args: &[Val], i: usize) -> Result<u64, Trap> {
    match arg(args, i)? {
        Val::U64(v) => Ok(*v),
        _ => Err(bad_args()),
    }
}

/// A `string` argument.
pub(crate) fn str_arg(args: &[Val], i: usize) -> Result<&str, Trap> {
    match arg(args, i)? {
        Val::String(s) => Ok(s),
        _ => Err(bad_args()),
    }
}

/// A `list<u8>` argument.
pub(crate) fn bytes_arg(args: &[Val], i: usize) -> Result<Vec<u8>, Trap> {
    match arg(args, i)? {
        Val::List(vs) => vs
            .iter()
            .map(|v| match v {
                Val::U8(b) => Ok(*b),
                _ => Err(bad_args()),
            })
            .collect(),
        _ => Err(bad_args()),
    }
}

/// The names set in a `flags` argument.
pub(crate) fn flags_arg(args: &[Val], i: usize) -> Result<&[String], Trap> {
    match arg(args, i)? {
        Val::Flags(names) => Ok(names),
        _ => Err(bad_args()),
    }
}

/// Whether flag `name` is set in `flags`.
pub(crate) fn has(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f == name)
}

/// `list<u8>`.
pub(crate) fn bytes(b: &[u8]) -> Val {
    Val::List(b.iter().map(|b| Val::U8(*b)).collect())
}

/// `string`.
pub(crate) fn string(s: impl Into<String>) -> Val {
    Val::String(s.into())
}

/// `own<R>` of a host resource.
pub(crate) fn own(rep: u32) -> Val {
    Val::Own(ResourceHandle::host(rep))
}

/// `ok(v)`.
pub(crate) fn ok(v: Val) -> Val {
    Val::Result(Ok(Some(Box::new(v))))
}

/// `ok` without a payload.
pub(crate) fn ok_unit() -> Val {
    Val::Result(Ok(None))
}

/// `err(v)`.
pub(crate) fn err(v: Val) -> Val {
    Val::Result(Err(Some(Box::new(v))))
}

/// `some(v)`.
pub(crate) fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

/// An enum case.
pub(crate) fn case(name: &str) -> Val {
    Val::Enum(name.into())
}

/// A record from `(field, value)` pairs.
pub(crate) fn record(fields: impl IntoIterator<Item = (&'static str, Val)>) -> Val {
    Val::Record(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// `datetime { seconds, nanoseconds }`.
pub(crate) fn datetime(seconds: u64, nanoseconds: u32) -> Val {
    record([
        ("seconds", Val::U64(seconds)),
        ("nanoseconds", Val::U32(nanoseconds)),
    ])
}

/// Some result in a host function's return.
pub(crate) fn ret(v: Val) -> Result<Option<Val>, Trap> {
    Ok(Some(v))
}
