//! The component graph as tools see it: named component instances, host interfaces, and the
//! call edges between them, with what each instance can reach.
//!
//! In: the flattened [`ComponentInfo`] and the [`GraphNames`] recorded beside it. Out: a
//! [`Graph`] — the model behind `weld inspect --format json|dot`, `-o graph.svg`, `--reach` and
//! policies (`crate::policy`).
//!
//! An edge is a fact of the flattened graph, never a guess: instance A has an edge to B when a
//! `canon lower` made in A calls a function lifted by B (a fused call), to host interface H when
//! it lowers an import of H, and to B when one of A's core instances imports an item of one of
//! B's core instances. Reachability is the transitive closure of those edges: it assumes a
//! component may forward any call it receives to anything it can call itself, which is the
//! safe over-approximation for a policy (weld does not look inside core code).

use crate::component::inline::{GraphNames, InstanceNames};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use weld_contract::component::{ComponentInfo, CoreDef, LoweringTarget, StringEncoding};

/// Where an edge goes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// A component instance (index as in [`Graph::instances`]).
    Instance(u32),
    /// A host interface (the part of a host import's name before `#`).
    Host(String),
}

/// One lowered function behind an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The function's name as the caller imported it (`iface#func` or a plain name).
    pub function: String,
    /// The lowering's index in `ComponentInfo::lowerings`; `None` for a core-level import.
    pub lowering: Option<u32>,
    /// The caller's string encoding.
    pub caller_encoding: StringEncoding,
    /// The callee's string encoding (`None` for the host).
    pub callee_encoding: Option<StringEncoding>,
}

/// Calls from one instance to one target through one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The calling component instance.
    pub from: u32,
    /// What it calls.
    pub to: Target,
    /// The interface (the caller's import name up to `#`).
    pub interface: String,
    /// The functions, in lowering order.
    pub calls: Vec<Call>,
}

/// What a core module keeps its data in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Storage {
    /// Linear memories it defines.
    pub linear_memories: u32,
    /// Whether it defines struct or array types, so its instance allocates in a GC heap.
    pub gc_heap: bool,
}

impl Storage {
    /// What a module's metadata says.
    pub fn of(info: &weld_contract::info::ModuleInfo) -> Storage {
        use weld_contract::gc::Composite;
        Storage {
            linear_memories: (info.memories.len() as u32).saturating_sub(info.imported_memories),
            gc_heap: info
                .type_defs
                .types
                .iter()
                .any(|t| !matches!(t.composite, Composite::Func { .. })),
        }
    }

    fn add(self, o: Storage) -> Storage {
        Storage {
            linear_memories: self.linear_memories + o.linear_memories,
            gc_heap: self.gc_heap || o.gc_heap,
        }
    }
}

/// A named component instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its names, core instances, imports and exports.
    pub names: InstanceNames,
    /// Names from the root down, joined with `/` (`app/inner`); `(root)` for the root.
    pub path: String,
    /// What its own core instances keep their data in (linear memories they define, a GC
    /// heap).
    pub storage: Storage,
}

/// One step of a reachability path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The calling instance.
    pub from: u32,
    /// Where the call goes.
    pub to: Target,
    /// The first function (in lowering order) that makes the call.
    pub function: String,
}

/// What one instance can reach: every target with a shortest path to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Target → the hops leading to it (one hop: a direct call).
    pub targets: BTreeMap<Target, Vec<Hop>>,
}

/// The whole graph.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Component instances; 0 is the root.
    pub instances: Vec<Instance>,
    /// Host interfaces, sorted, each with its functions (full import names).
    pub hosts: BTreeMap<String, Vec<String>>,
    /// Edges, sorted by caller, then target, then interface.
    pub edges: Vec<Edge>,
}

/// The interface part of an import name: `wasi:cli/stdout@0.2.0` of
/// `wasi:cli/stdout@0.2.0#get-stdout`; a plain name is its own interface.
pub fn interface_of(name: &str) -> &str {
    name.split_once('#').map_or(name, |(i, _)| i)
}

impl Graph {
    /// Build the graph of a flattened component whose core modules keep their data as
    /// `modules` says (by module index).
    pub fn new(info: &ComponentInfo, names: &GraphNames, modules: &[Storage]) -> Graph {
        let mut instances: Vec<Instance> = Vec::new();
        for (i, n) in names.instances.iter().enumerate() {
            let storage = n
                .core_instances
                .iter()
                .filter_map(|c| info.instances.get(*c as usize))
                .filter_map(|c| modules.get(c.module as usize))
                .fold(Storage::default(), |a, m| a.add(*m));
            let path = match n.parent.and_then(|p| instances.get(p as usize)) {
                Some(p) if p.names.parent.is_some() => format!("{}/{}", p.path, n.name),
                Some(_) => n.name.clone(),
                None if i == 0 => "(root)".to_string(),
                None => n.name.clone(),
            };
            instances.push(Instance {
                names: n.clone(),
                path,
                storage,
            });
        }
        let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for imp in &info.imports {
            hosts
                .entry(interface_of(&imp.name).to_string())
                .or_default()
                .push(imp.name.clone());
        }
        let mut edges: BTreeMap<(u32, Target, String), Vec<Call>> = BTreeMap::new();
        for (i, l) in info.lowerings.iter().enumerate() {
            let function = names
                .lowerings
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("lowering{i}"));
            let (to, callee_encoding, interface) = match &l.target {
                LoweringTarget::Lifted(f) => (
                    Target::Instance(f.opts.instance),
                    Some(f.opts.encoding),
                    interface_of(&function).to_string(),
                ),
                LoweringTarget::Import(h) => {
                    let host = info
                        .imports
                        .get(*h as usize)
                        .map_or(function.as_str(), |h| h.name.as_str());
                    let iface = interface_of(host).to_string();
                    (Target::Host(iface.clone()), None, iface)
                }
                LoweringTarget::Builtin(_) => continue,
            };
            edges
                .entry((l.opts.instance, to, interface))
                .or_default()
                .push(Call {
                    function,
                    lowering: Some(i as u32),
                    caller_encoding: l.opts.encoding,
                    callee_encoding,
                });
        }
        // Core-level wiring across component instances.
        let owner: BTreeMap<u32, u32> = instances
            .iter()
            .enumerate()
            .flat_map(|(ci, n)| n.names.core_instances.iter().map(move |c| (*c, ci as u32)))
            .collect();
        for (core, inst) in info.instances.iter().enumerate() {
            let Some(&from) = owner.get(&(core as u32)) else {
                continue;
            };
            for arg in &inst.args {
                if let CoreDef::Export { instance, name } = arg {
                    match owner.get(instance) {
                        Some(&to) if to != from => {
                            edges
                                .entry((from, Target::Instance(to), "core".into()))
                                .or_default()
                                .push(Call {
                                    function: format!("core:{name}"),
                                    lowering: None,
                                    caller_encoding: StringEncoding::Utf8,
                                    callee_encoding: None,
                                });
                        }
                        _ => {}
                    }
                }
            }
        }
        let edges = edges
            .into_iter()
            .map(|((from, to, interface), calls)| Edge {
                from,
                to,
                interface,
                calls,
            })
            .collect();
        Graph {
            instances,
            hosts,
            edges,
        }
    }

    /// The display name of a target: an instance's path, or `host <interface>`.
    pub fn target_name(&self, t: &Target) -> String {
        match t {
            Target::Instance(i) => self.path(*i).to_string(),
            Target::Host(h) => format!("host {h}"),
        }
    }

    /// An instance's path (`?` for an index out of range).
    pub fn path(&self, i: u32) -> &str {
        self.instances
            .get(i as usize)
            .map_or("?", |n| n.path.as_str())
    }

    /// Whether `i` is `ancestor` or nested (at any depth) inside it.
    pub fn is_within(&self, mut i: u32, ancestor: u32) -> bool {
        for _ in 0..=self.instances.len() {
            if i == ancestor {
                return true;
            }
            match self.instances.get(i as usize).and_then(|n| n.names.parent) {
                Some(p) => i = p,
                None => return false,
            }
        }
        false
    }

    /// What instance `from` reaches, each target with a shortest path (breadth first, edges in
    /// their sorted order, so the path reported is deterministic).
    pub fn reach(&self, from: u32) -> Reach {
        let mut out = Reach::default();
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([(from, Vec::<Hop>::new())]);
        while let Some((at, path)) = queue.pop_front() {
            for e in self.edges.iter().filter(|e| e.from == at) {
                if out.targets.contains_key(&e.to) || e.to == Target::Instance(from) {
                    continue;
                }
                let mut p = path.clone();
                p.push(Hop {
                    from: at,
                    to: e.to.clone(),
                    function: e
                        .calls
                        .first()
                        .map_or(String::new(), |c| c.function.clone()),
                });
                out.targets.insert(e.to.clone(), p.clone());
                if let Target::Instance(next) = e.to {
                    if seen.insert(next) {
                        queue.push_back((next, p));
                    }
                }
            }
        }
        out
    }

    /// A path as one line: `app -[example:logic/api#run]-> logic -[...]-> host wasi:x/y`.
    pub fn describe(&self, hops: &[Hop]) -> String {
        let mut s = match hops.first() {
            Some(h) => self.path(h.from).to_string(),
            None => return String::new(),
        };
        for h in hops {
            s.push_str(&format!(" -[{}]-> {}", h.function, self.target_name(&h.to)));
        }
        s
    }
}
