//! The C API for components (`weld_component_*` in `include/weld.h`), on top of
//! [`ComponentInstance`]: values cross in the C layout of the generated header
//! ([`weld_contract::component::clayout`]), converted to and from [`Val`] here.
//!
//! ```text
//! host.c ─► p_f(inst, args.., &ret) (static inline, p.h) ─► weld_component_call(inst, i, args, ret)
//!              read C args ─► Val ─► ComponentInstance::call ─► Val ─► write C result (malloc)
//! wasm ─► lowering ─► HostImports closure ─► write C args ─► adapter(func, ctx, args, ret)
//!              ─► host's typed function ─► read C result, free its malloc'd parts ─► Val
//! ```
//!
//! Ownership: export arguments belong to the caller (only read); export results are written with
//! `malloc`ed strings and lists that the caller frees. Host import arguments are built here and
//! freed after the host function returns; host import results are read and then freed here
//! (the host must `malloc` them). A host function that returns non-zero traps with that code and
//! its result is neither read nor freed.

use crate::capi::{c_str, set_error};
use crate::component::{ComponentInstance, ComponentModule, HostImports, ResourceHandle, Val};
use crate::{Store, Trap, TrapCode};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::{c_char, c_void};
use weld_contract::component::clayout::{tag_size, CLayouts};
use weld_contract::component::descriptor::VMComponentDescriptor;
use weld_contract::component::{FuncTy, TypeDef};

/// `weld_component_adapter`: calls the typed host function `func`.
pub type Adapter = unsafe extern "C" fn(
    func: *const c_void,
    ctx: *mut c_void,
    args: *const *const c_void,
    ret: *mut c_void,
) -> u32;

/// `weld_component_import`: a host function offered for component import `name`.
#[repr(C)]
#[derive(Debug)]
pub struct WeldComponentImport {
    /// Full import name (NUL-terminated).
    pub name: *const c_char,
    /// Calls `func` with arguments in C layout.
    pub adapter: Option<Adapter>,
    /// The host's typed function.
    pub func: *const c_void,
    /// Passed to every call.
    pub ctx: *mut c_void,
}

/// `weld_component`: a component instance with its own store.
#[derive(Debug)]
pub struct WeldComponent {
    store: Store,
    instance: ComponentInstance,
}

type R<T> = Result<T, TrapCode>;
const MAX_DEPTH: u32 = 100;

/// Converts between [`Val`] and the C layout of one type arena.
struct Conv<'a> {
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

impl Conv<'_> {
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
    unsafe fn read(&self, t: u32, p: *const u8, depth: u32) -> R<Val> {
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
                    let s = core::str::from_utf8(bytes).map_err(|_| TrapCode::InvalidUtf8)?;
                    Val::String(String::from(s))
                }
                TypeDef::FixedList { elem, len } => {
                    let size = self.l.get(*elem).size as usize;
                    let mut items = Vec::new();
                    for i in 0..*len as usize {
                        items.push(self.read(*elem, p.add(i * size), d)?);
                    }
                    Val::List(items)
                }
                TypeDef::List(e) | TypeDef::Map { entry: e } => {
                    let (ptr, len) = self.slice(p);
                    if len > 0 && ptr.is_null() {
                        return Err(TrapCode::InvalidValue);
                    }
                    let size = self.l.get(*e).size as usize;
                    let mut items = Vec::new();
                    for i in 0..len {
                        items.push(self.read(*e, ptr.add(i * size), d)?);
                    }
                    Val::List(items)
                }
                TypeDef::Record(fields) => {
                    let offs = self.l.field_offsets(t);
                    let mut out = Vec::with_capacity(fields.len());
                    for ((n, f), off) in fields.iter().zip(offs) {
                        out.push((n.clone(), self.read(*f, p.add(off as usize), d)?));
                    }
                    Val::Record(out)
                }
                TypeDef::Tuple(ts) => {
                    let offs = self.l.field_offsets(t);
                    let mut out = Vec::with_capacity(ts.len());
                    for (f, off) in ts.iter().zip(offs) {
                        out.push(self.read(*f, p.add(off as usize), d)?);
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
                        Some(pt) => Some(self.read(*pt, at, d)?),
                        None => None,
                    };
                    Val::Variant(n.clone(), opt(v))
                }
                TypeDef::Enum(cases) => {
                    let tag = Self::tag(p, tag_size(cases.len()));
                    let n = cases
                        .get(tag as usize)
                        .ok_or(TrapCode::InvalidDiscriminant)?;
                    Val::Enum(n.clone())
                }
                TypeDef::Option(e) => {
                    let vl = self.l.variant(t).ok_or(TrapCode::InvalidValue)?;
                    if rd::<u8>(p, 0) != 0 {
                        let v = self.read(*e, p.add(vl.payload_offset as usize), d)?;
                        Val::Option(Some(Box::new(v)))
                    } else {
                        Val::Option(None)
                    }
                }
                TypeDef::Result { ok, err } => {
                    let vl = self.l.variant(t).ok_or(TrapCode::InvalidValue)?;
                    let is_err = rd::<u8>(p, 0) != 0;
                    let at = p.add(vl.payload_offset as usize);
                    let pt = if is_err { err } else { ok };
                    let v = match pt {
                        Some(pt) => Some(self.read(*pt, at, d)?),
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
            })
        }
    }

    /// Store `v` (of type `t`) at `p` in C layout, strings and lists in fresh `malloc` memory.
    /// On failure, what was written so far is freed again.
    ///
    /// # Safety
    /// `p` must be writable for the C size of `t`.
    unsafe fn write(&self, t: u32, v: &Val, p: *mut u8) -> R<()> {
        let size = self.l.get(t).size as usize;
        // SAFETY: `p` is writable for `size` bytes; zeroed memory frees as "nothing owned".
        unsafe {
            core::ptr::write_bytes(p, 0, size);
            let r = self.write_in(t, v, p, 0);
            if r.is_err() {
                self.free(t, p, 0);
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
    unsafe fn free(&self, t: u32, p: *mut u8, depth: u32) {
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
                        self.free(*elem, p.add(i * size), d);
                    }
                }
                TypeDef::List(e) | TypeDef::Map { entry: e } => {
                    let (ptr, len) = self.slice(p);
                    let size = self.l.get(*e).size as usize;
                    if !ptr.is_null() {
                        for i in 0..len {
                            self.free(*e, (ptr as *mut u8).add(i * size), d);
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
                        self.free(*f, p.add(off as usize), d);
                    }
                }
                TypeDef::Variant(cases) => {
                    if let Some(vl) = self.l.variant(t) {
                        let tag = Self::tag(p, vl.tag_size) as usize;
                        if let Some((_, Some(pt))) = cases.get(tag) {
                            self.free(*pt, p.add(vl.payload_offset as usize), d);
                        }
                    }
                }
                TypeDef::Option(e) => {
                    if let (Some(vl), true) = (self.l.variant(t), rd::<u8>(p, 0) != 0) {
                        self.free(*e, p.add(vl.payload_offset as usize), d);
                    }
                }
                TypeDef::Result { ok, err } => {
                    if let Some(vl) = self.l.variant(t) {
                        let pt = if rd::<u8>(p, 0) != 0 { err } else { ok };
                        if let Some(pt) = pt {
                            self.free(*pt, p.add(vl.payload_offset as usize), d);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// An 8-byte-aligned zeroed buffer for one C value of `size` bytes.
fn buffer(size: u32) -> Vec<u64> {
    vec![0u64; (size as usize).div_ceil(8).max(1)]
}

/// The closure that runs host import `ty` through its C adapter.
fn host_func(
    types: Vec<TypeDef>,
    ty: FuncTy,
    adapter: Adapter,
    func: *const c_void,
    ctx: *mut c_void,
) -> impl FnMut(&[Val]) -> Result<Option<Val>, Trap> + 'static {
    move |args: &[Val]| {
        let conv = Conv {
            types: &types,
            l: CLayouts::native(&types),
        };
        let trap = |c: TrapCode| Trap::new(c);
        if args.len() != ty.params.len() {
            return Err(trap(TrapCode::InvalidValue));
        }
        let mut bufs: Vec<Vec<u64>> = Vec::with_capacity(args.len());
        let mut failed = None;
        for ((_, t), v) in ty.params.iter().zip(args) {
            let mut b = buffer(conv.l.get(*t).size);
            // SAFETY: `b` is aligned and large enough for a `t`.
            if let Err(c) = unsafe { conv.write(*t, v, b.as_mut_ptr() as *mut u8) } {
                failed = Some(c);
                break;
            }
            bufs.push(b);
        }
        let mut ret = buffer(ty.result.map_or(0, |r| conv.l.get(r).size));
        let code = match failed {
            Some(c) => c as u32,
            None => {
                let ptrs: Vec<*const c_void> =
                    bufs.iter().map(|b| b.as_ptr() as *const c_void).collect();
                // SAFETY: the host registered `adapter` for this import's type; every argument
                // and the result buffer have the C layout its header declares.
                unsafe { adapter(func, ctx, ptrs.as_ptr(), ret.as_mut_ptr() as *mut c_void) }
            }
        };
        for ((_, t), b) in ty.params.iter().zip(&mut bufs) {
            // SAFETY: written by `conv.write` above with malloc'd parts.
            unsafe { conv.free(*t, b.as_mut_ptr() as *mut u8, 0) };
        }
        if code != 0 {
            let c = u8::try_from(code).ok().and_then(TrapCode::from_u8);
            return Err(trap(c.unwrap_or(TrapCode::InvalidValue)));
        }
        let Some(r) = ty.result else { return Ok(None) };
        let p = ret.as_mut_ptr() as *mut u8;
        // SAFETY: the host filled the result buffer with a `r` whose strings and lists it
        // malloc'd (the header's documented contract); it is read once and freed once.
        let v = unsafe { conv.read(r, p, 0) };
        // SAFETY: as above.
        unsafe { conv.free(r, p, 0) };
        v.map(Some).map_err(trap)
    }
}

/// Load the plugin at `path` (a component compiled with `weld compile --emit sharedlib`) after
/// the checks of `weld_runtime::plugin` (ELF headers before loading: nothing of it runs if they
/// fail; descriptor, target and world after). With `expected_world_hash` non-zero, also require
/// that exact world: pass the `<PREFIX>_WORLD_HASH` of the header the host was built with. The
/// component descriptor for `weld_component_instantiate`, or NULL (see `weld_last_error`).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn weld_plugin_open(
    path: *const core::ffi::c_char,
    expected_world_hash: u64,
) -> *const VMComponentDescriptor {
    // SAFETY: the caller guarantees NULL or a NUL-terminated string.
    let Some(path) = (unsafe { c_str(path) }) else {
        set_error("weld_plugin_open: NULL or non-UTF-8 path".into());
        return core::ptr::null();
    };
    match crate::plugin::open_plugin(std::path::Path::new(path)) {
        Ok(d) if expected_world_hash != 0 && d.world_hash != expected_world_hash => {
            set_error(format!(
                "{path}: the plugin's world (hash {:#018x}) differs from the expected one \
                 ({expected_world_hash:#018x}); its world is:\n{}",
                d.world_hash, d.world
            ));
            core::ptr::null()
        }
        Ok(d) => d.descriptor,
        Err(e) => {
            set_error(format!("{path}: {e}"));
            core::ptr::null()
        }
    }
}

/// Instantiate the component `desc` describes, with the host functions `imports` (`n` entries,
/// matched by name). NULL on failure (see `weld_last_error`).
///
/// # Safety
/// `desc` must be a `<prefix>__component` descriptor of a linked weld object; `imports` must
/// point at `n` valid entries whose adapter and function match the import's generated header
/// declarations and whose `ctx` outlives the instance.
#[no_mangle]
pub unsafe extern "C" fn weld_component_instantiate(
    desc: *const VMComponentDescriptor,
    imports: *const WeldComponentImport,
    n: usize,
) -> *mut WeldComponent {
    if desc.is_null() {
        set_error("weld_component_instantiate: NULL component descriptor".into());
        return core::ptr::null_mut();
    }
    let offered: &[WeldComponentImport] = if n == 0 || imports.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees `n` valid entries.
        unsafe { core::slice::from_raw_parts(imports, n) }
    };
    // SAFETY: the caller guarantees the descriptor is weld's and static.
    match unsafe { instantiate(&*desc, offered) } {
        Ok(c) => Box::into_raw(Box::new(c)),
        Err(message) => {
            set_error(message);
            core::ptr::null_mut()
        }
    }
}

/// # Safety
/// As [`weld_component_instantiate`].
unsafe fn instantiate(
    desc: &'static VMComponentDescriptor,
    offered: &[WeldComponentImport],
) -> Result<WeldComponent, String> {
    // SAFETY: the caller vouches for the descriptor.
    let module = unsafe { ComponentModule::from_descriptor(desc) }.map_err(|e| format!("{e}"))?;
    let info = module.info();
    let mut host = HostImports::new();
    for imp in &info.imports {
        // SAFETY: the caller guarantees NUL-terminated names.
        let found = offered
            .iter()
            .find(|o| unsafe { c_str(o.name) } == Some(imp.name.as_str()))
            .ok_or_else(|| format!("missing import {}", imp.name))?;
        let adapter = found
            .adapter
            .ok_or_else(|| format!("import {}: NULL adapter", imp.name))?;
        if found.func.is_null() {
            return Err(format!("import {}: NULL function pointer", imp.name));
        }
        let ty = info
            .func_types
            .get(imp.ty as usize)
            .cloned()
            .ok_or_else(|| format!("import {}: bad type index", imp.name))?;
        let f = host_func(info.types.clone(), ty, adapter, found.func, found.ctx);
        host.insert(imp.name.clone(), f);
    }
    let mut store = Store::new();
    let instance = ComponentInstance::new(&mut store, &module, &host).map_err(|e| match e {
        crate::InstantiateError::Trap(t) => format!("instantiation trapped: {t}"),
        crate::InstantiateError::Link(why) => why,
    })?;
    Ok(WeldComponent { store, instance })
}

/// Free an instance (NULL is ignored).
///
/// # Safety
/// `inst` must be NULL or come from `weld_component_instantiate`, not yet freed, not running.
#[no_mangle]
pub unsafe extern "C" fn weld_component_free(inst: *mut WeldComponent) {
    if !inst.is_null() {
        // SAFETY: the caller guarantees the pointer came from `Box::into_raw` above.
        drop(unsafe { Box::from_raw(inst) });
    }
}

/// Call export `export_index` with arguments in C layout; write the result to `ret`.
/// Returns 0 or the trap code.
///
/// # Safety
/// `inst` must be a live instance; `args` must hold one valid pointer per parameter, each at a
/// C value of the parameter's type; `ret` must be writable for the result type (or NULL when
/// there is none).
#[no_mangle]
pub unsafe extern "C" fn weld_component_call(
    inst: *mut WeldComponent,
    export_index: u32,
    args: *const *const c_void,
    ret: *mut c_void,
) -> u32 {
    let invalid = TrapCode::InvalidValue as u32;
    if inst.is_null() {
        return invalid;
    }
    // SAFETY: the caller guarantees a live instance, not used elsewhere during the call.
    let inst = unsafe { &mut *inst };
    let module = inst.instance.module().clone();
    let info = module.info();
    let Some(e) = info.exports.get(export_index as usize) else {
        return invalid;
    };
    let Some(ft) = info.func_types.get(e.func.ty as usize) else {
        return invalid;
    };
    if (!ft.params.is_empty() && args.is_null()) || (ft.result.is_some() && ret.is_null()) {
        return invalid;
    }
    let conv = Conv {
        types: &info.types,
        l: CLayouts::native(&info.types),
    };
    let mut vals = Vec::with_capacity(ft.params.len());
    for (k, (_, t)) in ft.params.iter().enumerate() {
        // SAFETY: the caller guarantees one valid pointer per parameter.
        let p = unsafe { *args.add(k) } as *const u8;
        // SAFETY: `p` points at a C value of type `t` (or is NULL, which `read` refuses).
        match unsafe { conv.read(*t, p, 0) } {
            Ok(v) => vals.push(v),
            Err(c) => return c as u32,
        }
    }
    match inst.instance.call(&mut inst.store, &e.name, &vals) {
        Ok(v) => match (ft.result, v) {
            // SAFETY: `ret` is writable for the result type.
            (Some(r), Some(v)) => match unsafe { conv.write(r, &v, ret as *mut u8) } {
                Ok(()) => 0,
                Err(c) => c as u32,
            },
            (None, None) => 0,
            _ => invalid,
        },
        Err(t) => t.code as u32,
    }
}
