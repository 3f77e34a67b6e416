//! The WebAssembly core spec suite for aarch64 and riscv64 Linux, under qemu-user, in both
//! bounds-check modes: `weld::wast` compiles each script's modules for the target and links them
//! with the cross C compiler into a shared object; `weld-wast-run` (the `weld-wast-runner`
//! crate, cross-built by `make runtime-cross`) loads it on the target under qemu and runs the
//! directives; the results come back to this process, which applies the same reviewed skip
//! list as the host run (`spec_core.rs`).
//!
//! All of `core/` (the MVP and later proposals at its top level, bulk memory, multi-memory,
//! memory64) on both targets, and `core/simd/` and `core/relaxed-simd/` on aarch64. riscv64
//! leaves both out: weld does not target the V extension and refuses SIMD modules for riscv64
//! with a clear error (`cross.rs` and `relaxed_simd.rs` test that refusal).
//!
//! Without the cross compiler, qemu-user or the cross-built runner each test prints
//! `SKIPPED: <what is missing>` (run `make runtime-cross`).

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::cross::{built_for, missing, Target, AARCH64, RISCV64};
use common::spec::{run_core_suite, FOLDERS, FOLDERS_WITHOUT_SIMD};
use weld::wast::Exec;
use weld::{BoundsChecks, Options};

const RUNNER: &str = "weld-wast-run";

fn run_suite(t: Target, bounds_checks: BoundsChecks) {
    if let Some(m) = missing(t, &[RUNNER, "libweld_runtime.a"]) {
        println!("SKIPPED: {m} (run make runtime-cross)");
        return;
    }
    let options = Options {
        target: weld::Target::new(t.triple).unwrap(),
        bounds_checks,
        ..Options::default()
    };
    let exec = Exec::Command(vec![
        t.qemu.to_string(),
        "-L".to_string(),
        t.sysroot.to_string(),
        built_for(t, RUNNER).display().to_string(),
    ]);
    let (folders, at_least): (&[&str], u64) = if t.simd {
        (&FOLDERS, 50_000)
    } else {
        (&FOLDERS_WITHOUT_SIMD, 30_000)
    };
    let label = format!("{} {bounds_checks:?}", t.triple);
    run_core_suite(&label, &options, &exec, folders, at_least);
}

#[test]
fn aarch64_passes_the_core_spec_suite_under_qemu_with_guard_regions() {
    run_suite(AARCH64, BoundsChecks::Guard);
}

#[test]
fn aarch64_passes_the_core_spec_suite_under_qemu_with_explicit_bounds_checks() {
    run_suite(AARCH64, BoundsChecks::Explicit);
}

#[test]
fn riscv64_passes_the_core_spec_suite_under_qemu_with_guard_regions() {
    run_suite(RISCV64, BoundsChecks::Guard);
}

#[test]
fn riscv64_passes_the_core_spec_suite_under_qemu_with_explicit_bounds_checks() {
    run_suite(RISCV64, BoundsChecks::Explicit);
}
