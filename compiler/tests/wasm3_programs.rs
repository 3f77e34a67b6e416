//! Wasm 3.0 programs from a real toolchain (`tests/programs/`, built with clang-19 and checked
//! in), compiled by `weld compile X.wasm -o X` into executables and run; also run by
//! `weld run`. Expected outputs are computed here, independently of the programs.
//!
//! `tail-interp`: a threaded-code interpreter whose handlers `musttail`-call each other
//! (`-mtail-call`: wasm `return_call_indirect`), running a Collatz program of ~180 million
//! instructions. Every instruction is one tail call; without frames being replaced the wasm
//! stack would be exhausted within thousands.
//!
//! `memory64-sum`: a freestanding wasm64 C module (64-bit memory) that grows its memory to 5 GiB
//! past its heap base, writes a word per MiB and checksums them, through `weld run --invoke`.
//!
//! `sjlj`: C setjmp/longjmp lowered to Wasm exceptions (clang-19 `-mllvm -wasm-enable-sjlj`,
//! then binaryen's `--translate-to-exnref`): longjmp out of 1,000+-frame recursion and out of
//! a qsort comparator inside wasi-libc, thousands of times.
//!
//! `throw-catch`: a million exceptions thrown ten frames below a `try_table` and caught there
//! (hand-written WAT: see its Makefile rule), as an executable.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn weld() -> &'static str {
    env!("CARGO_BIN_EXE_weld")
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/programs")
        .join(name)
}

/// The sum of the Collatz stopping times of 1..=n, and how many instructions `tail-interp`'s
/// program runs for it: two to start, per number a move, four per step plus a final test, the
/// increment and loop test, and the halt.
fn collatz(n: u64) -> (u64, u64) {
    let mut steps = 0;
    for start in 1..=n {
        let mut x = start;
        while x != 1 {
            x = if x % 2 == 1 { 3 * x + 1 } else { x / 2 };
            steps += 1;
        }
    }
    (steps, 3 + 4 * n + 5 * steps)
}

fn expected_output(n: u64) -> String {
    let (steps, ran) = collatz(n);
    format!("collatz steps for 1..{n}: {steps}\ninstructions run: {ran}\n")
}

fn check(what: &str, out: std::process::Output, expected: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout == expected,
        "{what}: status {:?}\n--- stdout\n{stdout}--- expected\n{expected}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `weld compile tests/programs/<name>.wasm -o <dir>/<name>`: the executable.
fn compile_exe(name: &str, dir: &Path) -> PathBuf {
    let exe = dir.join(name);
    let out = Command::new(weld())
        .arg("compile")
        .arg(program(&format!("{name}.wasm")))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "weld compile {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

#[test]
fn a_tail_calling_interpreter_runs_180_million_tail_calls_as_an_executable() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile_exe("tail-interp", dir.path());
    let n = 300_000;
    let (_, ran) = collatz(n);
    assert!(
        ran > 100_000_000,
        "{ran} instructions is not tail-call heavy"
    );
    let out = Command::new(&exe).arg(n.to_string()).output().unwrap();
    check("executable", out, &expected_output(n));
}

#[test]
fn a_tail_calling_interpreter_runs_under_weld_run() {
    let n = 20_000;
    let out = Command::new(weld())
        .arg("run")
        .arg(program("tail-interp.wasm"))
        .arg(n.to_string())
        .output()
        .unwrap();
    check("weld run", out, &expected_output(n));
}

/// `memory64-sum.c`'s checksum over `gib` gibibytes: word `i` (every 1 MiB) holds
/// `i * 0x9e3779b97f4a7c15`, and the words plus their indices are xor-ed together.
fn memory64_checksum(gib: u64) -> u64 {
    let words = (gib << 30) / 8;
    (0..words).step_by((1 << 20) / 8).fold(0u64, |sum, i| {
        sum ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(i)
    })
}

#[test]
fn a_c_program_with_a_64_bit_memory_uses_5_gib_past_the_4_gib_line() {
    let out = Command::new(weld())
        .arg("run")
        .arg("--invoke")
        .arg("touch_above_4gib(5)")
        .arg(program("memory64-sum.wasm"))
        .output()
        .unwrap();
    // WAVE prints a wasm i64, signed.
    let expected = format!("{}\n", memory64_checksum(5) as i64);
    check("weld run --invoke", out, &expected);
}

#[test]
fn a_million_exceptions_are_thrown_through_ten_frames_and_caught_in_an_executable() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile_exe("throw-catch", dir.path());
    let n: u64 = 1_000_000;
    let expected = format!("round trips: {n}\npayload sum: {}\n", n * (n - 1) / 2);
    check(
        "executable",
        Command::new(&exe).output().unwrap(),
        &expected,
    );
}

/// What `sjlj.c` prints after `rounds` rounds: the values its longjmps carried and the frames
/// its recursion made.
fn sjlj_output(rounds: i64) -> String {
    let deep: i64 = (0..rounds).map(|r| (r & 0xff) + 1).sum();
    let frames: i64 = (0..rounds).map(|r| 1000 + r % 100 + 1).sum();
    // qsort compares every element, so a poison value inside the array (below 64) is met;
    // longjmp turns a value of 0 into 1.
    let sorted: i64 = (0..rounds)
        .map(|r| match r % 128 {
            0 => 1,
            p if p < 64 => p,
            _ => -1,
        })
        .sum();
    format!(
        "rounds: {rounds}\nlongjmp from depth, sum: {deep}\nframes: {frames}\n\
         longjmp from qsort, sum: {sorted}\n"
    )
}

#[test]
fn c_longjmp_leaves_deep_recursion_and_a_libc_callback_as_an_executable() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile_exe("sjlj", dir.path());
    let out = Command::new(&exe).arg("5000").output().unwrap();
    check("executable", out, &sjlj_output(5000));
}

#[test]
fn c_longjmp_runs_under_weld_run() {
    let out = Command::new(weld())
        .arg("run")
        .arg(program("sjlj.wasm"))
        .arg("300")
        .output()
        .unwrap();
    check("weld run", out, &sjlj_output(300));
}
