//! Linking: drive the platform C compiler (`cc`, or a cross `cc`) to turn objects into a shared
//! library or an executable, and `ar` to make a static library.
//!
//! Executables link the module's object, a generated C `main` (see `emit::header::exe_main`)
//! and the runtime archive `libweld_runtime.a`, found by [`runtime_archive`] (`runtime.rs`: the build tree, an
//! installation, or the copy built into weld).
//!
//! Static executables for an x86-64 Linux host link against musl when its runtime archive and
//! `musl-gcc` are there ([`exe_target`]; `make build` provides both), else glibc. Why: a static
//! glibc program spends most of its start-up in glibc's own initialisation (measured on the
//! benchmark VM: 400 µs for `int main() { return 0; }`, most of it CPUID instructions, each a
//! VM exit; 100 µs for a program that only calls `exit`); musl's takes none of that.
//!
//! Output files appear atomically: the linker writes a temporary file next to the destination,
//! which is renamed into place only when linking succeeded, so a failed link never leaves a
//! partial output behind.

pub mod product;
pub mod runtime;
mod shared_object;
pub mod startup_order;

pub use runtime::runtime_archive;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A shared library (`.so`).
    SharedLib,
    /// A statically linked executable.
    Exe,
    /// An executable linked against the system's shared C library (host target only): for
    /// tools that need it, such as valgrind, which cannot follow a static glibc.
    DynamicExe,
}

/// The target of static x86-64 Linux executables linked against musl.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// The target to link an executable of kind `kind` for, compiled for `target`: for a static
/// executable of the x86-64 Linux host, [`MUSL_TARGET`] when `$WELD_LIBC` is `musl`, or when
/// it is unset and musl's runtime archive and `musl-gcc` are both found (and neither
/// `$WELD_RUNTIME_LIB` nor `$WELD_CC` picks a runtime or compiler); `$WELD_LIBC=glibc` keeps
/// glibc. Everything else links for `target` itself.
pub fn exe_target(target: &str, kind: OutputKind) -> Result<String> {
    let host = crate::options::host_triple();
    if kind != OutputKind::Exe || target != host || !host.starts_with("x86_64-") {
        return Ok(target.to_string());
    }
    let musl_ready = || runtime_archive(MUSL_TARGET).is_ok() && in_path("musl-gcc");
    match std::env::var("WELD_LIBC").as_deref() {
        Ok("glibc") => Ok(target.to_string()),
        Ok("musl") if musl_ready() => Ok(MUSL_TARGET.to_string()),
        Ok("musl") => Err(Error::Link(format!(
            "WELD_LIBC=musl: needs musl-gcc (apt-get install musl-tools) and libweld_runtime.a for {MUSL_TARGET} (`make runtime-musl`)"
        ))),
        Ok(other) => Err(Error::Link(format!(
            "WELD_LIBC={other}: expected `glibc` or `musl`"
        ))),
        Err(_) => {
            let chosen = std::env::var_os("WELD_RUNTIME_LIB").is_none()
                && std::env::var_os("WELD_CC").is_none()
                && musl_ready();
            Ok(if chosen { MUSL_TARGET } else { target }.to_string())
        }
    }
}

/// Whether an executable named `name` is in `$PATH`.
fn in_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

/// Whether `target` is another architecture than the one weld runs on.
fn is_cross(target: &str) -> bool {
    let arch = target.split('-').next().unwrap_or("");
    let host = crate::options::host_triple()
        .split('-')
        .next()
        .unwrap_or("");
    arch != host
}

/// The C compiler driver for a target: `$WELD_CC`, else `cc` for the host, else the Debian
/// cross compiler name.
pub fn c_compiler(target: &str) -> String {
    if let Ok(cc) = std::env::var("WELD_CC") {
        return cc;
    }
    let arch = target.split('-').next().unwrap_or("");
    if target == MUSL_TARGET {
        "musl-gcc".to_string()
    } else if !is_cross(target) {
        "cc".to_string()
    } else {
        match arch {
            "aarch64" => "aarch64-linux-gnu-gcc".to_string(),
            "riscv64" | "riscv64gc" => "riscv64-linux-gnu-gcc".to_string(),
            other => format!("{other}-linux-gnu-gcc"),
        }
    }
}

/// For a host shared library with no driver flags: the arguments of a direct `ld` run that
/// does what `cc -shared -nostartfiles ... -lm` does (the flags the driver passes, minus start
/// files and libgcc, which weld objects never need). Calling `ld` itself skips the driver and
/// `collect2`: 2 ms instead of 12 for a small plugin, a sixth of its compile time.
///
/// `-lm -lc` only when an input refers to a symbol it does not define (a libcall such as
/// `memcpy` or `fmaf`): reading libc's and libm's symbol tables costs `ld` ≈ 5 ms, and with
/// `--as-needed` an object without undefined symbols gets no `DT_NEEDED` entry from them
/// anyway, so the library is the same without them.
fn direct_ld_args(inputs: &[PathBuf], out: &Path, libs: bool) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = [
        "--build-id",
        "--eh-frame-hdr",
        "--hash-style=gnu",
        "--as-needed",
        "-shared",
        "-o",
    ]
    .iter()
    .map(Into::into)
    .collect();
    args.push(out.into());
    args.extend(inputs.iter().map(Into::into));
    if libs {
        args.extend(["-lm", "-lc"].iter().map(Into::into));
    }
    args
}

/// Whether some input may need a symbol from the C library: it refers to a symbol it does not
/// define, or it cannot be read as an object (then assume it does).
fn needs_c_library(inputs: &[PathBuf]) -> bool {
    use object::{Object, ObjectSymbol};
    inputs.iter().any(|path| {
        let Ok(data) = std::fs::read(path) else {
            return true;
        };
        let Ok(file) = object::File::parse(&*data) else {
            return true;
        };
        file.symbols()
            .any(|s| s.is_undefined() && s.name_bytes().is_ok_and(|n| !n.is_empty()))
    })
}

/// Link with `ld` directly when that is equivalent and `ld` runs; `None` to use the driver.
fn try_direct_ld(
    inputs: &[PathBuf],
    out: &Path,
    kind: OutputKind,
    target: &str,
    extra_args: &[String],
) -> Option<std::process::Output> {
    if kind != OutputKind::SharedLib
        || is_cross(target)
        || !extra_args.is_empty()
        || std::env::var_os("WELD_CC").is_some()
    {
        return None;
    }
    // Simple enough objects need no linker at all (`WELD_USE_LD=1`: always run `ld`).
    if let [only] = inputs {
        if std::env::var_os("WELD_USE_LD").is_none() {
            let written = std::fs::read(only)
                .ok()
                .and_then(|bytes| shared_object::write(&bytes))
                .and_then(|so| std::fs::write(out, so).ok());
            if written.is_some() {
                return Some(std::process::Output {
                    status: std::process::ExitStatus::default(),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                });
            }
        }
    }
    let output = Command::new("ld")
        .args(direct_ld_args(inputs, out, needs_c_library(inputs)))
        .output()
        .ok()?;
    // A failure is reported through the driver, whose messages users know.
    output.status.success().then_some(output)
}

/// Link `inputs` (objects and archives) into `out`.
pub fn link(
    inputs: &[PathBuf],
    out: &Path,
    kind: OutputKind,
    target: &str,
    extra_args: &[String],
) -> Result<()> {
    link_with(inputs, out, kind, target, extra_args, false)
}

/// [`link`], keeping debug information in executables when `keep_debug` (`weld compile -g`);
/// otherwise they are linked without any (`-Wl,-S`).
pub fn link_with(
    inputs: &[PathBuf],
    out: &Path,
    kind: OutputKind,
    target: &str,
    extra_args: &[String],
    keep_debug: bool,
) -> Result<()> {
    crate::progress::report(crate::progress::Event::Linking);
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
    if try_direct_ld(inputs, &tmp_path, kind, target, extra_args).is_some() {
        return publish(tmp, out);
    }
    // Static executables link with gold where the toolchain has it: 75-110 ms instead of
    // 190-250 for hello-world against the 34 MB runtime archive (the same program, run by the
    // same tests). A gold failure falls back to the default linker, whose error is reported.
    let gold = kind == OutputKind::Exe && has_gold(&cc);
    // With gold, the musl runtime's start-up functions are laid out together (see
    // `startup_order`).
    let order_dir = tempfile::tempdir()
        .ok()
        .filter(|_| gold && target == MUSL_TARGET);
    let order = order_dir.as_ref().and_then(|d| {
        let archive = inputs
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "a"))?;
        startup_order::ordering_file(archive, d.path())
    });
    let command = |gold: bool| -> Result<Command> {
        let mut cmd = Command::new(&cc);
        if gold {
            cmd.arg("-fuse-ld=gold");
            if let Some(order) = &order {
                let mut arg = std::ffi::OsString::from("-Wl,--section-ordering-file=");
                arg.push(order);
                cmd.arg(arg);
            }
        }
        match kind {
            OutputKind::SharedLib => {
                // No C start files: weld's shared objects need no initialisers, and a plugin host
                // can then refuse any object that has some before loading it (no code runs).
                cmd.args(["-shared", "-nostartfiles"]);
            }
            OutputKind::Exe | OutputKind::DynamicExe => {}
        }
        cmd.arg("-o").arg(&tmp_path);
        cmd.args(inputs);
        cmd.args(extra_args);
        if kind == OutputKind::DynamicExe {
            if is_cross(target) {
                return Err(Error::Link(format!(
                    "a dynamically linked executable needs the host target, not {target}"
                )));
            }
            // What the Rust standard library inside libweld_runtime.a needs.
            cmd.args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-ldl"]);
        }
        if kind == OutputKind::Exe && target == MUSL_TARGET {
            // musl's libc.a holds what glibc spreads over libpthread, librt, libdl and libutil.
            cmd.args(["-static", "-Wl,--gc-sections"]);
        } else if kind == OutputKind::Exe {
            // Executables are static: nothing to resolve at start-up (measured: the same wall time,
            // 25% less peak RSS for hello-world), no dependence on the machine's shared libraries,
            // and cross executables run under qemu-user without the target's dynamic loader.
            // libgcc_eh stands in for the shared libgcc_s; the rest is what the Rust standard
            // library inside libweld_runtime.a needs (`--print native-static-libs`).
            // Without the runtime's debug information (`-S`): a hello-world executable is 2.0 MB
            // instead of 10.4, and links in 190 ms instead of 280; a trap's backtrace names wasm
            // functions from weld's own tables, not from DWARF.
            cmd.args([
                "-static",
                "-Wl,--gc-sections",
                "-lgcc_eh",
                "-lgcc",
                "-lutil",
                "-lrt",
                "-lpthread",
                "-ldl",
            ]);
        }
        if kind == OutputKind::Exe && !keep_debug {
            cmd.arg("-Wl,-S");
        }
        cmd.arg("-lm");
        Ok(cmd)
    };
    let mut output = run_linker(&cc, command(gold)?)?;
    if gold && !output.status.success() {
        output = run_linker(&cc, command(false)?)?;
    }
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
    publish(tmp, out)
}

/// Move a linked temporary file to `out`, readable and executable by everyone (`rwxr-xr-x`,
/// what `cc -o` gives under the usual umask: the temporary file was private, and linkers keep
/// or derive their output's mode differently).
fn publish(tmp: tempfile::NamedTempFile, out: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| Error::Io {
        what: format!("writing {}", out.display()),
        source: e,
    };
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(())
}

fn run_linker(cc: &str, mut cmd: Command) -> Result<std::process::Output> {
    cmd.output().map_err(|e| {
        Error::Link(format!(
            "could not run the C compiler `{cc}` ({e}); install it or set WELD_CC"
        ))
    })
}

/// Whether the driver `cc` has gold beside it (`ld.gold`, or `<triple>-ld.gold` for a cross
/// `<triple>-gcc`; riscv64 has none). Not with `$WELD_CC`: the user chose the toolchain.
fn has_gold(cc: &str) -> bool {
    if std::env::var_os("WELD_CC").is_some() {
        return false;
    }
    in_path(&gold_name(cc))
}

/// The gold linker that goes with driver `cc`.
fn gold_name(cc: &str) -> String {
    match cc.strip_suffix("gcc") {
        // musl-gcc wraps the host's gcc and linker.
        Some("musl-") => "ld.gold".to_string(),
        Some(triple) if !triple.is_empty() => format!("{triple}ld.gold"),
        _ => "ld.gold".to_string(),
    }
}

/// Link an executable from a module object, the C source of its `main` and the runtime archive;
/// `kind` is [`OutputKind::Exe`] (static) or [`OutputKind::DynamicExe`].
pub fn link_exe(
    obj: &Path,
    main_c: &str,
    out: &Path,
    target: &str,
    kind: OutputKind,
    keep_debug: bool,
) -> Result<()> {
    let target = &exe_target(target, kind)?;
    let archive = runtime_archive(target)?;
    let dir = tempfile::tempdir().map_err(|e| Error::Io {
        what: "creating a temporary directory".into(),
        source: e,
    })?;
    let main_path = dir.path().join("weld_main.c");
    std::fs::write(&main_path, main_c).map_err(|e| Error::Io {
        what: format!("writing {}", main_path.display()),
        source: e,
    })?;
    link_with(
        &[main_path, obj.to_path_buf(), archive],
        out,
        kind,
        target,
        &[],
        keep_debug,
    )
}

/// Link the executable of an object that defines `main` itself (a command component's, see
/// `codegen::entry::exe_main`) with the runtime archive.
pub fn link_exe_with_main(
    obj: &Path,
    out: &Path,
    target: &str,
    kind: OutputKind,
    keep_debug: bool,
) -> Result<()> {
    let target = &exe_target(target, kind)?;
    let archive = runtime_archive(target)?;
    link_with(
        &[obj.to_path_buf(), archive],
        out,
        kind,
        target,
        &[],
        keep_debug,
    )
}

/// Write a static library holding the object `obj` (`$WELD_AR`, else `ar`).
pub fn static_lib(obj: &Path, out: &Path) -> Result<()> {
    let ar = std::env::var("WELD_AR").unwrap_or_else(|_| "ar".to_string());
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".weld-ar-")
        .suffix(".a")
        .tempfile_in(dir)
        .map_err(|e| Error::Io {
            what: format!("creating a temporary file in {}", dir.display()),
            source: e,
        })?;
    // `ar` appends to an existing archive; start from nothing.
    let _ = std::fs::remove_file(tmp.path());
    let output = Command::new(&ar)
        .arg("crs")
        .arg(tmp.path())
        .arg(obj)
        .output()
        .map_err(|e| {
            Error::Link(format!(
                "could not run `{ar}` ({e}); install it or set WELD_AR"
            ))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Link(format!(
            "`{ar}` failed ({}): {}",
            output.status,
            stderr.lines().next().unwrap_or("no output")
        )));
    }
    tmp.persist(out).map_err(|e| Error::Io {
        what: format!("writing {}", out.display()),
        source: e.error,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::write::{Object, Symbol, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};

    /// An x86-64 ELF object defining `f`, and referring to `undefined` if given.
    fn object_with(dir: &Path, undefined: Option<&str>) -> PathBuf {
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
        let text = obj.section_id(object::write::StandardSection::Text);
        let at = obj.append_section_data(text, &[0xc3], 16);
        obj.add_symbol(Symbol {
            name: b"f".to_vec(),
            value: at,
            size: 1,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
        if let Some(name) = undefined {
            obj.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value: 0,
                size: 0,
                kind: SymbolKind::Text,
                scope: SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Undefined,
                flags: SymbolFlags::None,
            });
        }
        let path = dir.join(format!("{}.o", undefined.unwrap_or("none")));
        std::fs::write(&path, obj.write().expect("writing a test object")).expect("write");
        path
    }

    #[test]
    fn each_driver_links_with_its_own_gold() {
        assert_eq!(gold_name("cc"), "ld.gold");
        assert_eq!(
            gold_name("aarch64-linux-gnu-gcc"),
            "aarch64-linux-gnu-ld.gold"
        );
        assert_eq!(
            gold_name("riscv64-linux-gnu-gcc"),
            "riscv64-linux-gnu-ld.gold"
        );
        // musl-gcc drives the host's gcc, and so its gold.
        assert_eq!(gold_name("musl-gcc"), "ld.gold");
    }

    #[test]
    fn an_object_defining_everything_it_uses_needs_no_c_library() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!needs_c_library(&[object_with(dir.path(), None)]));
    }

    #[test]
    fn an_object_calling_memcpy_or_an_unreadable_input_links_the_c_library() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = object_with(dir.path(), None);
        let memcpy = object_with(dir.path(), Some("memcpy"));
        assert!(needs_c_library(&[plain.clone(), memcpy]));
        let garbage = dir.path().join("garbage.o");
        std::fs::write(&garbage, b"not an object").expect("write");
        assert!(needs_c_library(&[plain, garbage.clone()]));
        assert!(needs_c_library(&[dir.path().join("missing.o")]));
        let args = direct_ld_args(&[garbage], Path::new("out.so"), true);
        assert!(args.iter().any(|a| a == "-lc") && args.iter().any(|a| a == "-lm"));
    }
}
