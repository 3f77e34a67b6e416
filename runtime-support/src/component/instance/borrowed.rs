//! Host functions that borrow string parameters from the caller's linear memory.
//!
//! In: a typed host call's flat parameters. Out: [`WasmStr`]s, checked like `String`s (bounds,
//! then encoding, with the spec's traps) but not copied, and the [`Caller`] through which the
//! host function reads them during the call. A 1 KiB string then costs a validation pass, not
//! an allocation, a copy and a free.
//!
//! Soundness: a `WasmStr` records the number of the host call that lifted it, and only the
//! `Caller` of that call reads it; during a host call no wasm runs (the store is borrowed by
//! the call) and weld has no shared memories, so the validated bytes stay as they were.

use super::bad;
use super::typed_values::{read, slot, ComponentType, Lift};
use crate::component::abi::CanonCx;
use crate::component::string::{load_string, validate_utf8_string};
use crate::trap::Trap;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};
use weld_contract::component::{StringEncoding, TypeDef};
use weld_contract::vmctx::ValRaw;

/// A fresh host call number (never 0), unique in the process.
pub(super) fn next_host_call() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(1);
    CALLS.fetch_add(1, Ordering::Relaxed)
}

/// The calling component's side of a typed host call
/// ([`HostImports::func_wrap_with_caller`](super::HostImports::func_wrap_with_caller)): read
/// access to its linear memory for the duration of the call, where [`WasmStr`] parameters
/// are.
pub struct Caller<'a> {
    pub(super) memory: &'a [u8],
    pub(super) call: u64,
}

impl<'a> Caller<'a> {
    /// The text of string parameter `s`, borrowed from the caller's memory (no copy). Fails
    /// (`invalid value`) for a `WasmStr` of another call.
    pub fn str<'s>(&'s self, s: &'s WasmStr) -> Result<&'s str, Trap> {
        match &s.repr {
            WasmStrRepr::Owned(text) => Ok(text),
            WasmStrRepr::Borrowed { ptr, len, call } => {
                if *call != self.call {
                    return Err(bad());
                }
                let start = *ptr as usize;
                let bytes = self
                    .memory
                    .get(start..start + *len as usize)
                    .ok_or_else(bad)?;
                // SAFETY: these bytes were validated as UTF-8 when `s` was lifted, in this
                // same call (the call numbers match), and the memory cannot have changed
                // since: no wasm runs during a host call, and weld has no shared memories.
                Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
            }
        }
    }
}

/// A `string` parameter of a typed host function that borrows the text from the caller's
/// linear memory instead of copying it into a `String`: lifting checks bounds and encoding,
/// with the same traps as `String`; read it with [`Caller::str`] during the call. (A caller
/// using UTF-16 or latin1+utf16 gets a transcoded copy.)
#[derive(Debug)]
pub struct WasmStr {
    repr: WasmStrRepr,
}

#[derive(Debug)]
enum WasmStrRepr {
    Borrowed { ptr: u32, len: u32, call: u64 },
    Owned(String),
}

impl ComponentType for WasmStr {
    const FLAT: usize = String::FLAT;
    const SIZE: u32 = String::SIZE;
    const ALIGN: u32 = String::ALIGN;
    fn typecheck(types: &[TypeDef], ty: u32) -> bool {
        String::typecheck(types, ty)
    }
}

impl WasmStr {
    fn lift_at<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32, len: u32) -> Result<Self, Trap> {
        let call = cx.host_call();
        let repr = if call != 0 && cx.encoding() == StringEncoding::Utf8 {
            validate_utf8_string(cx, ptr, len)?;
            WasmStrRepr::Borrowed { ptr, len, call }
        } else {
            WasmStrRepr::Owned(load_string(cx, ptr, len)?)
        };
        Ok(WasmStr { repr })
    }
}

impl Lift for WasmStr {
    fn lift<C: CanonCx + ?Sized>(cx: &mut C, flat: &[ValRaw]) -> Result<Self, Trap> {
        let ptr = slot(flat, 0)?.get_i32() as u32;
        let len = slot(flat, 1)?.get_i32() as u32;
        Self::lift_at(cx, ptr, len)
    }
    fn load<C: CanonCx + ?Sized>(cx: &mut C, ptr: u32) -> Result<Self, Trap> {
        let p = u32::from_le_bytes(read(cx, ptr)?);
        let len = u32::from_le_bytes(read(cx, ptr + 4)?);
        Self::lift_at(cx, p, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use weld_contract::trap::TrapCode;

    /// A side over a plain buffer, lifting for host call `call` (0: not a borrowing call).
    struct Side {
        mem: Vec<u8>,
        enc: StringEncoding,
        call: u64,
    }

    impl CanonCx for Side {
        fn encoding(&self) -> StringEncoding {
            self.enc
        }
        fn host_side(&self) -> bool {
            true
        }
        fn memory(&self) -> Result<&[u8], Trap> {
            Ok(&self.mem)
        }
        fn memory_mut(&mut self) -> Result<&mut [u8], Trap> {
            Ok(&mut self.mem)
        }
        fn realloc(&mut self, _: u32, _: u32, _: u32, _: u32) -> Result<u32, Trap> {
            Err(bad())
        }
        fn lift_own(&mut self, _: u32, _: u32) -> Result<u32, Trap> {
            Err(bad())
        }
        fn lift_borrow(&mut self, _: u32, _: u32) -> Result<u32, Trap> {
            Err(bad())
        }
        fn lower_own(&mut self, _: u32, _: u32) -> Result<u32, Trap> {
            Err(bad())
        }
        fn lower_borrow(&mut self, _: u32, _: u32) -> Result<u32, Trap> {
            Err(bad())
        }
        fn host_call(&self) -> u64 {
            self.call
        }
    }

    fn side(enc: StringEncoding, call: u64, at: usize, bytes: &[u8]) -> Side {
        let mut mem = vec![0; 64];
        mem[at..at + bytes.len()].copy_from_slice(bytes);
        Side { mem, enc, call }
    }

    fn lift(cx: &mut Side, ptr: u32, len: u32) -> Result<WasmStr, Trap> {
        WasmStr::lift(cx, &[ValRaw::i32(ptr as i32), ValRaw::i32(len as i32)])
    }

    #[test]
    fn a_utf8_string_is_borrowed_and_read_through_its_own_call() {
        let mut cx = side(StringEncoding::Utf8, 7, 8, "hé!".as_bytes());
        let s = lift(&mut cx, 8, 4).expect("valid");
        assert!(matches!(
            s.repr,
            WasmStrRepr::Borrowed {
                ptr: 8,
                len: 4,
                call: 7
            }
        ));
        let caller = Caller {
            memory: &cx.mem,
            call: 7,
        };
        assert_eq!(caller.str(&s).expect("same call"), "hé!");
        let later = Caller {
            memory: &cx.mem,
            call: 8,
        };
        assert!(later.str(&s).is_err());
    }

    #[test]
    fn lifting_a_borrowed_string_traps_as_lifting_a_string_does() {
        for (bytes, len, code) in [
            (&b"\xff\xfe"[..], 2, TrapCode::InvalidUtf8),
            (&b"\xc3"[..], 1, TrapCode::IncompleteUtf8),
            (&b"ok"[..], 100, TrapCode::HostStringOutOfBounds),
        ] {
            let mut cx = side(StringEncoding::Utf8, 1, 0, bytes);
            let e = lift(&mut cx, 0, len).expect_err("traps");
            let owned = load_string(&cx, 0, len).expect_err("traps too");
            assert_eq!((e.code, owned.code), (code, code));
        }
    }

    #[test]
    fn other_encodings_and_calls_that_do_not_borrow_get_a_copy() {
        let utf16: Vec<u8> = "hé".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut cx = side(StringEncoding::Utf16, 3, 0, &utf16);
        let s = lift(&mut cx, 0, 2).expect("valid UTF-16");
        assert!(matches!(&s.repr, WasmStrRepr::Owned(t) if t == "hé"));
        let mut cx = side(StringEncoding::Utf8, 0, 0, b"abc");
        let s = lift(&mut cx, 0, 3).expect("valid");
        // An owned copy reads through any caller.
        let caller = Caller {
            memory: &[],
            call: 99,
        };
        assert_eq!(caller.str(&s).expect("owned"), "abc");
    }
}
