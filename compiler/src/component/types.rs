//! Interface types: conversion from wasmparser's component types into the contract's type arena,
//! and the Canonical ABI's flattening of function types into core signatures.

use crate::error::Result;
use std::collections::HashMap;
use wasmparser::component_types::{ComponentDefinedType, ComponentValType, ResourceId};
use wasmparser::types::TypesRef;
use wasmparser::PrimitiveValType;
use weld_contract::component::abi::{canon_signature, Flat, Types};
use weld_contract::component::{CanonOpts, FuncTy, TypeDef};
use weld_contract::info::ValType;

/// Interns interface types into one arena.
#[derive(Default)]
pub struct TypeArena {
    /// The arena (becomes `ComponentInfo::types`).
    pub defs: Vec<TypeDef>,
    interned: HashMap<TypeDef, u32>,
    /// Function types (become `ComponentInfo::func_types`).
    pub funcs: Vec<FuncTy>,
}

/// Maps wasmparser resource ids of one component instance to runtime resource indices.
pub type ResourceMap = HashMap<ResourceId, u32>;

impl TypeArena {
    fn intern(&mut self, t: TypeDef) -> u32 {
        if let Some(i) = self.interned.get(&t) {
            return *i;
        }
        let i = self.defs.len() as u32;
        self.defs.push(t.clone());
        self.interned.insert(t, i);
        i
    }

    /// Convert an optional value type (a payload).
    fn opt_val(
        &mut self,
        types: TypesRef<'_>,
        t: &Option<ComponentValType>,
        resource: &mut dyn FnMut(ResourceId) -> u32,
    ) -> Result<Option<u32>> {
        t.as_ref().map(|t| self.val(types, t, resource)).transpose()
    }

    /// Convert a value type. `resource` maps a resource id to its runtime index.
    pub fn val(
        &mut self,
        types: TypesRef<'_>,
        t: &ComponentValType,
        resource: &mut dyn FnMut(ResourceId) -> u32,
    ) -> Result<u32> {
        let def = match t {
            ComponentValType::Primitive(p) => prim(*p),
            ComponentValType::Type(id) => match &types[*id] {
                ComponentDefinedType::Primitive(p) => prim(*p),
                ComponentDefinedType::Record(r) => {
                    let mut fields = Vec::new();
                    for (n, t) in r.fields.iter() {
                        fields.push((n.to_string(), self.val(types, t, resource)?));
                    }
                    TypeDef::Record(fields)
                }
                ComponentDefinedType::Variant(v) => {
                    let mut cases = Vec::new();
                    for (n, c) in v.cases.iter() {
                        let ty = match &c.ty {
                            Some(t) => Some(self.val(types, t, resource)?),
                            None => None,
                        };
                        cases.push((n.to_string(), ty));
                    }
                    TypeDef::Variant(cases)
                }
                ComponentDefinedType::List { element, .. } => {
                    TypeDef::List(self.val(types, element, resource)?)
                }
                // The Canonical ABI treats map<K, V> as list<tuple<K, V>>; the entry tuple is
                // interned for the layout code, the map kept for the names users see.
                ComponentDefinedType::Map { key, value, .. } => {
                    let k = self.val(types, key, resource)?;
                    let v = self.val(types, value, resource)?;
                    let entry = self.intern(TypeDef::Tuple(vec![k, v]));
                    TypeDef::Map { entry }
                }
                ComponentDefinedType::FixedLengthList {
                    element, length, ..
                } => TypeDef::FixedList {
                    elem: self.val(types, element, resource)?,
                    len: *length,
                },
                ComponentDefinedType::Tuple(t) => {
                    let mut ts = Vec::new();
                    for e in t.types.iter() {
                        ts.push(self.val(types, e, resource)?);
                    }
                    TypeDef::Tuple(ts)
                }
                ComponentDefinedType::Flags(f) => {
                    TypeDef::Flags(f.iter().map(|n| n.to_string()).collect())
                }
                ComponentDefinedType::Enum(e) => {
                    TypeDef::Enum(e.iter().map(|n| n.to_string()).collect())
                }
                ComponentDefinedType::Option { ty, .. } => {
                    TypeDef::Option(self.val(types, ty, resource)?)
                }
                ComponentDefinedType::Result { ok, err, .. } => {
                    let ok = match ok {
                        Some(t) => Some(self.val(types, t, resource)?),
                        None => None,
                    };
                    let err = match err {
                        Some(t) => Some(self.val(types, t, resource)?),
                        None => None,
                    };
                    TypeDef::Result { ok, err }
                }
                ComponentDefinedType::Own(r) => TypeDef::Own(resource(r.resource())),
                ComponentDefinedType::Borrow(r) => TypeDef::Borrow(resource(r.resource())),
                ComponentDefinedType::Stream { ty, .. } => {
                    TypeDef::Stream(self.opt_val(types, ty, resource)?)
                }
                ComponentDefinedType::Future { ty, .. } => {
                    TypeDef::Future(self.opt_val(types, ty, resource)?)
                }
            },
        };
        Ok(self.intern(def))
    }

    /// Convert a function type; returns its index in `funcs`.
    pub fn func(
        &mut self,
        types: TypesRef<'_>,
        id: wasmparser::component_types::ComponentFuncTypeId,
        resource: &mut dyn FnMut(ResourceId) -> u32,
    ) -> Result<u32> {
        let ft = &types[id];
        let mut params = Vec::new();
        for (n, t) in ft.params.iter() {
            params.push((n.to_string(), self.val(types, t, resource)?));
        }
        let result = match &ft.result {
            Some(t) => Some(self.val(types, t, resource)?),
            None => None,
        };
        Ok(self.intern_func(FuncTy {
            params,
            result,
            async_: ft.async_,
        }))
    }

    /// The index of function type `f`, added if new.
    pub fn intern_func(&mut self, f: FuncTy) -> u32 {
        if let Some(i) = self.funcs.iter().position(|x| *x == f) {
            return i as u32;
        }
        self.funcs.push(f);
        self.funcs.len() as u32 - 1
    }

    /// Core types of a value of type `t`, flattened per the Canonical ABI
    /// ([`weld_contract::component::abi`]).
    pub fn flatten(&self, t: u32, out: &mut Vec<ValType>) {
        let mut flat = Vec::new();
        Types::new(&self.defs).flatten(t, &mut flat);
        out.extend(flat.into_iter().map(core_type));
    }

    /// Core signature of a lowered function of type `f` (`canon lower`, with `opts`).
    pub fn lowered_signature(&self, f: u32, opts: &CanonOpts) -> (Vec<ValType>, Vec<ValType>) {
        let ft = &self.funcs[f as usize];
        let (p, r) = canon_signature(Types::new(&self.defs), ft, opts, false);
        (
            p.into_iter().map(core_type).collect(),
            r.into_iter().map(core_type).collect(),
        )
    }
}

/// A flat Canonical ABI type as a core value type.
fn core_type(f: Flat) -> ValType {
    match f {
        Flat::I32 => ValType::I32,
        Flat::I64 => ValType::I64,
        Flat::F32 => ValType::F32,
        Flat::F64 => ValType::F64,
    }
}

fn prim(p: PrimitiveValType) -> TypeDef {
    match p {
        PrimitiveValType::Bool => TypeDef::Bool,
        PrimitiveValType::S8 => TypeDef::S8,
        PrimitiveValType::U8 => TypeDef::U8,
        PrimitiveValType::S16 => TypeDef::S16,
        PrimitiveValType::U16 => TypeDef::U16,
        PrimitiveValType::S32 => TypeDef::S32,
        PrimitiveValType::U32 => TypeDef::U32,
        PrimitiveValType::S64 => TypeDef::S64,
        PrimitiveValType::U64 => TypeDef::U64,
        PrimitiveValType::F32 => TypeDef::F32,
        PrimitiveValType::F64 => TypeDef::F64,
        PrimitiveValType::Char => TypeDef::Char,
        PrimitiveValType::String => TypeDef::String,
        PrimitiveValType::ErrorContext => TypeDef::ErrorContext,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arena(defs: Vec<TypeDef>) -> TypeArena {
        let mut a = TypeArena::default();
        for d in defs {
            a.intern(d);
        }
        a
    }

    #[test]
    fn variants_join_their_case_flattenings() {
        // variant { a(u32), b(f32), c(u64) } → [i32 disc, join(i32, f32, i64) = i64]
        let a = arena(vec![
            TypeDef::U32,
            TypeDef::F32,
            TypeDef::U64,
            TypeDef::Variant(vec![
                ("a".into(), Some(0)),
                ("b".into(), Some(1)),
                ("c".into(), Some(2)),
            ]),
        ]);
        let mut out = Vec::new();
        a.flatten(3, &mut out);
        assert_eq!(out, vec![ValType::I32, ValType::I64]);
    }

    #[test]
    fn i32_and_f32_cases_join_to_i32() {
        let a = arena(vec![
            TypeDef::U32,
            TypeDef::F32,
            TypeDef::Result {
                ok: Some(0),
                err: Some(1),
            },
        ]);
        let mut out = Vec::new();
        a.flatten(2, &mut out);
        assert_eq!(out, vec![ValType::I32, ValType::I32]);
    }

    #[test]
    fn too_many_params_or_results_spill_to_memory() {
        let mut a = arena(vec![TypeDef::String]);
        a.funcs.push(FuncTy {
            params: (0..9).map(|i| (format!("p{i}"), 0)).collect(),
            result: Some(0),
            async_: false,
        });
        let (p, r) = a.lowered_signature(0, &CanonOpts::default());
        // 18 flat params > 16 → one pointer; a string result (2 values) > 1 → a return pointer.
        assert_eq!(p, vec![ValType::I32, ValType::I32]);
        assert!(r.is_empty());
    }

    #[test]
    fn flags_take_one_i32_per_32_flags() {
        let a = arena(vec![TypeDef::Flags(
            (0..33).map(|i| format!("f{i}")).collect(),
        )]);
        let mut out = Vec::new();
        a.flatten(0, &mut out);
        assert_eq!(out, vec![ValType::I32, ValType::I32]);
    }
}
