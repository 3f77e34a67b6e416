//! `weld wast`: run `.wast` scripts through the real pipeline.
//!
//! For each script, every module it defines is compiled by weld to an object; the objects are
//! linked by the target's `cc` into one shared library; then the directives run in order against
//! those modules — in this process (host target: the library is loaded with the runtime's
//! loader), or on the target through a runner command (cross targets: `weld-wast-run` of the
//! `weld-wast-runner` crate under qemu-user, see [`Exec`]). Each failure prints one line
//! (`file:line:col: what was expected, what happened`); the run ends with exactly
//! `N passed, N failed, N skipped`, counting directives.
//!
//! Skips come only from a reviewed list (see [`skips`]); a listed directive that passes is a
//! failure, so the list can only shrink.

mod script;
pub mod skips;

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

/// Where the directives run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exec {
    /// In this process (the host target only).
    InProcess,
    /// Through a command that runs compiled code for the options' target, given
    /// `SCRIPT PLAN [LIBRARY]` after its own words: e.g.
    /// `["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "target/aarch64-unknown-linux-gnu/release/weld-wast-run"]`.
    Command(Vec<String>),
}

impl Exec {
    /// `InProcess` without a runner command; a command split on whitespace otherwise. Scripts
    /// for another target than the host need a command.
    pub fn for_target(options: &Options, runner: Option<&str>) -> Result<Exec, String> {
        match runner {
            Some(cmd) => {
                let words: Vec<String> = cmd.split_whitespace().map(String::from).collect();
                if words.is_empty() {
                    return Err("--runner is empty".into());
                }
                Ok(Exec::Command(words))
            }
            None if options.target.is_host() => Ok(Exec::InProcess),
            None => Err(format!(
                "scripts compiled for {} cannot run in this process: give --runner \
                 (e.g. \"qemu-aarch64 -L /usr/aarch64-linux-gnu weld-wast-run\")",
                options.target
            )),
        }
    }
}

/// Run scripts, print failures and the summary line; `Ok(true)` when nothing failed.
pub fn main(
    files: &[PathBuf],
    skip_file: Option<&Path>,
    options: &Options,
    exec: &Exec,
) -> anyhow::Result<bool> {
    let skips = match skip_file {
        Some(p) => skips::SkipList::load(p)?,
        None => skips::SkipList::default(),
    };
    let total = run_files(files, &skips, options, exec);
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    Ok(total.failed == 0)
}

/// Run scripts (printing each failure) and return the counts, including stale whole-file skip
/// entries as failures.
pub fn run_files(
    files: &[PathBuf],
    skips: &skips::SkipList,
    options: &Options,
    exec: &Exec,
) -> Summary {
    let mut total = Summary::default();
    for file in files {
        total += run_file(file, skips, options, exec);
    }
    for stale in skips.unused_entries() {
        println!("{stale}: skip-list entry matched nothing that fails; remove it");
        total.failed += 1;
    }
    total
}

/// Run one script (printing its failures).
pub fn run_file(file: &Path, skips: &skips::SkipList, options: &Options, exec: &Exec) -> Summary {
    // Run on a thread with a generous stack: deep recursion tests need room beyond the wasm
    // stack budget for the runner itself.
    let file = file.to_path_buf();
    let skips = skips.clone_handle();
    let options = options.clone();
    let exec = exec.clone();
    let r = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || script::run(&file, &skips, &options, &exec))
        .map(|h| h.join());
    match r {
        Ok(Ok(s)) => s,
        _ => Summary {
            failed: 1,
            ..Summary::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &Path) -> PathBuf {
        let p = dir.join("t.wast");
        std::fs::write(
            &p,
            "(module (func (export \"one\") (result i32) (i32.const 1)))\n\
             (assert_return (invoke \"one\") (i32.const 1))\n",
        )
        .unwrap();
        p
    }

    #[test]
    fn another_target_needs_a_runner_command() {
        let host = Options::default();
        assert_eq!(Exec::for_target(&host, None), Ok(Exec::InProcess));
        let foreign = Options {
            target: crate::Target::new("riscv64gc-unknown-linux-gnu").unwrap(),
            ..Options::default()
        };
        let err = Exec::for_target(&foreign, None).unwrap_err();
        assert!(err.contains("riscv64gc-unknown-linux-gnu") && err.contains("--runner"));
        assert_eq!(
            Exec::for_target(&foreign, Some("qemu-riscv64  -L /x run")),
            Ok(Exec::Command(
                ["qemu-riscv64", "-L", "/x", "run"]
                    .map(String::from)
                    .to_vec()
            ))
        );
        assert!(Exec::for_target(&foreign, Some("  ")).is_err());
    }

    #[test]
    fn a_script_passes_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let s = run_file(
            &script(dir.path()),
            &skips::SkipList::default(),
            &Options::default(),
            &Exec::InProcess,
        );
        assert_eq!((s.passed, s.failed), (2, 0));
    }

    #[test]
    fn a_runner_that_fails_or_answers_garbage_fails_the_script() {
        let dir = tempfile::tempdir().unwrap();
        let file = script(dir.path());
        let skips = skips::SkipList::default();
        let options = Options::default();
        for cmd in [
            vec!["false".to_string()],
            vec!["echo".to_string(), "hello".to_string()],
            vec!["/nonexistent/weld-wast-run".to_string()],
        ] {
            let s = run_file(&file, &skips, &options, &Exec::Command(cmd.clone()));
            assert_eq!((s.passed, s.failed), (0, 1), "{cmd:?}");
        }
    }
}
