//! Bad input at the command line (issue 2, "Bad input"): each failure is one line on stderr
//! that starts with `error:` and names the file (and the byte offset when there is one), the exit
//! code is 1 or 2 (never a panic's 101), and no output file — not even a temporary one — is left
//! behind.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn wat(src: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(src).unwrap();
    let mut w: wast::Wat = wast::parser::parse(&buf).unwrap();
    w.encode().unwrap()
}

const VALID: &str = r#"(module
    (memory 1)
    (func (export "add") (param i32 i32) (result i32)
        local.get 0
        local.get 1
        i32.add))"#;

/// A directory holding one input file.
struct Case {
    dir: tempfile::TempDir,
    input: PathBuf,
}

impl Case {
    fn new(name: &str, bytes: &[u8]) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        Case { dir, input }
    }

    fn output(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run `weld compile INPUT -o OUT extra...` with `env`, and check everything a failure must
    /// satisfy. Returns the error line.
    fn compile_fails(&self, out: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.output(out);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weld"));
        cmd.arg("compile").arg(&self.input).arg("-o").arg(&out);
        cmd.args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let run = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        let code = run.status.code();
        assert!(
            matches!(code, Some(1 | 2)),
            "exit code {code:?} (expected 1 or 2); stderr:\n{stderr}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got:\n{stderr}"
        );
        let line = lines[0].to_string();
        assert!(line.starts_with("error: "), "{line}");
        let name = self.input.display().to_string();
        assert!(
            line.contains(&name),
            "the error does not name {name}: {line}"
        );
        assert!(!out.exists(), "{} was left behind", out.display());
        assert_eq!(
            leftovers(self.dir.path(), &self.input),
            Vec::<String>::new(),
            "files left behind next to the input"
        );
        line
    }
}

/// Names of the files in `dir` other than `input`.
fn leftovers(dir: &Path, input: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != input)
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_has_offset(line: &str) {
    assert!(line.contains("byte offset 0x"), "no byte offset in: {line}");
}

#[test]
fn a_valid_module_compiles_and_leaves_only_the_object() {
    // The control case: the checks below fail for the right reason.
    let case = Case::new("ok.wasm", &wat(VALID));
    let out = case.output("ok.o");
    let run = Command::new(env!("CARGO_BIN_EXE_weld"))
        .arg("compile")
        .arg(&case.input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stderr.is_empty());
    assert_eq!(leftovers(case.dir.path(), &case.input), vec!["ok.o"]);
}

#[test]
fn a_missing_input_file_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Case {
        input: dir.path().join("missing.wasm"),
        dir,
    };
    let line = missing.compile_fails("missing.o", &[], &[]);
    assert!(line.contains("No such file"), "{line}");
}

#[test]
fn a_truncated_module_reports_the_offset_and_writes_nothing() {
    let bytes = wat(VALID);
    for cut in [9, bytes.len() / 2, bytes.len() - 1] {
        let case = Case::new("cut.wasm", &bytes[..cut]);
        let line = case.compile_fails("cut.o", &[], &[]);
        assert!(line.contains("invalid WebAssembly"), "cut at {cut}: {line}");
        assert_has_offset(&line);
    }
}

#[test]
fn a_bit_flipped_module_reports_the_offset_and_writes_nothing() {
    let mut bytes = wat(VALID);
    // `i32.add` (0x6a) becomes `i64.add` (0x7c): valid encoding, invalid types.
    let at = bytes.iter().rposition(|b| *b == 0x6a).unwrap();
    bytes[at] ^= 0x6a ^ 0x7c;
    let case = Case::new("flipped.wasm", &bytes);
    let line = case.compile_fails("flipped.o", &[], &[]);
    assert!(line.contains("invalid WebAssembly"), "{line}");
    assert!(
        line.contains(&format!("byte offset {at:#x}")),
        "offset of the flipped byte ({at:#x}) not named: {line}"
    );
}

#[test]
fn a_flipped_bit_in_the_magic_is_one_error_line() {
    let mut bytes = wat(VALID);
    bytes[1] ^= 0x01;
    let case = Case::new("magic.wasm", &bytes);
    case.compile_fails("magic.o", &[], &[]);
}

/// Found by the hostile-input campaign: wasmparser spells a bad magic number of a nested module
/// as pretty-printed arrays over several lines.
#[test]
fn a_component_whose_core_module_has_a_bad_magic_is_one_error_line() {
    let mut bytes = wat(r#"(component (core module (func (export "f"))))"#);
    let nested = bytes[8..].windows(4).position(|w| w == b"\0asm").unwrap() + 8;
    bytes[nested + 1] ^= 0xff;
    for emit in ["obj", "component"] {
        let case = Case::new("nested.wasm", &bytes);
        let line = case.compile_fails("out", &["--emit", emit], &[]);
        assert!(line.contains("magic"), "{line}");
        assert_has_offset(&line);
    }
}

#[test]
fn an_invalid_component_is_one_error_line() {
    // A lift whose core function has the wrong type.
    let bytes = wat(r#"(component
        (core module $m (func (export "f") (param i64)))
        (core instance $i (instantiate $m))
        (func (export "f") (param "x" u32) (canon lift (core func $i "f"))))"#);
    let case = Case::new("comp.wasm", &bytes);
    let line = case.compile_fails("comp.o", &[], &[]);
    assert!(line.contains("invalid"), "{line}");
    assert_has_offset(&line);
}

#[test]
fn a_component_is_compiled_to_one_object() {
    let case = Case::new("ok.wasm", &wat("(component)"));
    let out = case.output("ok.o");
    let run = Command::new(env!("CARGO_BIN_EXE_weld"))
        .arg("compile")
        .arg(&case.input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.is_file());
}

#[test]
fn an_unsupported_feature_names_the_construct_and_offset() {
    let case = Case::new("shared.wasm", &wat("(module (memory 1 1 shared))"));
    let line = case.compile_fails("shared.o", &[], &[]);
    assert!(line.contains("unsupported"), "{line}");
    assert!(line.contains("threads proposal"), "{line}");
    assert_has_offset(&line);
}

#[test]
fn a_failing_linker_leaves_no_shared_library_or_temporary_file() {
    let case = Case::new("link.wasm", &wat(VALID));
    let line = case.compile_fails("link.so", &["--emit", "sharedlib"], &[("WELD_CC", "false")]);
    assert!(line.contains("linking failed"), "{line}");
}

#[test]
fn a_missing_linker_leaves_no_shared_library_or_temporary_file() {
    let case = Case::new("nolink.wasm", &wat(VALID));
    let line = case.compile_fails(
        "nolink.so",
        &["--emit", "sharedlib"],
        &[("WELD_CC", "/nonexistent/weld-test-cc")],
    );
    assert!(line.contains("WELD_CC"), "{line}");
}

/// The offset in an error line (`byte offset 0x..`).
fn offset_of(line: &str) -> usize {
    let hex = line
        .split("byte offset 0x")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_hexdigit()).next())
        .unwrap_or_else(|| panic!("no byte offset in: {line}"));
    usize::from_str_radix(hex, 16).unwrap()
}

#[test]
fn an_invalid_preview1_module_is_reported_at_its_own_offsets() {
    // Such a module is compiled as a component with the preview1 adapter; its errors must
    // still point into the file the user gave, for every kind of output.
    let bytes = wat(r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "_start") i64.const 0))"#);
    let case = Case::new("bad.wasm", &bytes);
    for (out, extra) in [
        ("bad", &[][..]),
        ("bad.so", &[][..]),
        ("bad.component.wasm", &["--emit", "component"][..]),
    ] {
        let line = case.compile_fails(out, extra, &[]);
        assert!(line.contains("type mismatch"), "{line}");
        let at = offset_of(&line);
        // Found at the function's `end`, the module's last byte.
        assert!(
            at + 1 == bytes.len() && bytes[at] == 0x0b,
            "offset {at:#x} is not the body's `end` in the {} bytes of the module: {line}",
            bytes.len()
        );
    }
}
