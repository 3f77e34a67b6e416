//! Phase 1 of writing a shared object: what the relocatable object holds that the output
//! needs — its allocated sections by segment, its 64-bit data relocations and its symbols — or
//! `None` for anything this writer does not handle (see the parent module).

use object::elf;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags,
    SectionIndex, SymbolFlags, SymbolSection,
};
use std::collections::HashMap;

/// Which segment an allocated input section goes to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Class {
    Read,
    Exec,
    Write,
}

/// An allocated input section and where it lands.
pub(super) struct Placed {
    pub(super) input: SectionIndex,
    pub(super) name: String,
    pub(super) class: Class,
    pub(super) nobits: bool,
    pub(super) flags: u64,
    pub(super) align: u64,
    pub(super) data: Vec<u8>,
    pub(super) size: u64,
    /// Its address (= file offset), once laid out.
    pub(super) addr: u64,
    /// Index in the output's section header table, once laid out.
    pub(super) shndx: u32,
}

/// An absolute 64-bit pointer in data, to become a `R_X86_64_RELATIVE` relocation.
pub(super) struct Pending {
    /// Index into [`Input::placed`].
    pub(super) section: usize,
    pub(super) offset: u64,
    pub(super) target: RelocationTarget,
    pub(super) addend: i64,
}

/// A defined symbol of the input.
pub(super) struct InSym {
    pub(super) name: Vec<u8>,
    pub(super) global: bool,
    pub(super) info: u8,
    pub(super) other: u8,
    /// Index into [`Input::placed`]; `None` for an absolute symbol.
    pub(super) section: Option<usize>,
    pub(super) value: u64,
    pub(super) size: u64,
}

/// Everything phase 1 read.
pub(super) struct Input {
    /// Allocated sections, sorted by (class, nobits), the object's order within each.
    pub(super) placed: Vec<Placed>,
    pub(super) pending: Vec<Pending>,
    pub(super) syms: Vec<InSym>,
    /// Input symbol index → index into `syms`.
    pub(super) by_index: HashMap<usize, usize>,
    /// Input section-symbol index → index into `placed` (relocations name sections so).
    pub(super) section_symbols: HashMap<usize, usize>,
}

/// Read `file`, or `None` if it needs a real linker.
pub(super) fn read(file: &object::File<'_>) -> Option<Input> {
    if file.architecture() != object::Architecture::X86_64
        || file.kind() != object::ObjectKind::Relocatable
        || file.format() != object::BinaryFormat::Elf
        || !file.is_little_endian()
        || !file.is_64()
    {
        return None;
    }
    let placed = sections(file)?;
    let pending = relocations(file, &placed)?;
    let (syms, by_index, section_symbols) = symbols(file, &placed)?;
    Some(Input {
        placed,
        pending,
        syms,
        by_index,
        section_symbols,
    })
}

/// Allocated sections, by segment.
fn sections(file: &object::File<'_>) -> Option<Vec<Placed>> {
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
    Some(placed)
}

/// Relocations: absolute 64-bit pointers in data, to defined places.
fn relocations(file: &object::File<'_>, placed: &[Placed]) -> Option<Vec<Pending>> {
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
    Some(pending)
}

type Symbols = (Vec<InSym>, HashMap<usize, usize>, HashMap<usize, usize>);

/// Symbols: every defined one kept; an undefined one needs a real linker.
fn symbols(file: &object::File<'_>, placed: &[Placed]) -> Option<Symbols> {
    let mut syms: Vec<InSym> = Vec::new();
    let mut by_index: HashMap<usize, usize> = HashMap::new();
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
    Some((syms, by_index, section_symbols))
}
