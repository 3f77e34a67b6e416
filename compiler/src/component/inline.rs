//! Flattening: run a component's instantiation at compile time.
//!
//! In: a [`Translation`]. Out: a [`ComponentInfo`] — the ordered core instances with every import
//! resolved to a [`CoreDef`], the lowerings, the resources and the root's exported functions.
//!
//! The pass is an interpreter over component definitions: instantiating a component creates a
//! [`Frame`] holding its index spaces; each [`Init`] appends to them. Items are symbolic: a core
//! function is "export `f` of runtime instance 3" or "lowering 7", never a value. Nested
//! component instantiations recurse with the arguments bound to the child's imports, so after
//! the pass there are no nested components, aliases or names left: only direct references.
//!
//! ```wat
//! (component
//!   (component $C (import "f" (func)) (export "g" (func 0)))   ;; a definition: a closure
//!   (instance $i (instantiate $C (with "f" (func $h))))        ;; a frame, recursively
//!   (alias export $i "g" (func $g)))                           ;; $g resolves to the host's f
//! ```
//!
//! Outer aliases see the enclosing definitions' modules, components and types as they were when
//! the nested component was defined (closures capture a snapshot of those index spaces).
//!
//! Beside the [`ComponentInfo`] the runtime needs, the pass records [`GraphNames`] for tools
//! (`weld inspect`, policies): each component instance's parent, name, core instances, imports
//! and exports, and the name under which each lowered function was imported.

use super::translate::{Init, Translation};
use super::types::{ResourceMap, TypeArena};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use wasmparser::types::TypesRef;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance,
};
use weld_contract::component::{
    Builtin, CanonOpts, ChannelOp, ComponentExport, ComponentInfo, CoreDef, CoreInstance, FuncTy,
    HostImport, Lifted, Lowering, LoweringTarget, Resource, StringEncoding,
};

/// A core instance in the index space of a frame.
#[derive(Clone, Debug)]
enum CoreInst {
    /// A real instance (index into `ComponentInfo::instances`).
    Runtime(u32),
    /// A bag of exports.
    Exports(Rc<HashMap<String, CoreDef>>),
}

/// A component function.
#[derive(Clone, Debug)]
enum FuncDef {
    Lifted(Box<Lifted>),
    Import(u32),
}

/// A type in a frame's type index space.
#[derive(Clone, Debug)]
enum TypeItem {
    Resource(u32),
    Other,
}

/// A closure: a component definition with the outer scopes it can alias.
#[derive(Clone, Debug)]
struct Closure {
    def: u32,
    outer: Rc<Scope>,
}

/// Snapshot of a definition's static index spaces, for outer aliases.
#[derive(Debug, Default)]
struct Scope {
    modules: Vec<u32>,
    components: Vec<Closure>,
    types: Vec<TypeItem>,
    parent: Option<Rc<Scope>>,
}

/// Anything a component instance can export or receive.
#[derive(Clone, Debug)]
enum Item {
    Func(FuncDef),
    Instance(Rc<BTreeMap<String, Item>>),
    Module(u32),
    Component(Closure),
    Type(TypeItem),
    /// Something the host would provide that weld cannot model (a module, a component, a value);
    /// fine as long as nothing uses it.
    Opaque(String),
}

/// Where each component instance comes from and what it is called: what `weld inspect` and
/// policies need and the runtime does not (so it is not part of [`ComponentInfo`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphNames {
    /// One entry per component instance, indexed like `CanonOpts::instance`; 0 is the root.
    pub instances: Vec<InstanceNames>,
    /// Per lowering (indexed like `ComponentInfo::lowerings`): the name of the function as the
    /// lowering component instance knows it — `iface#func` for a function of an imported
    /// instance, the import name for an imported function, the built-in's name for a built-in.
    pub lowerings: Vec<String>,
}

/// One component instance.
///
/// Naming is deterministic: `name` is the instance's `$id` in its parent (the parent's
/// `component-name` section), else the `$id` of the component definition it instantiates, else
/// `#<n>` with `n` its index in the parent's component-instance index space. A name already
/// taken by an earlier sibling gets `#<n>` appended. The root is named `(root)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceNames {
    /// The instance that instantiated it; `None` for the root.
    pub parent: Option<u32>,
    /// Its name in its parent (see above).
    pub name: String,
    /// The `$id` of the component definition it instantiates, if the input has names.
    pub definition: Option<String>,
    /// Core instances it created (indices into `ComponentInfo::instances`).
    pub core_instances: Vec<u32>,
    /// Its import names (for the root: what the host provides), in order.
    pub imports: Vec<String>,
    /// Its export names, sorted.
    pub exports: Vec<String>,
}

/// The index spaces of one component instance being instantiated.
struct Frame<'a> {
    def: u32,
    instance: u32,
    /// Names of `funcs`, as this instance knows them (see [`GraphNames::lowerings`]).
    func_names: Vec<String>,
    /// Names of `instances`: import, export or `$id` names ("" when unknown).
    instance_names: Vec<String>,
    args: HashMap<String, Item>,
    outer: Rc<Scope>,
    core_funcs: Vec<CoreDef>,
    core_memories: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_globals: Vec<CoreDef>,
    core_tags: Vec<CoreDef>,
    core_instances: Vec<CoreInst>,
    core_modules: Vec<u32>,
    funcs: Vec<FuncDef>,
    instances: Vec<Rc<BTreeMap<String, Item>>>,
    components: Vec<Closure>,
    types: Vec<TypeItem>,
    resources: ResourceMap,
    exports: BTreeMap<String, Item>,
    /// Opaque items in any index space, by name (for error messages).
    opaque: Vec<String>,
    _marker: std::marker::PhantomData<&'a ()>,
}

/// The flattening pass.
pub struct Inliner<'a> {
    t: &'a Translation<'a>,
    /// The result being built.
    pub info: ComponentInfo,
    /// Interface types.
    pub arena: TypeArena,
    module_imports: HashMap<u32, Vec<(String, String)>>,
    depth: u32,
    names: GraphNames,
}

const MAX_DEPTH: u32 = 100;
/// Most component and core instances a flattened graph may have: a small file whose components
/// each instantiate their child twice would otherwise ask for 2^depth of them.
pub const MAX_INSTANCES: u32 = 10_000;

fn too_many_instances(what: &str) -> Error {
    Error::Limit {
        message: format!("more than {MAX_INSTANCES} {what} instances after flattening"),
    }
}

fn unsupported(msg: impl Into<String>) -> Error {
    Error::Unsupported {
        message: msg.into(),
        offset: None,
    }
}

fn bad(msg: &str) -> Error {
    Error::Codegen {
        func: 0,
        message: format!("component flattening: {msg}"),
    }
}

fn get<T: Clone>(v: &[T], i: u32, what: &str) -> Result<T> {
    v.get(i as usize)
        .cloned()
        .ok_or_else(|| bad(&format!("{what} index {i} out of range")))
}

impl<'a> Inliner<'a> {
    /// Flatten the root component of `t`.
    pub fn run(t: &'a Translation<'a>) -> Result<(ComponentInfo, TypeArena)> {
        let (info, arena, _) = Self::run_with_names(t)?;
        Ok((info, arena))
    }

    /// Flatten the root component of `t`, also returning its [`GraphNames`].
    pub fn run_with_names(
        t: &'a Translation<'a>,
    ) -> Result<(ComponentInfo, TypeArena, GraphNames)> {
        let mut me = Inliner {
            t,
            info: ComponentInfo::default(),
            arena: TypeArena::default(),
            module_imports: HashMap::new(),
            depth: 0,
            names: GraphNames::default(),
        };
        let root = Closure {
            def: 0,
            outer: Rc::new(Scope::default()),
        };
        let exports = me.instantiate(&root, HashMap::new(), true, None)?;
        me.root_exports(&exports, "")?;
        me.info.types = std::mem::take(&mut me.arena.defs);
        me.info.func_types = std::mem::take(&mut me.arena.funcs);
        // Keep the arena's interning table for callers that need flattening: rebuild it.
        let mut arena = TypeArena::default();
        arena.defs = me.info.types.clone();
        arena.funcs = me.info.func_types.clone();
        Ok((me.info, arena, me.names))
    }

    fn root_exports(&mut self, exports: &BTreeMap<String, Item>, prefix: &str) -> Result<()> {
        for (name, item) in exports {
            let full = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}#{name}")
            };
            match item {
                Item::Func(FuncDef::Lifted(l)) => self.info.exports.push(ComponentExport {
                    name: full,
                    func: (**l).clone(),
                    host_entry: None,
                }),
                Item::Func(FuncDef::Import(_)) => {
                    return Err(unsupported(format!(
                        "re-exporting the host import as {full:?}"
                    )))
                }
                Item::Instance(inner) if prefix.is_empty() => {
                    let inner = inner.clone();
                    self.root_exports(&inner, name)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn types(&self, def: u32) -> Result<TypesRef<'a>> {
        self.t
            .components
            .get(def as usize)
            .and_then(|c| c.types.as_ref())
            .map(|t| t.as_ref())
            .ok_or_else(|| bad("missing type information"))
    }

    /// Instantiate `closure` with `args`; returns its exports. `meta` names the new instance
    /// (the root's is made here).
    fn instantiate(
        &mut self,
        closure: &Closure,
        args: HashMap<String, Item>,
        root: bool,
        meta: Option<InstanceNames>,
    ) -> Result<BTreeMap<String, Item>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::Limit {
                message: format!("component instantiation nested deeper than {MAX_DEPTH}"),
            });
        }
        let instance = self.info.component_instances;
        if instance >= MAX_INSTANCES {
            return Err(too_many_instances("component"));
        }
        self.info.component_instances += 1;
        let mut meta = meta.unwrap_or_else(|| InstanceNames {
            name: "(root)".into(),
            ..InstanceNames::default()
        });
        if meta.definition.is_none() {
            meta.definition = self
                .t
                .components
                .get(closure.def as usize)
                .and_then(|d| d.names.component.clone());
        }
        self.names.instances.push(meta);
        let mut f = Frame {
            def: closure.def,
            instance,
            func_names: vec![],
            instance_names: vec![],
            args,
            outer: closure.outer.clone(),
            core_funcs: vec![],
            core_memories: vec![],
            core_tables: vec![],
            core_globals: vec![],
            core_tags: vec![],
            core_instances: vec![],
            core_modules: vec![],
            funcs: vec![],
            instances: vec![],
            components: vec![],
            types: vec![],
            resources: HashMap::new(),
            exports: BTreeMap::new(),
            opaque: Vec::new(),
            _marker: std::marker::PhantomData,
        };
        let def = self
            .t
            .components
            .get(closure.def as usize)
            .ok_or_else(|| bad("component definition out of range"))?;
        for init in &def.inits {
            self.init(&mut f, init, root)?;
        }
        if let Some(m) = self.names.instances.get_mut(instance as usize) {
            m.exports = f.exports.keys().cloned().collect();
        }
        self.depth -= 1;
        Ok(f.exports)
    }

    fn push_type(&mut self, f: &mut Frame<'_>, item: TypeItem) -> Result<()> {
        let index = f.types.len() as u32;
        if let TypeItem::Resource(r) = item {
            let types = self.types(f.def)?;
            if let wasmparser::component_types::ComponentAnyTypeId::Resource(id) =
                types.component_any_type_at(index)
            {
                f.resources.insert(id.resource(), r);
            }
        }
        f.types.push(item);
        Ok(())
    }

    /// Add `item` to its index space; `name` is what this instance calls it.
    fn push_item(&mut self, f: &mut Frame<'_>, item: Item, name: String) -> Result<()> {
        match item {
            Item::Func(d) => {
                f.funcs.push(d);
                f.func_names.push(name);
            }
            Item::Instance(i) => {
                f.instances.push(i);
                f.instance_names.push(name);
            }
            Item::Module(m) => f.core_modules.push(m),
            Item::Component(c) => f.components.push(c),
            Item::Type(t) => self.push_type(f, t)?,
            // Values have no index space weld tracks.
            Item::Opaque(name) => f.opaque.push(name),
        }
        Ok(())
    }

    fn item(&self, f: &Frame<'_>, kind: ComponentExternalKind, index: u32) -> Result<Item> {
        Ok(match kind {
            ComponentExternalKind::Func => Item::Func(get(&f.funcs, index, "function")?),
            ComponentExternalKind::Instance => {
                Item::Instance(get(&f.instances, index, "instance")?)
            }
            ComponentExternalKind::Module => Item::Module(get(&f.core_modules, index, "module")?),
            ComponentExternalKind::Component => {
                Item::Component(get(&f.components, index, "component")?)
            }
            ComponentExternalKind::Type => Item::Type(get(&f.types, index, "type")?),
            ComponentExternalKind::Value => return Err(unsupported("component values")),
        })
    }

    fn core_def(&self, f: &Frame<'_>, kind: ExternalKind, index: u32) -> Result<CoreDef> {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => get(&f.core_funcs, index, "core func"),
            ExternalKind::Memory => get(&f.core_memories, index, "core memory"),
            ExternalKind::Table => get(&f.core_tables, index, "core table"),
            ExternalKind::Global => get(&f.core_globals, index, "core global"),
            ExternalKind::Tag => get(&f.core_tags, index, "core tag"),
        }
    }

    fn push_core(&self, f: &mut Frame<'_>, kind: ExternalKind, def: CoreDef) -> Result<()> {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => f.core_funcs.push(def),
            ExternalKind::Memory => f.core_memories.push(def),
            ExternalKind::Table => f.core_tables.push(def),
            ExternalKind::Global => f.core_globals.push(def),
            ExternalKind::Tag => f.core_tags.push(def),
        }
        Ok(())
    }

    fn core_export(inst: &CoreInst, name: &str) -> Result<CoreDef> {
        match inst {
            CoreInst::Runtime(i) => Ok(CoreDef::Export {
                instance: *i,
                name: name.to_string(),
            }),
            CoreInst::Exports(map) => map
                .get(name)
                .cloned()
                .ok_or_else(|| bad(&format!("no core export {name:?}"))),
        }
    }

    /// (module, field) pairs of a core module's imports.
    fn imports_of(&mut self, module: u32) -> Result<Vec<(String, String)>> {
        if let Some(v) = self.module_imports.get(&module) {
            return Ok(v.clone());
        }
        let bytes = get(&self.t.modules, module, "module")?;
        let mut out = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            if let wasmparser::Payload::ImportSection(r) = payload? {
                for i in r.into_imports() {
                    let i = i?;
                    out.push((i.module.to_string(), i.name.to_string()));
                }
            }
        }
        self.module_imports.insert(module, out.clone());
        Ok(out)
    }

    fn opts(&self, f: &Frame<'_>, options: &[CanonicalOption]) -> Result<CanonOpts> {
        let mut o = CanonOpts {
            instance: f.instance,
            ..CanonOpts::default()
        };
        for opt in options {
            match opt {
                CanonicalOption::UTF8 => o.encoding = StringEncoding::Utf8,
                CanonicalOption::UTF16 => o.encoding = StringEncoding::Utf16,
                CanonicalOption::CompactUTF16 => o.encoding = StringEncoding::CompactUtf16,
                CanonicalOption::Memory(m) => o.memory = Some(get(&f.core_memories, *m, "memory")?),
                CanonicalOption::Realloc(r) => o.realloc = Some(get(&f.core_funcs, *r, "realloc")?),
                CanonicalOption::PostReturn(p) => {
                    o.post_return = Some(get(&f.core_funcs, *p, "post-return")?)
                }
                CanonicalOption::Async => o.async_ = true,
                CanonicalOption::Callback(c) => {
                    o.callback = Some(get(&f.core_funcs, *c, "callback")?)
                }
                other => return Err(unsupported(format!("canonical option {other:?}"))),
            }
        }
        Ok(o)
    }

    fn resource_of<'s>(
        info: &'s mut ComponentInfo,
        f: &'s mut Frame<'_>,
    ) -> impl FnMut(wasmparser::component_types::ResourceId) -> u32 + 's {
        let resources = &mut f.resources;
        let instance = f.instance;
        move |id| {
            if let Some(r) = resources.get(&id) {
                return *r;
            }
            // A resource this instance never saw defined or passed in (e.g. imported from the
            // host): give it an identity of its own.
            let r = info.resources.len() as u32;
            info.resources.push(Resource {
                name: format!("resource{r}"),
                instance,
                dtor: None,
            });
            resources.insert(id, r);
            r
        }
    }

    fn init(&mut self, f: &mut Frame<'_>, init: &Init<'a>, root: bool) -> Result<()> {
        match init {
            Init::CoreType => {}
            Init::Start => return Err(unsupported("component start functions")),
            Init::CoreModule(m) => f.core_modules.push(*m),
            Init::Component(def) => {
                let outer = Rc::new(Scope {
                    modules: f.core_modules.clone(),
                    components: f.components.clone(),
                    types: f.types.clone(),
                    parent: Some(f.outer.clone()),
                });
                f.components.push(Closure { def: *def, outer });
            }
            Init::Type(res) => match res {
                Some(dtor) => {
                    let dtor = match dtor {
                        Some(d) => Some(get(&f.core_funcs, *d, "destructor")?),
                        None => None,
                    };
                    let r = self.info.resources.len() as u32;
                    self.info.resources.push(Resource {
                        name: format!("resource{r}"),
                        instance: f.instance,
                        dtor,
                    });
                    self.push_type(f, TypeItem::Resource(r))?;
                }
                None => self.push_type(f, TypeItem::Other)?,
            },
            Init::Import(imp) => {
                let name = imp.name.name.to_string();
                let item = if root {
                    self.host_import(f, &name, &imp.ty)?
                } else {
                    f.args
                        .get(&name)
                        .cloned()
                        .ok_or_else(|| bad(&format!("missing argument {name:?}")))?
                };
                if let Some(m) = self.names.instances.get_mut(f.instance as usize) {
                    m.imports.push(name.clone());
                }
                if let Item::Instance(map) = &item {
                    // Resource types the imported instance exports are the supplier's resources:
                    // map this component's view of them onto the same runtime resources.
                    let types = self.types(f.def)?;
                    let id = types.component_instance_at(f.instances.len() as u32);
                    map_instance_resources(types, id, map, &mut f.resources);
                }
                self.push_item(f, item, name)?;
            }
            Init::CoreInstance(Instance::Instantiate { module_index, args }) => {
                let module = get(&f.core_modules, *module_index, "module")?;
                if module == OPAQUE {
                    return Err(unsupported(
                        "instantiating a core module imported from the host",
                    ));
                }
                let mut by_name = HashMap::new();
                for a in args.iter() {
                    by_name.insert(a.name, get(&f.core_instances, a.index, "core instance")?);
                }
                let mut defs = Vec::new();
                for (m, field) in self.imports_of(module)? {
                    let inst = by_name
                        .get(m.as_str())
                        .ok_or_else(|| bad(&format!("no instantiation argument {m:?}")))?;
                    defs.push(Self::core_export(inst, &field)?);
                }
                let index = self.info.instances.len() as u32;
                if index >= MAX_INSTANCES {
                    return Err(too_many_instances("core"));
                }
                self.info
                    .instances
                    .push(CoreInstance { module, args: defs });
                if let Some(m) = self.names.instances.get_mut(f.instance as usize) {
                    m.core_instances.push(index);
                }
                f.core_instances.push(CoreInst::Runtime(index));
            }
            Init::CoreInstance(Instance::FromExports(exports)) => {
                let mut map = HashMap::new();
                for e in exports.iter() {
                    map.insert(e.name.to_string(), self.core_def(f, e.kind, e.index)?);
                }
                f.core_instances.push(CoreInst::Exports(Rc::new(map)));
            }
            Init::Alias(ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            }) => {
                let inst = get(&f.core_instances, *instance_index, "core instance")?;
                let def = Self::core_export(&inst, name)?;
                self.push_core(f, *kind, def)?;
            }
            Init::Alias(ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            }) => {
                let inst = get(&f.instances, *instance_index, "instance")?;
                let item = inst
                    .get(*name)
                    .cloned()
                    .ok_or_else(|| bad(&format!("instance has no export {name:?}")))?;
                let item = match item {
                    Item::Opaque(what) => opaque_of_kind(*kind, what)?,
                    other => other,
                };
                let name = match f.instance_names.get(*instance_index as usize) {
                    Some(outer) if !outer.is_empty() => format!("{outer}#{name}"),
                    _ => name.to_string(),
                };
                self.push_item(f, item, name)?;
            }
            Init::Alias(ComponentAlias::Outer { kind, count, index }) => {
                // Count 0 names the current component itself, 1 its parent, and so on.
                let mut scope = (*count > 0).then(|| f.outer.clone());
                for _ in 1..*count {
                    scope = Some(
                        scope
                            .and_then(|s| s.parent.clone())
                            .ok_or_else(|| bad("outer alias count out of range"))?,
                    );
                }
                match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        let m = match &scope {
                            None => get(&f.core_modules, *index, "module")?,
                            Some(s) => get(&s.modules, *index, "outer module")?,
                        };
                        f.core_modules.push(m);
                    }
                    ComponentOuterAliasKind::Component => {
                        let c = match &scope {
                            None => get(&f.components, *index, "component")?,
                            Some(s) => get(&s.components, *index, "outer component")?,
                        };
                        f.components.push(c);
                    }
                    ComponentOuterAliasKind::Type => {
                        let t = match &scope {
                            None => get(&f.types, *index, "type")?,
                            Some(s) => get(&s.types, *index, "outer type")?,
                        };
                        self.push_type(f, t)?;
                    }
                    ComponentOuterAliasKind::CoreType => {}
                }
            }
            Init::Canon(c) => self.canon(f, c)?,
            Init::Instance(ComponentInstance::Instantiate {
                component_index,
                args,
            }) => {
                let closure = get(&f.components, *component_index, "component")?;
                if closure.def == OPAQUE {
                    return Err(unsupported(
                        "instantiating a component imported from the host",
                    ));
                }
                let mut bound = HashMap::new();
                for a in args.iter() {
                    bound.insert(a.name.to_string(), self.item(f, a.kind, a.index)?);
                }
                let meta = self.child_names(f, *component_index);
                let name = meta.name.clone();
                let exports = self.instantiate(&closure, bound, false, Some(meta))?;
                f.instances.push(Rc::new(exports));
                f.instance_names.push(name);
            }
            Init::Instance(ComponentInstance::FromExports(exports)) => {
                let mut map = BTreeMap::new();
                for e in exports.iter() {
                    map.insert(e.name.name.to_string(), self.item(f, e.kind, e.index)?);
                }
                f.instances.push(Rc::new(map));
                f.instance_names.push(String::new());
            }
            Init::Export(e) => {
                let item = self.item(f, e.kind, e.index)?;
                f.exports.insert(e.name.name.to_string(), item.clone());
                // An export introduces a new index in its space.
                self.push_item(f, item, e.name.name.to_string())?;
            }
        }
        Ok(())
    }

    fn canon(&mut self, f: &mut Frame<'_>, c: &CanonicalFunction) -> Result<()> {
        match c {
            CanonicalFunction::Lift {
                core_func_index,
                type_index,
                options,
            } => {
                let types = self.types(f.def)?;
                let id = match types.component_any_type_at(*type_index) {
                    wasmparser::component_types::ComponentAnyTypeId::Func(id) => id,
                    _ => return Err(bad("lift of a non-function type")),
                };
                let func = get(&f.core_funcs, *core_func_index, "core func")?;
                let opts = self.opts(f, options)?;
                let mut arena = std::mem::take(&mut self.arena);
                let ty = {
                    let mut res = Self::resource_of(&mut self.info, f);
                    arena.func(types, id, &mut res)
                };
                self.arena = arena;
                f.func_names.push(format!("func{}", f.funcs.len()));
                f.funcs.push(FuncDef::Lifted(Box::new(Lifted {
                    func,
                    ty: ty?,
                    opts,
                })));
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => {
                let types = self.types(f.def)?;
                let id = types.component_function_at(*func_index);
                let target = get(&f.funcs, *func_index, "function")?;
                let opts = self.opts(f, options)?;
                let mut arena = std::mem::take(&mut self.arena);
                let ty = {
                    let mut res = Self::resource_of(&mut self.info, f);
                    arena.func(types, id, &mut res)
                };
                self.arena = arena;
                let ty = ty?;
                let (core_params, core_results) = self.arena.lowered_signature(ty, &opts);
                let target = match target {
                    FuncDef::Lifted(l) if self.might_recurse(f.instance, l.opts.instance) => {
                        LoweringTarget::Builtin(Builtin::Recursive)
                    }
                    FuncDef::Lifted(l) => LoweringTarget::Lifted(*l),
                    FuncDef::Import(i) => LoweringTarget::Import(i),
                };
                let name = f.func_names.get(*func_index as usize).cloned();
                self.names
                    .lowerings
                    .push(name.unwrap_or_else(|| format!("func{func_index}")));
                let index = self.info.lowerings.len() as u32;
                self.info.lowerings.push(Lowering {
                    target,
                    ty,
                    opts,
                    core_params,
                    core_results,
                    host_call: None,
                });
                f.core_funcs.push(CoreDef::Lowering(index));
            }
            CanonicalFunction::ResourceNew { resource }
            | CanonicalFunction::ResourceDrop { resource }
            | CanonicalFunction::ResourceRep { resource } => {
                let r = match get(&f.types, *resource, "resource type")? {
                    TypeItem::Resource(r) => r,
                    TypeItem::Other => return Err(bad("resource built-in on a non-resource type")),
                };
                f.core_funcs.push(match c {
                    CanonicalFunction::ResourceNew { .. } => CoreDef::ResourceNew(r),
                    CanonicalFunction::ResourceDrop { .. } => CoreDef::ResourceDrop {
                        resource: r,
                        instance: f.instance,
                    },
                    _ => CoreDef::ResourceRep(r),
                });
            }
            other => self.builtin(f, other)?,
        }
        Ok(())
    }

    /// Whether a call from component instance `caller` into `callee` might be recursive, which
    /// the Canonical ABI forbids: one is the other or an ancestor of it.
    fn might_recurse(&self, caller: u32, callee: u32) -> bool {
        let ancestor = |a: u32, mut b: Option<u32>| {
            while let Some(i) = b {
                if i == a {
                    return true;
                }
                b = self.names.instances.get(i as usize).and_then(|m| m.parent);
            }
            false
        };
        ancestor(caller, Some(callee)) || ancestor(callee, Some(caller))
    }

    /// A canonical built-in other than the resource ones: a lowering the runtime serves
    /// ([`LoweringTarget::Builtin`]), with its options and immediates.
    fn builtin(&mut self, f: &mut Frame<'_>, c: &CanonicalFunction) -> Result<()> {
        let types = self.types(f.def)?;
        let core_index = f.core_funcs.len() as u32;
        let id = types.core_function_at(core_index);
        let (core_params, core_results) = match &types[id].composite_type.inner {
            wasmparser::CompositeInnerType::Func(ft) => {
                let conv = |ts: &[wasmparser::ValType]| {
                    ts.iter()
                        .map(|t| crate::frontend::val_type_at(*t, &Default::default(), 0))
                        .collect::<Result<Vec<_>>>()
                };
                (conv(ft.params())?, conv(ft.results())?)
            }
            _ => return Err(bad("built-in without a function type")),
        };
        let mut opts = CanonOpts {
            instance: f.instance,
            ..CanonOpts::default()
        };
        let mut ty = 0;
        let builtin = match c {
            CanonicalFunction::ContextGet { slot, .. } => Builtin::ContextGet { slot: *slot },
            CanonicalFunction::ContextSet { slot, .. } => Builtin::ContextSet { slot: *slot },
            CanonicalFunction::BackpressureInc => Builtin::BackpressureInc,
            CanonicalFunction::BackpressureDec => Builtin::BackpressureDec,
            CanonicalFunction::TaskReturn { result, options } => {
                opts = self.opts(f, options)?;
                ty = self.task_return_type(f, types, result)?;
                Builtin::TaskReturn
            }
            CanonicalFunction::TaskCancel => Builtin::TaskCancel,
            CanonicalFunction::ThreadYield => Builtin::ThreadYield,
            CanonicalFunction::ThreadIndex => Builtin::ThreadIndex,
            CanonicalFunction::ThreadNewIndirect {
                func_ty_index,
                table_index,
            } => Builtin::ThreadNewIndirect {
                table: get(&f.core_tables, *table_index, "core table")?,
                start: None,
                param64: self.start_param64(types, *func_ty_index)?,
            },
            CanonicalFunction::ThreadResumeLater => Builtin::ThreadResumeLater,
            CanonicalFunction::ThreadSuspend => Builtin::ThreadSuspend,
            CanonicalFunction::ThreadSuspendThenResume => Builtin::ThreadSuspendThenResume,
            CanonicalFunction::ThreadYieldThenResume => Builtin::ThreadYieldThenResume,
            CanonicalFunction::ThreadSuspendThenPromote => Builtin::ThreadSuspendThenPromote,
            CanonicalFunction::ThreadYieldThenPromote => Builtin::ThreadYieldThenPromote,
            CanonicalFunction::SubtaskDrop => Builtin::SubtaskDrop,
            CanonicalFunction::SubtaskCancel { async_ } => {
                opts.async_ = *async_;
                Builtin::SubtaskCancel
            }
            CanonicalFunction::WaitableSetNew => Builtin::WaitableSetNew,
            CanonicalFunction::WaitableSetWait { memory }
            | CanonicalFunction::WaitableSetPoll { memory } => {
                opts.memory = Some(get(&f.core_memories, *memory, "memory")?);
                match c {
                    CanonicalFunction::WaitableSetWait { .. } => Builtin::WaitableSetWait,
                    _ => Builtin::WaitableSetPoll,
                }
            }
            CanonicalFunction::WaitableSetDrop => Builtin::WaitableSetDrop,
            CanonicalFunction::WaitableJoin => Builtin::WaitableJoin,
            CanonicalFunction::ErrorContextNew { options } => {
                opts = self.opts(f, options)?;
                Builtin::ErrorContextNew
            }
            CanonicalFunction::ErrorContextDebugMessage { options } => {
                opts = self.opts(f, options)?;
                Builtin::ErrorContextDebugMessage
            }
            CanonicalFunction::ErrorContextDrop => Builtin::ErrorContextDrop,
            other => match self.channel_builtin(f, types, other, &mut opts)? {
                Some(b) => b,
                None => Builtin::Unsupported(canon_name(other)),
            },
        };
        let index = self.info.lowerings.len() as u32;
        self.names.lowerings.push(builtin.name());
        self.info.lowerings.push(Lowering {
            target: LoweringTarget::Builtin(builtin),
            ty,
            opts,
            core_params,
            core_results,
            host_call: None,
        });
        f.core_funcs.push(CoreDef::Lowering(index));
        Ok(())
    }

    /// A stream or future built-in: its operation on the type it names (options into `opts`).
    fn channel_builtin(
        &mut self,
        f: &mut Frame<'_>,
        types: TypesRef<'a>,
        c: &CanonicalFunction,
        opts: &mut CanonOpts,
    ) -> Result<Option<Builtin>> {
        use CanonicalFunction as C;
        let (ty, op) = match c {
            C::StreamNew { ty } | C::FutureNew { ty } => (*ty, ChannelOp::New),
            C::StreamRead { ty, options } | C::FutureRead { ty, options } => {
                *opts = self.opts(f, options)?;
                (*ty, ChannelOp::Read)
            }
            C::StreamWrite { ty, options } | C::FutureWrite { ty, options } => {
                *opts = self.opts(f, options)?;
                (*ty, ChannelOp::Write)
            }
            C::StreamCancelRead { ty, async_ } | C::FutureCancelRead { ty, async_ } => {
                opts.async_ = *async_;
                (*ty, ChannelOp::CancelRead)
            }
            C::StreamCancelWrite { ty, async_ } | C::FutureCancelWrite { ty, async_ } => {
                opts.async_ = *async_;
                (*ty, ChannelOp::CancelWrite)
            }
            C::StreamDropReadable { ty } | C::FutureDropReadable { ty } => {
                (*ty, ChannelOp::DropReadable)
            }
            C::StreamDropWritable { ty } | C::FutureDropWritable { ty } => {
                (*ty, ChannelOp::DropWritable)
            }
            _ => return Ok(None),
        };
        let id = types.component_defined_type_at(ty);
        let vt = wasmparser::component_types::ComponentValType::Type(id);
        let mut arena = std::mem::take(&mut self.arena);
        let t = {
            let mut res = Self::resource_of(&mut self.info, f);
            arena.val(types, &vt, &mut res)
        };
        self.arena = arena;
        Ok(Some(Builtin::Channel { ty: t?, op }))
    }

    /// Whether `thread.new-indirect`'s start function type (core type `index`, which the
    /// validator checked is `[i32] -> []` or `[i64] -> []`) takes an `i64`.
    fn start_param64(&self, types: TypesRef<'a>, index: u32) -> Result<bool> {
        if index >= types.core_type_count_in_component() {
            return Err(bad("thread.new-indirect names no core type"));
        }
        let wasmparser::component_types::ComponentCoreTypeId::Sub(id) =
            types.core_type_at_in_component(index)
        else {
            return Err(bad("thread.new-indirect's start type is a module type"));
        };
        match &types[id].composite_type.inner {
            wasmparser::CompositeInnerType::Func(ft) => {
                Ok(ft.params() == [wasmparser::ValType::I64])
            }
            _ => Err(bad("thread.new-indirect's start type is no function type")),
        }
    }

    /// `task.return`'s type as a function type whose parameters are the returned values.
    fn task_return_type(
        &mut self,
        f: &mut Frame<'_>,
        types: TypesRef<'a>,
        result: &Option<wasmparser::ComponentValType>,
    ) -> Result<u32> {
        let mut params = Vec::new();
        if let Some(r) = result {
            let vt = match r {
                wasmparser::ComponentValType::Primitive(p) => {
                    wasmparser::component_types::ComponentValType::Primitive(*p)
                }
                wasmparser::ComponentValType::Type(i) => {
                    wasmparser::component_types::ComponentValType::Type(
                        types.component_defined_type_at(*i),
                    )
                }
            };
            let mut arena = std::mem::take(&mut self.arena);
            let t = {
                let mut res = Self::resource_of(&mut self.info, f);
                arena.val(types, &vt, &mut res)
            };
            self.arena = arena;
            params.push(("result".to_string(), t?));
        }
        Ok(self.arena.intern_func(FuncTy {
            params,
            result: None,
            async_: false,
        }))
    }

    /// The names of a component instance `f` is about to create from its component
    /// `component_index` (see [`InstanceNames`] for the rule).
    fn child_names(&self, f: &Frame<'_>, component_index: u32) -> InstanceNames {
        let local = f.instances.len() as u32;
        let names = self.t.components.get(f.def as usize).map(|d| &d.names);
        let own = |c: &Closure| {
            self.t
                .components
                .get(c.def as usize)?
                .names
                .component
                .clone()
        };
        let definition = names
            .and_then(|n| n.components.get(&component_index).cloned())
            .or_else(|| f.components.get(component_index as usize).and_then(own));
        let mut name = names
            .and_then(|n| n.instances.get(&local).cloned())
            .or_else(|| definition.clone())
            .unwrap_or_else(|| format!("#{local}"));
        let taken = |n: &str| {
            self.names
                .instances
                .iter()
                .any(|m| m.parent == Some(f.instance) && m.name == n)
        };
        if taken(&name) {
            name = format!("{name}#{local}");
        }
        InstanceNames {
            parent: Some(f.instance),
            name,
            definition,
            ..InstanceNames::default()
        }
    }

    /// An import of the root component: something the host provides.
    fn host_import(
        &mut self,
        f: &mut Frame<'_>,
        name: &str,
        ty: &ComponentTypeRef,
    ) -> Result<Item> {
        let types = self.types(f.def)?;
        match ty {
            ComponentTypeRef::Func(_) => {
                let id = types.component_function_at(f.funcs.len() as u32);
                let i = self.host_func(f, types, id, name.to_string())?;
                Ok(Item::Func(FuncDef::Import(i)))
            }
            ComponentTypeRef::Instance(_) => {
                let id = types.component_instance_at(f.instances.len() as u32);
                let mut map = BTreeMap::new();
                for (export, ety) in types[id].exports.iter() {
                    use wasmparser::component_types::ComponentEntityType as E;
                    let ety = &ety.ty;
                    let item = match ety {
                        E::Func(fid) => {
                            let i = self.host_func(f, types, *fid, format!("{name}#{export}"))?;
                            Item::Func(FuncDef::Import(i))
                        }
                        E::Type {
                            referenced:
                                wasmparser::component_types::ComponentAnyTypeId::Resource(rid),
                            ..
                        } => {
                            // A resource the host defines; one re-exported through `use` (e.g.
                            // `wasi:io/poll#pollable` seen from `wasi:clocks`) is the same one.
                            let r = match f.resources.get(&rid.resource()) {
                                Some(r) => *r,
                                None => {
                                    let r = self.info.resources.len() as u32;
                                    self.info.resources.push(Resource {
                                        name: format!("{name}#{export}"),
                                        instance: u32::MAX,
                                        dtor: None,
                                    });
                                    f.resources.insert(rid.resource(), r);
                                    r
                                }
                            };
                            Item::Type(TypeItem::Resource(r))
                        }
                        E::Type { .. } => Item::Type(TypeItem::Other),
                        _ => Item::Opaque(format!("{name}#{export}")),
                    };
                    map.insert(export.to_string(), item);
                }
                Ok(Item::Instance(Rc::new(map)))
            }
            ComponentTypeRef::Type(wasmparser::TypeBounds::SubResource) => {
                // A resource type the host defines.
                let r = self.info.resources.len() as u32;
                self.info.resources.push(Resource {
                    name: name.to_string(),
                    instance: u32::MAX,
                    dtor: None,
                });
                Ok(Item::Type(TypeItem::Resource(r)))
            }
            ComponentTypeRef::Type(_) => Ok(Item::Type(TypeItem::Other)),
            ComponentTypeRef::Module(_) => Ok(Item::Module(OPAQUE)),
            ComponentTypeRef::Component(_) => Ok(Item::Component(Closure {
                def: OPAQUE,
                outer: Rc::new(Scope::default()),
            })),
            ComponentTypeRef::Value(_) => Ok(Item::Opaque(name.to_string())),
        }
    }

    fn host_func(
        &mut self,
        f: &mut Frame<'_>,
        types: TypesRef<'a>,
        id: wasmparser::component_types::ComponentFuncTypeId,
        name: String,
    ) -> Result<u32> {
        let mut arena = std::mem::take(&mut self.arena);
        let ty = {
            let mut res = Self::resource_of(&mut self.info, f);
            arena.func(types, id, &mut res)
        };
        self.arena = arena;
        let i = self.info.imports.len() as u32;
        self.info.imports.push(HostImport { name, ty: ty? });
        Ok(i)
    }
}

/// Record, for every resource type an instance type exports, which runtime resource the
/// supplied instance's item is (recursing into nested instances).
fn map_instance_resources(
    types: TypesRef<'_>,
    id: wasmparser::component_types::ComponentInstanceTypeId,
    supplied: &BTreeMap<String, Item>,
    resources: &mut ResourceMap,
) {
    use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType as E};
    for (name, ty) in types[id].exports.iter() {
        match (&ty.ty, supplied.get(name.as_str())) {
            (
                E::Type {
                    referenced: ComponentAnyTypeId::Resource(rid),
                    ..
                },
                Some(Item::Type(TypeItem::Resource(r))),
            ) => {
                resources.insert(rid.resource(), *r);
            }
            (E::Instance(inner), Some(Item::Instance(map))) => {
                map_instance_resources(types, *inner, map, resources);
            }
            _ => {}
        }
    }
}

/// Index standing for a module or component the host would provide: usable only as long as
/// nothing instantiates it.
const OPAQUE: u32 = u32::MAX;

/// The placeholder for an opaque host item aliased as `kind`.
fn opaque_of_kind(kind: ComponentExternalKind, what: String) -> Result<Item> {
    Ok(match kind {
        ComponentExternalKind::Module => Item::Module(OPAQUE),
        ComponentExternalKind::Component => Item::Component(Closure {
            def: OPAQUE,
            outer: Rc::new(Scope::default()),
        }),
        ComponentExternalKind::Instance => Item::Instance(Rc::new(BTreeMap::new())),
        ComponentExternalKind::Type => Item::Type(TypeItem::Other),
        ComponentExternalKind::Value => Item::Opaque(what),
        ComponentExternalKind::Func => {
            return Err(unsupported(format!("host import {what} of this kind")))
        }
    })
}

fn canon_name(c: &CanonicalFunction) -> String {
    let s = format!("{c:?}");
    // context.get/set carry their slot; the runtime reads it from the full form.
    if matches!(
        c,
        CanonicalFunction::ContextGet { .. } | CanonicalFunction::ContextSet { .. }
    ) {
        return s;
    }
    s.split([' ', '{', '(']).next().unwrap_or("?").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::translate::translate;

    use crate::wat;

    const COMPOSED: &str = r#"(component
      (component $callee
        (core module $m
          (memory (export "mem") 1)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64)
          (func (export "len") (param i32 i32) (result i32) local.get 1))
        (core instance $i (instantiate $m))
        (func (export "len") (param "s" string) (result u32)
          (canon lift (core func $i "len") (memory $i "mem") (realloc (func $i "realloc")))))
      (component $caller
        (import "len" (func $len (param "s" string) (result u32)))
        (core module $libc (memory (export "mem") 1))
        (core instance $libc (instantiate $libc))
        (core func $len_lowered (canon lower (func $len) (memory $libc "mem") string-encoding=utf16))
        (core module $main
          (import "host" "len" (func $len (param i32 i32) (result i32)))
          (func (export "run") (result i32) (call $len (i32.const 0) (i32.const 3))))
        (core instance $main (instantiate $main
          (with "host" (instance (export "len" (func $len_lowered))))))
        (func (export "run") (result u32) (canon lift (core func $main "run"))))
      (instance $callee (instantiate $callee))
      (instance $caller (instantiate $caller (with "len" (func $callee "len"))))
      (export "run" (func $caller "run")))"#;

    #[test]
    fn a_composed_component_flattens_to_direct_references() {
        let bytes = wat(COMPOSED);
        let t = translate(&bytes, crate::frontend::features()).expect("valid");
        let (info, _) = Inliner::run(&t).expect("flattens");
        let text = crate::inspect::text::render(&info);
        // Three core instances: the callee's module, the caller's libc and main.
        assert_eq!(info.instances.len(), 3, "{text}");
        assert_eq!(info.component_instances, 3, "{text}");
        // main imports the lowering, which calls the callee's lifted "len" in instance 0.
        assert_eq!(info.instances[2].args, vec![CoreDef::Lowering(0)], "{text}");
        match &info.lowerings[0].target {
            LoweringTarget::Lifted(l) => {
                assert_eq!(
                    l.func,
                    CoreDef::Export {
                        instance: 0,
                        name: "len".into()
                    }
                );
                assert_eq!(l.opts.encoding, StringEncoding::Utf8);
            }
            other => panic!("unexpected target {other:?}"),
        }
        assert_eq!(info.lowerings[0].opts.encoding, StringEncoding::Utf16);
        assert_eq!(
            info.lowerings[0].core_params,
            vec![weld_contract::info::ValType::I32; 2]
        );
        assert_eq!(info.exports.len(), 1);
        assert_eq!(info.exports[0].name, "run");
    }

    #[test]
    fn a_lowering_of_a_function_a_child_lifted_is_a_recursive_call_that_traps() {
        let bytes = wat(r#"(component
          (component $child
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func (export "f") (canon lift (core func $i "f"))))
          (instance $c (instantiate $child))
          (core func $f (canon lower (func $c "f")))
          (core module $outer (import "" "f" (func)))
          (core instance (instantiate $outer (with "" (instance (export "f" (func $f)))))))"#);
        let t = translate(&bytes, crate::frontend::features()).expect("valid");
        let (info, _) = Inliner::run(&t).expect("flattens");
        assert_eq!(
            info.lowerings[0].target,
            LoweringTarget::Builtin(Builtin::Recursive)
        );
        // Siblings call each other as usual (COMPOSED: caller and callee are both children).
        let composed = wat(COMPOSED);
        let t = translate(&composed, crate::frontend::features()).expect("valid");
        let (info, _) = Inliner::run(&t).expect("flattens");
        assert!(matches!(
            info.lowerings[0].target,
            LoweringTarget::Lifted(_)
        ));
    }

    #[test]
    fn host_imports_of_instances_get_qualified_names() {
        let bytes = wat(r#"(component
          (import "wasi:cli/stdout@0.2.0" (instance $i (export "get" (func (result u32)))))
          (alias export $i "get" (func $get))
          (core func $g (canon lower (func $get)))
          (core module $m (import "" "get" (func (result i32))))
          (core instance (instantiate $m (with "" (instance (export "get" (func $g)))))))"#);
        let t = translate(&bytes, crate::frontend::features()).expect("valid");
        let (info, _) = Inliner::run(&t).expect("flattens");
        assert_eq!(info.imports[0].name, "wasi:cli/stdout@0.2.0#get");
        assert_eq!(info.lowerings[0].target, LoweringTarget::Import(0));
    }

    #[test]
    fn flattening_names_every_component_instance_after_its_id() {
        let bytes = wat(COMPOSED);
        let t = translate(&bytes, crate::frontend::features()).expect("valid");
        let (_, _, names) = Inliner::run_with_names(&t).expect("flattens");
        let n: Vec<_> = names.instances.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(n, ["(root)", "callee", "caller"]);
        assert_eq!(names.instances[2].parent, Some(0));
        assert_eq!(names.instances[2].imports, ["len"]);
        assert_eq!(names.instances[2].exports, ["run"]);
        assert_eq!(names.instances[2].core_instances, [1, 2]);
        assert_eq!(names.lowerings, ["len"]);
    }
}
