//! The type section and value types, from wasmparser's form into the contract's.
//!
//! In: a validated module's type section and the value types its other sections and function
//! bodies name. Out: the [`TypeDefs`] the descriptor carries (every recursion group, subtype,
//! struct and array type in full) and each value type's word-level [`ValType`], which needs the
//! defined types to tell a concrete function reference from a concrete struct or array one.
//! Shared types (shared-everything threads) are refused as unsupported here.

use crate::error::{Error, Result};
use wasmparser::{AbstractHeapType as A, CompositeInnerType, HeapType as H, TypeSectionReader};
use weld_contract::gc::{Composite, FieldType, FullType, StorageType, SubType, TypeDefs};
use weld_contract::info::{HeapType, RefType, ValType};

/// Append the type section `reader` describes to `defs`.
pub fn type_section(reader: TypeSectionReader<'_>, defs: &mut TypeDefs) -> Result<()> {
    for group in reader.into_iter_with_offsets() {
        let (offset, group) = group?;
        let mut size = 0u32;
        for (offset, sub) in group.into_types_and_offsets() {
            defs.types.push(sub_type(&sub, offset)?);
            size += 1;
        }
        // An empty `(rec)` defines no types and adds no group.
        if size > 0 {
            defs.group_sizes.push(size);
        }
        let _ = offset;
    }
    Ok(())
}

fn sub_type(sub: &wasmparser::SubType, offset: u64) -> Result<SubType> {
    if sub.composite_type.shared {
        return Err(Error::unsupported(
            "shared types (shared-everything threads)",
            offset,
        ));
    }
    if sub.composite_type.descriptor_idx.is_some() || sub.composite_type.describes_idx.is_some() {
        return Err(Error::unsupported(
            "type descriptors (custom descriptors proposal)",
            offset,
        ));
    }
    let supertype = match sub.supertype_idxs.first().map(|i| i.unpack()) {
        None => None,
        Some(wasmparser::UnpackedIndex::Module(i)) => Some(i),
        Some(_) => return Err(Error::unsupported("a supertype index form", offset)),
    };
    let full = |t: &wasmparser::ValType| full_type(*t, offset);
    let composite = match &sub.composite_type.inner {
        CompositeInnerType::Func(f) => Composite::Func {
            params: f.params().iter().map(full).collect::<Result<_>>()?,
            results: f.results().iter().map(full).collect::<Result<_>>()?,
        },
        CompositeInnerType::Struct(s) => Composite::Struct(
            s.fields
                .iter()
                .map(|f| field_type(f, offset))
                .collect::<Result<_>>()?,
        ),
        CompositeInnerType::Array(a) => Composite::Array(field_type(&a.0, offset)?),
        CompositeInnerType::Cont(_) => {
            return Err(Error::unsupported(
                "continuation types (stack switching proposal)",
                offset,
            ))
        }
    };
    Ok(SubType {
        is_final: sub.is_final,
        supertype,
        composite,
    })
}

fn field_type(f: &wasmparser::FieldType, offset: u64) -> Result<FieldType> {
    let storage = match f.element_type {
        wasmparser::StorageType::I8 => StorageType::I8,
        wasmparser::StorageType::I16 => StorageType::I16,
        wasmparser::StorageType::Val(t) => StorageType::Val(full_type(t, offset)?),
    };
    Ok(FieldType {
        storage,
        mutable: f.mutable,
    })
}

/// A value type in full.
pub fn full_type(t: wasmparser::ValType, offset: u64) -> Result<FullType> {
    Ok(match t {
        wasmparser::ValType::I32 => FullType::Num(ValType::I32),
        wasmparser::ValType::I64 => FullType::Num(ValType::I64),
        wasmparser::ValType::F32 => FullType::Num(ValType::F32),
        wasmparser::ValType::F64 => FullType::Num(ValType::F64),
        wasmparser::ValType::V128 => FullType::Num(ValType::V128),
        wasmparser::ValType::Ref(r) => FullType::Ref(ref_type(r, offset)?),
    })
}

/// A reference type in full.
pub fn ref_type(r: wasmparser::RefType, offset: u64) -> Result<RefType> {
    Ok(RefType {
        nullable: r.is_nullable(),
        heap: heap_type(r.heap_type(), offset)?,
    })
}

/// A heap type.
pub fn heap_type(h: H, offset: u64) -> Result<HeapType> {
    let unsupported = || Error::unsupported(format!("heap type {h:?}"), offset);
    Ok(match h {
        H::Abstract { shared: false, ty } => match ty {
            A::Func => HeapType::Func,
            A::NoFunc => HeapType::NoFunc,
            A::Extern => HeapType::Extern,
            A::NoExtern => HeapType::NoExtern,
            A::Exn => HeapType::Exn,
            A::NoExn => HeapType::NoExn,
            A::Any => HeapType::Any,
            A::Eq => HeapType::Eq,
            A::I31 => HeapType::I31,
            A::Struct => HeapType::Struct,
            A::Array => HeapType::Array,
            A::None => HeapType::None,
            A::Cont | A::NoCont => return Err(unsupported()),
        },
        H::Concrete(wasmparser::UnpackedIndex::Module(i)) => HeapType::Concrete(i),
        _ => return Err(unsupported()),
    })
}

/// The word-level type a value of type `t` is represented as, concrete heap types looked up
/// in `defs`.
pub fn val_type(t: wasmparser::ValType, defs: &TypeDefs, offset: u64) -> Result<ValType> {
    Ok(defs.repr(full_type(t, offset)?))
}
