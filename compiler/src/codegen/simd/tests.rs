//! Compile-only tests: every module of the SIMD and relaxed-SIMD spec tests must get through
//! translation, the Cranelift verifier (on in debug builds) and x86-64 and aarch64 lowering, with
//! either relaxed-SIMD lowering.

use crate::{Error, Options, RelaxedSimd};
use std::path::PathBuf;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, Wat};

fn compile(bytes: &[u8]) -> Result<(), Error> {
    compile_for(bytes, &Options::default())
}

fn compile_for(bytes: &[u8], options: &Options) -> Result<(), Error> {
    let parsed = crate::frontend::parse_module(bytes)?;
    crate::codegen::compile_module(&parsed, options).map(|_| ())
}

fn compile_wat(src: &str) {
    let buf = ParseBuffer::new(src).expect("lex");
    let mut wat = parser::parse::<Wat>(&buf).expect("parse");
    let bytes = wat.encode().expect("encode");
    assert_eq!(compile(&bytes).map_err(|e| e.to_string()), Ok(()));
}

fn testsuite() -> PathBuf {
    match std::env::var_os("WELD_TESTSUITE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite"),
    }
}

#[test]
fn simd_small_module() {
    compile_wat(
        r#"(module (memory 1)
          (func (param v128 v128) (result v128)
            (i32x4.add (local.get 0) (local.get 1)))
          (func (param v128 i32) (result v128)
            (select (i16x8.add (local.get 0) (local.get 0))
                    (f64x2.mul (local.get 0) (local.get 0)) (local.get 1)))
          (func (param i32) (result v128)
            (v128.load16_lane offset=3 5 (local.get 0) (v128.load8x8_s (local.get 0)))))"#,
    );
}

/// Every module of `core/simd/*.wast` and `core/relaxed-simd/*.wast` compiles for the host
/// (modules that fail validation excepted).
#[test]
fn simd_spec_modules_compile() {
    spec_modules_compile(&Options::default());
}

/// The same for aarch64, to catch operators its backend cannot lower.
#[test]
fn simd_spec_modules_compile_aarch64() {
    spec_modules_compile(&Options {
        target: crate::Target::new("aarch64-unknown-linux-gnu").unwrap(),
        ..Options::default()
    });
}

/// Deterministic relaxed SIMD lowers on both targets (x86-64 without FMA takes libcalls).
#[test]
fn simd_spec_modules_compile_with_deterministic_relaxed_simd() {
    for target in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        spec_modules_compile(&Options {
            target: crate::Target::new(target).unwrap(),
            relaxed_simd: RelaxedSimd::Deterministic,
            ..Options::default()
        });
    }
}

fn spec_files(folder: &str) -> Vec<PathBuf> {
    let dir = testsuite().join("core").join(folder);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; set WELD_TESTSUITE", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    files
}

fn spec_modules_compile(options: &Options) {
    let mut files = spec_files("simd");
    files.extend(spec_files("relaxed-simd"));
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let src = std::fs::read_to_string(file).expect("read");
        let Ok(buf) = ParseBuffer::new(&src) else {
            continue;
        };
        let wast = match parser::parse::<Wast>(&buf) {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{}: parse: {e}", file.display()));
                continue;
            }
        };
        for d in wast.directives {
            let mut m: QuoteWat<'_> = match d {
                WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => m,
                _ => continue,
            };
            let Ok(bytes) = m.encode() else {
                continue;
            };
            count += 1;
            match compile_for(&bytes, options) {
                Ok(()) | Err(Error::Invalid { .. }) => {}
                Err(e) => failures.push(format!("{}: {e}", file.display())),
            }
        }
    }
    eprintln!(
        "{}: {count} modules from {} files",
        options.target,
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {count} modules failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
