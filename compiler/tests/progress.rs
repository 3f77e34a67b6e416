//! `weld compile` shows its progress on a terminal and nowhere else: under `script` (a pseudo
//! terminal) the bar counts compiled functions up to a total and is cleared at the end; with
//! stderr a pipe nothing is printed.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{repo, WELD};
use std::process::Command;

fn wordfreq() -> std::path::PathBuf {
    repo().join("examples/wasi-cpp/wordfreq.wasm")
}

#[test]
fn a_compile_on_a_terminal_counts_functions_and_clears_its_bar() {
    let have_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_script {
        println!("SKIPPED: no `script` (util-linux) to give weld a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "{WELD} compile {} -o {} --emit obj",
        wordfreq().display(),
        dir.path().join("w.o").display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        // From the start, not only after a moment: this compile is quick.
        .env("WELD_PROGRESS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    // `weld: compiling ████░░░░ 123/786 functions (0s)`, redrawn in place.
    let counts: Vec<(u64, u64)> = screen
        .split("weld: compiling")
        .skip(1)
        .filter_map(|draw| {
            let before = draw.split(" functions").next()?;
            let (done, total) = before.rsplit(' ').next()?.split_once('/')?;
            Some((done.parse().ok()?, total.parse().ok()?))
        })
        .collect();
    assert!(
        counts.len() >= 2,
        "a bar was drawn and redrawn:\n{screen:?}"
    );
    let total = counts[0].1;
    assert!(total > 100, "wordfreq has hundreds of functions");
    assert!(counts.iter().all(|(_, t)| *t == total));
    assert!(
        counts.windows(2).all(|w| w[0].0 <= w[1].0),
        "the count only grows"
    );
    // The bar is gone when weld ends: the last thing written clears the line.
    assert!(
        screen.trim_end_matches(['\r', '\n']).ends_with("\u{1b}[2K"),
        "{screen:?}"
    );
}

#[test]
fn a_compile_with_stderr_not_a_terminal_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(WELD)
        .arg("compile")
        .arg(wordfreq())
        .arg("-o")
        .arg(dir.path().join("w.o"))
        .env("WELD_PROGRESS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
