use super::*;
use alloc::vec;
use weld_contract::gc::{FieldType, TypeKind};
use weld_contract::info::ValType;

fn sub(is_final: bool, supertype: Option<u32>, composite: Composite) -> SubType {
    SubType {
        is_final,
        supertype,
        composite,
    }
}

fn field_ref(heap: HeapType) -> FieldType {
    FieldType {
        storage: StorageType::Val(FullType::Ref(RefType {
            nullable: true,
            heap,
        })),
        mutable: true,
    }
}

fn i32_field() -> FieldType {
    FieldType {
        storage: StorageType::Val(FullType::Num(ValType::I32)),
        mutable: false,
    }
}

/// A recursive list type `(rec (type $l (struct (field (ref null $l)))))` after `pad` other
/// types, so that its index differs between "modules".
fn list_module(pad: usize) -> TypeDefs {
    let mut types: Vec<SubType> = (0..pad)
        .map(|_| sub(true, None, Composite::Array(i32_field())))
        .collect();
    let l = pad as u32;
    types.push(sub(
        true,
        None,
        Composite::Struct(vec![field_ref(HeapType::Concrete(l))]),
    ));
    TypeDefs {
        group_sizes: vec![1; pad + 1],
        types,
    }
}

#[test]
fn equal_recursion_groups_get_equal_ids_across_modules() {
    let a = register(&list_module(0));
    let b = register(&list_module(3));
    assert_eq!(a[0], b[3]);
    assert_eq!(TypeKind::of_id(a[0]), Some(TypeKind::Struct));
    assert_eq!(TypeKind::of_id(b[0]), Some(TypeKind::Array));
    assert_ne!(a[0], 0);
}

#[test]
fn the_position_in_a_group_is_part_of_a_type() {
    // (rec (type (struct)) (type (struct))): structurally equal, different positions.
    let empty = || sub(true, None, Composite::Struct(vec![]));
    let ids = register(&TypeDefs {
        types: vec![empty(), empty()],
        group_sizes: vec![2],
    });
    assert_ne!(ids[0], ids[1]);
    // The same struct alone is a third type.
    let alone = register(&TypeDefs {
        types: vec![empty()],
        group_sizes: vec![1],
    });
    assert!(alone[0] != ids[0] && alone[0] != ids[1]);
}

#[test]
fn subtyping_follows_declared_supertypes_only() {
    let ids = register(&TypeDefs {
        types: vec![
            sub(false, None, Composite::Struct(vec![])),
            sub(false, Some(0), Composite::Struct(vec![i32_field()])),
            sub(
                true,
                Some(1),
                Composite::Struct(vec![i32_field(), i32_field()]),
            ),
            sub(true, None, Composite::Struct(vec![i32_field()])),
        ],
        group_sizes: vec![1, 1, 1, 1],
    });
    assert!(is_subtype(ids[2], ids[0]) && is_subtype(ids[1], ids[0]));
    assert!(!is_subtype(ids[0], ids[2]));
    assert!(
        !is_subtype(ids[3], ids[0]),
        "same shape, no declared supertype"
    );
}
