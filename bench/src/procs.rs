//! Running measured programs: every child goes through the launcher (`launch.c`, built here
//! with `cc -O2 -static`), which reports wall time, peak RSS and CPU time from `wait4`.

use crate::stats::{parse_rusage, Rusage};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LAUNCH_C: &str = include_str!("launch.c");

/// The programs the harness drives.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Scratch directory (compiled artifacts, reports).
    pub work: PathBuf,
    pub launch: PathBuf,
    /// `weld` (release).
    pub weld: PathBuf,
    /// This executable (its `run-weld` mode runs one compiled component).
    pub me: PathBuf,
    pub wasmtime: Option<PathBuf>,
    pub wasm_tools: Option<PathBuf>,
}

/// What one measured child did.
#[derive(Debug)]
pub struct Run {
    pub usage: Rusage,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// `name` from `$VAR`, else `PATH`, else `~/.cargo/bin`.
pub fn find_tool(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Build the launcher into `work`.
pub fn build_launcher(work: &Path) -> Result<PathBuf> {
    let src = work.join("launch.c");
    let exe = work.join("launch");
    std::fs::write(&src, LAUNCH_C).context("writing launch.c")?;
    let out = Command::new("cc")
        .args(["-O2", "-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .context("running cc (is a C compiler installed? `make setup`)")?;
    if !out.status.success() {
        bail!(
            "cc launch.c failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(exe)
}

impl Tools {
    /// Run `program args` in `cwd` under the launcher, capturing its output.
    pub fn measure(&self, cwd: &Path, program: &Path, args: &[&str]) -> Result<Run> {
        let report = self.work.join("rusage.txt");
        let _ = std::fs::remove_file(&report);
        let out = Command::new(&self.launch)
            .arg(&report)
            .arg(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("launching {}", program.display()))?;
        if !out.status.success() {
            bail!(
                "the launcher failed for {}: {}",
                program.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = std::fs::read_to_string(&report).context("reading the launcher's report")?;
        let usage = parse_rusage(&text).map_err(anyhow::Error::msg)?;
        if usage.status == 127 && out.stdout.is_empty() {
            bail!("{} could not be executed", program.display());
        }
        Ok(Run {
            usage,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    pub fn wasmtime(&self) -> Result<&Path> {
        self.wasmtime.as_deref().context(
            "wasmtime not found (make bench installs wasmtime-cli 48.0.8; or set WASMTIME)",
        )
    }
}

/// The last lines of a program's stderr, for error messages.
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" / ")
}
