//! Writing a shared object without a linker, for the objects weld makes on x86-64 Linux.
//!
//! In: the bytes of one relocatable ELF object. Out: the bytes of an ELF shared object (`.so`)
//! that `dlopen` loads like `ld -shared`'s output, or `None` when the object needs more than
//! this writer does — then the caller runs `ld`.
//!
//! Why: a weld plugin object is simple — code with no relocations (calls are resolved when
//! the object is written), read-only data, and tables of absolute pointers (`R_X86_64_64`
//! relocations) — yet starting `ld` cost 3 ms, a tenth of compiling a small program. Here the
//! pointers become `R_X86_64_RELATIVE` dynamic relocations and the global symbols the dynamic
//! symbol table (with a SysV hash table); local symbols stay in `.symtab` for debuggers and
//! profilers.
//!
//! Refused (`None`): another architecture, undefined symbols (they would need `DT_NEEDED`
//! libraries and a PLT), relocations in code or of any other type, TLS, and section types other
//! than `PROGBITS` and `NOBITS` among the allocated ones (initialiser arrays, `.eh_frame` with
//! its own header...). Not written: a build id and a `PT_GNU_RELRO` segment (the pointer tables
//! stay writable after loading, as in an object `ld` links without `-z relro`).

use object::elf;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags,
    SectionIndex, SymbolFlags, SymbolSection,
};
use std::collections::HashMap;

const PAGE: u64 = 0x1000;
const EHDR: u64 = 64;
const PHDR: u64 = 56;
const SHDR: u64 = 64;
const SYM: u64 = 24;
const RELA: u64 = 24;
/// Room for the dynamic section's entries (at most 10, and the terminator).
const DYNAMIC_SIZE: u64 = 16 * 11;

/// Which segment an allocated input section goes to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Class {
    Read,
    Exec,
    Write,
}

/// An allocated input section and where it lands.
struct Placed {
    input: SectionIndex,
    name: String,
    class: Class,
    nobits: bool,
    flags: u64,
    align: u64,
    data: Vec<u8>,
    size: u64,
    addr: u64,
    /// Index in the output's section header table.
    shndx: u32,
}

/// A symbol for `.dynsym` / `.symtab`.
struct OutSym {
    info: u8,
    other: u8,
    shndx: u32,
    value: u64,
    size: u64,
}

fn align(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a) * a
}

/// The SysV ELF hash of a symbol name.
fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

/// A string table under construction.
#[derive(Default)]
struct StrTab(Vec<u8>);

impl StrTab {
    fn new() -> StrTab {
        StrTab(vec![0])
    }
    fn add(&mut self, s: &[u8]) -> u32 {
        let at = self.0.len() as u32;
        self.0.extend_from_slice(s);
        self.0.push(0);
        at
    }
}

/// Little-endian appends.
fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_sym(out: &mut Vec<u8>, name: u32, s: &OutSym) {
    put32(out, name);
    out.push(s.info);
    out.push(s.other);
    put16(out, s.shndx as u16);
    put64(out, s.value);
    put64(out, s.size);
}

/// The shared object for `input`, or `None` if it needs a real linker (see the module docs).
pub fn write(input: &[u8]) -> Option<Vec<u8>> {
    let file = object::File::parse(input).ok()?;
    if file.architecture() != object::Architecture::X86_64
        || file.kind() != object::ObjectKind::Relocatable
        || file.format() != object::BinaryFormat::Elf
        || !file.is_little_endian()
        || !file.is_64()
    {
        return None;
    }

    // Allocated sections, by segment.
    let mut placed: Vec<Placed> = Vec::new();
    for s in file.sections() {
        let SectionFlags::Elf { sh_flags } = s.flags() else {
            return None;
        };
        if sh_flags & u64::from(elf::SHF_ALLOC) == 0 {
            continue;
        }
        if sh_flags & u64::from(elf::SHF_TLS) != 0 {
            return None;
        }
        let nobits = match s.kind() {
            object::SectionKind::UninitializedData => true,
            object::SectionKind::Text
            | object::SectionKind::Data
            | object::SectionKind::ReadOnlyData
            | object::SectionKind::ReadOnlyString => false,
            _ => return None,
        };
        let class = if sh_flags & u64::from(elf::SHF_EXECINSTR) != 0 {
            Class::Exec
        } else if sh_flags & u64::from(elf::SHF_WRITE) != 0 {
            Class::Write
        } else {
            Class::Read
        };
        if nobits && class != Class::Write {
            return None;
        }
        let data = if nobits {
            Vec::new()
        } else {
            s.data().ok()?.to_vec()
        };
        placed.push(Placed {
            input: s.index(),
            name: s.name().ok()?.to_string(),
            class,
            nobits,
            flags: sh_flags,
            align: s.align().max(1),
            data,
            size: s.size(),
            addr: 0,
            shndx: 0,
        });
    }
    // Stable: the object's order within each class.
    placed.sort_by_key(|p| (p.class, p.nobits));

    // Relocations: absolute 64-bit pointers in data, to defined places.
    struct Pending {
        section: usize,
        offset: u64,
        target: RelocationTarget,
        addend: i64,
    }
    let mut pending = Vec::new();
    for s in file.sections() {
        let owner = placed.iter().position(|p| p.input == s.index());
        for (offset, r) in s.relocations() {
            let Some(owner) = owner else {
                // Relocations of sections that are not loaded (debug info) go with them.
                continue;
            };
            let RelocationFlags::Elf { r_type } = r.flags() else {
                return None;
            };
            if r_type != elf::R_X86_64_64 || placed[owner].class == Class::Exec {
                return None;
            }
            pending.push(Pending {
                section: owner,
                offset,
                target: r.target(),
                addend: r.addend(),
            });
        }
    }

    // Symbols: every defined one kept; an undefined one needs a real linker.
    struct InSym {
        name: Vec<u8>,
        global: bool,
        info: u8,
        other: u8,
        section: Option<usize>,
        value: u64,
        size: u64,
    }
    let mut syms: Vec<InSym> = Vec::new();
    let mut by_index: HashMap<usize, usize> = HashMap::new();
    // Section symbols (relocations name sections through them): the placed section.
    let mut section_symbols: HashMap<usize, usize> = HashMap::new();
    for sym in file.symbols() {
        let name = sym.name_bytes().ok()?.to_vec();
        let SymbolFlags::Elf { st_info, st_other } = sym.flags() else {
            return None;
        };
        let ty = st_info & 0xf;
        if ty == elf::STT_SECTION {
            if let SymbolSection::Section(i) = sym.section() {
                if let Some(k) = placed.iter().position(|p| p.input == i) {
                    section_symbols.insert(sym.index().0, k);
                }
            }
            continue;
        }
        if ty == elf::STT_FILE {
            continue;
        }
        if ty == elf::STT_TLS {
            return None;
        }
        let section = match sym.section() {
            SymbolSection::Section(i) => match placed.iter().position(|p| p.input == i) {
                Some(k) => Some(k),
                // A symbol in a section that is not loaded (debug info): not needed.
                None if sym.is_local() => continue,
                None => return None,
            },
            SymbolSection::Absolute => None,
            SymbolSection::Undefined if name.is_empty() => continue,
            SymbolSection::Undefined | SymbolSection::Common => return None,
            _ => continue,
        };
        by_index.insert(sym.index().0, syms.len());
        syms.push(InSym {
            name,
            global: !sym.is_local(),
            info: st_info,
            other: st_other,
            section,
            value: sym.address(),
            size: sym.size(),
        });
    }

    // Exported: global symbols of default or protected visibility.
    let exported: Vec<usize> = (0..syms.len())
        .filter(|&i| {
            let vis = syms[i].other & 3;
            syms[i].global && (vis == elf::STV_DEFAULT || vis == elf::STV_PROTECTED)
        })
        .collect();

    // Dynamic string table and symbol names.
    let mut dynstr = StrTab::new();
    let dyn_names: Vec<u32> = exported
        .iter()
        .map(|&i| dynstr.add(&syms[i].name))
        .collect();
    let ndyn = exported.len() as u64 + 1;

    // Section header indices: null, .hash, .dynsym, .dynstr, [.rela.dyn], the loaded sections
    // (read-only, code, writable), .dynamic, the NOBITS ones, .symtab, .strtab, .shstrtab.
    // `placed` is sorted by (class, nobits), and only writable sections are NOBITS.
    let has_rela = !pending.is_empty();
    let (sh_hash, sh_dynsym, sh_dynstr) = (1u32, 2u32, 3u32);
    let sh_rela = if has_rela { 4 } else { 0 };
    let mut next = if has_rela { 5 } else { 4 };
    let mut sh_dynamic = 0;
    for p in placed.iter_mut() {
        if p.nobits && sh_dynamic == 0 {
            sh_dynamic = next;
            next += 1;
        }
        p.shndx = next;
        next += 1;
    }
    if sh_dynamic == 0 {
        sh_dynamic = next;
        next += 1;
    }
    let (sh_symtab, sh_strtab, sh_shstrtab) = (next, next + 1, next + 2);
    let shnum = next + 3;

    // Layout: file offsets equal addresses. Program headers: PT_LOAD R, RX, RW, PT_DYNAMIC,
    // PT_GNU_STACK.
    let phnum: u64 = 5;
    let nbucket = (ndyn / 2).max(1);
    let hash_at = align(EHDR + PHDR * phnum, 8);
    let hash_size = 4 * (2 + nbucket + ndyn);
    let dynsym_at = align(hash_at + hash_size, 8);
    let dynstr_at = dynsym_at + SYM * ndyn;
    let rela_at = align(dynstr_at + dynstr.0.len() as u64, 8);
    let rela_size = RELA * pending.len() as u64;
    let mut at = rela_at + rela_size;
    // Per class: (start, end in the file, end in memory).
    let mut seg = [(0u64, 0u64, 0u64); 3];
    let mut dynamic_at = 0;
    for class in [Class::Read, Class::Exec, Class::Write] {
        if class != Class::Read {
            at = align(at, PAGE);
        }
        let start = at;
        for p in placed.iter_mut().filter(|p| p.class == class && !p.nobits) {
            at = align(at, p.align);
            p.addr = at;
            at += p.size;
        }
        if class == Class::Write {
            dynamic_at = align(at, 8);
            at = dynamic_at + DYNAMIC_SIZE;
        }
        let file_end = at;
        for p in placed.iter_mut().filter(|p| p.class == class && p.nobits) {
            at = align(at, p.align);
            p.addr = at;
            at += p.size;
        }
        seg[class as usize] = (start, file_end, at);
    }
    let load_end = seg[2].1;

    // Resolve relocations into RELATIVE ones, and write the values in place too.
    let address_of = |t: RelocationTarget| -> Option<u64> {
        match t {
            RelocationTarget::Symbol(i) => {
                if let Some(&k) = section_symbols.get(&i.0) {
                    return Some(placed[k].addr);
                }
                let s = &syms[*by_index.get(&i.0)?];
                let base = s.section.map_or(0, |k| placed[k].addr);
                Some(base + s.value)
            }
            RelocationTarget::Section(i) => Some(placed.iter().find(|p| p.input == i)?.addr),
            _ => None,
        }
    };
    let values: Vec<u64> = pending
        .iter()
        .map(|r| address_of(r.target).map(|v| v.wrapping_add_signed(r.addend)))
        .collect::<Option<_>>()?;
    let mut rela = Vec::with_capacity(rela_size as usize);
    for (r, &value) in pending.iter().zip(&values) {
        let p = &mut placed[r.section];
        let o = usize::try_from(r.offset).ok()?;
        p.data
            .get_mut(o..o + 8)?
            .copy_from_slice(&value.to_le_bytes());
        put64(&mut rela, p.addr + r.offset);
        put64(&mut rela, u64::from(elf::R_X86_64_RELATIVE));
        put64(&mut rela, value);
    }

    let out_sym = |i: usize| -> OutSym {
        let s = &syms[i];
        let (shndx, base) = match s.section {
            Some(k) => (placed[k].shndx, placed[k].addr),
            None => (u32::from(elf::SHN_ABS), 0),
        };
        OutSym {
            info: s.info,
            other: s.other,
            shndx,
            value: base + s.value,
            size: s.size,
        }
    };

    // .hash: buckets and chains over .dynsym.
    let mut buckets = vec![0u32; nbucket as usize];
    let mut chains = vec![0u32; ndyn as usize];
    for (k, &i) in exported.iter().enumerate() {
        let sym = k as u32 + 1;
        let b = (elf_hash(&syms[i].name) as u64 % nbucket) as usize;
        chains[sym as usize] = buckets[b];
        buckets[b] = sym;
    }

    let mut out = Vec::with_capacity(load_end as usize + 4096);
    // ELF header (its e_shoff is patched at the end).
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    put16(&mut out, elf::ET_DYN);
    put16(&mut out, elf::EM_X86_64);
    put32(&mut out, 1);
    put64(&mut out, 0);
    put64(&mut out, EHDR);
    put64(&mut out, 0);
    put32(&mut out, 0);
    put16(&mut out, EHDR as u16);
    put16(&mut out, PHDR as u16);
    put16(&mut out, phnum as u16);
    put16(&mut out, SHDR as u16);
    put16(&mut out, shnum as u16);
    put16(&mut out, sh_shstrtab as u16);
    // Program headers.
    let phdr =
        |out: &mut Vec<u8>, ty: u32, flags: u32, off: u64, filesz: u64, memsz: u64, al: u64| {
            put32(out, ty);
            put32(out, flags);
            put64(out, off);
            put64(out, off);
            put64(out, off);
            put64(out, filesz);
            put64(out, memsz);
            put64(out, al);
        };
    let (r, x, w) = (elf::PF_R, elf::PF_X, elf::PF_W);
    phdr(&mut out, elf::PT_LOAD, r, 0, seg[0].1, seg[0].1, PAGE);
    phdr(
        &mut out,
        elf::PT_LOAD,
        r | x,
        seg[1].0,
        seg[1].1 - seg[1].0,
        seg[1].1 - seg[1].0,
        PAGE,
    );
    phdr(
        &mut out,
        elf::PT_LOAD,
        r | w,
        seg[2].0,
        seg[2].1 - seg[2].0,
        seg[2].2 - seg[2].0,
        PAGE,
    );
    phdr(
        &mut out,
        elf::PT_DYNAMIC,
        r | w,
        dynamic_at,
        DYNAMIC_SIZE,
        DYNAMIC_SIZE,
        8,
    );
    phdr(&mut out, elf::PT_GNU_STACK, r | w, 0, 0, 0, 16);
    // .hash
    out.resize(hash_at as usize, 0);
    put32(&mut out, nbucket as u32);
    put32(&mut out, ndyn as u32);
    buckets.iter().for_each(|b| put32(&mut out, *b));
    chains.iter().for_each(|c| put32(&mut out, *c));
    // .dynsym
    out.resize(dynsym_at as usize, 0);
    out.extend_from_slice(&[0; SYM as usize]);
    for (k, &i) in exported.iter().enumerate() {
        put_sym(&mut out, dyn_names[k], &out_sym(i));
    }
    // .dynstr, .rela.dyn
    out.extend_from_slice(&dynstr.0);
    out.resize(rela_at as usize, 0);
    out.extend_from_slice(&rela);
    // Sections, with .dynamic among the writable ones.
    let mut dynamic = Vec::with_capacity(DYNAMIC_SIZE as usize);
    let mut tag = |t: i64, v: u64| {
        put64(&mut dynamic, t as u64);
        put64(&mut dynamic, v);
    };
    tag(elf::DT_HASH, hash_at);
    tag(elf::DT_STRTAB, dynstr_at);
    tag(elf::DT_SYMTAB, dynsym_at);
    tag(elf::DT_STRSZ, dynstr.0.len() as u64);
    tag(elf::DT_SYMENT, SYM);
    if has_rela {
        tag(elf::DT_RELA, rela_at);
        tag(elf::DT_RELASZ, rela_size);
        tag(elf::DT_RELAENT, RELA);
        tag(elf::DT_RELACOUNT, pending.len() as u64);
    }
    tag(elf::DT_NULL, 0);
    dynamic.resize(DYNAMIC_SIZE as usize, 0);
    for p in placed.iter().filter(|p| !p.nobits) {
        out.resize(p.addr as usize, 0);
        out.extend_from_slice(&p.data);
    }
    out.resize(dynamic_at as usize, 0);
    out.extend_from_slice(&dynamic);
    out.resize(load_end as usize, 0);

    // .symtab: locals first, then the globals.
    let mut strtab = StrTab::new();
    let mut symtab = vec![0u8; SYM as usize];
    let locals: Vec<usize> = (0..syms.len()).filter(|&i| !syms[i].global).collect();
    let globals: Vec<usize> = (0..syms.len()).filter(|&i| syms[i].global).collect();
    for &i in locals.iter().chain(&globals) {
        let name = strtab.add(&syms[i].name);
        put_sym(&mut symtab, name, &out_sym(i));
    }
    let symtab_at = align(out.len() as u64, 8);
    out.resize(symtab_at as usize, 0);
    out.extend_from_slice(&symtab);
    let strtab_at = out.len() as u64;
    out.extend_from_slice(&strtab.0);

    // Section names and headers.
    let mut shstr = StrTab::new();
    let shstrtab_at = out.len() as u64;
    struct Sh {
        name: u32,
        ty: u32,
        flags: u64,
        addr: u64,
        offset: u64,
        size: u64,
        link: u32,
        info: u32,
        align: u64,
        entsize: u64,
    }
    let mut headers: Vec<(u32, Sh)> = Vec::new();
    let a = u64::from(elf::SHF_ALLOC);
    let mut add = |index: u32, name: &str, sh: Sh| {
        let n = shstr.add(name.as_bytes());
        headers.push((index, Sh { name: n, ..sh }));
    };
    let sh =
        |ty: u32, flags: u64, at: u64, size: u64, link: u32, info: u32, al: u64, ent: u64| Sh {
            name: 0,
            ty,
            flags,
            addr: if flags & a != 0 { at } else { 0 },
            offset: at,
            size,
            link,
            info,
            align: al,
            entsize: ent,
        };
    add(
        sh_hash,
        ".hash",
        sh(elf::SHT_HASH, a, hash_at, hash_size, sh_dynsym, 0, 8, 4),
    );
    add(
        sh_dynsym,
        ".dynsym",
        sh(
            elf::SHT_DYNSYM,
            a,
            dynsym_at,
            SYM * ndyn,
            sh_dynstr,
            1,
            8,
            SYM,
        ),
    );
    add(
        sh_dynstr,
        ".dynstr",
        sh(
            elf::SHT_STRTAB,
            a,
            dynstr_at,
            dynstr.0.len() as u64,
            0,
            0,
            1,
            0,
        ),
    );
    if has_rela {
        add(
            sh_rela,
            ".rela.dyn",
            sh(elf::SHT_RELA, a, rela_at, rela_size, sh_dynsym, 0, 8, RELA),
        );
    }
    for p in &placed {
        let ty = if p.nobits {
            elf::SHT_NOBITS
        } else {
            elf::SHT_PROGBITS
        };
        let mut s = sh(ty, p.flags, p.addr, p.size, 0, 0, p.align, 0);
        s.addr = p.addr;
        add(p.shndx, &p.name, s);
    }
    add(
        sh_dynamic,
        ".dynamic",
        sh(
            elf::SHT_DYNAMIC,
            a | u64::from(elf::SHF_WRITE),
            dynamic_at,
            DYNAMIC_SIZE,
            sh_dynstr,
            0,
            8,
            16,
        ),
    );
    add(
        sh_symtab,
        ".symtab",
        sh(
            elf::SHT_SYMTAB,
            0,
            symtab_at,
            symtab.len() as u64,
            sh_strtab,
            locals.len() as u32 + 1,
            8,
            SYM,
        ),
    );
    add(
        sh_strtab,
        ".strtab",
        sh(
            elf::SHT_STRTAB,
            0,
            strtab_at,
            strtab.0.len() as u64,
            0,
            0,
            1,
            0,
        ),
    );
    let shstr_name = shstr.add(b".shstrtab");
    out.extend_from_slice(&shstr.0);
    headers.push((
        sh_shstrtab,
        Sh {
            name: shstr_name,
            ..sh(
                elf::SHT_STRTAB,
                0,
                shstrtab_at,
                shstr.0.len() as u64,
                0,
                0,
                1,
                0,
            )
        },
    ));
    headers.sort_by_key(|(i, _)| *i);
    if headers.len() as u32 + 1 != shnum {
        return None;
    }
    let shoff = align(out.len() as u64, 8);
    out.resize(shoff as usize, 0);
    out.extend_from_slice(&[0; SHDR as usize]);
    for (_, h) in &headers {
        put32(&mut out, h.name);
        put32(&mut out, h.ty);
        put64(&mut out, h.flags);
        put64(&mut out, h.addr);
        put64(&mut out, h.offset);
        put64(&mut out, h.size);
        put32(&mut out, h.link);
        put32(&mut out, h.info);
        put64(&mut out, h.align);
        put64(&mut out, h.entsize);
    }
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    Some(out)
}
#[cfg(test)]
mod tests;
