//! `proc_exit` keeps its status: the module's `wasi_snapshot_preview1.proc_exit` import is
//! renamed to `wasi:cli/exit@0.2.12`'s `exit-with-code` and the world describing it embedded, so
//! `exit(42)` exits with 42 (the preview1 adapter would report every non-zero status as 1).

use super::sections::{leb128_u32, reader_at, rewrite_sections};
use crate::frontend::input_slice;
use std::ops::Range;
use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME;
use wasmparser::Payload;

/// The interface `proc_exit` is redirected to.
pub(super) const EXIT_INTERFACE: &str = "wasi:cli/exit@0.2.12";

/// The world of a module whose `proc_exit` import became `exit-with-code` (as in the WASI 0.2.12
/// WIT, where `exit-with-code` is stable; the preview1 adapter imports the same interface).
const EXIT_WIT: &str = "package wasi:cli@0.2.12;

@since(version = 0.2.0)
interface exit {
  @since(version = 0.2.0)
  exit: func(status: result);

  @since(version = 0.2.12)
  exit-with-code: func(status-code: u8);
}

world weld-preview1-exit {
  import exit;
}
";

/// The preview1 adapter turns `proc_exit(n)` into `wasi:cli/exit#exit(ok)` for 0 and
/// `exit(err)` — status 1 — for any other `n`, while `wasmtime run` of the same module exits
/// with `n`. So the module's `wasi_snapshot_preview1.proc_exit` import (`[i32] -> []`) is
/// renamed to `wasi:cli/exit@0.2.12.exit-with-code` (same core signature; lifting a `u8` keeps
/// the low 8 bits, like a POSIX exit status) and described by [`EXIT_WIT`]'s world. A module
/// without that import (or with another signature for it) is returned unchanged.
pub(super) fn exit_with_code(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (mut out, renamed) = rewrite_sections(bytes, |payload, _| match payload {
        Payload::ImportSection(reader) => rename_proc_exit(bytes, reader.range()),
        _ => Ok(None),
    })?;
    if !renamed {
        return Ok(bytes.to_vec());
    }
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("exit.wit", EXIT_WIT)?;
    let world = resolve.select_world(&[pkg], Some("weld-preview1-exit"))?;
    wit_component::embed_component_metadata(
        &mut out,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    Ok(out)
}

/// The contents of the import section at `range` with `wasi_snapshot_preview1.proc_exit`
/// (a function import) renamed to [`EXIT_INTERFACE`]`.exit-with-code`; `None` if it has none.
fn rename_proc_exit(bytes: &[u8], range: Range<u64>) -> anyhow::Result<Option<Vec<u8>>> {
    let mut r = reader_at(bytes, &range)?;
    let count = r.read_var_u32()?;
    let mut out = Vec::new();
    leb128_u32(&mut out, count);
    let mut found = false;
    for _ in 0..count {
        let module = r.read_string()?;
        let name = r.read_string()?;
        let ty_start = r.original_position();
        let ty: wasmparser::TypeRef = r.read()?;
        let ty_bytes = input_slice(bytes, &(ty_start..r.original_position()))?;
        let (module, name) = match ty {
            wasmparser::TypeRef::Func(_)
                if module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME && name == "proc_exit" =>
            {
                found = true;
                (EXIT_INTERFACE, "exit-with-code")
            }
            _ => (module, name),
        };
        for s in [module, name] {
            leb128_u32(&mut out, s.len() as u32);
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(ty_bytes);
    }
    Ok(found.then_some(out))
}
