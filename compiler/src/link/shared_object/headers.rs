//! Phase 4 of writing a shared object: the section names and the section header table, at the
//! end of the file; then `e_shoff` points at it.

use super::emit::SymbolTables;
use super::layout::Layout;
use super::read::Input;
use super::{align, put32, put64, StrTab, DYNAMIC_SIZE, RELA, SHDR, SYM};
use object::elf;

/// One section header.
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

/// A header at `at` (its address too when the section is allocated), named later.
#[allow(clippy::too_many_arguments)]
fn sh(ty: u32, flags: u64, at: u64, size: u64, link: u32, info: u32, al: u64, ent: u64) -> Sh {
    Sh {
        name: 0,
        ty,
        flags,
        addr: if flags & u64::from(elf::SHF_ALLOC) != 0 {
            at
        } else {
            0
        },
        offset: at,
        size,
        link,
        info,
        align: al,
        entsize: ent,
    }
}

/// Append `.shstrtab` and the section headers to `out` and patch `e_shoff`; `None` if the
/// headers do not add up to the count the ELF header announced.
pub(super) fn append(
    out: &mut Vec<u8>,
    input: &Input,
    layout: &Layout,
    tables: &SymbolTables,
) -> Option<()> {
    let a = u64::from(elf::SHF_ALLOC);
    let i = &layout.sh;
    let mut shstr = StrTab::new();
    let mut headers: Vec<(u32, Sh)> = Vec::new();
    let mut add = |index: u32, name: &[u8], sh: Sh| {
        let n = shstr.add(name);
        headers.push((index, Sh { name: n, ..sh }));
    };
    let (hash_sh, ndyn) = (
        sh(
            elf::SHT_HASH,
            a,
            layout.hash_at,
            layout.hash_size,
            i.dynsym,
            0,
            8,
            4,
        ),
        layout.ndyn,
    );
    add(i.hash, b".hash", hash_sh);
    let dynsym = sh(
        elf::SHT_DYNSYM,
        a,
        layout.dynsym_at,
        SYM * ndyn,
        i.dynstr,
        1,
        8,
        SYM,
    );
    add(i.dynsym, b".dynsym", dynsym);
    let dynstr_size = layout.dynstr.0.len() as u64;
    add(
        i.dynstr,
        b".dynstr",
        sh(
            elf::SHT_STRTAB,
            a,
            layout.dynstr_at,
            dynstr_size,
            0,
            0,
            1,
            0,
        ),
    );
    if layout.has_rela() {
        let rela = sh(
            elf::SHT_RELA,
            a,
            layout.rela_at,
            layout.rela_size,
            i.dynsym,
            0,
            8,
            RELA,
        );
        add(i.rela, b".rela.dyn", rela);
    }
    for p in &input.placed {
        let ty = if p.nobits {
            elf::SHT_NOBITS
        } else {
            elf::SHT_PROGBITS
        };
        let mut s = sh(ty, p.flags, p.addr, p.size, 0, 0, p.align, 0);
        s.addr = p.addr;
        add(p.shndx, p.name.as_bytes(), s);
    }
    let rw = a | u64::from(elf::SHF_WRITE);
    let dynamic = sh(
        elf::SHT_DYNAMIC,
        rw,
        layout.dynamic_at,
        DYNAMIC_SIZE,
        i.dynstr,
        0,
        8,
        16,
    );
    add(i.dynamic, b".dynamic", dynamic);
    let symtab = sh(
        elf::SHT_SYMTAB,
        0,
        tables.symtab_at,
        tables.symtab_size,
        i.strtab,
        tables.locals + 1,
        8,
        SYM,
    );
    add(i.symtab, b".symtab", symtab);
    let strtab = sh(
        elf::SHT_STRTAB,
        0,
        tables.strtab_at,
        tables.strtab_size,
        0,
        0,
        1,
        0,
    );
    add(i.strtab, b".strtab", strtab);
    let shstr_name = shstr.add(b".shstrtab");
    let shstrtab_at = out.len() as u64;
    out.extend_from_slice(&shstr.0);
    let shstrtab = sh(
        elf::SHT_STRTAB,
        0,
        shstrtab_at,
        shstr.0.len() as u64,
        0,
        0,
        1,
        0,
    );
    headers.push((
        i.shstrtab,
        Sh {
            name: shstr_name,
            ..shstrtab
        },
    ));
    headers.sort_by_key(|(i, _)| *i);
    if headers.len() as u32 + 1 != i.count {
        return None;
    }
    let shoff = align(out.len() as u64, 8);
    out.resize(shoff as usize, 0);
    out.extend_from_slice(&[0; SHDR as usize]);
    for (_, h) in &headers {
        put32(out, h.name);
        put32(out, h.ty);
        put64(out, h.flags);
        put64(out, h.addr);
        put64(out, h.offset);
        put64(out, h.size);
        put32(out, h.link);
        put32(out, h.info);
        put64(out, h.align);
        put64(out, h.entsize);
    }
    out.get_mut(40..48)?.copy_from_slice(&shoff.to_le_bytes());
    Some(())
}
