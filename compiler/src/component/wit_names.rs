//! WIT names for a flattened component's types, and the identifiers derived from WIT names that
//! every generated API (the C header, the Rust bindings, `weld inspect`) spells the same way.
//!
//! In: the component's bytes and its flattened [`ComponentInfo`]. Out: [`WitNames`], the WIT
//! name and owning interface of each type in the flattened arena and of each resource, where
//! the component's WIT world names them; nothing for a component whose world cannot be decoded
//! (hand-written ones without type exports), whose generated APIs then keep structural names.
//!
//! The arena is structural: two WIT types of the same shape are one arena type. Names are given
//! by walking each exported and imported function's WIT signature beside its flattened one;
//! the first name met wins (exports before imports, in the component's order), so a name is
//! deterministic. The runtime never sees any of this: it changes no descriptor byte.
//!
//! Identifiers ([`snake`], [`func_ident`], [`Keys::ident`]) follow wit-bindgen's C generator:
//! kebab-case to snake_case, `ns:pkg/iface` to `ns_pkg_iface`, the package version inserted
//! (`ns_pkg_0_2_0_iface`) only when the component uses two versions of that package, and
//! `[method]builder.append` to `method_builder_append`. Kebab names are unique ignoring case
//! (the Component Model's rule), so within one scope this is injective; names that are not
//! WIT identifiers fall back to [`weld_contract::symbols::mangle`]'s escaped form.

use std::collections::{BTreeSet, HashMap};
use weld_contract::component::{ComponentInfo, TypeDef};
use weld_contract::symbols::mangle;
use wit_parser::{Handle, Resolve, Type, TypeDefKind, TypeOwner, WorldItem, WorldKey};

/// A WIT type's name and where it is defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitName {
    /// The interface's key as imports and exports spell it (`example:text/transform@0.1.0`, or
    /// a plain name for an interface declared in the world); empty for a world-level type.
    pub owner: String,
    /// The type's WIT name (`char-class`).
    pub name: String,
}

/// WIT names of the flattened arena's types and of the resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitNames {
    /// Per arena type (indexed like `ComponentInfo::types`).
    pub types: Vec<Option<WitName>>,
    /// Per resource (indexed like `ComponentInfo::resources`).
    pub resources: Vec<Option<WitName>>,
}

impl WitNames {
    /// No names: every generated API falls back to structural names.
    pub fn none(info: &ComponentInfo) -> WitNames {
        WitNames {
            types: vec![None; info.types.len()],
            resources: vec![None; info.resources.len()],
        }
    }

    /// The names `bytes`' WIT world gives `info`'s types (see the module docs).
    pub fn of(bytes: &[u8], info: &ComponentInfo) -> WitNames {
        let mut names = WitNames::none(info);
        let Ok(wit_component::DecodedWasm::Component(resolve, world)) =
            wit_component::decode(bytes)
        else {
            return names;
        };
        let Some(world) = resolve.worlds.get(world) else {
            return names;
        };
        let mut walk = Walk {
            resolve: &resolve,
            info,
            names: &mut names,
        };
        let exports = info.exports.iter().map(|e| (e.name.as_str(), e.func.ty));
        for (name, ty) in exports {
            if let Some(f) = find_function(&resolve, world.exports.iter(), name) {
                walk.function(f, ty);
            }
        }
        for i in &info.imports {
            if let Some(f) = find_function(&resolve, world.imports.iter(), &i.name) {
                walk.function(f, i.ty);
            }
        }
        names
    }
}

/// The WIT function an import or export name (`key#func` or `func`) stands for.
fn find_function<'r>(
    resolve: &'r Resolve,
    items: impl Iterator<Item = (&'r WorldKey, &'r WorldItem)>,
    name: &str,
) -> Option<&'r wit_parser::Function> {
    let (key, func) = split(name);
    for (k, item) in items {
        match item {
            WorldItem::Function(f) if key.is_empty() && f.name == func => return Some(f),
            WorldItem::Interface { id, .. }
                if !key.is_empty() && resolve.name_world_key(k) == key =>
            {
                return resolve.interfaces.get(*id)?.functions.get(func);
            }
            _ => {}
        }
    }
    None
}

/// `key#func` into its key and function; a bare name has an empty key.
pub fn split(name: &str) -> (&str, &str) {
    match name.rsplit_once('#') {
        Some((key, func)) => (key, func),
        None => ("", name),
    }
}

/// Walks a WIT signature beside the flattened one.
struct Walk<'a> {
    resolve: &'a Resolve,
    info: &'a ComponentInfo,
    names: &'a mut WitNames,
}

impl Walk<'_> {
    fn function(&mut self, f: &wit_parser::Function, ty: u32) {
        let Some(ft) = self.info.func_types.get(ty as usize) else {
            return;
        };
        for (p, (_, t)) in f.params.iter().zip(&ft.params) {
            self.ty(&p.ty, *t, 0);
        }
        if let (Some(w), Some(t)) = (&f.result, ft.result) {
            self.ty(w, t, 0);
        }
    }

    /// The owner key of a WIT type definition.
    fn owner(&self, owner: TypeOwner) -> Option<String> {
        match owner {
            TypeOwner::World(_) => Some(String::new()),
            TypeOwner::Interface(id) => self
                .resolve
                .id_of(id)
                .or_else(|| self.resolve.interfaces.get(id).and_then(|i| i.name.clone())),
            TypeOwner::None => None,
        }
    }

    fn ty(&mut self, w: &Type, t: u32, depth: u32) {
        let Type::Id(mut id) = *w else {
            return;
        };
        if depth > 64 {
            return;
        }
        // Follow aliases (`use`, `type a = b`) to the definition, which gives the name.
        let mut hops = 0;
        while let Some(TypeDefKind::Type(Type::Id(next))) =
            self.resolve.types.get(id).map(|d| &d.kind)
        {
            id = *next;
            hops += 1;
            if hops > 64 {
                return;
            }
        }
        let Some(def) = self.resolve.types.get(id) else {
            return;
        };
        let Some(flat) = self.info.types.get(t as usize) else {
            return;
        };
        if let (Some(name), Some(owner)) = (&def.name, self.owner(def.owner)) {
            if let Some(slot @ None) = self.names.types.get_mut(t as usize) {
                if !matches!(def.kind, TypeDefKind::Handle(_) | TypeDefKind::Type(_)) {
                    *slot = Some(WitName {
                        owner,
                        name: name.clone(),
                    });
                }
            }
        }
        let d = depth + 1;
        match (&def.kind, flat) {
            (TypeDefKind::Record(r), TypeDef::Record(fs)) => {
                for (wf, (_, ft)) in r.fields.iter().zip(fs) {
                    self.ty(&wf.ty, *ft, d);
                }
            }
            (TypeDefKind::Tuple(tu), TypeDef::Tuple(ts)) => {
                for (wt, ft) in tu.types.iter().zip(ts) {
                    self.ty(wt, *ft, d);
                }
            }
            (TypeDefKind::Variant(v), TypeDef::Variant(cs)) => {
                for (wc, (_, fc)) in v.cases.iter().zip(cs) {
                    if let (Some(wt), Some(ft)) = (&wc.ty, fc) {
                        self.ty(wt, *ft, d);
                    }
                }
            }
            (TypeDefKind::Option(wt), TypeDef::Option(ft))
            | (TypeDefKind::List(wt), TypeDef::List(ft))
            | (TypeDefKind::FixedLengthList(wt, _), TypeDef::FixedList { elem: ft, .. }) => {
                self.ty(wt, *ft, d)
            }
            (TypeDefKind::Map(wk, wv), TypeDef::Map { entry }) => {
                if let Some(TypeDef::Tuple(kv)) = self.info.types.get(*entry as usize) {
                    if let [k, v] = kv[..] {
                        self.ty(wk, k, d);
                        self.ty(wv, v, d);
                    }
                }
            }
            (TypeDefKind::Result(r), TypeDef::Result { ok, err }) => {
                if let (Some(wt), Some(ft)) = (&r.ok, ok) {
                    self.ty(wt, *ft, d);
                }
                if let (Some(wt), Some(ft)) = (&r.err, err) {
                    self.ty(wt, *ft, d);
                }
            }
            (
                TypeDefKind::Handle(Handle::Own(res) | Handle::Borrow(res)),
                TypeDef::Own(r) | TypeDef::Borrow(r),
            ) => self.resource(*res, *r),
            _ => {}
        }
    }

    fn resource(&mut self, mut id: wit_parser::TypeId, r: u32) {
        let mut hops = 0;
        while let Some(TypeDefKind::Type(Type::Id(next))) =
            self.resolve.types.get(id).map(|d| &d.kind)
        {
            id = *next;
            hops += 1;
            if hops > 64 {
                return;
            }
        }
        let Some(def) = self.resolve.types.get(id) else {
            return;
        };
        if let (Some(name), Some(owner)) = (&def.name, self.owner(def.owner)) {
            if let Some(slot @ None) = self.names.resources.get_mut(r as usize) {
                *slot = Some(WitName {
                    owner,
                    name: name.clone(),
                });
            }
        }
    }
}

/// A WIT kebab-case name in snake_case (`char-class` → `char_class`); `None` when `name` is not
/// a WIT identifier.
pub fn snake(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.split('-').all(|w| {
            !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric()) && {
                let first = w.as_bytes()[0];
                first.is_ascii_alphabetic()
            }
        });
    ok.then(|| name.to_ascii_lowercase().replace('-', "_"))
}

/// A function name as an identifier: `upper`, `[constructor]builder` → `constructor_builder`,
/// `[method]builder.append` → `method_builder_append`, `[static]builder.new` →
/// `static_builder_new`; anything else escaped.
pub fn func_ident(name: &str) -> String {
    for (tag, word) in [
        ("[constructor]", "constructor"),
        ("[method]", "method"),
        ("[static]", "static"),
    ] {
        if let Some(rest) = name.strip_prefix(tag) {
            let parts: Option<Vec<String>> = rest.split('.').map(snake).collect();
            if let Some(parts) = parts.filter(|p| !p.is_empty() && p.len() <= 2) {
                return format!("{word}_{}", parts.join("_"));
            }
        }
    }
    snake(name).unwrap_or_else(|| mangle(name))
}

/// An interface key split into its parts: `ns:pkg/iface@version`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyParts<'a> {
    namespace: &'a str,
    package: &'a str,
    interface: &'a str,
    version: Option<&'a str>,
}

fn key_parts(key: &str) -> Option<KeyParts<'_>> {
    let (path, version) = match key.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (key, None),
    };
    let (namespace, rest) = path.split_once(':')?;
    let (package, interface) = rest.split_once('/')?;
    Some(KeyParts {
        namespace,
        package,
        interface,
        version,
    })
}

/// The interface keys of one component, knowing which packages appear in several versions.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    multi_version: BTreeSet<(String, String)>,
}

impl Keys {
    /// The keys of `info`'s imports and exports and of `names`' owners.
    pub fn new(info: &ComponentInfo, names: &WitNames) -> Keys {
        let all = info
            .imports
            .iter()
            .map(|i| split(&i.name).0)
            .chain(info.exports.iter().map(|e| split(&e.name).0))
            .chain(
                names
                    .types
                    .iter()
                    .chain(&names.resources)
                    .flatten()
                    .map(|n| n.owner.as_str()),
            );
        let mut versions: HashMap<(String, String), BTreeSet<Option<String>>> = HashMap::new();
        for key in all {
            if let Some(p) = key_parts(key) {
                versions
                    .entry((p.namespace.into(), p.package.into()))
                    .or_default()
                    .insert(p.version.map(String::from));
            }
        }
        Keys {
            multi_version: versions
                .into_iter()
                .filter(|(_, v)| v.len() > 1)
                .map(|(k, _)| k)
                .collect(),
        }
    }

    /// An interface key as an identifier: `example:text/transform@0.1.0` → `example_text_transform`
    /// (with `_0_1_0` after the package when two versions of it are used), a plain interface
    /// name in snake_case, the empty key (the world) empty.
    pub fn ident(&self, key: &str) -> String {
        if key.is_empty() {
            return String::new();
        }
        if let Some(p) = key_parts(key) {
            let parts = [p.namespace, p.package, p.interface].map(snake);
            if let [Some(ns), Some(pkg), Some(iface)] = parts {
                let multi = self
                    .multi_version
                    .contains(&(p.namespace.to_string(), p.package.to_string()));
                return match p.version.filter(|_| multi) {
                    Some(v) => {
                        let v: String = v
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                            .collect();
                        format!("{ns}_{pkg}_{v}_{iface}")
                    }
                    None => format!("{ns}_{pkg}_{iface}"),
                };
            }
        }
        snake(key).unwrap_or_else(|| mangle(key))
    }

    /// An interface key as a Rust module path: `example:text/transform` → `example::text::transform`
    /// (`v0_2_0` after the package when two versions are used); empty for the world.
    pub fn path(&self, key: &str) -> Vec<String> {
        if key.is_empty() {
            return Vec::new();
        }
        if let Some(p) = key_parts(key) {
            let parts = [p.namespace, p.package, p.interface].map(snake);
            if let [Some(ns), Some(pkg), Some(iface)] = parts {
                let multi = self
                    .multi_version
                    .contains(&(p.namespace.to_string(), p.package.to_string()));
                let mut path = vec![ns, pkg];
                if let Some(v) = p.version.filter(|_| multi) {
                    path.push(format!(
                        "v{}",
                        v.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                    ));
                }
                path.push(iface);
                return path;
            }
        }
        vec![snake(key).unwrap_or_else(|| format!("m_{}", mangle(key)))]
    }

    /// `owner` and `item` joined: `example_text_transform_upper`, or `upper` for the world.
    pub fn item(&self, owner: &str, item: &str) -> String {
        let o = self.ident(owner);
        if o.is_empty() {
            item.to_string()
        } else {
            format!("{o}_{item}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names_become_snake_case_and_others_are_refused() {
        assert_eq!(snake("char-class").as_deref(), Some("char_class"));
        assert_eq!(snake("x-HTTP2").as_deref(), Some("x_http2"));
        assert_eq!(snake("a_b"), None);
        assert_eq!(snake("1a"), None);
        assert_eq!(snake(""), None);
    }

    #[test]
    fn resource_functions_are_spelled_as_wit_bindgen_spells_them() {
        assert_eq!(func_ident("[constructor]builder"), "constructor_builder");
        assert_eq!(
            func_ident("[method]builder.append"),
            "method_builder_append"
        );
        assert_eq!(
            func_ident("[static]builder.from-parts"),
            "static_builder_from_parts"
        );
        assert_eq!(func_ident("get-stdout"), "get_stdout");
        assert_eq!(func_ident("a b"), mangle("a b"));
    }

    #[test]
    fn package_versions_appear_only_when_two_versions_are_used() {
        let keys = Keys::default();
        assert_eq!(keys.ident("wasi:cli/stdout@0.2.0"), "wasi_cli_stdout");
        assert_eq!(keys.ident("my-iface"), "my_iface");
        assert_eq!(keys.ident(""), "");
        let mut two = Keys::default();
        two.multi_version.insert(("wasi".into(), "cli".into()));
        assert_eq!(two.ident("wasi:cli/stdout@0.2.0"), "wasi_cli_0_2_0_stdout");
        assert_eq!(two.item("", "run"), "run");
        assert_eq!(two.item("my-iface", "run"), "my_iface_run");
    }
}
