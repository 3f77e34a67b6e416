//! Linking: drive the platform C compiler (`cc`, or a cross `cc`) to turn objects into a shared
//! library or an executable.
//!
//! Output files appear atomically: the linker writes a temporary file next to the destination,
//! which is renamed into place only when linking succeeded, so a failed link never leaves a
//! partial output behind.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A shared library (`.so`).
    SharedLib,
    /// An executable.
    Exe,
}

/// The C compiler driver for a target: `$WELD_CC`, else `cc` for the host, else the Debian
/// cross compiler name.
pub fn c_compiler(target: &str) -> String {
    if let Ok(cc) = std::env::var("WELD_CC") {
        return cc;
    }
    let arch = target.split('-').next().unwrap_or("");
    let host = crate::options::host_triple()
        .split('-')
        .next()
        .unwrap_or("");
    if arch == host {
        "cc".to_string()
    } else {
        match arch {
            "aarch64" => "aarch64-linux-gnu-gcc".to_string(),
            "riscv64" | "riscv64gc" => "riscv64-linux-gnu-gcc".to_string(),
            other => format!("{other}-linux-gnu-gcc"),
        }
    }
}

/// Link `inputs` (objects and archives) into `out`.
pub fn link(
    inputs: &[PathBuf],
    out: &Path,
    kind: OutputKind,
    target: &str,
    extra_args: &[String],
) -> Result<()> {
    let cc = c_compiler(target);
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".weld-link-")
        .tempfile_in(dir)
        .map_err(|e| Error::Io {
            what: format!("creating a temporary file in {}", dir.display()),
            source: e,
        })?;
    let tmp_path = tmp.path().to_path_buf();
    let mut cmd = Command::new(&cc);
    match kind {
        OutputKind::SharedLib => {
            cmd.arg("-shared");
        }
        OutputKind::Exe => {}
    }
    cmd.arg("-o").arg(&tmp_path);
    cmd.args(inputs);
    cmd.args(extra_args);
    cmd.arg("-lm");
    let output = cmd.output().map_err(|e| {
        Error::Link(format!(
            "could not run the C compiler `{cc}` ({e}); install it or set WELD_CC"
        ))
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| l.contains("error") || l.contains("undefined"))
            .or_else(|| stderr.lines().next())
            .unwrap_or("no output");
        return Err(Error::Link(format!(
            "`{cc}` failed ({}): {first}",
            output.status
        )));
    }
    tmp.persist(out).map_err(|e| Error::Io {
        what: format!("writing {}", out.display()),
        source: e.error,
    })?;
    Ok(())
}
