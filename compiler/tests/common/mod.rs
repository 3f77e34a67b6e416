//! Shared by the integration tests: the core spec suite's modules, encoded; the C toolchain
//! helpers ([`c`]). Each test crate uses part of it.

#![allow(clippy::panic, clippy::unwrap_used, dead_code)]

pub mod c;
pub mod cross;
pub mod spec;

use std::path::{Path, PathBuf};

/// The spec test suite: `$WELD_TESTSUITE`, default `../shared/testsuite` beside the repository.
pub fn testsuite() -> PathBuf {
    match std::env::var_os("WELD_TESTSUITE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite"),
    }
}

/// Whether the `wasmtime` CLI (the reference engine) runs here; prints why a test is skipped
/// when it does not.
pub fn wasmtime_installed() -> bool {
    let have = std::process::Command::new("wasmtime")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        println!("SKIPPED: wasmtime is not installed (make bench installs it)");
    }
    have
}

/// One module of the suite: where it came from and its binary encoding.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

fn wast_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); set WELD_TESTSUITE", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            wast_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "wast") {
            out.push(p);
        }
    }
}

/// Every `(module ...)` of `core/**/*.wast` that `wast` can encode, in a fixed order.
pub fn suite_modules() -> Vec<Input> {
    use wast::parser::{self, ParseBuffer};
    use wast::{lexer::Lexer, Wast, WastDirective};

    let root = testsuite().join("core");
    assert!(
        root.is_dir(),
        "the core spec suite is missing at {}; set WELD_TESTSUITE",
        root.display()
    );
    let mut files = Vec::new();
    wast_files(&root, &mut files);
    let mut inputs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lexer = Lexer::new(&text);
        lexer.allow_confusing_unicode(true);
        // Files this pinned `wast` cannot parse are the spec runner's business, not ours.
        let Ok(buf) = ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(script) = parser::parse::<Wast>(&buf) else {
            continue;
        };
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for directive in script.directives {
            if let WastDirective::Module(mut m) = directive {
                let (line, _) = m.span().linecol_in(&text);
                if let Ok(bytes) = m.encode() {
                    inputs.push(Input {
                        name: format!("{rel}:{}", line + 1),
                        bytes,
                    });
                }
            }
        }
    }
    inputs
}

/// Write `objects` (symbol prefix, object bytes) into `dir`, link them into one shared library
/// there and load it.
pub fn load_objects(dir: &Path, objects: &[(&str, &[u8])]) -> weld_runtime::Library {
    let mut paths = Vec::new();
    for (name, obj) in objects {
        let p = dir.join(format!("{name}.o"));
        std::fs::write(&p, obj).unwrap();
        paths.push(p);
    }
    let so = dir.join("objects.so");
    weld::link::link(
        &paths,
        &so,
        weld::link::OutputKind::SharedLib,
        weld::options::host_triple(),
        &[],
    )
    .unwrap();
    weld_runtime::Library::open(&so).unwrap()
}
