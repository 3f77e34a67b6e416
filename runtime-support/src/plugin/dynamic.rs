//! The dynamic loader's half of a plugin's pre-load check.
//!
//! In: the file's bytes, its program headers and its dynamic section. Out: `Ok` only when
//! everything `dlopen` reads or writes through an address lies where it will be mapped: the
//! dynamic section and the tables it points at (hash tables, string and symbol tables,
//! relocations, version tables) inside the file-backed part of a loadable segment, and every
//! relocation's target inside a writable one, of a kind weld's plugins use. The loader trusts
//! all of these; a damaged one made it read unmapped memory (found by the hostile-input
//! campaign: one flipped byte of a program header left the hash table unmapped, and `dlopen`
//! crashed in `_dl_setup_hash`).

use super::{Bytes, PluginError};
use alloc::format;
use alloc::vec::Vec;

const PT_LOAD: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

const DT_NULL: u64 = 0;
const DT_PLTRELSZ: u64 = 2;
const DT_PLTGOT: u64 = 3;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_JMPREL: u64 = 23;
const DT_FINI: u64 = 13;
const DT_FINI_ARRAY: u64 = 26;
const DT_FINI_ARRAYSZ: u64 = 28;
const DT_SONAME: u64 = 14;
const DT_PLTREL: u64 = 20;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_RELACOUNT: u64 = 0x6fff_fff9;

/// The dynamic tags a weld plugin may have, whether weld wrote it or `ld` linked it: what the
/// loader reads checked below, and flags. Any other tag (symbol versions, RELR, initialisers,
/// needed libraries...) is refused: the loader would follow it unchecked.
const KNOWN_TAGS: &[u64] = &[
    DT_PLTRELSZ,
    DT_PLTGOT,
    DT_HASH,
    DT_STRTAB,
    DT_SYMTAB,
    DT_RELA,
    DT_RELASZ,
    DT_RELAENT,
    DT_STRSZ,
    DT_SYMENT,
    DT_FINI,
    DT_SONAME,
    DT_PLTREL,
    21, // DT_DEBUG
    DT_JMPREL,
    24, // DT_BIND_NOW
    DT_FINI_ARRAY,
    DT_FINI_ARRAYSZ,
    30, // DT_FLAGS
    DT_GNU_HASH,
    DT_RELACOUNT,
    0x6fff_fffb, // DT_FLAGS_1
];

/// A loadable segment.
#[derive(Clone, Copy)]
pub(super) struct Load {
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    writable: bool,
}

/// The loadable segments, checked to be in order, apart, and backed by the file.
pub(super) struct Segments(Vec<Load>);

fn corrupt(why: &str) -> PluginError {
    PluginError::Truncated(why.into())
}

impl Segments {
    /// The `PT_LOAD` entries of the program header table at `phoff`.
    pub(super) fn read(
        b: &Bytes<'_>,
        phoff: u64,
        phentsize: u64,
        phnum: u64,
    ) -> Result<Segments, PluginError> {
        let mut loads: Vec<Load> = Vec::new();
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            if b.u32(ph)? != PT_LOAD {
                continue;
            }
            let flags = b.u32(ph + 4)?;
            if flags & PF_R == 0 {
                return Err(corrupt("a loadable segment is not readable"));
            }
            let l = Load {
                writable: flags & PF_W != 0,
                offset: b.u64(ph + 8)?,
                vaddr: b.u64(ph + 16)?,
                filesz: b.u64(ph + 32)?,
                memsz: b.u64(ph + 40)?,
            };
            let end = l.vaddr.checked_add(l.memsz);
            if l.filesz > l.memsz || end.is_none() {
                return Err(corrupt(
                    "a loadable segment is larger in the file than in memory",
                ));
            }
            if loads.last().is_some_and(|p| p.vaddr + p.memsz > l.vaddr) {
                return Err(corrupt("loadable segments overlap or are out of order"));
            }
            b.range(l.offset, l.filesz, "a loadable segment")?;
            loads.push(l);
        }
        if loads.is_empty() {
            return Err(corrupt("no loadable segment"));
        }
        Ok(Segments(loads))
    }

    /// A `PT_GNU_RELRO` range: the loader makes it read-only after relocating, so it must lie
    /// in the object's own segments (anywhere else `mprotect` would take away someone else's
    /// memory, such as the stack).
    pub(super) fn check_relro(&self, vaddr: u64, memsz: u64) -> Result<(), PluginError> {
        let end = vaddr
            .checked_add(memsz)
            .ok_or_else(|| corrupt("a RELRO range overflows"))?;
        let first = self.0.first().map_or(0, |l| l.vaddr);
        let last = self.0.last().map_or(0, |l| l.vaddr + l.memsz);
        if memsz > 0 && (vaddr < first || end > last) {
            return Err(corrupt("the RELRO range is outside the loaded segments"));
        }
        Ok(())
    }

    /// The file range holding `len` bytes at address `vaddr`, when one segment maps all of them
    /// from the file.
    fn file_range(&self, vaddr: u64, len: u64) -> Option<(u64, u64)> {
        let end = vaddr.checked_add(len)?;
        let l = self
            .0
            .iter()
            .find(|l| l.vaddr <= vaddr && end <= l.vaddr + l.filesz)?;
        let start = l.offset + (vaddr - l.vaddr);
        Some((start, start + len))
    }

    /// Whether `len` bytes at `vaddr` are in one writable segment (the loader writes a
    /// writable dynamic section in place).
    pub(super) fn writable(&self, vaddr: u64, len: u64) -> bool {
        self.mapped(vaddr, len, true)
    }

    /// Whether `len` bytes at `vaddr` are mapped by one segment (writable, if asked).
    fn mapped(&self, vaddr: u64, len: u64, writable: bool) -> bool {
        vaddr.checked_add(len).is_some_and(|end| {
            self.0
                .iter()
                .any(|l| l.vaddr <= vaddr && end <= l.vaddr + l.memsz && (l.writable || !writable))
        })
    }
}

/// Check the dynamic section at file range `start..end` (already inside the file) whose
/// address is `vaddr` against `segments`.
pub(super) fn check(
    b: &Bytes<'_>,
    segments: &Segments,
    (start, end): (u64, u64),
    vaddr: u64,
) -> Result<(), PluginError> {
    match segments.file_range(vaddr, end - start) {
        None => {
            return Err(corrupt(
                "the dynamic section is not in a loaded part of the file",
            ))
        }
        // The loader reads the dynamic section at its address, i.e. from the file bytes its
        // loadable segment maps there; these checks read it at the dynamic segment's own file
        // offset. Both must be the same bytes (found by the hostile-input campaign, case
        // 1644047: a loadable segment's offset was damaged, the loader relocated through the
        // bytes it mapped instead and crashed).
        Some(mapped) if mapped != (start, end) => return Err(corrupt(
            "the dynamic segment's file offset disagrees with the loadable segment that maps it",
        )),
        Some(_) => {}
    }
    let mut entries = Vec::new();
    let mut at = start;
    while at + 16 <= end {
        let tag = b.u64(at)?;
        if tag == DT_NULL {
            break;
        }
        entries.push((tag, b.u64(at + 8)?));
        at += 16;
    }
    if let Some((tag, _)) = entries.iter().find(|(t, _)| !KNOWN_TAGS.contains(t)) {
        return Err(corrupt(&format!(
            "dynamic tag {tag:#x}, which weld plugins do not have"
        )));
    }
    // The loader keeps the last entry of a tag; this check would read the first.
    for (i, (tag, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(t, _)| t == tag) {
            return Err(corrupt(&format!("dynamic tag {tag:#x} twice")));
        }
    }
    let value = |tag| entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    // What the loader dereferences without looking: the tables a symbol lookup reads, and the
    // entry size of relocations it applies.
    let has = |tag| value(tag).is_some();
    if !has(DT_SYMTAB) || !has(DT_STRTAB) || !has(DT_STRSZ) || !(has(DT_HASH) || has(DT_GNU_HASH)) {
        return Err(corrupt("no symbol table, string table or hash table"));
    }
    if (has(DT_RELA) && value(DT_RELAENT) != Some(24)) || (has(DT_JMPREL) && !has(DT_PLTREL)) {
        return Err(corrupt("relocations without their entry size or kind"));
    }
    if value(DT_PLTREL).is_some_and(|v| v != DT_RELA) {
        return Err(corrupt("PLT relocations that are not RELA"));
    }
    if value(DT_SYMENT).is_some_and(|v| v != 24) || value(DT_RELAENT).is_some_and(|v| v != 24) {
        return Err(corrupt(
            "symbol or relocation entries of an unexpected size",
        ));
    }
    let table = |tag: u64, len: u64, what: &str| -> Result<Option<(u64, u64)>, PluginError> {
        match value(tag) {
            None => Ok(None),
            Some(addr) => segments
                .file_range(addr, len)
                .map(Some)
                .ok_or_else(|| corrupt(&format!("the {what} is not in a loaded part of the file"))),
        }
    };
    table(DT_PLTGOT, 8, "PLT table")?;
    table(DT_FINI, 1, "finaliser")?;
    table(
        DT_FINI_ARRAY,
        value(DT_FINI_ARRAYSZ).unwrap_or(0),
        "finaliser array",
    )?;
    let strsz = value(DT_STRSZ).unwrap_or(0);
    let strings = table(DT_STRTAB, strsz, "string table")?;
    // Every name ends inside the table: its last byte is a NUL.
    if let Some((_, end)) = strings {
        if strsz == 0 || b.get::<1>(end - 1)? != [0] {
            return Err(corrupt("the string table does not end with a NUL"));
        }
    }
    if value(DT_SONAME).is_some_and(|v| v >= strsz) {
        return Err(corrupt("the library's name is outside the string table"));
    }
    let symbols = symbol_count(b, &table)?;
    if let Some((start, _)) = table(DT_SYMTAB, symbols.max(1) * 24, "symbol table")? {
        check_symbols(b, segments, start, symbols, strsz)?;
    }
    let mut relative_first = value(DT_RELACOUNT).unwrap_or(0);
    for (tag, size) in [(DT_RELA, DT_RELASZ), (DT_JMPREL, DT_PLTRELSZ)] {
        let len = value(size).unwrap_or(0);
        if let Some((rstart, rend)) = table(tag, len, "relocation table")? {
            relocations(b, segments, (rstart, rend), symbols, relative_first)?;
            relative_first = 0;
        }
    }
    if relative_first > 0 {
        return Err(corrupt("a relative relocation count without relocations"));
    }
    Ok(())
}

/// Each symbol's name is inside the string table, and a defined symbol's address is mapped
/// (`dlsym` hands it out).
fn check_symbols(
    b: &Bytes<'_>,
    segments: &Segments,
    start: u64,
    count: u64,
    strsz: u64,
) -> Result<(), PluginError> {
    for i in 0..count {
        let at = start + 24 * i;
        let name = u64::from(b.u32(at)?);
        let section = b.u16(at + 6)?;
        let (value, size) = (b.u64(at + 8)?, b.u64(at + 16)?);
        if name >= strsz.max(1) {
            return Err(corrupt("a symbol's name is outside the string table"));
        }
        // SHN_UNDEF and the reserved indices (SHN_ABS, SHN_COMMON...) name no mapped address.
        if section != 0 && section < 0xff00 && !segments.mapped(value, size.max(1), false) {
            return Err(corrupt("a symbol's address is outside the loaded segments"));
        }
    }
    Ok(())
}

/// Finds a table the dynamic section points at, by tag and length: its file range, `None` when
/// the tag is absent, an error when it is not in a loaded part of the file.
type TableLookup<'a> = dyn Fn(u64, u64, &str) -> Result<Option<(u64, u64)>, PluginError> + 'a;

/// How many dynamic symbols there are, from the hash tables (checked whole on the way).
fn symbol_count(b: &Bytes<'_>, table: &TableLookup<'_>) -> Result<u64, PluginError> {
    let mut count = 0;
    if let Some((at, _)) = table(DT_HASH, 8, "hash table")? {
        let (nbucket, nchain) = (u64::from(b.u32(at)?), u64::from(b.u32(at + 4)?));
        let len = 8 + 4 * (nbucket + nchain);
        table(DT_HASH, len, "hash table")?;
        // Bucket and chain entries are symbol indices.
        for k in 0..nbucket + nchain {
            if u64::from(b.u32(at + 8 + 4 * k)?) >= nchain {
                return Err(corrupt("the hash table names a symbol that does not exist"));
            }
        }
        count = nchain;
    }
    if let Some((at, _)) = table(DT_GNU_HASH, 16, "GNU hash table")? {
        let nbuckets = u64::from(b.u32(at)?);
        let symoffset = u64::from(b.u32(at + 4)?);
        let bloom = u64::from(b.u32(at + 8)?);
        if nbuckets == 0 || bloom == 0 {
            return Err(corrupt("an empty GNU hash table"));
        }
        let head = 16 + 8 * bloom + 4 * nbuckets;
        let (start, end) = table(DT_GNU_HASH, head, "GNU hash table")?
            .ok_or_else(|| corrupt("the GNU hash table"))?;
        // The chains follow the buckets; each ends with an odd hash value.
        let buckets = start + 16 + 8 * bloom;
        let chains = end;
        let mut last = symoffset;
        for k in 0..nbuckets {
            let first = u64::from(b.u32(buckets + 4 * k)?);
            if first != 0 && first < symoffset {
                return Err(corrupt("a GNU hash bucket names a symbol it does not hash"));
            }
            last = last.max(first);
        }
        let mut sym = last;
        if last >= symoffset {
            loop {
                let entry = chains + 4 * (sym - symoffset);
                b.range(entry, 4, "the GNU hash chains")?;
                if b.u32(entry)? & 1 == 1 {
                    break;
                }
                sym += 1;
            }
        }
        count = count.max(sym + 1);
    }
    Ok(count)
}

/// The relative relocation of this architecture.
#[cfg(target_arch = "x86_64")]
const RELATIVE: u32 = 8;
#[cfg(target_arch = "aarch64")]
const RELATIVE: u32 = 1027;
#[cfg(target_arch = "riscv64")]
const RELATIVE: u32 = 3;

/// Relocation kinds weld's plugins use: relative, absolute 64-bit, GOT and PLT slots.
fn allowed_kind(kind: u32) -> bool {
    #[cfg(target_arch = "x86_64")]
    return matches!(kind, 1 | 6 | 7 | 8);
    #[cfg(target_arch = "aarch64")]
    return matches!(kind, 257 | 1025 | 1026 | 1027);
    #[cfg(target_arch = "riscv64")]
    return matches!(kind, 2 | 3 | 5);
}

/// Every relocation writes 8 bytes into a writable segment, names a symbol that exists, and is
/// of a kind weld's plugins use.
/// The first `relative_first` must be relative relocations (`DT_RELACOUNT`: the loader assumes
/// so, and aborts the process when one is not).
fn relocations(
    b: &Bytes<'_>,
    segments: &Segments,
    (start, end): (u64, u64),
    symbols: u64,
    relative_first: u64,
) -> Result<(), PluginError> {
    if relative_first > (end - start) / 24 {
        return Err(corrupt("more relative relocations counted than there are"));
    }
    let mut at = start;
    while at + 24 <= end {
        let (offset, info) = (b.u64(at)?, b.u64(at + 8)?);
        if !allowed_kind(info as u32) {
            return Err(corrupt(&format!("a relocation of kind {}", info as u32)));
        }
        if (at - start) / 24 < relative_first && info as u32 != RELATIVE {
            return Err(corrupt("a counted relative relocation is not relative"));
        }
        if (info >> 32) >= symbols.max(1) {
            return Err(corrupt("a relocation names a symbol that does not exist"));
        }
        if !segments.mapped(offset, 8, true) {
            return Err(corrupt("a relocation writes outside the writable segments"));
        }
        at += 24;
    }
    Ok(())
}
