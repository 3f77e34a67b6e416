//! Reference types at link time: whether a global or table another instance (or the host)
//! exports fits what an import declares, with the subtyping of the typed function references
//! proposal (`(ref $t)` ≤ `(ref func)` ≤ `(ref null func)`, `nofunc` below every function type,
//! `noextern` below `extern`, `noexn` below `exn`).
//!
//! In: each side's [`RefType`] as its module declared it, with concrete heap types resolved to
//! function types through that module's type list. Out: yes or no. Concrete types are equal
//! when their function types are (weld compiles no recursive type groups yet, so a function
//! type is its structure).

use weld_contract::info::{FuncType, HeapType, RefType, ValType};

/// A reference type with its concrete heap type resolved.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resolved<'a> {
    nullable: bool,
    heap: Heap<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Heap<'a> {
    Func,
    NoFunc,
    Extern,
    NoExtern,
    Exn,
    NoExn,
    Concrete(&'a FuncType),
}

/// The reference type of a value of type `ty` declared as `full` (`None`: the nullable abstract
/// type, as the host's globals and tables have), its concrete heap type found by `lookup`.
/// `None` when `ty` is no reference or the concrete type is unknown.
pub(crate) fn resolve<'a>(
    ty: ValType,
    full: Option<RefType>,
    lookup: impl Fn(u32) -> Option<&'a FuncType>,
) -> Option<Resolved<'a>> {
    let r = full.or_else(|| RefType::abstract_of(ty))?;
    let heap = match r.heap {
        HeapType::Func => Heap::Func,
        HeapType::NoFunc => Heap::NoFunc,
        HeapType::Extern => Heap::Extern,
        HeapType::NoExtern => Heap::NoExtern,
        HeapType::Exn => Heap::Exn,
        HeapType::NoExn => Heap::NoExn,
        HeapType::Concrete(i) => Heap::Concrete(lookup(i)?),
    };
    Some(Resolved {
        nullable: r.nullable,
        heap,
    })
}

/// Whether every value of `a` is a value of `b`.
pub(crate) fn is_subtype(a: &Resolved<'_>, b: &Resolved<'_>) -> bool {
    use Heap::*;
    let heap = match (a.heap, b.heap) {
        (Concrete(x), Concrete(y)) => x == y,
        (Func | Concrete(_), Func) | (NoFunc, Func | NoFunc | Concrete(_)) => true,
        (Extern, Extern) | (NoExtern, Extern | NoExtern) => true,
        (Exn, Exn) | (NoExn, Exn | NoExn) => true,
        _ => false,
    };
    heap && (b.nullable || !a.nullable)
}

/// Whether `a` and `b` are the same type.
pub(crate) fn same(a: &Resolved<'_>, b: &Resolved<'_>) -> bool {
    is_subtype(a, b) && is_subtype(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn r(nullable: bool, heap: HeapType) -> Option<RefType> {
        Some(RefType { nullable, heap })
    }

    #[test]
    fn typed_function_references_order_as_the_proposal_says() {
        let types = [
            FuncType::default(),
            FuncType {
                params: vec![ValType::I32],
                results: vec![],
            },
            FuncType::default(),
        ];
        let at = |i: u32| types.get(i as usize);
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
}
