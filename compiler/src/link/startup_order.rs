//! Start-up code laid out together: a section ordering file for gold, so that an executable's
//! start-up maps a few 64 KiB windows of code instead of nearly all of them.
//!
//! In: the runtime archive an executable links, and `startup-order.txt` (the runtime functions a
//! WASI hello world runs, by symbol; `tests/startup-order.sh` profiles and writes it). Out: the
//! names of the archive's sections holding those functions, one per line, for gold's
//! `--section-ordering-file`.
//!
//! Why: the kernel maps a file-backed page of code together with its neighbours in the same
//! 64 KiB window ("fault-around") and unmaps them all at exit. The runtime's start-up functions
//! were spread over every window of its 700 KB of code: on the benchmark VM each of those faults
//! cost about 4 µs. Placed together, a hello world maps 112 pages of code instead of 144 and
//! starts 24 µs (6%) sooner.
//!
//! Symbols are matched without what changes from one build to another: the crate hashes in
//! Rust's v0 mangling (`Cs<hash>_`) and LLVM's `.llvm.<n>` suffixes. A symbol is looked up in the
//! archive's symbol tables, not guessed from section names: LLVM folds identical functions into
//! one section under another symbol's name, and cold functions live in `.text.unlikely.*`.

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The profiled start-up functions (`tests/startup-order.sh`), one symbol per line.
const LIST: &str = include_str!("startup-order.txt");

/// `sym` without crate hashes (`Cs<base62>_` before a crate name's length becomes `Cs_`) and
/// without a trailing `.llvm.<digits>`.
pub fn stable_name(sym: &str) -> String {
    let sym = match sym.rfind(".llvm.") {
        Some(i) if sym[i + 6..].bytes().all(|b| b.is_ascii_digit()) => &sym[..i],
        _ => sym,
    };
    let b = sym.as_bytes();
    let mut out = String::with_capacity(sym.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"Cs") {
            let hash = b[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            let after = i + 2 + hash;
            if hash > 0
                && b.get(after) == Some(&b'_')
                && b.get(after + 1).is_some_and(u8::is_ascii_digit)
            {
                out.push_str("Cs_");
                i = after + 1;
                continue;
            }
        }
        // Mangled names are ASCII; anything else is copied through a character at a time.
        let ch = sym[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// The listed functions' positions in the list, by stable name.
fn wanted() -> HashMap<String, usize> {
    LIST.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .enumerate()
        .map(|(i, l)| (stable_name(l.trim()), i))
        .collect()
}

/// The names of the sections of `archive` (the bytes of an `ar` archive of ELF objects) that
/// hold listed functions, in the list's order, each once. Members that are not readable ELF
/// objects are passed over.
pub fn sections(archive: &[u8]) -> Vec<String> {
    let wanted = wanted();
    let Ok(ar) = ArchiveFile::parse(archive) else {
        return Vec::new();
    };
    let mut found: Vec<(usize, String)> = Vec::new();
    for member in ar.members().flatten() {
        let Ok(data) = member.data(archive) else {
            continue;
        };
        let Ok(file) = object::File::parse(data) else {
            continue;
        };
        for sym in file.symbols() {
            if !sym.is_definition() || sym.kind() != object::SymbolKind::Text {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            // Only Rust symbols and the runtime's C entry points are listed.
            if !(name.starts_with("_R") || name.starts_with("weld_")) {
                continue;
            }
            let Some(&pos) = wanted.get(&stable_name(name)) else {
                continue;
            };
            let Some(section) = sym
                .section_index()
                .and_then(|i| file.section_by_index(i).ok())
            else {
                continue;
            };
            match section.name() {
                // A section of its own (`-ffunction-sections`): only then can it move alone.
                Ok(s) if s.starts_with(".text.") => found.push((pos, s.to_string())),
                _ => {}
            }
        }
    }
    found.sort();
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .filter_map(|(_, s)| seen.insert(s.clone()).then_some(s))
        .collect()
}

/// Write the ordering file for linking `archive` into `dir`; `None` (link as usual) when the
/// archive cannot be read or holds none of the functions.
pub fn ordering_file(archive: &Path, dir: &Path) -> Option<PathBuf> {
    let bytes = std::fs::read(archive).ok()?;
    let sections = sections(&bytes);
    if sections.is_empty() {
        return None;
    }
    let path = dir.join("startup-order.txt");
    std::fs::write(&path, sections.join("\n") + "\n").ok()?;
    Some(path)
}

/// How many listed functions `archive` still defines, and how many are listed: the list goes
/// stale as the runtime changes (`tests/startup-order.sh` regenerates it).
pub fn coverage(archive: &[u8]) -> (usize, usize) {
    let wanted = wanted();
    let Ok(ar) = ArchiveFile::parse(archive) else {
        return (0, wanted.len());
    };
    let mut hit = std::collections::HashSet::new();
    for member in ar.members().flatten() {
        let Some(file) = member
            .data(archive)
            .ok()
            .and_then(|d| object::File::parse(d).ok())
        else {
            continue;
        };
        for sym in file.symbols().filter(|s| s.is_definition()) {
            if let Some(&pos) = sym.name().ok().and_then(|n| wanted.get(&stable_name(n))) {
                hit.insert(pos);
            }
        }
    }
    (hit.len(), wanted.len())
}

#[cfg(test)]
mod tests {
    use super::stable_name;

    #[test]
    fn crate_hashes_and_llvm_suffixes_are_left_out_of_names() {
        assert_eq!(
            stable_name(
                "_RNvMs0_NtCskKVkJnug2VE_13weld_contract4infoNtB5_10ModuleInfo11decode_impl"
            ),
            "_RNvMs0_NtCs_13weld_contract4infoNtB5_10ModuleInfo11decode_impl"
        );
        assert_eq!(
            stable_name("_RNvMs4_NtCscySK1cYcNHu_5alloc7raw_vecNtB5_11RawVecInner11finish_growB7_.llvm.8268356015007891174"),
            "_RNvMs4_NtCs_5alloc7raw_vecNtB5_11RawVecInner11finish_growB7_"
        );
        // Two crates in one generic instantiation.
        assert_eq!(
            stable_name("_RNvMs3_NtCscySK1cYcNHu_5alloc7raw_vecINtB5_6RawVecjE8grow_oneCsk25vUeflyms_12weld_runtime"),
            "_RNvMs3_NtCs_5alloc7raw_vecINtB5_6RawVecjE8grow_oneCs_12weld_runtime"
        );
        // Not a crate root: no `_` and digit after the letters, or nothing between.
        assert_eq!(stable_name("weld_main_flags"), "weld_main_flags");
        assert_eq!(stable_name("_RNv9CsvReader"), "_RNv9CsvReader");
        assert_eq!(stable_name("Cs_1x"), "Cs_1x");
        assert_eq!(stable_name("f.llvm.x1"), "f.llvm.x1");
        assert_eq!(stable_name("é Cs"), "é Cs");
    }
}
