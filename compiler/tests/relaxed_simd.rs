//! Relaxed SIMD's two lowerings, exactly: `tests/wast/relaxed/deterministic.wast` asserts one
//! result per operator where the spec allows several, and must pass with
//! `RelaxedSimd::Deterministic` on x86-64 and on aarch64 under qemu-user (the same bits on every
//! target), and with `RelaxedSimd::Native` on aarch64 (whose native choice is the deterministic
//! one). `x86-64-native.wast` asserts the x86-64 instructions' results for the same inputs. The
//! spec suite's `core/relaxed-simd/`, which accepts any allowed result, runs in `spec_core.rs`
//! and `spec_cross.rs`; riscv64 refuses relaxed SIMD as it refuses SIMD. Where Wasmtime is
//! installed, `deterministic.wast` must pass under its deterministic mode too: the two agree bit
//! for bit, which is what lets the differential fuzzer compare them.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::cross::{built_for, missing, AARCH64};
use std::path::{Path, PathBuf};
use weld::wast::{run_files, skips::SkipList, Exec, Summary};
use weld::{Options, RelaxedSimd};

const CASES: u64 = 20;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/wast/relaxed")
        .join(name)
}

fn run(name: &str, options: &Options, exec: &Exec) -> Summary {
    let s = run_files(&[script(name)], &SkipList::default(), options, exec);
    assert_eq!(s.failed, 0, "{name} with {options:?}: {s:?}");
    assert!(s.passed > CASES, "{name}: too few directives ran: {s:?}");
    s
}

fn with(relaxed_simd: RelaxedSimd) -> Options {
    Options {
        relaxed_simd,
        ..Options::default()
    }
}

#[test]
fn deterministic_relaxed_simd_gives_the_one_documented_result_on_this_machine() {
    run(
        "deterministic.wast",
        &with(RelaxedSimd::Deterministic),
        &Exec::InProcess,
    );
}

#[test]
fn native_relaxed_simd_on_x86_64_gives_the_sse_instructions_results() {
    if !cfg!(target_arch = "x86_64") {
        println!("SKIPPED: x86-64-native.wast describes x86-64; this machine is another");
        return;
    }
    run(
        "x86-64-native.wast",
        &with(RelaxedSimd::Native),
        &Exec::InProcess,
    );
}

#[test]
fn wasmtime_in_its_deterministic_mode_gives_the_same_results_where_it_is_installed() {
    if !common::wasmtime_installed() {
        return;
    }
    let out = std::process::Command::new("wasmtime")
        .args(["wast", "-W", "relaxed-simd-deterministic=y"])
        .arg(script("deterministic.wast"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wasmtime wast: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn aarch64_gives_the_deterministic_results_in_both_modes_under_qemu() {
    if let Some(m) = missing(AARCH64, &["weld-wast-run", "libweld_runtime.a"]) {
        println!("SKIPPED: {m}");
        return;
    }
    let exec = Exec::Command(vec![
        AARCH64.qemu.to_string(),
        "-L".to_string(),
        AARCH64.sysroot.to_string(),
        built_for(AARCH64, "weld-wast-run").display().to_string(),
    ]);
    for mode in [RelaxedSimd::Deterministic, RelaxedSimd::Native] {
        let options = Options {
            target: weld::Target::new(AARCH64.triple).unwrap(),
            ..with(mode)
        };
        run("deterministic.wast", &options, &exec);
    }
}

#[test]
fn riscv64_refuses_relaxed_simd_as_unsupported_not_invalid() {
    let wasm = wast::parser::parse::<wast::Wat>(
        &wast::parser::ParseBuffer::new(
            r#"(module (func (export "f") (param v128 v128) (result v128)
                 (i8x16.relaxed_swizzle (local.get 0) (local.get 1))))"#,
        )
        .unwrap(),
    )
    .unwrap()
    .encode()
    .unwrap();
    let options = Options {
        target: weld::Target::new("riscv64gc-unknown-linux-gnu").unwrap(),
        ..Options::default()
    };
    let e = weld::compile_module(&wasm, &options)
        .map(|_| ())
        .expect_err("relaxed SIMD compiled for riscv64")
        .to_string();
    assert!(
        e.contains("SIMD (v128) on riscv64gc-unknown-linux-gnu") && !e.contains("invalid"),
        "unclear refusal: {e}"
    );
}
