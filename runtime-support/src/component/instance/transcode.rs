//! The string transcoder generated adapters call for strings between two different encodings
//! ([`CoreDef::Transcode`](weld_contract::component::CoreDef::Transcode)).
//!
//! In: a string's pointer and (tagged) code units on one side of a fused call. Out: the pointer
//! and units of its copy on the other side. The general case loads the string as the generic
//! path does (checks, decoding) and stores it with the spec's allocation sequence
//! (`component::string`). ASCII text, the common case, skips the decoded copy: when every code
//! unit of a UTF-16 or Latin-1 string is below 0x80 and it goes to UTF-8, the string's bytes are
//! narrowed straight into the one buffer the spec's sequence allocates first (`realloc(0, 0, 1,
//! units)`, which an ASCII string fills exactly); anything else takes the general case.

use super::{raise_on_err, Inner};
use crate::component::abi::alloc_checked;
use crate::component::string::{load_string, store_string};
use crate::func::Func;
use crate::instance::Extern;
use crate::memory::Memory;
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::vec::Vec;
use weld_contract::component::abi::{MAX_STRING_BYTE_LENGTH, UTF16_TAG};
use weld_contract::component::{CanonOpts, LoweringTarget, StringEncoding};
use weld_contract::info::{FuncType, ValType};
use weld_contract::trap::TrapCode;

/// The context of a string transcoder: whose options it follows, in which direction.
#[derive(Debug)]
pub(super) struct TranscodeCtx {
    inner: *const Inner,
    lowering: u32,
    results: bool,
}

impl Inner {
    /// The transcoder an adapter imports for the strings of lowering `lowering`.
    pub(super) fn transcode_func(&self, store: &mut Store, lowering: u32, results: bool) -> Func {
        let mut ctx = Box::new(TranscodeCtx {
            inner: self,
            lowering,
            results,
        });
        let ptr = &mut *ctx as *mut TranscodeCtx as *mut u8;
        self.transcode_ctxs.borrow_mut().push(ctx);
        let ty = FuncType {
            params: alloc::vec![ValType::I32; 2],
            results: alloc::vec![ValType::I64],
        };
        // SAFETY: `transcode` is an `extern "C" fn(ctx, i32, i32) -> i64`, matching `ty`, and
        // `ptr` is a `TranscodeCtx` living as long as the (leaked) shared state.
        unsafe { Func::host(store, ty, transcode as *const u8, ptr) }
    }

    /// Load the string at `ptr` (`units` tagged code units) from one side of lowering
    /// `lowering` and store it into the other, as the generic path does.
    fn transcode(&self, lowering: u32, results: bool, ptr: u32, units: u32) -> Result<i64, Trap> {
        let l = self
            .info()
            .lowerings
            .get(lowering as usize)
            .ok_or_else(super::bad)?;
        let LoweringTarget::Lifted(f) = &l.target else {
            return Err(super::bad());
        };
        let (src, dst) = if results {
            (&f.opts, &l.opts)
        } else {
            (&l.opts, &f.opts)
        };
        // SAFETY: called from an adapter, i.e. while wasm of this instance runs.
        let store = unsafe { self.store() };
        let mut loans = Vec::new();
        if let Some(done) = self.ascii_to_utf8(store, src, dst, ptr, units, &mut loans)? {
            return Ok((u64::from(done.0) | u64::from(done.1) << 32) as i64);
        }
        let s = {
            let cx = self.cx(store, src, false, &mut loans)?;
            load_string(&cx, ptr, units)?
        };
        let (p, n) = {
            let mut cx = self.cx(store, dst, false, &mut loans)?;
            store_string(&mut cx, &s, src.encoding)?
        };
        Ok((u64::from(p) | u64::from(n) << 32) as i64)
    }
}

/// `CoreDef::Transcode`.
extern "C" fn transcode(ctx: *mut u8, ptr: i32, units: i32) -> i64 {
    // SAFETY: registered with a `TranscodeCtx` in `transcode_func`; its `inner` is leaked.
    let (inner, lowering, results) = unsafe {
        let c = &*(ctx as *const TranscodeCtx);
        (&*c.inner, c.lowering, c.results)
    };
    raise_on_err(inner.transcode(lowering, results, ptr as u32, units as u32))
}

impl Inner {
    /// The ASCII fast path (see the module docs): `Some((ptr, units))` when it applies, `None`
    /// when the general case must run (which also raises any trap the string deserves).
    fn ascii_to_utf8(
        &self,
        store: &mut Store,
        src: &CanonOpts,
        dst: &CanonOpts,
        ptr: u32,
        units: u32,
        loans: &mut Vec<super::Loan>,
    ) -> Result<Option<(u32, u32)>, Trap> {
        let (units, wide) = match (src.encoding, dst.encoding) {
            (StringEncoding::Utf16, StringEncoding::Utf8) => (units, true),
            (StringEncoding::CompactUtf16, StringEncoding::Utf8) if units & UTF16_TAG != 0 => {
                (units ^ UTF16_TAG, true)
            }
            (StringEncoding::CompactUtf16, StringEncoding::Utf8) => (units, false),
            _ => return Ok(None),
        };
        let memory = |opts: &CanonOpts| match opts.memory.as_ref().map(|d| self.export(store, d)) {
            Some(Ok(Extern::Memory(m))) => Some(m),
            _ => None,
        };
        let (Some(from), Some(to)) = (memory(src), memory(dst)) else {
            return Ok(None);
        };
        let unit = if wide { 2 } else { 1 };
        let start = u64::from(ptr);
        let end = start + u64::from(units) * unit;
        let ascii = |store: &Store| -> Option<bool> {
            // SAFETY: no wasm runs while this reads (the adapter waits in this call).
            let bytes = unsafe { store.memories.get(from.0).bytes() };
            let s = bytes.get(start as usize..end as usize)?;
            Some(if wide {
                // One OR over all units (no early exit), which the compiler vectorises.
                let any = s
                    .chunks_exact(2)
                    .fold(0u16, |acc, c| acc | u16::from_le_bytes([c[0], c[1]]));
                any < 0x80
            } else {
                s.is_ascii()
            })
        };
        let plausible = from != to
            && u64::from(units) <= MAX_STRING_BYTE_LENGTH
            // Both UTF-16 and Latin-1+UTF-16 strings are 2-aligned, whatever their tag.
            && ptr.is_multiple_of(2)
            && ascii(store) == Some(true);
        if !plausible {
            return Ok(None);
        }
        let q = {
            let mut cx = self.cx(store, dst, false, loans)?;
            alloc_checked(&mut cx, 0, 0, 1, units, TrapCode::StringOutOfBounds)?
        };
        narrow(
            store,
            (from, start as usize),
            (to, q as usize),
            units as usize,
            wide,
        )?;
        Ok(Some((q, units)))
    }
}

/// Copy `units` ASCII code units from `src` (memory, offset) to `dst` as bytes.
fn narrow(
    store: &Store,
    src: (Memory, usize),
    dst: (Memory, usize),
    units: usize,
    wide: bool,
) -> Result<(), Trap> {
    let oob = || super::trap(TrapCode::StringOutOfBounds);
    // SAFETY: two distinct memories (checked by the caller), so the slices do not overlap; no
    // wasm runs while they are alive (the adapter waits in this call).
    let (from, to) = unsafe {
        (
            store.memories.get(src.0 .0).bytes(),
            store.memories.get(dst.0 .0).bytes_mut(),
        )
    };
    let unit = if wide { 2 } else { 1 };
    let s = from.get(src.1..src.1 + units * unit).ok_or_else(oob)?;
    let d = to.get_mut(dst.1..dst.1 + units).ok_or_else(oob)?;
    if wide {
        for (b, c) in d.iter_mut().zip(s.chunks_exact(2)) {
            *b = c[0];
        }
    } else {
        d.copy_from_slice(s);
    }
    Ok(())
}

/// The contexts of an instance's transcoders. Boxed: compiled code keeps their addresses.
pub(super) type TranscodeCtxs = Vec<Box<TranscodeCtx>>;
