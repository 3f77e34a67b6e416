//! Wasm GC programs run through the whole pipeline with a heap far smaller than what they
//! allocate, so that the collector must run, move objects and find every root.
//!
//! `tests/gc/collector.wast`: references held in globals, deep frames, tables, arrays, struct
//! fields, exception payloads and element segments, next to `i31` and host values, checked
//! after collections (in-process `weld wast`, 4 MiB heap).
//!
//! `tests/programs/kotlin/gcdemo`: a Kotlin/Wasm program (GC structs and arrays, exceptions,
//! collections, strings; see its README) that allocates about 5.5 GB through a live set of a
//! few MiB. As an executable with a 64 MiB heap, and under `weld run`, its output must be
//! Wasmtime 48's, recorded in `gcdemo.expected`.
//!
//! `tests/programs/kotlin-c/app.wasm`: a Kotlin/Wasm component (GC) composed with a C component
//! (linear memory) that it calls with strings and lists, and that calls back into a second
//! Kotlin component, which builds GC trees (see its README). One executable, Wasmtime's
//! output.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn weld() -> &'static str {
    env!("CARGO_BIN_EXE_weld")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The number of collections `WELD_GC_STATS=1` reported on standard error.
fn collections(out: &Output) -> u64 {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("weld gc: "))
        .unwrap_or_else(|| panic!("no GC statistics on stderr:\n{err}"));
    line["weld gc: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable statistics: {line}"))
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn references_everywhere_survive_collections_in_a_small_heap() {
    let out = Command::new(weld())
        .arg("wast")
        .arg(repo("tests/gc/collector.wast"))
        .env("WELD_GC_HEAP_LIMIT", "4M")
        .env("WELD_GC_STATS", "1")
        .output()
        .unwrap();
    assert_ok("weld wast collector.wast", &out);
    let n = collections(&out);
    assert!(
        n >= 3,
        "only {n} collections: the test no longer exercises the collector"
    );
}

#[test]
fn the_kotlin_program_runs_as_an_executable_in_a_heap_far_below_what_it_allocates() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("gcdemo");
    let out = Command::new(weld())
        .arg("compile")
        .arg(repo("tests/programs/kotlin/gcdemo.component.wasm"))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert_ok("weld compile gcdemo", &out);
    let out = Command::new(&exe)
        .env("WELD_GC_HEAP_LIMIT", "64M")
        .env("WELD_GC_STATS", "1")
        .output()
        .unwrap();
    assert_ok("gcdemo", &out);
    let expected = std::fs::read_to_string(repo("tests/programs/kotlin/gcdemo.expected")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    assert!(
        collections(&out) >= 10,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_kotlin_program_runs_under_weld_run() {
    let out = Command::new(weld())
        .arg("run")
        .arg(repo("tests/programs/kotlin/gcdemo.component.wasm"))
        .env("WELD_GC_HEAP_LIMIT", "64M")
        .output()
        .unwrap();
    assert_ok("weld run gcdemo", &out);
    let expected = std::fs::read_to_string(repo("tests/programs/kotlin/gcdemo.expected")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn a_kotlin_component_and_a_c_component_call_each_other_in_one_executable() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("app");
    let app = repo("tests/programs/kotlin-c/app.wasm");
    let out = Command::new(weld())
        .arg("compile")
        .arg(&app)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert_ok("weld compile kotlin-c/app.wasm", &out);
    let expected = std::fs::read_to_string(repo("tests/programs/kotlin-c/app.expected")).unwrap();
    let out = Command::new(&exe)
        .env("WELD_GC_HEAP_LIMIT", "32M")
        .output()
        .unwrap();
    assert_ok("kotlin-c app", &out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    // The graph: the C instance keeps its data in linear memory, the Kotlin ones in GC heaps.
    let out = Command::new(weld())
        .args(["inspect", "--format", "json"])
        .arg(&app)
        .output()
        .unwrap();
    assert_ok("weld inspect", &out);
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(json.matches("\"gc_heap\": true").count(), 2, "{json}");
}

/// `collector.wast` on another architecture under qemu-user (the frame records the collector
/// walks are laid out per target), through `weld wast --runner`.
fn collector_under_qemu(triple: &str, qemu: &str, sysroot: &str) {
    let target_dir = Path::new(weld()).parent().unwrap().parent().unwrap();
    let runner = target_dir.join(triple).join("release/weld-wast-run");
    let have_qemu = Command::new(qemu).arg("--version").output().is_ok();
    if !runner.is_file() || !have_qemu {
        println!(
            "SKIPPED: no {} or no {qemu} (run make runtime-cross)",
            runner.display()
        );
        return;
    }
    let words = format!(
        "{qemu} -L {sysroot} -E WELD_GC_HEAP_LIMIT=4M {}",
        runner.display()
    );
    let out = Command::new(weld())
        .args(["wast", "--target", triple, "--runner", &words])
        .arg(repo("tests/gc/collector.wast"))
        .output()
        .unwrap();
    assert_ok(&format!("collector.wast on {triple}"), &out);
}

#[test]
fn references_survive_collections_on_aarch64_under_qemu() {
    collector_under_qemu(
        "aarch64-unknown-linux-gnu",
        "qemu-aarch64",
        "/usr/aarch64-linux-gnu",
    );
}

#[test]
fn references_survive_collections_on_riscv64_under_qemu() {
    collector_under_qemu(
        "riscv64gc-unknown-linux-gnu",
        "qemu-riscv64",
        "/usr/riscv64-linux-gnu",
    );
}
