//! Component objects: every core module of the component (each with its own
//! `<prefix>__m<N>__module` descriptor), the lowering trampolines, and the component descriptor
//! `<prefix>__component` that points at all of them — in one object.

use super::{add_module, finish_object, new_object, obj_err, relro_section};
use crate::component::CompiledComponent;
use crate::error::{Error, Result};
use crate::options::Options;
use object::write::{Relocation, StandardSection, Symbol, SymbolSection};
use object::{
    RelocationEncoding, RelocationFlags, RelocationKind, SymbolFlags, SymbolKind, SymbolScope,
};
use weld_contract::component::descriptor::{offsets as d, COMPONENT_MAGIC};
use weld_contract::symbols;

/// Write the object for a compiled component.
pub fn write_component(c: &CompiledComponent<'_>, options: &Options) -> Result<Vec<u8>> {
    let mut obj = new_object(options)?;
    let mut module_syms = Vec::new();
    for (parsed, compiled, prefix) in &c.modules {
        let mut o = options.clone();
        o.prefix = prefix.clone();
        module_syms.push(add_module(&mut obj, parsed, compiled, &o)?);
    }
    // Lowering trampolines: no relocations (they call through the context pointer).
    let text = obj.section_id(StandardSection::Text);
    let mut lowering_at = Vec::new();
    for (i, f) in c.lowerings.iter().enumerate() {
        if !f.relocs.is_empty() {
            return Err(Error::Codegen {
                func: i as u32,
                message: "lowering trampoline with relocations".into(),
            });
        }
        lowering_at.push(obj.append_section_data(text, &f.code, f.alignment.max(16) as u64));
    }
    let text_sym = obj.section_symbol(text);
    let rodata = obj.section_id(StandardSection::ReadOnlyData);
    let info = c.info.encode();
    let info_off = obj.append_section_data(rodata, &info, 1);
    let rodata_sym = obj.section_symbol(rodata);

    // Descriptor, then the two pointer arrays, in .data.rel.ro.
    let relro = relro_section(&mut obj);
    let mut bytes = vec![0u8; d::SIZE];
    bytes[d::MAGIC..d::MAGIC + 8].copy_from_slice(&COMPONENT_MAGIC);
    bytes[d::ABI_VERSION..d::ABI_VERSION + 4]
        .copy_from_slice(&weld_contract::ABI_VERSION.to_le_bytes());
    let mut put = |off: usize, v: u64| bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(d::INFO_LEN, info.len() as u64);
    put(d::MODULES_LEN, module_syms.len() as u64);
    put(d::LOWERINGS_LEN, lowering_at.len() as u64);
    let modules_rel = d::SIZE as u64;
    let lowerings_rel = modules_rel + 8 * module_syms.len() as u64;
    bytes.resize(lowerings_rel as usize + 8 * lowering_at.len(), 0);
    let base = obj.append_section_data(relro, &bytes, 16);
    let relro_sym = obj.section_symbol(relro);
    let mut relocs = vec![
        (base + d::INFO as u64, rodata_sym, info_off as i64),
        (
            base + d::MODULES as u64,
            relro_sym,
            (base + modules_rel) as i64,
        ),
        (
            base + d::LOWERINGS as u64,
            relro_sym,
            (base + lowerings_rel) as i64,
        ),
    ];
    for (i, sym) in module_syms.iter().enumerate() {
        relocs.push((base + modules_rel + 8 * i as u64, *sym, 0));
    }
    for (i, at) in lowering_at.iter().enumerate() {
        relocs.push((base + lowerings_rel + 8 * i as u64, text_sym, *at as i64));
    }
    for (offset, symbol, addend) in relocs {
        obj.add_relocation(
            relro,
            Relocation {
                offset,
                symbol,
                addend,
                flags: RelocationFlags::Generic {
                    kind: RelocationKind::Absolute,
                    encoding: RelocationEncoding::Generic,
                    size: 64,
                },
            },
        )
        .map_err(obj_err)?;
    }
    obj.add_symbol(Symbol {
        name: symbols::component_descriptor(&options.prefix).into_bytes(),
        value: base,
        size: d::SIZE as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(relro),
        flags: SymbolFlags::None,
    });
    finish_object(obj)
}
