//! `weld wast`: run `.wast` scripts through the real pipeline.
//!
//! For each script, every module it defines is compiled by weld to an object; the objects are
//! linked by the system `cc` into one shared library, which is loaded with the runtime's loader;
//! then the directives run in order against those modules. Each failure prints one line
//! (`file:line:col: what was expected, what happened`); the run ends with exactly
//! `N passed, N failed, N skipped`, counting directives.
//!
//! Skips come only from a reviewed list (see [`skips`]); a listed directive that passes is a
//! failure, so the list can only shrink.

mod cvalues;
mod script;
pub mod skips;
mod values;

use crate::options::Options;
use std::path::{Path, PathBuf};

/// Counts of one or more scripts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Directives that behaved as the script says.
    pub passed: u64,
    /// Directives that did not.
    pub failed: u64,
    /// Directives on the reviewed skip list that still fail.
    pub skipped: u64,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.skipped += o.skipped;
    }
}

/// Run scripts, print failures and the summary line; `Ok(true)` when nothing failed.
pub fn main(
    files: &[PathBuf],
    skip_file: Option<&Path>,
    options: &Options,
) -> anyhow::Result<bool> {
    let skips = match skip_file {
        Some(p) => skips::SkipList::load(p)?,
        None => skips::SkipList::default(),
    };
    let total = run_files(files, &skips, options);
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    Ok(total.failed == 0)
}

/// Run scripts (printing each failure) and return the counts, including stale whole-file skip
/// entries as failures.
pub fn run_files(files: &[PathBuf], skips: &skips::SkipList, options: &Options) -> Summary {
    let mut total = Summary::default();
    for file in files {
        total += run_file(file, skips, options);
    }
    for stale in skips.unused_entries() {
        println!("{stale}: skip-list entry matched nothing that fails; remove it");
        total.failed += 1;
    }
    total
}

/// Run one script (printing its failures).
pub fn run_file(file: &Path, skips: &skips::SkipList, options: &Options) -> Summary {
    // Run on a thread with a generous stack: deep recursion tests need room beyond the wasm
    // stack budget for the runner itself.
    let file = file.to_path_buf();
    let skips = skips.clone_handle();
    let options = options.clone();
    let r = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || script::run(&file, &skips, &options))
        .map(|h| h.join());
    match r {
        Ok(Ok(s)) => s,
        _ => Summary {
            failed: 1,
            ..Summary::default()
        },
    }
}
