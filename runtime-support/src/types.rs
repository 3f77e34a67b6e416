//! Canonical function-type ids: a process-wide interner from [`FuncType`]s to a `u32`, so that
//! two ids are equal exactly when the types are equal, across every module loaded in the
//! process. `call_indirect` compares these ids. Id 0 is never handed out. Types are looked up
//! as they are (a copy is kept only of a type seen for the first time): encoding each into bytes
//! first cost an allocation per lookup, a few hundred per start-up.

use crate::sync::SpinLock;
use alloc::collections::BTreeMap;
use weld_contract::info::FuncType;

struct Interner {
    ids: BTreeMap<FuncType, u32>,
    next: u32,
}

static INTERNER: SpinLock<Interner> = SpinLock::new(Interner {
    ids: BTreeMap::new(),
    next: 1,
});

/// The canonical id of `ty` (assigning a fresh one the first time a type is seen).
pub fn canonical_id(ty: &FuncType) -> u32 {
    let mut interner = INTERNER.lock();
    if let Some(id) = interner.ids.get(ty) {
        return *id;
    }
    let id = interner.next;
    // More than four billion distinct types cannot fit in memory; wrapping is unreachable.
    interner.next = interner.next.wrapping_add(1).max(1);
    interner.ids.insert(ty.clone(), id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use weld_contract::info::ValType;

    fn ty(params: &[ValType], results: &[ValType]) -> FuncType {
        FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        }
    }

    #[test]
    fn equal_types_get_equal_ids_and_different_types_different_ids() {
        let types = [
            ty(&[], &[]),
            ty(&[ValType::I32], &[]),
            ty(&[], &[ValType::I32]),
            ty(&[ValType::I32, ValType::I64], &[ValType::F32]),
            ty(&[ValType::FuncRef], &[ValType::ExternRef]),
        ];
        let ids: Vec<u32> = types.iter().map(canonical_id).collect();
        for (i, a) in types.iter().enumerate() {
            assert_ne!(ids[i], 0);
            assert_eq!(canonical_id(&a.clone()), ids[i]);
            for (j, _) in types.iter().enumerate().skip(i + 1) {
                assert_ne!(ids[i], ids[j], "{i} vs {j}");
            }
        }
    }
}
