//! An installed `weld` works with nothing beside it: the executable alone, copied into a
//! temporary prefix as `cargo install` copies it, builds executables, objects, headers and
//! plugins from another directory, with the runtime archives built into it
//! (`compiler/build.rs`, `link/runtime.rs`); `weld targets` says what each target lacks and
//! finds a cross runtime installed under `<prefix>/lib/weld/<target>/`.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{repo, WELD};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A prefix with `bin/weld`, a working directory elsewhere, and a cache of its own.
struct Installed {
    root: tempfile::TempDir,
}

impl Installed {
    fn new() -> Installed {
        let root = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(root.path().join("prefix/bin")).expect("prefix/bin");
        std::fs::create_dir_all(root.path().join("work")).expect("work directory");
        std::fs::copy(WELD, root.path().join("prefix/bin/weld")).expect("install weld");
        Installed { root }
    }

    fn prefix(&self) -> PathBuf {
        self.root.path().join("prefix")
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// Run the installed weld in the working directory, with none of the build tree's
    /// variables that would point it back there.
    fn weld(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(self.prefix().join("bin/weld"));
        cmd.args(args)
            .current_dir(self.work())
            .env_remove("WELD_RUNTIME_LIB")
            .env_remove("WELD_CC")
            .env_remove("WELD_LIBC")
            .env("WELD_CACHE_DIR", self.root.path().join("cache"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Another test thread may fork while `new` still holds the copy open for writing; the
        // child keeps that descriptor until it execs, and until then running the copy fails
        // with "text file busy" (ETXTBSY). That passes within moments: retry.
        for _ in 0..100 {
            match cmd.output() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                result => return result.expect("run the installed weld"),
            }
        }
        panic!("the installed weld stayed busy (ETXTBSY) for 2 s");
    }

    fn copy_in(&self, from: &Path) -> String {
        let name = from
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        std::fs::copy(from, self.work().join(&name)).expect("copy input");
        name
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line a WASI example prints, read from its C source.
fn printed_by(source: &Path) -> String {
    let c = std::fs::read_to_string(source).expect("example source");
    let start = c.find("printf(\"").expect("the example prints a line") + "printf(\"".len();
    let line = c[start..].split('"').next().expect("closing quote");
    line.trim_end_matches("\\n").to_string()
}

#[test]
fn an_installed_weld_builds_an_executable_from_another_directory() {
    if !common::c::have_cc() {
        eprintln!("SKIPPED: no C compiler (cc) to link executables");
        return;
    }
    let inst = Installed::new();
    let hello = inst.copy_in(&repo().join("examples/wasi-c/hello.wasm"));
    let expected = printed_by(&repo().join("examples/wasi-c/hello.c"));
    // Both C libraries of the host: glibc always, musl when its runtime was built into weld.
    for libc in ["glibc", "musl"] {
        if libc == "musl" && !is_ready(&targets(&inst), "x86_64-unknown-linux-musl") {
            eprintln!("SKIPPED musl: this weld was built without the musl runtime");
            continue;
        }
        let exe = format!("hello-{libc}");
        ok(
            &inst.weld(&["compile", &hello, "-o", &exe], &[("WELD_LIBC", libc)]),
            "weld compile",
        );
        let run = Command::new(inst.work().join(&exe))
            .output()
            .expect("run the executable");
        assert_eq!(ok(&run, &exe).trim_end(), expected, "{libc}");
    }
    // The archive was written once, into weld's cache, not next to the input.
    assert!(inst.root.path().join("cache/runtime").is_dir());
    assert!(!inst.work().join("libweld_runtime.a").exists());
}

#[test]
fn an_installed_weld_writes_objects_headers_and_plugins() {
    let inst = Installed::new();
    let calc = inst.copy_in(&repo().join("examples/plugin-host/plugin.wat"));
    for out in ["plugin.o", "plugin.h", "plugin.so"] {
        ok(&inst.weld(&["compile", &calc, "-o", out], &[]), out);
        let len = std::fs::metadata(inst.work().join(out)).map_or(0, |m| m.len());
        assert!(len > 0, "{out} is empty");
    }
}

/// Whether `weld targets` lists `target` as ready.
fn is_ready(targets: &str, target: &str) -> bool {
    targets.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.next() == Some(target) && words.next() == Some("ready")
    })
}

fn targets(inst: &Installed) -> String {
    ok(&inst.weld(&["targets"], &[]), "weld targets")
}

#[test]
fn weld_targets_says_what_each_target_lacks_and_finds_installed_cross_runtimes() {
    let inst = Installed::new();
    let host = weld::options::host_triple();
    let before = targets(&inst);
    let entry = |text: &str, target: &str| -> String {
        let start = text
            .find(&format!("{target} "))
            .unwrap_or_else(|| panic!("{target} is not listed:\n{text}"));
        text[start..].lines().take(3).collect::<Vec<_>>().join("\n")
    };
    let host_entry = entry(&before, host);
    assert!(
        host_entry.contains("runtime: built into weld"),
        "{host_entry}"
    );
    let cross = "riscv64gc-unknown-linux-gnu";
    assert!(
        entry(&before, cross).contains(&format!("`make install-target TARGET={cross}` builds it")),
        "{before}"
    );
    // An installed cross runtime is found beside bin/.
    let dir = inst.prefix().join("lib/weld").join(cross);
    std::fs::create_dir_all(&dir).expect("lib/weld/<target>");
    std::fs::write(dir.join("libweld_runtime.a"), b"!<arch>\n").expect("archive");
    let after = entry(&targets(&inst), cross);
    assert!(
        after.contains(&format!(
            "runtime: {}",
            dir.join("libweld_runtime.a").display()
        )),
        "{after}"
    );
}
