//! The Canonical ABI proper: `load`/`store`, `lift_flat`/`lower_flat` and
//! `lift_values`/`lower_values` of the spec (synchronous subset), over a [`CanonCx`]: one side's
//! linear memory, `realloc`, string encoding and handle table. The runtime implements the trait
//! over a store's memory and functions; tests implement it over a `Vec<u8>`.
//!
//! Flat core values are carried as `u64` bits, 32-bit values zero-extended. With that
//! representation the variant payload coercions of the spec (`i32`↔`f32`, wrapping an `i64`) are
//! all "take the low bits", which the 32-bit readers do anyway.

use super::string::{load_string, store_string};
use super::types::{discriminant_size, flag_words, Flat, Types};
use super::val::{ChannelRef, ResourceHandle, Val};
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use weld_contract::component::{StringEncoding, TypeDef};
use weld_contract::trap::TrapCode;

pub use weld_contract::component::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};

/// One side of a boundary crossing: what lifting from or lowering into it needs.
pub trait CanonCx {
    /// The side's string encoding.
    fn encoding(&self) -> StringEncoding;
    /// Whether the other side is the host (selects the trap texts the host-side checks use).
    fn host_side(&self) -> bool;
    /// The side's linear memory.
    fn memory(&self) -> Result<&[u8], Trap>;
    /// The side's linear memory, mutably.
    fn memory_mut(&mut self) -> Result<&mut [u8], Trap>;
    /// Call the side's `realloc(old_ptr, old_size, align, new_size)`.
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Trap>;
    /// `lift_own`: take handle `index` of `resource` out of the side's table; its rep.
    fn lift_own(&mut self, resource: u32, index: u32) -> Result<u32, Trap>;
    /// `lift_borrow`: lend handle `index` for the call; its rep.
    fn lift_borrow(&mut self, resource: u32, index: u32) -> Result<u32, Trap>;
    /// `lower_own`: a new owning handle for `rep`.
    fn lower_own(&mut self, resource: u32, rep: u32) -> Result<u32, Trap>;
    /// `lower_borrow`: a borrow handle for `rep` (or `rep` itself in the defining instance).
    fn lower_borrow(&mut self, resource: u32, rep: u32) -> Result<u32, Trap>;
    /// `lift_stream`/`lift_future`: take the readable end `index` of stream or future type `ty`
    /// out of the side's table; the channel it reads.
    fn lift_channel(&mut self, ty: u32, index: u32) -> Result<u32, Trap> {
        let _ = (ty, index);
        Err(trap(TrapCode::UnsupportedBuiltin))
    }
    /// Lower a readable end of channel `id` (of type `ty`) into the side's table; its index.
    fn lower_channel(&mut self, ty: u32, id: u32) -> Result<u32, Trap> {
        let _ = (ty, id);
        Err(trap(TrapCode::UnsupportedBuiltin))
    }
    /// `lift_error_context`: the error context at `index` of the side's table (it stays
    /// there: error contexts are copied, not moved).
    fn lift_error_context(&mut self, index: u32) -> Result<u32, Trap> {
        let _ = index;
        Err(trap(TrapCode::UnsupportedBuiltin))
    }
    /// Lower error context `id` into the side's table; its index.
    fn lower_error_context(&mut self, id: u32) -> Result<u32, Trap> {
        let _ = id;
        Err(trap(TrapCode::UnsupportedBuiltin))
    }
    /// The host call this side's values are lifted for, when the host function may borrow
    /// them from its memory (see `WasmStr`); 0 otherwise.
    fn host_call(&self) -> u64 {
        0
    }
}

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

fn bad_value() -> Trap {
    trap(TrapCode::InvalidValue)
}

/// Lift handle `i` of a stream, future or error-context type `t` (`def`) from `cx`'s table.
fn lift_async_value<C: CanonCx + ?Sized>(
    cx: &mut C,
    def: &TypeDef,
    t: u32,
    i: u32,
) -> Result<Val, Trap> {
    Ok(match def {
        TypeDef::Stream(_) => Val::Stream(ChannelRef {
            ty: t,
            id: cx.lift_channel(t, i)?,
        }),
        TypeDef::Future(_) => Val::Future(ChannelRef {
            ty: t,
            id: cx.lift_channel(t, i)?,
        }),
        _ => Val::ErrorContext(cx.lift_error_context(i)?),
    })
}

/// Lower a stream, future or error context `v` of type `t` into `cx`'s table: its index.
fn lower_async_value<C: CanonCx + ?Sized>(cx: &mut C, t: u32, v: &Val) -> Result<u32, Trap> {
    match v {
        Val::Stream(c) | Val::Future(c) if c.ty == t => cx.lower_channel(t, c.id),
        Val::ErrorContext(e) => cx.lower_error_context(*e),
        _ => Err(bad_value()),
    }
}

/// Call `realloc` and check its result as the spec does: alignment first, then that
/// `ptr + size` fits in memory (`oob` is the fused-adapter trap for the latter).
pub fn alloc_checked<C: CanonCx + ?Sized>(
    cx: &mut C,
    old_ptr: u32,
    old_size: u32,
    align: u32,
    size: u32,
    oob: TrapCode,
) -> Result<u32, Trap> {
    let ptr = cx.realloc(old_ptr, old_size, align, size)?;
    let host = cx.host_side();
    if !ptr.is_multiple_of(align.max(1)) {
        return Err(trap(if host {
            TrapCode::ReallocUnaligned
        } else {
            TrapCode::UnalignedPointer
        }));
    }
    if u64::from(ptr) + u64::from(size) > cx.memory()?.len() as u64 {
        return Err(trap(if host {
            TrapCode::ReallocOutOfBounds
        } else {
            oob
        }));
    }
    Ok(ptr)
}

/// Write `bytes` at `ptr`, bounds-checked.
pub fn write_bytes<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32, bytes: &[u8]) -> Result<(), Trap> {
    let mem = cx.memory_mut()?;
    let start = ptr as usize;
    let dst = start
        .checked_add(bytes.len())
        .and_then(|end| mem.get_mut(start..end))
        .ok_or(trap(TrapCode::MemoryOutOfBounds))?;
    dst.copy_from_slice(bytes);
    Ok(())
}

fn read<C: CanonCx + ?Sized, const N: usize>(cx: &C, ptr: u32) -> Result<[u8; N], Trap> {
    let mem = cx.memory()?;
    let start = ptr as usize;
    let src = start
        .checked_add(N)
        .and_then(|end| mem.get(start..end))
        .ok_or(trap(TrapCode::MemoryOutOfBounds))?;
    let mut out = [0; N];
    out.copy_from_slice(src);
    Ok(out)
}

fn read_uint<C: CanonCx + ?Sized>(cx: &C, ptr: u32, n: u32) -> Result<u64, Trap> {
    Ok(match n {
        0 => 0,
        1 => u64::from(read::<C, 1>(cx, ptr)?[0]),
        2 => u64::from(u16::from_le_bytes(read(cx, ptr)?)),
        4 => u64::from(u32::from_le_bytes(read(cx, ptr)?)),
        _ => u64::from_le_bytes(read(cx, ptr)?),
    })
}

fn write_uint<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32, n: u32, v: u64) -> Result<(), Trap> {
    let bytes = v.to_le_bytes();
    write_bytes(cx, ptr, &bytes[..(n as usize).min(8)])
}

pub(crate) fn f32_canon(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(weld_contract::component::abi::CANONICAL_F32_NAN)
    } else {
        f
    }
}

pub(crate) fn f64_canon(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(weld_contract::component::abi::CANONICAL_F64_NAN)
    } else {
        f
    }
}

pub(crate) fn to_char(i: u32) -> Result<char, Trap> {
    char::from_u32(i).ok_or(trap(TrapCode::InvalidCharBitPattern))
}

/// The case names of a variant-like type.
fn case_names(def: &TypeDef) -> Vec<&str> {
    match def {
        TypeDef::Variant(cases) => cases.iter().map(|(n, _)| n.as_str()).collect(),
        TypeDef::Enum(names) => names.iter().map(String::as_str).collect(),
        TypeDef::Option(_) => alloc::vec!["none", "some"],
        TypeDef::Result { .. } => alloc::vec!["ok", "error"],
        _ => Vec::new(),
    }
}

/// The case index and payload of a variant-like value of type `def`.
fn match_case<'v>(v: &'v Val, def: &TypeDef) -> Result<(u32, Option<&'v Val>), Trap> {
    let payload = |p: &'v Option<Box<Val>>| p.as_deref();
    Ok(match (v, def) {
        (Val::Variant(name, p), TypeDef::Variant(cases)) => {
            let i = cases.iter().position(|(n, _)| n == name);
            (i.ok_or_else(bad_value)? as u32, payload(p))
        }
        (Val::Enum(name), TypeDef::Enum(names)) => (
            names.iter().position(|n| n == name).ok_or_else(bad_value)? as u32,
            None,
        ),
        (Val::Option(None), TypeDef::Option(_)) => (0, None),
        (Val::Option(Some(p)), TypeDef::Option(_)) => (1, Some(&**p)),
        (Val::Result(Ok(p)), TypeDef::Result { .. }) => (0, payload(p)),
        (Val::Result(Err(p)), TypeDef::Result { .. }) => (1, payload(p)),
        _ => return Err(bad_value()),
    })
}

/// Build a variant-like value of type `def` from a case index and payload.
fn make_case(def: &TypeDef, index: u32, payload: Option<Val>) -> Val {
    let boxed = payload.map(Box::new);
    let name = || {
        case_names(def)
            .get(index as usize)
            .map(|s| String::from(*s))
            .unwrap_or_default()
    };
    match def {
        TypeDef::Enum(_) => Val::Enum(name()),
        TypeDef::Option(_) => Val::Option(boxed),
        TypeDef::Result { .. } if index == 0 => Val::Result(Ok(boxed)),
        TypeDef::Result { .. } => Val::Result(Err(boxed)),
        _ => Val::Variant(name(), boxed),
    }
}

fn flag_names(def: &TypeDef) -> &[String] {
    match def {
        TypeDef::Flags(names) => names,
        _ => &[],
    }
}

fn unpack_flags(def: &TypeDef, words: &[u32]) -> Val {
    let names = flag_names(def);
    let set = names
        .iter()
        .enumerate()
        .filter(|(i, _)| words.get(i / 32).is_some_and(|w| w >> (i % 32) & 1 != 0))
        .map(|(_, n)| n.clone())
        .collect();
    Val::Flags(set)
}

fn pack_flags(def: &TypeDef, v: &Val) -> Result<Vec<u32>, Trap> {
    let (Val::Flags(set), TypeDef::Flags(names)) = (v, def) else {
        return Err(bad_value());
    };
    let mut words = alloc::vec![0u32; flag_words(names.len())];
    for s in set {
        let i = names.iter().position(|n| n == s).ok_or_else(bad_value)?;
        words[i / 32] |= 1 << (i % 32);
    }
    Ok(words)
}

/// Lifting and lowering against one type arena. `src` is the string encoding of the side
/// values come from when lowering (the host's is UTF-8).
#[derive(Clone, Copy, Debug)]
pub struct Abi<'t> {
    /// The type arena.
    pub types: Types<'t>,
    /// Encoding of the strings being lowered, as their source had them.
    pub src: StringEncoding,
}

/// Iterator over flat core values.
#[derive(Debug)]
pub struct FlatIter<'a> {
    vals: &'a [u64],
    pos: usize,
}

impl<'a> FlatIter<'a> {
    /// Iterate over `vals`.
    pub fn new(vals: &'a [u64]) -> FlatIter<'a> {
        FlatIter { vals, pos: 0 }
    }

    fn next(&mut self) -> Result<u64, Trap> {
        let v = self.vals.get(self.pos).copied().ok_or_else(bad_value)?;
        self.pos += 1;
        Ok(v)
    }

    fn next32(&mut self) -> Result<u32, Trap> {
        Ok(self.next()? as u32)
    }
}

impl Abi<'_> {
    /// `load(cx, ptr, t)`: the caller has checked alignment and bounds; reads are still
    /// bounds-checked and never panic.
    pub fn load<C: CanonCx + ?Sized>(&self, cx: &mut C, ptr: u32, t: u32) -> Result<Val, Trap> {
        let def = self.types.get(t);
        Ok(match def {
            TypeDef::Bool => Val::Bool(read_uint(cx, ptr, 1)? != 0),
            TypeDef::U8 => Val::U8(read_uint(cx, ptr, 1)? as u8),
            TypeDef::S8 => Val::S8(read_uint(cx, ptr, 1)? as u8 as i8),
            TypeDef::U16 => Val::U16(read_uint(cx, ptr, 2)? as u16),
            TypeDef::S16 => Val::S16(read_uint(cx, ptr, 2)? as u16 as i16),
            TypeDef::U32 => Val::U32(read_uint(cx, ptr, 4)? as u32),
            TypeDef::S32 => Val::S32(read_uint(cx, ptr, 4)? as u32 as i32),
            TypeDef::U64 => Val::U64(read_uint(cx, ptr, 8)?),
            TypeDef::S64 => Val::S64(read_uint(cx, ptr, 8)? as i64),
            TypeDef::F32 => Val::F32(f32_canon(read_uint(cx, ptr, 4)? as u32)),
            TypeDef::F64 => Val::F64(f64_canon(read_uint(cx, ptr, 8)?)),
            TypeDef::Char => Val::Char(to_char(read_uint(cx, ptr, 4)? as u32)?),
            TypeDef::String => {
                let begin = read_uint(cx, ptr, 4)? as u32;
                let units = read_uint(cx, ptr.wrapping_add(4), 4)? as u32;
                Val::String(load_string(cx, begin, units)?)
            }
            TypeDef::List(e) | TypeDef::Map { entry: e } => {
                let begin = read_uint(cx, ptr, 4)? as u32;
                let len = read_uint(cx, ptr.wrapping_add(4), 4)? as u32;
                Val::List(self.load_list(cx, begin, len, *e)?)
            }
            TypeDef::FixedList { elem, len } => {
                let size = self.types.size(*elem);
                let mut out = Vec::new();
                for i in 0..*len {
                    out.push(self.load(cx, ptr.wrapping_add(i.wrapping_mul(size)), *elem)?);
                }
                Val::List(out)
            }
            TypeDef::Record(fields) => {
                let tys: Vec<u32> = fields.iter().map(|(_, t)| *t).collect();
                let vals = self.load_fields(cx, ptr, &tys)?;
                let names = fields.iter().map(|(n, _)| n.clone());
                Val::Record(names.zip(vals).collect())
            }
            TypeDef::Tuple(ts) => Val::Tuple(self.load_fields(cx, ptr, ts)?),
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => {
                let cases = self.types.cases(t).unwrap_or_default();
                let index = read_uint(cx, ptr, discriminant_size(cases.len()))? as u32;
                let case = cases
                    .get(index as usize)
                    .ok_or(trap(TrapCode::InvalidVariantDiscriminant))?;
                let at = ptr.wrapping_add(self.types.payload_offset(&cases));
                let payload = match case {
                    Some(ct) => Some(self.load(cx, at, *ct)?),
                    None => None,
                };
                make_case(def, index, payload)
            }
            TypeDef::Flags(names) => {
                let size = self.types.size(t);
                let words = if names.len() <= 32 {
                    alloc::vec![read_uint(cx, ptr, size)? as u32]
                } else {
                    let mut w = Vec::new();
                    for i in 0..flag_words(names.len()) as u32 {
                        w.push(read_uint(cx, ptr.wrapping_add(4 * i), 4)? as u32);
                    }
                    w
                };
                unpack_flags(def, &words)
            }
            TypeDef::Own(r) => {
                let rep = cx.lift_own(*r, read_uint(cx, ptr, 4)? as u32)?;
                Val::Own(ResourceHandle { resource: *r, rep })
            }
            TypeDef::Borrow(r) => {
                let rep = cx.lift_borrow(*r, read_uint(cx, ptr, 4)? as u32)?;
                Val::Borrow(ResourceHandle { resource: *r, rep })
            }
            TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext => {
                let i = read_uint(cx, ptr, 4)? as u32;
                lift_async_value(cx, def, t, i)?
            }
        })
    }

    fn load_fields<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        ptr: u32,
        tys: &[u32],
    ) -> Result<Vec<Val>, Trap> {
        let offsets = self.types.field_offsets(tys);
        let mut out = Vec::with_capacity(tys.len());
        for (t, off) in tys.iter().zip(offsets) {
            out.push(self.load(cx, ptr.wrapping_add(off), *t)?);
        }
        Ok(out)
    }

    /// `load_list_from_range`.
    pub fn load_list<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        ptr: u32,
        len: u32,
        elem: u32,
    ) -> Result<Vec<Val>, Trap> {
        let (align, size) = (self.types.align(elem), self.types.size(elem));
        if !ptr.is_multiple_of(align) {
            return Err(trap(TrapCode::UnalignedPointer));
        }
        let bytes = u64::from(len) * u64::from(size);
        if u64::from(ptr) + bytes > cx.memory()?.len() as u64 || (size == 0 && len > 1 << 20) {
            return Err(trap(TrapCode::ListOutOfBounds));
        }
        // Bytes (file contents, buffers): one slice read instead of a load per element.
        if let signed @ (TypeDef::U8 | TypeDef::S8) = self.types.get(elem) {
            let signed = matches!(signed, TypeDef::S8);
            let start = ptr as usize;
            let src = cx
                .memory()?
                .get(start..start + len as usize)
                .ok_or(trap(TrapCode::ListOutOfBounds))?;
            return Ok(src
                .iter()
                .map(|&b| if signed { Val::S8(b as i8) } else { Val::U8(b) })
                .collect());
        }
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            out.push(self.load(cx, ptr.wrapping_add(i.wrapping_mul(size)), elem)?);
        }
        Ok(out)
    }

    /// `store(cx, v, t, ptr)`.
    pub fn store<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        v: &Val,
        t: u32,
        ptr: u32,
    ) -> Result<(), Trap> {
        let def = self.types.get(t);
        match (def, v) {
            (TypeDef::Bool, Val::Bool(b)) => write_uint(cx, ptr, 1, u64::from(*b)),
            (TypeDef::U8, Val::U8(x)) => write_uint(cx, ptr, 1, u64::from(*x)),
            (TypeDef::S8, Val::S8(x)) => write_uint(cx, ptr, 1, *x as u8 as u64),
            (TypeDef::U16, Val::U16(x)) => write_uint(cx, ptr, 2, u64::from(*x)),
            (TypeDef::S16, Val::S16(x)) => write_uint(cx, ptr, 2, *x as u16 as u64),
            (TypeDef::U32, Val::U32(x)) => write_uint(cx, ptr, 4, u64::from(*x)),
            (TypeDef::S32, Val::S32(x)) => write_uint(cx, ptr, 4, *x as u32 as u64),
            (TypeDef::U64, Val::U64(x)) => write_uint(cx, ptr, 8, *x),
            (TypeDef::S64, Val::S64(x)) => write_uint(cx, ptr, 8, *x as u64),
            (TypeDef::F32, Val::F32(x)) => {
                write_uint(cx, ptr, 4, u64::from(f32_canon(x.to_bits()).to_bits()))
            }
            (TypeDef::F64, Val::F64(x)) => write_uint(cx, ptr, 8, f64_canon(x.to_bits()).to_bits()),
            (TypeDef::Char, Val::Char(c)) => write_uint(cx, ptr, 4, u64::from(*c as u32)),
            (TypeDef::String, Val::String(s)) => {
                let (begin, units) = store_string(cx, s, self.src)?;
                write_uint(cx, ptr, 4, u64::from(begin))?;
                write_uint(cx, ptr.wrapping_add(4), 4, u64::from(units))
            }
            (TypeDef::List(e) | TypeDef::Map { entry: e }, Val::List(vs)) => {
                let (begin, len) = self.store_list(cx, vs, *e)?;
                write_uint(cx, ptr, 4, u64::from(begin))?;
                write_uint(cx, ptr.wrapping_add(4), 4, u64::from(len))
            }
            (TypeDef::FixedList { elem, len }, Val::List(vs)) if vs.len() == *len as usize => {
                let size = self.types.size(*elem);
                for (i, v) in (0u32..).zip(vs) {
                    self.store(cx, v, *elem, ptr.wrapping_add(i.wrapping_mul(size)))?;
                }
                Ok(())
            }
            (TypeDef::Record(fields), Val::Record(vs)) if vs.len() == fields.len() => {
                let tys: Vec<u32> = fields.iter().map(|(_, t)| *t).collect();
                let vals: Vec<&Val> = vs.iter().map(|(_, v)| v).collect();
                self.store_fields(cx, &vals, &tys, ptr)
            }
            (TypeDef::Tuple(ts), Val::Tuple(vs)) if vs.len() == ts.len() => {
                let vals: Vec<&Val> = vs.iter().collect();
                self.store_fields(cx, &vals, ts, ptr)
            }
            (TypeDef::Variant(_) | TypeDef::Enum(_) | TypeDef::Option(_), _)
            | (TypeDef::Result { .. }, _) => {
                let cases = self.types.cases(t).unwrap_or_default();
                let (index, payload) = match_case(v, def)?;
                write_uint(cx, ptr, discriminant_size(cases.len()), u64::from(index))?;
                let at = ptr.wrapping_add(self.types.payload_offset(&cases));
                match (cases.get(index as usize).copied().flatten(), payload) {
                    (Some(ct), Some(p)) => self.store(cx, p, ct, at),
                    (None, None) => Ok(()),
                    _ => Err(bad_value()),
                }
            }
            (TypeDef::Flags(names), _) => {
                let words = pack_flags(def, v)?;
                if names.len() <= 32 {
                    let size = self.types.size(t);
                    let w = words.first().copied().unwrap_or(0);
                    write_uint(cx, ptr, size, u64::from(w))
                } else {
                    for (i, w) in words.iter().enumerate() {
                        write_uint(cx, ptr.wrapping_add(4 * i as u32), 4, u64::from(*w))?;
                    }
                    Ok(())
                }
            }
            (TypeDef::Own(r), Val::Own(h)) if h.resource == *r => {
                let i = cx.lower_own(*r, h.rep)?;
                write_uint(cx, ptr, 4, u64::from(i))
            }
            (TypeDef::Borrow(r), Val::Borrow(h) | Val::Own(h)) if h.resource == *r => {
                let i = cx.lower_borrow(*r, h.rep)?;
                write_uint(cx, ptr, 4, u64::from(i))
            }
            (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext, v) => {
                let i = lower_async_value(cx, t, v)?;
                write_uint(cx, ptr, 4, u64::from(i))
            }
            _ => Err(bad_value()),
        }
    }

    fn store_fields<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        vals: &[&Val],
        tys: &[u32],
        ptr: u32,
    ) -> Result<(), Trap> {
        let offsets = self.types.field_offsets(tys);
        for ((v, t), off) in vals.iter().zip(tys).zip(offsets) {
            self.store(cx, v, *t, ptr.wrapping_add(off))?;
        }
        Ok(())
    }

    /// `store_list_into_range`: `(ptr, length)`.
    pub fn store_list<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        vs: &[Val],
        elem: u32,
    ) -> Result<(u32, u32), Trap> {
        let (align, size) = (self.types.align(elem), self.types.size(elem));
        let bytes = vs.len() as u64 * u64::from(size);
        let len = u32::try_from(vs.len()).map_err(|_| trap(TrapCode::ListOutOfBounds))?;
        let bytes = u32::try_from(bytes).map_err(|_| trap(TrapCode::ListOutOfBounds))?;
        let ptr = alloc_checked(cx, 0, 0, align, bytes, TrapCode::ListOutOfBounds)?;
        // Bytes: gathered and written at once (a value of another type falls through to the
        // element-by-element path, which reports it where it is).
        if let signed @ (TypeDef::U8 | TypeDef::S8) = self.types.get(elem) {
            let signed = matches!(signed, TypeDef::S8);
            let start = ptr as usize;
            let dst = cx
                .memory_mut()?
                .get_mut(start..start + vs.len())
                .ok_or(trap(TrapCode::ListOutOfBounds))?;
            let mut all = true;
            for (d, v) in dst.iter_mut().zip(vs) {
                *d = match (v, signed) {
                    (Val::U8(b), false) => *b,
                    (Val::S8(b), true) => *b as u8,
                    _ => {
                        all = false;
                        break;
                    }
                };
            }
            if all {
                return Ok((ptr, len));
            }
        }
        for (i, v) in vs.iter().enumerate() {
            self.store(cx, v, elem, ptr.wrapping_add((i as u32).wrapping_mul(size)))?;
        }
        Ok((ptr, len))
    }

    /// `lift_flat(cx, vi, t)`.
    pub fn lift_flat<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        it: &mut FlatIter<'_>,
        t: u32,
    ) -> Result<Val, Trap> {
        let def = self.types.get(t);
        Ok(match def {
            TypeDef::Bool => Val::Bool(it.next32()? != 0),
            TypeDef::U8 => Val::U8(it.next32()? as u8),
            TypeDef::S8 => Val::S8(it.next32()? as u8 as i8),
            TypeDef::U16 => Val::U16(it.next32()? as u16),
            TypeDef::S16 => Val::S16(it.next32()? as u16 as i16),
            TypeDef::U32 => Val::U32(it.next32()?),
            TypeDef::S32 => Val::S32(it.next32()? as i32),
            TypeDef::U64 => Val::U64(it.next()?),
            TypeDef::S64 => Val::S64(it.next()? as i64),
            TypeDef::F32 => Val::F32(f32_canon(it.next32()?)),
            TypeDef::F64 => Val::F64(f64_canon(it.next()?)),
            TypeDef::Char => Val::Char(to_char(it.next32()?)?),
            TypeDef::String => {
                let (ptr, units) = (it.next32()?, it.next32()?);
                Val::String(load_string(cx, ptr, units)?)
            }
            TypeDef::List(e) | TypeDef::Map { entry: e } => {
                let (ptr, len) = (it.next32()?, it.next32()?);
                Val::List(self.load_list(cx, ptr, len, *e)?)
            }
            TypeDef::FixedList { elem, len } => {
                let mut out = Vec::new();
                for _ in 0..*len {
                    out.push(self.lift_flat(cx, it, *elem)?);
                }
                Val::List(out)
            }
            TypeDef::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, ft) in fields {
                    out.push((name.clone(), self.lift_flat(cx, it, *ft)?));
                }
                Val::Record(out)
            }
            TypeDef::Tuple(ts) => {
                let mut out = Vec::with_capacity(ts.len());
                for ft in ts {
                    out.push(self.lift_flat(cx, it, *ft)?);
                }
                Val::Tuple(out)
            }
            TypeDef::Variant(_)
            | TypeDef::Enum(_)
            | TypeDef::Option(_)
            | TypeDef::Result { .. } => {
                let cases = self.types.cases(t).unwrap_or_default();
                let payload_slots = self.types.flatten_variant(&cases).len() - 1;
                let index = it.next32()?;
                let case = cases
                    .get(index as usize)
                    .ok_or(trap(TrapCode::InvalidVariantDiscriminant))?;
                let start = it.pos;
                let payload = match case {
                    Some(ct) => Some(self.lift_flat(cx, it, *ct)?),
                    None => None,
                };
                it.pos = start + payload_slots;
                make_case(def, index, payload)
            }
            TypeDef::Flags(names) => {
                let mut words = Vec::new();
                for _ in 0..flag_words(names.len()) {
                    words.push(it.next32()?);
                }
                unpack_flags(def, &words)
            }
            TypeDef::Own(r) => {
                let rep = cx.lift_own(*r, it.next32()?)?;
                Val::Own(ResourceHandle { resource: *r, rep })
            }
            TypeDef::Borrow(r) => {
                let rep = cx.lift_borrow(*r, it.next32()?)?;
                Val::Borrow(ResourceHandle { resource: *r, rep })
            }
            TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext => {
                lift_async_value(cx, def, t, it.next32()?)?
            }
        })
    }

    /// `lower_flat(cx, v, t)`, appended to `out`.
    pub fn lower_flat<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        v: &Val,
        t: u32,
        out: &mut Vec<u64>,
    ) -> Result<(), Trap> {
        let def = self.types.get(t);
        match (def, v) {
            (TypeDef::Bool, Val::Bool(b)) => out.push(u64::from(*b)),
            (TypeDef::U8, Val::U8(x)) => out.push(u64::from(*x)),
            (TypeDef::S8, Val::S8(x)) => out.push(u64::from(*x as i32 as u32)),
            (TypeDef::U16, Val::U16(x)) => out.push(u64::from(*x)),
            (TypeDef::S16, Val::S16(x)) => out.push(u64::from(*x as i32 as u32)),
            (TypeDef::U32, Val::U32(x)) => out.push(u64::from(*x)),
            (TypeDef::S32, Val::S32(x)) => out.push(u64::from(*x as u32)),
            (TypeDef::U64, Val::U64(x)) => out.push(*x),
            (TypeDef::S64, Val::S64(x)) => out.push(*x as u64),
            (TypeDef::F32, Val::F32(x)) => out.push(u64::from(f32_canon(x.to_bits()).to_bits())),
            (TypeDef::F64, Val::F64(x)) => out.push(f64_canon(x.to_bits()).to_bits()),
            (TypeDef::Char, Val::Char(c)) => out.push(u64::from(*c as u32)),
            (TypeDef::String, Val::String(s)) => {
                let (ptr, units) = store_string(cx, s, self.src)?;
                out.extend([u64::from(ptr), u64::from(units)]);
            }
            (TypeDef::List(e) | TypeDef::Map { entry: e }, Val::List(vs)) => {
                let (ptr, len) = self.store_list(cx, vs, *e)?;
                out.extend([u64::from(ptr), u64::from(len)]);
            }
            (TypeDef::FixedList { elem, len }, Val::List(vs)) if vs.len() == *len as usize => {
                for v in vs {
                    self.lower_flat(cx, v, *elem, out)?;
                }
            }
            (TypeDef::Record(fields), Val::Record(vs)) if vs.len() == fields.len() => {
                for ((_, ft), (_, fv)) in fields.iter().zip(vs) {
                    self.lower_flat(cx, fv, *ft, out)?;
                }
            }
            (TypeDef::Tuple(ts), Val::Tuple(vs)) if vs.len() == ts.len() => {
                for (ft, fv) in ts.iter().zip(vs) {
                    self.lower_flat(cx, fv, *ft, out)?;
                }
            }
            (TypeDef::Variant(_) | TypeDef::Enum(_) | TypeDef::Option(_), _)
            | (TypeDef::Result { .. }, _) => {
                let cases = self.types.cases(t).unwrap_or_default();
                let payload_slots = self.types.flatten_variant(&cases).len() - 1;
                let (index, payload) = match_case(v, def)?;
                out.push(u64::from(index));
                let start = out.len();
                match (cases.get(index as usize).copied().flatten(), payload) {
                    (Some(ct), Some(p)) => self.lower_flat(cx, p, ct, out)?,
                    (None, None) => {}
                    _ => return Err(bad_value()),
                }
                out.resize(start + payload_slots, 0);
            }
            (TypeDef::Flags(_), _) => {
                out.extend(pack_flags(def, v)?.into_iter().map(u64::from));
            }
            (TypeDef::Own(r), Val::Own(h)) if h.resource == *r => {
                out.push(u64::from(cx.lower_own(*r, h.rep)?));
            }
            (TypeDef::Borrow(r), Val::Borrow(h) | Val::Own(h)) if h.resource == *r => {
                out.push(u64::from(cx.lower_borrow(*r, h.rep)?));
            }
            (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext, v) => {
                out.push(u64::from(lower_async_value(cx, t, v)?));
            }
            _ => return Err(bad_value()),
        }
        Ok(())
    }

    /// `lift_values(cx, max_flat, vi, ts)`.
    pub fn lift_values<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        max_flat: usize,
        flat: &[u64],
        ts: &[u32],
    ) -> Result<Vec<Val>, Trap> {
        let mut it = FlatIter::new(flat);
        if self.types.flatten_all(ts).len() > max_flat {
            let ptr = it.next32()?;
            self.check_tuple_ptr(cx, ptr, ts)?;
            return self.load_fields(cx, ptr, ts);
        }
        let mut out = Vec::with_capacity(ts.len());
        for t in ts {
            out.push(self.lift_flat(cx, &mut it, *t)?);
        }
        Ok(out)
    }

    fn check_tuple_ptr<C: CanonCx + ?Sized>(
        &self,
        cx: &C,
        ptr: u32,
        ts: &[u32],
    ) -> Result<(), Trap> {
        if !ptr.is_multiple_of(self.types.record_align(ts)) {
            return Err(trap(TrapCode::UnalignedPointer));
        }
        let end = u64::from(ptr) + u64::from(self.types.record_size(ts));
        if end > cx.memory()?.len() as u64 {
            return Err(trap(TrapCode::MemoryOutOfBounds));
        }
        Ok(())
    }

    /// `lower_values(cx, max_flat, vs, ts, out_param)`: spilled values go to `out_param` when
    /// given (results of a lowered call), else to memory from `realloc` (spilled arguments).
    pub fn lower_values<C: CanonCx + ?Sized>(
        &self,
        cx: &mut C,
        max_flat: usize,
        vs: &[Val],
        ts: &[u32],
        out_param: Option<u32>,
    ) -> Result<Vec<u64>, Trap> {
        if vs.len() != ts.len() {
            return Err(bad_value());
        }
        if self.types.flatten_all(ts).len() > max_flat {
            let (align, size) = (self.types.record_align(ts), self.types.record_size(ts));
            // As the spec's `lower_flat_values`: the values are the pointer to a fresh
            // allocation, or nothing when they go to the caller's out pointer (a lowered
            // function with a spilled result has no core results).
            let (ptr, flat) = match out_param {
                Some(p) => {
                    self.check_tuple_ptr(cx, p, ts)?;
                    (p, Vec::new())
                }
                None => {
                    let p = alloc_checked(cx, 0, 0, align, size, TrapCode::MemoryOutOfBounds)?;
                    (p, alloc::vec![u64::from(p)])
                }
            };
            let vals: Vec<&Val> = vs.iter().collect();
            self.store_fields(cx, &vals, ts, ptr)?;
            return Ok(flat);
        }
        let mut out = Vec::new();
        for (v, t) in vs.iter().zip(ts) {
            self.lower_flat(cx, v, *t, &mut out)?;
        }
        Ok(out)
    }
}

/// Mask raw slot bits to a flat value of type `ty` (32-bit values zero-extended).
pub fn flat_from_raw(bits: u128, ty: Flat) -> u64 {
    match ty {
        Flat::I32 | Flat::F32 => u64::from(bits as u32),
        Flat::I64 | Flat::F64 => bits as u64,
    }
}
