//! The platform hooks of the bare-metal build (no `std`: no OS, no signals, no threads).
//!
//! In: the functions the embedding firmware provides (declared in `include/weld_platform.h`):
//! `weld_platform_alloc` / `weld_platform_free` for all of the runtime's memory (a static arena
//! will do), and `weld_platform_abort` for a runtime bug (a Rust panic). Out: the global
//! allocator and panic handler of a `no_std` runtime archive, and `weld_handle_fault`, which the
//! platform's exception or fault handler calls with the faulting PC: compiled code traps with
//! an illegal instruction (`ud2` / `brk` / `ebreak`), and in wasm code that becomes a trap
//! returned to the caller of `weld_call`/`Func::call`.
//!
//! Bare-metal code must be compiled with explicit bounds checks (`--bounds-checks explicit`):
//! there are no guard pages, so every memory access is checked by the code itself.

use core::alloc::{GlobalAlloc, Layout};

extern "C" {
    fn weld_platform_alloc(size: usize, align: usize) -> *mut u8;
    fn weld_platform_free(ptr: *mut u8, size: usize, align: usize);
    fn weld_platform_abort(msg: *const u8, len: usize) -> !;
}

struct Platform;

// SAFETY: forwards to the platform's allocator, whose contract (weld_platform.h) is GlobalAlloc's:
// a block of at least `size` bytes aligned to `align`, or null.
unsafe impl GlobalAlloc for Platform {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { weld_platform_alloc(layout.size(), layout.align()) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { weld_platform_free(ptr, layout.size(), layout.align()) }
    }
}

#[cfg(not(test))]
#[global_allocator]
static ALLOCATOR: Platform = Platform;

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    const MSG: &[u8] = b"weld runtime: internal error (panic)";
    // SAFETY: the platform's abort takes any byte string and does not return.
    unsafe { weld_platform_abort(MSG.as_ptr(), MSG.len()) }
}

/// Called by the platform's fault handler with the faulting instruction's PC, stack pointer and
/// frame pointer. If the PC is in wasm code running under `weld_call`, the trap unwinds there
/// (this does not return); otherwise it returns 0 and the fault is the platform's.
///
/// # Safety
/// Must be called on the faulting thread's stack (or an exception stack of the same context),
/// with the registers of the faulting context.
#[no_mangle]
pub unsafe extern "C" fn weld_handle_fault(pc: usize, sp: usize, fp: usize) -> i32 {
    let buf = crate::entry::current();
    if buf.is_null() {
        return 0;
    }
    let Some(site) = crate::registry::lookup(pc) else {
        return 0;
    };
    let code = site.unwrap_or(weld_contract::trap::TrapCode::Unreachable);
    // SAFETY: the fault is in wasm code under the active entry `buf`; the caller guarantees the
    // registers are the faulting context's, so `[sp, entry sp)` is live stack.
    unsafe {
        crate::backtrace::record(Some(pc), fp, sp, (*buf).stack_pointer());
        crate::arch::weld_rt_unwind(buf, code as u32)
    }
}

#[cfg(feature = "generic-abi")]
use crate::component::Val;
use crate::component::{ComponentInstance, ComponentModule, HostImports};
use crate::store::Store;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use weld_contract::component::descriptor::VMComponentDescriptor;
use weld_contract::component::TypeDef;
use weld_contract::trap::TrapCode;

/// A scalar as a 64-bit word: integers zero- or sign-extended, bool 0/1, floats by bits.
#[cfg(feature = "generic-abi")]
fn to_word(v: &Val) -> Option<u64> {
    Some(match v {
        Val::Bool(b) => u64::from(*b),
        Val::U8(x) => u64::from(*x),
        Val::U16(x) => u64::from(*x),
        Val::U32(x) => u64::from(*x),
        Val::U64(x) => *x,
        Val::S8(x) => *x as i64 as u64,
        Val::S16(x) => *x as i64 as u64,
        Val::S32(x) => *x as i64 as u64,
        Val::S64(x) => *x as u64,
        Val::F32(x) => u64::from(x.to_bits()),
        Val::F64(x) => x.to_bits(),
        Val::Char(c) => u64::from(u32::from(*c)),
        _ => return None,
    })
}

/// The value of type `t` a word stands for, if `t` is a scalar.
#[cfg(feature = "generic-abi")]
fn from_word(t: &TypeDef, w: u64) -> Option<Val> {
    Some(match t {
        TypeDef::Bool => Val::Bool(w != 0),
        TypeDef::U8 => Val::U8(w as u8),
        TypeDef::U16 => Val::U16(w as u16),
        TypeDef::U32 => Val::U32(w as u32),
        TypeDef::U64 => Val::U64(w),
        TypeDef::S8 => Val::S8(w as i8),
        TypeDef::S16 => Val::S16(w as i16),
        TypeDef::S32 => Val::S32(w as i32),
        TypeDef::S64 => Val::S64(w as i64),
        TypeDef::F32 => Val::F32(f32::from_bits(w as u32)),
        TypeDef::F64 => Val::F64(f64::from_bits(w)),
        TypeDef::Char => Val::Char(char::from_u32(w as u32)?),
        _ => return None,
    })
}

/// The bare-metal embedding API: instantiate the linked component `desc` (no imports) on first
/// use, and call its export `name` (NUL-terminated) with `nargs` scalar arguments as 64-bit words,
/// storing a scalar result (if any) in `*result`. Returns 0, a `weld_trap_code`, or -1 if the
/// call is not possible (no such export, non-scalar types, instantiation failed). The instance
/// lives until the program ends; a trap leaves it refusing further calls, as the Component Model
/// requires.
///
/// # Safety
/// `desc` must be a weld component descriptor linked into the image; `name` a NUL-terminated
/// string; `args` `nargs` readable words; `result` null or writable.
#[no_mangle]
pub unsafe extern "C" fn weld_bare_call(
    desc: *const VMComponentDescriptor,
    name: *const core::ffi::c_char,
    args: *const u64,
    nargs: usize,
    result: *mut u64,
) -> i32 {
    if desc.is_null() || name.is_null() || (nargs > 0 && args.is_null()) {
        return -1;
    }
    // SAFETY: the caller guarantees a NUL-terminated string.
    let Ok(name) = (unsafe { core::ffi::CStr::from_ptr(name) }).to_str() else {
        return -1;
    };
    // SAFETY: the caller guarantees `nargs` readable words.
    let words = if nargs == 0 {
        &[][..]
    } else {
        unsafe { core::slice::from_raw_parts(args, nargs) }
    };
    if INSTANCES.busy.swap(true, Ordering::Acquire) {
        return -1; // re-entered from inside a call
    }
    // SAFETY: `busy` was false: no other reference to the list exists (one thread of execution
    // on bare metal, and re-entry is refused above); it is released below.
    let all = unsafe { &mut *INSTANCES.list.get() };
    let r = call_in(all, desc, name, words, result);
    INSTANCES.busy.store(false, Ordering::Release);
    r
}

/// The instances `weld_bare_call` made, by descriptor address.
struct Instances {
    busy: AtomicBool,
    list: UnsafeCell<alloc::vec::Vec<(usize, Store, ComponentInstance)>>,
}

// SAFETY: bare metal (this module exists only without `std`) has one thread of execution (see
// weld_platform.h), and `busy` keeps even re-entrant calls from aliasing the list.
unsafe impl Sync for Instances {}

static INSTANCES: Instances = Instances {
    busy: AtomicBool::new(false),
    list: UnsafeCell::new(alloc::vec::Vec::new()),
};

/// [`weld_bare_call`] with the list in hand.
///
/// # Safety
/// As for [`weld_bare_call`].
unsafe fn call_in(
    all: &mut alloc::vec::Vec<(usize, Store, ComponentInstance)>,
    desc: *const VMComponentDescriptor,
    name: &str,
    words: &[u64],
    result: *mut u64,
) -> i32 {
    let key = desc as usize;
    if !all.iter().any(|(k, _, _)| *k == key) {
        // SAFETY: the caller guarantees a linked weld descriptor (static).
        let Ok(module) = (unsafe { ComponentModule::from_linked_descriptor(&*desc) }) else {
            return -1;
        };
        let mut store = Store::new();
        let Ok(inst) = ComponentInstance::new(&mut store, &module, &HostImports::new()) else {
            return -1;
        };
        all.push((key, store, inst));
    }
    let Some((_, store, inst)) = all.iter_mut().find(|(k, _, _)| *k == key) else {
        return -1;
    };
    let Some(index) = inst.exports().iter().position(|(n, _)| *n == name) else {
        return -1;
    };
    let ty = inst.exports()[index].1.clone();
    let scalar = |t: &u32| inst.types().get(*t as usize).is_some_and(is_scalar);
    if ty.params.len() != words.len()
        || !ty.params.iter().all(|(_, t)| scalar(t))
        || !ty.result.iter().all(scalar)
    {
        return -1;
    }
    if inst.has_host_entry(index) {
        return call_compiled(store, inst, index, &ty, words, result);
    }
    call_generic(store, inst, name, &ty, words, result)
}

/// Whether `t` is a scalar: a type `weld_bare_call` passes as one word.
fn is_scalar(t: &TypeDef) -> bool {
    matches!(
        t,
        TypeDef::Bool
            | TypeDef::U8
            | TypeDef::U16
            | TypeDef::U32
            | TypeDef::U64
            | TypeDef::S8
            | TypeDef::S16
            | TypeDef::S32
            | TypeDef::S64
            | TypeDef::F32
            | TypeDef::F64
            | TypeDef::Char
    )
}

// The low bytes of a little-endian word are its scalar's C value.
const _: () = assert!(cfg!(target_endian = "little"));

/// [`weld_bare_call`] through the export's compiled host entry: each word is its scalar's C
/// value, and the result's C value lands in a word. No `Val` is made.
fn call_compiled(
    store: &mut Store,
    inst: &ComponentInstance,
    index: usize,
    ty: &weld_contract::component::FuncTy,
    words: &[u64],
    result: *mut u64,
) -> i32 {
    let def = |t: u32| inst.types().get(t as usize);
    let mut args = alloc::vec::Vec::with_capacity(words.len());
    for ((_, t), w) in ty.params.iter().zip(words) {
        args.push(match def(*t) {
            Some(TypeDef::Bool) => u64::from(*w != 0),
            Some(TypeDef::Char) if char::from_u32(*w as u32).is_none() => return -1,
            _ => *w,
        });
    }
    let ptrs: alloc::vec::Vec<*const u8> =
        args.iter().map(|w| w as *const u64 as *const u8).collect();
    let mut out = 0u64;
    // SAFETY: every pointer addresses a word holding its scalar parameter's C value (low bytes,
    // little-endian; bools 0/1, chars valid), and `out` has room for any scalar result.
    let called = unsafe {
        inst.call_host_entry(store, index, ptrs.as_ptr(), &mut out as *mut u64 as *mut u8)
    };
    match called {
        Ok(true) => {
            if let (Some(t), false) = (ty.result, result.is_null()) {
                let w = match def(t) {
                    Some(TypeDef::S8) => out as u8 as i8 as u64,
                    Some(TypeDef::S16) => out as u16 as i16 as u64,
                    Some(TypeDef::S32) => out as u32 as i32 as u64,
                    _ => out,
                };
                // SAFETY: the caller guarantees `result` is writable when not null.
                unsafe { *result = w };
            }
            0
        }
        Ok(false) => -1,
        Err(t) => i32::from(t.code as u8),
    }
}

/// [`weld_bare_call`] through the runtime's generic path, for an export without a host entry.
#[cfg(not(feature = "generic-abi"))]
fn call_generic(
    _: &mut Store,
    _: &ComponentInstance,
    _: &str,
    _: &weld_contract::component::FuncTy,
    _: &[u64],
    _: *mut u64,
) -> i32 {
    -1
}

/// [`weld_bare_call`] through the runtime's generic path, for an export without a host entry.
#[cfg(feature = "generic-abi")]
fn call_generic(
    store: &mut Store,
    inst: &ComponentInstance,
    name: &str,
    ty: &weld_contract::component::FuncTy,
    words: &[u64],
    result: *mut u64,
) -> i32 {
    let mut vals = alloc::vec::Vec::with_capacity(words.len());
    for ((_, t), w) in ty.params.iter().zip(words) {
        match inst.types().get(*t as usize).and_then(|t| from_word(t, *w)) {
            Some(v) => vals.push(v),
            None => return -1,
        }
    }
    match inst.call(store, name, &vals) {
        Ok(out) => {
            if let (Some(v), false) = (out, result.is_null()) {
                match to_word(&v) {
                    // SAFETY: the caller guarantees `result` is writable when not null.
                    Some(w) => unsafe { *result = w },
                    None => return -1,
                }
            }
            0
        }
        Err(t) => i32::from(t.code as u8),
    }
}

/// The spec text of a trap code (static, not NUL-terminated; its length in `*len`).
///
/// # Safety
/// `len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn weld_bare_trap_message(code: u32, len: *mut usize) -> *const u8 {
    let msg = u8::try_from(code)
        .ok()
        .and_then(TrapCode::from_u8)
        .map_or("unknown trap code", TrapCode::message);
    // SAFETY: the caller guarantees `len` is writable.
    unsafe { *len = msg.len() };
    msg.as_ptr()
}
