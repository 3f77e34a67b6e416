//! Reading and rewriting a core module's sections through wasmparser's checked readers: every
//! range comes from the parser and every slice goes through `frontend::input_slice`.

use crate::frontend::input_slice;
use std::ops::Range;
use wasmparser::{BinaryReader, Parser, Payload};

/// `bytes` (a core module) with the contents of some sections replaced: `replace` sees each
/// section's payload and content range and answers the new contents, or `None` to keep it.
/// Also says whether anything was replaced.
pub(super) fn rewrite_sections(
    bytes: &[u8],
    mut replace: impl FnMut(&Payload<'_>, Range<u64>) -> anyhow::Result<Option<Vec<u8>>>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(bytes.len() + 128);
    let mut replaced = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Payload::Version { range, .. } = &payload {
            out.extend_from_slice(input_slice(bytes, &(0..range.end))?);
            continue;
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let original = input_slice(bytes, &range)?;
        let new = replace(&payload, range)?;
        replaced |= new.is_some();
        let contents = new.as_deref().unwrap_or(original);
        out.push(id);
        leb128_u32(&mut out, contents.len() as u32);
        out.extend_from_slice(contents);
    }
    Ok((out, replaced))
}

/// A reader over the bytes of `bytes` at `range`, positioned as they are in `bytes`.
pub(super) fn reader_at<'a>(
    bytes: &'a [u8],
    range: &Range<u64>,
) -> crate::Result<BinaryReader<'a>> {
    Ok(BinaryReader::new(input_slice(bytes, range)?, range.start))
}

pub(super) fn leb128_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
