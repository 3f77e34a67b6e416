//! C-layout values for dynamic callers: [`Val`] to and from the C layout of a generated
//! component header ([`weld_contract::component::clayout`]) on this host.
//!
//! In: a type arena and a value, or a pointer to a C value. Out: the C value written (strings
//! and lists in fresh `malloc` memory), the [`Val`] read, or the `malloc`ed parts freed. The C
//! API uses it where no compiled crossing exists: exports without a host entry, and host
//! imports; tests use it to check the compiled host entries against the generic path.

use crate::component::{ResourceHandle, Val};
use crate::TrapCode;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::c_void;
use weld_contract::component::clayout::{tag_size, CLayout, CLayouts};
use weld_contract::component::TypeDef;

type R<T> = Result<T, TrapCode>;
const MAX_DEPTH: u32 = 100;

/// Converts between [`Val`] and the C layout of one type arena on this host.
#[derive(Debug)]
pub struct CValues<'a> {
    types: &'a [TypeDef],
    l: CLayouts<'a>,
}

/// Read a `T` at `p + off`.
///
/// # Safety
/// `p + off` must be readable for `size_of::<T>()` bytes (any alignment).
unsafe fn rd<T: Copy>(p: *const u8, off: u32) -> T {
    // SAFETY: the caller guarantees the bytes are readable; unaligned reads are allowed.
    unsafe { core::ptr::read_unaligned(p.add(off as usize) as *const T) }
}

/// Write `v` at `p + off`.
///
/// # Safety
/// `p + off` must be writable for `size_of::<T>()` bytes (any alignment).
unsafe fn wr<T>(p: *mut u8, off: u32, v: T) {
    // SAFETY: the caller guarantees the bytes are writable; unaligned writes are allowed.
    unsafe { core::ptr::write_unaligned(p.add(off as usize) as *mut T, v) }
}

/// `malloc(n)` (at least one byte, so that a non-empty pointer is never NULL).
fn malloc(n: usize) -> R<*mut u8> {
    // SAFETY: malloc has no preconditions.
    let p = unsafe { libc::malloc(n.max(1)) } as *mut u8;
    if p.is_null() {
        return Err(TrapCode::InvalidValue);
    }
    Ok(p)
}

impl<'a> CValues<'a> {
    /// The converter for the type arena `types` (acyclic, as a loaded component's is).
    pub fn new(types: &'a [TypeDef]) -> CValues<'a> {
        CValues {
            types,
            l: CLayouts::native(types),
        }
    }

    /// An 8-byte-aligned zeroed buffer for one C value of type `t` (at least one word; `None`:
    /// no value).
    pub fn buffer(&self, t: Option<u32>) -> Vec<u64> {
        let size = t.map_or(0, |t| self.l.get(t).size);
        vec![0u64; (size as usize).div_ceil(8).max(1)]
    }

    /// The C size and alignment of type `t`.
    pub fn layout(&self, t: u32) -> CLayout {
        self.l.get(t)
    }

    /// The value of type `t` stored at `p` in C layout; `InvalidValue` for a NULL `p`, bad
    /// discriminants or bytes, and types nested too deep.
    ///
    /// # Safety
    /// `p` must be NULL or point at a valid C value of type `t` (pointers inside valid for
    /// their lengths).
    pub unsafe fn read(&self, t: u32, p: *const u8) -> Result<Val, TrapCode> {
        // SAFETY: as the caller guarantees.
        unsafe { self.read_in(t, p, 0) }
    }

    /// Free the `malloc`ed strings and lists inside the C value of type `t` at `p` (not `p`
    /// itself).
    ///
    /// # Safety
    /// `p` must hold a valid C value of type `t` whose strings and lists come from `malloc` (or
    /// are NULL), not freed yet.
    pub unsafe fn free(&self, t: u32, p: *mut u8) {
        // SAFETY: as the caller guarantees.
        unsafe { self.free_in(t, p, 0) }
    }

    fn def(&self, t: u32) -> R<&TypeDef> {
        self.types.get(t as usize).ok_or(TrapCode::InvalidValue)
    }

    fn ptr(&self) -> u32 {
        self.l.ptr_size()
    }

    /// Read a tag of `size` bytes.
    ///
    /// # Safety
    /// `p` readable for `size` bytes.
    unsafe fn tag(p: *const u8, size: u32) -> u32 {
        // SAFETY: forwarded.
        unsafe {
            match size {
                1 => u32::from(rd::<u8>(p, 0)),
                2 => u32::from(rd::<u16>(p, 0)),
                _ => rd::<u32>(p, 0),
            }
        }
    }

    /// The `bool` tag of an option or result: 0 or 1, anything else an invalid discriminant.
    ///
    /// # Safety
    /// `p` readable for one byte.
    unsafe fn flag_tag(p: *const u8) -> R<bool> {
        // SAFETY: forwarded.
        match unsafe { rd::<u8>(p, 0) } {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(TrapCode::InvalidVariantDiscriminant),
        }
    }

    /// # Safety
    /// `p` writable for `size` bytes.
    unsafe fn set_tag(p: *mut u8, size: u32, v: u32) {
        // SAFETY: forwarded.
        unsafe {
            match size {
                1 => wr(p, 0, v as u8),
                2 => wr(p, 0, v as u16),
                _ => wr(p, 0, v),
            }
        }
    }

    /// The pointer and length of a string or list at `p`.
    ///
    /// # Safety
    /// `p` readable for a `{ptr, len}` pair.
    unsafe fn slice(&self, p: *const u8) -> (*const u8, usize) {
        // SAFETY: forwarded.
        unsafe { (rd::<*const u8>(p, 0), rd::<usize>(p, self.ptr())) }
    }

    /// The value of type `t` stored at `p` in C layout.
    ///
    /// # Safety
    /// `p` must point at a valid C value of type `t` (pointers inside valid for their lengths).
    unsafe fn read_in(&self, t: u32, p: *const u8, depth: u32) -> R<Val> {
        if depth > MAX_DEPTH || p.is_null() {
            return Err(TrapCode::InvalidValue);
        }
        let d = depth + 1;
        let opt = |v: Option<Val>| v.map(Box::new);
        // SAFETY (whole block): `p` holds a value of type `t`, so every member read at its
        // C-layout offset is in bounds; nested pointers are valid by the same contract.
        unsafe {
            Ok(match self.def(t)? {
                TypeDef::Bool => Val::Bool(rd::<u8>(p, 0) != 0),
                TypeDef::S8 => Val::S8(rd(p, 0)),
                TypeDef::U8 => Val::U8(rd(p, 0)),
                TypeDef::S16 => Val::S16(rd(p, 0)),
                TypeDef::U16 => Val::U16(rd(p, 0)),
                TypeDef::S32 => Val::S32(rd(p, 0)),
                TypeDef::U32 => Val::U32(rd(p, 0)),
                TypeDef::S64 => Val::S64(rd(p, 0)),
                TypeDef::U64 => Val::U64(rd(p, 0)),
                TypeDef::F32 => Val::F32(rd(p, 0)),
                TypeDef::F64 => Val::F64(rd(p, 0)),
                TypeDef::Char => {
                    Val::Char(char::from_u32(rd(p, 0)).ok_or(TrapCode::InvalidCharBitPattern)?)
                }
                TypeDef::String => {
                    let (ptr, len) = self.slice(p);
                    let bytes: &[u8] = match len {
                        0 => &[],
                        _ if ptr.is_null() => return Err(TrapCode::InvalidValue),
                        _ => core::slice::from_raw_parts(ptr, len),
                    };
                    let s = crate::component::string::utf8(bytes).map_err(|t| t.code)?;
                    Val::String(String::from(s))
                }
                TypeDef::FixedList { elem, len } => {
                    let size = self.l.get(*elem).size as usize;
                    let mut items = Vec::new();
                    for i in 0..*len as usize {
                        items.push(self.read_in(*elem, p.add(i * size), d)?);
                    }
                    Val::List(items)
                }
                TypeDef::List(e) | TypeDef::Map { entry: e } => {
                    let (ptr, len) = self.slice(p);
                    if len > 0 && ptr.is_null() {
                        return Err(TrapCode::InvalidValue);
                    }
                    // As the compiled crossings check it.
                    if !(ptr as usize).is_multiple_of(self.l.get(*e).align as usize) {
                        return Err(TrapCode::UnalignedPointer);
                    }
                    let size = self.l.get(*e).size as usize;
                    let mut items = Vec::new();
                    for i in 0..len {
                        items.push(self.read_in(*e, ptr.add(i * size), d)?);
                    }
                    Val::List(items)
                }
                TypeDef::Record(fields) => {
                    let offs = self.l.field_offsets(t);
                    let mut out = Vec::with_capacity(fields.len());
                    for ((n, f), off) in fields.iter().zip(offs) {
                        out.push((n.clone(), self.read_in(*f, p.add(off as usize), d)?));
                    }
                    Val::Record(out)
                }
                TypeDef::Tuple(ts) => {
                    let offs = self.l.field_offsets(t);
                    let mut out = Vec::with_capacity(ts.len());
                    for (f, off) in ts.iter().zip(offs) {
                        out.push(self.read_in(*f, p.add(off as usize), d)?);
                    }
                    Val::Tuple(out)
                }
                TypeDef::Variant(cases) => {
                    let vl = self.l.variant(t).ok_or(TrapCode::InvalidValue)?;
                    let tag = Self::tag(p, vl.tag_size);
                    let (n, pt) = cases
                        .get(tag as usize)
                        .ok_or(TrapCode::InvalidVariantDiscriminant)?;
                    let at = p.add(vl.payload_offset as usize);
                    let v = match pt {
                        Some(pt) => Some(self.read_in(*pt, at, d)?),
                        None => None,
                    };
                    Val::Variant(n.clone(), opt(v))
                }
                TypeDef::Enum(cases) => {
                    let tag = Self::tag(p, tag_size(cases.len()));
                    let n = cases
                        .get(tag as usize)
                        .ok_or(TrapCode::InvalidVariantDiscriminant)?;
                    Val::Enum(n.clone())
                }
                TypeDef::Option(e) => {
                    let vl = self.l.variant(t).ok_or(TrapCode::InvalidValue)?;
                    if Self::flag_tag(p)? {
                        let v = self.read_in(*e, p.add(vl.payload_offset as usize), d)?;
                        Val::Option(Some(Box::new(v)))
                    } else {
                        Val::Option(None)
                    }
                }
                TypeDef::Result { ok, err } => {
                    let vl = self.l.variant(t).ok_or(TrapCode::InvalidValue)?;
                    let is_err = Self::flag_tag(p)?;
                    let at = p.add(vl.payload_offset as usize);
                    let pt = if is_err { err } else { ok };
                    let v = match pt {
                        Some(pt) => Some(self.read_in(*pt, at, d)?),
                        None => None,
                    };
                    Val::Result(if is_err { Err(opt(v)) } else { Ok(opt(v)) })
                }
                TypeDef::Flags(names) => {
                    let size = self.l.get(t).size;
                    let bit = |i: usize| -> bool {
                        let word = match size {
                            1 | 2 => Self::tag(p, size),
                            _ => rd::<u32>(p, (i / 32) as u32 * 4),
                        };
                        word & (1 << (i % 32)) != 0
                    };
                    let set = names.iter().enumerate().filter(|(i, _)| bit(*i));
                    Val::Flags(set.map(|(_, n)| n.clone()).collect())
                }
                TypeDef::Own(r) => Val::Own(ResourceHandle {
                    resource: *r,
                    rep: rd(p, 0),
                }),
                TypeDef::Borrow(r) => Val::Borrow(ResourceHandle {
                    resource: *r,
                    rep: rd(p, 0),
                }),
                // Streams, futures and error contexts do not cross the C boundary yet.
                TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext => {
                    return Err(TrapCode::UnsupportedBuiltin)
                }
            })
        }
    }

    /// Store `v` (of type `t`) at `p` in C layout, strings and lists in fresh `malloc` memory.
    /// On failure, what was written so far is freed again.
    ///
    /// # Safety
    /// `p` must be writable for the C size of `t`.
    pub unsafe fn write(&self, t: u32, v: &Val, p: *mut u8) -> R<()> {
        let size = self.l.get(t).size as usize;
        // SAFETY: `p` is writable for `size` bytes; zeroed memory frees as "nothing owned".
        unsafe {
            core::ptr::write_bytes(p, 0, size);
            let r = self.write_in(t, v, p, 0);
            if r.is_err() {
                self.free_in(t, p, 0);
            }
            r
        }
    }

    /// # Safety
    /// As [`Self::write`]; `p` is zeroed.
    unsafe fn write_in(&self, t: u32, v: &Val, p: *mut u8, depth: u32) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(TrapCode::InvalidValue);
        }
        let d = depth + 1;
        let bad = TrapCode::InvalidValue;
        // SAFETY (whole block): `p` is writable for the C size of `t` and every member is written
        // at its C-layout offset inside it; list memory is allocated for `len * size` bytes.
        unsafe {
            match (self.def(t)?, v) {
                (TypeDef::Bool, Val::Bool(b)) => wr(p, 0, u8::from(*b)),
                (TypeDef::S8, Val::S8(x)) => wr(p, 0, *x),
                (TypeDef::U8, Val::U8(x)) => wr(p, 0, *x),
                (TypeDef::S16, Val::S16(x)) => wr(p, 0, *x),
                (TypeDef::U16, Val::U16(x)) => wr(p, 0, *x),
                (TypeDef::S32, Val::S32(x)) => wr(p, 0, *x),
                (TypeDef::U32, Val::U32(x)) => wr(p, 0, *x),
                (TypeDef::S64, Val::S64(x)) => wr(p, 0, *x),
                (TypeDef::U64, Val::U64(x)) => wr(p, 0, *x),
                (TypeDef::F32, Val::F32(x)) => wr(p, 0, *x),
                (TypeDef::F64, Val::F64(x)) => wr(p, 0, *x),
                (TypeDef::Char, Val::Char(c)) => wr(p, 0, *c as u32),
                (TypeDef::String, Val::String(s)) => {
                    let mem = malloc(s.len())?;
                    core::ptr::copy_nonoverlapping(s.as_ptr(), mem, s.len());
                    wr(p, 0, mem);
                    wr(p, self.ptr(), s.len());
                }
                (TypeDef::FixedList { elem, len }, Val::List(items)) => {
                    if items.len() != *len as usize {
                        return Err(bad);
                    }
                    let size = self.l.get(*elem).size as usize;
                    for (i, item) in items.iter().enumerate() {
                        self.write_in(*elem, item, p.add(i * size), d)?;
                    }
                }
                (TypeDef::List(e) | TypeDef::Map { entry: e }, Val::List(items)) => {
                    let size = self.l.get(*e).size as usize;
                    let bytes = size.checked_mul(items.len()).ok_or(bad)?;
                    let mem = malloc(bytes)?;
                    core::ptr::write_bytes(mem, 0, bytes);
                    wr(p, 0, mem);
                    wr(p, self.ptr(), items.len());
                    for (i, item) in items.iter().enumerate() {
                        self.write_in(*e, item, mem.add(i * size), d)?;
                    }
                }
                (TypeDef::Record(fields), Val::Record(vals)) => {
                    if fields.len() != vals.len() {
                        return Err(bad);
                    }
                    let offs = self.l.field_offsets(t);
                    for (((_, f), (_, v)), off) in fields.iter().zip(vals).zip(offs) {
                        self.write_in(*f, v, p.add(off as usize), d)?;
                    }
                }
                (TypeDef::Tuple(ts), Val::Tuple(vals)) => {
                    if ts.len() != vals.len() {
                        return Err(bad);
                    }
                    let offs = self.l.field_offsets(t);
                    for ((f, v), off) in ts.iter().zip(vals).zip(offs) {
                        self.write_in(*f, v, p.add(off as usize), d)?;
                    }
                }
                (TypeDef::Variant(cases), Val::Variant(name, payload)) => {
                    let vl = self.l.variant(t).ok_or(bad)?;
                    let i = cases.iter().position(|(n, _)| n == name).ok_or(bad)?;
                    Self::set_tag(p, vl.tag_size, i as u32);
                    let at = p.add(vl.payload_offset as usize);
                    match (cases.get(i).and_then(|c| c.1), payload) {
                        (Some(pt), Some(v)) => self.write_in(pt, v, at, d)?,
                        (None, None) => {}
                        _ => return Err(bad),
                    }
                }
                (TypeDef::Enum(cases), Val::Enum(name)) => {
                    let i = cases.iter().position(|n| n == name).ok_or(bad)?;
                    Self::set_tag(p, tag_size(cases.len()), i as u32);
                }
                (TypeDef::Option(e), Val::Option(v)) => {
                    let vl = self.l.variant(t).ok_or(bad)?;
                    if let Some(v) = v {
                        wr(p, 0, 1u8);
                        self.write_in(*e, v, p.add(vl.payload_offset as usize), d)?;
                    }
                }
                (TypeDef::Result { ok, err }, Val::Result(r)) => {
                    let vl = self.l.variant(t).ok_or(bad)?;
                    let (pt, v) = match r {
                        Ok(v) => (ok, v),
                        Err(v) => {
                            wr(p, 0, 1u8);
                            (err, v)
                        }
                    };
                    let at = p.add(vl.payload_offset as usize);
                    match (pt, v) {
                        (Some(pt), Some(v)) => self.write_in(*pt, v, at, d)?,
                        (None, None) => {}
                        _ => return Err(bad),
                    }
                }
                (TypeDef::Flags(names), Val::Flags(set)) => {
                    let size = self.l.get(t).size;
                    let mut words = vec![0u32; names.len().div_ceil(32).max(1)];
                    for s in set {
                        let i = names.iter().position(|n| n == s).ok_or(bad)?;
                        words[i / 32] |= 1 << (i % 32);
                    }
                    match size {
                        1 | 2 => Self::set_tag(p, size, words[0]),
                        _ => {
                            for (i, w) in words.iter().enumerate() {
                                wr(p, i as u32 * 4, *w);
                            }
                        }
                    }
                }
                (TypeDef::Own(_), Val::Own(h))
                | (TypeDef::Borrow(_), Val::Borrow(h) | Val::Own(h)) => wr(p, 0, h.rep),
                _ => return Err(bad),
            }
        }
        Ok(())
    }

    /// Free the `malloc`ed strings and lists inside the C value of type `t` at `p`.
    ///
    /// # Safety
    /// `p` must hold a valid C value of type `t` whose strings and lists come from `malloc` (or
    /// are NULL), not freed yet.
    unsafe fn free_in(&self, t: u32, p: *mut u8, depth: u32) {
        let Ok(def) = self.def(t) else { return };
        if depth > MAX_DEPTH {
            return;
        }
        let d = depth + 1;
        // SAFETY (whole block): as the function's contract; members at their C offsets.
        unsafe {
            match def {
                TypeDef::String => libc::free(rd::<*mut c_void>(p, 0)),
                TypeDef::FixedList { elem, len } => {
                    let size = self.l.get(*elem).size as usize;
                    for i in 0..*len as usize {
                        self.free_in(*elem, p.add(i * size), d);
                    }
                }
                TypeDef::List(e) | TypeDef::Map { entry: e } => {
                    let (ptr, len) = self.slice(p);
                    let size = self.l.get(*e).size as usize;
                    if !ptr.is_null() {
                        for i in 0..len {
                            self.free_in(*e, (ptr as *mut u8).add(i * size), d);
                        }
                    }
                    libc::free(ptr as *mut c_void);
                }
                TypeDef::Record(_) | TypeDef::Tuple(_) => {
                    let kids: Vec<u32> = match def {
                        TypeDef::Record(fs) => fs.iter().map(|(_, f)| *f).collect(),
                        TypeDef::Tuple(ts) => ts.clone(),
                        _ => Vec::new(),
                    };
                    for (f, off) in kids.iter().zip(self.l.field_offsets(t)) {
                        self.free_in(*f, p.add(off as usize), d);
                    }
                }
                TypeDef::Variant(cases) => {
                    if let Some(vl) = self.l.variant(t) {
                        let tag = Self::tag(p, vl.tag_size) as usize;
                        if let Some((_, Some(pt))) = cases.get(tag) {
                            self.free_in(*pt, p.add(vl.payload_offset as usize), d);
                        }
                    }
                }
                TypeDef::Option(e) => {
                    if let (Some(vl), true) = (self.l.variant(t), rd::<u8>(p, 0) != 0) {
                        self.free_in(*e, p.add(vl.payload_offset as usize), d);
                    }
                }
                TypeDef::Result { ok, err } => {
                    if let Some(vl) = self.l.variant(t) {
                        let pt = if rd::<u8>(p, 0) != 0 { err } else { ok };
                        if let Some(pt) = pt {
                            self.free_in(*pt, p.add(vl.payload_offset as usize), d);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl crate::component::ComponentInstance {
    /// Call export `index` exactly as a C host does through the generated header: `args`
    /// written in the C layout, the export's compiled host entry called, the C result read
    /// back and every `malloc`ed part freed. For checking host entries against [`Self::call`]
    /// (tests, the differential fuzzer). `Ok(None)` when the export has no host entry.
    pub fn call_as_c_host(
        &self,
        store: &mut crate::Store,
        index: usize,
        args: &[Val],
    ) -> Result<Option<Val>, TrapCode> {
        let (_, ft) = *self.exports().get(index).ok_or(TrapCode::InvalidValue)?;
        let (params, result) = (ft.params.clone(), ft.result);
        if params.len() != args.len() {
            return Err(TrapCode::InvalidValue);
        }
        if !self.has_host_entry(index) {
            return Ok(None);
        }
        let conv = CValues::new(self.types());
        let mut bufs: Vec<(u32, Vec<u64>)> = Vec::with_capacity(args.len());
        let mut failed = None;
        for ((_, t), v) in params.iter().zip(args) {
            let mut b = conv.buffer(Some(*t));
            // SAFETY: `b` is 8-aligned and at least the C size of `t`.
            if let Err(c) = unsafe { conv.write(*t, v, b.as_mut_ptr() as *mut u8) } {
                failed = Some(c);
                break;
            }
            bufs.push((*t, b));
        }
        let mut ret = conv.buffer(result);
        let called = match failed {
            Some(c) => Err(c),
            None => {
                let ptrs: Vec<*const u8> =
                    bufs.iter().map(|(_, b)| b.as_ptr() as *const u8).collect();
                // SAFETY: one C value of its parameter's type per pointer, written above, and a
                // result buffer of the result's C size; nothing else uses them during the call.
                unsafe {
                    self.call_host_entry(store, index, ptrs.as_ptr(), ret.as_mut_ptr() as *mut u8)
                }
                .map_err(|t| t.code)
            }
        };
        for (t, b) in &mut bufs {
            // SAFETY: written by `conv.write` above, not freed yet.
            unsafe { conv.free(*t, b.as_mut_ptr() as *mut u8) };
        }
        called?;
        let Some(r) = result else { return Ok(None) };
        let p = ret.as_mut_ptr() as *mut u8;
        // SAFETY: the host entry wrote a C value of type `r`, its parts from `malloc`.
        let got = unsafe { conv.read(r, p) };
        // SAFETY: as above; read once, freed once.
        unsafe { conv.free(r, p) };
        got.map(Some)
    }
}

/// A `Val` host function served through the C layout ([`HostImports::insert_via_c_layout`]).
struct CLayoutHost {
    types: Vec<TypeDef>,
    ty: weld_contract::component::FuncTy,
    f: core::cell::RefCell<Box<crate::component::instance::HostFunc>>,
}

/// The `weld_component_adapter` of a [`CLayoutHost`]: C arguments read into `Val`s, the
/// function called, its result written in C layout (`malloc`ed parts, which the caller frees).
unsafe extern "C" fn c_layout_host(
    _func: *const c_void,
    ctx: *mut c_void,
    args: *const *const c_void,
    ret: *mut c_void,
) -> u32 {
    // SAFETY: registered with a `CLayoutHost` kept alive by the instance.
    let host = unsafe { &*(ctx as *const CLayoutHost) };
    let conv = CValues::new(&host.types);
    let mut vals = Vec::with_capacity(host.ty.params.len());
    for (k, (_, t)) in host.ty.params.iter().enumerate() {
        // SAFETY: the compiled host call passes one C value per parameter.
        match unsafe { conv.read(*t, *args.add(k) as *const u8) } {
            Ok(v) => vals.push(v),
            Err(c) => return c as u32,
        }
    }
    let Ok(mut f) = host.f.try_borrow_mut() else {
        return TrapCode::CannotEnterComponent as u32;
    };
    match (f(&vals), host.ty.result) {
        // SAFETY: `ret` is the result's C value in scratch, writable for its size.
        (Ok(Some(v)), Some(t)) => match unsafe { conv.write(t, &v, ret as *mut u8) } {
            Ok(()) => 0,
            Err(c) => c as u32,
        },
        (Ok(None), None) => 0,
        (Err(t), _) => t.code as u32,
        _ => TrapCode::InvalidValue as u32,
    }
}

impl crate::component::HostImports {
    /// Offer `f` as import `name` of type `ty` (over the component's arena `types`) the way a
    /// C host serves it: where the compiler generated a host call for the import, the guest's
    /// arguments arrive in the C layout and are read into `Val`s, and the result goes back in
    /// the C layout; elsewhere `f` is called with `Val`s directly. For checking compiled host
    /// calls against the generic path (tests, the differential fuzzer).
    pub fn insert_via_c_layout(
        &mut self,
        name: &str,
        types: &[TypeDef],
        ty: &weld_contract::component::FuncTy,
        f: impl FnMut(&[Val]) -> Result<Option<Val>, crate::Trap> + 'static,
    ) {
        let host = alloc::rc::Rc::new(CLayoutHost {
            types: types.to_vec(),
            ty: ty.clone(),
            f: core::cell::RefCell::new(Box::new(f)),
        });
        let c = crate::component::CHostFunc {
            adapter: c_layout_host,
            func: core::ptr::null(),
            ctx: alloc::rc::Rc::as_ptr(&host) as *mut c_void,
        };
        let shared = host.clone();
        let by_val = move |args: &[Val]| match shared.f.try_borrow_mut() {
            Ok(mut f) => f(args),
            Err(_) => Err(crate::Trap::new(TrapCode::CannotEnterComponent)),
        };
        // SAFETY: `c_layout_host` reads and writes the import's C types over `types`; its
        // context is kept alive by these imports and by every instance made with them.
        unsafe { self.insert_c(name, c, Box::new(by_val)) };
        self.keep_alive(host);
    }
}
