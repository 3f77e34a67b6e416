//! Canonical type ids: a process-wide registry that gives every defined type of every loaded
//! module a `u32`, equal for two types exactly when the GC proposal's iso-recursive type
//! equality holds (their recursion groups are structurally equal, references inside a group
//! compared by position, references outside it by canonical id, and they sit at the same
//! position in the group). `call_indirect`, casts and import matching compare these ids, and a
//! subtype check walks the declared supertype chain.
//!
//! In: a module's [`TypeDefs`] (or a host's function types). Out: one id per type index, and
//! for each id its supertype and structure, which the heap reads.
//! An id carries its `TypeKind` in its two low bits, so compiled code tells structs from
//! arrays without a lookup, and an array type's id the log2 of its element size in the next
//! three, so the collector sizes any object from its header alone. Id 0 is never handed out. Entries live as long as the process.

use crate::sync::SpinLock;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use weld_contract::gc::{
    Composite, FieldType, FullType, StorageType, SubType, TypeDefs, ID_INDEX_SHIFT,
};
use weld_contract::info::{FuncType, HeapType, RefType};

/// Marks a reference to a member of the same recursion group in a group's key.
const IN_GROUP: u32 = 1 << 31;

/// One canonical type.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Declared supertype, as a canonical id.
    pub(crate) supertype: Option<u32>,
    /// The type with every concrete reference as a canonical id.
    pub(crate) sub: SubType,
}

struct Registry {
    /// Each known group (concrete references rewritten, see [`IN_GROUP`]) and the index of its
    /// first entry.
    groups: BTreeMap<Vec<SubType>, u32>,
    entries: Vec<Entry>,
}

static REGISTRY: SpinLock<Registry> = SpinLock::new(Registry {
    groups: BTreeMap::new(),
    entries: Vec::new(),
});

/// The canonical id of registry entry `index`: its kind and, for arrays, the log2 of the
/// element size in the low bits (see `weld_contract::gc::ID_INDEX_SHIFT`).
fn id_of(index: usize, c: &Composite) -> u32 {
    // Over a hundred million types cannot fit in memory; ids cannot wrap in practice.
    let elem = match c {
        Composite::Array(f) => weld_contract::gc::id_elem_bits(f.storage),
        _ => 0,
    };
    ((index as u32 + 1) << ID_INDEX_SHIFT) | elem | c.kind() as u32
}

/// The registry entry of canonical id `id` (`usize::MAX` for 0).
pub(crate) fn index_of(id: u32) -> usize {
    ((id >> ID_INDEX_SHIFT) as usize).wrapping_sub(1)
}

/// Rewrite every concrete reference of `t` with `map`.
fn map_refs(t: &SubType, map: &impl Fn(u32) -> u32) -> SubType {
    let full = |f: &FullType| match *f {
        FullType::Ref(RefType {
            nullable,
            heap: HeapType::Concrete(i),
        }) => FullType::Ref(RefType {
            nullable,
            heap: HeapType::Concrete(map(i)),
        }),
        other => other,
    };
    let field = |f: &FieldType| FieldType {
        mutable: f.mutable,
        storage: match &f.storage {
            StorageType::Val(v) => StorageType::Val(full(v)),
            s => *s,
        },
    };
    SubType {
        is_final: t.is_final,
        supertype: t.supertype.map(map),
        composite: match &t.composite {
            Composite::Func { params, results } => Composite::Func {
                params: params.iter().map(full).collect(),
                results: results.iter().map(full).collect(),
            },
            Composite::Struct(fs) => Composite::Struct(fs.iter().map(field).collect()),
            Composite::Array(f) => Composite::Array(field(f)),
        },
    }
}

/// Register a module's types; returns the canonical id of each type index. `defs` must be
/// well formed ([`TypeDefs::well_formed`]).
pub fn register(defs: &TypeDefs) -> Vec<u32> {
    let mut reg = REGISTRY.lock();
    let mut ids: Vec<u32> = Vec::with_capacity(defs.types.len());
    let mut start = 0usize;
    for &size in &defs.group_sizes {
        let end = start + size as usize;
        let group = &defs.types[start..end];
        let outer = |i: u32| match (i as usize).checked_sub(start) {
            Some(rel) if (i as usize) < end => IN_GROUP | rel as u32,
            _ => ids.get(i as usize).copied().unwrap_or(0),
        };
        let key: Vec<SubType> = group.iter().map(|t| map_refs(t, &outer)).collect();
        let first = match reg.groups.get(&key) {
            Some(first) => *first as usize,
            None => {
                let first = reg.entries.len();
                let member = |rel: u32| id_of(first + rel as usize, &key[rel as usize].composite);
                let resolve = |i: u32| {
                    if i & IN_GROUP != 0 {
                        member(i & !IN_GROUP)
                    } else {
                        i
                    }
                };
                for t in &key {
                    let sub = map_refs(t, &resolve);
                    reg.entries.push(Entry {
                        supertype: sub.supertype,
                        sub,
                    });
                }
                reg.groups.insert(key.clone(), first as u32);
                first
            }
        };
        ids.extend(
            key.iter()
                .enumerate()
                .map(|(i, t)| id_of(first + i, &t.composite)),
        );
        start = end;
    }
    ids
}

/// The canonical id of a host function type (a final type in a group of its own, its
/// references the abstract types their words stand for).
pub fn canonical_id(ty: &FuncType) -> u32 {
    register(&TypeDefs::from_signatures(core::slice::from_ref(ty)))[0]
}

/// Whether canonical type `a` is `b` or declares it, directly or not, as a supertype.
pub fn is_subtype(a: u32, b: u32) -> bool {
    if a == b {
        return true;
    }
    let reg = REGISTRY.lock();
    let mut at = a;
    while let Some(e) = reg.entries.get(index_of(at)) {
        match e.supertype {
            Some(s) if s == b => return true,
            Some(s) => at = s,
            None => return false,
        }
    }
    false
}

/// The field types of canonical struct `id`, or the element of array `id`, with references
/// as canonical ids.
pub(crate) fn composite_of(id: u32) -> Option<Composite> {
    REGISTRY
        .lock()
        .entries
        .get(index_of(id))
        .map(|e| e.sub.composite.clone())
}

#[cfg(test)]
mod tests;
