//! Golden CLIF tests (STYLE.md: Wasmtime's `tests/disas/`): each `tests/disas/*.wat` is a module
//! whose optimised CLIF (`weld::codegen::disas::clif_text`) is stored at the end of the same file
//! as a `;; ` comment block. Options come from `;;! key = "value"` header lines: `bounds_checks`
//! (`guard`, `explicit`), `opt_level` (`none`, `speed`, `speed_and_size`) and `target` (default
//! `x86_64-unknown-linux-gnu`, so the goldens do not depend on the host).
//!
//! `BLESS=1 cargo test -p weld --test disas` rewrites the expectations and prints which files
//! changed.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use weld::{BoundsChecks, Options};

fn disas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/disas")
}

/// The options a file's `;;!` headers ask for.
fn options(path: &Path, text: &str) -> Options {
    let mut options = Options {
        target: weld::Target::new("x86_64-unknown-linux-gnu").unwrap(),
        threads: 1,
        ..Options::default()
    };
    for line in text.lines() {
        let Some(header) = line.strip_prefix(";;!") else {
            continue;
        };
        let (key, value) = header
            .split_once('=')
            .unwrap_or_else(|| panic!("{}: bad header {line:?}", path.display()));
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "bounds_checks" => {
                options.bounds_checks = match value.as_str() {
                    "guard" => BoundsChecks::Guard,
                    "explicit" => BoundsChecks::Explicit,
                    other => panic!("{}: bounds_checks {other:?}", path.display()),
                }
            }
            "opt_level" => {
                options.opt_level = weld::OptLevel::from_name(&value)
                    .unwrap_or_else(|| panic!("{}: opt_level {value:?}", path.display()))
            }
            "target" => options.target = weld::Target::new(&value).unwrap(),
            other => panic!("{}: unknown header {other:?}", path.display()),
        }
    }
    options
}

/// Split a file into its module text and the expected CLIF (the trailing `;;` comment block,
/// which starts after the last line of module text).
fn split(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.lines().collect();
    let last_code = lines
        .iter()
        .rposition(|l| !l.trim().is_empty() && !l.trim_start().starts_with(";;"))
        .unwrap_or(0);
    let module = lines[..=last_code].join("\n") + "\n";
    let mut expected = String::new();
    for line in &lines[last_code + 1..] {
        if line.trim().is_empty() {
            continue;
        }
        let line = line.strip_prefix(";;").unwrap_or(line);
        expected.push_str(line.strip_prefix(' ').unwrap_or(line));
        expected.push('\n');
    }
    (module, expected)
}

/// The module text followed by `clif` as a comment block.
fn blessed(module: &str, clif: &str) -> String {
    let mut out = module.to_string();
    out.push('\n');
    for line in clif.trim_end().lines() {
        if line.is_empty() {
            out.push_str(";;\n");
        } else {
            out.push_str(";; ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn actual_clif(path: &Path, module: &str, options: &Options) -> String {
    let buf = wast::parser::ParseBuffer::new(module)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut wat: wast::Wat =
        wast::parser::parse(&buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = wat
        .encode()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let clif = weld::codegen::disas::clif_text(&bytes, options)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Compare without trailing whitespace, the way the comment block stores it.
    clif.trim_end()
        .lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .filter(|l| l != "\n")
        .collect()
}

#[test]
fn golden_clif_matches_tests_disas() {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v != "0");
    let mut files: Vec<PathBuf> = std::fs::read_dir(disas_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wat"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "only {} golden files", files.len());
    let mut mismatches = Vec::new();
    let mut rewritten = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let options = options(path, &text);
        let (module, expected) = split(&text);
        let actual = actual_clif(path, &module, &options);
        if actual == expected {
            continue;
        }
        if bless {
            std::fs::write(path, blessed(&module, &actual)).unwrap();
            rewritten.push(path.display().to_string());
            continue;
        }
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        mismatches.push(format!(
            "{}: CLIF differs from the expectation at line {} of the block:\n  expected: {:?}\n  actual:   {:?}",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        ));
    }
    for name in &rewritten {
        println!("blessed {name}");
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(rerun with BLESS=1 to accept the new output)",
        mismatches.join("\n")
    );
}

#[test]
fn expectations_survive_a_bless_round_trip() {
    let module = "(module)\n";
    let clif = "function u0:1() {\nblock0:\n    return\n}\n";
    let (m, e) = split(&blessed(module, clif));
    assert_eq!(m, module);
    assert_eq!(e, clif);
}
