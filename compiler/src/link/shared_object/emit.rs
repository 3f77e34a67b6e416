//! Phase 3 of writing a shared object: the bytes. The ELF and program headers, the dynamic
//! tables, the loaded sections with `.dynamic` among the writable ones, then `.symtab` and
//! `.strtab` (for debuggers and profilers), then the section headers (`headers.rs`).

use super::layout::{hash_table, Layout, PHNUM};
use super::read::Input;
use super::{align, put16, put32, put64, put_sym, OutSym, StrTab, DYNAMIC_SIZE, EHDR, PAGE};
use super::{PHDR, RELA, SHDR, SYM};
use object::elf;

/// Where `.symtab` and `.strtab` went, for their section headers.
pub(super) struct SymbolTables {
    pub(super) symtab_at: u64,
    pub(super) symtab_size: u64,
    /// Local symbols in `.symtab`, after its null entry (`sh_info` is one more).
    pub(super) locals: u32,
    pub(super) strtab_at: u64,
    pub(super) strtab_size: u64,
}

/// The output symbol of input symbol `i`.
fn out_sym(input: &Input, i: usize) -> OutSym {
    let s = &input.syms[i];
    let (shndx, base) = match s.section {
        Some(k) => (input.placed[k].shndx, input.placed[k].addr),
        None => (u32::from(elf::SHN_ABS), 0),
    };
    OutSym {
        info: s.info,
        other: s.other,
        shndx,
        value: base + s.value,
        size: s.size,
    }
}

/// The file up to the section headers.
pub(super) fn contents(input: &Input, layout: &Layout, rela: &[u8]) -> (Vec<u8>, SymbolTables) {
    let mut out = Vec::with_capacity(layout.load_end as usize + 4096);
    elf_header(&mut out, layout);
    program_headers(&mut out, layout);
    // .hash
    let (buckets, chains) = hash_table(input, layout);
    out.resize(layout.hash_at as usize, 0);
    put32(&mut out, layout.nbucket as u32);
    put32(&mut out, layout.ndyn as u32);
    buckets.iter().for_each(|b| put32(&mut out, *b));
    chains.iter().for_each(|c| put32(&mut out, *c));
    // .dynsym
    out.resize(layout.dynsym_at as usize, 0);
    out.extend_from_slice(&[0; SYM as usize]);
    for (k, &i) in layout.exported.iter().enumerate() {
        put_sym(&mut out, layout.dyn_names[k], &out_sym(input, i));
    }
    // .dynstr, .rela.dyn
    out.extend_from_slice(&layout.dynstr.0);
    out.resize(layout.rela_at as usize, 0);
    out.extend_from_slice(rela);
    // Sections, with .dynamic among the writable ones.
    for p in input.placed.iter().filter(|p| !p.nobits) {
        out.resize(p.addr as usize, 0);
        out.extend_from_slice(&p.data);
    }
    out.resize(layout.dynamic_at as usize, 0);
    out.extend_from_slice(&dynamic(input, layout));
    out.resize(layout.load_end as usize, 0);
    let tables = symbol_tables(&mut out, input);
    (out, tables)
}

/// The ELF header (its `e_shoff` is patched at the end).
fn elf_header(out: &mut Vec<u8>, layout: &Layout) {
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    out.extend_from_slice(&[0; 8]);
    put16(out, elf::ET_DYN);
    put16(out, elf::EM_X86_64);
    put32(out, 1);
    put64(out, 0);
    put64(out, EHDR);
    put64(out, 0);
    put32(out, 0);
    put16(out, EHDR as u16);
    put16(out, PHDR as u16);
    put16(out, PHNUM as u16);
    put16(out, SHDR as u16);
    put16(out, layout.sh.count as u16);
    put16(out, layout.sh.shstrtab as u16);
}

fn phdr(out: &mut Vec<u8>, ty: u32, flags: u32, off: u64, filesz: u64, memsz: u64, al: u64) {
    put32(out, ty);
    put32(out, flags);
    put64(out, off);
    put64(out, off);
    put64(out, off);
    put64(out, filesz);
    put64(out, memsz);
    put64(out, al);
}

/// PT_LOAD R, RX, RW, PT_DYNAMIC, PT_GNU_STACK.
fn program_headers(out: &mut Vec<u8>, layout: &Layout) {
    let seg = &layout.seg;
    let (r, x, w) = (elf::PF_R, elf::PF_X, elf::PF_W);
    phdr(out, elf::PT_LOAD, r, 0, seg[0].1, seg[0].1, PAGE);
    let code = seg[1].1 - seg[1].0;
    phdr(out, elf::PT_LOAD, r | x, seg[1].0, code, code, PAGE);
    let (file, mem) = (seg[2].1 - seg[2].0, seg[2].2 - seg[2].0);
    phdr(out, elf::PT_LOAD, r | w, seg[2].0, file, mem, PAGE);
    let at = layout.dynamic_at;
    phdr(
        out,
        elf::PT_DYNAMIC,
        r | w,
        at,
        DYNAMIC_SIZE,
        DYNAMIC_SIZE,
        8,
    );
    phdr(out, elf::PT_GNU_STACK, r | w, 0, 0, 0, 16);
}

/// The `.dynamic` section's bytes.
fn dynamic(input: &Input, layout: &Layout) -> Vec<u8> {
    let mut dynamic = Vec::with_capacity(DYNAMIC_SIZE as usize);
    let mut tag = |t: i64, v: u64| {
        put64(&mut dynamic, t as u64);
        put64(&mut dynamic, v);
    };
    tag(elf::DT_HASH, layout.hash_at);
    tag(elf::DT_STRTAB, layout.dynstr_at);
    tag(elf::DT_SYMTAB, layout.dynsym_at);
    tag(elf::DT_STRSZ, layout.dynstr.0.len() as u64);
    tag(elf::DT_SYMENT, SYM);
    if layout.has_rela() {
        tag(elf::DT_RELA, layout.rela_at);
        tag(elf::DT_RELASZ, layout.rela_size);
        tag(elf::DT_RELAENT, RELA);
        tag(elf::DT_RELACOUNT, input.pending.len() as u64);
    }
    tag(elf::DT_NULL, 0);
    dynamic.resize(DYNAMIC_SIZE as usize, 0);
    dynamic
}

/// `.symtab` (locals first, then the globals) and `.strtab`, appended to `out`.
fn symbol_tables(out: &mut Vec<u8>, input: &Input) -> SymbolTables {
    let syms = &input.syms;
    let mut strtab = StrTab::new();
    let mut symtab = vec![0u8; SYM as usize];
    let locals: Vec<usize> = (0..syms.len()).filter(|&i| !syms[i].global).collect();
    let globals: Vec<usize> = (0..syms.len()).filter(|&i| syms[i].global).collect();
    for &i in locals.iter().chain(&globals) {
        let name = strtab.add(&syms[i].name);
        put_sym(&mut symtab, name, &out_sym(input, i));
    }
    let symtab_at = align(out.len() as u64, 8);
    out.resize(symtab_at as usize, 0);
    out.extend_from_slice(&symtab);
    let strtab_at = out.len() as u64;
    out.extend_from_slice(&strtab.0);
    SymbolTables {
        symtab_at,
        symtab_size: symtab.len() as u64,
        locals: locals.len() as u32,
        strtab_at,
        strtab_size: strtab.0.len() as u64,
    }
}
