//! `weld inspect` on composed graphs matches the golden outputs in `tests/inspect/golden/`: the
//! text listing, `--format json`, `--format dot` and `--reach`, for every graph below. Run with
//! `BLESS=1` to rewrite the goldens after an intended change (and review the diff).
//!
//! Also: the SVG picture is well-formed XML, and the DOT text is accepted by Graphviz's `dot`
//! where it is installed.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The graphs: (golden name, input relative to the repository root).
const GRAPHS: &[(&str, &str)] = &[
    ("policy-app", "examples/policy/app.wat"),
    ("policy-app-leaky", "examples/policy/app-leaky.wat"),
    ("nested", "tests/inspect/nested.wat"),
    ("composed-encodings", "tests/wast/composed-encodings.wast"),
];

/// A `.wat` as is; the first component of a `.wast` script, encoded into `dir`.
fn input(dir: &Path, rel: &str) -> PathBuf {
    let path = root().join(rel);
    if path.extension().is_some_and(|e| e == "wat") {
        return path;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let buf = wast::parser::ParseBuffer::new(&text).unwrap();
    let mut script: wast::Wast = wast::parser::parse(&buf).unwrap();
    for d in script.directives.iter_mut() {
        if let wast::WastDirective::Module(q) = d {
            let out = dir.join(format!(
                "{}.wasm",
                path.file_stem().unwrap().to_string_lossy()
            ));
            std::fs::write(&out, q.encode().unwrap()).unwrap();
            return out;
        }
    }
    panic!("{rel}: no component");
}

fn weld(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "weld {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compare `actual` with the golden file, or rewrite it under `BLESS=1`.
fn golden(name: &str, actual: &str) -> Option<String> {
    let path = root().join("tests/inspect/golden").join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{name} differs from {} (BLESS=1 rewrites it):\n{actual}",
            path.display()
        )
    })
}

#[test]
fn inspect_text_json_dot_and_reach_match_the_goldens() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, rel) in GRAPHS {
        let input = input(dir.path(), rel);
        let input = input.to_str().unwrap();
        let outputs = [
            ("txt", weld(&["inspect", input])),
            ("json", weld(&["inspect", "--format", "json", input])),
            ("dot", weld(&["inspect", "--format", "dot", input])),
            ("reach.txt", weld(&["inspect", "--reach", input])),
        ];
        for (ext, actual) in outputs {
            failures.extend(golden(&format!("{name}.{ext}"), &actual));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_svg_picture_is_well_formed_and_names_every_component() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    let app = root().join("examples/policy/app.wat");
    weld(&[
        "inspect",
        app.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let words: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    for name in [
        "app",
        "logic",
        "pii-store",
        "example:log/sink",
        "utf8 → utf16",
    ] {
        assert!(words.contains(name), "{name} missing from the picture");
    }
}

#[test]
fn the_committed_example_picture_is_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    let app = root().join("examples/policy/app.wat");
    weld(&[
        "inspect",
        app.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    let fresh = std::fs::read_to_string(&svg).unwrap();
    let committed = root().join("examples/policy/graph.svg");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&committed, &fresh).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&committed).unwrap(),
        fresh,
        "examples/policy/graph.svg is stale (BLESS=1 redraws it)"
    );
}

#[test]
fn graphviz_accepts_the_dot_output_where_it_is_installed() {
    let has_dot = Command::new("dot").arg("-V").output().is_ok();
    if !has_dot {
        println!("SKIPPED: Graphviz `dot` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, rel) in GRAPHS {
        let input = input(dir.path(), rel);
        let gv = dir.path().join(format!("{name}.dot"));
        std::fs::write(
            &gv,
            weld(&["inspect", "--format", "dot", input.to_str().unwrap()]),
        )
        .unwrap();
        let out = Command::new("dot")
            .args(["-Tsvg", "-o"])
            .arg(dir.path().join(format!("{name}.svg")))
            .arg(&gv)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dot rejected {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
