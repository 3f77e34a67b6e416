//! `weld compile -g`: the module's DWARF, translated for the native code.
//!
//! In: the DWARF clang `-g` writes into a wasm module (its addresses are offsets in the code
//! section's contents), each compiled function's symbol and size, and which wasm instruction
//! each stretch of its code came from (`CompiledFunction::srclocs`). Out: `.debug_info`,
//! `.debug_abbrev`, `.debug_line` and `.debug_ranges` sections in the object, whose addresses
//! are relocations against the functions' symbols, so they hold wherever the linker puts code.
//!
//! Per compile unit: the unit (name, directory, producer, language) over its functions' native
//! ranges; a subprogram per compiled function, with its name, declaration line and native
//! range; and a line table made anew from the native code, where each stretch of code gets the
//! source line of the wasm instruction it came from. gdb then stops at `file.c:LINE`, names C
//! functions in `bt` and steps. Not translated: types, variables and inlined calls (their
//! locations are wasm locals and operand-stack slots, which have no native home to name).
//!
//! DWARF that cannot be read (truncated, or of a form gimli refuses) is an "unsupported" error
//! naming the section problem; the compile without `-g` never reads it.

use crate::codegen::SrcLoc;
use crate::error::{Error, Result};
use crate::frontend::DebugInput;
use gimli::write::{
    self as w, Address, AttributeValue, EndianVec, LineProgram, LineString, RangeList,
    RelocateWriter, Sections, Unit,
};
use gimli::{constants, read, Encoding, EndianSlice, Format, LineEncoding, LittleEndian};
use object::write::{Object, Relocation, SymbolId};
use object::{RelocationEncoding, RelocationFlags, RelocationKind, SectionKind};
use std::collections::HashMap;
use std::ops::Range;

type Reader<'a> = EndianSlice<'a, LittleEndian>;

/// One compiled function, as the debug information needs it.
pub(crate) struct FuncDebug<'a> {
    /// Its symbol (at its first byte).
    pub symbol: SymbolId,
    /// Native code size.
    pub size: u64,
    /// Its body in DWARF's wasm addresses (offsets in the code section's contents).
    pub wasm: Range<u64>,
    /// Native stretches and the wasm instructions they came from (input offsets).
    pub srclocs: &'a [SrcLoc],
}

fn unreadable(e: gimli::Error) -> Error {
    Error::Unsupported {
        message: format!("-g: the module's DWARF cannot be read: {e}"),
        offset: None,
    }
}

fn unwritable(e: w::Error) -> Error {
    Error::Unsupported {
        message: format!("-g: the translated DWARF cannot be written: {e}"),
        offset: None,
    }
}

/// Add the translated debug information of one module to `obj` (nothing when the module has
/// no `.debug_info`). `funcs` are the module's defined functions in order.
pub(crate) fn add(
    obj: &mut Object<'_>,
    input: &DebugInput<'_>,
    funcs: &[FuncDebug<'_>],
) -> Result<()> {
    let section = |name: &str| -> &[u8] {
        input
            .sections
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[], |(_, d)| *d)
    };
    if section(".debug_info").is_empty() {
        return Ok(());
    }
    let dwarf = read::Dwarf::load(|id| -> std::result::Result<Reader<'_>, gimli::Error> {
        Ok(EndianSlice::new(section(id.name()), LittleEndian))
    })
    .map_err(unreadable)?;
    let mut out = w::Dwarf::new();
    let mut headers = dwarf.units();
    while let Some(header) = headers.next().map_err(unreadable)? {
        let unit = dwarf.unit(header).map_err(unreadable)?;
        if let Some(translated) = translate_unit(&dwarf, &unit, input.code_start, funcs)? {
            out.units.add(translated);
        }
    }
    let mut sections = Sections::new(DebugWriter::default());
    out.write(&mut sections).map_err(unwritable)?;
    write_sections(obj, &sections, funcs)
}

/// A source position of the wasm line table.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Position {
    file: u64,
    line: u64,
    column: u64,
    is_stmt: bool,
}

/// The wasm line table as address ranges, sorted by start.
struct WasmLines(Vec<(Range<u64>, Position)>);

impl WasmLines {
    fn read(program: read::IncompleteLineProgram<Reader<'_>>) -> Result<WasmLines> {
        let mut ranges = Vec::new();
        let mut rows = program.rows();
        let mut open: Option<(u64, Position)> = None;
        while let Some((_, row)) = rows.next_row().map_err(unreadable)? {
            if let Some((start, pos)) = open.take() {
                if row.address() > start {
                    ranges.push((start..row.address(), pos));
                }
            }
            if !row.end_sequence() {
                let column = match row.column() {
                    read::ColumnType::LeftEdge => 0,
                    read::ColumnType::Column(c) => c.get(),
                };
                let pos = Position {
                    file: row.file_index(),
                    line: row.line().map_or(0, |l| l.get()),
                    column,
                    is_stmt: row.is_stmt(),
                };
                open = Some((row.address(), pos));
            }
        }
        ranges.sort_by_key(|(r, _)| r.start);
        Ok(WasmLines(ranges))
    }

    fn at(&self, addr: u64) -> Option<Position> {
        let i = self
            .0
            .partition_point(|(r, _)| r.start <= addr)
            .checked_sub(1)?;
        let (range, pos) = &self.0[i];
        (range.contains(&addr) && pos.line != 0).then_some(*pos)
    }
}

/// A function's subprogram in the wasm DWARF.
struct Subprogram {
    func: usize,
    name: Vec<u8>,
    decl_file: Option<u64>,
    decl_line: Option<u64>,
    external: bool,
}

fn translate_unit(
    dwarf: &read::Dwarf<Reader<'_>>,
    unit: &read::Unit<Reader<'_>>,
    code_start: u64,
    funcs: &[FuncDebug<'_>],
) -> Result<Option<Unit>> {
    let string = |v: read::AttributeValue<Reader<'_>>| -> Option<Vec<u8>> {
        let s = dwarf.attr_string(unit, v).ok()?;
        Some(s.slice().iter().copied().filter(|b| *b != 0).collect())
    };
    let mut entries = unit.entries();
    let Some(root) = entries.next_dfs().map_err(unreadable)? else {
        return Ok(None);
    };
    let producer = root.attr_value(constants::DW_AT_producer).and_then(string);
    let language = match root.attr_value(constants::DW_AT_language) {
        Some(read::AttributeValue::Language(l)) => Some(l),
        _ => None,
    };
    let by_start: HashMap<u64, usize> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.wasm.start, i))
        .collect();
    let mut subprograms = Vec::new();
    while let Some(entry) = entries.next_dfs().map_err(unreadable)? {
        if entry.tag() != constants::DW_TAG_subprogram {
            continue;
        }
        let low_pc = match entry.attr_value(constants::DW_AT_low_pc) {
            Some(v) => dwarf.attr_address(unit, v).map_err(unreadable)?,
            None => None,
        };
        let Some(&func) = low_pc.and_then(|pc| by_start.get(&pc)) else {
            continue;
        };
        let name = entry
            .attr_value(constants::DW_AT_name)
            .or_else(|| entry.attr_value(constants::DW_AT_linkage_name))
            .and_then(string)
            .filter(|n| !n.is_empty());
        let Some(name) = name else { continue };
        let udata = |at| match entry.attr_value(at) {
            Some(read::AttributeValue::FileIndex(i)) => Some(i),
            Some(v) => v.udata_value(),
            None => None,
        };
        subprograms.push(Subprogram {
            func,
            name,
            decl_file: udata(constants::DW_AT_decl_file),
            decl_line: udata(constants::DW_AT_decl_line),
            external: matches!(
                entry.attr_value(constants::DW_AT_external),
                Some(read::AttributeValue::Flag(true))
            ),
        });
    }
    if subprograms.is_empty() {
        return Ok(None);
    }
    // gimli refuses empty names and NUL bytes in them.
    let non_empty = |v: Option<Reader<'_>>, default: &[u8]| match v.map(|s| strip_nul(s.slice())) {
        Some(v) if !v.is_empty() => v,
        _ => default.to_vec(),
    };
    let name = non_empty(unit.name, b"<unknown>");
    let comp_dir = non_empty(unit.comp_dir, b".");
    let encoding = Encoding {
        format: Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let mut program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::String(comp_dir.clone()),
        None,
        LineString::String(name.clone()),
        None,
    );
    let mut files = Files::default();
    if let Some(wasm_program) = unit.line_program.clone() {
        let header = wasm_program.header().clone();
        let lines = WasmLines::read(wasm_program)?;
        let ctx = LineContext {
            dwarf,
            unit,
            header: &header,
        };
        for sp in &subprograms {
            let f = &funcs[sp.func];
            line_sequence(
                &mut program,
                &mut files,
                &ctx,
                sp.func,
                f,
                &lines,
                code_start,
            );
        }
        for sp in &subprograms {
            if let Some(index) = sp.decl_file {
                files.get(&ctx, &mut program, index);
            }
        }
    }
    let mut out = Unit::new(encoding, program);
    let root = out.root();
    let ranges = subprograms
        .iter()
        .map(|sp| w::Range::StartLength {
            begin: Address::Symbol {
                symbol: sp.func,
                addend: 0,
            },
            length: funcs[sp.func].size,
        })
        .collect();
    let ranges = out.ranges.add(RangeList(ranges));
    let cu = out.get_mut(root);
    cu.set(constants::DW_AT_name, AttributeValue::String(name));
    cu.set(constants::DW_AT_comp_dir, AttributeValue::String(comp_dir));
    let mut producer = producer.unwrap_or_default();
    producer.extend_from_slice(b" (translated by weld -g)");
    cu.set(constants::DW_AT_producer, AttributeValue::String(producer));
    if let Some(l) = language {
        cu.set(constants::DW_AT_language, AttributeValue::Language(l));
    }
    cu.set(
        constants::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(0)),
    );
    cu.set(
        constants::DW_AT_ranges,
        AttributeValue::RangeListRef(ranges),
    );
    for sp in &subprograms {
        let id = out.add(root, constants::DW_TAG_subprogram);
        let file = sp.decl_file.and_then(|i| files.known(i));
        let die = out.get_mut(id);
        die.set(
            constants::DW_AT_name,
            AttributeValue::String(sp.name.clone()),
        );
        if let Some(file) = file {
            die.set(
                constants::DW_AT_decl_file,
                AttributeValue::FileIndex(Some(file)),
            );
        }
        if let Some(line) = sp.decl_line {
            die.set(constants::DW_AT_decl_line, AttributeValue::Udata(line));
        }
        if sp.external {
            die.set(constants::DW_AT_external, AttributeValue::Flag(true));
        }
        die.set(
            constants::DW_AT_low_pc,
            AttributeValue::Address(Address::Symbol {
                symbol: sp.func,
                addend: 0,
            }),
        );
        die.set(
            constants::DW_AT_high_pc,
            AttributeValue::Udata(funcs[sp.func].size),
        );
    }
    Ok(Some(out))
}

/// The line rows of one function: a row wherever the source position changes, the first at
/// the function's first byte (where gdb puts a function's breakpoint before skipping to the
/// next row, the end of the prologue).
fn line_sequence(
    program: &mut LineProgram,
    files: &mut Files,
    ctx: &LineContext<'_, '_>,
    func: usize,
    f: &FuncDebug<'_>,
    lines: &WasmLines,
    code_start: u64,
) {
    let positions: Vec<(u64, Position)> = f
        .srclocs
        .iter()
        .filter_map(|s| {
            let addr = u64::from(s.wasm).checked_sub(code_start)?;
            Some((u64::from(s.start), lines.at(addr)?))
        })
        .collect();
    let Some(&(_, first)) = positions.first() else {
        return;
    };
    program.begin_sequence(Some(Address::Symbol {
        symbol: func,
        addend: 0,
    }));
    let mut last = None;
    for (i, (offset, pos)) in positions.into_iter().enumerate() {
        let offset = if i == 0 { 0 } else { offset };
        let pos = if i == 0 { first } else { pos };
        if last == Some(pos) || offset >= f.size {
            continue;
        }
        let Some(file) = files.get(ctx, program, pos.file) else {
            continue;
        };
        let row = program.row();
        row.address_offset = offset;
        row.file = file;
        row.line = pos.line;
        row.column = pos.column;
        // A new line is a statement even where the wasm instruction clang marked as its
        // start compiled to no code of its own (a `local.get`), so gdb can stop at it.
        row.is_statement = pos.is_stmt || last.is_none_or(|l: Position| l.line != pos.line);
        program.generate_row();
        last = Some(pos);
    }
    program.end_sequence(f.size);
}

/// Where the wasm line table's file names are read from.
struct LineContext<'d, 'a> {
    dwarf: &'d read::Dwarf<Reader<'a>>,
    unit: &'d read::Unit<Reader<'a>>,
    header: &'d read::LineProgramHeader<Reader<'a>>,
}

/// The wasm line table's files, added to the native one as they are used.
#[derive(Default)]
struct Files(HashMap<u64, Option<w::FileId>>);

impl Files {
    fn known(&self, index: u64) -> Option<w::FileId> {
        self.0.get(&index).copied().flatten()
    }

    fn get(
        &mut self,
        ctx: &LineContext<'_, '_>,
        program: &mut LineProgram,
        index: u64,
    ) -> Option<w::FileId> {
        *self.0.entry(index).or_insert_with(|| {
            let entry = ctx.header.file(index)?;
            let text = |v| {
                let s = ctx.dwarf.attr_string(ctx.unit, v).ok()?;
                Some(strip_nul(s.slice())).filter(|s| !s.is_empty())
            };
            let path = text(entry.path_name())?;
            let dir = match entry.directory(ctx.header).and_then(text) {
                Some(d) => program.add_directory(LineString::String(d)),
                None => program.default_directory(),
            };
            Some(program.add_file(LineString::String(path), dir, None))
        })
    }
}

fn strip_nul(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(|b| *b != 0).collect()
}

/// A section's bytes and the relocations gimli asked for.
#[derive(Clone)]
struct DebugWriter {
    data: EndianVec<LittleEndian>,
    relocs: Vec<w::Relocation>,
}

impl Default for DebugWriter {
    fn default() -> DebugWriter {
        DebugWriter {
            data: EndianVec::new(LittleEndian),
            relocs: Vec::new(),
        }
    }
}

impl RelocateWriter for DebugWriter {
    type Writer = EndianVec<LittleEndian>;

    fn writer(&self) -> &Self::Writer {
        &self.data
    }

    fn writer_mut(&mut self) -> &mut Self::Writer {
        &mut self.data
    }

    fn relocate(&mut self, relocation: w::Relocation) {
        self.relocs.push(relocation);
    }
}

/// Put the written sections into `obj`, with their relocations: to a function's symbol, or
/// to another debug section of this module (the linker concatenates every input's).
fn write_sections(
    obj: &mut Object<'_>,
    sections: &Sections<DebugWriter>,
    funcs: &[FuncDebug<'_>],
) -> Result<()> {
    let mut placed = HashMap::new();
    sections
        .for_each(|id, writer| -> std::result::Result<(), ()> {
            if !writer.data.slice().is_empty() {
                let section =
                    obj.add_section(vec![], id.name().as_bytes().to_vec(), SectionKind::Debug);
                obj.append_section_data(section, writer.data.slice(), 1);
                placed.insert(id, section);
            }
            Ok(())
        })
        .map_err(|()| unwritable(w::Error::InvalidAttributeValue))?;
    let mut result = Ok(());
    let _ = sections.for_each(|id, writer| -> std::result::Result<(), ()> {
        let Some(&section) = placed.get(&id) else {
            return Ok(());
        };
        for r in &writer.relocs {
            let symbol = match r.target {
                w::RelocationTarget::Symbol(i) => funcs.get(i).map(|f| f.symbol),
                w::RelocationTarget::Section(s) => placed.get(&s).map(|s| obj.section_symbol(*s)),
            };
            let Some(symbol) = symbol else {
                result = Err(unwritable(w::Error::InvalidAttributeValue));
                return Err(());
            };
            let added = obj.add_relocation(
                section,
                Relocation {
                    offset: r.offset as u64,
                    symbol,
                    addend: r.addend,
                    flags: RelocationFlags::Generic {
                        kind: RelocationKind::Absolute,
                        encoding: RelocationEncoding::Generic,
                        size: r.size * 8,
                    },
                },
            );
            if let Err(e) = added {
                result = Err(super::obj_err(e));
                return Err(());
            }
        }
        Ok(())
    });
    result
}
