//! Start-up code layout (compiler/src/link/startup_order.rs): the runtime functions a WASI
//! command runs at start-up end up next to each other in the musl executables `weld compile`
//! links, and the profiled list of them still matches the runtime.

#![allow(clippy::unwrap_used)]

use object::{Object, ObjectSymbol};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use weld::link::startup_order::{coverage, sections, stable_name, LARGE_BLOCKS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn musl_runtime() -> PathBuf {
    repo().join("target/x86_64-unknown-linux-musl/release/libweld_runtime.a")
}

fn listed() -> HashSet<String> {
    let list = std::fs::read_to_string(repo().join("compiler/src/link/startup-order.txt")).unwrap();
    list.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(stable_name)
        .collect()
}

fn in_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn startup_order_list_still_names_the_runtime() {
    let archive = musl_runtime();
    if !archive.is_file() {
        println!("SKIPPED: no musl runtime (make runtime-musl) to check the list against");
        return;
    }
    let bytes = std::fs::read(&archive).unwrap();
    let (hit, listed) = coverage(&bytes);
    println!("startup-order.txt: {hit} of {listed} functions found in the runtime");
    assert!(listed > 100, "the list holds only {listed} functions");
    assert!(
        hit * 4 >= listed * 3,
        "only {hit} of {listed} listed start-up functions are left in the runtime: \
         regenerate the list with `make startup-order`"
    );
    let sections = sections(&bytes);
    assert!(
        sections.len() * 2 >= hit,
        "{} sections for {hit} functions",
        sections.len()
    );
    // Functions first, then the large blocks, last.
    let (functions, blocks) = sections.split_at(sections.len() - LARGE_BLOCKS.len());
    let odd: Vec<_> = functions
        .iter()
        .filter(|s| !s.starts_with(".text."))
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    assert!(blocks.iter().all(|s| s.starts_with(".bss.")), "{blocks:?}");
}

#[test]
fn start_up_functions_are_laid_out_together_in_executables() {
    if !in_path("ld.gold") || !in_path("musl-gcc") || !musl_runtime().is_file() {
        println!(
            "SKIPPED: the start-up layout needs gold, musl-gcc and the musl runtime \
             (make runtime-musl); one is missing"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("hello");
    let out = Command::new(env!("CARGO_BIN_EXE_weld"))
        .arg("compile")
        .arg(repo().join("examples/wasi-c/hello.wasm"))
        .arg("-o")
        .arg(&exe)
        .env_remove("WELD_CC")
        .env_remove("WELD_RUNTIME_LIB")
        .env("WELD_LIBC", "musl")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = std::fs::read(&exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let listed = listed();
    // Listed functions in the executable, by address (folded functions share one).
    let mut placed: BTreeMap<u64, u64> = BTreeMap::new();
    for sym in file.symbols() {
        if sym.kind() == object::SymbolKind::Text
            && sym.size() > 0
            && sym.name().is_ok_and(|n| listed.contains(&stable_name(n)))
        {
            placed.insert(sym.address(), sym.size());
        }
    }
    let text = file.section_by_name(".text").map_or(0, |s| {
        use object::ObjectSection;
        s.size()
    });
    assert!(
        placed.len() > 100,
        "only {} listed functions found",
        placed.len()
    );
    let total: u64 = placed.values().sum();
    let lo = *placed.keys().next().unwrap();
    let hi = placed.iter().map(|(a, s)| a + s).max().unwrap();
    println!(
        "{} start-up functions, {total} bytes, span {} bytes of {text} bytes of code",
        placed.len(),
        hi - lo
    );
    // Together: the span they cover is little more than their own size (alignment padding
    // between them). Spread over the runtime, it is most of the code.
    assert!(
        (hi - lo) * 10 <= total * 12,
        "start-up functions spread over {} bytes for {total} bytes of code",
        hi - lo
    );

    // The large static blocks come after every small static in `.bss`.
    use object::ObjectSection;
    let bss = file.section_by_name(".bss").unwrap();
    let (bss_lo, bss_hi) = (bss.address(), bss.address() + bss.size());
    let in_bss = |s: &object::Symbol<'_, '_>| (bss_lo..bss_hi).contains(&s.address());
    let mut blocks = Vec::new();
    let mut small_end = 0;
    for sym in file
        .symbols()
        .filter(|s| s.kind() == object::SymbolKind::Data && in_bss(s))
    {
        let name = sym.name().map(stable_name).unwrap_or_default();
        if LARGE_BLOCKS.contains(&name.as_str()) {
            blocks.push(sym.address());
        } else {
            small_end = small_end.max(sym.address() + sym.size());
        }
    }
    assert_eq!(
        blocks.len(),
        LARGE_BLOCKS.len(),
        "large blocks not found in .bss"
    );
    assert!(
        blocks.iter().all(|b| *b >= small_end),
        "small statics end at {small_end:#x}, after a large block at {blocks:x?}"
    );
}
