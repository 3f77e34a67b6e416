//! `weld compile -g`: the DWARF clang `-g` puts in a wasm module, translated for the native
//! code. gdb (batch mode) stops at a line of the C source, names the C functions in `bt` with
//! their lines, and steps to the next line; without `-g` the code is the same and the object
//! carries no debug sections. The program is `tests/programs/debug.c`; the lines asserted are
//! found by the markers in its comments.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{have_cc, repo, WELD};
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::process::Command;

fn program() -> PathBuf {
    repo().join("tests/programs/debug.wasm")
}

/// The 1-based line of `debug.c` holding `marker`.
fn line_of(marker: &str) -> usize {
    let source = std::fs::read_to_string(repo().join("tests/programs/debug.c")).unwrap();
    source
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} in debug.c"))
        + 1
}

fn weld(args: &[&str], out: &Path) {
    let o = Command::new(WELD)
        .args(args)
        .arg(program())
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn gdb_stops_at_a_c_line_names_c_functions_and_steps() {
    if !have_cc() {
        return;
    }
    if !Command::new("gdb")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("SKIPPED: gdb is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("debug");
    weld(&["compile", "-g"], &exe);
    // It still runs: the sum of the squares of 1..=10.
    let run = Command::new(&exe).output().unwrap();
    let expected: u32 = (1..=10).map(|i| i * i).sum();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("sum of squares: {expected}")
    );

    let square = line_of("LINE_SQUARE");
    let call = line_of("LINE_CALL");
    let in_main = line_of("sum_squares(10)");
    let out = Command::new("gdb")
        .args(["-batch", "-nx"])
        .args([
            "-ex",
            &format!("break debug.c:{square}"),
            "-ex",
            "run",
            "-ex",
            "bt 3",
        ])
        .args(["-ex", "next", "-ex", "info line"])
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    if errors.contains("ptrace: Operation not permitted") {
        println!("SKIPPED: gdb may not trace processes here (ptrace refused)");
        return;
    }
    assert!(
        text.contains(&format!("Breakpoint 1, square () at debug.c:{square}")),
        "the breakpoint at the C line is hit:\n{text}{errors}"
    );
    let frames: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert!(frames.len() >= 3, "{text}");
    assert!(
        frames[0].contains(&format!("square () at debug.c:{square}")),
        "{text}"
    );
    assert!(
        frames[1].contains(&format!("sum_squares () at debug.c:{call}")),
        "{text}"
    );
    assert!(
        frames[2].contains(&format!("main () at debug.c:{in_main}")),
        "{text}"
    );
    // `next` goes on to the following line of square.
    assert!(
        text.contains(&format!("Line {} of \"debug.c\"", square + 1)),
        "next steps to the next line:\n{text}"
    );
}

#[test]
fn without_g_the_code_is_the_same_and_no_debug_sections_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.o");
    let debug = dir.path().join("debug.o");
    weld(&["compile", "--emit", "obj"], &plain);
    weld(&["compile", "--emit", "obj", "-g"], &debug);
    let plain_bytes = std::fs::read(&plain).unwrap();
    let debug_bytes = std::fs::read(&debug).unwrap();
    let plain = object::File::parse(&*plain_bytes).unwrap();
    let debug = object::File::parse(&*debug_bytes).unwrap();
    let names = |f: &object::File| -> Vec<String> {
        f.sections()
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect()
    };
    assert!(
        !names(&plain).iter().any(|n| n.starts_with(".debug")),
        "{:?}",
        names(&plain)
    );
    for wanted in [".debug_info", ".debug_line", ".debug_abbrev"] {
        assert!(
            names(&debug).iter().any(|n| n == wanted),
            "{wanted}: {:?}",
            names(&debug)
        );
    }
    let text = |f: &object::File| f.section_by_name(".text").unwrap().data().unwrap().to_vec();
    assert_eq!(text(&plain), text(&debug), "-g changes no code");
}
