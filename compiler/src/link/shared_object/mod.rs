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

mod emit;
mod headers;
mod layout;
mod read;

const PAGE: u64 = 0x1000;
const EHDR: u64 = 64;
const PHDR: u64 = 56;
const SHDR: u64 = 64;
const SYM: u64 = 24;
const RELA: u64 = 24;
/// Room for the dynamic section's entries (at most 10, and the terminator).
const DYNAMIC_SIZE: u64 = 16 * 11;

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
/// Four phases: read what the object holds, lay it out, write the contents, then the section
/// headers.
pub fn write(input: &[u8]) -> Option<Vec<u8>> {
    let file = object::File::parse(input).ok()?;
    let mut input = read::read(&file)?;
    let layout = layout::plan(&mut input);
    let rela = layout::relocate(&mut input, &layout)?;
    let (mut out, tables) = emit::contents(&input, &layout, &rela);
    headers::append(&mut out, &input, &layout, &tables)?;
    Some(out)
}

#[cfg(test)]
mod tests;
