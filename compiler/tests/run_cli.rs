//! `weld run --invoke` end to end: WAVE arguments in, WAVE results out, traps as exit status
//! 134, and the compile cache reused on the second run.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn weld(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .env("WELD_CACHE_DIR", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have_cc() -> bool {
    Command::new("cc").arg("--version").output().is_ok()
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/run")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_component_export_takes_a_wave_string_and_prints_a_wave_result() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let input = fixture("strings.wat");
    let s = "héllo wörld";
    let (code, out, err) = weld(
        cache.path(),
        &["run", "--invoke", &format!("len({s:?})"), &input],
    );
    assert_eq!(code, 0, "{err}");
    // `len` returns the byte length of the UTF-8 string it receives.
    assert_eq!(out.trim(), s.len().to_string());
    // The fused call: `run` passes an 11-byte string from one component to the other.
    let (code, out, _) = weld(cache.path(), &["run", "--invoke", "run()", &input]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "11");
    // Both runs used one cached library.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
}

#[test]
fn core_exports_run_and_traps_exit_with_134() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("m.wat");
    std::fs::write(
        &wat,
        r#"(module
            (func (export "mul") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let (code, out, _) = weld(
        cache.path(),
        &["run", "--invoke", "mul(123456789, 1000)", &wat],
    );
    assert_eq!(code, 0);
    assert_eq!(out.trim(), (123456789i64 * 1000).to_string());
    let (code, _, err) = weld(cache.path(), &["run", "--invoke", "div(1, 0)", &wat]);
    assert_eq!(code, 134);
    assert!(err.contains("integer divide by zero"), "{err}");
}

#[test]
fn gc_references_print_as_what_they_hold_and_null_can_be_passed() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("gc.wat");
    std::fs::write(
        &wat,
        r#"(module
            (type $s (struct (field i32)))
            (type $a (array i8))
            (func (export "s") (result anyref) (struct.new $s (i32.const 5)))
            (func (export "a") (result arrayref) (array.new_default $a (i32.const 3)))
            (func (export "i") (result i31ref) (ref.i31 (i32.const 9)))
            (func (export "n") (result anyref) (ref.null any))
            (func (export "is_null") (param anyref) (result i32) (ref.is_null (local.get 0))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    for (call, want) in [
        ("s()", "(ref.struct)"),
        ("a()", "(ref.array 3)"),
        ("i()", "(ref.i31 9)"),
        ("n()", "null"),
        ("is_null(null)", "1"),
    ] {
        let (code, out, err) = weld(cache.path(), &["run", "--invoke", call, &wat]);
        assert_eq!((code, out.trim()), (0, want), "{call}: {err}");
    }
}

#[test]
fn a_malformed_wave_argument_is_one_error_line() {
    let cache = tempfile::tempdir().unwrap();
    let (code, out, err) = weld(
        cache.path(),
        &["run", "--invoke", "len(1)", &fixture("strings.wat")],
    );
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("position"),
        "{err}"
    );
}

#[test]
fn a_component_importing_what_wasi_does_not_provide_is_refused_unless_told_to_trap() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("unknown-import.wat");
    let exe = dir.path().join("app");
    let exe_s = exe.display().to_string();
    let missing = "does not provide: example:host/api#ping (--trap-unknown-imports";

    // Refused at compile time, naming the import; nothing written.
    let (code, _, err) = weld(cache.path(), &["compile", &input, "-o", &exe_s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(missing), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!exe.exists(), "no output after an error");

    // With the flag the executable runs; the call to the missing import traps, with a
    // backtrace naming the caller.
    let (code, _, err) = weld(
        cache.path(),
        &["compile", "--trap-unknown-imports", &input, "-o", &exe_s],
    );
    assert_eq!(code, 0, "{err}");
    let out = Command::new(&exe).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(134), "{stderr}");
    assert!(
        stderr.starts_with("trap: call to a missing import\nwasm backtrace:\n     0: m!run"),
        "{stderr}"
    );

    // `weld run` refuses the same way, and with the flag runs exports that do not call it.
    let (code, _, err) = weld(cache.path(), &["run", &input]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(missing), "{err}");
    let (code, out, err) = weld(
        cache.path(),
        &[
            "run",
            "--trap-unknown-imports",
            "--invoke",
            "quiet()",
            &input,
        ],
    );
    assert_eq!((code, out.trim()), (0, "7"), "{err}");
    let (code, _, err) = weld(cache.path(), &["run", "--trap-unknown-imports", &input]);
    assert_eq!(code, 134);
    assert!(err.contains("trap: call to a missing import"), "{err}");
}

/// `weld run` of a `tests/run` fixture prints "hello" and "bye" and exits with 0.
fn runs_to_bye(name: &str) {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let (code, out, err) = weld(cache.path(), &["run", &fixture(name)]);
    assert_eq!((code, out.as_str()), (0, "hello\nbye\n"), "{name}: {err}");
}

#[test]
fn a_preview1_program_whose_malloc_owns_the_heap_keeps_the_adapter_state_intact() {
    runs_to_bye("own-heap.wat");
}

#[test]
fn a_preview1_program_whose_heap_starts_in_start_gets_the_adapter_stack_from_it() {
    runs_to_bye("late-heap.wat");
}

/// `weld run --invoke` against `tests/run/invoke.wat`: the outcome and standard output.
fn invoke(cache: &Path, expr: &str) -> (i32, String, String) {
    weld(cache, &["run", "--invoke", expr, &fixture("invoke.wat")])
}

/// What `weld run --invoke` accepts and prints, as `wasmtime run --invoke` does: interface
/// functions by bare name when unambiguous, or spelled `ns:pkg/iface.f@version`; results in
/// wasm-wave's writing (both quotes escaped in strings, `none` fields left out of records, `()`
/// for no results).
const INVOCATIONS: &[(&str, Result<&str, &str>)] = &[
    ("quote()", Ok(r#""it\'s \"q\"\n\té" + "e\u{301}\u{1b}\\""#)),
    ("make-point(-3)", Ok("{x: -3}")),
    ("example:demo/api.make-point@0.1.0(5)", Ok("{x: 5}")),
    ("nothing()", Ok("()")),
    ("twice(21)", Ok("42")),
    ("example:demo/other.count()", Ok("9")),
    ("example:demo/api.count@0.1.0()", Ok("7")),
    (
        "count()",
        Err("Multiple instances contained funcs named `count`, retry with a more specific name: `example:demo/api.count@0.1.0`, `example:demo/other.count`"),
    ),
    ("nope()", Err("No exported func named `nope` in component.")),
];

#[test]
fn invoke_finds_interface_functions_and_prints_results_as_wasmtime_does() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    for (expr, expected) in INVOCATIONS {
        let (code, out, err) = invoke(cache.path(), expr);
        match expected {
            Ok(printed) => {
                // The `" + "` above only splits the literal for reading.
                let printed = printed.replace(r#"" + ""#, "");
                assert_eq!(
                    (code, out.trim_end()),
                    (0, printed.as_str()),
                    "{expr}: {err}"
                );
            }
            Err(message) => {
                assert_eq!(code, 2, "{expr}: {out}");
                let line = err.trim_end();
                assert!(
                    line.starts_with("error: ") && line.contains("invoke.wat"),
                    "{line}"
                );
                assert!(line.ends_with(&format!("--invoke: {message}")), "{line}");
            }
        }
    }
    // A call that does not parse is the caller's mistake, reported with the position (weld's
    // own words: Wasmtime's differ).
    let (code, _, err) = invoke(cache.path(), "twice(21");
    assert_eq!(code, 2);
    assert!(
        err.trim_end()
            .ends_with("--invoke: expected `)` at the end at position 8"),
        "{err}"
    );
}

#[test]
fn invoke_prints_what_wasmtime_prints_for_the_same_calls() {
    let wasmtime = Command::new("wasmtime").arg("--version").output();
    if !wasmtime.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: wasmtime is not installed (make bench installs it)");
        return;
    }
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    for (expr, expected) in INVOCATIONS {
        let theirs = Command::new("wasmtime")
            .args(["run", "--invoke", expr, &fixture("invoke.wat")])
            .output()
            .unwrap();
        let (code, out, err) = invoke(cache.path(), expr);
        let their_err = String::from_utf8_lossy(&theirs.stderr);
        match expected {
            Ok(_) => {
                assert!(theirs.status.success(), "wasmtime {expr}: {their_err}");
                assert_eq!(
                    out,
                    String::from_utf8_lossy(&theirs.stdout),
                    "{expr}: {err}"
                );
            }
            Err(message) => {
                assert!(!theirs.status.success() && code != 0, "{expr}");
                assert!(their_err.contains(message), "wasmtime {expr}: {their_err}");
            }
        }
    }
}

/// `weld run --invoke` of async exports (callback lifts) against `tests/run/async.wat`: the
/// call returns once the task returned, after its callbacks ran; and, where Wasmtime is
/// installed, the same output as `wasmtime run --invoke`.
const ASYNC_INVOCATIONS: &[(&str, &str)] = &[
    ("add(40, 2)", "42\n"),
    // The callback's event code: FUTURE_READ (4), the future it wrote itself.
    ("signal()", "4\n"),
];

#[test]
fn stackful_tasks_interleave_on_fibers_in_a_command_and_its_executable() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let (code, _, err) = weld(cache.path(), &["run", &fixture("fibers.wat")]);
    assert_eq!(code, 0, "weld run: {err}");
    // A wrong expected sum makes the same program exit 1: the status is the check's.
    let bad = cache.path().join("bad.wat");
    let text = std::fs::read_to_string(fixture("fibers.wat")).unwrap();
    std::fs::write(&bad, text.replace("45150", "45151")).unwrap();
    let (code, _, err) = weld(cache.path(), &["run", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "weld run (wrong sum): {err}");
    let exe = cache.path().join("fibers");
    let (code, _, err) = weld(
        cache.path(),
        &[
            "compile",
            &fixture("fibers.wat"),
            "-o",
            exe.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "weld compile: {err}");
    let o = Command::new(&exe).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn threads_hand_over_to_each_other_without_growing_a_stack() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let (code, out, err) = weld(
        cache.path(),
        &["run", "--invoke", "run()", &fixture("ping-pong.wat")],
    );
    assert_eq!((code, out.as_str()), (0, "100000\n"), "{err}");
}

#[test]
fn a_stack_overflow_on_a_fiber_traps_like_any_other() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let (code, out, err) = weld(
        cache.path(),
        &["run", "--invoke", "deep()", &fixture("async.wat")],
    );
    assert_eq!((code, out.as_str()), (134, ""), "{err}");
    assert!(
        err.starts_with("trap: call stack exhausted\nwasm backtrace:\n     0: m!down\n"),
        "{err}"
    );
}

#[test]
fn invoke_runs_async_exports_until_they_return() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    for (expr, expected) in ASYNC_INVOCATIONS {
        let (code, out, err) = weld(
            cache.path(),
            &["run", "--invoke", expr, &fixture("async.wat")],
        );
        assert_eq!((code, out.as_str()), (0, *expected), "{expr}: {err}");
    }
    let wasmtime = Command::new("wasmtime").arg("--version").output();
    if !wasmtime.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED (the comparison): wasmtime is not installed (make bench installs it)");
        return;
    }
    for (expr, expected) in ASYNC_INVOCATIONS {
        let theirs = Command::new("wasmtime")
            .args(["run", "--invoke", expr, &fixture("async.wat")])
            .output()
            .unwrap();
        let their_err = String::from_utf8_lossy(&theirs.stderr);
        assert!(theirs.status.success(), "wasmtime {expr}: {their_err}");
        assert_eq!(String::from_utf8_lossy(&theirs.stdout), *expected, "{expr}");
    }
}
