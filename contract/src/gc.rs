//! Wasm GC in the contract: a module's full type section (recursion groups, subtyping,
//! struct and array types), how reference words are encoded, and how GC objects are laid out.
//!
//! In: nothing. Out: the definitions the compiler's code generation, the runtime's type
//! registry, its heap and collector, and the host APIs all read, so that an object written by
//! compiled code is read by the runtime the same way. The compiler fills a [`TypeDefs`] from the
//! module's type section; the runtime canonicalizes it (recursion groups compared structurally,
//! references inside a group by their position in it) into process-wide type ids.
//!
//! Reference words: every reference is one 64-bit word and `0` is null in every hierarchy. In
//! the `any` hierarchy an odd word is an `i31ref` (`value << 1 | 1`), a word whose two low bits
//! are `10` is a host value internalized by `any.convert_extern` (`n << 2 | 2`), and any other
//! word is the address of an object. `externref` words use the same encoding, so both
//! conversions between the hierarchies are the identity.

use crate::info::{FuncType, HeapType, Reader, RefType, ValType, Writer};
use alloc::vec::Vec;

/// A value type in full: numbers by their [`ValType`], references with their heap type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum FullType {
    /// i32, i64, f32, f64 or v128.
    Num(ValType),
    /// A reference type.
    Ref(RefType),
}

/// What a struct field or array element stores.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum StorageType {
    /// Packed `i8` (read with `_s`/`_u`).
    I8,
    /// Packed `i16`.
    I16,
    /// A full value.
    Val(FullType),
}

/// A struct field or an array's element type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct FieldType {
    /// What is stored.
    pub storage: StorageType,
    /// Whether `struct.set` / `array.set` may write it.
    pub mutable: bool,
}

/// The structure of a defined type.
#[derive(Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Composite {
    /// A function type in full.
    Func {
        /// Parameters.
        params: Vec<FullType>,
        /// Results.
        results: Vec<FullType>,
    },
    /// A struct type: its fields in order.
    Struct(Vec<FieldType>),
    /// An array type: its element.
    Array(FieldType),
}

/// One defined type: its structure and place in the subtype hierarchy.
#[derive(Clone, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct SubType {
    /// Whether no type may declare this one as its supertype.
    pub is_final: bool,
    /// The declared supertype, by type index of the same module.
    pub supertype: Option<u32>,
    /// The structure.
    pub composite: Composite,
}

/// The kind of a defined type, as canonical type ids carry it in their two low bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum TypeKind {
    /// A function type.
    Func = 0,
    /// A struct type.
    Struct = 1,
    /// An array type.
    Array = 2,
}

/// Bits of a canonical type id that hold its [`TypeKind`].
pub const TYPE_KIND_MASK: u32 = 3;

impl TypeKind {
    /// The kind of canonical type id `id`.
    pub fn of_id(id: u32) -> Option<TypeKind> {
        match id & TYPE_KIND_MASK {
            0 => Some(TypeKind::Func),
            1 => Some(TypeKind::Struct),
            2 => Some(TypeKind::Array),
            _ => None,
        }
    }
}

impl Composite {
    /// The kind.
    pub fn kind(&self) -> TypeKind {
        match self {
            Composite::Func { .. } => TypeKind::Func,
            Composite::Struct(_) => TypeKind::Struct,
            Composite::Array(_) => TypeKind::Array,
        }
    }
}

/// A module's type section: every defined type in index order, and the sizes of the recursion
/// groups they form (a type outside an explicit `rec` is a group of one).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct TypeDefs {
    /// Types by type index.
    pub types: Vec<SubType>,
    /// Recursion group sizes, in order; they add up to `types.len()`.
    pub group_sizes: Vec<u32>,
}

impl TypeDefs {
    /// Whether the groups cover the types exactly and every type names only types of its own
    /// recursion group or of earlier ones (its supertype an earlier type), as the binary
    /// format allows.
    pub fn well_formed(&self) -> bool {
        let total: u64 = self.group_sizes.iter().map(|&s| u64::from(s)).sum();
        let n = self.types.len();
        if total != n as u64 || self.group_sizes.len() > n || self.group_sizes.contains(&0) {
            return false;
        }
        let mut start = 0usize;
        for &size in &self.group_sizes {
            let end = start + size as usize;
            let ok = (start..end).all(|i| {
                let t = &self.types[i];
                t.supertype.is_none_or(|s| (s as usize) < i) && t.references().all(|r| r < end)
            });
            if !ok {
                return false;
            }
            start = end;
        }
        true
    }

    /// The kind of type `index`.
    pub fn kind(&self, index: u32) -> Option<TypeKind> {
        self.types.get(index as usize).map(|t| t.composite.kind())
    }

    /// The field types of struct type `index`.
    pub fn struct_fields(&self, index: u32) -> Option<&[FieldType]> {
        match &self.types.get(index as usize)?.composite {
            Composite::Struct(f) => Some(f),
            _ => None,
        }
    }

    /// The element type of array type `index`.
    pub fn array_elem(&self, index: u32) -> Option<FieldType> {
        match &self.types.get(index as usize)?.composite {
            Composite::Array(f) => Some(*f),
            _ => None,
        }
    }

    /// The word-level [`ValType`] a reference to `heap` is represented as.
    pub fn repr_of(&self, heap: HeapType) -> ValType {
        repr_with(heap, |i| self.kind(i))
    }

    /// The representation of a full type.
    pub fn repr(&self, t: FullType) -> ValType {
        match t {
            FullType::Num(v) => v,
            FullType::Ref(r) => self.repr_of(r.heap),
        }
    }
}

/// The word-level [`ValType`] a reference to `heap` is represented as, concrete types' kinds
/// given by `kind` (module type indices or canonical ids: the rule is the same).
pub fn repr_with(heap: HeapType, kind: impl Fn(u32) -> Option<TypeKind>) -> ValType {
    match heap {
        HeapType::Func | HeapType::NoFunc => ValType::FuncRef,
        HeapType::Extern | HeapType::NoExtern => ValType::ExternRef,
        HeapType::Exn | HeapType::NoExn => ValType::ExnRef,
        HeapType::Any
        | HeapType::Eq
        | HeapType::I31
        | HeapType::Struct
        | HeapType::Array
        | HeapType::None => ValType::AnyRef,
        HeapType::Concrete(i) => match kind(i) {
            Some(TypeKind::Func) | None => ValType::FuncRef,
            _ => ValType::AnyRef,
        },
    }
}

impl SubType {
    /// Every type index this type mentions (its supertype and the concrete heap types inside).
    pub fn references(&self) -> impl Iterator<Item = usize> + '_ {
        let full = |t: &FullType| match t {
            FullType::Ref(RefType {
                heap: HeapType::Concrete(i),
                ..
            }) => Some(*i as usize),
            _ => None,
        };
        let field = move |f: &FieldType| match &f.storage {
            StorageType::Val(t) => full(t),
            _ => None,
        };
        let inner: Vec<usize> = match &self.composite {
            Composite::Func { params, results } => {
                params.iter().chain(results).filter_map(full).collect()
            }
            Composite::Struct(fields) => fields.iter().filter_map(field).collect(),
            Composite::Array(f) => field(f).into_iter().collect(),
        };
        self.supertype.map(|s| s as usize).into_iter().chain(inner)
    }
}

impl TypeDefs {
    /// The signature of every type as code generation represents its values (struct and
    /// array types: an empty one).
    pub fn signatures(&self) -> Vec<FuncType> {
        self.types
            .iter()
            .map(|t| match &t.composite {
                Composite::Func { params, results } => FuncType {
                    params: params.iter().map(|p| self.repr(*p)).collect(),
                    results: results.iter().map(|r| self.repr(*r)).collect(),
                },
                _ => FuncType::default(),
            })
            .collect()
    }

    /// Function types of a host, which has no type section: each a final group of one, its
    /// references the nullable abstract types their [`ValType`]s stand for.
    pub fn from_signatures(sigs: &[FuncType]) -> TypeDefs {
        let full = |t: &ValType| match RefType::abstract_of(*t) {
            Some(r) => FullType::Ref(r),
            None => FullType::Num(*t),
        };
        TypeDefs {
            types: sigs
                .iter()
                .map(|f| SubType {
                    is_final: true,
                    supertype: None,
                    composite: Composite::Func {
                        params: f.params.iter().map(full).collect(),
                        results: f.results.iter().map(full).collect(),
                    },
                })
                .collect(),
            group_sizes: alloc::vec![1; sigs.len()],
        }
    }
}

// ---- Subtyping of heap types ----

/// Whether heap type `a` is a subtype of `b`. Concrete types are whatever indices the caller
/// uses (module type indices or canonical ids): `kind` gives their kind, `concrete_sub` decides
/// between two of them.
pub fn heap_subtype(
    a: HeapType,
    b: HeapType,
    kind: impl Fn(u32) -> Option<TypeKind>,
    concrete_sub: impl Fn(u32, u32) -> bool,
) -> bool {
    use HeapType as H;
    let kind_is = |i: u32, k: TypeKind| kind(i) == Some(k);
    let gc_concrete = |i: u32| matches!(kind(i), Some(TypeKind::Struct | TypeKind::Array));
    match (a, b) {
        (H::Concrete(i), H::Concrete(j)) => concrete_sub(i, j),
        (H::None, H::Concrete(j)) => gc_concrete(j),
        (H::NoFunc, H::Concrete(j)) => kind_is(j, TypeKind::Func),
        (_, H::Concrete(_)) => false,
        (H::Concrete(i), H::Any | H::Eq) => gc_concrete(i),
        (H::Concrete(i), H::Struct) => kind_is(i, TypeKind::Struct),
        (H::Concrete(i), H::Array) => kind_is(i, TypeKind::Array),
        (H::Concrete(i), H::Func) => kind_is(i, TypeKind::Func),
        (H::Concrete(_), _) => false,
        (a, b) if a == b => true,
        (H::None, H::Any | H::Eq | H::I31 | H::Struct | H::Array) => true,
        (H::Eq | H::I31 | H::Struct | H::Array, H::Any) => true,
        (H::I31 | H::Struct | H::Array, H::Eq) => true,
        (H::NoFunc, H::Func) | (H::NoExtern, H::Extern) | (H::NoExn, H::Exn) => true,
        _ => false,
    }
}

/// Whether reference type `a` is a subtype of `b` (see [`heap_subtype`]).
pub fn ref_subtype(
    a: RefType,
    b: RefType,
    kind: impl Fn(u32) -> Option<TypeKind>,
    concrete_sub: impl Fn(u32, u32) -> bool,
) -> bool {
    (!a.nullable || b.nullable) && heap_subtype(a.heap, b.heap, kind, concrete_sub)
}

// ---- Encoding (in the module descriptor, see `info`) ----

impl Writer {
    pub(crate) fn type_defs(&mut self, d: &TypeDefs) {
        self.u32s(&d.group_sizes);
        self.u(d.types.len() as u64);
        for t in &d.types {
            self.sub_type(t);
        }
    }

    fn sub_type(&mut self, t: &SubType) {
        self.byte(u8::from(t.is_final));
        self.opt(t.supertype.map(u64::from));
        match &t.composite {
            Composite::Func { params, results } => {
                self.byte(0);
                self.u(params.len() as u64);
                params.iter().for_each(|p| self.full_type(*p));
                self.u(results.len() as u64);
                results.iter().for_each(|r| self.full_type(*r));
            }
            Composite::Struct(fields) => {
                self.byte(1);
                self.u(fields.len() as u64);
                fields.iter().for_each(|f| self.field_type(*f));
            }
            Composite::Array(f) => {
                self.byte(2);
                self.field_type(*f);
            }
        }
    }

    fn full_type(&mut self, t: FullType) {
        match t {
            FullType::Num(v) => {
                self.byte(0);
                self.byte(v.code());
            }
            FullType::Ref(r) => self.reftype(Some(r)),
        }
    }

    fn field_type(&mut self, f: FieldType) {
        self.byte(u8::from(f.mutable));
        match f.storage {
            StorageType::I8 => self.byte(0xf0),
            StorageType::I16 => self.byte(0xf1),
            StorageType::Val(t) => self.full_type(t),
        }
    }
}

impl Reader<'_> {
    pub(crate) fn type_defs(&mut self) -> Option<TypeDefs> {
        let group_sizes = self.u32s()?;
        let types = self.list(Reader::sub_type)?;
        let d = TypeDefs { types, group_sizes };
        d.well_formed().then_some(d)
    }

    fn sub_type(&mut self) -> Option<SubType> {
        let is_final = self.flag()?;
        let supertype = match self.opt()? {
            Some(s) => Some(u32::try_from(s).ok()?),
            None => None,
        };
        let composite = match self.byte()? {
            0 => Composite::Func {
                params: self.list(Reader::full_type)?,
                results: self.list(Reader::full_type)?,
            },
            1 => Composite::Struct(self.list(Reader::field_type)?),
            2 => Composite::Array(self.field_type()?),
            _ => return None,
        };
        Some(SubType {
            is_final,
            supertype,
            composite,
        })
    }

    fn flag(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn full_type(&mut self) -> Option<FullType> {
        // A number is `0` and its code; a reference starts with its nullability, 1 or 2.
        match self.peek()? {
            0 => {
                self.byte()?;
                let v = ValType::from_code(self.byte()?)?;
                (!v.is_ref()).then_some(FullType::Num(v))
            }
            _ => Some(FullType::Ref(self.reftype()??)),
        }
    }

    fn field_type(&mut self) -> Option<FieldType> {
        let mutable = self.flag()?;
        let storage = match self.peek()? {
            0xf0 => {
                self.byte()?;
                StorageType::I8
            }
            0xf1 => {
                self.byte()?;
                StorageType::I16
            }
            _ => StorageType::Val(self.full_type()?),
        };
        Some(FieldType { storage, mutable })
    }
}

// ---- Object layout ----

/// Bytes before an object's fields or elements: the canonical type id (`u32`, offset 0) and,
/// for arrays, the length (`u32`, offset 4), for structs the object's size in bytes.
pub const OBJECT_HEADER: u32 = 8;
/// Where an array type's canonical id keeps the log2 of its element size (bits 2 to 4),
/// so that an object's size follows from its header alone.
pub const ID_ELEM_SHIFT: u32 = 2;
/// Bits of a canonical id below its registry index (kind and element size).
pub const ID_INDEX_SHIFT: u32 = 5;

/// The header word of a struct of canonical type `id`, `size` bytes large.
pub fn struct_header(id: u32, size: u32) -> u64 {
    u64::from(id) | (u64::from(size) << 32)
}

/// The header word of an array of canonical type `id` with `len` elements.
pub fn array_header(id: u32, len: u32) -> u64 {
    u64::from(id) | (u64::from(len) << 32)
}

/// The size in bytes of the object whose header word is `header`.
pub fn object_size(header: u64) -> u64 {
    let (id, high) = (header as u32, header >> 32);
    match TypeKind::of_id(id) {
        Some(TypeKind::Array) => {
            let log2 = (id >> ID_ELEM_SHIFT) & 7;
            let bytes = u64::from(OBJECT_HEADER) + (high << log2);
            bytes.div_ceil(u64::from(OBJECT_ALIGN)) * u64::from(OBJECT_ALIGN)
        }
        _ => high,
    }
}

/// The bits an array of `elem` adds to its type's canonical id.
pub fn id_elem_bits(elem: StorageType) -> u32 {
    elem.size().trailing_zeros() << ID_ELEM_SHIFT
}
/// Offset of the canonical type id in an object.
pub const OBJECT_TYPE_ID: u32 = 0;
/// Offset of an array's length.
pub const ARRAY_LENGTH: u32 = 4;
/// Alignment of every object (and of its size).
pub const OBJECT_ALIGN: u32 = 8;
/// The largest object, in bytes: larger allocations trap.
pub const MAX_OBJECT_SIZE: u64 = 1 << 31;
/// Objects larger than this are allocated by the runtime in a region of their own (and never
/// moved); compiled code bump-allocates only objects up to this size.
pub const LARGE_OBJECT: u32 = 256 * 1024;

impl StorageType {
    /// Bytes one value occupies in an object.
    pub fn size(self) -> u32 {
        match self {
            StorageType::I8 => 1,
            StorageType::I16 => 2,
            StorageType::Val(FullType::Num(ValType::I32 | ValType::F32)) => 4,
            StorageType::Val(FullType::Num(ValType::V128)) => 16,
            StorageType::Val(_) => 8,
        }
    }

    /// Its alignment inside an object (at most [`OBJECT_ALIGN`]).
    pub fn align(self) -> u32 {
        self.size().min(OBJECT_ALIGN)
    }

    /// Whether it holds a reference the collector must trace (an `any` or `extern` word;
    /// function references point to instances, which live as long as the store).
    pub fn is_gc_ref(self, defs: &TypeDefs) -> bool {
        match self {
            StorageType::Val(t) => defs.repr(t).is_gc_ref(),
            _ => false,
        }
    }
}

/// Where a struct type's fields are and how large its objects are.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct StructLayout {
    /// Offset of each field from the object's start.
    pub offsets: Vec<u32>,
    /// Object size, a multiple of [`OBJECT_ALIGN`].
    pub size: u32,
}

/// Lay out a struct: fields in declaration order after the header, each at its natural
/// alignment. Declaration order keeps a subtype's fields where its supertype has them.
pub fn struct_layout(fields: &[FieldType]) -> StructLayout {
    let mut at = OBJECT_HEADER;
    let offsets = fields
        .iter()
        .map(|f| {
            let a = f.storage.align();
            at = at.div_ceil(a) * a;
            let o = at;
            at += f.storage.size();
            o
        })
        .collect();
    StructLayout {
        offsets,
        size: at.div_ceil(OBJECT_ALIGN) * OBJECT_ALIGN,
    }
}

/// Size of an array object of `len` elements of `elem`, rounded up to [`OBJECT_ALIGN`];
/// `None` when it exceeds [`MAX_OBJECT_SIZE`].
pub fn array_size(elem: StorageType, len: u32) -> Option<u64> {
    let bytes = u64::from(OBJECT_HEADER) + u64::from(elem.size()) * u64::from(len);
    let bytes = bytes.div_ceil(u64::from(OBJECT_ALIGN)) * u64::from(OBJECT_ALIGN);
    (bytes <= MAX_OBJECT_SIZE).then_some(bytes)
}

// ---- Reference words ----

/// The low bit of an `i31ref` word.
pub const I31_TAG: u64 = 1;
/// The two low bits of an internalized host value.
pub const HOST_TAG: u64 = 2;
/// The low bits that tell words apart.
pub const TAG_MASK: u64 = 3;
/// The largest host value an `externref` can carry.
pub const MAX_HOST_VALUE: u64 = (1 << 62) - 1;

/// What a reference word of the `any` or `extern` hierarchy is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefWord {
    /// Null.
    Null,
    /// An `i31ref` with its 31 bits (zero-extended).
    I31(u32),
    /// A host value.
    Host(u64),
    /// The address of a GC object.
    Object(u64),
}

impl RefWord {
    /// Decode a word.
    pub fn classify(word: u64) -> RefWord {
        if word == 0 {
            RefWord::Null
        } else if word & I31_TAG != 0 {
            RefWord::I31(((word as u32) >> 1) & 0x7fff_ffff)
        } else if word & TAG_MASK == HOST_TAG {
            RefWord::Host(word >> 2)
        } else {
            RefWord::Object(word)
        }
    }

    /// Encode; `None` for a host value above [`MAX_HOST_VALUE`] or a misaligned address.
    pub fn encode(self) -> Option<u64> {
        match self {
            RefWord::Null => Some(0),
            RefWord::I31(v) => Some(u64::from((v << 1) | 1)),
            RefWord::Host(n) => (n <= MAX_HOST_VALUE).then_some((n << 2) | HOST_TAG),
            RefWord::Object(a) => (a != 0 && a % u64::from(OBJECT_ALIGN) == 0).then_some(a),
        }
    }
}

/// The `externref` word for host value `n` (as `ref.extern n` in a script).
pub fn extern_from_host(n: u64) -> Option<u64> {
    RefWord::Host(n).encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn field(s: StorageType) -> FieldType {
        FieldType {
            storage: s,
            mutable: true,
        }
    }

    #[test]
    fn struct_fields_sit_at_their_natural_alignment_after_the_header() {
        let i32_ = StorageType::Val(FullType::Num(ValType::I32));
        let i64_ = StorageType::Val(FullType::Num(ValType::I64));
        let l = struct_layout(&[
            field(StorageType::I8),
            field(i64_),
            field(StorageType::I16),
            field(i32_),
        ]);
        assert_eq!(l.offsets, vec![8, 16, 24, 28]);
        assert_eq!(l.size, 32);
        assert_eq!(struct_layout(&[]).size, OBJECT_HEADER);
    }

    #[test]
    fn reference_words_round_trip_through_their_encoding() {
        for w in [
            RefWord::Null,
            RefWord::I31(0),
            RefWord::I31(0x7fff_ffff),
            RefWord::Host(0),
            RefWord::Host(MAX_HOST_VALUE),
            RefWord::Object(0x1000),
        ] {
            assert_eq!(RefWord::classify(w.encode().expect("encodable")), w);
        }
        assert_eq!(RefWord::Host(MAX_HOST_VALUE + 1).encode(), None);
        assert_eq!(RefWord::Object(12).encode(), None);
    }

    #[test]
    fn an_objects_size_follows_from_its_header() {
        assert_eq!(object_size(struct_header(1 | 32, 24)), 24);
        let i16_array = 2 | id_elem_bits(StorageType::I16) | 64;
        assert_eq!(object_size(array_header(i16_array, 5)), 24);
        let v128 = StorageType::Val(FullType::Num(ValType::V128));
        let id = 2 | id_elem_bits(v128) | 64;
        assert_eq!(object_size(array_header(id, 3)), 56);
        assert_eq!(array_size(v128, 3), Some(56));
    }

    #[test]
    fn a_type_may_name_its_own_group_and_earlier_ones_only() {
        let refers_to = |i: u32| SubType {
            is_final: true,
            supertype: None,
            composite: Composite::Array(FieldType {
                storage: StorageType::Val(FullType::Ref(RefType {
                    nullable: true,
                    heap: HeapType::Concrete(i),
                })),
                mutable: false,
            }),
        };
        let defs = |types: alloc::vec::Vec<SubType>, group_sizes| TypeDefs { types, group_sizes };
        assert!(defs(vec![refers_to(0), refers_to(1)], vec![1, 1]).well_formed());
        assert!(defs(vec![refers_to(1), refers_to(0)], vec![2]).well_formed());
        assert!(!defs(vec![refers_to(1), refers_to(0)], vec![1, 1]).well_formed());
        assert!(!defs(vec![refers_to(0)], vec![0, 1]).well_formed());
    }

    #[test]
    fn arrays_beyond_the_object_limit_have_no_size() {
        assert_eq!(array_size(StorageType::I8, 3), Some(16));
        let v128 = StorageType::Val(FullType::Num(ValType::V128));
        assert_eq!(array_size(v128, u32::MAX), None);
    }
}
