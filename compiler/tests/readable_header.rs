//! The C header of a real WIT component reads as wit-bindgen's C bindings do: the test builds
//! `tests/components/text-lib` (text.wit's world `text-lib` and its core module, made into a
//! component with wit-component, as a WIT toolchain would), compiles it with weld into an object
//! and a header, and builds `host.c`, written against the readable names (records, variants,
//! enums, flags, options, results, the resource `builder` with its constructor, methods and
//! static function, and the world's `log` import), with the system C compiler. Its output must
//! match what a Rust rendition of the interface's documented behaviour predicts.
//!
//! Without a C compiler the test prints `SKIPPED: no C compiler` and passes.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::c::{check_ok, have_cc, repo, run, runtime_archive, WELD};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("tests/components/text-lib")
}

/// text.core.wat with text.wit's world embedded, encoded as a component.
fn build_component(out: &Path) {
    let src = std::fs::read_to_string(fixture().join("text.core.wat")).unwrap();
    let buf = wast::parser::ParseBuffer::new(&src).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let mut module = wat.encode().unwrap();
    let mut resolve = wit_parser::Resolve::default();
    let wit = std::fs::read_to_string(fixture().join("text.wit")).unwrap();
    let pkg = resolve.push_str("text.wit", &wit).unwrap();
    let world = resolve.select_world(&[pkg], Some("text-lib")).unwrap();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .unwrap();
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    std::fs::write(out, component).unwrap();
}

/// What host.c prints, from the behaviour text.wit documents.
fn expected_output() -> Vec<String> {
    let class = |c: char| match c {
        c if c.is_ascii_alphabetic() => "letter",
        c if c.is_ascii_digit() => "digit",
        ' ' => "space",
        _ => "other",
    };
    let span = |s: &str| match s.chars().next() {
        None => format!("first-span(\"{s}\") = none"),
        Some(first) => {
            let len = s.chars().take_while(|c| class(*c) == class(first)).count();
            format!(
                "first-span(\"{s}\") = some {{start: 0, len: {len}, class: {}}}",
                class(first)
            )
        }
    };
    let token = |s: &str| {
        let what = if s.is_empty() {
            "blank".to_string()
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            format!("number {}", s.parse::<u64>().unwrap())
        } else {
            format!("word {s}")
        };
        format!("token-of(\"{s}\") = {what}")
    };
    let digit = |s: &str| {
        let what = match s.parse::<u8>() {
            Ok(d) if s.len() == 1 => format!("ok {d}"),
            _ => "err not a digit".to_string(),
        };
        format!("parse-digit(\"{s}\") = {what}")
    };
    let builder =
        |what: &str, text: &str| format!("{what}: length {}, text \"{text}\"", text.len());
    let hello = "Hello, wit";
    let classes: Vec<&str> = ['A', '7', ' ', '?'].into_iter().map(class).collect();
    vec![
        format!("[log] {hello}"),
        format!("upper = {}", hello.to_ascii_uppercase()),
        format!("classify = {}", classes.join(" ")),
        span("abc12"),
        span(""),
        token(""),
        token("2026"),
        token("wit"),
        digit("7"),
        digit("x"),
        format!("count-styles(bold|underline) = {}", (0b101u32).count_ones()),
        builder("builder(\"ab\").append(\"cd\")", &["ab", "cd"].concat()),
        builder("builder.from-parts(\"x\", \"yz\")", &["x", "yz"].concat()),
    ]
}

/// The arena index `weld inspect` lists the WIT type `name` under.
fn type_index(listing: &str, name: &str) -> String {
    listing
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("type ")?;
            let (index, what) = rest.split_once(": ")?;
            what.starts_with(&format!("{name} of "))
                .then(|| index.to_string())
        })
        .unwrap_or_else(|| panic!("no type {name} in:\n{listing}"))
}

#[test]
fn a_c_host_written_against_wit_names_builds_and_calls_every_kind_of_export() {
    if !have_cc() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("text.wasm");
    build_component(&wasm);
    for (emit, file) in [("header", "tx.h"), ("obj", "tx.o")] {
        let out = run(Command::new(WELD)
            .args(["compile", "--name", "tx", "--emit", emit])
            .arg(&wasm)
            .arg("-o")
            .arg(dir.path().join(file)));
        check_ok(&format!("weld compile --emit {emit}"), &out);
    }
    let header = std::fs::read_to_string(dir.path().join("tx.h")).unwrap();
    for name in [
        "tx_example_text_transform_span_t",
        "tx_example_text_transform_own_builder_t",
        "tx_example_text_transform_borrow_builder_t",
        "TX_EXAMPLE_TEXT_TRANSFORM_STYLE_ITALIC",
    ] {
        assert!(header.contains(name), "{name} missing from:\n{header}");
    }
    assert!(!header.contains("_3A"), "escaped names remain:\n{header}");
    // `weld inspect` tells the same names (its prefix is the file's stem, `text`).
    let out = run(Command::new(WELD).arg("inspect").arg(&wasm));
    check_ok("weld inspect", &out);
    let listing = String::from_utf8_lossy(&out.stdout);
    let span = "type 9: span of example:text/transform@0.1.0 = record { start: u32, len: u32, class: enum { letter, digit, space, other } }\n  C text_example_text_transform_span_t\n  Rust example::text::transform::Span";
    let span = span.replace("type 9", &format!("type {}", type_index(&listing, "span")));
    assert!(listing.contains(&span), "{span}\nnot in:\n{listing}");
    assert!(
        listing.contains("resource 0: builder of example:text/transform@0.1.0\n  Rust example::text::transform::Builder"),
        "{listing}"
    );
    let exe = dir.path().join("host");
    for (lang, std) in [("c", "-std=c11"), ("c++", "-std=c++17")] {
        let mut cc = Command::new(if lang == "c" { "cc" } else { "c++" });
        if lang == "c++" {
            // The header alone, as C++: names must not be C++ keywords.
            let probe = dir.path().join("probe.cc");
            std::fs::write(&probe, "#include \"tx.h\"\nint main() { return 0; }\n").unwrap();
            if Command::new("c++").arg("--version").output().is_err() {
                println!("SKIPPED (C++ part): no c++");
                continue;
            }
            cc.arg(&probe)
                .arg("-c")
                .arg("-o")
                .arg(dir.path().join("probe.o"));
        } else {
            cc.arg(fixture().join("host.c"))
                .arg(dir.path().join("tx.o"))
                .arg(runtime_archive())
                .args(["-lpthread", "-ldl", "-lm", "-o"])
                .arg(&exe);
        }
        let out = run(cc
            .args([std, "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(dir.path())
            .arg("-I")
            .arg(repo().join("runtime-support/include")));
        check_ok(&format!("{lang} compile"), &out);
    }
    let out = run(&mut Command::new(&exe));
    check_ok("host", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got, expected_output(), "full output:\n{stdout}");
}
