//! Where the runtime archive `libweld_runtime.a` for a target comes from, and which targets
//! are ready to link for (`weld targets`).
//!
//! In: a target triple. Out: the path of the archive executables for it link against. The
//! places, first found wins:
//! 1. `$WELD_RUNTIME_LIB`;
//! 2. the build tree: next to the running `weld` for the host (where `cargo build --workspace`
//!    puts both), `<cargo target dir>/<target>/release/` for the others (`make runtime-cross`,
//!    `make runtime-musl`);
//! 3. an installation: `<prefix>/lib/weld/<target>/libweld_runtime.a` beside
//!    `<prefix>/bin/weld` (`make install-target TARGET=<triple>` puts a cross runtime there);
//! 4. the archives built into `weld` itself (`compiler/build.rs`: the host's, and musl's when it
//!    was built), written once to the cache directory, since the linker wants a file.
//!
//! So an installed `weld` (`cargo install --path compiler`) links executables from any
//! directory with nothing beside it.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_runtime.rs"));
}

const ARCHIVE: &str = "libweld_runtime.a";

/// Every target `weld compile --target` accepts, with what it produces.
pub const TARGETS: &[(&str, &str)] = &[
    ("x86_64-unknown-linux-gnu", "Linux x86-64 (glibc)"),
    (
        super::MUSL_TARGET,
        "Linux x86-64, static executables against musl",
    ),
    ("aarch64-unknown-linux-gnu", "Linux aarch64 (glibc)"),
    ("riscv64gc-unknown-linux-gnu", "Linux riscv64 (glibc)"),
    ("aarch64-unknown-none", "aarch64 bare metal (objects)"),
    ("riscv64gc-unknown-none-elf", "riscv64 bare metal (objects)"),
];

/// Where a target's runtime archive was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `$WELD_RUNTIME_LIB`, the build tree or an installation prefix.
    File(PathBuf),
    /// Built into this `weld`; extracted on first use.
    Embedded,
}

/// The runtime archive executables for `target` link (see the module documentation).
pub fn runtime_archive(target: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("WELD_RUNTIME_LIB") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(Error::Link(format!(
            "WELD_RUNTIME_LIB={} is not a file",
            p.display()
        )));
    }
    match locate(target) {
        Some(Found::File(p)) => Ok(p),
        Some(Found::Embedded) => extract(target),
        None => Err(Error::Link(format!(
            "no {ARCHIVE} for {target}: build it with `{}` or set WELD_RUNTIME_LIB",
            prepare_command(target)
        ))),
    }
}

/// Where `target`'s runtime would come from, without `$WELD_RUNTIME_LIB` and without writing
/// anything.
pub fn locate(target: &str) -> Option<Found> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.to_path_buf()));
    let build_tree = exe_dir.as_deref().and_then(|dir| {
        if target == crate::options::host_triple() {
            Some(dir.join(ARCHIVE)).filter(|p| p.is_file())
        } else {
            // weld is `<target dir>/<profile>/weld` (or `.../deps/` for tests).
            dir.ancestors()
                .skip(1)
                .take(2)
                .map(|d| d.join(target).join("release").join(ARCHIVE))
                .find(|p| p.is_file())
        }
    });
    let installed = exe_dir
        .as_deref()
        .and_then(Path::parent)
        .map(|prefix| installed_path(prefix, target))
        .filter(|p| p.is_file());
    build_tree
        .or(installed)
        .map(Found::File)
        .or_else(|| embedded_bytes(target).map(|_| Found::Embedded))
}

/// `<prefix>/lib/weld/<target>/libweld_runtime.a`.
pub fn installed_path(prefix: &Path, target: &str) -> PathBuf {
    prefix.join("lib/weld").join(target).join(ARCHIVE)
}

/// The command that builds `target`'s runtime from a clone of weld.
pub fn prepare_command(target: &str) -> String {
    if target == super::MUSL_TARGET {
        "make runtime-musl".into()
    } else if target == crate::options::host_triple() {
        "cargo build -p weld-runtime".into()
    } else {
        format!("make install-target TARGET={target}")
    }
}

fn embedded_bytes(target: &str) -> Option<&'static [u8]> {
    embedded::EMBEDDED
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, bytes)| *bytes)
}

/// Write the embedded archive for `target` to the cache directory once per `weld` build and
/// return its path. Written to a temporary name and renamed, so a concurrent or interrupted
/// weld never links a partial archive.
fn extract(target: &str) -> Result<PathBuf> {
    let bytes = embedded_bytes(target)
        .ok_or_else(|| Error::Link(format!("no embedded {ARCHIVE} for {target}")))?;
    let key = crate::run::build_key(&[target.as_bytes()]);
    let dir = crate::run::cache_dir().join("runtime").join(key);
    let path = dir.join(ARCHIVE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
        return Ok(path);
    }
    let io = |what: String| move |source| Error::Io { what, source };
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(io(format!("creating a file in {}", dir.display())))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io(format!(
        "writing the runtime archive in {}",
        dir.display()
    )))?;
    tmp.persist(&path).map_err(|e| Error::Io {
        what: format!("writing {}", path.display()),
        source: e.error,
    })?;
    Ok(path)
}

/// `weld targets`' entry for `target`: its name, whether it can be linked for now and what it
/// produces, then where its runtime and C compiler are or what is missing.
pub fn readiness(target: &str, what: &str) -> String {
    let runtime = match (std::env::var_os("WELD_RUNTIME_LIB"), locate(target)) {
        (Some(p), _) => Ok(format!("$WELD_RUNTIME_LIB={}", Path::new(&p).display())),
        (None, Some(Found::File(p))) => Ok(p.display().to_string()),
        (None, Some(Found::Embedded)) => Ok("built into weld".into()),
        (None, None) => Err(format!("missing; `{}` builds it", prepare_command(target))),
    };
    let bare_metal = target.ends_with("-none") || target.ends_with("-none-elf");
    let linker = if bare_metal {
        Ok("none (objects only; link them with your own toolchain)".to_string())
    } else {
        let cc = super::c_compiler(target);
        if super::in_path(&cc) {
            Ok(cc)
        } else {
            Err(format!("{cc} is not in PATH"))
        }
    };
    let ready = runtime.is_ok() && linker.is_ok();
    let text = |r: std::result::Result<String, String>| r.unwrap_or_else(|e| e);
    format!(
        "{target:<28} {:<9} {what}\n    runtime: {}\n    linker:  {}",
        if ready { "ready" } else { "not ready" },
        text(runtime),
        text(linker)
    )
}
