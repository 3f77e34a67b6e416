//! Front end: the only code that sees raw bytes.
//!
//! In: the bytes of a core module. Out: a [`ParsedModule`] — the module's [`ModuleInfo`] (types,
//! imports, memories, tables, globals, exports, segments, as the runtime will need them), the
//! bytes of all data segments, and each function body paired with its validator.
//!
//! Invariant: everything after this stage may assume the module is valid; later stages report
//! only "unsupported" or internal errors. Validation runs with wasmparser's default features so
//! that invalid modules are reported as invalid even when they use proposals weld does not
//! implement; those are then refused here as unsupported, naming the construct and offset.

pub mod types;

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use wasmparser::{
    ElementItems, ElementKind, ExternalKind, FuncToValidate, FunctionBody, Name, Operator, Parser,
    Payload, RefType, TableInit, TypeRef, Validator, ValidatorResources, WasmFeatures,
};
use weld_contract::gc::TypeDefs;
use weld_contract::info::{
    ConstExpr, ConstOp, DataSegment, ElemSegment, Export, ExportKind, Global, GlobalType, Import,
    ImportKind, IndexType, MemoryType, ModuleInfo, SegmentMode, Table, TableType, ValType,
};

/// The bytes of `input` that a parser's `range` names, or an [`Error::Invalid`] at the range's
/// start when it runs past the end. Every slice of input bytes taken with offsets from a parser
/// goes through here: wasmparser reports a section with the size it declares before reading
/// it, so a truncated or damaged input yields ranges beyond its end.
pub fn input_slice<'a>(input: &'a [u8], range: &std::ops::Range<u64>) -> Result<&'a [u8]> {
    let start = usize::try_from(range.start).unwrap_or(usize::MAX);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
    input.get(start..end).ok_or_else(|| Error::Invalid {
        message: format!(
            "a section or item of {} bytes runs past the end of the input ({} bytes)",
            range.end.saturating_sub(range.start),
            input.len()
        ),
        offset: range.start,
    })
}

/// A function body with the validator that checks it while it is translated.
pub struct FunctionInput<'a> {
    /// Validator state for this function.
    pub validator: FuncToValidate<ValidatorResources>,
    /// The body.
    pub body: FunctionBody<'a>,
}

/// A parsed and validated core module.
pub struct ParsedModule<'a> {
    /// What the runtime needs.
    pub info: ModuleInfo,
    /// Bytes of every data segment, concatenated (segments index into it).
    pub data: Vec<u8>,
    /// Bodies of the defined functions, in order.
    pub functions: Vec<FunctionInput<'a>>,
    /// The module's DWARF, for `weld compile -g`.
    pub debug: DebugInput<'a>,
}

/// What `weld compile -g` translates: the module's DWARF custom sections (`.debug_info`,
/// `.debug_line`, ...) and where the contents of its code section start, the origin of DWARF's
/// wasm addresses (in the same coordinates as the function bodies' offsets).
#[derive(Default)]
pub struct DebugInput<'a> {
    /// Offset of the code section's contents.
    pub code_start: u64,
    /// The `.debug_*` custom sections: name and contents.
    pub sections: Vec<(&'a str, &'a [u8])>,
}

/// The WebAssembly features weld validates with by default: wasmparser's defaults plus the
/// component-model extensions the Component Model's own test suite is run with (threading,
/// stackful async, more async built-ins, fixed-length lists, maps). Constructs weld cannot
/// compile are then refused as *unsupported*, not as invalid.
pub fn features() -> WasmFeatures {
    WasmFeatures::default()
        | WasmFeatures::CM_THREADING
        | WasmFeatures::CM_ASYNC_STACKFUL
        | WasmFeatures::CM_MORE_ASYNC_BUILTINS
        | WasmFeatures::CM_FIXED_LENGTH_LISTS
        | WasmFeatures::CM_MAP
}

/// Apply a wasm-tools style feature list (`cm-async,-exceptions`) to `base`; `Err` names an
/// unknown feature.
pub fn apply_feature_list(
    base: WasmFeatures,
    list: &str,
) -> std::result::Result<WasmFeatures, String> {
    let mut f = base;
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (on, name) = match item.strip_prefix('-') {
            Some(n) => (false, n),
            None => (true, item.strip_prefix('+').unwrap_or(item)),
        };
        let flag_name = name.replace('-', "_").to_uppercase();
        let flag = WasmFeatures::from_name(&flag_name)
            .ok_or_else(|| format!("unknown feature {name:?}"))?;
        f.set(flag, on);
    }
    Ok(f)
}

/// Whether `bytes` start with a component header rather than a core module header.
pub fn is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[0..4] == *b"\0asm" && bytes[4..8] != [1, 0, 0, 0]
}

/// Parse and validate a core module.
pub fn parse_module(bytes: &[u8]) -> Result<ParsedModule<'_>> {
    parse_module_with(bytes, features())
}

/// Parse and validate a core module with a given feature set.
pub fn parse_module_with(bytes: &[u8], features: WasmFeatures) -> Result<ParsedModule<'_>> {
    parse_module_at(bytes, 0, features)
}

/// Parse and validate a core module found at `offset` in a larger file (a component): offsets
/// in errors, and those code generation reports, count from the start of that file.
pub fn parse_module_at(
    bytes: &[u8],
    offset: u64,
    features: WasmFeatures,
) -> Result<ParsedModule<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut m = ParsedModule {
        info: ModuleInfo::default(),
        data: Vec::new(),
        functions: Vec::new(),
        debug: DebugInput::default(),
    };
    let mut escaping = BTreeSet::new();
    let mut deferred = None;
    for payload in Parser::new(offset).parse_all(bytes) {
        let payload = payload?;
        match validator.payload(&payload)? {
            wasmparser::ValidPayload::Func(validator, body) => {
                m.functions.push(FunctionInput { validator, body });
                continue;
            }
            wasmparser::ValidPayload::Parser(_) => {
                return Err(Error::Unsupported {
                    message: "nested modules and components need the component compiler".into(),
                    offset: None,
                });
            }
            _ => {}
        }
        if deferred.is_some() {
            continue;
        }
        match extract(&mut m, payload, &mut escaping) {
            Ok(()) => {}
            Err(e @ Error::Unsupported { .. }) => deferred = Some(e),
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = deferred {
        // Report invalid modules as invalid even when they also use something unsupported:
        // validate the function bodies before giving the "unsupported" answer.
        for f in m.functions {
            let mut v = f.validator.into_validator(Default::default());
            v.validate(&f.body)?;
        }
        return Err(e);
    }
    m.info.types = m.info.type_defs.signatures();
    m.info.func_names.sort_by_key(|(i, _)| *i);
    m.info.func_names.dedup_by_key(|(i, _)| *i);
    let imported = m.info.imported_funcs;
    m.info.funcref_funcs = (0..imported)
        .chain(escaping.into_iter().filter(|f| *f >= imported))
        .collect();
    Ok(m)
}

/// Record what one (already validated) payload says about the module.
fn extract<'a>(
    m: &mut ParsedModule<'a>,
    payload: Payload<'a>,
    escaping: &mut BTreeSet<u32>,
) -> Result<()> {
    match payload {
        Payload::Version {
            encoding, range, ..
        } if encoding != wasmparser::Encoding::Module => {
            return Err(Error::unsupported(
                "this is a component; core-module compilation was requested",
                range.start,
            ));
        }
        Payload::TypeSection(reader) => types::type_section(reader, &mut m.info.type_defs)?,
        Payload::ImportSection(reader) => {
            for import in reader.into_imports_with_offsets() {
                let (offset, import) = import?;
                let kind = match import.ty {
                    TypeRef::Func(t) => {
                        m.info.funcs.push(t);
                        m.info.imported_funcs += 1;
                        ImportKind::Func(t)
                    }
                    TypeRef::Memory(t) => {
                        let t = memory_type(&t, offset)?;
                        m.info.memories.push(t);
                        m.info.imported_memories += 1;
                        ImportKind::Memory(t)
                    }
                    TypeRef::Table(t) => {
                        let t = table_type(&t, &m.info.type_defs, offset)?;
                        m.info.table_types.push(t);
                        m.info.imported_tables += 1;
                        ImportKind::Table(t)
                    }
                    TypeRef::Global(g) => {
                        let t = global_type(&g, &m.info.type_defs, offset)?;
                        m.info.global_types.push(t);
                        m.info.imported_globals += 1;
                        ImportKind::Global(t)
                    }
                    TypeRef::Tag(t) => {
                        m.info.tags.push(t.func_type_idx);
                        m.info.imported_tags += 1;
                        ImportKind::Tag(t.func_type_idx)
                    }
                    TypeRef::FuncExact(_) => {
                        return Err(Error::unsupported(
                            "exact function imports (custom descriptors proposal)",
                            offset,
                        ))
                    }
                };
                m.info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    kind,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for t in reader {
                m.info.funcs.push(t?);
            }
        }
        Payload::TableSection(reader) => {
            for t in reader.into_iter_with_offsets() {
                let (offset, t) = t?;
                let ty = table_type(&t.ty, &m.info.type_defs, offset)?;
                let init = match t.init {
                    TableInit::RefNull => vec![ConstOp::RefNull],
                    TableInit::Expr(e) => const_expr(&e, escaping)?,
                };
                m.info.table_types.push(ty);
                m.info.tables.push(Table { ty, init });
            }
        }
        Payload::MemorySection(reader) => {
            for t in reader.into_iter_with_offsets() {
                let (offset, t) = t?;
                m.info.memories.push(memory_type(&t, offset)?);
            }
        }
        Payload::TagSection(reader) => {
            for t in reader {
                m.info.tags.push(t?.func_type_idx);
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader.into_iter_with_offsets() {
                let (offset, g) = g?;
                let ty = global_type(&g.ty, &m.info.type_defs, offset)?;
                let init = const_expr(&g.init_expr, escaping)?;
                m.info.global_types.push(ty);
                m.info.globals.push(Global { ty, init });
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader.into_iter_with_offsets() {
                let (offset, e) = e?;
                let kind = match e.kind {
                    ExternalKind::Func => {
                        escaping.insert(e.index);
                        ExportKind::Func
                    }
                    ExternalKind::Table => ExportKind::Table,
                    ExternalKind::Memory => ExportKind::Memory,
                    ExternalKind::Global => ExportKind::Global,
                    ExternalKind::Tag => ExportKind::Tag,
                    ExternalKind::FuncExact => {
                        return Err(Error::unsupported("exports of exact functions", offset))
                    }
                };
                m.info.exports.push(Export {
                    name: e.name.to_string(),
                    kind,
                    index: e.index,
                });
            }
        }
        Payload::StartSection { func, .. } => m.info.start = Some(func),
        Payload::ElementSection(reader) => {
            for e in reader.into_iter_with_offsets() {
                let (offset, e) = e?;
                let mode = match e.kind {
                    ElementKind::Passive => SegmentMode::Passive,
                    ElementKind::Declared => SegmentMode::Declared,
                    ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: table_index.unwrap_or(0),
                        offset: const_expr(&offset_expr, escaping)?,
                    },
                };
                let (ty, items) = match e.items {
                    ElementItems::Functions(r) => {
                        let mut items = Vec::new();
                        for f in r {
                            let f = f?;
                            escaping.insert(f);
                            items.push(vec![ConstOp::RefFunc(f)]);
                        }
                        (ValType::FuncRef, items)
                    }
                    ElementItems::Expressions(rt, r) => {
                        let ty = ref_repr(rt, &m.info.type_defs, offset)?;
                        let mut items = Vec::new();
                        for expr in r {
                            items.push(const_expr(&expr?, escaping)?);
                        }
                        (ty, items)
                    }
                };
                m.info.elems.push(ElemSegment { mode, ty, items });
            }
        }
        Payload::DataSection(reader) => {
            for d in reader {
                let d = d?;
                let mode = match d.kind {
                    wasmparser::DataKind::Passive => SegmentMode::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: memory_index,
                        offset: const_expr(&offset_expr, escaping)?,
                    },
                };
                let offset = u32::try_from(m.data.len()).map_err(|_| Error::Limit {
                    message: "data segments larger than 4 GiB in total".into(),
                })?;
                let len = u32::try_from(d.data.len()).map_err(|_| Error::Limit {
                    message: "a data segment larger than 4 GiB".into(),
                })?;
                m.data.extend_from_slice(d.data);
                m.info.datas.push(DataSegment { mode, offset, len });
            }
        }
        Payload::CodeSectionStart {
            unchecked_range, ..
        } => m.debug.code_start = unchecked_range.start,
        Payload::CustomSection(c) if c.name().starts_with(".debug_") => {
            m.debug.sections.push((c.name(), c.data()));
        }
        Payload::CustomSection(c) => {
            if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                // A malformed name section is ignored, as the spec requires.
                for name in names.into_iter().flatten() {
                    match name {
                        Name::Function(map) => {
                            for naming in map.into_iter().flatten() {
                                m.info
                                    .func_names
                                    .push((naming.index, naming.name.to_string()));
                            }
                        }
                        Name::Module { name, .. } => m.info.module_name = Some(name.to_string()),
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Convert a wasmparser value type to the word-level type code generation uses; concrete heap
/// types are looked up in `defs`.
pub fn val_type_at(t: wasmparser::ValType, defs: &TypeDefs, offset: u64) -> Result<ValType> {
    types::val_type(t, defs, offset)
}

/// The word-level type of a reference type.
fn ref_repr(r: RefType, defs: &TypeDefs, offset: u64) -> Result<ValType> {
    types::val_type(wasmparser::ValType::Ref(r), defs, offset)
}

fn index_type(is64: bool) -> IndexType {
    if is64 {
        IndexType::I64
    } else {
        IndexType::I32
    }
}

fn memory_type(t: &wasmparser::MemoryType, offset: u64) -> Result<MemoryType> {
    if t.shared {
        return Err(Error::unsupported(
            "shared memories (threads proposal)",
            offset,
        ));
    }
    if t.page_size_log2.is_some() {
        return Err(Error::unsupported("custom page sizes", offset));
    }
    Ok(MemoryType {
        min: t.initial,
        max: t.maximum,
        index: index_type(t.memory64),
    })
}

fn table_type(t: &wasmparser::TableType, defs: &TypeDefs, offset: u64) -> Result<TableType> {
    if t.shared {
        return Err(Error::unsupported("shared tables", offset));
    }
    Ok(TableType {
        elem: ref_repr(t.element_type, defs, offset)?,
        min: t.initial,
        max: t.maximum,
        index: index_type(t.table64),
        ref_type: Some(types::ref_type(t.element_type, offset)?),
    })
}

fn global_type(g: &wasmparser::GlobalType, defs: &TypeDefs, offset: u64) -> Result<GlobalType> {
    if g.shared {
        return Err(Error::unsupported("shared globals", offset));
    }
    let ref_type = match g.content_type {
        wasmparser::ValType::Ref(r) => Some(types::ref_type(r, offset)?),
        _ => None,
    };
    Ok(GlobalType {
        ty: val_type_at(g.content_type, defs, offset)?,
        mutable: g.mutable,
        ref_type,
    })
}

fn const_expr(e: &wasmparser::ConstExpr<'_>, escaping: &mut BTreeSet<u32>) -> Result<ConstExpr> {
    let mut out = Vec::new();
    let mut reader = e.get_operators_reader();
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        out.push(match op {
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            Operator::RefNull { .. } => ConstOp::RefNull,
            Operator::RefFunc { function_index } => {
                escaping.insert(function_index);
                ConstOp::RefFunc(function_index)
            }
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::RefI31 => ConstOp::RefI31,
            Operator::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            Operator::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            Operator::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            Operator::ArrayNewDefault { array_type_index } => {
                ConstOp::ArrayNewDefault(array_type_index)
            }
            Operator::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed(array_type_index, array_size),
            Operator::AnyConvertExtern => ConstOp::AnyConvertExtern,
            Operator::ExternConvertAny => ConstOp::ExternConvertAny,
            Operator::End => continue,
            other => {
                return Err(Error::unsupported(
                    format!("constant expression operator {other:?}"),
                    offset,
                ))
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wat;

    #[test]
    fn module_info_lists_imports_before_definitions() {
        let bytes = wat(r#"(module
            (import "m" "f" (func (param i32)))
            (import "m" "mem" (memory 1 2))
            (func (export "g") (result i32) i32.const 1)
            (table 2 funcref)
            (elem (i32.const 0) func 1)
            (data (i32.const 8) "hi"))"#);
        let m = parse_module(&bytes).expect("valid");
        assert_eq!(m.info.imported_funcs, 1);
        assert_eq!(m.info.funcs.len(), 2);
        assert_eq!(
            m.info.memories[0],
            MemoryType {
                min: 1,
                max: Some(2),
                index: IndexType::I32,
            }
        );
        assert_eq!(m.info.funcref_funcs, vec![0, 1]);
        assert_eq!(&m.data, b"hi");
        assert_eq!(m.functions.len(), 1);
    }

    #[test]
    fn invalid_modules_report_a_byte_offset() {
        let bytes = wat("(module (func (result i32)))");
        // Function bodies are validated while they are translated.
        match crate::compile_module(&bytes, &crate::Options::default()) {
            Err(Error::Invalid { offset, .. }) => assert!(offset > 8),
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("accepted an invalid module"),
        }
    }

    #[test]
    fn truncated_modules_are_errors_not_panics() {
        let bytes = wat(r#"(module (func (export "f") (param i32) (result i32) local.get 0))"#);
        // A cut at a section boundary can leave a valid, smaller module; a cut inside the code
        // section (the last one) never does.
        let code_start = bytes.len() - 8;
        for cut in 0..bytes.len() {
            let r = crate::compile_module(&bytes[..cut], &crate::Options::default());
            if cut > code_start {
                assert!(r.is_err(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn the_type_section_keeps_recursion_groups_subtypes_and_struct_layouts() {
        use weld_contract::gc::{Composite, TypeKind};
        let bytes = wat(r#"(module
            (rec (type $a (sub (struct (field (ref null $b)))))
                 (type $b (sub final $a (struct (field (ref null $b)) (field i8)))))
            (type $f (func (param anyref) (result (ref $a))))
            (type $v (array (mut i16)))
            (global (ref null $a) (ref.null none)))"#);
        let m = parse_module(&bytes).expect("valid");
        let d = &m.info.type_defs;
        assert_eq!(d.group_sizes, vec![2, 1, 1]);
        assert!(!d.types[0].is_final && d.types[1].is_final);
        assert_eq!(d.types[1].supertype, Some(0));
        assert_eq!(d.kind(2), Some(TypeKind::Func));
        assert!(matches!(d.types[3].composite, Composite::Array(_)));
        assert_eq!(m.info.types[2].params, vec![ValType::AnyRef]);
        assert_eq!(m.info.types[2].results, vec![ValType::AnyRef]);
        assert_eq!(m.info.global_types[0].ty, ValType::AnyRef);
    }

    #[test]
    fn memories_and_tables_of_the_memory64_proposal_keep_their_index_type() {
        let bytes = wat("(module (memory i64 1) (memory 1) (table i64 2 funcref))");
        let m = parse_module(&bytes).expect("valid");
        assert_eq!(m.info.memories[0].index, IndexType::I64);
        assert_eq!(m.info.memories[1].index, IndexType::I32);
        assert_eq!(m.info.table_types[0].index, IndexType::I64);
    }
}
