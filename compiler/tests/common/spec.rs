//! Running the core spec suite through `weld::wast` (in this process or through a runner
//! command), against the reviewed skip list `tests/wast-skips.txt`.

use super::testsuite;
use std::path::{Path, PathBuf};
use weld::wast::{run_files, skips::SkipList, Exec, Summary};
use weld::Options;

/// The folders of `core/` every target with SIMD runs (`""` is `core/` itself).
pub const FOLDERS: [&str; 8] = [
    "",
    "bulk-memory",
    "gc",
    "multi-memory",
    "simd",
    "relaxed-simd",
    "memory64",
    "exceptions",
];

/// The same without the SIMD folders, for riscv64 (no V extension).
pub const FOLDERS_WITHOUT_SIMD: [&str; 6] = [
    "",
    "bulk-memory",
    "gc",
    "multi-memory",
    "memory64",
    "exceptions",
];

/// The `.wast` files directly in `dir`, sorted.
fn wast_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); set WELD_TESTSUITE", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    files
}

/// Run `core/<folder>/*.wast` for each of `folders` (`""` is `core/` itself) with `options`
/// through `exec`; fail on any failing directive or when fewer than `at_least` passed.
pub fn run_core_suite(
    label: &str,
    options: &Options,
    exec: &Exec,
    folders: &[&str],
    at_least: u64,
) {
    let root = testsuite().join("core");
    assert!(
        root.is_dir(),
        "the core spec suite is missing at {}; set WELD_TESTSUITE",
        root.display()
    );
    let skips =
        SkipList::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wast-skips.txt"))
            .expect("skip list");
    let mut total = Summary::default();
    let mut report = String::new();
    for folder in folders {
        let files = wast_files(&root.join(folder));
        let s = run_files(&files, &skips, options, exec);
        report.push_str(&format!(
            "{label} core/{folder}: {} passed, {} failed, {} skipped\n",
            s.passed, s.failed, s.skipped
        ));
        total += s;
    }
    eprint!("{report}");
    println!(
        "{label}: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    assert_eq!(total.failed, 0, "spec failures (see above)\n{report}");
    assert!(
        total.passed >= at_least,
        "suspiciously few directives ran\n{report}"
    );
}
