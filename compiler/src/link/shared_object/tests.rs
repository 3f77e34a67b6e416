//! The shared object writer against objects shaped like weld's, and the ones it refuses.

use super::*;
use object::elf;
use object::write::{
    Object as WObject, Relocation, StandardSection, Symbol, SymbolSection as WSection,
};
use object::{Architecture, BinaryFormat, Endianness, SymbolKind, SymbolScope};
use object::{Object, ObjectSection, ObjectSymbol};

/// An object like weld's: code, and a data table pointing at the code and at itself.
fn object(arch: Architecture, undefined: bool, reloc_in_code: bool) -> Vec<u8> {
    let mut obj = WObject::new(BinaryFormat::Elf, arch, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    let code = obj.append_section_data(text, &[0x55, 0xc3, 0x90, 0x90], 16);
    let f = obj.add_symbol(Symbol {
        name: b"f_local".to_vec(),
        value: code,
        size: 2,
        kind: SymbolKind::Text,
        scope: SymbolScope::Compilation,
        weak: false,
        section: WSection::Section(text),
        flags: object::SymbolFlags::None,
    });
    let data = obj.section_id(StandardSection::ReadOnlyDataWithRel);
    let table = obj.append_section_data(data, &[0; 24], 8);
    obj.add_symbol(Symbol {
        name: b"table".to_vec(),
        value: table,
        size: 24,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: WSection::Section(data),
        flags: object::SymbolFlags::None,
    });
    let r64 = |offset: u64, symbol, addend| Relocation {
        offset,
        symbol,
        addend,
        flags: object::RelocationFlags::Elf {
            r_type: elf::R_X86_64_64,
        },
    };
    obj.add_relocation(data, r64(table, f, 1)).expect("reloc");
    let section_symbol = obj.section_symbol(data);
    obj.add_relocation(data, r64(table + 8, section_symbol, 16))
        .expect("reloc");
    if undefined {
        let m = obj.add_symbol(Symbol {
            name: b"memcpy".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: WSection::Undefined,
            flags: object::SymbolFlags::None,
        });
        obj.add_relocation(data, r64(table + 16, m, 0))
            .expect("reloc");
    }
    if reloc_in_code {
        obj.add_relocation(text, r64(code, f, 0)).expect("reloc");
    }
    obj.write().expect("object")
}

#[test]
fn pointers_become_relative_relocations_and_globals_dynamic_symbols() {
    use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
    let so = write(&object(Architecture::X86_64, false, false)).expect("written");
    let file = ElfFile64::<Endianness>::parse(&*so).expect("an ELF file");
    assert_eq!(file.kind(), object::ObjectKind::Dynamic);
    let text = file.section_by_name(".text").expect(".text").address();
    let data = file
        .section_by_name(".data.rel.ro")
        .expect("data")
        .address();
    // The table's exported symbol, at its place.
    let table = file
        .dynamic_symbols()
        .find(|s| s.name() == Ok("table"))
        .expect("table in .dynsym");
    assert_eq!(table.address(), data);
    assert!(file.dynamic_symbols().all(|s| s.name() != Ok("f_local")));
    assert!(file
        .symbols()
        .any(|s| s.name() == Ok("f_local") && s.address() == text));
    // Two RELATIVE relocations, the values also written in place.
    let relocs: Vec<_> = file.dynamic_relocations().expect("relocations").collect();
    assert_eq!(relocs.len(), 2);
    for (at, want) in [(data, text + 1), (data + 8, data + 16)] {
        let r = relocs
            .iter()
            .find(|(o, _)| *o == at)
            .expect("a relocation there");
        assert_eq!(
            r.1.flags(),
            object::RelocationFlags::Elf {
                r_type: elf::R_X86_64_RELATIVE
            }
        );
        assert_eq!(r.1.addend(), want as i64);
        let o = at as usize;
        assert_eq!(so[o..o + 8], want.to_le_bytes());
    }
    // Segments: one per permission, none writable and executable, each inside the file.
    let header = file.elf_header();
    let loads: Vec<_> = header
        .program_headers(Endianness::Little, &*so)
        .expect("program headers")
        .iter()
        .filter(|p| p.p_type(Endianness::Little) == elf::PT_LOAD)
        .map(|p| {
            (
                p.p_flags(Endianness::Little),
                p.p_offset(Endianness::Little),
                p.p_filesz(Endianness::Little),
            )
        })
        .collect();
    assert_eq!(loads.len(), 3);
    for (flags, offset, size) in loads {
        assert!(flags & elf::PF_W == 0 || flags & elf::PF_X == 0);
        assert!(offset + size <= so.len() as u64);
    }
    // The same checks plugins get before they are loaded pass (bar the descriptor symbol,
    // which this object does not have).
    let e = weld_runtime::plugin::precheck(&so).expect_err("no descriptor");
    assert!(e.to_string().contains("weld_plugin_v1"), "{e}");
}

#[test]
fn objects_that_need_a_linker_are_left_to_it() {
    assert!(
        write(&object(Architecture::X86_64, true, false)).is_none(),
        "undefined symbol"
    );
    assert!(
        write(&object(Architecture::X86_64, false, true)).is_none(),
        "relocation in code"
    );
    assert!(
        write(&object(Architecture::Aarch64, false, false)).is_none(),
        "aarch64"
    );
    assert!(write(b"not an object").is_none());
}
