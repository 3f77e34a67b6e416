//! Same input and options, byte-identical object (STYLE.md, "Habits"): across repeated
//! compilations and across thread counts, over the largest modules of the core spec suite and a
//! generated module with 500 functions.

#![allow(clippy::panic, clippy::unwrap_used)]

use weld::{BoundsChecks, Options};

mod common;

fn options(threads: usize, bounds_checks: BoundsChecks) -> Options {
    Options {
        threads,
        bounds_checks,
        ..Options::default()
    }
}

/// A module with `n` functions that call each other directly and through a table, touch
/// memory and globals, loop and branch — enough variety that any order-dependence in code
/// generation, relocation or symbol emission would show.
fn generated_module(n: usize) -> Vec<u8> {
    let mut wat = String::from(
        "(module\n (memory 1 4)\n (global $g (mut i64) (i64.const 7))\n (type $t (func (param i32 i64) (result i64)))\n",
    );
    wat.push_str(&format!(" (table {n} funcref)\n (elem (i32.const 0)"));
    for i in 0..n {
        wat.push_str(&format!(" $f{i}"));
    }
    wat.push_str(")\n");
    for i in 0..n {
        let callee = if i == 0 {
            "(local.get 1)".to_string()
        } else if i % 3 == 0 {
            format!(
                "(call_indirect (type $t) (local.get 0) (local.get 1) (i32.const {}))",
                i / 2
            )
        } else {
            format!("(call $f{} (local.get 0) (local.get 1))", i - 1)
        };
        wat.push_str(&format!(
            r#" (func $f{i} (export "f{i}") (type $t)
  (local $acc i64)
  (if (i32.lt_u (local.get 0) (i32.const 2)) (then (return (local.get 1))))
  (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
  (local.set $acc {callee})
  (block $out
    (loop $l
      (br_if $out (i32.eqz (local.get 0)))
      (i64.store offset={off} (i32.and (local.get 0) (i32.const 0xff0))
        (i64.add (local.get $acc) (i64.load (i32.const {i}))))
      (local.set 0 (i32.shr_u (local.get 0) (i32.const 1)))
      (br_table $l $out $l (i32.rem_u (local.get 0) (i32.const 3)))))
  (global.set $g (i64.xor (global.get $g) (local.get $acc)))
  (f64.store (i32.const 64) (f64.mul (f64.convert_i64_s (local.get $acc)) (f64.const {i}.5)))
  (i64.mul (local.get $acc) (i64.const {k})))
"#,
            off = (i * 8) % 4096,
            k = i * 31 + 1,
        ));
    }
    wat.push(')');
    let buf = wast::parser::ParseBuffer::new(&wat).unwrap();
    let mut w: wast::Wat = wast::parser::parse(&buf).unwrap();
    w.encode().unwrap()
}

/// The `count` largest modules of the suite that compile.
fn largest_suite_modules(count: usize) -> Vec<common::Input> {
    let mut inputs = common::suite_modules();
    inputs.sort_by_key(|m| std::cmp::Reverse(m.bytes.len()));
    let largest: Vec<common::Input> = inputs
        .into_iter()
        .filter(|m| weld::frontend::parse_module(&m.bytes).is_ok())
        .take(count)
        .collect();
    for m in &largest {
        eprintln!("{}: {} bytes", m.name, m.bytes.len());
    }
    largest
}

fn assert_same(name: &str, a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let first = a.iter().zip(b).position(|(x, y)| x != y);
        panic!(
            "{name}: {what} differ (lengths {} and {}, first difference at {first:?})",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn compiling_the_same_module_twice_gives_identical_objects() {
    let mut modules: Vec<(String, Vec<u8>)> = largest_suite_modules(4)
        .into_iter()
        .map(|m| (m.name, m.bytes))
        .collect();
    modules.push(("generated 500 functions".into(), generated_module(500)));
    for bounds in [BoundsChecks::Guard, BoundsChecks::Explicit] {
        for (name, bytes) in &modules {
            let opts = options(0, bounds);
            let a = weld::compile_module(bytes, &opts).unwrap();
            let b = weld::compile_module(bytes, &opts).unwrap();
            assert_same(name, &a, &b, &format!("two compilations ({bounds:?})"));
        }
    }
}

#[test]
fn one_thread_and_four_threads_give_identical_objects() {
    let mut modules: Vec<(String, Vec<u8>)> = largest_suite_modules(4)
        .into_iter()
        .map(|m| (m.name, m.bytes))
        .collect();
    modules.push(("generated 500 functions".into(), generated_module(500)));
    for (name, bytes) in &modules {
        let one = weld::compile_module(bytes, &options(1, BoundsChecks::Guard)).unwrap();
        let four = weld::compile_module(bytes, &options(4, BoundsChecks::Guard)).unwrap();
        assert_same(name, &one, &four, "objects from 1 and 4 threads");
    }
}

#[test]
fn the_generated_module_has_500_functions_and_a_large_object() {
    // Guards the test above against comparing trivially small output.
    let bytes = generated_module(500);
    let obj = weld::compile_module(&bytes, &options(0, BoundsChecks::Guard)).unwrap();
    assert!(obj.len() > 100_000, "object is only {} bytes", obj.len());
    let parsed = weld::frontend::parse_module(&bytes).unwrap();
    assert_eq!(parsed.functions.len(), 500);
}

#[test]
fn two_weld_processes_write_identical_objects() {
    // Separate processes get different hash seeds, which in-process runs share in part.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gen.wasm");
    std::fs::write(&input, generated_module(500)).unwrap();
    let mut objects = Vec::new();
    for run in 0..2 {
        let out = dir.path().join(format!("gen{run}.o"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_weld"))
            .arg("compile")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        objects.push(std::fs::read(&out).unwrap());
    }
    assert_same(
        "generated 500 functions",
        &objects[0],
        &objects[1],
        "objects of two runs",
    );
}
