//! weld's own `.wast` scripts (`tests/wast/`), end to end in both bounds-check modes, in this
//! process and through the `weld-wast-run` program, and the composed component of `composed-encodings.wast` compiled to one object.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use weld::wast::{run_files, skips::SkipList, Exec};
use weld::{BoundsChecks, Options};

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wast");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    v.sort();
    v
}

#[test]
fn own_scripts_pass_in_both_bounds_check_modes() {
    for bounds_checks in [BoundsChecks::Guard, BoundsChecks::Explicit] {
        let options = Options {
            bounds_checks,
            ..Options::default()
        };
        let s = run_files(&scripts(), &SkipList::default(), &options, &Exec::InProcess);
        assert_eq!(s.failed, 0, "{bounds_checks:?}: {s:?}");
        assert!(s.passed >= 250, "{s:?}");
    }
}

/// The same scripts through the `weld-wast-run` program built for this machine (the way cross
/// targets run them under qemu, `spec_cross.rs`): the plan and result protocol end to end.
#[test]
fn own_scripts_pass_through_the_runner_program() {
    let runner = Path::new(env!("CARGO_BIN_EXE_weld"))
        .parent()
        .unwrap()
        .join("weld-wast-run");
    if !runner.is_file() {
        println!(
            "SKIPPED: {} is not built (cargo build --workspace; make test does)",
            runner.display()
        );
        return;
    }
    let exec = Exec::Command(vec![runner.display().to_string()]);
    let in_process = run_files(
        &scripts(),
        &SkipList::default(),
        &Options::default(),
        &Exec::InProcess,
    );
    let through = run_files(&scripts(), &SkipList::default(), &Options::default(), &exec);
    assert_eq!(through, in_process);
    assert_eq!(through.failed, 0, "{through:?}");
}

#[test]
fn a_composed_component_compiles_to_one_object_with_one_descriptor() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wast/composed-encodings.wast"),
    )
    .unwrap();
    let buf = wast::parser::ParseBuffer::new(&text).unwrap();
    let mut script: wast::Wast = wast::parser::parse(&buf).unwrap();
    let bytes = script
        .directives
        .iter_mut()
        .find_map(|d| match d {
            wast::WastDirective::Module(q) => Some(q.encode().unwrap()),
            _ => None,
        })
        .unwrap();
    let options = Options {
        prefix: "app".into(),
        ..Options::default()
    };
    let obj = weld::compile_component(&bytes, &options).unwrap();
    let file = object::File::parse(&*obj).unwrap();
    let names: Vec<String> = file
        .symbols()
        .filter(|s| s.is_global())
        .map(|s| s.name().unwrap().to_string())
        .collect();
    assert!(names.contains(&"app__component".to_string()), "{names:?}");
    // Three components' core modules (callee 1, utf16 caller 2, compact caller 2), the three
    // adapters of their fused calls and the C host entry of the one root export without
    // strings in another encoding than UTF-8 (`run-oldest-age`), one object.
    let modules = names.iter().filter(|n| n.ends_with("__module")).count();
    assert_eq!(modules, 9, "{names:?}");
    // Same input, same bytes.
    assert_eq!(obj, weld::compile_component(&bytes, &options).unwrap());
}

/// The expectations in weld's own scripts are the spec's, not weld's: Wasmtime passes them too.
#[test]
fn own_scripts_pass_under_wasmtime_wast_where_it_is_installed() {
    if !common::wasmtime_installed() {
        return;
    }
    for script in scripts() {
        // Its `(f64.const ..)` component results are spelled differently by the newer wast
        // crate in Wasmtime 48 (it reads them as core values), not a semantic difference.
        if script.ends_with("fused-scalars.wast") {
            println!(
                "SKIPPED under wasmtime: {} (wast syntax version)",
                script.display()
            );
            continue;
        }
        // Wasmtime traps there too, but spells it "invalid utf8 encoding"; the scripts use the
        // component-model suite's texts ("invalid utf-8", values/strings.wast).
        if script.ends_with("fused-strings.wast") {
            println!(
                "SKIPPED under wasmtime: {} (UTF-8 trap message spelling)",
                script.display()
            );
            continue;
        }
        // Wasmtime passes NaN payloads through a fused call; weld canonicalises them, as the
        // spec's `lift_flat` (`canonicalize_nan32/64`) and its deterministic profile do. The
        // spec's nondeterministic profile allows both, and the script checks the exact bits.
        if script.ends_with("fused-plan.wast") {
            println!(
                "SKIPPED under wasmtime: {} (NaN payloads: both conform, the bits differ)",
                script.display()
            );
            continue;
        }
        let out = std::process::Command::new("wasmtime")
            .args([
                "wast",
                "-W",
                "component-model,component-model-fixed-length-lists,component-model-map",
            ])
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "wasmtime wast {}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
