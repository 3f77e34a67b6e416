//! Reference types at link time: whether a global or table another instance (or the host)
//! exports fits what an import declares, with the subtyping of typed function references and
//! the GC proposal (`(ref $t)` ≤ `(ref func)` ≤ `(ref null func)`, `$sub` ≤ `$super` as
//! declared, `none` below every `any` type, `nofunc` below every function type, `noextern`
//! below `extern`, `noexn` below `exn`).
//!
//! In: each side's [`RefType`] as its module declared it, concrete heap types resolved to
//! canonical type ids (`crate::types`) through that module's ids. Out: yes or no. The rules
//! themselves are the contract's (`weld_contract::gc::ref_subtype`).

use weld_contract::gc::TypeKind;
use weld_contract::info::{HeapType, RefType, ValType};

/// The reference type of a value of type `ty` declared as `full` (`None`: the nullable abstract
/// type, as the host's globals and tables have), its concrete heap type mapped to a canonical
/// id by `canon`. `None` when `ty` is no reference or the concrete type is unknown.
pub(crate) fn resolve(
    ty: ValType,
    full: Option<RefType>,
    canon: impl Fn(u32) -> Option<u32>,
) -> Option<RefType> {
    let r = full.or_else(|| RefType::abstract_of(ty))?;
    let heap = match r.heap {
        HeapType::Concrete(i) => HeapType::Concrete(canon(i)?),
        h => h,
    };
    Some(RefType {
        nullable: r.nullable,
        heap,
    })
}

/// Whether every value of `a` is a value of `b` (both resolved).
pub(crate) fn is_subtype(a: &RefType, b: &RefType) -> bool {
    weld_contract::gc::ref_subtype(*a, *b, TypeKind::of_id, crate::types::is_subtype)
}

/// Whether `a` and `b` are the same type.
pub(crate) fn same(a: &RefType, b: &RefType) -> bool {
    is_subtype(a, b) && is_subtype(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use weld_contract::info::FuncType;

    fn r(nullable: bool, heap: HeapType) -> Option<RefType> {
        Some(RefType { nullable, heap })
    }

    #[test]
    fn typed_function_references_order_as_the_proposal_says() {
        let ids = [
            crate::types::canonical_id(&FuncType::default()),
            crate::types::canonical_id(&FuncType {
                params: vec![ValType::I32],
                results: vec![],
            }),
            crate::types::canonical_id(&FuncType::default()),
        ];
        let at = |i: u32| ids.get(i as usize).copied();
        let f = ValType::FuncRef;
        let t0 = resolve(f, r(false, HeapType::Concrete(0)), at).unwrap();
        let t0_null = resolve(f, r(true, HeapType::Concrete(0)), at).unwrap();
        let t1 = resolve(f, r(false, HeapType::Concrete(1)), at).unwrap();
        let t2 = resolve(f, r(false, HeapType::Concrete(2)), at).unwrap();
        let func = resolve(f, r(false, HeapType::Func), at).unwrap();
        let funcref = resolve(f, None, at).unwrap();
        let nofunc = resolve(f, r(true, HeapType::NoFunc), at).unwrap();
        let extern_ = resolve(ValType::ExternRef, None, at).unwrap();
        assert!(is_subtype(&t0, &func) && is_subtype(&func, &funcref));
        assert!(is_subtype(&t0, &t0_null) && !is_subtype(&t0_null, &t0));
        assert!(!is_subtype(&funcref, &func) && !is_subtype(&func, &t0));
        assert!(same(&t0, &t2), "equal function types are one type");
        assert!(!is_subtype(&t0, &t1));
        assert!(is_subtype(&nofunc, &t0_null) && !is_subtype(&nofunc, &t0));
        assert!(!is_subtype(&extern_, &funcref) && !is_subtype(&funcref, &extern_));
        assert!(resolve(ValType::I32, None, at).is_none());
        // What a host holds: concrete types widened, misfits dropped.
        let widened = RefType::for_host(r(false, HeapType::Concrete(0)), f);
        assert_eq!(widened, r(false, HeapType::Func));
        assert_eq!(RefType::for_host(r(true, HeapType::Extern), f), None);
        assert!(resolve(f, r(true, HeapType::Concrete(9)), at).is_none());
    }

    #[test]
    fn the_any_hierarchy_orders_as_the_gc_proposal_says() {
        let a = ValType::AnyRef;
        let any = resolve(a, None, |_| None).unwrap();
        for h in [
            HeapType::Eq,
            HeapType::I31,
            HeapType::Struct,
            HeapType::Array,
            HeapType::None,
        ] {
            let t = resolve(a, r(true, h), |_| None).unwrap();
            assert!(is_subtype(&t, &any) && !is_subtype(&any, &t), "{h:?}");
        }
        let i31 = resolve(a, r(true, HeapType::I31), |_| None).unwrap();
        let st = resolve(a, r(true, HeapType::Struct), |_| None).unwrap();
        assert!(!is_subtype(&i31, &st) && !is_subtype(&st, &i31));
    }
}
