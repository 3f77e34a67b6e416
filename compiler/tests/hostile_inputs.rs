//! No input makes the compiler panic. Every module of the core spec suite is mutated
//! deterministically — truncated, bit-flipped, its LEB128 length fields overwritten with huge
//! values, its sections duplicated, dropped and reordered — and fed to `weld::compile_module`
//! inside `catch_unwind`; a panic fails the test naming the input file, line and mutation. Hand-made
//! inputs push on the implementation limits (deep nesting, many locals, a huge `br_table`).
//!
//! `WELD_HOSTILE_CASES` (default 50000) sets the number of mutated inputs and `WELD_HOSTILE_SEED`
//! the seed of the xorshift generator, so a failure is reproduced by rerunning with the same pair.
//! The suite is read from `$WELD_TESTSUITE/core` (default: `../shared/testsuite` beside the
//! repository).

#![allow(clippy::panic, clippy::unwrap_used)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;
use weld::{BoundsChecks, Error, Options};

mod common;
use common::suite_modules;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// xorshift64* — small, fixed, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Positions of the LEB128 numbers that give lengths and counts: each section's size, the first
/// number inside it (the item count of vector sections), and each function body's size.
fn length_fields(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        let size_at = pos + 1;
        let Some((size, n)) = read_leb(bytes, size_at) else {
            break;
        };
        out.push(size_at);
        let body = size_at + n;
        let end = body.saturating_add(size as usize).min(bytes.len());
        if body < end {
            out.push(body);
        }
        if id == 10 {
            // Code section: count, then (size, body) pairs.
            if let Some((count, n)) = read_leb(bytes, body) {
                let mut at = body + n;
                for _ in 0..count {
                    let Some((len, n)) = read_leb(bytes, at) else {
                        break;
                    };
                    out.push(at);
                    at = at + n + len as usize;
                    if at >= end {
                        break;
                    }
                }
            }
        }
        pos = end;
    }
    out
}

/// Section byte ranges (header included) after the 8-byte preamble.
fn sections(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let Some((size, n)) = read_leb(bytes, pos + 1) else {
            break;
        };
        let end = (pos + 1 + n).saturating_add(size as usize);
        if end > bytes.len() {
            break;
        }
        out.push(pos..end);
        pos = end;
    }
    out
}

fn read_leb(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let start = at;
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(at)?;
        v |= u64::from(b & 0x7f) << shift;
        at += 1;
        if b & 0x80 == 0 {
            return Some((v, at - start));
        }
        shift += 7;
        if shift > 35 {
            return None;
        }
    }
}

fn leb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// Apply one mutation chosen by `rng`; returns its description and the mutated bytes.
fn mutate(bytes: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let len = bytes.len();
    match rng.below(8) {
        0 => {
            let cut = rng.below(len + 1);
            (format!("truncate at {cut}"), bytes[..cut].to_vec())
        }
        1 => {
            // Truncation points that matter: the header, and just inside the end.
            let cut = [
                0,
                4,
                8,
                9,
                len / 2,
                len.saturating_sub(1),
                len.saturating_sub(2),
            ][rng.below(7)]
            .min(len);
            (format!("truncate at {cut}"), bytes[..cut].to_vec())
        }
        2 | 3 => {
            let mut out = bytes.to_vec();
            let flips = 1 + rng.below(4);
            let mut what = Vec::new();
            for _ in 0..flips {
                if out.len() <= 8 {
                    break;
                }
                // Leave the preamble alone most of the time so the mutation reaches the parser.
                let at = 8 + rng.below(out.len() - 8);
                let bit = rng.below(8);
                out[at] ^= 1 << bit;
                what.push(format!("{at}.{bit}"));
            }
            (format!("flip bits {}", what.join(",")), out)
        }
        4 => {
            let fields = length_fields(bytes);
            if fields.is_empty() {
                return (
                    format!("truncate at {}", len / 2),
                    bytes[..len / 2].to_vec(),
                );
            }
            let at = fields[rng.below(fields.len())];
            let (_, n) = read_leb(bytes, at).unwrap();
            let huge = [
                u64::from(u32::MAX),
                u64::from(u32::MAX) - 1,
                0x7fff_ffff,
                0x1000_0000,
                len as u64 + 1,
                0,
            ][rng.below(6)];
            // Either splice the canonical encoding, or keep the length with an overlong one.
            let enc = if rng.below(2) == 0 {
                leb(huge)
            } else {
                vec![0xff, 0xff, 0xff, 0xff, 0x0f]
            };
            let mut out = bytes[..at].to_vec();
            out.extend_from_slice(&enc);
            out.extend_from_slice(&bytes[at + n..]);
            (format!("length field at {at} := {enc:02x?}"), out)
        }
        5 => {
            let mut out = bytes.to_vec();
            if out.len() > 8 {
                let at = 8 + rng.below(out.len() - 8);
                let v = [0x00, 0xff, 0x80, 0x7f, 0x40, 0x01][rng.below(6)];
                out[at] = v;
                return (format!("byte {at} := {v:#04x}"), out);
            }
            ("unchanged".into(), out)
        }
        _ => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return ("unchanged".into(), bytes.to_vec());
            }
            let mut order: Vec<usize> = (0..secs.len()).collect();
            let what = match rng.below(4) {
                0 => {
                    let i = rng.below(secs.len());
                    order.insert(i, i);
                    format!("duplicate section #{i}")
                }
                1 => {
                    let i = rng.below(secs.len());
                    order.remove(i);
                    format!("drop section #{i}")
                }
                2 => {
                    let (i, j) = (rng.below(secs.len()), rng.below(secs.len()));
                    order.swap(i, j);
                    format!("swap sections #{i} and #{j}")
                }
                _ => {
                    for i in (1..order.len()).rev() {
                        order.swap(i, rng.below(i + 1));
                    }
                    format!("shuffle sections to {order:?}")
                }
            };
            let mut out = bytes[..8].to_vec();
            for i in order {
                out.extend_from_slice(&bytes[secs[i].clone()]);
            }
            (what, out)
        }
    }
}

/// Compile `bytes`; a panic is returned as its message, any `Result` is fine (`true`: compiled).
fn compile_without_panic(bytes: &[u8], options: &Options) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(|| {
        weld::compile_module(bytes, options).is_ok()
    }))
    .map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".into())
    })
}

fn options(bounds_checks: BoundsChecks) -> Options {
    Options {
        bounds_checks,
        threads: 1,
        ..Options::default()
    }
}

#[test]
fn mutated_spec_modules_never_make_the_compiler_panic() {
    let started = Instant::now();
    let cases = env_u64("WELD_HOSTILE_CASES", 50_000);
    let seed = env_u64("WELD_HOSTILE_SEED", 0x5eed_1e55);
    let inputs = suite_modules();
    assert!(
        inputs.len() > 1000,
        "only {} modules found in the suite",
        inputs.len()
    );
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    let mut compiled = 0u64;
    for case in 0..cases {
        let input = &inputs[rng.below(inputs.len())];
        let (what, bytes) = mutate(&input.bytes, &mut rng);
        let bounds = if case % 2 == 0 {
            BoundsChecks::Guard
        } else {
            BoundsChecks::Explicit
        };
        let opts = options(bounds);
        match compile_without_panic(&bytes, &opts) {
            Ok(true) => compiled += 1,
            Ok(false) => {}
            Err(msg) => failures.push(format!(
                "case {case}: {} with {what} ({bounds:?}): panicked: {msg}",
                input.name
            )),
        }
    }
    eprintln!(
        "{cases} mutated inputs from {} modules (seed {seed:#x}), {compiled} still compiled, in {:.1?}",
        inputs.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} mutated inputs panicked (rerun with WELD_HOSTILE_SEED={seed}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn wat(src: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(src).unwrap();
    let mut w: wast::Wat = wast::parser::parse(&buf).unwrap();
    w.encode().unwrap()
}

/// A module with one function of type `() -> ()` whose body (locals and code, without the
/// final `end`) is `body`.
fn module_with_body(locals: &[u8], code: &[u8]) -> Vec<u8> {
    let mut body = locals.to_vec();
    body.extend_from_slice(code);
    body.push(0x0b);
    let mut func = leb(body.len() as u64);
    func.extend_from_slice(&body);
    let mut code_section = vec![1];
    code_section.extend_from_slice(&func);
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type 0: () -> ()
    m.extend_from_slice(&[3, 2, 1, 0]); // func 0: type 0
    m.push(10);
    m.extend_from_slice(&leb(code_section.len() as u64));
    m.extend_from_slice(&code_section);
    m
}

fn compile(bytes: &[u8]) -> weld::Result<Vec<u8>> {
    weld::compile_module(bytes, &options(BoundsChecks::Guard))
}

#[test]
fn an_empty_file_is_invalid() {
    assert!(matches!(compile(b""), Err(Error::Invalid { .. })));
}

#[test]
fn a_file_with_only_the_magic_is_invalid() {
    assert!(matches!(compile(b"\0asm"), Err(Error::Invalid { .. })));
}

#[test]
fn a_header_without_sections_compiles_to_an_empty_module() {
    assert!(compile(b"\0asm\x01\0\0\0").is_ok());
}

#[test]
fn a_wrong_version_is_an_error() {
    assert!(compile(b"\0asm\x02\0\0\0").is_err());
}

/// Run `f` on a thread with a small stack (like a compile worker of an embedder), so that a
/// recursion proportional to the input is caught here rather than on a generous main stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("the compiler panicked"))
}

/// The translator keeps its control stack on the heap and wasmparser and Cranelift walk the
/// resulting 100_000-block chain iteratively, so no nesting limit is needed. This is the slow
/// test of the file (~15 s in the dev profile): Cranelift's debug assertions in the e-graph pass
/// rebuild the dominator path at every block, quadratic in the depth; release builds are linear.
#[test]
fn a_hundred_thousand_nested_blocks_do_not_overflow_the_stack() {
    const DEPTH: usize = 100_000;
    let mut code = Vec::with_capacity(DEPTH * 3);
    for _ in 0..DEPTH {
        code.extend_from_slice(&[0x02, 0x40]); // block
    }
    code.extend(std::iter::repeat_n(0x0b, DEPTH)); // end
    let bytes = module_with_body(&[0], &code);
    match on_small_stack(move || compile(&bytes)) {
        Ok(_) | Err(Error::Limit { .. }) => {}
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn a_function_with_fifty_thousand_locals_compiles() {
    // 50_000 is wasmparser's limit on locals per function; use the last one.
    let locals = [&[1u8][..], &leb(50_000), &[0x7f]].concat();
    let code = [&[0x20u8][..], &leb(49_999), &[0x1a]].concat(); // local.get; drop
    let bytes = module_with_body(&locals, &code);
    on_small_stack(move || compile(&bytes)).unwrap();
}

#[test]
fn one_local_too_many_is_invalid() {
    let locals = [&[1u8][..], &leb(50_001), &[0x7f]].concat();
    let bytes = module_with_body(&locals, &[]);
    assert!(matches!(compile(&bytes), Err(Error::Invalid { .. })));
}

#[test]
fn a_br_table_with_a_hundred_thousand_targets_compiles() {
    const TARGETS: u64 = 100_000;
    // block (block (br_table 0 1 0 1 ... 1 (i32.const 7)))
    let mut code = vec![0x02, 0x40, 0x02, 0x40, 0x41, 0x07, 0x0e];
    code.extend_from_slice(&leb(TARGETS));
    for i in 0..TARGETS {
        code.push((i % 2) as u8);
    }
    code.push(1); // default
    code.extend_from_slice(&[0x0b, 0x0b]);
    let bytes = module_with_body(&[0], &code);
    on_small_stack(move || compile(&bytes)).unwrap();
}

#[test]
fn the_text_helper_builds_valid_modules() {
    // Guards the hand-made encodings above: the same shape from text compiles too.
    let bytes = wat("(module (func (local i32) (block (block (br_table 0 1 (i32.const 7))))))");
    compile(&bytes).unwrap();
    assert!(compile(&module_with_body(&[0], &[])).is_ok());
}

#[test]
fn modules_at_the_validator_limits_compile_without_panicking() {
    let params = "i32 ".repeat(1000);
    let gets: String = (0..1000).map(|i| format!("local.get {i} ")).collect();
    let zeros = "i32.const 0 ".repeat(1000);
    let drops = "drop ".repeat(1000);
    let cases = [
        (
            "1000 parameters and 1000 results",
            format!("(module (func (export \"f\") (param {params}) (result {params}) {gets}))"),
        ),
        (
            "a direct call with 1000 results",
            format!(
                "(module (func $f (param {params}) (result {params}) {gets}) \
                 (func (export \"g\") {zeros} call $f {drops}))"
            ),
        ),
        (
            "an indirect call with 1000 results",
            format!(
                "(module (type $t (func (param {params}) (result {params}))) (table 1 funcref) \
                 (func (export \"g\") {zeros} i32.const 0 call_indirect (type $t) {drops}))"
            ),
        ),
        (
            "a block with 1000 results",
            format!("(module (func (export \"f\") (result {params}) (block (result {params}) {zeros})))"),
        ),
        (
            "100000 globals",
            format!("(module {})", "(global i32 (i32.const 0)) ".repeat(100_000)),
        ),
        (
            "100000 tables",
            format!("(module {})", "(table 0 funcref) ".repeat(100_000)),
        ),
        (
            "a table of 10 million entries with its last one set",
            "(module (func $f) (table 10000000 funcref) (elem (i32.const 9999999) $f))".into(),
        ),
        (
            "an i64.load at offset 2^32-1",
            "(module (memory 1) (func (export \"f\") (param i32) (result i64) local.get 0 i64.load offset=4294967295))".into(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, src) in cases {
        let bytes = wat(&src);
        for bounds in [BoundsChecks::Guard, BoundsChecks::Explicit] {
            match compile_without_panic(&bytes, &options(bounds)) {
                Ok(true) => {}
                Ok(false) => failures.push(format!("{name} ({bounds:?}): refused")),
                Err(msg) => failures.push(format!("{name} ({bounds:?}): panicked: {msg}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A component `depth` levels deep whose every level instantiates its child twice: 2^depth
/// instances from a file of a few hundred bytes.
fn doubling_component(depth: usize) -> Vec<u8> {
    let mut c =
        String::from("(core module $m (func (export \"f\"))) (core instance (instantiate $m))");
    for _ in 0..depth {
        c = format!("(component $c {c}) (instance (instantiate $c)) (instance (instantiate $c))");
    }
    wat(&format!("(component {c})"))
}

#[test]
fn a_component_that_doubles_its_instances_at_every_level_meets_the_instance_limit() {
    let small = doubling_component(5);
    assert!(weld::compile_component(&small, &options(BoundsChecks::Guard)).is_ok());
    let bytes = doubling_component(40);
    assert!(bytes.len() < 4096, "{} bytes", bytes.len());
    match weld::compile_component(&bytes, &options(BoundsChecks::Guard)) {
        Err(e @ weld::Error::Limit { .. }) => {
            assert!(e.to_string().contains("10000 component instances"), "{e}")
        }
        other => panic!("expected the instance limit, got {other:?}"),
    }
}

#[test]
fn a_tiny_file_declaring_a_4_gib_data_segment_is_an_error_at_an_offset() {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend_from_slice(&[5, 4, 1, 0, 0x80, 0x80, 0x04]); // memory 0: 65536 pages
    let mut data = vec![1, 0, 0x41, 0, 0x0b]; // one active segment at offset 0
    data.extend_from_slice(&leb((4 << 30) - 1));
    data.extend_from_slice(b"abc");
    m.push(11);
    m.extend_from_slice(&leb(data.len() as u64));
    m.extend_from_slice(&data);
    let e = compile(&m).expect_err("a segment longer than its file");
    assert!(e.to_string().contains("byte offset"), "{e}");
}

/// A module with `n` functions of type `() -> ()` and empty bodies.
fn many_functions(n: usize) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
    let mut funcs = leb(n as u64);
    funcs.resize(funcs.len() + n, 0);
    m.push(3);
    m.extend_from_slice(&leb(funcs.len() as u64));
    m.extend_from_slice(&funcs);
    let mut code = leb(n as u64);
    for _ in 0..n {
        code.extend_from_slice(&[2, 0, 0x0b]);
    }
    m.push(10);
    m.extend_from_slice(&leb(code.len() as u64));
    m.extend_from_slice(&code);
    m
}

/// The README's Limits table states what a million tiny functions cost (≈12 s, ≈670 MB in a
/// release build); here a tenth of them, to keep the test short: they compile, and one more
/// than the limit is refused.
#[test]
fn a_hundred_thousand_tiny_functions_compile_and_one_more_than_a_million_is_refused() {
    let obj = compile(&many_functions(100_000)).expect("100,000 functions compile");
    assert!(!obj.is_empty());
    let e = compile(&many_functions(1_000_001)).expect_err("over wasmparser's limit");
    assert!(e.to_string().contains("byte offset"), "{e}");
}

/// `-g` reads the module's DWARF, which nothing validated: damaged `.debug_*` sections of a
/// real clang `-g` program (bytes flipped, runs of 0xff, truncated lengths inside them) give a
/// compiled object or an error, never a panic.
#[test]
fn damaged_dwarf_never_makes_a_debug_compile_panic() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/debug.wasm");
    let original = std::fs::read(path).unwrap();
    let debug_sections: Vec<std::ops::Range<usize>> = sections(&original)
        .into_iter()
        .filter(|r| {
            // A custom section: id 0, size, then its name.
            original[r.start] == 0 && original[r.clone()].windows(7).any(|w| w == b".debug_")
        })
        .collect();
    assert!(debug_sections.len() >= 3, "debug.wasm carries DWARF");
    let opts = Options {
        debug_info: true,
        ..options(BoundsChecks::Guard)
    };
    assert_eq!(compile_without_panic(&original, &opts), Ok(true));
    let mut rng = Rng::new(env_u64("WELD_HOSTILE_SEED", 1));
    let cases = env_u64("WELD_HOSTILE_DWARF_CASES", 150);
    for case in 0..cases {
        let mut bytes = original.clone();
        let range = &debug_sections[rng.below(debug_sections.len())];
        // Past the section's id, size and name.
        let body = range.start + 16..range.end;
        let what = match rng.below(3) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = body.start + rng.below(body.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
                "bit flips"
            }
            1 => {
                let at = body.start + rng.below(body.len());
                let end = (at + 1 + rng.below(16)).min(body.end);
                bytes[at..end].fill(0xff);
                "a run of 0xff"
            }
            _ => {
                let at = body.start + rng.below(body.len());
                bytes[at] = 0;
                "a zero byte"
            }
        };
        if let Err(panic) = compile_without_panic(&bytes, &opts) {
            panic!(
                "case {case} ({what} in section at {:#x}): panicked: {panic}",
                range.start
            );
        }
    }
}

/// Damaged plugins that crashed the loader before its checks covered what `dlopen` and the
/// descriptor reader follow (`tests/hostile/plugins/`): each is refused with one line naming it,
/// while the undamaged plugin, written by weld and by `ld`, still loads.
#[test]
fn damaged_plugins_are_refused_in_one_line_and_intact_ones_load() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let weld = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_weld"))
            .args(args)
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, ld) in [("weld.so", "0"), ("ld.so", "1")] {
        let so = dir.path().join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_weld"))
            .arg("compile")
            .arg(root.join("examples/plugin-host/plugin.wat"))
            .arg("-o")
            .arg(&so)
            .env("WELD_USE_LD", ld)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = weld(&["inspect".as_ref(), so.as_os_str()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("plugin for "));
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("tests/hostile/plugins")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "elf") {
            continue;
        }
        seen += 1;
        let out = weld(&["inspect".as_ref(), path.as_os_str()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", path.display());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(err.starts_with("error: ") && err.contains(&name), "{err}");
    }
    assert!(seen >= 10, "the damaged plugins are there");
}

/// Names from the name section become local symbols; one holding a NUL byte (found by the
/// hostile-input campaign in a mutated program: the object writer panicked) is written with
/// the NUL spelled `\0`.
#[test]
fn a_function_name_with_a_nul_byte_becomes_a_symbol() {
    let bytes = wat(r#"(module (func (@name "main\00evil") (export "f")))"#);
    let obj = compile(&bytes).expect("compiles");
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(&*obj).unwrap();
    let names: Vec<&str> = file.symbols().filter_map(|s| s.name().ok()).collect();
    assert!(
        names.iter().any(|n| n.ends_with("!main\\0evil")),
        "{names:?}"
    );
}
