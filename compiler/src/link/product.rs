//! The compile → object → link sequence, written once: every caller that turns wasm into a
//! library or an executable (the `weld compile` command, `weld run`'s cache, `weld wast`, the
//! benchmarks, the fuzzers) goes through here.
//!
//! In: object bytes (from [`crate::compile`] or its variants), or wasm bytes and [`Options`].
//! Out: the file the [`Product`] names, written atomically (see the parent module); the objects
//! live in a temporary directory that is gone afterwards.

use super::{link, link_exe, link_exe_with_main, static_lib, OutputKind};
use crate::error::{Error, Result};
use crate::Options;
use std::path::{Path, PathBuf};

/// What objects become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product<'a> {
    /// A static library (`ar`).
    StaticLib,
    /// A shared library (for a component compiled with `Options::plugin`, a plugin).
    SharedLib,
    /// An executable whose (single) object defines `main` itself (a command component).
    Exe {
        /// Static or dynamically linked.
        kind: OutputKind,
        /// Keep debug information (`weld compile -g`).
        keep_debug: bool,
    },
    /// An executable whose `main` is this C source (a core module's, `emit::header::exe_main`).
    ExeWithMain {
        /// The C `main`.
        main_c: &'a str,
        /// Static or dynamically linked.
        kind: OutputKind,
        /// Keep debug information.
        keep_debug: bool,
    },
}

fn io(what: &str, e: std::io::Error) -> Error {
    Error::Io {
        what: what.to_string(),
        source: e,
    }
}

/// Make `product` at `out` for `target` from object files.
pub fn from_paths(
    objects: &[PathBuf],
    product: Product<'_>,
    out: &Path,
    target: &str,
) -> Result<()> {
    let one = || match objects {
        [obj] => Ok(obj),
        _ => Err(Error::Link(format!(
            "{product:?} is made of one object, not {}",
            objects.len()
        ))),
    };
    crate::timings::phase("link", || match product {
        Product::SharedLib => link(objects, out, OutputKind::SharedLib, target, &[]),
        Product::StaticLib => static_lib(one()?, out),
        Product::Exe { kind, keep_debug } => {
            link_exe_with_main(one()?, out, target, kind, keep_debug)
        }
        Product::ExeWithMain {
            main_c,
            kind,
            keep_debug,
        } => link_exe(one()?, main_c, out, target, kind, keep_debug),
    })
}

/// Make `product` at `out` from objects in memory, each written as `<name>.o` to a temporary
/// directory first.
pub fn from_objects(
    objects: &[(&str, &[u8])],
    product: Product<'_>,
    out: &Path,
    target: &str,
) -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| io("creating a temporary directory", e))?;
    let mut paths = Vec::with_capacity(objects.len());
    for (name, bytes) in objects {
        let path = dir.path().join(format!("{name}.o"));
        std::fs::write(&path, bytes).map_err(|e| io("writing a temporary object", e))?;
        paths.push(path);
    }
    from_paths(&paths, product, out, target)
}

/// Compile `bytes` (a core module or a component) with `options` and make `product` at `out`.
pub fn build(bytes: &[u8], options: &Options, product: Product<'_>, out: &Path) -> Result<()> {
    let obj = crate::compile(bytes, options)?;
    from_objects(
        &[(&options.prefix, &obj)],
        product,
        out,
        options.target.as_str(),
    )
}
