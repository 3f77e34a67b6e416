//! The WebAssembly core spec suite, end to end through the real pipeline (compile, link with
//! `cc`, load, run), in both bounds-check modes. Directives that cannot pass yet are on the
//! reviewed list `tests/wast-skips.txt`; a listed directive that starts passing fails this test.
//!
//! The suite is read from `$WELD_TESTSUITE/core` (default: `../shared/testsuite` beside the
//! repository). A missing suite is a failure, not a silent pass.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use weld::wast::{run_files, skips::SkipList, Summary};
use weld::{BoundsChecks, Options};

fn testsuite() -> PathBuf {
    match std::env::var_os("WELD_TESTSUITE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite"),
    }
}

fn wast_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); set WELD_TESTSUITE", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    files
}

fn run_suite(bounds_checks: BoundsChecks) {
    let root = testsuite().join("core");
    assert!(
        root.is_dir(),
        "the core spec suite is missing at {}; set WELD_TESTSUITE",
        root.display()
    );
    let skips =
        SkipList::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wast-skips.txt"))
            .expect("skip list");
    let options = Options {
        bounds_checks,
        ..Options::default()
    };
    let folders = ["", "bulk-memory", "multi-memory", "simd", "memory64"];
    let mut total = Summary::default();
    let mut report = String::new();
    for folder in folders {
        let files = wast_files(&root.join(folder));
        let s = run_files(&files, &skips, &options);
        report.push_str(&format!(
            "{:?} core/{folder}: {} passed, {} failed, {} skipped\n",
            bounds_checks, s.passed, s.failed, s.skipped
        ));
        total += s;
    }
    eprint!("{report}");
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    assert_eq!(total.failed, 0, "spec failures (see above)\n{report}");
    assert!(
        total.passed > 50_000,
        "suspiciously few directives ran\n{report}"
    );
}

#[test]
fn core_spec_suite_passes_with_guard_regions() {
    run_suite(BoundsChecks::Guard);
}

#[test]
fn core_spec_suite_passes_with_explicit_bounds_checks() {
    run_suite(BoundsChecks::Explicit);
}
