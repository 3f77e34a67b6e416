//! What the runtime must know about a compiled module to instantiate it: types, imports,
//! memories, tables, globals, segments, exports. The compiler encodes a [`ModuleInfo`] into the
//! object (a compact byte blob, see [`ModuleInfo::encode`]); the runtime decodes it once per
//! load. Both directions live here so the format is defined once.

use alloc::string::String;
use alloc::vec::Vec;

/// A value type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum ValType {
    /// i32
    I32,
    /// i64
    I64,
    /// f32
    F32,
    /// f64
    F64,
    /// v128
    V128,
    /// funcref
    FuncRef,
    /// externref
    ExternRef,
    /// exnref (exception handling): a pointer to a runtime exception object, or null.
    ExnRef,
    /// A reference of the GC proposal's `any` hierarchy (`anyref`, `eqref`, `i31ref`,
    /// `structref`, `arrayref`, concrete struct and array types): a word as [`crate::gc`]
    /// encodes it.
    AnyRef,
}

impl ValType {
    /// Whether this is a reference type (a table's element type, one machine word).
    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef | ValType::AnyRef
        )
    }

    /// Whether values of this type may point into a GC heap, so that the collector must find
    /// and update them: words of the `any` and `extern` hierarchies (function and exception
    /// references never point into the heap).
    pub fn is_gc_ref(self) -> bool {
        matches!(self, ValType::AnyRef | ValType::ExternRef)
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            ValType::F64 => 3,
            ValType::V128 => 4,
            ValType::FuncRef => 5,
            ValType::ExternRef => 6,
            ValType::ExnRef => 7,
            ValType::AnyRef => 8,
        }
    }
    pub(crate) fn from_code(c: u8) -> Option<ValType> {
        Some(match c {
            0 => ValType::I32,
            1 => ValType::I64,
            2 => ValType::F32,
            3 => ValType::F64,
            4 => ValType::V128,
            5 => ValType::FuncRef,
            6 => ValType::ExternRef,
            7 => ValType::ExnRef,
            8 => ValType::AnyRef,
            _ => return None,
        })
    }
}

/// A function type.
#[derive(Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord, Default)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// A canonical byte string for this type: equal types, equal bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.functype(self);
        w.out
    }
}

/// The type of a memory's addresses or a table's indices, and of their sizes: `i64` for the
/// memories and tables of the memory64 proposal.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum IndexType {
    /// 32-bit addresses and sizes.
    #[default]
    I32,
    /// 64-bit addresses and sizes.
    I64,
}

impl IndexType {
    fn code(self) -> u8 {
        match self {
            IndexType::I32 => 0,
            IndexType::I64 => 1,
        }
    }

    fn from_code(b: u8) -> Option<IndexType> {
        match b {
            0 => Some(IndexType::I32),
            1 => Some(IndexType::I64),
            _ => None,
        }
    }
}

/// A memory type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MemoryType {
    /// Minimum size in pages.
    pub min: u64,
    /// Maximum size in pages.
    pub max: Option<u64>,
    /// Address type.
    pub index: IndexType,
}

/// A table type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TableType {
    /// Element type (`FuncRef` or `ExternRef`).
    pub elem: ValType,
    /// Minimum size.
    pub min: u64,
    /// Maximum size.
    pub max: Option<u64>,
    /// Index type.
    pub index: IndexType,
    /// The element type in full, for import matching (`None`: the nullable abstract type
    /// `elem` stands for, as tables the host makes have).
    pub ref_type: Option<RefType>,
}

/// A global type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Mutable?
    pub mutable: bool,
    /// A reference `ty` in full, for import matching (`None`: not a reference, or the nullable
    /// abstract type `ty` stands for, as globals the host makes have).
    pub ref_type: Option<RefType>,
}

/// A reference type as a module declares it: code generation needs only the [`ValType`] it
/// is represented as; linking checks imports against exports with the full type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct RefType {
    /// Whether null is a value of the type.
    pub nullable: bool,
    /// What it refers to.
    pub heap: HeapType,
}

/// The heap type of a reference.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum HeapType {
    /// `func`
    Func,
    /// `nofunc`, the bottom of the function hierarchy.
    NoFunc,
    /// `extern`
    Extern,
    /// `noextern`
    NoExtern,
    /// `exn`
    Exn,
    /// `noexn`
    NoExn,
    /// `any`, the top of the GC hierarchy.
    Any,
    /// `eq`: `i31` and every struct and array.
    Eq,
    /// `i31`
    I31,
    /// `struct`: every struct type.
    Struct,
    /// `array`: every array type.
    Array,
    /// `none`, the bottom of the `any` hierarchy.
    None,
    /// A defined type of the module, by index into [`ModuleInfo::types`].
    Concrete(u32),
}

impl RefType {
    /// Whether values of this type are represented as `t`, its concrete type (if any) one of
    /// `types` types.
    pub fn fits(&self, t: ValType, types: &crate::gc::TypeDefs) -> bool {
        match self.heap {
            HeapType::Concrete(i) if (i as usize) >= types.types.len() => false,
            h => types.repr_of(h) == t,
        }
    }

    /// The type as a host that has no module types can hold it: a concrete function type
    /// widened to `func`; `None` when it does not fit `t` at all.
    pub fn for_host(r: Option<RefType>, t: ValType) -> Option<RefType> {
        let r = r?;
        let heap = match r.heap {
            HeapType::Concrete(_) => HeapType::Func,
            h => h,
        };
        let r = RefType {
            nullable: r.nullable,
            heap,
        };
        r.fits(t, &crate::gc::TypeDefs::default()).then_some(r)
    }

    /// The nullable abstract type a reference [`ValType`] stands for (`funcref`, ...).
    pub fn abstract_of(t: ValType) -> Option<RefType> {
        let heap = match t {
            ValType::FuncRef => HeapType::Func,
            ValType::ExternRef => HeapType::Extern,
            ValType::ExnRef => HeapType::Exn,
            ValType::AnyRef => HeapType::Any,
            _ => return None,
        };
        Some(RefType {
            nullable: true,
            heap,
        })
    }
}

/// One instruction of a constant expression.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConstOp {
    /// i32.const
    I32(i32),
    /// i64.const
    I64(i64),
    /// f32.const (bits)
    F32(u32),
    /// f64.const (bits)
    F64(u64),
    /// v128.const
    V128(u128),
    /// ref.null of either reference type
    RefNull,
    /// ref.func
    RefFunc(u32),
    /// global.get
    GlobalGet(u32),
    /// i32.add
    I32Add,
    /// i32.sub
    I32Sub,
    /// i32.mul
    I32Mul,
    /// i64.add
    I64Add,
    /// i64.sub
    I64Sub,
    /// i64.mul
    I64Mul,
    /// ref.i31
    RefI31,
    /// struct.new of a type index: the fields from the stack.
    StructNew(u32),
    /// struct.new_default
    StructNewDefault(u32),
    /// array.new: (value, length) from the stack.
    ArrayNew(u32),
    /// array.new_default: the length from the stack.
    ArrayNewDefault(u32),
    /// array.new_fixed: a type index and that many values from the stack.
    ArrayNewFixed(u32, u32),
    /// any.convert_extern (the identity on words).
    AnyConvertExtern,
    /// extern.convert_any (the identity on words).
    ExternConvertAny,
}

/// A constant expression.
pub type ConstExpr = Vec<ConstOp>;

/// What an import provides.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// A memory.
    Memory(MemoryType),
    /// A table.
    Table(TableType),
    /// A global.
    Global(GlobalType),
    /// A tag (exception handling) whose parameters are those of the given function type index.
    Tag(u32),
}

/// An import.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Kind and type.
    pub kind: ImportKind,
}

/// Kind of an export.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExportKind {
    /// Function.
    Func,
    /// Table.
    Table,
    /// Memory.
    Memory,
    /// Global.
    Global,
    /// Tag.
    Tag,
}

/// An export.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Export {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ExportKind,
    /// Index in its index space.
    pub index: u32,
}

/// A defined table.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Table {
    /// Type.
    pub ty: TableType,
    /// Initial value of every element.
    pub init: ConstExpr,
}

/// A defined global.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Global {
    /// Type.
    pub ty: GlobalType,
    /// Initial value.
    pub init: ConstExpr,
}

/// How a segment is used.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SegmentMode {
    /// Only by `memory.init` / `table.init`.
    Passive,
    /// Copied at instantiation into memory or table `index` at `offset`.
    Active {
        /// Memory or table index.
        index: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Declared (element segments only): dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ElemSegment {
    /// Mode.
    pub mode: SegmentMode,
    /// Element type.
    pub ty: ValType,
    /// One expression per element.
    pub items: Vec<ConstExpr>,
}

/// A data segment; its bytes are `data[offset..offset+len]` of the descriptor's data blob.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DataSegment {
    /// Mode.
    pub mode: SegmentMode,
    /// Start in the data blob.
    pub offset: u32,
    /// Length.
    pub len: u32,
}

/// Everything the runtime needs to instantiate a module.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ModuleInfo {
    /// The signature of each function type by type index, as code generation represents its
    /// values; struct and array types have an empty one. Derived from `type_defs`.
    pub types: Vec<FuncType>,
    /// The type section in full (recursion groups, subtyping, struct and array types).
    pub type_defs: crate::gc::TypeDefs,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported first.
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub imported_funcs: u32,
    /// Every memory type, imported first.
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub imported_memories: u32,
    /// Every table type, imported first.
    pub table_types: Vec<TableType>,
    /// Number of imported tables.
    pub imported_tables: u32,
    /// Defined tables (with initialisers).
    pub tables: Vec<Table>,
    /// Every global type, imported first.
    pub global_types: Vec<GlobalType>,
    /// Number of imported globals.
    pub imported_globals: u32,
    /// Defined globals.
    pub globals: Vec<Global>,
    /// Exports.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Function index of each funcref slot (slot i < imported_funcs is import i).
    pub funcref_funcs: Vec<u32>,
    /// Type index of every tag (exception handling), imported first; a tag's type is a
    /// function type whose parameters are the exception's payload.
    pub tags: Vec<u32>,
    /// Number of imported tags.
    pub imported_tags: u32,
    /// Imported functions (function indices, ascending) the code calls as wasm code, without
    /// reading the funcref's convention: a component's graph binds them to functions other
    /// core instances define. Instantiation refuses anything else for them.
    pub wasm_imports: Vec<u32>,
    /// Names of functions from the name section (function index, name), sorted by index.
    pub func_names: Vec<(u32, String)>,
    /// The module's name: from the name section, or given by the compiler (a component's core
    /// modules are named after their place in the graph). Used in backtraces.
    pub module_name: Option<String>,
}

impl ModuleInfo {
    /// The vmctx counts of this module.
    pub fn counts(&self) -> crate::vmctx::VMCounts {
        crate::vmctx::VMCounts {
            imported_memories: self.imported_memories,
            defined_memories: self.memories.len() as u32 - self.imported_memories,
            imported_tables: self.imported_tables,
            defined_tables: self.table_types.len() as u32 - self.imported_tables,
            imported_globals: self.imported_globals,
            defined_globals: self.global_types.len() as u32 - self.imported_globals,
            types: self.types.len() as u32,
            funcrefs: self.funcref_funcs.len() as u32,
            tags: self.tags.len() as u32,
        }
    }

    /// The funcref slot of function `func`, if it has one.
    pub fn funcref_slot(&self, func: u32) -> Option<u32> {
        if func < self.imported_funcs {
            return Some(func);
        }
        self.funcref_funcs
            .binary_search(&func)
            .ok()
            .map(|i| i as u32)
    }

    /// Encode to bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(b"WELDINFO");
        w.type_defs(&self.type_defs);
        w.u(self.imports.len() as u64);
        for i in &self.imports {
            w.str(&i.module);
            w.str(&i.name);
            match &i.kind {
                ImportKind::Func(t) => {
                    w.byte(0);
                    w.u(*t as u64);
                }
                ImportKind::Memory(m) => {
                    w.byte(1);
                    w.memtype(m);
                }
                ImportKind::Table(t) => {
                    w.byte(2);
                    w.tabletype(t);
                }
                ImportKind::Global(g) => {
                    w.byte(3);
                    w.globaltype(g);
                }
                ImportKind::Tag(t) => {
                    w.byte(4);
                    w.u(*t as u64);
                }
            }
        }
        w.u32s(&self.funcs);
        w.u(self.imported_funcs as u64);
        w.u(self.memories.len() as u64);
        for m in &self.memories {
            w.memtype(m);
        }
        w.u(self.imported_memories as u64);
        w.u(self.table_types.len() as u64);
        for t in &self.table_types {
            w.tabletype(t);
        }
        w.u(self.imported_tables as u64);
        w.u(self.tables.len() as u64);
        for t in &self.tables {
            w.tabletype(&t.ty);
            w.expr(&t.init);
        }
        w.u(self.global_types.len() as u64);
        for g in &self.global_types {
            w.globaltype(g);
        }
        w.u(self.imported_globals as u64);
        w.u(self.globals.len() as u64);
        for g in &self.globals {
            w.globaltype(&g.ty);
            w.expr(&g.init);
        }
        w.u(self.exports.len() as u64);
        for e in &self.exports {
            w.str(&e.name);
            w.byte(e.kind as u8);
            w.u(e.index as u64);
        }
        match self.start {
            Some(s) => {
                w.byte(1);
                w.u(s as u64);
            }
            None => w.byte(0),
        }
        w.u(self.elems.len() as u64);
        for e in &self.elems {
            w.mode(&e.mode);
            w.byte(e.ty.code());
            w.u(e.items.len() as u64);
            for i in &e.items {
                w.expr(i);
            }
        }
        w.u(self.datas.len() as u64);
        for d in &self.datas {
            w.mode(&d.mode);
            w.u(d.offset as u64);
            w.u(d.len as u64);
        }
        w.u32s(&self.funcref_funcs);
        w.u32s(&self.tags);
        w.u(self.imported_tags as u64);
        w.u32s(&self.wasm_imports);
        w.u(self.func_names.len() as u64);
        for (i, n) in &self.func_names {
            w.u(*i as u64);
            w.str(n);
        }
        match &self.module_name {
            Some(n) => {
                w.u(1);
                w.str(n);
            }
            None => w.u(0),
        }
        w.out
    }

    /// Decode bytes written by [`ModuleInfo::encode`]; `None` if they are not such bytes.
    pub fn decode(bytes: &[u8]) -> Option<ModuleInfo> {
        Self::decode_impl(bytes, true)
    }

    /// [`ModuleInfo::decode`] without the names at the end (`func_names` and `module_name` stay
    /// empty): what instantiation needs. Names are decoded only for backtraces; a large
    /// program's names were a tenth of an executable's start-up.
    pub fn decode_without_names(bytes: &[u8]) -> Option<ModuleInfo> {
        Self::decode_impl(bytes, false)
    }

    fn decode_impl(bytes: &[u8], names: bool) -> Option<ModuleInfo> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.take(8)? != b"WELDINFO" {
            return None;
        }
        let type_defs = r.type_defs()?;
        let mut m = ModuleInfo {
            types: type_defs.signatures(),
            type_defs,
            imports: r.list(|r| {
                let module = r.str()?;
                let name = r.str()?;
                let kind = match r.byte()? {
                    0 => ImportKind::Func(r.u32()?),
                    1 => ImportKind::Memory(r.memtype()?),
                    2 => ImportKind::Table(r.tabletype()?),
                    3 => ImportKind::Global(r.globaltype()?),
                    4 => ImportKind::Tag(r.u32()?),
                    _ => return None,
                };
                Some(Import { module, name, kind })
            })?,
            funcs: r.u32s()?,
            imported_funcs: r.u32()?,
            memories: r.list(Reader::memtype)?,
            imported_memories: r.u32()?,
            table_types: r.list(Reader::tabletype)?,
            imported_tables: r.u32()?,
            tables: r.list(|r| {
                let ty = r.tabletype()?;
                let init = r.expr()?;
                Some(Table { ty, init })
            })?,
            global_types: r.list(Reader::globaltype)?,
            imported_globals: r.u32()?,
            globals: r.list(|r| {
                let ty = r.globaltype()?;
                let init = r.expr()?;
                Some(Global { ty, init })
            })?,
            exports: r.list(|r| {
                let name = r.str()?;
                let kind = match r.byte()? {
                    0 => ExportKind::Func,
                    1 => ExportKind::Table,
                    2 => ExportKind::Memory,
                    3 => ExportKind::Global,
                    4 => ExportKind::Tag,
                    _ => return None,
                };
                let index = r.u32()?;
                Some(Export { name, kind, index })
            })?,
            start: match r.byte()? {
                0 => None,
                1 => Some(r.u32()?),
                _ => return None,
            },
            elems: r.list(|r| {
                let mode = r.mode()?;
                let ty = ValType::from_code(r.byte()?)?;
                let items = r.list(Reader::expr)?;
                Some(ElemSegment { mode, ty, items })
            })?,
            datas: r.list(|r| {
                let mode = r.mode()?;
                let offset = r.u32()?;
                let len = r.u32()?;
                Some(DataSegment { mode, offset, len })
            })?,
            funcref_funcs: r.u32s()?,
            tags: r.u32s()?,
            imported_tags: r.u32()?,
            wasm_imports: r.u32s()?,
            func_names: Vec::new(),
            module_name: None,
        };
        if !names {
            return Some(m);
        }
        m.func_names = r.list(|r| Some((r.u32()?, r.str()?)))?;
        m.module_name = match r.u32()? {
            0 => None,
            1 => Some(r.str()?),
            _ => return None,
        };
        if r.pos != bytes.len() {
            return None;
        }
        Some(m)
    }
}

#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn byte(&mut self, b: u8) {
        self.out.push(b);
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }
    pub(crate) fn u(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }
    pub(crate) fn s(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.u(s.len() as u64);
        self.bytes(s.as_bytes());
    }
    pub(crate) fn u32s(&mut self, v: &[u32]) {
        self.u(v.len() as u64);
        for x in v {
            self.u(*x as u64);
        }
    }
    pub(crate) fn opt(&mut self, v: Option<u64>) {
        match v {
            Some(x) => {
                self.byte(1);
                self.u(x);
            }
            None => self.byte(0),
        }
    }
    pub(crate) fn functype(&mut self, t: &FuncType) {
        self.u(t.params.len() as u64);
        for p in &t.params {
            self.byte(p.code());
        }
        self.u(t.results.len() as u64);
        for p in &t.results {
            self.byte(p.code());
        }
    }
    pub(crate) fn memtype(&mut self, m: &MemoryType) {
        self.u(m.min);
        self.opt(m.max);
        self.byte(m.index.code());
    }
    pub(crate) fn tabletype(&mut self, t: &TableType) {
        self.byte(t.elem.code());
        self.u(t.min);
        self.opt(t.max);
        self.byte(t.index.code());
        self.reftype(t.ref_type);
    }
    pub(crate) fn globaltype(&mut self, g: &GlobalType) {
        self.byte(g.ty.code());
        self.byte(g.mutable as u8);
        self.reftype(g.ref_type);
    }
    /// `0` for none; else the nullability (1 or 2) then the heap type's code (and index).
    pub(crate) fn reftype(&mut self, r: Option<RefType>) {
        let Some(r) = r else {
            return self.byte(0);
        };
        self.byte(1 + u8::from(r.nullable));
        match r.heap {
            HeapType::Func => self.byte(0),
            HeapType::NoFunc => self.byte(1),
            HeapType::Extern => self.byte(2),
            HeapType::NoExtern => self.byte(3),
            HeapType::Exn => self.byte(4),
            HeapType::NoExn => self.byte(5),
            HeapType::Concrete(i) => {
                self.byte(6);
                self.u(u64::from(i));
            }
            HeapType::Any => self.byte(7),
            HeapType::Eq => self.byte(8),
            HeapType::I31 => self.byte(9),
            HeapType::Struct => self.byte(10),
            HeapType::Array => self.byte(11),
            HeapType::None => self.byte(12),
        }
    }
    pub(crate) fn mode(&mut self, m: &SegmentMode) {
        match m {
            SegmentMode::Passive => self.byte(0),
            SegmentMode::Active { index, offset } => {
                self.byte(1);
                self.u(*index as u64);
                self.expr(offset);
            }
            SegmentMode::Declared => self.byte(2),
        }
    }
    pub(crate) fn expr(&mut self, e: &[ConstOp]) {
        self.u(e.len() as u64);
        for op in e {
            match *op {
                ConstOp::I32(v) => {
                    self.byte(0);
                    self.s(v as i64);
                }
                ConstOp::I64(v) => {
                    self.byte(1);
                    self.s(v);
                }
                ConstOp::F32(v) => {
                    self.byte(2);
                    self.u(v as u64);
                }
                ConstOp::F64(v) => {
                    self.byte(3);
                    self.u(v);
                }
                ConstOp::V128(v) => {
                    self.byte(4);
                    self.bytes(&v.to_le_bytes());
                }
                ConstOp::RefNull => self.byte(5),
                ConstOp::RefFunc(f) => {
                    self.byte(6);
                    self.u(f as u64);
                }
                ConstOp::GlobalGet(g) => {
                    self.byte(7);
                    self.u(g as u64);
                }
                ConstOp::I32Add => self.byte(8),
                ConstOp::I32Sub => self.byte(9),
                ConstOp::I32Mul => self.byte(10),
                ConstOp::I64Add => self.byte(11),
                ConstOp::I64Sub => self.byte(12),
                ConstOp::I64Mul => self.byte(13),
                ConstOp::RefI31 => self.byte(14),
                ConstOp::StructNew(t) => {
                    self.byte(15);
                    self.u(u64::from(t));
                }
                ConstOp::StructNewDefault(t) => {
                    self.byte(16);
                    self.u(u64::from(t));
                }
                ConstOp::ArrayNew(t) => {
                    self.byte(17);
                    self.u(u64::from(t));
                }
                ConstOp::ArrayNewDefault(t) => {
                    self.byte(18);
                    self.u(u64::from(t));
                }
                ConstOp::ArrayNewFixed(t, n) => {
                    self.byte(19);
                    self.u(u64::from(t));
                    self.u(u64::from(n));
                }
                ConstOp::AnyConvertExtern => self.byte(20),
                ConstOp::ExternConvertAny => self.byte(21),
            }
        }
    }
}

pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
}

/// Most elements [`Reader::list`] reserves room for before reading them (real lists are
/// smaller; longer ones grow as they are read).
const PREALLOCATED: usize = 4096;

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    pub(crate) fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    pub(crate) fn u(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                return None;
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }
    pub(crate) fn s(&mut self) -> Option<i64> {
        let v = self.u()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u()?).ok()
    }
    pub(crate) fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u()?).ok()?;
        // Every element takes at least one byte: refuse counts the input cannot hold.
        if n > self.b.len() - self.pos {
            return None;
        }
        Some(n)
    }
    /// A length-prefixed list, each element read by `item`. The vector is allocated once at its
    /// final size: growing by pushes would leave the discarded smaller buffers behind in the
    /// runtime's start-up arena, which never reuses them. Up to [`PREALLOCATED`] elements: a
    /// count from malformed bytes must not reserve many times the input's size before the
    /// elements fail to decode.
    pub(crate) fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n.min(PREALLOCATED));
        for _ in 0..n {
            v.push(item(self)?);
        }
        Some(v)
    }
    pub(crate) fn str(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    pub(crate) fn u32s(&mut self) -> Option<Vec<u32>> {
        self.list(Self::u32)
    }
    pub(crate) fn opt(&mut self) -> Option<Option<u64>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.u()?)),
            _ => None,
        }
    }
    pub(crate) fn vals(&mut self) -> Option<Vec<ValType>> {
        self.list(|r| ValType::from_code(r.byte()?))
    }
    pub(crate) fn memtype(&mut self) -> Option<MemoryType> {
        Some(MemoryType {
            min: self.u()?,
            max: self.opt()?,
            index: IndexType::from_code(self.byte()?)?,
        })
    }
    pub(crate) fn tabletype(&mut self) -> Option<TableType> {
        Some(TableType {
            elem: ValType::from_code(self.byte()?)?,
            min: self.u()?,
            max: self.opt()?,
            index: IndexType::from_code(self.byte()?)?,
            ref_type: self.reftype()?,
        })
    }
    pub(crate) fn globaltype(&mut self) -> Option<GlobalType> {
        Some(GlobalType {
            ty: ValType::from_code(self.byte()?)?,
            mutable: match self.byte()? {
                0 => false,
                1 => true,
                _ => return None,
            },
            ref_type: self.reftype()?,
        })
    }
    pub(crate) fn reftype(&mut self) -> Option<Option<RefType>> {
        let nullable = match self.byte()? {
            0 => return Some(None),
            1 => false,
            2 => true,
            _ => return None,
        };
        let heap = match self.byte()? {
            0 => HeapType::Func,
            1 => HeapType::NoFunc,
            2 => HeapType::Extern,
            3 => HeapType::NoExtern,
            4 => HeapType::Exn,
            5 => HeapType::NoExn,
            6 => HeapType::Concrete(self.u32()?),
            7 => HeapType::Any,
            8 => HeapType::Eq,
            9 => HeapType::I31,
            10 => HeapType::Struct,
            11 => HeapType::Array,
            12 => HeapType::None,
            _ => return None,
        };
        Some(Some(RefType { nullable, heap }))
    }
    pub(crate) fn mode(&mut self) -> Option<SegmentMode> {
        Some(match self.byte()? {
            0 => SegmentMode::Passive,
            1 => SegmentMode::Active {
                index: self.u32()?,
                offset: self.expr()?,
            },
            2 => SegmentMode::Declared,
            _ => return None,
        })
    }
    pub(crate) fn expr(&mut self) -> Option<ConstExpr> {
        let n = self.len()?;
        let mut e = Vec::with_capacity(n);
        for _ in 0..n {
            e.push(match self.byte()? {
                0 => ConstOp::I32(self.s()? as i32),
                1 => ConstOp::I64(self.s()?),
                2 => ConstOp::F32(self.u32()?),
                3 => ConstOp::F64(self.u()?),
                4 => {
                    let b: [u8; 16] = self.take(16)?.try_into().ok()?;
                    ConstOp::V128(u128::from_le_bytes(b))
                }
                5 => ConstOp::RefNull,
                6 => ConstOp::RefFunc(self.u32()?),
                7 => ConstOp::GlobalGet(self.u32()?),
                8 => ConstOp::I32Add,
                9 => ConstOp::I32Sub,
                10 => ConstOp::I32Mul,
                11 => ConstOp::I64Add,
                12 => ConstOp::I64Sub,
                13 => ConstOp::I64Mul,
                14 => ConstOp::RefI31,
                15 => ConstOp::StructNew(self.u32()?),
                16 => ConstOp::StructNewDefault(self.u32()?),
                17 => ConstOp::ArrayNew(self.u32()?),
                18 => ConstOp::ArrayNewDefault(self.u32()?),
                19 => ConstOp::ArrayNewFixed(self.u32()?, self.u32()?),
                20 => ConstOp::AnyConvertExtern,
                21 => ConstOp::ExternConvertAny,
                _ => return None,
            });
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> ModuleInfo {
        use crate::gc::{Composite, FieldType, FullType, StorageType, SubType, TypeDefs};
        let func = |nullable, heap| FullType::Ref(RefType { nullable, heap });
        let type_defs = TypeDefs {
            types: vec![
                SubType {
                    is_final: true,
                    supertype: None,
                    composite: Composite::Func {
                        params: vec![FullType::Num(ValType::I32), FullType::Num(ValType::V128)],
                        results: vec![func(true, HeapType::Func)],
                    },
                },
                SubType {
                    is_final: false,
                    supertype: None,
                    composite: Composite::Struct(vec![
                        FieldType {
                            storage: StorageType::I8,
                            mutable: true,
                        },
                        FieldType {
                            storage: StorageType::Val(func(false, HeapType::Concrete(2))),
                            mutable: false,
                        },
                    ]),
                },
                SubType {
                    is_final: true,
                    supertype: Some(1),
                    composite: Composite::Array(FieldType {
                        storage: StorageType::Val(func(true, HeapType::Eq)),
                        mutable: true,
                    }),
                },
            ],
            group_sizes: vec![1, 2],
        };
        ModuleInfo {
            types: type_defs.signatures(),
            type_defs,
            imports: vec![Import {
                module: "spectest".into(),
                name: "memory".into(),
                kind: ImportKind::Memory(MemoryType {
                    min: 1,
                    max: Some(2),
                    index: IndexType::I32,
                }),
            }],
            funcs: vec![0, 0],
            imported_funcs: 0,
            memories: vec![MemoryType {
                min: 1,
                max: Some(2),
                index: IndexType::I64,
            }],
            imported_memories: 1,
            global_types: vec![GlobalType {
                ty: ValType::FuncRef,
                mutable: false,
                ref_type: Some(RefType {
                    nullable: false,
                    heap: HeapType::Concrete(0),
                }),
            }],
            globals: vec![Global {
                ty: GlobalType {
                    ty: ValType::I64,
                    mutable: true,
                    ref_type: None,
                },
                init: vec![ConstOp::I64(-5), ConstOp::I64(7), ConstOp::I64Mul],
            }],
            exports: vec![Export {
                name: "f".into(),
                kind: ExportKind::Func,
                index: 1,
            }],
            start: Some(0),
            elems: vec![ElemSegment {
                mode: SegmentMode::Active {
                    index: 0,
                    offset: vec![ConstOp::I32(-1)],
                },
                ty: ValType::FuncRef,
                items: vec![vec![ConstOp::RefFunc(1)], vec![ConstOp::RefNull]],
            }],
            datas: vec![DataSegment {
                mode: SegmentMode::Passive,
                offset: 3,
                len: 9,
            }],
            funcref_funcs: vec![1],
            func_names: vec![(1, "f".into())],
            module_name: Some("m".into()),
            ..Default::default()
        }
    }

    #[test]
    fn encoding_round_trips() {
        let m = sample();
        assert_eq!(ModuleInfo::decode(&m.encode()), Some(m.clone()));
        let unnamed = ModuleInfo {
            func_names: vec![],
            module_name: None,
            ..m.clone()
        };
        assert_eq!(ModuleInfo::decode_without_names(&m.encode()), Some(unnamed));
    }

    #[test]
    fn truncated_or_extended_blobs_are_refused() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert_eq!(ModuleInfo::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(ModuleInfo::decode(&longer), None);
    }

    #[test]
    fn canonical_bytes_distinguish_types() {
        let a = FuncType {
            params: vec![ValType::I32],
            results: vec![],
        };
        let b = FuncType {
            params: vec![],
            results: vec![ValType::I32],
        };
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
        assert_eq!(a.canonical_bytes(), a.clone().canonical_bytes());
    }
}
