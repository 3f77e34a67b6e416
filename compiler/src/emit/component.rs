//! Component objects: every core module of the component (each with its own
//! `<prefix>__m<N>__module` descriptor), the lowering trampolines, and the component descriptor
//! `<prefix>__component` that points at all of them — in one object.

use super::{
    add_module, add_pointer_reloc, descriptor_reloc, external_reloc, finish_object, label_reloc,
    new_object, relro_section,
};
use crate::codegen::{CompiledFunction, RelocTarget};
use crate::component::CompiledComponent;
use crate::error::{Error, Result};
use crate::options::Options;
use object::write::{StandardSection, Symbol, SymbolSection};
use object::{SymbolFlags, SymbolKind, SymbolScope};
use weld_contract::component::descriptor::{offsets as d, COMPONENT_MAGIC};
use weld_contract::symbols;

/// The local symbol of lowering trampoline `i`: `<prefix>!<lower NAME>` for a host import,
/// `<prefix>!<fused call N>` between the component's instances, `<prefix>!<BUILTIN>`.
fn lowering_name(c: &CompiledComponent<'_>, prefix: &str, i: usize) -> String {
    use weld_contract::component::LoweringTarget;
    match c.info.lowerings.get(i).map(|l| &l.target) {
        Some(LoweringTarget::Import(k)) => match c.info.imports.get(*k as usize) {
            Some(import) => format!("{prefix}!<lower {}>", import.name),
            None => format!("{prefix}!<lowering {i}>"),
        },
        Some(LoweringTarget::Lifted(_)) => format!("{prefix}!<fused call {i}>"),
        Some(LoweringTarget::Builtin(b)) => format!("{prefix}!<{}>", b.name()),
        None => format!("{prefix}!<lowering {i}>"),
    }
}

/// Write the object for a compiled component.
pub fn write_component(c: &CompiledComponent<'_>, options: &Options) -> Result<Vec<u8>> {
    write_component_with_main(c, options, None)
}

/// [`write_component`], with `main` (`codegen::compile_exe_main`) as the object's `main` for
/// an executable of a command component.
pub fn write_component_with_main(
    c: &CompiledComponent<'_>,
    options: &Options,
    main: Option<&CompiledFunction>,
) -> Result<Vec<u8>> {
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
        let at = obj.append_section_data(text, &f.code, f.alignment.max(16) as u64);
        lowering_at.push(at);
        // For debuggers and profilers, as the modules' functions are named.
        obj.add_symbol(Symbol {
            name: super::symbol_text(&lowering_name(c, &options.prefix, i)),
            value: at,
            size: f.code.len() as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
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
        add_pointer_reloc(&mut obj, relro, offset, symbol, addend)?;
    }
    let component_sym = obj.add_symbol(Symbol {
        name: symbols::component_descriptor(&options.prefix).into_bytes(),
        value: base,
        size: d::SIZE as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(relro),
        flags: SymbolFlags::None,
    });
    if options.plugin {
        add_plugin_descriptor(&mut obj, &c.info, options.target.as_str(), component_sym)?;
    }
    if let Some(main) = main {
        let text = obj.section_id(StandardSection::Text);
        let at = obj.append_section_data(text, &main.code, main.alignment.max(16) as u64);
        for (i, r) in main.relocs.iter().enumerate() {
            let site = at + u64::from(r.offset);
            match &r.target {
                RelocTarget::Symbol(name) => {
                    external_reloc(&mut obj, text, site, r.kind, name, r.addend)?;
                }
                RelocTarget::Descriptor => {
                    let desc = (component_sym, relro_sym, base);
                    descriptor_reloc(&mut obj, text, site, r.kind, desc, r.addend)?;
                }
                RelocTarget::Label(off) => {
                    let name = format!(".L{}__main_pcrel_hi{i}", options.prefix);
                    label_reloc(&mut obj, text, site, r.kind, at + u64::from(*off), &name)?;
                }
                RelocTarget::Func(_) | RelocTarget::Exit(_) => {
                    return Err(Error::Codegen {
                        func: 0,
                        message: "main calls a wasm function directly".into(),
                    })
                }
            }
        }
        obj.add_symbol(Symbol {
            name: b"main".to_vec(),
            value: at,
            size: main.code.len() as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(text),
            flags: SymbolFlags::None,
        });
    }
    finish_object(obj)
}

/// Export `weld_plugin_v1`: the target, the world text and its hash, and the component
/// descriptor, for hosts that load the shared object as a plugin.
fn add_plugin_descriptor(
    obj: &mut object::write::Object<'_>,
    info: &weld_contract::component::ComponentInfo,
    target: &str,
    component: object::write::SymbolId,
) -> Result<()> {
    use weld_contract::component::world::{self, offsets as p};
    let world_text = world::world_text(info);
    let rodata = obj.section_id(StandardSection::ReadOnlyData);
    let target_off = obj.append_section_data(rodata, target.as_bytes(), 1);
    let world_off = obj.append_section_data(rodata, world_text.as_bytes(), 1);
    let rodata_sym = obj.section_symbol(rodata);
    let mut bytes = vec![0u8; p::SIZE];
    bytes[p::MAGIC..p::MAGIC + 8].copy_from_slice(&world::PLUGIN_MAGIC);
    bytes[p::ABI_VERSION..p::ABI_VERSION + 4]
        .copy_from_slice(&weld_contract::ABI_VERSION.to_le_bytes());
    let mut put = |off: usize, v: u64| bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(p::TARGET_LEN, target.len() as u64);
    put(p::WORLD_LEN, world_text.len() as u64);
    put(p::WORLD_HASH, world::fnv1a64(world_text.as_bytes()));
    let relro = relro_section(obj);
    let base = obj.append_section_data(relro, &bytes, 16);
    for (field, symbol, addend) in [
        (p::TARGET, rodata_sym, target_off as i64),
        (p::WORLD, rodata_sym, world_off as i64),
        (p::COMPONENT, component, 0),
    ] {
        add_pointer_reloc(obj, relro, base + field as u64, symbol, addend)?;
    }
    obj.add_symbol(Symbol {
        name: world::PLUGIN_SYMBOL.as_bytes().to_vec(),
        value: base,
        size: p::SIZE as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(relro),
        flags: SymbolFlags::None,
    });
    Ok(())
}
