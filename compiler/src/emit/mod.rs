//! Object emission: one relocatable object per compiled module.
//!
//! In: the parsed module (for its [`ModuleInfo`](weld_contract::info::ModuleInfo) and data
//! bytes) and its [`CompiledModule`]. Out: the bytes of an ELF object.
//!
//! ```text
//! .text            every defined function, then the export trampolines, then the start
//!                  trampoline, then the C entry points; calls between them are patched here, so
//!                  the section carries relocations only for C library symbols some targets need
//!                  (ceilf, ...), the runtime's C API the entry points call (`weld_call`, PLT)
//!                  and the descriptor's address (GOT-relative on x86_64, page-relative on
//!                  aarch64)
//! .rodata          info blob | data-segment bytes | trap table (sorted by code offset)
//! .data.rel.ro     the VMModuleDescriptor (`<prefix>__module`) and its pointer arrays
//! ```
//!
//! Symbols follow `weld_contract::symbols`; the global ones are the descriptor and the C entry
//! points. The output
//! depends only on the input and the options, never on thread scheduling or time: same input,
//! byte-identical object.

pub mod component;
pub mod component_header;
mod debug;
pub mod exceptions;
pub mod header;
pub mod layout;
pub mod rust_bindings;
pub mod stack_maps;

use crate::codegen::{CompiledFunction, CompiledModule, RelocTarget};
use crate::error::{Error, Result};
use crate::frontend::ParsedModule;
use crate::options::{BoundsChecks, Options};
use cranelift_codegen::binemit::Reloc;
use object::write::{
    Object, Relocation, SectionId, StandardSection, Symbol, SymbolId, SymbolSection,
};
use object::{
    Architecture, BinaryFormat, Endianness, RelocationEncoding, RelocationFlags, RelocationKind,
    SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};
use weld_contract::descriptor::{offsets as d, FLAG_EXPLICIT_BOUNDS, MAGIC};
use weld_contract::info::ModuleInfo;
use weld_contract::symbols;

fn architecture(triple: &str) -> Result<Architecture> {
    match triple.split('-').next().unwrap_or("") {
        "x86_64" => Ok(Architecture::X86_64),
        "aarch64" => Ok(Architecture::Aarch64),
        "riscv64" | "riscv64gc" => Ok(Architecture::Riscv64),
        other => Err(Error::Unsupported {
            message: format!("no object writer for architecture {other:?}"),
            offset: None,
        }),
    }
}

fn obj_err(e: object::write::Error) -> Error {
    Error::Codegen {
        func: 0,
        message: format!("object writer: {e}"),
    }
}

/// Where each piece of code landed in `.text`.
struct TextLayout {
    funcs: Vec<u64>,
    trampolines: Vec<Option<u64>>,
    start: Option<u64>,
    entries: Vec<u64>,
    exits: Vec<u64>,
}

/// A new, empty object for the target of `options`.
pub(crate) fn new_object(options: &Options) -> Result<Object<'static>> {
    options.validate()?;
    let arch = architecture(options.target.as_str())?;
    let mut obj = Object::new(BinaryFormat::Elf, arch, Endianness::Little);
    if arch == Architecture::Riscv64 {
        // The linker refuses to mix float ABIs; Cranelift passes floats in F/D registers (lp64d).
        obj.flags = object::FileFlags::Elf {
            os_abi: object::elf::ELFOSABI_NONE,
            abi_version: 0,
            e_flags: object::elf::EF_RISCV_FLOAT_ABI_DOUBLE,
        };
    }
    Ok(obj)
}

/// Finish an object: mark the stack non-executable and serialise it.
pub(crate) fn finish_object(mut obj: Object<'_>) -> Result<Vec<u8>> {
    obj.add_section(
        vec![],
        b".note.GNU-stack".to_vec(),
        SectionKind::Elf(object::elf::SHT_PROGBITS),
    );
    obj.write().map_err(obj_err)
}

/// The `.data.rel.ro` section of an object (created on first use).
pub(crate) fn relro_section(obj: &mut Object<'_>) -> SectionId {
    obj.section_id(StandardSection::ReadOnlyDataWithRel)
}

/// Write the object for a compiled module.
pub fn write_object(
    parsed: &ParsedModule<'_>,
    compiled: &CompiledModule,
    options: &Options,
) -> Result<Vec<u8>> {
    let mut obj = new_object(options)?;
    add_module(&mut obj, parsed, compiled, options)?;
    finish_object(obj)
}

/// Add a compiled module (code, data, descriptor `<options.prefix>__module`) to `obj`; returns
/// the descriptor's symbol. Several modules can share one object.
pub(crate) fn add_module(
    obj: &mut Object<'_>,
    parsed: &ParsedModule<'_>,
    compiled: &CompiledModule,
    options: &Options,
) -> Result<SymbolId> {
    let prefix = options.prefix.as_str();
    let info = &parsed.info;

    // .text: lay out, then patch internal calls.
    let mut text = Vec::new();
    let place = |text: &mut Vec<u8>, f: &CompiledFunction| -> u64 {
        let at = layout::place(text.len() as u64, f.alignment, &f.small_loops);
        text.resize(at as usize, 0);
        text.extend_from_slice(&f.code);
        at
    };
    let funcs: Vec<u64> = compiled.funcs.iter().map(|f| place(&mut text, f)).collect();
    let trampolines: Vec<Option<u64>> = compiled
        .trampolines
        .iter()
        .map(|t| t.as_ref().map(|f| place(&mut text, f)))
        .collect();
    let start = compiled.start.as_ref().map(|f| place(&mut text, f));
    let entries: Vec<u64> = compiled
        .entries
        .iter()
        .map(|e| place(&mut text, &e.code))
        .collect();
    let exits: Vec<u64> = compiled.exits.iter().map(|f| place(&mut text, f)).collect();
    let layout = TextLayout {
        funcs,
        trampolines,
        start,
        entries,
        exits,
    };
    let text_id = obj.section_id(StandardSection::Text);
    let mut external: Vec<(u64, Reloc, String, i64)> = Vec::new();
    let mut to_descriptor: Vec<(u64, Reloc, i64)> = Vec::new();
    let mut to_label: Vec<(u64, Reloc, u64)> = Vec::new();
    let pieces = compiled
        .funcs
        .iter()
        .zip(layout.funcs.iter().copied())
        .chain(
            compiled
                .trampolines
                .iter()
                .zip(layout.trampolines.iter())
                .filter_map(|(f, at)| Some((f.as_ref()?, (*at)?))),
        )
        .chain(compiled.start.iter().zip(layout.start))
        .chain(
            compiled
                .entries
                .iter()
                .map(|e| &e.code)
                .zip(layout.entries.iter().copied()),
        )
        .chain(compiled.exits.iter().zip(layout.exits.iter().copied()));
    let mut traps = Vec::new();
    for (f, at) in pieces {
        for r in &f.relocs {
            let site = at + r.offset as u64;
            match &r.target {
                RelocTarget::Func(index) => {
                    let defined =
                        index
                            .checked_sub(info.imported_funcs)
                            .ok_or_else(|| Error::Codegen {
                                func: *index,
                                message: "direct call to an imported function".into(),
                            })?;
                    let target =
                        *layout
                            .funcs
                            .get(defined as usize)
                            .ok_or_else(|| Error::Codegen {
                                func: *index,
                                message: "call to a function that does not exist".into(),
                            })?;
                    patch(&mut text, site, r.kind, target, r.addend)?;
                }
                RelocTarget::Exit(index) => {
                    let target =
                        *layout
                            .exits
                            .get(*index as usize)
                            .ok_or_else(|| Error::Codegen {
                                func: 0,
                                message: format!(
                                    "call to exit trampoline {index}, which is missing"
                                ),
                            })?;
                    patch(&mut text, site, r.kind, target, r.addend)?;
                }
                RelocTarget::Symbol(name) => external.push((site, r.kind, name.clone(), r.addend)),
                RelocTarget::Descriptor => to_descriptor.push((site, r.kind, r.addend)),
                RelocTarget::Label(offset) => to_label.push((site, r.kind, at + *offset as u64)),
            }
        }
        for (off, code) in &f.traps {
            traps.push((at as u32 + off, *code as u8 as u32));
        }
    }
    traps.sort_unstable();
    let exn_table = exceptions::build(&compiled.funcs, &layout.funcs)?;
    let map_table = stack_maps::build(&compiled.funcs, &layout.funcs)?;
    let code_len = text.len() as u64;
    // Everything above is relative to this module's code; place it after earlier modules.
    // 64: function placement (`layout`) counts on where 64-byte lines fall.
    let base = obj.append_section_data(text_id, &text, 64);
    let layout = layout.rebase(base);
    let external: Vec<_> = external
        .into_iter()
        .map(|(site, k, n, a)| (site + base, k, n, a))
        .collect();
    let to_descriptor: Vec<_> = to_descriptor
        .into_iter()
        .map(|(site, k, a)| (site + base, k, a))
        .collect();
    let to_label: Vec<_> = to_label
        .into_iter()
        .map(|(site, k, label)| (site + base, k, label + base))
        .collect();
    let text_sym = obj.section_symbol(text_id);
    for (site, kind, name, addend) in external {
        external_reloc(obj, text_id, site, kind, &name, addend)?;
    }
    let func_symbols = add_function_symbols(obj, text_id, info, prefix, compiled, &layout);
    if options.debug_info {
        add_debug_info(obj, parsed, compiled, &func_symbols)?;
    }

    for (e, at) in compiled.entries.iter().zip(&layout.entries) {
        obj.add_symbol(Symbol {
            name: e.symbol.clone().into_bytes(),
            value: *at,
            size: e.code.code.len() as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(text_id),
            flags: SymbolFlags::None,
        });
    }

    // .rodata: info blob, data bytes, trap table.
    let rodata = obj.section_id(StandardSection::ReadOnlyData);
    // A module without a name in its name section is named after its symbol prefix, so that
    // backtraces can say which module a frame is in.
    let info_bytes = match info.module_name {
        Some(_) => info.encode(),
        None => ModuleInfo {
            module_name: Some(prefix.to_string()),
            ..info.clone()
        }
        .encode(),
    };
    let info_off = obj.append_section_data(rodata, &info_bytes, 1);
    let data_off = obj.append_section_data(rodata, &parsed.data, 1);
    let mut trap_bytes = Vec::with_capacity(traps.len() * 8);
    for (off, code) in &traps {
        trap_bytes.extend_from_slice(&off.to_le_bytes());
        trap_bytes.extend_from_slice(&code.to_le_bytes());
    }
    let traps_off = obj.append_section_data(rodata, &trap_bytes, 8);
    // Function ranges, relative to this module's code (layout.funcs is rebased; base is not).
    let mut range_bytes = Vec::with_capacity(compiled.funcs.len() * 8);
    for (f, at) in compiled.funcs.iter().zip(&layout.funcs) {
        let start = u32::try_from(at - base).map_err(|_| Error::Limit {
            message: "a module with more than 4 GiB of code".into(),
        })?;
        range_bytes.extend_from_slice(&start.to_le_bytes());
        range_bytes.extend_from_slice(&(f.code.len() as u32).to_le_bytes());
    }
    let ranges_off = obj.append_section_data(rodata, &range_bytes, 8);
    let sites_off = obj.append_section_data(rodata, &exn_table.sites, 8);
    let handlers_off = obj.append_section_data(rodata, &exn_table.handlers, 8);
    let maps_off = obj.append_section_data(rodata, &map_table.maps, 8);
    let slots_off = obj.append_section_data(rodata, &map_table.slots, 8);
    let rodata_sym = obj.section_symbol(rodata);

    // .data.rel.ro: descriptor and pointer arrays.
    let relro = relro_section(obj);
    let mut w = DataWriter::new(obj, relro);
    let funcs_at = w.here();
    let escaping: Vec<u32> = info
        .funcref_funcs
        .iter()
        .copied()
        .filter(|f| *f >= info.imported_funcs)
        .collect();
    for f in &escaping {
        let at = layout.funcs[(f - info.imported_funcs) as usize];
        w.pointer(text_sym, at as i64)?;
    }
    let tramps_at = w.here();
    for t in &layout.trampolines {
        match t {
            Some(at) => w.pointer(text_sym, *at as i64)?,
            None => w.bytes(&[0; 8]),
        }
    }
    let desc_at = w.here();
    let mut desc = vec![0u8; d::SIZE];
    desc[d::MAGIC..d::MAGIC + 8].copy_from_slice(&MAGIC);
    desc[d::ABI_VERSION..d::ABI_VERSION + 4]
        .copy_from_slice(&weld_contract::ABI_VERSION.to_le_bytes());
    let flags = match options.bounds_checks {
        BoundsChecks::Explicit => FLAG_EXPLICIT_BOUNDS,
        BoundsChecks::Guard => 0,
    } | crate::codegen::isa::cpu_flags(options)?;
    desc[d::FLAGS..d::FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
    let mut put = |off: usize, v: u64| desc[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(d::INFO_LEN, info_bytes.len() as u64);
    put(d::DATA_LEN, parsed.data.len() as u64);
    put(d::FUNCS_LEN, escaping.len() as u64);
    put(d::TRAMPOLINES_LEN, layout.trampolines.len() as u64);
    put(d::CODE_LEN, code_len);
    put(d::TRAPS_LEN, traps.len() as u64);
    put(d::FUNC_RANGES_LEN, compiled.funcs.len() as u64);
    put(d::CALL_SITES_LEN, exn_table.sites_len as u64);
    put(d::HANDLERS_LEN, exn_table.handlers_len as u64);
    put(d::STACK_MAPS_LEN, map_table.maps_len as u64);
    put(d::STACK_SLOTS_LEN, map_table.slots_len as u64);
    w.bytes(&desc);
    let relro_sym = w.section_symbol;
    let ptrs = [
        (d::INFO, rodata_sym, info_off as i64),
        (d::DATA, rodata_sym, data_off as i64),
        (d::FUNCS, relro_sym, funcs_at as i64),
        (d::TRAMPOLINES, relro_sym, tramps_at as i64),
        (d::CODE, text_sym, base as i64),
        (d::TRAPS, rodata_sym, traps_off as i64),
        (d::FUNC_RANGES, rodata_sym, ranges_off as i64),
        (d::CALL_SITES, rodata_sym, sites_off as i64),
        (d::HANDLERS, rodata_sym, handlers_off as i64),
        (d::STACK_MAPS, rodata_sym, maps_off as i64),
        (d::STACK_SLOTS, rodata_sym, slots_off as i64),
    ];
    for (field, sym, addend) in ptrs {
        w.reloc_at(desc_at + field as u64, sym, addend)?;
    }
    if let Some(at) = layout.start {
        w.reloc_at(desc_at + d::START as u64, text_sym, at as i64)?;
    }
    let desc_size = d::SIZE as u64;
    let relro_base = w.finish();
    let desc_at = relro_base + desc_at;
    let desc_sym = obj.add_symbol(Symbol {
        name: symbols::module_descriptor(prefix).into_bytes(),
        value: desc_at,
        size: desc_size,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(relro),
        flags: SymbolFlags::None,
    });
    for (site, kind, addend) in to_descriptor {
        let desc = (desc_sym, relro_sym, desc_at);
        descriptor_reloc(obj, text_id, site, kind, desc, addend)?;
    }
    for (i, (site, kind, label)) in to_label.into_iter().enumerate() {
        label_reloc(
            obj,
            text_id,
            site,
            kind,
            label,
            &format!(".L{prefix}__pcrel_hi{i}"),
        )?;
    }
    Ok(desc_sym)
}

impl TextLayout {
    fn rebase(self, base: u64) -> TextLayout {
        TextLayout {
            funcs: self.funcs.iter().map(|a| a + base).collect(),
            trampolines: self
                .trampolines
                .iter()
                .map(|a| a.map(|a| a + base))
                .collect(),
            start: self.start.map(|a| a + base),
            entries: self.entries.iter().map(|a| a + base).collect(),
            exits: self.exits.iter().map(|a| a + base).collect(),
        }
    }
}

/// Local symbols for the code of one module, for debuggers and profilers. Each defined function
/// twice: under the name people read ([`symbols::wasm_function_name`]), a function symbol with
/// its size, and under the injective one, a size-less label (`STT_NOTYPE`): gdb, perf, valgrind
/// and addr2line all name an address after the sized function symbol that covers it. The
/// export and start trampolines as `<module>!<call NAME>`.
fn add_function_symbols(
    obj: &mut Object<'_>,
    text_id: SectionId,
    info: &ModuleInfo,
    prefix: &str,
    compiled: &CompiledModule,
    layout: &TextLayout,
) -> Vec<SymbolId> {
    let module_name = info.module_name.as_deref().unwrap_or(prefix);
    let func_names: std::collections::HashMap<u32, &str> = info
        .func_names
        .iter()
        .map(|(i, n)| (*i, n.as_str()))
        .collect();
    let mut add = |name: String, value: u64, size: u64, kind: SymbolKind| -> SymbolId {
        obj.add_symbol(Symbol {
            name: symbol_text(&name),
            value,
            size,
            kind,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(text_id),
            flags: SymbolFlags::None,
        })
    };
    let mut readable_symbols = Vec::with_capacity(compiled.funcs.len());
    for (i, (f, at)) in compiled.funcs.iter().zip(&layout.funcs).enumerate() {
        let index = info.imported_funcs + i as u32;
        let name = func_names.get(&index).copied();
        let readable = symbols::wasm_function_name(Some(module_name), index, name);
        readable_symbols.push(add(readable, *at, f.code.len() as u64, SymbolKind::Text));
        add(
            symbols::defined_function(prefix, index),
            *at,
            0,
            SymbolKind::Label,
        );
    }
    let trampolines = compiled.trampolines.iter().zip(&layout.trampolines);
    for (export, (f, at)) in info.exports.iter().zip(trampolines) {
        if let (Some(f), Some(at)) = (f, at) {
            let name = format!("{module_name}!<call {}>", export.name);
            add(name, *at, f.code.len() as u64, SymbolKind::Text);
        }
    }
    if let (Some(f), Some(at)) = (&compiled.start, layout.start) {
        let name = format!("{module_name}!<call start>");
        add(name, at, f.code.len() as u64, SymbolKind::Text);
    }
    for (i, (f, at)) in compiled.exits.iter().zip(&layout.exits).enumerate() {
        let name = format!("{module_name}!<exit {i}>");
        add(name, *at, f.code.len() as u64, SymbolKind::Text);
    }
    readable_symbols
}

/// A name from the input (a name section, an export) as the bytes of a local symbol: ELF ends
/// names at a NUL, so a NUL inside one is written `\0` (found by the hostile-input campaign:
/// the object writer refused such a name with a panic).
pub(crate) fn symbol_text(name: &str) -> Vec<u8> {
    name.replace('\0', "\\0").into_bytes()
}

/// `-g`: the module's DWARF for its compiled functions (`debug.rs`); `symbols` are the
/// functions' own, from [`add_function_symbols`].
fn add_debug_info(
    obj: &mut Object<'_>,
    parsed: &ParsedModule<'_>,
    compiled: &CompiledModule,
    symbols: &[SymbolId],
) -> Result<()> {
    let code_start = parsed.debug.code_start;
    let funcs: Vec<debug::FuncDebug<'_>> = parsed
        .functions
        .iter()
        .zip(&compiled.funcs)
        .zip(symbols)
        .map(|((input, f), symbol)| {
            let body = input.body.range();
            debug::FuncDebug {
                symbol: *symbol,
                size: f.code.len() as u64,
                wasm: body.start.saturating_sub(code_start)..body.end.saturating_sub(code_start),
                srclocs: &f.srclocs,
            }
        })
        .collect();
    debug::add(obj, &parsed.debug, &funcs)
}

/// How code reaches the module's own descriptor. GOT-relative forms use the (global) descriptor
/// symbol itself, as their addend applies to the GOT slot; PC-relative forms use the local
/// section symbol, so that a shared library never needs a direct reference to a symbol that
/// could be preempted (which `ld -shared` refuses).
/// A call at `site` in `text_id` to the C library or runtime function `name` (an undefined
/// symbol, declared once).
pub(crate) fn external_reloc(
    obj: &mut Object<'_>,
    text_id: SectionId,
    site: u64,
    kind: Reloc,
    name: &str,
    addend: i64,
) -> Result<()> {
    let sym = match obj.symbol_id(name.as_bytes()) {
        Some(sym) => sym,
        None => obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Text,
            scope: SymbolScope::Unknown,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        }),
    };
    let flags = match kind {
        Reloc::X86CallPLTRel4 | Reloc::X86CallPCRel4 => RelocationFlags::Generic {
            kind: RelocationKind::PltRelative,
            encoding: RelocationEncoding::Generic,
            size: 32,
        },
        Reloc::Arm64Call => RelocationFlags::Elf {
            r_type: object::elf::R_AARCH64_CALL26,
        },
        // The function's address loaded from the GOT (x86_64 vector `fma` without FMA calls
        // `fmaf`/`fma` once per lane this way).
        Reloc::X86GOTPCRel4 => RelocationFlags::Elf {
            r_type: object::elf::R_X86_64_GOTPCREL,
        },
        Reloc::RiscvCallPlt => RelocationFlags::Elf {
            r_type: object::elf::R_RISCV_CALL_PLT,
        },
        other => return Err(unsupported_reloc(other, "a C library symbol")),
    };
    add_reloc(obj, text_id, site, sym, addend, flags)
}

/// Add a relocation at `offset` of `section`.
fn add_reloc(
    obj: &mut Object<'_>,
    section: SectionId,
    offset: u64,
    symbol: SymbolId,
    addend: i64,
    flags: RelocationFlags,
) -> Result<()> {
    let reloc = Relocation {
        offset,
        symbol,
        addend,
        flags,
    };
    obj.add_relocation(section, reloc).map_err(obj_err)
}

/// A relocation kind weld cannot emit against `target`.
fn unsupported_reloc(kind: Reloc, target: &str) -> Error {
    Error::Unsupported {
        message: format!("relocation {kind:?} to {target}"),
        offset: None,
    }
}

/// riscv64 splits a PC-relative address over `auipc` (high part, relocated against the
/// target) and the next instruction (low part, relocated against a label on the `auipc`): the
/// low part at `site`, with a local label `name` at `label`.
pub(crate) fn label_reloc(
    obj: &mut Object<'_>,
    text_id: SectionId,
    site: u64,
    kind: Reloc,
    label: u64,
    name: &str,
) -> Result<()> {
    let r_type = match kind {
        Reloc::RiscvPCRelLo12I => object::elf::R_RISCV_PCREL_LO12_I,
        other => {
            return Err(Error::Unsupported {
                message: format!("relocation {other:?} to a code label"),
                offset: None,
            })
        }
    };
    let symbol = obj.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value: label,
        size: 0,
        kind: SymbolKind::Label,
        scope: SymbolScope::Compilation,
        weak: false,
        section: SymbolSection::Section(text_id),
        flags: SymbolFlags::None,
    });
    add_reloc(
        obj,
        text_id,
        site,
        symbol,
        0,
        RelocationFlags::Elf { r_type },
    )
}

/// A reference at `site` in `text_id` to a descriptor: `desc` is its symbol, the symbol of its
/// section and its offset there (PC-relative kinds go through the section symbol).
pub(crate) fn descriptor_reloc(
    obj: &mut Object<'_>,
    text_id: SectionId,
    site: u64,
    kind: Reloc,
    desc: (SymbolId, SymbolId, u64),
    addend: i64,
) -> Result<()> {
    let (desc_sym, section_sym, desc_at) = desc;
    use object::elf;
    let local = (section_sym, desc_at as i64 + addend);
    let (sym, addend, r_type) = match kind {
        Reloc::X86GOTPCRel4 => (desc_sym, addend, elf::R_X86_64_GOTPCREL),
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 => (local.0, local.1, elf::R_X86_64_PC32),
        Reloc::Aarch64AdrGotPage21 => (desc_sym, addend, elf::R_AARCH64_ADR_GOT_PAGE),
        Reloc::Aarch64Ld64GotLo12Nc => (desc_sym, addend, elf::R_AARCH64_LD64_GOT_LO12_NC),
        Reloc::Aarch64AdrPrelPgHi21 => (local.0, local.1, elf::R_AARCH64_ADR_PREL_PG_HI21),
        Reloc::Aarch64AddAbsLo12Nc => (local.0, local.1, elf::R_AARCH64_ADD_ABS_LO12_NC),
        Reloc::RiscvGotHi20 => (desc_sym, addend, elf::R_RISCV_GOT_HI20),
        Reloc::RiscvPCRelHi20 => (local.0, local.1, elf::R_RISCV_PCREL_HI20),
        other => return Err(unsupported_reloc(other, "the module descriptor")),
    };
    add_reloc(
        obj,
        text_id,
        site,
        sym,
        addend,
        RelocationFlags::Elf { r_type },
    )
}

/// Appends bytes and absolute pointer relocations to one data section.
struct DataWriter<'o, 'a> {
    obj: &'o mut Object<'a>,
    section: SectionId,
    section_symbol: SymbolId,
    buf: Vec<u8>,
    relocs: Vec<(u64, SymbolId, i64)>,
}

impl<'o, 'a> DataWriter<'o, 'a> {
    fn new(obj: &'o mut Object<'a>, section: SectionId) -> Self {
        let section_symbol = obj.section_symbol(section);
        DataWriter {
            obj,
            section,
            section_symbol,
            buf: Vec::new(),
            relocs: Vec::new(),
        }
    }
    fn here(&self) -> u64 {
        self.buf.len() as u64
    }
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    fn pointer(&mut self, sym: SymbolId, addend: i64) -> Result<()> {
        let at = self.here();
        self.buf.extend_from_slice(&[0; 8]);
        self.reloc_at(at, sym, addend)
    }
    fn reloc_at(&mut self, at: u64, sym: SymbolId, addend: i64) -> Result<()> {
        self.relocs.push((at, sym, addend));
        Ok(())
    }
    /// Append the bytes to the section; returns where they start. Offsets and self-references
    /// recorded so far are relative to the writer's own bytes and are rebased here.
    fn finish(self) -> u64 {
        let DataWriter {
            obj,
            section,
            section_symbol,
            buf,
            relocs,
        } = self;
        let base = obj.append_section_data(section, &buf, 16);
        for (offset, symbol, addend) in relocs {
            let offset = offset + base;
            let addend = if symbol == section_symbol {
                addend + base as i64
            } else {
                addend
            };
            // Writing an Absolute/64 relocation for ELF cannot fail.
            let _ = add_pointer_reloc(obj, section, offset, symbol, addend);
        }
        base
    }
}

/// A 64-bit absolute relocation: the word at `offset` of `section` becomes the address of
/// `symbol` plus `addend` (a pointer in a descriptor).
pub(crate) fn add_pointer_reloc(
    obj: &mut Object<'_>,
    section: SectionId,
    offset: u64,
    symbol: SymbolId,
    addend: i64,
) -> Result<()> {
    let flags = RelocationFlags::Generic {
        kind: RelocationKind::Absolute,
        encoding: RelocationEncoding::Generic,
        size: 64,
    };
    add_reloc(obj, section, offset, symbol, addend, flags)
}

/// Resolve a call/PC-relative relocation inside `.text`.
fn patch(text: &mut [u8], site: u64, kind: Reloc, target: u64, addend: i64) -> Result<()> {
    let site_us = site as usize;
    let bad = || Error::Codegen {
        func: 0,
        message: format!("relocation {kind:?} out of range at {site:#x}"),
    };
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::X86CallPLTRel4 => {
            let v = target as i64 + addend - site as i64;
            let v = i32::try_from(v).map_err(|_| bad())?;
            text.get_mut(site_us..site_us + 4)
                .ok_or_else(bad)?
                .copy_from_slice(&v.to_le_bytes());
        }
        Reloc::Arm64Call => {
            let v = target as i64 + addend - site as i64;
            if v % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&v) {
                return Err(bad());
            }
            let slot = text.get_mut(site_us..site_us + 4).ok_or_else(bad)?;
            let insn = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
            let insn = (insn & 0xfc00_0000) | ((v >> 2) as u32 & 0x03ff_ffff);
            slot.copy_from_slice(&insn.to_le_bytes());
        }
        Reloc::RiscvCallPlt => {
            // auipc ra, hi20 ; jalr ra, lo12(ra)
            let v = target as i64 + addend - site as i64;
            let v = i32::try_from(v).map_err(|_| bad())?;
            let hi = (v.wrapping_add(0x800) as u32) & 0xffff_f000;
            let lo = (v as u32).wrapping_sub(hi) & 0xfff;
            let slot = text.get_mut(site_us..site_us + 8).ok_or_else(bad)?;
            let auipc = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
            let jalr = u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]);
            let auipc = (auipc & 0xfff) | hi;
            let jalr = (jalr & 0x000f_ffff) | (lo << 20);
            slot[0..4].copy_from_slice(&auipc.to_le_bytes());
            slot[4..8].copy_from_slice(&jalr.to_le_bytes());
        }
        other => {
            return Err(Error::Unsupported {
                message: format!("relocation kind {other:?} between functions"),
                offset: None,
            })
        }
    }
    Ok(())
}
