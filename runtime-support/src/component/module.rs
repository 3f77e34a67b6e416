//! [`ComponentModule`]: a compiled component's descriptor, decoded and checked. Every index in
//! the [`ComponentInfo`] (types, function types, instances, lowerings, resources, component
//! instances) is checked against its table, the type arena is checked to be acyclic, and every
//! lowering's core signature is checked against the flattening of its function type, so the
//! runtime can index without panicking and read exactly the slots the trampoline wrote.

use super::types::{Flat, Types};
use crate::module::{LoadError, Module};
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use weld_contract::component::abi::{canon_signature, MAX_VALUE_BYTE_SIZE};
use weld_contract::component::concurrency::CONTEXT_SLOTS;
use weld_contract::component::descriptor::{VMComponentDescriptor, COMPONENT_MAGIC};
use weld_contract::component::{
    Builtin, CanonOpts, ComponentInfo, CoreDef, Lifted, LoweringTarget, TypeDef,
};
use weld_contract::info::ValType;
use weld_contract::ABI_VERSION;

#[derive(Debug)]
pub(crate) struct ComponentModuleInner {
    pub(crate) info: ComponentInfo,
    pub(crate) modules: Vec<Module>,
    /// Trampoline code per lowering.
    pub(crate) lowerings: Vec<*const u8>,
}

// SAFETY: the trampoline pointers are immutable code of a loaded object; the rest is owned data.
unsafe impl Send for ComponentModuleInner {}
// SAFETY: as above; nothing is written through the pointers.
unsafe impl Sync for ComponentModuleInner {}

/// A loaded component, cheap to clone.
#[derive(Clone, Debug)]
pub struct ComponentModule {
    pub(crate) inner: Arc<ComponentModuleInner>,
}

use crate::module::{bad, reference, slice, Checks};

impl ComponentModule {
    /// Load the component a descriptor describes, with each of its core modules.
    ///
    /// # Safety
    /// `desc` must be a descriptor written by weld (pointers valid for their lengths, code
    /// compiled against this contract) that lives for the rest of the process.
    pub unsafe fn from_descriptor(
        desc: &'static VMComponentDescriptor,
    ) -> Result<ComponentModule, LoadError> {
        // SAFETY: the caller's guarantee.
        unsafe { Self::load(desc, Checks::All) }
    }

    /// [`Self::from_descriptor`] for the executable's own descriptor, which weld linked in
    /// beside its code: the header is checked, the tables only in debug builds
    /// ([`Checks::linked`]).
    ///
    /// # Safety
    /// As for [`Self::from_descriptor`].
    pub(crate) unsafe fn from_linked_descriptor(
        desc: &'static VMComponentDescriptor,
    ) -> Result<ComponentModule, LoadError> {
        // SAFETY: the caller's guarantee.
        unsafe { Self::load(desc, Checks::linked()) }
    }

    /// # Safety
    /// As for [`Self::from_descriptor`].
    pub(crate) unsafe fn load(
        desc: &'static VMComponentDescriptor,
        checks: Checks,
    ) -> Result<ComponentModule, LoadError> {
        if desc.magic != COMPONENT_MAGIC {
            return Err(LoadError::BadMagic);
        }
        if desc.abi_version != ABI_VERSION {
            return Err(LoadError::AbiVersion {
                found: desc.abi_version,
            });
        }
        // SAFETY: the caller vouches for the descriptor's pointers and lengths.
        let (info, modules, lowerings) = unsafe {
            (
                slice(desc.info, desc.info_len, "component info")?,
                slice(desc.modules, desc.modules_len, "modules")?,
                slice(desc.lowerings, desc.lowerings_len, "lowerings")?,
            )
        };
        let info = ComponentInfo::decode(info).ok_or_else(|| bad("undecodable component info"))?;
        let mut loaded = Vec::with_capacity(modules.len());
        for (i, m) in modules.iter().enumerate() {
            if m.is_null() {
                return Err(bad(format!("module {i}: null descriptor")));
            }
            // SAFETY: a non-null module pointer of a weld component descriptor is a module
            // descriptor living as long as the component's (the caller's guarantee).
            loaded.push(unsafe { Module::load(reference(*m, "module descriptor")?, checks)? });
        }
        if lowerings.len() != info.lowerings.len() || lowerings.iter().any(|p| p.is_null()) {
            return Err(bad("lowering trampolines do not match the lowerings"));
        }
        if !lowerings
            .iter()
            .all(|p| crate::module::inside_image(*p as usize, 1, true))
        {
            return Err(bad(
                "a lowering trampoline outside the loaded object's code",
            ));
        }
        if checks.tables() {
            validate(&info, loaded.len())?;
        }
        Ok(ComponentModule {
            inner: Arc::new(ComponentModuleInner {
                info,
                modules: loaded,
                lowerings: lowerings.to_vec(),
            }),
        })
    }

    /// The flattened component.
    pub fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }
}

/// The number of child positions of `def` (a variant's cases, a record's fields, ...); with
/// [`child`], its children without allocating (this runs over every type at every load).
fn child_slots(def: &TypeDef) -> usize {
    match def {
        TypeDef::List(_)
        | TypeDef::FixedList { .. }
        | TypeDef::Map { .. }
        | TypeDef::Option(_)
        | TypeDef::Stream(_)
        | TypeDef::Future(_) => 1,
        TypeDef::Record(fs) => fs.len(),
        TypeDef::Tuple(ts) => ts.len(),
        TypeDef::Variant(cs) => cs.len(),
        TypeDef::Result { .. } => 2,
        _ => 0,
    }
}

/// The child type at position `i` of `def`, if that position has one (a case may carry no
/// payload).
fn child(def: &TypeDef, i: usize) -> Option<u32> {
    match def {
        TypeDef::List(t)
        | TypeDef::FixedList { elem: t, .. }
        | TypeDef::Map { entry: t }
        | TypeDef::Option(t) => (i == 0).then_some(*t),
        TypeDef::Stream(t) | TypeDef::Future(t) => t.filter(|_| i == 0),
        TypeDef::Record(fs) => fs.get(i).map(|(_, t)| *t),
        TypeDef::Tuple(ts) => ts.get(i).copied(),
        TypeDef::Variant(cs) => cs.get(i).and_then(|(_, t)| *t),
        TypeDef::Result { ok, err } => [*ok, *err].get(i).copied().flatten(),
        _ => None,
    }
}

/// Types in range, resources in range, no cycles, no empty variants.
/// The most nodes a type's tree may have (the component validator's `MAX_TYPE_SIZE`).
const MAX_TYPE_NODES: u64 = 1_000_000;

fn check_types(info: &ComponentInfo) -> Result<(), LoadError> {
    let n = info.types.len();
    for (i, def) in info.types.iter().enumerate() {
        if (0..child_slots(def)).any(|p| child(def, p).is_some_and(|c| c as usize >= n)) {
            return Err(bad(format!("type {i}: child type out of range")));
        }
        match def {
            TypeDef::Own(r) | TypeDef::Borrow(r) if *r as usize >= info.resources.len() => {
                return Err(bad(format!("type {i}: resource out of range")));
            }
            TypeDef::Variant(cs) if cs.is_empty() => return Err(bad("empty variant")),
            TypeDef::Enum(cs) if cs.is_empty() => return Err(bad("empty enum")),
            TypeDef::FixedList { len: 0, .. } => return Err(bad("empty fixed-length list")),
            TypeDef::Map { entry } => match info.types.get(*entry as usize) {
                Some(TypeDef::Tuple(kv)) if kv.len() == 2 => {}
                _ => return Err(bad(format!("type {i}: a map's entry is not a pair"))),
            },
            _ => {}
        }
    }
    // Iterative DFS: 0 = unseen, 1 = on the stack, 2 = done; children finish first.
    let mut state = alloc::vec![0u8; n];
    let mut finished = Vec::with_capacity(n);
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = alloc::vec![(root, 0usize)];
        state[root] = 1;
        while let Some((t, next)) = stack.pop() {
            let def = &info.types[t];
            if next < child_slots(def) {
                stack.push((t, next + 1));
                let Some(k) = child(def, next) else {
                    continue;
                };
                match state[k as usize] {
                    0 => {
                        state[k as usize] = 1;
                        stack.push((k as usize, 0));
                    }
                    1 => return Err(bad("cyclic type")),
                    _ => {}
                }
            } else {
                state[t] = 2;
                finished.push(t);
            }
        }
    }
    // Every walk over a type (layout, flattening, lifting) visits its tree at most once per
    // node: bound the tree as the component validator does, so none can take forever.
    let mut nodes = alloc::vec![0u64; n];
    for t in finished {
        let def = &info.types[t];
        let below = (0..child_slots(def))
            .filter_map(|p| child(def, p))
            .fold(0u64, |acc, c| acc.saturating_add(nodes[c as usize]));
        nodes[t] = below.saturating_add(1);
        if nodes[t] > MAX_TYPE_NODES {
            return Err(bad(format!("type {t}: more than {MAX_TYPE_NODES} nodes")));
        }
    }
    // Sizes only now that the arena is known to be acyclic.
    let types = Types::new(&info.types);
    for (i, def) in info.types.iter().enumerate() {
        // Zero-sized elements would let a short list stand for billions of values.
        if let TypeDef::FixedList { elem, .. } = def {
            if types.size(i as u32) >= MAX_VALUE_BYTE_SIZE || types.size(*elem) == 0 {
                return Err(bad(format!(
                    "type {i}: a fixed-length list of 2^28 bytes or more, or of empty elements"
                )));
            }
        }
    }
    Ok(())
}

fn valtype(f: Flat) -> ValType {
    match f {
        Flat::I32 => ValType::I32,
        Flat::I64 => ValType::I64,
        Flat::F32 => ValType::F32,
        Flat::F64 => ValType::F64,
    }
}

/// Whether `d` reaches into the host: its address space, its functions, its allocators.
fn host_only(d: &CoreDef) -> bool {
    use weld_contract::component::Intrinsic as In;
    match d {
        CoreDef::HostMemory | CoreDef::HostCall(_) => true,
        CoreDef::Intrinsic { op, .. } => matches!(
            op,
            In::HostValidateUtf8
                | In::HostRealloc
                | In::HostFree
                | In::ScratchAlloc
                | In::ScratchMark
                | In::ScratchRelease
        ),
        _ => false,
    }
}

/// Per core instance: `None` unless it is a host entry (`Some(None)`) or a host call (`Some(k)`
/// for import `k`); an instance named twice is refused.
#[allow(clippy::type_complexity)]
fn host_adapters(info: &ComponentInfo) -> Result<Vec<Option<Option<u32>>>, LoadError> {
    let mut roles = alloc::vec![None; info.instances.len()];
    let entries = info
        .exports
        .iter()
        .filter_map(|e| Some((e.host_entry?, None)));
    let calls = info.lowerings.iter().filter_map(|l| match l.target {
        LoweringTarget::Import(k) => Some((l.host_call?, Some(k))),
        _ => None,
    });
    for (i, role) in entries.chain(calls) {
        match roles.get_mut(i as usize) {
            Some(slot @ None) => *slot = Some(role),
            // Out of range is refused where the index is checked.
            None => {}
            Some(Some(_)) => {
                return Err(bad(format!(
                    "core instance {i}: more than one host adapter"
                )))
            }
        }
    }
    Ok(roles)
}

fn validate(info: &ComponentInfo, modules: usize) -> Result<(), LoadError> {
    check_types(info)?;
    let ntypes = info.types.len() as u32;
    for (i, ft) in info.func_types.iter().enumerate() {
        let tys = ft.params.iter().map(|(_, t)| t).chain(ft.result.iter());
        if tys.into_iter().any(|t| *t >= ntypes) {
            return Err(bad(format!("function type {i}: type out of range")));
        }
    }
    let def_ok = |d: &CoreDef| match d {
        CoreDef::Export { instance, .. } => (*instance as usize) < info.instances.len(),
        CoreDef::Lowering(l) => (*l as usize) < info.lowerings.len(),
        CoreDef::ResourceNew(r) | CoreDef::ResourceRep(r) => (*r as usize) < info.resources.len(),
        CoreDef::ResourceDrop { resource, instance } => {
            (*resource as usize) < info.resources.len() && *instance < info.component_instances
        }
        CoreDef::Flag { instance, .. } => *instance < info.component_instances,
        CoreDef::Handle {
            lowering, resource, ..
        } => {
            (*resource as usize) < info.resources.len().max(1)
                && info
                    .lowerings
                    .get(*lowering as usize)
                    .is_some_and(|l| matches!(l.target, LoweringTarget::Lifted(_)))
        }
        CoreDef::Transcode { lowering, .. } => info
            .lowerings
            .get(*lowering as usize)
            .is_some_and(|l| matches!(l.target, LoweringTarget::Lifted(_))),
        CoreDef::HostMemory => true,
        CoreDef::HostCall(i) => (*i as usize) < info.imports.len(),
        CoreDef::Intrinsic { op, memory } => match memory {
            Some((instance, _)) => op.reads_memory() && (*instance as usize) < info.instances.len(),
            None => !op.reads_memory(),
        },
    };
    let opts_ok = |o: &CanonOpts| {
        o.instance < info.component_instances
            && [&o.memory, &o.realloc, &o.post_return, &o.callback]
                .into_iter()
                .flatten()
                .all(|d| def_ok(d) && !host_only(d))
    };
    let fty_ok = |t: u32| (t as usize) < info.func_types.len();
    let host_adapters = host_adapters(info)?;
    for (i, inst) in info.instances.iter().enumerate() {
        if inst.module as usize >= modules {
            return Err(bad(format!("core instance {i}: module out of range")));
        }
        if !inst.args.iter().all(def_ok) {
            return Err(bad(format!("core instance {i}: bad argument")));
        }
        // The host's memory and functions go only to the host entries and host calls.
        let allowed = host_adapters.get(i).copied().flatten();
        for a in &inst.args {
            let ok = match (a, allowed) {
                (CoreDef::HostCall(k), Some(Some(import))) => *k == import,
                (CoreDef::HostCall(_), _) => false,
                (a, None) => !host_only(a),
                (_, Some(_)) => true,
            };
            if !ok {
                return Err(bad(format!("core instance {i}: a host-only argument")));
            }
        }
    }
    for (i, r) in info.resources.iter().enumerate() {
        // `u32::MAX`: a resource type the host provides.
        let inst_ok = r.instance < info.component_instances || r.instance == u32::MAX;
        if !inst_ok || !r.dtor.iter().all(def_ok) {
            return Err(bad(format!("resource {i}: bad instance or destructor")));
        }
    }
    for (i, imp) in info.imports.iter().enumerate() {
        if !fty_ok(imp.ty) {
            return Err(bad(format!("import {i}: type out of range")));
        }
    }
    for (i, e) in info.exports.iter().enumerate() {
        let entry_ok = e
            .host_entry
            .is_none_or(|k| (k as usize) < info.instances.len());
        if !fty_ok(e.func.ty) || !opts_ok(&e.func.opts) || !def_ok(&e.func.func) || !entry_ok {
            return Err(bad(format!("export {i}: bad function")));
        }
    }
    let types = Types::new(&info.types);
    for (i, l) in info.lowerings.iter().enumerate() {
        let target_ok = match &l.target {
            LoweringTarget::Lifted(f) => fty_ok(f.ty) && opts_ok(&f.opts) && def_ok(&f.func),
            LoweringTarget::Import(k) => {
                (*k as usize) < info.imports.len()
                    && l.host_call
                        .is_none_or(|c| (c as usize) < info.instances.len())
            }
            LoweringTarget::Builtin(b) => builtin_ok(info, b, l.ty),
        };
        if !target_ok || !opts_ok(&l.opts) {
            return Err(bad(format!("lowering {i}: bad target or options")));
        }
        if matches!(l.target, LoweringTarget::Builtin(_)) {
            // A built-in's signature is its own: the runtime checks the values it is given.
            continue;
        }
        if !fty_ok(l.ty) {
            return Err(bad(format!("lowering {i}: bad function type")));
        }
        let ft = &info.func_types[l.ty as usize];
        let (p, r) = canon_signature(types, ft, &l.opts, false);
        let p: Vec<ValType> = p.into_iter().map(valtype).collect();
        let r: Vec<ValType> = r.into_iter().map(valtype).collect();
        if p != l.core_params || r != l.core_results {
            return Err(bad(format!(
                "lowering {i}: core signature does not match its function type"
            )));
        }
    }
    Ok(())
}

/// Whether a built-in's immediates are in range: a context slot, the type of a stream or future
/// operation, `task.return`'s function type.
fn builtin_ok(info: &ComponentInfo, b: &Builtin, ty: u32) -> bool {
    match b {
        Builtin::ContextGet { slot } | Builtin::ContextSet { slot } => {
            (*slot as usize) < CONTEXT_SLOTS
        }
        Builtin::Channel { ty, .. } => matches!(
            info.types.get(*ty as usize),
            Some(TypeDef::Stream(_) | TypeDef::Future(_))
        ),
        Builtin::TaskReturn => (ty as usize) < info.func_types.len(),
        Builtin::ThreadNewIndirect { table, start, .. } => {
            let export = |d: &CoreDef| matches!(d, CoreDef::Export { instance, .. } if (*instance as usize) < info.instances.len());
            export(table) && start.as_ref().is_none_or(export)
        }
        _ => true,
    }
}

/// The core signature lifted function `f` must have.
pub(crate) fn lifted_core_type(info: &ComponentInfo, f: &Lifted) -> weld_contract::info::FuncType {
    let types = Types::new(&info.types);
    let ft = info
        .func_types
        .get(f.ty as usize)
        .cloned()
        .unwrap_or_default();
    let (p, r) = canon_signature(types, &ft, &f.opts, true);
    weld_contract::info::FuncType {
        params: p.into_iter().map(valtype).collect(),
        results: r.into_iter().map(valtype).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::validate;
    use weld_contract::component::{ComponentInfo, CoreDef, Resource, TypeDef};

    fn with_resource(instance: u32) -> ComponentInfo {
        ComponentInfo {
            component_instances: 1,
            resources: alloc::vec![Resource {
                name: "r".into(),
                instance,
                dtor: None,
            }],
            ..ComponentInfo::default()
        }
    }

    #[test]
    fn built_ins_with_a_bad_slot_or_a_channel_op_on_a_non_channel_type_are_refused() {
        use weld_contract::component::{Builtin, ChannelOp, Lowering, LoweringTarget};
        let with = |b: Builtin| ComponentInfo {
            component_instances: 1,
            types: alloc::vec![TypeDef::U8, TypeDef::Stream(Some(0))],
            lowerings: alloc::vec![Lowering {
                target: LoweringTarget::Builtin(b),
                ty: 0,
                opts: Default::default(),
                core_params: alloc::vec![],
                core_results: alloc::vec![],
                host_call: None,
            }],
            ..ComponentInfo::default()
        };
        let channel = |ty| Builtin::Channel {
            ty,
            op: ChannelOp::Read,
        };
        assert!(validate(&with(channel(1)), 0).is_ok());
        assert!(validate(&with(channel(0)), 0).is_err());
        assert!(validate(&with(channel(9)), 0).is_err());
        assert!(validate(&with(Builtin::ContextGet { slot: 1 }), 0).is_ok());
        assert!(validate(&with(Builtin::ContextGet { slot: 2 }), 0).is_err());
        // No core instance exists: a thread start's table cannot be an export of one.
        let table = CoreDef::Export {
            instance: 0,
            name: alloc::string::String::from("t"),
        };
        let thread = Builtin::ThreadNewIndirect {
            table,
            start: None,
            param64: false,
        };
        assert!(validate(&with(thread), 0).is_err());
    }

    #[test]
    fn the_host_memory_and_host_calls_reach_only_the_host_adapters_named_for_them() {
        use weld_contract::component::{
            FuncTy, HostImport, Lowering, LoweringTarget, StringEncoding,
        };
        let instance = |args| weld_contract::component::CoreInstance { module: 0, args };
        let lowering = |host_call| Lowering {
            target: LoweringTarget::Import(0),
            ty: 0,
            opts: weld_contract::component::CanonOpts {
                instance: 0,
                memory: None,
                realloc: None,
                post_return: None,
                encoding: StringEncoding::Utf8,
                ..Default::default()
            },
            core_params: alloc::vec![],
            core_results: alloc::vec![],
            host_call,
        };
        let info = |args, host_call| ComponentInfo {
            component_instances: 1,
            func_types: alloc::vec![FuncTy {
                params: alloc::vec![],
                result: None,
                async_: false,
            }],
            imports: alloc::vec![
                HostImport {
                    name: "f".into(),
                    ty: 0
                },
                HostImport {
                    name: "g".into(),
                    ty: 0
                }
            ],
            instances: alloc::vec![instance(args)],
            lowerings: alloc::vec![lowering(host_call)],
            ..ComponentInfo::default()
        };
        let good = alloc::vec![CoreDef::HostMemory, CoreDef::HostCall(0)];
        assert!(validate(&info(good.clone(), Some(0)), 1).is_ok());
        assert!(
            validate(&info(good, None), 1).is_err(),
            "not a host adapter"
        );
        let other = alloc::vec![CoreDef::HostCall(1)];
        assert!(
            validate(&info(other, Some(0)), 1).is_err(),
            "another import's function"
        );
    }

    #[test]
    fn a_host_provided_resource_type_is_accepted_at_load() {
        assert!(validate(&with_resource(u32::MAX), 0).is_ok());
        assert!(validate(&with_resource(0), 0).is_ok());
        assert!(validate(&with_resource(1), 0).is_err());
    }

    #[test]
    fn resource_drop_must_name_an_existing_calling_instance() {
        let mut info = with_resource(0);
        info.instances.push(weld_contract::component::CoreInstance {
            module: 0,
            args: alloc::vec![CoreDef::ResourceDrop {
                resource: 0,
                instance: 1,
            }],
        });
        assert!(validate(&info, 1).is_err());
        info.instances[0].args[0] = CoreDef::ResourceDrop {
            resource: 0,
            instance: 0,
        };
        assert!(validate(&info, 1).is_ok());
    }

    fn with_types(types: alloc::vec::Vec<TypeDef>) -> ComponentInfo {
        ComponentInfo {
            types,
            ..ComponentInfo::default()
        }
    }

    #[test]
    fn types_must_name_types_in_range_and_not_contain_themselves() {
        let case = |n: &str, t: Option<u32>| (alloc::string::String::from(n), t);
        // A variant whose payload-less cases come first, then one naming type 9.
        let far = TypeDef::Variant(alloc::vec![
            case("a", None),
            case("b", None),
            case("c", Some(9))
        ]);
        assert!(validate(&with_types(alloc::vec![TypeDef::U8, far]), 0).is_err());
        let err_only = TypeDef::Result {
            ok: None,
            err: Some(5),
        };
        assert!(validate(&with_types(alloc::vec![err_only]), 0).is_err());
        // 0: list<1>, 1: record { x: 2 }, 2: variant { a, b(0) }: a cycle through a late case.
        let cyclic = alloc::vec![
            TypeDef::List(1),
            TypeDef::Record(alloc::vec![(alloc::string::String::from("x"), 2)]),
            TypeDef::Variant(alloc::vec![case("a", None), case("b", Some(0))]),
        ];
        assert!(validate(&with_types(cyclic.clone()), 0).is_err());
        // The same shapes without the back edge are fine, shared children included.
        let mut fine = cyclic;
        fine[2] = TypeDef::Variant(alloc::vec![case("a", None), case("b", Some(3))]);
        fine.push(TypeDef::Tuple(alloc::vec![4, 4]));
        fine.push(TypeDef::Result {
            ok: None,
            err: Some(5),
        });
        fine.push(TypeDef::String);
        assert!(validate(&with_types(fine), 0).is_ok());
    }

    #[test]
    fn a_type_whose_tree_is_too_large_is_refused_at_load() {
        // Each tuple holds the previous one twice: 2^30 nodes in 31 types.
        let mut types = alloc::vec![TypeDef::U8];
        for i in 0..30u32 {
            types.push(TypeDef::Tuple(alloc::vec![i, i]));
        }
        assert!(validate(&with_types(types.clone()), 0).is_err());
        types.truncate(15);
        assert!(validate(&with_types(types), 0).is_ok());
    }

    #[test]
    fn fixed_length_lists_and_maps_are_checked_at_load() {
        let fixed = |elem, len| TypeDef::FixedList { elem, len };
        let ok = |types| validate(&with_types(types), 0).is_ok();
        assert!(ok(alloc::vec![TypeDef::U32, fixed(0, 4)]));
        assert!(!ok(alloc::vec![TypeDef::U32, fixed(0, 0)]), "empty");
        assert!(
            !ok(alloc::vec![TypeDef::U32, fixed(0, 1 << 26)]),
            "2^28 bytes"
        );
        assert!(!ok(alloc::vec![fixed(0, 2)]), "contains itself");
        let empty = TypeDef::Record(alloc::vec![]);
        assert!(
            !ok(alloc::vec![empty, fixed(0, 1 << 30)]),
            "zero-sized elements"
        );
        let entry = TypeDef::Tuple(alloc::vec![0, 0]);
        assert!(ok(alloc::vec![
            TypeDef::U8,
            entry,
            TypeDef::Map { entry: 1 }
        ]));
        assert!(
            !ok(alloc::vec![TypeDef::U8, TypeDef::Map { entry: 0 }]),
            "not a pair"
        );
        assert!(!ok(alloc::vec![TypeDef::Map { entry: 7 }]), "out of range");
    }
}
