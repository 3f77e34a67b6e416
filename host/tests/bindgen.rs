//! `weld_host::bindgen!` end to end: `examples/rust-bindgen` makes the text-lib component
//! (tests/components/text-lib) in its build script, compiles it into the program with weld and
//! the bindings weld generates (`weld compile --emit rust`), and calls every export through
//! them: records, variants, enums, flags, options, results, the resource `builder`, and the
//! world's `log` import implemented as a Rust trait. The output must match what a Rust model of
//! text.wit's documented behaviour predicts.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

/// What the example prints, from text.wit's documentation.
fn expected() -> String {
    let class = |c: char| match c {
        c if c.is_ascii_alphabetic() => "Letter",
        c if c.is_ascii_digit() => "Digit",
        ' ' => "Space",
        _ => "Other",
    };
    let first = "abc12";
    let run = first
        .chars()
        .take_while(|c| class(*c) == class('a'))
        .count();
    let token = |s: &str| match s {
        "" => "Blank".to_string(),
        s if s.bytes().all(|b| b.is_ascii_digit()) => {
            format!("Number({})", s.parse::<u64>().unwrap())
        }
        s => format!("Word({s:?})"),
    };
    let digit = |s: &str| match s.parse::<u8>() {
        Ok(d) if s.len() == 1 => format!("Ok({d})"),
        _ => format!("Err({:?})", "not a digit"),
    };
    let classes: Vec<&str> = "A7 ?".chars().map(class).collect();
    let mut lines = vec![
        "[log] Hello, wit".to_string(),
        format!("upper = {}", "Hello, wit".to_ascii_uppercase()),
        format!("classify = [{}]", classes.join(", ")),
        format!(
            "first-span(\"abc12\") = Some(Span {{ start: 0, len: {run}, class: {} }})",
            class('a')
        ),
    ];
    for s in ["", "2026", "wit"] {
        lines.push(format!("token-of({s:?}) = {}", token(s)));
    }
    for s in ["7", "x"] {
        lines.push(format!("parse-digit({s:?}) = {}", digit(s)));
    }
    lines.push(format!(
        "count-styles(bold|underline) = {} (italic: false)",
        0b101u32.count_ones()
    ));
    lines.push(format!("builder: length 4, text {:?}", "abcd"));
    lines.push(format!("from-parts: text {:?}", "xyz"));
    lines.push("log lines: 1".into());
    lines.join("\n") + "\n"
}

#[test]
fn generated_bindings_call_every_kind_of_export_with_rust_types() {
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
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/rust-bindgen");
    let target_dir = exe.ancestors().nth(3).unwrap().join("rust-bindgen");
    let out = Command::new(cargo)
        .args(["run", "-q", "--offline", "--manifest-path"])
        .arg(example.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("WELD", &weld)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, expected());
}
