//! Strings across the Canonical ABI: `load_string_from_range` and `store_string_into_range` of
//! the spec, for utf8, utf16 and latin1+utf16 on either side, with the spec's exact sequence of
//! `realloc` calls (first allocation, growth to the worst case, final shrink) and its traps.
//! A lifted string is a Rust `String`; lowering re-derives its source form (code units in the
//! caller's encoding) to choose the spec's transcoding path.

use super::abi::{alloc_checked, write_bytes, CanonCx};
use crate::trap::Trap;
use alloc::string::String;
use alloc::vec::Vec;
use weld_contract::component::StringEncoding;
use weld_contract::trap::TrapCode;

pub use weld_contract::component::abi::{MAX_STRING_BYTE_LENGTH, UTF16_TAG};

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

/// `load_string_from_range`: decode the string at `ptr` with `tagged_code_units` in the
/// context's encoding.
pub fn load_string<C: CanonCx + ?Sized>(
    cx: &C,
    ptr: u32,
    tagged_code_units: u32,
) -> Result<String, Trap> {
    #[derive(PartialEq)]
    enum Form {
        Utf8,
        Utf16,
        Latin1,
    }
    let units = u64::from(tagged_code_units);
    let (align, byte_len, form) = match cx.encoding() {
        StringEncoding::Utf8 => (1, units, Form::Utf8),
        StringEncoding::Utf16 => (2, 2 * units, Form::Utf16),
        StringEncoding::CompactUtf16 if tagged_code_units & UTF16_TAG != 0 => {
            (2, 2 * u64::from(tagged_code_units ^ UTF16_TAG), Form::Utf16)
        }
        StringEncoding::CompactUtf16 => (2, units, Form::Latin1),
    };
    if !ptr.is_multiple_of(align) {
        return Err(trap(TrapCode::UnalignedPointer));
    }
    let mem = cx.memory()?;
    let oob = out_of_bounds(cx);
    let end = u64::from(ptr) + byte_len;
    if end > mem.len() as u64 {
        return Err(trap(oob));
    }
    let bytes = &mem[ptr as usize..end as usize];
    match form {
        Form::Utf8 => utf8(bytes).map(String::from),
        Form::Utf16 => {
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| trap(TrapCode::InvalidEncoding))
        }
        Form::Latin1 => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
    }
}

/// The trap of a string outside its side's memory (the host-side check has its own text).
fn out_of_bounds<C: CanonCx + ?Sized>(cx: &C) -> TrapCode {
    if cx.host_side() {
        TrapCode::HostStringOutOfBounds
    } else {
        TrapCode::StringOutOfBounds
    }
}

/// `bytes` as UTF-8 text, or the spec's trap.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, Trap> {
    // ASCII first: a vectorised scan, several times faster than full UTF-8 validation.
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Ok(unsafe { core::str::from_utf8_unchecked(bytes) });
    }
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) if e.error_len().is_none() => Err(trap(TrapCode::IncompleteUtf8)),
        Err(_) => Err(trap(TrapCode::InvalidUtf8)),
    }
}

/// The checks of [`load_string`] for a UTF-8 side — bounds, then encoding, with the same
/// traps — without copying the text out (for strings the host borrows in place).
pub fn validate_utf8_string<C: CanonCx + ?Sized>(cx: &C, ptr: u32, len: u32) -> Result<(), Trap> {
    let mem = cx.memory()?;
    let end = u64::from(ptr) + u64::from(len);
    if end > mem.len() as u64 {
        return Err(trap(out_of_bounds(cx)));
    }
    utf8(&mem[ptr as usize..end as usize]).map(|_| ())
}

/// How a string looked in the encoding it came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    Utf8,
    Utf16,
    Latin1,
}

fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

fn units_u32(n: usize) -> Result<u32, Trap> {
    u32::try_from(n).map_err(|_| trap(TrapCode::StringOutOfBounds))
}

/// `store_string_into_range`: allocate with the context's `realloc` and write `s`, which came
/// from a side using `src` encoding. Returns `(ptr, tagged code units)`.
pub fn store_string<C: CanonCx + ?Sized>(
    cx: &mut C,
    s: &str,
    src: StringEncoding,
) -> Result<(u32, u32), Trap> {
    let (form, units) = match src {
        StringEncoding::Utf8 => (Source::Utf8, s.len()),
        StringEncoding::Utf16 => (Source::Utf16, s.encode_utf16().count()),
        StringEncoding::CompactUtf16 if s.chars().all(|c| (c as u32) < 256) => {
            (Source::Latin1, s.chars().count())
        }
        StringEncoding::CompactUtf16 => (Source::Utf16, s.encode_utf16().count()),
    };
    let units = units_u32(units)?;
    match (cx.encoding(), form) {
        (StringEncoding::Utf8, Source::Utf8) => copy(cx, units, 1, 1, s.as_bytes()),
        (StringEncoding::Utf8, Source::Utf16) => to_utf8(cx, s, units, u64::from(units) * 3),
        (StringEncoding::Utf8, Source::Latin1) => to_utf8(cx, s, units, u64::from(units) * 2),
        (StringEncoding::Utf16, Source::Utf8) => utf8_to_utf16(cx, s, units),
        (StringEncoding::Utf16, _) => copy(cx, units, 2, 2, &utf16_bytes(s)),
        (StringEncoding::CompactUtf16, _) if src != StringEncoding::CompactUtf16 => {
            to_latin1_or_utf16(cx, s, units)
        }
        (StringEncoding::CompactUtf16, Source::Latin1) => copy(cx, units, 1, 2, &latin1_bytes(s)),
        (StringEncoding::CompactUtf16, _) => probably_utf16_to_latin1_or_utf16(cx, s, units),
    }
}

fn copy<C: CanonCx + ?Sized>(
    cx: &mut C,
    units: u32,
    unit_size: u32,
    align: u32,
    encoded: &[u8],
) -> Result<(u32, u32), Trap> {
    let len = u64::from(units) * u64::from(unit_size);
    if len > MAX_STRING_BYTE_LENGTH || len != encoded.len() as u64 {
        return Err(trap(TrapCode::StringOutOfBounds));
    }
    let ptr = alloc_checked(cx, 0, 0, align, len as u32, TrapCode::StringOutOfBounds)?;
    write_bytes(cx, ptr, encoded)?;
    Ok((ptr, units))
}

fn to_utf8<C: CanonCx + ?Sized>(
    cx: &mut C,
    s: &str,
    units: u32,
    worst: u64,
) -> Result<(u32, u32), Trap> {
    let oob = TrapCode::StringOutOfBounds;
    let encoded = s.as_bytes();
    let mut ptr = alloc_checked(cx, 0, 0, 1, units, oob)?;
    let first = encoded.get(..units as usize).unwrap_or(encoded);
    write_bytes(cx, ptr, first)?;
    if (units as usize) < encoded.len() {
        if worst > MAX_STRING_BYTE_LENGTH {
            return Err(trap(oob));
        }
        let worst = worst as u32;
        ptr = alloc_checked(cx, ptr, units, 1, worst, oob)?;
        write_bytes(cx, ptr.wrapping_add(units), &encoded[units as usize..])?;
        if worst as usize > encoded.len() {
            ptr = alloc_checked(cx, ptr, worst, 1, units_u32(encoded.len())?, oob)?;
        }
    }
    Ok((ptr, units_u32(encoded.len())?))
}

fn utf8_to_utf16<C: CanonCx + ?Sized>(cx: &mut C, s: &str, units: u32) -> Result<(u32, u32), Trap> {
    let oob = TrapCode::StringOutOfBounds;
    let worst = 2 * u64::from(units);
    if worst > MAX_STRING_BYTE_LENGTH {
        return Err(trap(oob));
    }
    let worst = worst as u32;
    let mut ptr = alloc_checked(cx, 0, 0, 2, worst, oob)?;
    let encoded = utf16_bytes(s);
    write_bytes(cx, ptr, &encoded)?;
    let len = units_u32(encoded.len())?;
    if len < worst {
        ptr = alloc_checked(cx, ptr, worst, 2, len, oob)?;
    }
    Ok((ptr, len / 2))
}

fn to_latin1_or_utf16<C: CanonCx + ?Sized>(
    cx: &mut C,
    s: &str,
    units: u32,
) -> Result<(u32, u32), Trap> {
    let oob = TrapCode::StringOutOfBounds;
    let mut ptr = alloc_checked(cx, 0, 0, 2, units, oob)?;
    let prefix: Vec<u8> = s
        .chars()
        .take_while(|c| (*c as u32) < 256)
        .map(|c| c as u32 as u8)
        .collect();
    write_bytes(cx, ptr, &prefix)?;
    let n = units_u32(prefix.len())?;
    if prefix.len() == s.chars().count() {
        if n < units {
            ptr = alloc_checked(cx, ptr, units, 2, n, oob)?;
        }
        return Ok((ptr, n));
    }
    let worst = 2 * u64::from(units);
    if worst > MAX_STRING_BYTE_LENGTH {
        return Err(trap(oob));
    }
    let worst = worst as u32;
    ptr = alloc_checked(cx, ptr, units, 2, worst, oob)?;
    // Inflate the latin1 prefix in place, from the end, as the spec does.
    let mem = cx.memory_mut()?;
    let base = ptr as usize;
    if base + 2 * prefix.len() > mem.len() {
        return Err(trap(oob));
    }
    for j in (0..prefix.len()).rev() {
        mem[base + 2 * j] = mem[base + j];
        mem[base + 2 * j + 1] = 0;
    }
    let encoded = utf16_bytes(s);
    write_bytes(
        cx,
        ptr.wrapping_add(2 * n),
        encoded.get(2 * prefix.len()..).unwrap_or(&[]),
    )?;
    let len = units_u32(encoded.len())?;
    if worst > len {
        ptr = alloc_checked(cx, ptr, worst, 2, len, oob)?;
    }
    Ok((ptr, (len / 2) | UTF16_TAG))
}

fn probably_utf16_to_latin1_or_utf16<C: CanonCx + ?Sized>(
    cx: &mut C,
    s: &str,
    units: u32,
) -> Result<(u32, u32), Trap> {
    let oob = TrapCode::StringOutOfBounds;
    let src_len = 2 * u64::from(units);
    if src_len > MAX_STRING_BYTE_LENGTH {
        return Err(trap(oob));
    }
    let src_len = src_len as u32;
    let mut ptr = alloc_checked(cx, 0, 0, 2, src_len, oob)?;
    let encoded = utf16_bytes(s);
    write_bytes(cx, ptr, &encoded)?;
    let code_units = units_u32(encoded.len() / 2)?;
    if s.chars().any(|c| (c as u32) >= 256) {
        return Ok((ptr, code_units | UTF16_TAG));
    }
    let mem = cx.memory_mut()?;
    let base = ptr as usize;
    if base + encoded.len() > mem.len() {
        return Err(trap(oob));
    }
    for i in 0..code_units as usize {
        mem[base + i] = mem[base + 2 * i];
    }
    ptr = alloc_checked(cx, ptr, src_len, 1, code_units, oob)?;
    Ok((ptr, code_units))
}
