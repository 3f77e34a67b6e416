//! Start-up code laid out together: a section ordering file for gold, so that an executable's
//! start-up maps a few 64 KiB windows of code instead of nearly all of them.
//!
//! In: the runtime archive an executable links, and `startup-order.txt` (the runtime functions a
//! WASI hello world runs, by symbol; `tests/startup-order.sh` profiles and writes it). Out: the
//! names of the archive's sections holding those functions, one per line, for gold's
//! `--section-ordering-file`, and after them the sections of the runtime's large static blocks
//! (see [`LARGE_BLOCKS`]).
//!
//! Why: the kernel maps a file-backed page of code together with its neighbours in the same
//! 64 KiB window ("fault-around") and unmaps them all at exit. The runtime's start-up functions
//! were spread over every window of its 700 KB of code: on the benchmark VM each of those faults
//! cost about 4 µs. Placed together, a hello world maps 112 pages of code instead of 144 and
//! starts 24 µs (6%) sooner.
//!
//! Symbols are matched demangled, without what changes from one build to another (crate hashes,
//! LLVM's `.llvm.<n>` suffixes). A symbol is looked up in the archive's symbol tables, not
//! guessed from section names: LLVM folds identical functions into one section under another
//! symbol's name, and cold functions live in `.text.unlikely.*`. Only the musl runtime is
//! ordered: it is the one built with v0 symbol names, which the list uses (the glibc runtime's
//! legacy names carry no generic arguments, so they cannot be told apart the same way).

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The profiled start-up functions (`tests/startup-order.sh`), one symbol per line.
const LIST: &str = include_str!("startup-order.txt");

/// `sym` demangled without what changes from one build to another: crate hashes and LLVM's
/// `.llvm.<n>` suffixes (`rustc-demangle`'s alternate form). Comparing mangled names with the
/// hashes cut out would not do: v0 back-references are byte offsets into the symbol, which
/// move when a hash has another length. A name that is not a Rust symbol stays as it is.
pub fn stable_name(sym: &str) -> String {
    match rustc_demangle::try_demangle(sym) {
        Ok(d) => format!("{d:#}"),
        Err(_) => sym.to_string(),
    }
}

/// The runtime's large zero-initialised statics (the start-up arena, the first thread's signal
/// stack), placed after every other `.bss` section: gold puts the sections an ordering file
/// names after the ones it does not, so the small statics a start-up touches share two pages
/// instead of being spread over four around the blocks.
pub const LARGE_BLOCKS: [&str; 2] = [
    "weld_runtime::arena::BLOCK",
    "weld_runtime::signals::FIRST_ALT_STACK",
];

/// The listed functions' positions in the list, by stable name.
fn wanted() -> HashMap<String, usize> {
    LIST.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .enumerate()
        .map(|(i, l)| (stable_name(l.trim()), i))
        .collect()
}

/// Calls `f` with each member object of `archive` (the bytes of an `ar` archive of ELF
/// objects) and each Rust or `weld_*` symbol it defines, with the symbol's stable name. Members
/// that are not readable ELF objects are passed over.
fn for_each_symbol(
    archive: &[u8],
    mut f: impl FnMut(&object::File<'_>, &object::Symbol<'_, '_>, String),
) {
    let Ok(ar) = ArchiveFile::parse(archive) else {
        return;
    };
    for member in ar.members().flatten() {
        let Some(file) = member
            .data(archive)
            .ok()
            .and_then(|d| object::File::parse(d).ok())
        else {
            continue;
        };
        for sym in file.symbols().filter(|s| s.is_definition()) {
            // Only Rust symbols and the runtime's C entry points are listed.
            match sym.name() {
                Ok(name) if name.starts_with("_R") || name.starts_with("weld_") => {
                    f(&file, &sym, stable_name(name))
                }
                _ => {}
            }
        }
    }
}

/// The names of the sections of `archive` that hold listed functions, in the list's order, each
/// once, then those of the [`LARGE_BLOCKS`].
pub fn sections(archive: &[u8]) -> Vec<String> {
    let wanted = wanted();
    let mut found: Vec<(usize, String)> = Vec::new();
    for_each_symbol(archive, |file, sym, stable| {
        let (pos, own) = match sym.kind() {
            object::SymbolKind::Text => (wanted.get(&stable).copied(), ".text."),
            // The large blocks go after everything listed.
            object::SymbolKind::Data => (
                LARGE_BLOCKS
                    .iter()
                    .position(|b| *b == stable)
                    .map(|i| usize::MAX - LARGE_BLOCKS.len() + i),
                ".bss.",
            ),
            _ => return,
        };
        let Some(pos) = pos else { return };
        let section = sym
            .section_index()
            .and_then(|i| file.section_by_index(i).ok());
        match section.as_ref().map(|s| s.name()) {
            // A section of its own (`-ffunction-sections`): only then can it move alone.
            Some(Ok(s)) if s.starts_with(own) => found.push((pos, s.to_string())),
            _ => {}
        }
    });
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
    let mut hit = std::collections::HashSet::new();
    for_each_symbol(archive, |_, _, stable| {
        if let Some(&pos) = wanted.get(&stable) {
            hit.insert(pos);
        }
    });
    (hit.len(), wanted.len())
}

#[cfg(test)]
mod tests {
    use super::stable_name;

    #[test]
    fn crate_hashes_and_llvm_suffixes_are_left_out_of_names() {
        let a = "_RNvMs0_NtCskKVkJnug2VE_13weld_contract4infoNtB5_10ModuleInfo11decode_impl";
        // The same function from another build: another crate hash, of another length.
        let b = "_RNvMs0_NtCs1234567890_13weld_contract4infoNtB5_10ModuleInfo11decode_impl";
        assert_eq!(
            stable_name(a),
            "<weld_contract::info::ModuleInfo>::decode_impl"
        );
        assert_eq!(stable_name(a), stable_name(b));
        let cold = "_RNvMs4_NtCscySK1cYcNHu_5alloc7raw_vecNtB5_11RawVecInner11finish_growB7_.llvm.8268356015007891174";
        assert_eq!(
            stable_name(cold),
            "<alloc::raw_vec::RawVecInner>::finish_grow"
        );
        // Not Rust symbols: unchanged.
        assert_eq!(stable_name("weld_main_flags"), "weld_main_flags");
        assert_eq!(stable_name("é Cs"), "é Cs");
        assert_eq!(stable_name("_R"), "_R");
    }
}
