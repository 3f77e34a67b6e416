//! The component C host path end to end, through the `weld` CLI and the system `cc`: the
//! component-host example (object + generated header + libweld_runtime.a + host.c) prints
//! results that match a Rust computation, calls the host's import and survives a trap; and the
//! C types of a generated component header have exactly the sizes, alignments and member offsets
//! the contract's `clayout` computes (the layout the runtime reads and writes).
//!
//! Without a C compiler these tests print `SKIPPED: no C compiler` and pass.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{check_ok, have_cc, repo, run, run_example};
use std::process::Command;
use weld_contract::component::clayout::CLayouts;
use weld_contract::component::{ComponentInfo, FuncTy, HostImport, TypeDef};
use weld_contract::trap::TrapCode;

/// host.c's inputs: the items it passes to `summarize` and `scale`.
const ITEMS: &[(&str, u32)] = &[("apple", 3), ("banana", 5), ("kiwi", 7), ("cherry", 11)];

/// What host.c must print, computed from the component's documented behaviour.
fn expected_output() -> Vec<String> {
    let greet = |n: &str| format!("Hello, {n}!");
    let total: u32 = ITEMS.iter().map(|i| i.1).fold(0, u32::wrapping_add);
    // The first of the longest names.
    let longest = ITEMS.iter().fold(
        "",
        |best, (n, _)| if n.len() > best.len() { n } else { best },
    );
    let scaled: Vec<String> = ITEMS
        .iter()
        .map(|(n, q)| format!("{{name: \"{n}\", qty: {}}}", q.wrapping_mul(10)))
        .collect();
    // welcome(name) logs the host's stamp of the greeting and returns its length.
    let welcome = format!("[#1] {}", greet("component model"));
    vec![
        format!("greet(\"weld\") = \"{}\"", greet("weld")),
        format!(
            "greet(<not UTF-8>): trap: {}",
            TrapCode::InvalidUtf8.message()
        ),
        format!(
            "summarize(...) = {{count: {}, total: {total}, longest: \"{longest}\"}}",
            ITEMS.len()
        ),
        format!("scale(..., 10) = [{}]", scaled.join(", ")),
        format!("[host log] {welcome}"),
        format!(
            "welcome(\"component model\") = {} (log calls: 1)",
            welcome.len()
        ),
        format!("divide(8) = {}", 1000 / 8),
        format!(
            "divide(0): trap: {}",
            TrapCode::IntegerDivisionByZero.message()
        ),
        format!(
            "divide(4) after the trap: trap: {}",
            TrapCode::CannotEnterComponent.message()
        ),
        format!("divide(4) on a new instance = {}", 1000 / 4),
    ]
}

#[test]
fn component_host_example_passes_strings_lists_and_records_both_ways_and_survives_a_trap() {
    if !have_cc() {
        return;
    }
    let stdout = run_example("component-host");
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, expected_output(), "full output:\n{stdout}");
}

#[test]
fn plugin_host_example_loads_a_checked_plugin_at_run_time_and_refuses_another_world() {
    if !have_cc() {
        return;
    }
    let stdout = run_example("plugin-host");
    let got: Vec<&str> = stdout.lines().collect();
    // Instance i greets i + 1 times: its own count, not shared with the others.
    let mut expected: Vec<String> = (0..3).map(|i| format!("hello, instance {i}!")).collect();
    expected.extend((0..3).map(|i| format!("instance {i}: {} calls", i + 1)));
    expected.push(format!(
        "instance 0: div(1, 0): {}",
        TrapCode::IntegerDivisionByZero.message()
    ));
    expected.push(format!("instance 1: div(84, 2) = {}", 84 / 2));
    expected.push("other plugin: refused".into());
    assert_eq!(got[..expected.len()], expected, "full output:\n{stdout}");
    let reason = got[expected.len()..].join("\n");
    assert!(
        reason.contains("differs from the expected one")
            && reason.contains("export greet: func(n: u32) -> u32"),
        "{reason}"
    );
}

/// A component description using every kind of interface type (no resources), as imports.
fn all_shapes() -> ComponentInfo {
    use TypeDef::*;
    let s = |x: &str| x.to_string();
    let types = vec![
        U8,                                                  // 0
        U64,                                                 // 1
        String,                                              // 2
        Record(vec![(s("a"), 0), (s("b"), 1), (s("c"), 2)]), // 3
        List(3),                                             // 4
        Variant(vec![
            (s("none"), None),
            (s("x"), Some(0)),
            (s("y"), Some(1)),
        ]), // 5
        Enum(vec![s("red"), s("green")]),                    // 6
        Flags((0..40).map(|i| format!("f{i}")).collect()),   // 7
        Flags(vec![s("read"), s("write")]),                  // 8
        Option(1),                                           // 9
        Result {
            ok: Some(2),
            err: Some(0),
        }, // 10
        Result {
            ok: None,
            err: None,
        }, // 11
        F64,                                                 // 12
        Tuple(vec![0, 12, 2]),                               // 13
        U16,                                                 // 14
        List(14),                                            // 15
        List(15),                                            // 16
        Record(vec![
            (s("inner"), 3),
            (s("int"), 13),
            (s("tags"), 16),
            (s("e"), 6),
        ]), // 17
        Char,                                                // 18
        Option(18),                                          // 19
        Variant(vec![(s("p"), Some(17)), (s("q"), Some(9))]), // 20
        Result {
            ok: Some(19),
            err: None,
        }, // 21
        FixedList { elem: 3, len: 3 },                       // 22
        Tuple(vec![2, 15]),                                  // 23
        Map { entry: 23 },                                   // 24
        FixedList { elem: 14, len: 5 },                      // 25
    ];
    let params: Vec<(std::string::String, u32)> = (2..types.len() as u32)
        .map(|t| (format!("p{t}"), t))
        .collect();
    ComponentInfo {
        types,
        func_types: vec![FuncTy {
            params,
            result: Some(20),
            async_: false,
        }],
        imports: vec![HostImport {
            name: s("wasi:test/shapes@0.1.0#take-all"),
            ty: 0,
        }],
        ..ComponentInfo::default()
    }
}

#[test]
fn generated_component_header_types_have_the_contract_c_layout() {
    if !have_cc() {
        return;
    }
    let info = all_shapes();
    let dir = tempfile::tempdir().unwrap();
    let names = weld::component::wit_names::WitNames::none(&info);
    let header = weld::emit::component_header::write_component_header(&info, &names, "shapes");
    std::fs::write(dir.path().join("shapes.h"), header).unwrap();
    let probe = format!(
        "#include \"shapes.h\"\n{}",
        weld::emit::component_header::layout_probe(&info, &names, "shapes")
    );
    let c = dir.path().join("probe.c");
    std::fs::write(&c, probe).unwrap();
    let exe = dir.path().join("probe");
    let cc = run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(dir.path())
        .arg("-I")
        .arg(repo().join("runtime-support/include"))
        .arg(&c)
        .arg("-o")
        .arg(&exe));
    check_ok("cc probe.c", &cc);
    let out = run(&mut Command::new(&exe));
    check_ok("probe", &out);
    let layouts = CLayouts::native(&info.types);
    let mut seen = 0;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut words = line.split_whitespace();
        let t: u32 = words.next().unwrap()[1..].parse().unwrap();
        let nums: Vec<u32> = words.map(|w| w.parse().unwrap()).collect();
        let l = layouts.get(t);
        let mut want = vec![l.size, l.align];
        match &info.types[t as usize] {
            TypeDef::Record(_) | TypeDef::Tuple(_) => want.extend(layouts.field_offsets(t)),
            TypeDef::Map { entry } => want.extend(layouts.field_offsets(*entry)),
            _ => want.extend(
                layouts
                    .variant(t)
                    .filter(|_| nums.len() > 2)
                    .map(|v| v.payload_offset),
            ),
        }
        assert_eq!(
            nums, want,
            "type {t} ({:?}): C says {line}",
            info.types[t as usize]
        );
        seen += 1;
    }
    // Every non-primitive type got a C type and was probed.
    assert_eq!(seen, 21, "probed types");
}

/// host.c for `tests/components/async-host.wat`: the generated `_start`/`_poll`/`_wait`/
/// `_cancel` wrappers of its async exports.
const ASYNC_HOST_C: &str = r#"#include <stdio.h>
#include "ah.h"
int main(void) {
  weld_component *inst = ah__instantiate(NULL, 0);
  if (!inst) { printf("instantiate: %s\n", weld_last_error()); return 1; }
  uint32_t r = 0;
  weld_async_call *c = NULL;
  printf("linger start %u\n", ah_linger_start(inst, &c));
  printf("linger poll %u", ah_linger_poll(inst, c, &r));
  printf(" -> %u\n", r);
  printf("patient start %u\n", ah_patient_start(inst, &c));
  printf("patient poll %#x\n", ah_patient_poll(inst, c, &r));
  printf("patient cancel %#x\n", ah_patient_cancel(inst, c, &r));
  printf("count %u", ah_count(inst, &r));
  printf(" -> %u\n", r);
  printf("stuck start %u\n", ah_stuck_start(inst, &c));
  printf("stuck wait %u\n", ah_stuck_wait(inst, c, &r));
  ah__free(inst);
  return 0;
}
"#;

#[test]
fn a_c_host_starts_polls_cancels_and_waits_for_async_exports() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wat = repo().join("tests/components/async-host.wat");
    for (emit, out) in [("obj", "ah.o"), ("header", "ah.h")] {
        let o = run(Command::new(env!("CARGO_BIN_EXE_weld"))
            .args(["compile", "--name", "ah", "--emit", emit])
            .arg(&wat)
            .arg("-o")
            .arg(dir.path().join(out)));
        check_ok(&format!("weld compile --emit {emit}"), &o);
    }
    let c = dir.path().join("host.c");
    std::fs::write(&c, ASYNC_HOST_C).unwrap();
    let exe = dir.path().join("host");
    let cc = run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(dir.path())
        .arg("-I")
        .arg(repo().join("runtime-support/include"))
        .arg(&c)
        .arg(dir.path().join("ah.o"))
        .arg(common::c::runtime_archive())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe));
    check_ok("cc host.c", &cc);
    let out = run(&mut Command::new(&exe));
    check_ok("host", &out);
    let expected = format!(
        "linger start 0\nlinger poll 0 -> 7\npatient start 0\npatient poll {:#x}\n\
         patient cancel {:#x}\ncount 0 -> 1\nstuck start 0\nstuck wait {}\n",
        weld_runtime::capi_component::WELD_CALL_PENDING,
        weld_runtime::capi_component::WELD_CALL_CANCELLED,
        TrapCode::AsyncDeadlock as u32
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
