//! The C API: what C hosts (and the C entry points weld puts in every object) call. The whole
//! contract is `include/weld.h`; this file implements it on top of the Rust embedder API.
//!
//! ```text
//! host.c ─► <prefix>_instantiate(imports, n) ─► weld_instantiate(&<prefix>__module, imports, n)
//!                                                  └─► Store + Module + Instance, boxed
//! host.c ─► <prefix>_<export>(inst, args.., &res..) ─► weld_call(inst, export_index, slots)
//!                                                  └─► Func::call ─► entry::enter ─► wasm
//! ```
//!
//! Each `weld_instance` owns its own [`Store`], so instances share nothing and can be freed one by
//! one. Failures are values: `weld_instantiate` returns NULL and leaves a message for
//! `weld_last_error` (per thread), `weld_call` returns a trap code. Nothing here panics on what a
//! host passes in, except pointers that break the documented contract (which C cannot check).
//!
//! A trap does not poison a core instance: it unwinds to `weld_call`, and the instance (its
//! memory as the trap left it) can be called again, as in the core spec.

use crate::{Extern, Func, Instance, Module, Store, TrapCode, ValRaw};
use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::ffi::{c_char, c_void, CStr};
use std::sync::OnceLock;
use weld_contract::descriptor::VMModuleDescriptor;
use weld_contract::info::{ImportKind, ValType};

/// `weld_import`: one host function offered to a module's function import `module::name`.
#[repr(C)]
#[derive(Debug)]
pub struct WeldImport {
    /// Import module name (NUL-terminated).
    pub module: *const c_char,
    /// Import field name (NUL-terminated).
    pub name: *const c_char,
    /// `ret f(void *ctx, params...)` in the wasm ABI.
    pub func: *const c_void,
    /// Passed as the first argument of every call.
    pub ctx: *mut c_void,
}

/// `weld_instance`: an instance and the store that owns everything it created.
#[derive(Debug)]
pub struct WeldInstance {
    store: Store,
    /// Every export with its name, in module order (`weld_call`'s `export_index`).
    exports: Vec<(String, Extern)>,
}

std::thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_error(message: String) {
    // A message with a NUL in it (from a host-supplied name) is cut there.
    let bytes: Vec<u8> = message
        .into_bytes()
        .into_iter()
        .take_while(|b| *b != 0)
        .collect();
    let c = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The message of the last failure on this thread ("" if none). Valid until the next failing
/// call on this thread.
#[no_mangle]
pub extern "C" fn weld_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Write the wasm backtrace of the last trap on this thread (the text `weld_trap_message`'s
/// caller prints under it: "wasm backtrace:" and one line per frame) into `buf`, NUL-terminated
/// and cut to `cap` bytes; returns the length of the whole text (0 when no frames were recorded),
/// like `snprintf`. Clears the record.
///
/// # Safety
/// `buf` must be null (with `cap` 0) or point at `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn weld_trap_backtrace(buf: *mut c_char, cap: usize) -> usize {
    let text = crate::backtrace::take()
        .map(|bt| alloc::string::ToString::to_string(&bt))
        .unwrap_or_default();
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        // SAFETY: the caller guarantees `cap` writable bytes at `buf`; `n + 1 <= cap`.
        unsafe {
            core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    text.len()
}

/// The spec text of a trap code, "no trap" for 0, "unknown trap code" otherwise. Static storage.
#[no_mangle]
pub extern "C" fn weld_trap_message(code: u32) -> *const c_char {
    static MESSAGES: OnceLock<Vec<CString>> = OnceLock::new();
    let table = MESSAGES.get_or_init(|| {
        TrapCode::ALL
            .iter()
            .map(|c| CString::new(c.message()).unwrap_or_default())
            .collect()
    });
    if code == 0 {
        return c"no trap".as_ptr();
    }
    let found = u8::try_from(code).ok().and_then(TrapCode::from_u8);
    match found.and_then(|c| TrapCode::ALL.iter().position(|x| *x == c)) {
        Some(i) => table[i].as_ptr(),
        None => c"unknown trap code".as_ptr(),
    }
}

/// Read a NUL-terminated string, `None` for NULL or non-UTF-8.
///
/// # Safety
/// `p` must be NULL or point at a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null, and the caller guarantees NUL termination.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Instantiate the module `desc` describes. `imports` (`n` entries, may be NULL when `n` is 0)
/// are matched by module and name against the module's function imports. Returns NULL on
/// failure (see `weld_last_error`).
///
/// # Safety
/// `desc` must be a descriptor weld wrote (a `<prefix>__module` symbol of a linked object) that
/// lives for the rest of the process; `imports` must point at `n` valid entries whose `func`
/// has the C signature the import's wasm type gives (see the module's generated header).
#[no_mangle]
pub unsafe extern "C" fn weld_instantiate(
    desc: *const VMModuleDescriptor,
    imports: *const WeldImport,
    n: usize,
) -> *mut WeldInstance {
    if desc.is_null() {
        set_error("weld_instantiate: NULL module descriptor".into());
        return core::ptr::null_mut();
    }
    let offered: &[WeldImport] = if n == 0 || imports.is_null() {
        &[]
    } else {
        // SAFETY: the caller guarantees `n` valid entries.
        unsafe { core::slice::from_raw_parts(imports, n) }
    };
    // SAFETY: the caller guarantees the descriptor is weld's and static.
    match unsafe { instantiate(&*desc, offered) } {
        Ok(inst) => Box::into_raw(Box::new(inst)),
        Err(message) => {
            set_error(message);
            core::ptr::null_mut()
        }
    }
}

/// # Safety
/// As [`weld_instantiate`].
unsafe fn instantiate(
    desc: &'static VMModuleDescriptor,
    offered: &[WeldImport],
) -> Result<WeldInstance, String> {
    // SAFETY: the caller vouches for the descriptor.
    let module = unsafe { Module::from_descriptor(desc) }.map_err(|e| format!("{e}"))?;
    let mut store = Store::new();
    let mut imports = Vec::new();
    for import in &module.info().imports {
        let (m, n) = (import.module.as_str(), import.name.as_str());
        let ImportKind::Func(ty) = import.kind else {
            return Err(format!(
                "import {m}::{n}: only function imports can be provided through the C API"
            ));
        };
        // SAFETY: the caller guarantees valid, NUL-terminated names.
        let host = offered
            .iter()
            .find(|h| unsafe { c_str(h.module) == Some(m) && c_str(h.name) == Some(n) })
            .ok_or_else(|| format!("missing import {m}::{n}"))?;
        let ty = module
            .info()
            .types
            .get(ty as usize)
            .cloned()
            .ok_or_else(|| format!("import {m}::{n}: bad type index"))?;
        if ty.results.len() > 1
            || ty
                .params
                .iter()
                .chain(&ty.results)
                .any(|t| *t == ValType::V128)
        {
            return Err(format!(
                "import {m}::{n}: host functions with v128 values or several results are not supported from C"
            ));
        }
        if host.func.is_null() {
            return Err(format!("import {m}::{n}: NULL function pointer"));
        }
        // SAFETY: the caller guarantees `func` has the wasm-ABI signature of `ty` and that `ctx`
        // stays valid while the instance lives.
        let f = unsafe { Func::host(&mut store, ty, host.func as *const u8, host.ctx as *mut u8) };
        imports.push(Extern::Func(f));
    }
    let instance = Instance::new(&mut store, &module, &imports).map_err(|e| match e {
        crate::InstantiateError::Trap(t) => format!("instantiation trapped: {t}"),
        crate::InstantiateError::Link(why) => why,
    })?;
    let exports = instance.exports(&store);
    Ok(WeldInstance { store, exports })
}

/// Free an instance and everything it created (NULL is ignored).
///
/// # Safety
/// `inst` must be NULL or come from `weld_instantiate`, not yet freed, and not be running.
#[no_mangle]
pub unsafe extern "C" fn weld_instance_free(inst: *mut WeldInstance) {
    if !inst.is_null() {
        // SAFETY: the caller guarantees the pointer came from `Box::into_raw` above.
        drop(unsafe { Box::from_raw(inst) });
    }
}

/// Call export number `export_index` (module export order). Arguments are read from `vals`
/// (one 16-byte slot each) and results written back from slot 0. Returns 0, or the trap code
/// (`WELD_TRAP_INVALID_VALUE` if the export is not a function).
///
/// # Safety
/// `inst` must be a live instance; `vals` must have room for max(params, results) slots (it may
/// be NULL when both are 0).
#[no_mangle]
pub unsafe extern "C" fn weld_call(
    inst: *mut WeldInstance,
    export_index: u32,
    vals: *mut ValRaw,
) -> u32 {
    let invalid = TrapCode::InvalidValue as u32;
    if inst.is_null() {
        return invalid;
    }
    // SAFETY: the caller guarantees a live instance, not used elsewhere during the call (a host
    // function re-entering the same instance goes through here again, which Func::call allows).
    let inst = unsafe { &mut *inst };
    let Some((_, Extern::Func(f))) = inst.exports.get(export_index as usize) else {
        return invalid;
    };
    let f = *f;
    let ty = f.ty(&inst.store);
    let (np, nr) = (ty.params.len(), ty.results.len());
    if vals.is_null() && (np > 0 || nr > 0) {
        return invalid;
    }
    let args: Vec<ValRaw> = (0..np)
        // SAFETY: the caller guarantees `np` readable slots.
        .map(|i| unsafe { *vals.add(i) })
        .collect();
    match f.call(&mut inst.store, &args) {
        Ok(results) => {
            for (i, r) in results.iter().enumerate() {
                // SAFETY: the caller guarantees `nr` writable slots.
                unsafe { *vals.add(i) = *r };
            }
            0
        }
        Err(t) => t.code as u32,
    }
}

/// The bytes of the memory exported as `name`: its base address, and its length in `*len`.
/// NULL (and `*len` = 0) if there is no such memory export. Valid until the memory grows.
///
/// # Safety
/// `inst` must be a live instance, `name` NULL or a NUL-terminated string, `len` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn weld_memory_data(
    inst: *mut WeldInstance,
    name: *const c_char,
    len: *mut usize,
) -> *mut u8 {
    let set_len = |v: usize| {
        if !len.is_null() {
            // SAFETY: the caller guarantees `len` is writable.
            unsafe { *len = v };
        }
    };
    set_len(0);
    if inst.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: the caller guarantees a live instance and a valid name.
    let (inst, name) = unsafe { (&mut *inst, c_str(name)) };
    let Some(name) = name else {
        return core::ptr::null_mut();
    };
    let found = inst.exports.iter().find(|(n, _)| n == name);
    match found.map(|(_, x)| *x) {
        Some(Extern::Memory(m)) => {
            let data = m.data_mut(&mut inst.store);
            set_len(data.len());
            data.as_mut_ptr()
        }
        _ => core::ptr::null_mut(),
    }
}

/// `weld_root`: a handle (`generation << 32 | index + 1`, never 0) rooting `word`.
///
/// # Safety
/// `inst` must be a live instance from `weld_instantiate`, not running.
#[no_mangle]
pub unsafe extern "C" fn weld_root(inst: *mut WeldInstance, word: u64) -> u64 {
    // SAFETY: the caller guarantees a live instance nothing else uses now.
    let store = unsafe { &mut (*inst).store };
    root_handle(store.root(word))
}

fn root_handle(r: crate::gc::GcRoot) -> u64 {
    let (index, generation) = r.parts();
    (u64::from(generation) << 32) | (u64::from(index) + 1)
}

fn root_of(handle: u64) -> Option<crate::gc::GcRoot> {
    let index = (handle as u32).checked_sub(1)?;
    Some(crate::gc::GcRoot::from_parts(index, (handle >> 32) as u32))
}

/// `weld_root_get`: 1 and the word in `*out`, or 0 for a handle given back.
///
/// # Safety
/// `inst` must be a live instance; `out` a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn weld_root_get(inst: *mut WeldInstance, root: u64, out: *mut u64) -> i32 {
    // SAFETY: the caller guarantees a live instance.
    let store = unsafe { &(*inst).store };
    match root_of(root).and_then(|r| store.root_get(r)) {
        Some(w) if !out.is_null() => {
            // SAFETY: the caller guarantees `out`.
            unsafe { out.write(w) };
            1
        }
        _ => 0,
    }
}

/// `weld_unroot`.
///
/// # Safety
/// `inst` must be a live instance, not running.
#[no_mangle]
pub unsafe extern "C" fn weld_unroot(inst: *mut WeldInstance, root: u64) {
    // SAFETY: the caller guarantees a live instance nothing else uses now.
    let store = unsafe { &mut (*inst).store };
    if let Some(r) = root_of(root) {
        store.unroot(r);
    }
}

/// `weld_externref`.
#[no_mangle]
pub extern "C" fn weld_externref(value: u64) -> u64 {
    crate::gc::externref(value).unwrap_or(0)
}

/// `weld_externref_value`.
///
/// # Safety
/// `out` must be a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn weld_externref_value(word: u64, out: *mut u64) -> i32 {
    match crate::gc::host_value(word) {
        Some(v) if !out.is_null() => {
            // SAFETY: the caller guarantees `out`.
            unsafe { out.write(v) };
            1
        }
        _ => 0,
    }
}

/// Raise trap `code` from inside a host function that wasm called: unwinds to the `weld_call`
/// that entered wasm, which returns `code`. Codes that name no trap raise
/// `WELD_TRAP_INVALID_VALUE`.
///
/// # Safety
/// Only from a host function called by wasm on this thread, with no C++ destructors or other
/// clean-up pending in the frames it skips.
#[no_mangle]
pub unsafe extern "C" fn weld_trap(code: u32) -> ! {
    let code = u8::try_from(code)
        .ok()
        .and_then(TrapCode::from_u8)
        .unwrap_or(TrapCode::InvalidValue);
    // SAFETY: the caller guarantees we are inside a host call from wasm with nothing to drop.
    unsafe { crate::entry::raise(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SCREAMING_SNAKE` form of a trap code's name, as weld.h spells it.
    fn c_name(code: TrapCode) -> String {
        let mut out = String::from("WELD_TRAP_");
        for (i, ch) in format!("{code:?}").chars().enumerate() {
            if ch.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_uppercase());
        }
        out
    }

    #[test]
    fn weld_h_defines_the_async_call_answers_as_the_runtime_does() {
        let header = include_str!("../include/weld.h");
        for (name, value) in [
            (
                "WELD_CALL_PENDING",
                crate::capi_component::WELD_CALL_PENDING,
            ),
            (
                "WELD_CALL_CANCELLED",
                crate::capi_component::WELD_CALL_CANCELLED,
            ),
        ] {
            let line = format!("#define {name} {value:#x}u");
            assert!(header.contains(&line), "weld.h lacks `{line}`");
            // Never a trap code: those fit in a byte.
            assert!(value > u32::from(u8::MAX), "{name}");
        }
    }

    /// Every `WELD_TRAP_X = N, /* message */` line of weld.h.
    fn header_codes() -> Vec<(String, u32, String)> {
        let header = include_str!("../include/weld.h");
        let mut found = Vec::new();
        for line in header.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("WELD_TRAP_") else {
                continue;
            };
            let Some((name, rest)) = rest.split_once(" = ") else {
                continue;
            };
            let Some((num, rest)) = rest.split_once(", /* ") else {
                continue;
            };
            let msg = rest.strip_suffix(" */").unwrap_or(rest);
            found.push((
                format!("WELD_TRAP_{name}"),
                num.parse().unwrap(),
                msg.into(),
            ));
        }
        found
    }

    #[test]
    fn weld_h_lists_exactly_the_contract_trap_codes_and_messages() {
        let expected: Vec<(String, u32, String)> = TrapCode::ALL
            .iter()
            .map(|c| (c_name(*c), *c as u32, c.message().into()))
            .collect();
        for code in TrapCode::ALL {
            assert!(
                !code.message().contains("*/"),
                "{code:?} cannot sit in a C comment"
            );
        }
        let found = header_codes();
        let block: String = expected
            .iter()
            .map(|(n, v, m)| format!("  {n} = {v}, /* {m} */\n"))
            .collect();
        if found != expected && std::env::var_os("BLESS").is_some() {
            // Rewrite the enum body between `WELD_OK = 0,` and its closing line.
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/weld.h");
            let text = std::fs::read_to_string(path).unwrap();
            let (head, rest) = text.split_once("  WELD_OK = 0,\n").unwrap();
            let (_, tail) = rest.split_once("} weld_trap_code;").unwrap();
            let new = format!("{head}  WELD_OK = 0,\n{block}}} weld_trap_code;{tail}");
            std::fs::write(path, new).unwrap();
            return;
        }
        assert_eq!(
            found, expected,
            "weld.h's trap enum differs from TrapCode::ALL (BLESS=1 rewrites it); it should read:\n{block}"
        );
    }

    #[test]
    fn trap_messages_are_the_contract_texts() {
        for code in TrapCode::ALL {
            // SAFETY: weld_trap_message returns a static NUL-terminated string.
            let msg = unsafe { CStr::from_ptr(weld_trap_message(*code as u32)) };
            assert_eq!(msg.to_str().unwrap(), code.message());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(weld_trap_message(999)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown trap code");
    }

    #[test]
    fn null_arguments_fail_cleanly() {
        // SAFETY: NULL is allowed and reported.
        unsafe {
            assert!(weld_instantiate(core::ptr::null(), core::ptr::null(), 0).is_null());
            let err = CStr::from_ptr(weld_last_error()).to_str().unwrap();
            assert!(err.contains("NULL module descriptor"), "{err}");
            assert_eq!(
                weld_call(core::ptr::null_mut(), 0, core::ptr::null_mut()),
                TrapCode::InvalidValue as u32
            );
            weld_instance_free(core::ptr::null_mut());
        }
    }
}
