//! Native tools see the program: every compiled wasm function carries a local function symbol
//! spelled as weld's trap backtraces spell it (`trap.wasm!main`), beside its injective
//! `<prefix>__m<N>__func<I>` label. The frames weld's own backtrace prints are the reference:
//! addr2line names each of those functions' addresses with the same text, and gdb's `bt` (batch
//! mode, no debug information needed) lists the same frames in the same order.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{have_cc, repo, WELD};
use object::{Object, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `examples/wasi-c/trap.wasm` as an executable, in a temporary directory.
fn trap_exe(dir: &Path) -> PathBuf {
    let exe = dir.join("trap");
    let out = Command::new(WELD)
        .arg("compile")
        .arg(repo().join("examples/wasi-c/trap.wasm"))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// The function names of the wasm backtrace `trap oob` prints, innermost first.
fn weld_backtrace(exe: &Path) -> Vec<String> {
    let out = Command::new(exe).arg("oob").output().unwrap();
    assert_eq!(out.status.code(), Some(134), "the program traps");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let frames: Vec<String> = stderr
        .lines()
        .skip_while(|l| *l != "wasm backtrace:")
        .skip(1)
        .filter_map(|l| Some(l.trim().split_once(": ")?.1.to_string()))
        .collect();
    assert!(frames.len() >= 3, "a backtrace of a few frames:\n{stderr}");
    frames
}

fn tool(name: &str) -> bool {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: {name} is not installed");
    }
    ok
}

#[test]
fn addr2line_names_each_backtrace_frame_as_weld_does() {
    if !have_cc() || !tool("addr2line") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = trap_exe(dir.path());
    let frames = weld_backtrace(&exe);
    let bytes = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    for frame in &frames {
        let sym = file
            .symbols()
            .find(|s| s.name() == Ok(frame.as_str()))
            .unwrap_or_else(|| panic!("no symbol {frame:?}"));
        assert_eq!(sym.kind(), SymbolKind::Text, "{frame}");
        assert!(sym.size() > 0, "{frame} has a size");
        // The injective label is at the same place.
        assert!(
            file.symbols()
                .any(|s| s.address() == sym.address()
                    && s.name().is_ok_and(|n| n.contains("__func"))),
            "{frame}: no injective symbol beside it"
        );
        let middle = sym.address() + sym.size() / 2;
        let out = Command::new("addr2line")
            .arg("-f")
            .arg("-e")
            .arg(&exe)
            .arg(format!("{middle:#x}"))
            .output()
            .unwrap();
        let named = String::from_utf8_lossy(&out.stdout);
        assert_eq!(named.lines().next(), Some(frame.as_str()), "at {middle:#x}");
    }
}

#[test]
fn gdb_backtraces_show_the_wasm_frames_weld_reports() {
    if !have_cc() || !tool("gdb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = trap_exe(dir.path());
    let frames = weld_backtrace(&exe);
    let out = Command::new("gdb")
        .args([
            "-batch",
            "-nx",
            "-ex",
            "set print demangle off",
            "-ex",
            "run oob",
            "-ex",
            "bt",
        ])
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    if errors.contains("ptrace: Operation not permitted") {
        println!("SKIPPED: gdb may not trace processes here (ptrace refused)");
        return;
    }
    // `#0  0x... in trap.wasm!store_far ()`
    let gdb_frames: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(" in ")?
                .1
                .rsplit_once(" (")
                .map(|(name, _)| name)
        })
        .collect();
    assert!(
        gdb_frames.len() >= frames.len(),
        "gdb said:\n{text}{errors}"
    );
    assert_eq!(
        &gdb_frames[..frames.len()],
        frames.iter().map(String::as_str).collect::<Vec<_>>(),
        "gdb said:\n{text}"
    );
}
