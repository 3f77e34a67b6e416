//! Wrapping WASI preview1 core modules (what `wasm32-wasip1` toolchains emit today) into
//! components — not to be confused with the Canonical ABI adapters between components:
//! the module is wrapped with the preview1 adapter (the `wasi-preview1-component-adapter-provider`
//! crate's prebuilt adapter, composed by `wit-component`), and the result is compiled like any
//! other component against WASI 0.2.
//!
//! In: core module bytes. Out: component bytes, or `None` when the module does not import
//! `wasi_snapshot_preview1` (it is compiled as a plain core module then).
//!
//! Besides preview1, a module may import `bench.start` / `bench.end` (`[] -> []`), the
//! Sightglass benchmark protocol: the module gets component metadata for a world importing an
//! interface `bench { start: func(); end: func(); }`, so the component imports `bench#start` /
//! `bench#end` and the host (the benchmark harness) provides them. Any other import module is
//! refused.
//!
//! `proc_exit` is redirected to `wasi:cli/exit@0.2.12#exit-with-code` (the adapter would report
//! every non-zero status as 1), so `exit(42)` exits with 42 as under `wasmtime run`. Statuses
//! 126 and above: wasmtime refuses them (error, status 1); weld exits with the low 8 bits.

mod bench;
mod exit;
mod heap;
mod sections;
#[cfg(test)]
mod tests;

pub use bench::BENCH_MODULE;

use crate::error::{Error, Result};
use bench::embed_bench_world;
use exit::exit_with_code;
use heap::{defer_run_stack, realloc_via_malloc};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{Parser, Payload};

/// What a core module's imports and exports say about WASI.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preview1Use {
    /// It imports from `wasi_snapshot_preview1`.
    pub imports_preview1: bool,
    /// It exports `_start` (a command).
    pub has_start: bool,
    /// Import modules other than preview1 (the adapter cannot satisfy them).
    pub other_imports: Vec<String>,
}

/// Look at a core module's imports and exports (errors are left to the real front end).
pub fn preview1_use(bytes: &[u8]) -> Preview1Use {
    let mut u = Preview1Use::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            // A component's nested modules may import preview1 (componentize-py's do); the
            // component itself is not a preview1 module.
            Ok(Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            }) => break,
            Ok(Payload::ImportSection(r)) => {
                for i in r.into_imports().flatten() {
                    if i.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME {
                        u.imports_preview1 = true;
                    } else if !u.other_imports.iter().any(|m| m == i.module) {
                        u.other_imports.push(i.module.to_string());
                    }
                }
            }
            Ok(Payload::ExportSection(r)) => {
                u.has_start |= r.into_iter().flatten().any(|e| e.name == "_start");
            }
            Ok(Payload::CodeSectionStart { .. }) | Err(_) => break,
            _ => {}
        }
    }
    u
}

/// Wrap a preview1 core module into a WASI 0.2 component; `Ok(None)` if it does not use preview1.
///
/// Nothing is validated on the way (the component is, completely, by the component front end
/// and code generation): when adapting fails, the module is validated to report an invalid
/// module as invalid, at its own offsets. See also [`invalid_input`].
pub fn wrap(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    wrap_unvalidated(bytes).map_err(|e| invalid_input(bytes).unwrap_or(e))
}

/// Why a core module is invalid, if it is (offsets in the module's own bytes): for errors
/// found in the component made of a preview1 module, whose offsets would point into the
/// component.
pub fn invalid_input(bytes: &[u8]) -> Option<Error> {
    let mut v = wasmparser::Validator::new_with_features(crate::frontend::features());
    v.validate_all(bytes).err().map(Error::from)
}

fn wrap_unvalidated(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let u = preview1_use(bytes);
    if !u.imports_preview1 {
        return Ok(None);
    }
    let unsupported: Vec<&str> = u
        .other_imports
        .iter()
        .map(String::as_str)
        .filter(|m| *m != BENCH_MODULE)
        .collect();
    if !unsupported.is_empty() {
        return Err(Error::Unsupported {
            message: format!(
                "the module imports {} besides wasi_snapshot_preview1 (and bench); only preview1 imports can be adapted to WASI 0.2",
                unsupported.join(", ")
            ),
            offset: None,
        });
    }
    let adapter = if u.has_start {
        WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
    } else {
        WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    let fail = |e: anyhow::Error| Error::Unsupported {
        message: format!("adapting the preview1 module to a component: {e:#}"),
        offset: None,
    };
    // proc_exit keeps its status (see `exit_with_code`).
    let mut module = exit_with_code(bytes).map_err(fail)?;
    // The adapter allocates its state through the module's malloc when it has one.
    let mut malloc_realloc = false;
    if let Some(with_realloc) = realloc_via_malloc(&module).map_err(fail)? {
        module = with_realloc;
        malloc_realloc = true;
    }
    if u.other_imports.iter().any(|m| m == BENCH_MODULE) {
        module = embed_bench_world(&module).map_err(fail)?;
    }
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .map_err(fail)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
        .map_err(fail)?
        .encode()
        .map_err(fail)?;
    let mut component = component;
    if malloc_realloc {
        // A repair, not a requirement: if the component cannot be read for it, it stays as it
        // is (unchanged: the patch is applied only after a complete read), and the component
        // front end reports any real problem with it.
        let _ = defer_run_stack(&mut component);
    }
    Ok(Some(component))
}
