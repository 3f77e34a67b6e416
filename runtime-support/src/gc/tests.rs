use super::*;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::gc::{FieldType, FullType, SubType, TypeDefs};
use weld_contract::info::{HeapType, RefType, ValType};

/// `(rec (type $pair (struct (field i64) (field (ref null $pair)))))`: its canonical id.
fn pair_type() -> u32 {
    let defs = TypeDefs {
        types: vec![SubType {
            is_final: true,
            supertype: None,
            composite: Composite::Struct(vec![
                FieldType {
                    storage: StorageType::Val(FullType::Num(ValType::I64)),
                    mutable: true,
                },
                FieldType {
                    storage: StorageType::Val(FullType::Ref(RefType {
                        nullable: true,
                        heap: HeapType::Concrete(0),
                    })),
                    mutable: true,
                },
            ]),
        }],
        group_sizes: vec![1],
    };
    crate::types::register(&defs)[0]
}

fn field(word: u64, offset: usize) -> u64 {
    // SAFETY: the tests read fields of live objects they made.
    unsafe { ((word as usize + offset) as *const u64).read() }
}

#[test]
fn host_roots_follow_their_objects_through_collections_and_die_when_given_back() {
    let id = pair_type();
    let mut store = Store::new();
    // A list of three pairs, only the head rooted; garbage beside it.
    let mut head = 0u64;
    for v in 1..=3i64 {
        let fields = [ValRaw::i64(v * 10), ValRaw::i64(head as i64)];
        head = new_struct(&mut store.gc, id, &fields).expect("allocates");
    }
    for _ in 0..1000 {
        new_struct(&mut store.gc, id, &[ValRaw::i64(-1), ValRaw::i64(0)]).expect("allocates");
    }
    let root = store.root(head);
    let old = head;
    assert!(
        store.collect_garbage(),
        "no wasm runs: the collector may run"
    );
    let head = store.root_get(root).expect("held");
    assert_ne!(head, old, "the head moved");
    let (mut sum, mut at) = (0, head);
    while at != 0 {
        sum += field(at, 8) as i64;
        at = field(at, 16);
    }
    assert_eq!(sum, 60, "the whole list survived");
    assert_eq!(store.gc_stats().live, 3 * 24);
    assert!(store.unroot(root));
    assert_eq!(store.root_get(root), None);
    assert!(!store.unroot(root), "a root is given back once");
    // A new root may reuse the slot; the old handle still reads nothing.
    let other = store.root(0);
    assert_eq!(store.root_get(root), None);
    assert_eq!(store.root_get(other), Some(0));
    assert!(store.collect_garbage());
    assert_eq!(store.gc_stats().live, 0, "nothing is rooted any more");
}

#[test]
fn host_values_and_i31s_are_not_objects_to_the_collector() {
    let mut store = Store::new();
    let host = externref(42).expect("small host value");
    let r = store.root(host);
    let i31 = store.root(RefWord::I31(7).encode().expect("i31"));
    assert!(store.collect_garbage());
    assert_eq!(store.root_get(r).and_then(host_value), Some(42));
    assert_eq!(
        store.ref_kind(store.root_get(i31).unwrap_or(0)),
        Some(RefKind::I31(7))
    );
    assert_eq!(host_value(0), None);
}

/// The canonical id of `(array (mut <storage>))`.
fn array_type(storage: StorageType) -> u32 {
    let defs = TypeDefs {
        types: vec![SubType {
            is_final: true,
            supertype: None,
            composite: Composite::Array(FieldType {
                storage,
                mutable: true,
            }),
        }],
        group_sizes: vec![1],
    };
    crate::types::register(&defs)[0]
}

fn elements(word: u64, len: usize, esize: usize) -> &'static [u8] {
    // SAFETY: the tests read elements of live arrays they made.
    unsafe {
        core::slice::from_raw_parts(
            (word as usize + OBJECT_HEADER as usize) as *const u8,
            len * esize,
        )
    }
}

#[test]
fn filled_arrays_repeat_their_value_in_every_element_of_every_width() {
    let mut store = Store::new();
    let widths = [
        (StorageType::I8, 1),
        (StorageType::I16, 2),
        (StorageType::Val(FullType::Num(ValType::I32)), 4),
        (StorageType::Val(FullType::Num(ValType::F64)), 8),
        (StorageType::Val(FullType::Num(ValType::V128)), 16),
    ];
    let value = ValRaw::from_u128(0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0201);
    for (storage, esize) in widths {
        let id = array_type(storage);
        for len in [0usize, 1, 2, 3, 7, 64, 1000] {
            let a = new_array(&mut store.gc, id, len as u32, ArrayInit::Fill(value)).unwrap();
            let want: Vec<u8> = (0..len)
                .flat_map(|_| value.bytes[..esize].to_vec())
                .collect();
            assert_eq!(elements(a, len, esize), &want[..], "{esize}-byte × {len}");
            let z = new_array(
                &mut store.gc,
                id,
                len as u32,
                ArrayInit::Fill(ValRaw::default()),
            );
            assert!(elements(z.unwrap(), len, esize).iter().all(|b| *b == 0));
        }
    }
}

#[test]
fn arrays_from_bytes_take_exactly_their_storage_and_from_functions_each_element() {
    let mut store = Store::new();
    let id = array_type(StorageType::I16);
    let bytes = [1u8, 2, 3, 4, 5, 6];
    let a = new_array(&mut store.gc, id, 3, ArrayInit::Bytes(&bytes)).unwrap();
    assert_eq!(elements(a, 3, 2), &bytes);
    assert_eq!(
        new_array(&mut store.gc, id, 2, ArrayInit::Bytes(&bytes)),
        Err(TrapCode::InvalidValue),
        "a length that disagrees with the bytes is refused"
    );
    let f = |i: u32| ValRaw::i32(0x100 * i as i32 + 7);
    let b = new_array(&mut store.gc, id, 3, ArrayInit::Each(&f)).unwrap();
    assert_eq!(elements(b, 3, 2), &[7, 0, 7, 1, 7, 2]);
}
