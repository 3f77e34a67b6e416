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

/// `weld` with the picture laid out by weld itself (`WELD_DOT=0`), whether or not Graphviz is
/// installed, so that the committed pictures are the same everywhere.
fn weld(args: &[&str]) -> String {
    weld_env(args, &[("WELD_DOT", "0")])
}

fn weld_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weld"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
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
fn the_committed_example_pictures_are_up_to_date() {
    for example in ["policy", "graph"] {
        let dir = tempfile::tempdir().unwrap();
        let svg = dir.path().join("graph.svg");
        let app = root().join(format!("examples/{example}/app.wat"));
        weld(&[
            "inspect",
            app.to_str().unwrap(),
            "-o",
            svg.to_str().unwrap(),
        ]);
        let fresh = std::fs::read_to_string(&svg).unwrap();
        let committed = root().join(format!("examples/{example}/graph.svg"));
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&committed, &fresh).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&committed).unwrap_or_default(),
            fresh,
            "examples/{example}/graph.svg is stale (BLESS=1 redraws it)"
        );
    }
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

/// The picture of `examples/graph/app.wat` (three components calling each other, all three
/// importing WASI 0.2): `weld inspect -o x.svg [--expand]`, parsed.
fn picture(expand: bool) -> (String, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    let app = root().join("examples/graph/app.wat");
    let mut args = vec![
        "inspect",
        app.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ];
    if expand {
        args.push("--expand");
    }
    weld(&args);
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let size = |a: &str| {
        doc.root_element()
            .attribute(a)
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let (w, h) = (size("width"), size("height"));
    (text, w, h)
}

/// The texts of the `<g class="{class}">` groups: `(title, [texts])`, and their boxes.
fn groups(text: &str, class: &str) -> Vec<(String, Vec<String>, [f64; 4])> {
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split_whitespace().any(|t| t == class))
        })
        .map(|g| {
            let title = g
                .children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .unwrap_or("")
                .to_string();
            let texts = g
                .descendants()
                .filter(|c| c.has_tag_name("text"))
                .filter_map(|t| t.text().map(str::to_string))
                .collect();
            let r = g.children().find(|c| c.has_tag_name("rect"));
            let num = |a: &str| {
                r.and_then(|r| r.attribute(a))
                    .map_or(0.0, |v| v.parse().unwrap())
            };
            (
                title,
                texts,
                [num("x"), num("y"), num("width"), num("height")],
            )
        })
        .collect()
}

#[test]
fn the_picture_groups_wasi_interfaces_and_fits_its_content() {
    let bytes = wast::parser::parse::<wast::Wat>(
        &wast::parser::ParseBuffer::new(
            &std::fs::read_to_string(root().join("examples/graph/app.wat")).unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
    .encode()
    .unwrap();
    let (_, graph) = weld::component::graph(&bytes).unwrap();
    let interfaces: Vec<&String> = graph.hosts.keys().collect();
    assert!(interfaces.len() >= 4 && interfaces.iter().all(|i| i.starts_with("wasi:")));

    let (text, width, height) = picture(false);
    // One host node, "WASI 0.2", listing every interface without the package prefix.
    let hosts = groups(&text, "host");
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    let (_, lines, _) = &hosts[0];
    assert_eq!(lines[0], "WASI 0.2");
    let expected: Vec<String> = interfaces
        .iter()
        .map(|i| {
            i.trim_start_matches("wasi:")
                .trim_end_matches("@0.2.0")
                .to_string()
        })
        .collect();
    assert_eq!(lines[1..], expected[..]);
    // Components left to right as the calls go: app calls textlib, which calls chars.
    let components = groups(&text, "component");
    let x = |name: &str| {
        components
            .iter()
            .find(|(_, t, _)| t[0] == name)
            .unwrap_or_else(|| panic!("no {name} node"))
            .2[0]
    };
    assert!(x("app") < x("textlib") && x("textlib") < x("chars"));
    // Edge labels count functions; the tooltip lists them all.
    let edges = groups(&text, "edge");
    let to_host = edges
        .iter()
        .find(|(title, _, _)| title.contains("cli/exit"))
        .expect("app's calls to the host");
    assert_eq!(to_host.1, ["3 interfaces · 4 functions"]);
    assert!(
        to_host
            .0
            .contains("clocks/monotonic-clock: now, resolution"),
        "{}",
        to_host.0
    );
    assert!(edges
        .iter()
        .any(|(_, t, _)| t.iter().any(|l| l == "strings utf8 → utf16")));
    // The canvas fits its content: every box inside it, no more than a margin around them.
    let boxes: Vec<[f64; 4]> = hosts.iter().chain(&components).map(|g| g.2).collect();
    let right = boxes.iter().map(|b| b[0] + b[2]).fold(0.0, f64::max);
    let bottom = boxes.iter().map(|b| b[1] + b[3]).fold(0.0, f64::max);
    assert!(boxes.iter().all(|b| b[0] >= 0.0 && b[1] >= 0.0));
    assert!(right <= width && bottom <= height, "{width}x{height}");
    assert!(
        width < 1400.0 && height < 700.0,
        "{width}x{height}: mostly empty"
    );
    assert!(text.contains("font-size: 14px"), "readable at 100%");

    // --expand: a node per interface.
    let (expanded, _, _) = picture(true);
    assert_eq!(groups(&expanded, "host").len(), interfaces.len());
}

#[test]
fn graphviz_draws_the_same_grouping_where_it_is_installed() {
    if !Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("SKIPPED: Graphviz (dot) is not installed; the picture is laid out by weld");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("graph.svg");
    let app = root().join("examples/graph/app.wat");
    weld_env(
        &[
            "inspect",
            app.to_str().unwrap(),
            "-o",
            svg.to_str().unwrap(),
        ],
        &[],
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("Generated by graphviz"), "dot drew it");
    let hosts = groups(&text, "host");
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].1[0], "WASI 0.2");
    // The tooltips are weld's, not Graphviz's node names.
    assert!(
        hosts[0].0.contains("wasi:cli/exit@0.2.0 (1 function)"),
        "{}",
        hosts[0].0
    );
    let edges = groups(&text, "edge");
    assert!(edges
        .iter()
        .any(|(t, _, _)| t.contains("clocks/monotonic-clock: now, resolution")));
    assert_eq!(groups(&text, "component").len(), 3);
}
