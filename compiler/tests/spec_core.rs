//! The WebAssembly core spec suite, end to end through the real pipeline (compile, link with
//! `cc`, load, run), in both bounds-check modes. Directives that cannot pass yet are on the
//! reviewed list `tests/wast-skips.txt`; a listed directive that starts passing fails this test.
//!
//! The suite is read from `$WELD_TESTSUITE/core` (default: `../shared/testsuite` beside the
//! repository). A missing suite is a failure, not a silent pass. The same suite on aarch64 and
//! riscv64 under qemu-user: `spec_cross.rs`.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::spec::{run_core_suite, FOLDERS};
use weld::wast::Exec;
use weld::{BoundsChecks, Options};

fn run_suite(bounds_checks: BoundsChecks) {
    let options = Options {
        bounds_checks,
        ..Options::default()
    };
    let label = format!("{bounds_checks:?}");
    run_core_suite(&label, &options, &Exec::InProcess, &FOLDERS, 50_000);
}

#[test]
fn core_spec_suite_passes_with_guard_regions() {
    run_suite(BoundsChecks::Guard);
}

#[test]
fn core_spec_suite_passes_with_explicit_bounds_checks() {
    run_suite(BoundsChecks::Explicit);
}
