//! The adapter stage: every fused boundary crossing planned once and generated as core wasm.
//!
//! In: the flattened [`ComponentInfo`] (after `component::inline`). Out: the same graph with
//! one more core module and instance per adapted lowering (and per `thread.new-indirect`, its
//! start trampoline: `thread_start.rs`), and every use of such a lowering rewired to its
//! adapter's export; plus the adapter modules' bytes, which are compiled like
//! the component's own modules (same translator, same bounds checks, and each one validates).
//!
//! Each lowering is classified ([`Kind`]): a **fused** call (one component's `canon lower` of
//! another's `canon lift`), a **host import**, or a **built-in**. Fused calls whose values this
//! stage covers ([`covered`]) get an adapter ([`module::build`], values by [`values`]); every
//! other lowering keeps its trampoline into the runtime's generic path. Strings between two
//! UTF-8 sides are checked and copied by the adapter itself; other encoding pairs call the
//! runtime's transcoder (`CoreDef::Transcode`); resource handles through its handle operations
//! (`CoreDef::Handle`). Not covered yet: 64-bit memories, types nested deeper than
//! [`MAX_DEPTH`], and components that use task-local context (`context.get`/`set`, kept by the
//! runtime per call).

mod body;
mod checks;
mod host_call;
mod host_entry;
mod module;
mod thread_start;
mod values;

#[cfg(test)]
mod tests;

use weld_contract::component::abi::Types;
use weld_contract::component::{
    Builtin, ComponentExport, ComponentInfo, CoreDef, CoreInstance, FuncTy, Lifted, Lowering,
    LoweringTarget, StringEncoding, TypeDef,
};

pub use module::{build, AdapterModule, EXPORT};

/// Deepest type nesting an adapter is generated for (the generator recurses on it).
pub const MAX_DEPTH: u32 = 64;

/// What a lowering calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Another component instance's lifted function.
    Fused,
    /// A function the host provides.
    Import,
    /// A canonical built-in.
    Builtin,
}

/// The kind of lowering `l`.
pub fn kind(l: &Lowering) -> Kind {
    match l.target {
        LoweringTarget::Lifted(_) => Kind::Fused,
        LoweringTarget::Import(_) => Kind::Import,
        LoweringTarget::Builtin(_) => Kind::Builtin,
    }
}

/// Whether values of `t` are covered: nesting at most [`MAX_DEPTH`].
pub fn covered(types: Types<'_>, t: u32, depth: u32) -> bool {
    depth <= MAX_DEPTH
        && children(types, t)
            .into_iter()
            .all(|c| covered(types, c, depth + 1))
}

/// Whether a function of type `ft` crosses to or from a C host compiled: every value covered,
/// no resource handle (the host's handles are the runtime's), and strings, if any, UTF-8 in
/// the component (`encoding`), as the C header's are.
fn host_covers(types: Types<'_>, encoding: StringEncoding, ft: &FuncTy) -> bool {
    let all: Vec<u32> = ft.params.iter().map(|(_, t)| *t).chain(ft.result).collect();
    let handle = |d: &TypeDef| matches!(d, TypeDef::Own(_) | TypeDef::Borrow(_));
    let string = |d: &TypeDef| matches!(d, TypeDef::String);
    all.iter()
        .all(|t| covered(types, *t, 0) && !module::holds(types, *t, 0, handle))
        && (encoding == StringEncoding::Utf8
            || !all.iter().any(|t| module::holds(types, *t, 0, string)))
}

/// The types a value of `t` directly contains: fields, elements, payloads.
fn children(types: Types<'_>, t: u32) -> Vec<u32> {
    match types.get(t) {
        TypeDef::List(e)
        | TypeDef::FixedList { elem: e, .. }
        | TypeDef::Map { entry: e }
        | TypeDef::Option(e) => vec![*e],
        TypeDef::Record(fs) => fs.iter().map(|(_, t)| *t).collect(),
        TypeDef::Tuple(ts) => ts.clone(),
        TypeDef::Variant(cs) => cs.iter().filter_map(|(_, t)| *t).collect(),
        TypeDef::Result { ok, err } => ok.iter().chain(err.iter()).copied().collect(),
        _ => Vec::new(),
    }
}

/// Whether the graph uses anything of the async ABI — a built-in (task-local context, tasks,
/// waitables, streams, futures, error contexts), an async function type or option, or a
/// stream, future or error-context value — which the runtime keeps per task: then no call of
/// it is adapted, and every crossing takes the runtime's path (see `docs/async-plan.md`,
/// stage 3, for compiled async crossings).
fn uses_tasks(info: &ComponentInfo) -> bool {
    let async_value = |d: &TypeDef| {
        matches!(
            d,
            TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext
        )
    };
    let async_opts = |l: &Lowering| {
        l.opts.async_ || matches!(&l.target, LoweringTarget::Lifted(f) if f.opts.async_)
    };
    info.lowerings
        .iter()
        .any(|l| matches!(l.target, LoweringTarget::Builtin(_)) || async_opts(l))
        || info.exports.iter().any(|e| e.func.opts.async_)
        || info.func_types.iter().any(|f| f.async_)
        || info.types.iter().any(async_value)
}

/// The callee of lowering `l` if this stage generates its adapter, in a graph that does not use
/// task-local context ([`insert`] checks). `memory32` says whether a memory definition is a
/// 32-bit memory.
pub fn adapted<'i>(
    info: &'i ComponentInfo,
    l: &'i Lowering,
    memory32: &dyn Fn(&CoreDef) -> bool,
) -> Option<&'i Lifted> {
    let LoweringTarget::Lifted(callee) = &l.target else {
        return None;
    };
    let ft = info.func_types.get(l.ty as usize)?;
    let types = Types::new(&info.types);
    let memories_ok = [&l.opts.memory, &callee.opts.memory]
        .into_iter()
        .flatten()
        .all(memory32);
    let ok = callee.ty == l.ty
        && memories_ok
        && ft
            .params
            .iter()
            .map(|(_, t)| *t)
            .chain(ft.result)
            .all(|t| covered(types, t, 0));
    ok.then_some(callee)
}

/// What an adapter crosses into a component from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum From {
    /// The caller of lowering `i` (a fused call).
    Lowering(u32),
    /// A C host calling export `i` (its compiled host entry).
    Host(u32),
    /// The caller of lowering `i` of a host import, out to a C host function (its compiled
    /// host call; the runtime picks it or the trampoline).
    HostImport(u32),
    /// The runtime, starting a thread of `thread.new-indirect` lowering `i`.
    ThreadStart(u32),
}

/// A start trampoline for every `thread.new-indirect` lowering.
fn thread_starts(info: &ComponentInfo) -> Vec<(From, AdapterModule)> {
    let mut out = Vec::new();
    for (i, l) in info.lowerings.iter().enumerate() {
        if let LoweringTarget::Builtin(Builtin::ThreadNewIndirect { table, param64, .. }) =
            &l.target
        {
            let m = thread_start::build(table, *param64);
            out.push((From::ThreadStart(i as u32), m));
        }
    }
    out
}

impl From {
    /// The lowering whose users import this adapter (or may, for a host call).
    fn lowering(self) -> Option<u32> {
        match self {
            From::Lowering(i) | From::HostImport(i) => Some(i),
            From::Host(_) | From::ThreadStart(_) => None,
        }
    }
}

/// Whether export `e`'s callee memory (if any) is 32-bit and its values are covered by a
/// compiled host entry.
fn host_entry_covers(
    info: &ComponentInfo,
    e: &ComponentExport,
    memory32: &dyn Fn(&CoreDef) -> bool,
) -> Option<usize> {
    let ft = info.func_types.get(e.func.ty as usize)?;
    let memory_ok = e.func.opts.memory.as_ref().is_none_or(memory32);
    (memory_ok && host_entry::covers(Types::new(&info.types), e, ft)).then_some(e.func.ty as usize)
}

/// Generate the adapters of `info`'s lowerings and, with `c_host`, the host entries of its
/// exports and the host calls of its imports, and wire them in. Adapter modules get module indices from `first_module` on, in the order of the
/// returned bytes.
pub fn insert(
    info: &mut ComponentInfo,
    first_module: u32,
    c_host: bool,
    memory32: &dyn Fn(&CoreDef) -> bool,
) -> Vec<Vec<u8>> {
    let mut adapters: Vec<(From, AdapterModule)> = thread_starts(info);
    if uses_tasks(info) {
        // Fused calls of graphs that use the async ABI take the runtime's path (for now).
        if adapters.is_empty() {
            return Vec::new();
        }
        let order = placement(info, &adapters);
        rewire(info, &adapters, &order, first_module);
        return adapters.into_iter().map(|(_, a)| a.bytes).collect();
    }
    let types = Types::new(&info.types);
    for (i, l) in info.lowerings.iter().enumerate() {
        let Some(callee) = adapted(info, l, memory32) else {
            continue;
        };
        if let Some(ft) = info.func_types.get(l.ty as usize) {
            let a = build(types, i as u32, l, callee, ft);
            adapters.push((From::Lowering(i as u32), a));
        }
    }
    for (i, l) in info.lowerings.iter().enumerate().filter(|_| c_host) {
        let (LoweringTarget::Import(import), Some(ft)) =
            (&l.target, info.func_types.get(l.ty as usize))
        else {
            continue;
        };
        let memory_ok = l.opts.memory.as_ref().is_none_or(memory32);
        if memory_ok && host_call::covers(types, l, ft) {
            let a = host_call::build(types, *import, l, ft);
            adapters.push((From::HostImport(i as u32), a));
        }
    }
    for (i, e) in info.exports.iter().enumerate().filter(|_| c_host) {
        if let Some(ft) = host_entry_covers(info, e, memory32) {
            let a = host_entry::build(types, e, &info.func_types[ft]);
            adapters.push((From::Host(i as u32), a));
        }
    }
    if adapters.is_empty() {
        return Vec::new();
    }
    let order = placement(info, &adapters);
    rewire(info, &adapters, &order, first_module);
    adapters.into_iter().map(|(_, a)| a.bytes).collect()
}

/// One entry of the new instance order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placed {
    /// An original core instance, by its old index.
    Original(u32),
    /// Adapter `k` (index into the adapter list).
    Adapter(usize),
}

/// The new instance order: each adapter just before the first instance that imports it (after
/// any adapter it calls), the rest at the end.
fn placement(info: &ComponentInfo, adapters: &[(From, AdapterModule)]) -> Vec<Placed> {
    let of_lowering = |def: &CoreDef| match def {
        CoreDef::Lowering(i) => adapters.iter().position(|(l, _)| l.lowering() == Some(*i)),
        _ => None,
    };
    let mut placed = vec![false; adapters.len()];
    let mut order = Vec::with_capacity(info.instances.len() + adapters.len());
    fn place(
        k: usize,
        adapters: &[(From, AdapterModule)],
        of_lowering: &dyn Fn(&CoreDef) -> Option<usize>,
        placed: &mut [bool],
        order: &mut Vec<Placed>,
    ) {
        if placed[k] {
            return;
        }
        placed[k] = true;
        for arg in &adapters[k].1.args {
            if let Some(dep) = of_lowering(arg) {
                place(dep, adapters, of_lowering, placed, order);
            }
        }
        order.push(Placed::Adapter(k));
    }
    for (j, inst) in info.instances.iter().enumerate() {
        for arg in &inst.args {
            if let Some(k) = of_lowering(arg) {
                place(k, adapters, &of_lowering, &mut placed, &mut order);
            }
        }
        order.push(Placed::Original(j as u32));
    }
    for k in 0..adapters.len() {
        place(k, adapters, &of_lowering, &mut placed, &mut order);
    }
    order
}

/// Install the new instance order and point every use of an adapted lowering at its adapter.
fn rewire(
    info: &mut ComponentInfo,
    adapters: &[(From, AdapterModule)],
    order: &[Placed],
    first_module: u32,
) {
    let mut new_index = vec![0u32; info.instances.len()];
    let mut adapter_index = vec![0u32; adapters.len()];
    for (n, p) in order.iter().enumerate() {
        match p {
            Placed::Original(j) => new_index[*j as usize] = n as u32,
            Placed::Adapter(k) => adapter_index[*k] = n as u32,
        }
    }
    let lowering_to_adapter: Vec<Option<u32>> = (0..info.lowerings.len() as u32)
        .map(|i| {
            let k = adapters.iter().position(|(l, _)| *l == From::Lowering(i))?;
            Some(adapter_index[k])
        })
        .collect();
    let fix = |def: &mut CoreDef| match def {
        CoreDef::Export { instance, .. }
        | CoreDef::Intrinsic {
            memory: Some((instance, _)),
            ..
        } => {
            *instance = new_index
                .get(*instance as usize)
                .copied()
                .unwrap_or(*instance)
        }
        CoreDef::Lowering(i) => {
            if let Some(Some(a)) = lowering_to_adapter.get(*i as usize) {
                *def = CoreDef::Export {
                    instance: *a,
                    name: EXPORT.into(),
                };
            }
        }
        _ => {}
    };
    let old = core::mem::take(&mut info.instances);
    info.instances = order
        .iter()
        .map(|p| match p {
            Placed::Original(j) => old[*j as usize].clone(),
            Placed::Adapter(k) => CoreInstance {
                module: first_module + *k as u32,
                args: adapters[*k].1.args.clone(),
            },
        })
        .collect();
    each_def(info, fix);
    for (k, (from, _)) in adapters.iter().enumerate() {
        let n = adapter_index.get(k).copied();
        match from {
            From::Host(e) => {
                if let Some(e) = info.exports.get_mut(*e as usize) {
                    e.host_entry = n;
                }
            }
            From::HostImport(l) => {
                if let Some(l) = info.lowerings.get_mut(*l as usize) {
                    l.host_call = n;
                }
            }
            From::ThreadStart(l) => {
                if let Some(Lowering {
                    target: LoweringTarget::Builtin(Builtin::ThreadNewIndirect { start, .. }),
                    ..
                }) = info.lowerings.get_mut(*l as usize)
                {
                    *start = n.map(|instance| CoreDef::Export {
                        instance,
                        name: EXPORT.into(),
                    });
                }
            }
            From::Lowering(_) => {}
        }
    }
}

/// Call `f` on every core definition of the graph.
fn each_def(info: &mut ComponentInfo, mut f: impl FnMut(&mut CoreDef)) {
    let opts = |o: &mut weld_contract::component::CanonOpts, f: &mut dyn FnMut(&mut CoreDef)| {
        for d in [&mut o.memory, &mut o.realloc, &mut o.post_return]
            .into_iter()
            .flatten()
        {
            f(d);
        }
    };
    for inst in &mut info.instances {
        inst.args.iter_mut().for_each(&mut f);
    }
    for l in &mut info.lowerings {
        opts(&mut l.opts, &mut f);
        match &mut l.target {
            LoweringTarget::Lifted(callee) => {
                f(&mut callee.func);
                opts(&mut callee.opts, &mut f);
            }
            LoweringTarget::Builtin(Builtin::ThreadNewIndirect { table, start, .. }) => {
                f(table);
                start.iter_mut().for_each(&mut f);
            }
            _ => {}
        }
    }
    for r in &mut info.resources {
        r.dtor.iter_mut().for_each(&mut f);
    }
    for e in &mut info.exports {
        f(&mut e.func.func);
        opts(&mut e.func.opts, &mut f);
    }
}
