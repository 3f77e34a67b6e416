//! Embeds the host's runtime archives in `weld`, so that an installed `weld` (`cargo install
//! --path compiler`, or from a git URL) builds executables with nothing beside it.
//!
//! In: the `runtime-support` crate next to this one. Out: `$OUT_DIR/embedded_runtime.rs`, which
//! `link::embedded` includes: the release `libweld_runtime.a` for the host target (built here by
//! a nested `cargo build` in its own target directory, so it neither waits for nor invalidates
//! the outer build), and the musl one when `make runtime-musl` has built it (or
//! `WELD_EMBED_MUSL_RUNTIME` names it: building it takes Debian's rustc and library sources,
//! which a build script cannot assume). `WELD_EMBED_RUNTIME=0` embeds nothing; weld then finds
//! its runtime next to itself, as in the build tree.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

type Result<T> = std::result::Result<T, String>;

fn main() -> Result<()> {
    println!("cargo::rerun-if-env-changed=WELD_EMBED_RUNTIME");
    println!("cargo::rerun-if-env-changed=WELD_EMBED_MUSL_RUNTIME");
    let var = |name: &str| env::var(name).map_err(|_| format!("cargo did not set {name}"));
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let source_root = manifest_dir.parent().ok_or("compiler/ has no parent")?;
    let target = var("TARGET")?;
    let host = var("HOST")?;

    let mut entries = Vec::new();
    let enabled = env::var("WELD_EMBED_RUNTIME").map_or(true, |v| v != "0");
    // weld links for the machine it runs on, so only a native weld gets the host archive.
    if enabled && target == host && source_root.join("runtime-support/Cargo.toml").is_file() {
        for dir in ["runtime-support", "contract"] {
            println!(
                "cargo::rerun-if-changed={}",
                source_root.join(dir).display()
            );
        }
        println!(
            "cargo::rerun-if-changed={}",
            source_root.join("Cargo.lock").display()
        );
        let archive = build_host_runtime(source_root, &out_dir)?;
        entries.push((target.clone(), copy_into(&archive, &out_dir, &target)?));
        if target == "x86_64-unknown-linux-gnu" {
            if let Some(musl) = musl_archive(source_root)? {
                println!("cargo::rerun-if-changed={}", musl.display());
                entries.push((
                    MUSL_TARGET.to_string(),
                    copy_into(&musl, &out_dir, MUSL_TARGET)?,
                ));
            }
        }
    }
    write_table(&out_dir, &entries)
}

/// `cargo build --release -p weld-runtime` for the host, in a target directory shared by every
/// profile of the outer build; returns the archive's path.
fn build_host_runtime(source_root: &Path, out_dir: &Path) -> Result<PathBuf> {
    let target_dir = shared_target_dir(out_dir).join("weld-embedded-runtime");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--quiet")
        .arg("-p")
        .arg("weld-runtime")
        .arg("--manifest-path")
        .arg(source_root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // Executables are linked without the runtime's debug information anyway.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        // The outer build's flags (for this crate's profile) are not the runtime's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        // Not clippy's run (cargo clippy runs build scripts too): a plain build.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    let status = cmd
        .status()
        .map_err(|e| format!("running cargo to build the runtime archive: {e}"))?;
    if !status.success() {
        return Err(
            "building the runtime archive (cargo build --release -p weld-runtime) \
                    failed; WELD_EMBED_RUNTIME=0 builds weld without it"
                .into(),
        );
    }
    Ok(target_dir.join("release").join("libweld_runtime.a"))
}

/// The outer build's target directory (`$OUT_DIR` is `<target dir>[/<triple>]/<profile>/build/
/// <crate>/out`), or `$OUT_DIR` itself where that layout does not hold.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent()?.parent())
        .map_or_else(|| out_dir.to_path_buf(), Path::to_path_buf)
}

/// The musl runtime: `$WELD_EMBED_MUSL_RUNTIME`, else where `make runtime-musl` puts it.
fn musl_archive(source_root: &Path) -> Result<Option<PathBuf>> {
    if let Some(p) = env::var_os("WELD_EMBED_MUSL_RUNTIME") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(format!(
                "WELD_EMBED_MUSL_RUNTIME={} is not a file",
                p.display()
            ));
        }
        return Ok(Some(p));
    }
    let p = source_root.join(format!("target/{MUSL_TARGET}/release/libweld_runtime.a"));
    Ok(p.is_file().then_some(p))
}

fn copy_into(archive: &Path, out_dir: &Path, target: &str) -> Result<PathBuf> {
    let dest = out_dir.join(format!("libweld_runtime-{target}.a"));
    fs::copy(archive, &dest)
        .map_err(|e| format!("copying {} to {}: {e}", archive.display(), dest.display()))?;
    // Executables are linked without the runtime's debug information (`-Wl,-S`), so weld need
    // not carry std's: 24 MB become 15. Where there is no `strip`, the archive stays whole.
    let _ = Command::new("strip")
        .arg("--strip-debug")
        .arg(&dest)
        .status();
    Ok(dest)
}

/// `EMBEDDED: &[(&str, &[u8])]`: target triple and archive bytes.
fn write_table(out_dir: &Path, entries: &[(String, PathBuf)]) -> Result<()> {
    let mut rs = String::from("pub(crate) static EMBEDDED: &[(&str, &[u8])] = &[\n");
    for (target, path) in entries {
        rs.push_str(&format!(
            "    ({target:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    rs.push_str("];\n");
    fs::write(out_dir.join("embedded_runtime.rs"), rs)
        .map_err(|e| format!("writing embedded_runtime.rs: {e}"))
}
