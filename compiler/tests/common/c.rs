//! The C side of the integration tests: is there a C compiler, which `libweld_runtime.a` goes
//! with this test's `weld`, and running an example's Makefile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `weld` binary under test.
pub const WELD: &str = env!("CARGO_BIN_EXE_weld");

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether `cc` runs; prints `SKIPPED: no C compiler` when it does not.
pub fn have_cc() -> bool {
    let ok = Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: no C compiler");
        eprintln!("SKIPPED: no C compiler (`cc --version` failed)");
    }
    ok
}

/// The runtime archive built together with this test's `weld`: cargo builds weld-runtime's
/// staticlib as part of weld's dependency graph into `deps/`; `cargo build --workspace` also
/// copies one next to `weld`. Take the newest.
pub fn runtime_archive() -> PathBuf {
    let dir = Path::new(WELD).parent().unwrap();
    let mut candidates = vec![dir.join("libweld_runtime.a")];
    if let Ok(entries) = std::fs::read_dir(dir.join("deps")) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("libweld_runtime-") && name.ends_with(".a") {
                candidates.push(e.path());
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!("no libweld_runtime.a beside {WELD}; cargo build -p weld-runtime")
        })
}

/// Run `cmd` (its output, whatever its status).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Fail the test unless `out` reports success.
pub fn check_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `make run` of `examples/<name>` with this test's weld and runtime, in a fresh build
/// directory; the program's stdout (make's and weld's own lines left out).
pub fn run_example(name: &str) -> String {
    let build = tempfile::tempdir().unwrap();
    let out = run(Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(repo().join("examples").join(name))
        .arg("run")
        .arg(format!("WELD={WELD}"))
        .arg(format!("BUILD={}", build.path().display()))
        .arg(format!("WELD_RUNTIME_LIB={}", runtime_archive().display())));
    check_ok(&format!("make -C examples/{name} run"), &out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("make") && !l.contains("/weld compile"))
        .map(|l| format!("{l}\n"))
        .collect()
}
