//! `weld_host::build` end to end: `examples/rust-static-plugin` compiles a component into its
//! own binary from build.rs (through the `weld` CLI built beside this test) and calls it with
//! Rust types, without loading any file at run time.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use weld_host::TrapCode;

#[test]
fn a_component_compiled_by_build_rs_runs_inside_the_program() {
    // target/<profile>/deps/this-test → target/<profile>/weld
    let exe = std::env::current_exe().unwrap();
    let weld = exe.parent().unwrap().parent().unwrap().join("weld");
    if !weld.is_file() {
        println!(
            "SKIPPED: no weld binary at {} (cargo build --workspace)",
            weld.display()
        );
        return;
    }
    let have_cc = Command::new("cc").arg("--version").output().is_ok();
    if !have_cc {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/rust-static-plugin");
    let target_dir = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("rust-static-plugin");
    let out = Command::new(cargo)
        .args(["run", "-q", "--offline", "--manifest-path"])
        .arg(example.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .args(["--", "static"])
        .env("WELD", &weld)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!(
        "hello, static!\ncalls: 1 and 2\ndiv(1, 0): trap: {}\ndiv(9, 3) = {}\n",
        TrapCode::IntegerDivisionByZero.message(),
        9 / 3
    );
    assert_eq!(stdout, expected);
}
