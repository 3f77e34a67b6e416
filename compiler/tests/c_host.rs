//! The C host path end to end, through the `weld` CLI and the system `cc`: the core-host example
//! (object + header + libweld_runtime.a + host.c) prints results that match a Rust computation
//! and survives traps; `--emit exe` programs exit with `main`'s result or, on a trap, with the
//! documented status and message; generated headers compile and agree with the objects' symbols.
//! Host functions are imported by name and can raise traps with `weld_trap`.
//!
//! Without a C compiler these tests print `SKIPPED: no C compiler` and pass: that is the one
//! environment where they cannot say anything.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{check_ok, have_cc, repo, run, run_example, runtime_archive, WELD};
use std::path::Path;
use std::process::{Command, Output};
use weld_contract::trap::TrapCode;

fn weld(args: &[&str]) -> Output {
    run(Command::new(WELD)
        .args(args)
        .env("WELD_RUNTIME_LIB", runtime_archive()))
}

/// What host.c should print for `name(args)`, computed here.
fn expected(name: &str, args: &[i64], text: &str) -> Option<i64> {
    let fib = |n: i64| {
        (0..n)
            .fold((0i64, 1i64), |(a, b), _| (b, a.wrapping_add(b)))
            .0
    };
    Some(match (name, args) {
        ("add", [a, b]) => i64::from((*a as i32).wrapping_add(*b as i32)),
        ("fib", [n]) => fib(*n),
        ("divide", [a, b]) => i64::from((*a as i32).checked_div(*b as i32)?),
        ("sum_bytes", []) => text.bytes().map(i64::from).sum(),
        _ => return None,
    })
}

#[test]
fn core_host_example_prints_correct_results_and_survives_traps() {
    if !have_cc() {
        return;
    }
    let stdout = run_example("core-host");
    let lines: Vec<&str> = stdout.lines().collect();

    let mut checked = 0;
    let mut trap_at = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some((call, msg)) = line.split_once(": trap: ") {
            if call == "divide(1, 0)" {
                assert_eq!(msg, TrapCode::IntegerDivisionByZero.message(), "{line}");
                trap_at = Some(i);
            } else {
                assert!(call.starts_with("sum_bytes"), "unexpected trap: {line}");
                assert_eq!(msg, TrapCode::MemoryOutOfBounds.message(), "{line}");
            }
            continue;
        }
        let Some((call, value)) = line.split_once(" = ") else {
            continue;
        };
        let (name, rest) = call.split_once('(').unwrap();
        let inner = rest.trim_end_matches(')');
        // sum_bytes("text"): the argument is a string written to memory.
        let (args, text): (Vec<i64>, &str) = if inner.starts_with('"') {
            (Vec::new(), inner.trim_matches('"'))
        } else {
            let args = inner.split(", ").map(|a| a.parse().unwrap()).collect();
            (args, "")
        };
        let got: i64 = value.split_whitespace().next().unwrap().parse().unwrap();
        let want = expected(name, &args, text).unwrap_or_else(|| panic!("unexpected: {line}"));
        assert_eq!(got, want, "{line}");
        checked += 1;
    }
    let trap_at = trap_at.unwrap_or_else(|| panic!("no divide(1, 0) trap in:\n{stdout}"));
    assert!(checked >= 8, "only {checked} results checked in:\n{stdout}");
    let after = lines[trap_at + 1..]
        .iter()
        .filter(|l| l.contains(" = "))
        .count();
    assert!(after >= 2, "no successful calls after the trap:\n{stdout}");
    assert_eq!(lines.last(), Some(&"done"), "{stdout}");
}

#[test]
fn emit_exe_exits_with_main_result_or_the_trap_status() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = |name: &str, wat: &Path| -> Output {
        let path = dir.path().join(name);
        let out = weld(&[
            "compile",
            wat.to_str().unwrap(),
            "--emit",
            "exe",
            "-o",
            path.to_str().unwrap(),
        ]);
        check_ok(&format!("weld compile --emit exe {}", wat.display()), &out);
        run(&mut Command::new(&path))
    };
    let examples = repo().join("examples/core-exe");

    let answer = exe("answer", &examples.join("answer.wat"));
    assert_eq!(answer.status.code(), Some((1..=8).sum::<i32>() + 6));

    let trap_code = weld::emit::header::TRAP_EXIT_CODE;
    let trap = exe("trap", &examples.join("trap.wat"));
    assert_eq!(trap.status.code(), Some(trap_code));
    let backtrace = |frames: &[&str]| -> String {
        let mut s = "wasm backtrace:".to_string();
        for (i, f) in frames.iter().enumerate() {
            s += &format!("\n    {i:>2}: {f}");
        }
        s
    };
    assert_eq!(
        String::from_utf8_lossy(&trap.stderr).trim(),
        format!(
            "trap: {}\n{}",
            TrapCode::MemoryOutOfBounds.message(),
            backtrace(&["trap!read_past_end", "trap!_start"])
        )
    );

    // A trap raised by the runtime (a libcall) names the function that called it; a module
    // without names gets indices and the name weld gave it.
    let fill = dir.path().join("fill.wat");
    std::fs::write(
        &fill,
        "(module (table 1 funcref) \
           (func (table.fill 0 (i32.const 5) (ref.null func) (i32.const 1))) \
           (func (export \"_start\") (call 0)))",
    )
    .unwrap();
    let out = exe("fill", &fill);
    assert_eq!(out.status.code(), Some(trap_code));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "trap: {}\n{}",
            TrapCode::TableOutOfBounds.message(),
            backtrace(&["fill!<wasm function 0>", "fill!<wasm function 1>"])
        )
    );

    // A trap in the start function, during instantiation, is a trap too.
    let start = dir.path().join("start.wat");
    std::fs::write(
        &start,
        "(module $m (func $s unreachable) (start $s) (func (export \"_start\")))",
    )
    .unwrap();
    let out = exe("start", &start);
    assert_eq!(out.status.code(), Some(trap_code));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "trap: {}\n{}",
            TrapCode::Unreachable.message(),
            backtrace(&["m!s"])
        )
    );

    // No entry: one clear error line, no output file.
    let none = dir.path().join("none");
    let out = weld(&[
        "compile",
        repo()
            .join("examples/core-host/module.wat")
            .to_str()
            .unwrap(),
        "--emit",
        "exe",
        "-o",
        none.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"_start\" or \"main\""));
    assert!(!none.exists());
}

/// A module with awkward export names, imports, a v128 export and every C-callable value type.
const AWKWARD: &str = r#"(module
  (import "env" "log" (func (param i32 f64)))
  (import "env" "get" (func (result i64)))
  (memory (export "mem") 1)
  (func (export "free") (param f32) (result f32) local.get 0)
  (func (export "instantiate"))
  (func (export "a-b*/c") (param i64 externref) (result i32 f64) i32.const 1 f64.const 2)
  (func (export "my_fn") (param funcref) (result funcref) local.get 0)
  (func (export "vec") (param v128) (result v128) local.get 0))"#;

#[test]
fn generated_header_compiles_and_matches_the_object() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wat = dir.path().join("awk.wat");
    std::fs::write(&wat, AWKWARD).unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    for (emit, out) in [("header", p("awk.h")), ("obj", p("awk.o"))] {
        let o = weld(&[
            "compile",
            &p("awk.wat"),
            "--emit",
            emit,
            "--name",
            "awk",
            "-o",
            &out,
        ]);
        check_ok(&format!("weld compile --emit {emit}"), &o);
    }
    let header = std::fs::read_to_string(p("awk.h")).unwrap();
    assert!(header.contains("no C entry point"), "{header}");
    assert!(header.contains("\"env\" \"log\": void f(void *ctx, int32_t p0, double p1)"));

    let include = repo().join("runtime-support/include");
    let syntax = run(Command::new("cc")
        .args([
            "-fsyntax-only",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-x",
            "c",
        ])
        .arg("-I")
        .arg(&include)
        .arg(p("awk.h")));
    check_ok("cc -fsyntax-only awk.h", &syntax);

    // Take the address of every declared function: linking proves header and object agree.
    let mut names: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("uint32_t ").or(l.strip_prefix("void ")))
        .chain(
            header
                .lines()
                .filter_map(|l| l.strip_prefix("weld_instance *")),
        )
        .filter_map(|l| l.split_once('(').map(|(n, _)| n))
        .collect();
    names.push("awk__module");
    assert!(names.contains(&"awk_a_2Db_2A_2Fc"), "{names:?}");
    assert!(names.contains(&"awk_free") && names.contains(&"awk__free"));
    let mut c = String::from("#include \"awk.h\"\n#include <stdio.h>\nint main(void) {\n");
    for n in &names {
        c.push_str(&format!("  printf(\"%p\\n\", (void *)&{n});\n"));
    }
    c.push_str("  return 0;\n}\n");
    std::fs::write(p("main.c"), c).unwrap();
    let link = run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror"])
        .arg("-I")
        .arg(&include)
        .arg("-I")
        .arg(dir.path())
        .args([p("main.c"), p("awk.o")])
        .arg(runtime_archive())
        .args(["-lpthread", "-ldl", "-lm", "-o", &p("main")]));
    check_ok("linking main.c with awk.o", &link);
}

const IMPORTS_WAT: &str = r#"(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "boom" (func $boom))
  (func (export "call_twice") (param i32) (result i32) (call $twice (local.get 0)))
  (func (export "boom") (call $boom))
  (tag $e (param i32))
  (func (export "throws") (throw $e (i32.const 1)))
  (func (export "pair") (param i64) (result i32 f64)
    (i32.wrap_i64 (local.get 0)) (f64.const 2.5)))"#;

const IMPORTS_HOST: &str = r#"#include <stdio.h>
#include "imp.h"
static int32_t twice(void *ctx, int32_t x) { (*(int *)ctx)++; return 2 * x; }
static void boom(void *ctx) { (void)ctx; weld_trap(WELD_TRAP_UNREACHABLE); }
int main(void) {
  int calls = 0;
  weld_import imps[] = {{"env", "boom", (void *)boom, NULL},
                        {"env", "twice", (void *)twice, &calls}};
  weld_instance *bad = imp__instantiate(imps, 1);
  printf("missing: %s: %s\n", bad ? "instance" : "NULL", weld_last_error());
  weld_instance *i = imp__instantiate(imps, 2);
  int32_t r = 0;
  double d = 0;
  uint32_t t = imp_call__twice(i, 21, &r);
  printf("twice: %u %d calls=%d\n", t, r, calls);
  t = imp_boom(i);
  printf("boom: %u %s\n", t, weld_trap_message(t));
  t = imp_throws(i);
  printf("throws: %u %s\n", t, weld_trap_message(t));
  t = imp_pair(i, 7, &r, &d);
  printf("pair: %u %d %g\n", t, r, d);
  imp__free(i);
  return 0;
}
"#;

#[test]
fn host_functions_are_imported_by_name_and_can_trap_and_an_uncaught_exception_is_a_trap_code() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("imp.wat"), IMPORTS_WAT).unwrap();
    std::fs::write(p("h.c"), IMPORTS_HOST).unwrap();
    for (emit, out) in [("header", p("imp.h")), ("obj", p("imp.o"))] {
        let o = weld(&[
            "compile",
            &p("imp.wat"),
            "--emit",
            emit,
            "--name",
            "imp",
            "-o",
            &out,
        ]);
        check_ok(&format!("weld compile --emit {emit}"), &o);
    }
    let build = run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror"])
        .arg("-I")
        .arg(repo().join("runtime-support/include"))
        .arg("-I")
        .arg(dir.path())
        .args([p("h.c"), p("imp.o")])
        .arg(runtime_archive())
        .args(["-lpthread", "-ldl", "-lm", "-o", &p("h")]));
    check_ok("building the host", &build);
    let out = run(&mut Command::new(p("h")));
    check_ok("running the host", &out);
    let (unreachable, uncaught) = (TrapCode::Unreachable, TrapCode::UncaughtException);
    // An exception that leaves wasm is an error code, and the instance stays usable.
    let want = format!(
        "missing: NULL: missing import env::twice\ntwice: 0 42 calls=1\nboom: {} {}\n\
         throws: {} {}\npair: 0 7 2.5\n",
        unreachable as u32,
        unreachable.message(),
        uncaught as u32,
        uncaught.message()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}

const GC_WAT: &str = r#"(module
  (type $box (struct (field i64)))
  (func (export "make") (param i64) (result anyref) (struct.new $box (local.get 0)))
  (func (export "get") (param anyref) (result i64)
    (struct.get $box 0 (ref.cast (ref $box) (local.get 0))))
  (func (export "churn") (param $n i32) (local $i i32)
    (loop $l
      (drop (struct.new $box (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "host") (param externref) (result externref) (local.get 0)))
"#;

const GC_HOST: &str = r#"#include <inttypes.h>
#include <stdio.h>
#include "weld.h"
#include "gc.h"

int main(void) {
  weld_instance *inst = gc__instantiate(NULL, 0);
  if (!inst) { printf("instantiate: %s\n", weld_last_error()); return 1; }
  uint64_t made = 0, now = 0;
  int64_t v = 0;
  gc_make(inst, 41, &made);
  uint64_t root = weld_root(inst, made);
  /* 48 MB of garbage: the collector runs and moves the rooted box. */
  gc_churn(inst, 3000000);
  int held = weld_root_get(inst, root, &now);
  gc_get(inst, now, &v);
  printf("held: %d moved: %d value: %" PRId64 "\n", held, now != made, v);
  weld_unroot(inst, root);
  weld_unroot(inst, root);
  printf("given back: %d\n", weld_root_get(inst, root, &now));
  uint64_t back = 0, value = 0;
  void *out = NULL;
  gc_host(inst, (void *)(uintptr_t)weld_externref(1234), &out);
  back = (uint64_t)(uintptr_t)out;
  int is_host = weld_externref_value(back, &value);
  printf("host value: %d %" PRIu64 "\n", is_host, value);
  gc__free(inst);
  return 0;
}
"#;

#[test]
fn a_c_host_keeps_gc_references_across_collections_with_roots() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("gc.wat"), GC_WAT).unwrap();
    std::fs::write(p("h.c"), GC_HOST).unwrap();
    for (emit, out) in [("header", p("gc.h")), ("obj", p("gc.o"))] {
        let o = weld(&[
            "compile",
            &p("gc.wat"),
            "--emit",
            emit,
            "--name",
            "gc",
            "-o",
            &out,
        ]);
        check_ok(&format!("weld compile --emit {emit}"), &o);
    }
    let build = run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror"])
        .arg("-I")
        .arg(repo().join("runtime-support/include"))
        .arg("-I")
        .arg(dir.path())
        .args([p("h.c"), p("gc.o")])
        .arg(runtime_archive())
        .args(["-lpthread", "-ldl", "-lm", "-o", &p("h")]));
    check_ok("building the host", &build);
    let out = run(Command::new(p("h")).env("WELD_GC_STATS", "1"));
    check_ok("running the host", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "held: 1 moved: 1 value: 41\ngiven back: 0\nhost value: 1 1234\n"
    );
}
