//! Rust bindings of a component's world for `weld-host` (`weld compile --emit rust`, included
//! with `weld_host::bindgen!`): what Wasmtime's `bindgen!` gives its users, for weld's plugins.
//!
//! In: the flattened [`ComponentInfo`], its [`WitNames`] and the component's name. Out: Rust
//! source with
//! - every record, variant, enum and flags type as a struct or enum, and every resource as a
//!   handle type, each in the module of its interface (`example::text::transform::Span`), under
//!   its WIT name in CamelCase; each implements `weld_host::types::WitType`, whose `wit()`
//!   is the type's text in the plugin's world, so the check at instantiation is exact;
//! - a struct for the world (`Text` for `--name text`) whose `instantiate` checks every export's
//!   signature and registers the imports; an exported interface is reached through an accessor
//!   named like its C identifier (`text.example_text_transform().upper(..)`), whose methods
//!   take and return those Rust types; resource functions are `builder_new`, `builder_append`,
//!   `builder_from_parts`;
//! - a trait for the imports outside `wasi:` (`TextImports`, one method per function), which the
//!   host implements; WASI imports, if any, come from the `HostImports` given to
//!   `instantiate_with`.
//!
//! Types the world does not name (components without WIT type exports) are named after where
//! they are first used, as in the C header. A handle is the representation the defining
//! instance gave it; handles live until the instance is dropped.

use crate::component::wit_names::{snake, split, Keys, WitNames};
use std::collections::HashSet;
use std::fmt::Write;
use weld_contract::component::abi::{Types, MAX_FLAT_PARAMS};
use weld_contract::component::world::type_text;
use weld_contract::component::{ComponentInfo, FuncTy, TypeDef};
use weld_contract::symbols::mangle;

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// A snake_case name as a Rust identifier (`type` → `r#type`; `self` and friends, which cannot
/// be raw, get `_`).
fn ident(s: &str) -> String {
    match s {
        "self" | "super" | "crate" | "Self" | "_" => format!("{s}_"),
        s if RUST_KEYWORDS.contains(&s) => format!("r#{s}"),
        s if s.starts_with(|c: char| c.is_ascii_digit()) => format!("_{s}"),
        s => s.to_string(),
    }
}

/// A WIT name (or a snake_case one) in CamelCase: `char-class` → `CharClass`.
fn camel(s: &str) -> String {
    let base = snake(s).unwrap_or_else(|| mangle(s));
    let mut out = String::new();
    for word in base.split('_').filter(|w| !w.is_empty()) {
        let mut cs = word.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// A function's Rust method name: `upper`, `builder_new`, `builder_append`, `builder_from_parts`.
fn method_name(func: &str) -> String {
    let part = |s: &str| snake(s).unwrap_or_else(|| mangle(s));
    if let Some(r) = func.strip_prefix("[constructor]") {
        return format!("{}_new", part(r));
    }
    for tag in ["[method]", "[static]"] {
        if let Some((r, f)) = func.strip_prefix(tag).and_then(|x| x.split_once('.')) {
            return format!("{}_{}", part(r), part(f));
        }
    }
    part(func)
}

/// Where a generated item lives.
#[derive(Clone, Debug)]
struct Item {
    path: Vec<String>,
    name: String,
}

struct Gen<'a> {
    info: &'a ComponentInfo,
    names: &'a WitNames,
    keys: Keys,
    items: Vec<Option<Item>>,
    resources: Vec<Option<Item>>,
    used: HashSet<(Vec<String>, String)>,
    order: Vec<u32>,
    resource_order: Vec<u32>,
}

impl<'a> Gen<'a> {
    fn new(info: &'a ComponentInfo, names: &'a WitNames) -> Gen<'a> {
        let mut g = Gen {
            info,
            names,
            keys: Keys::new(info, names),
            items: vec![None; info.types.len()],
            resources: vec![None; info.resources.len()],
            used: HashSet::new(),
            order: Vec::new(),
            resource_order: Vec::new(),
        };
        let funcs: Vec<(String, u32)> = info
            .exports
            .iter()
            .map(|e| (e.name.clone(), e.func.ty))
            .chain(info.imports.iter().map(|i| (i.name.clone(), i.ty)))
            .collect();
        for (name, ty) in funcs {
            let Some(ft) = info.func_types.get(ty as usize) else {
                continue;
            };
            let (key, func) = split(&name);
            let at = camel(&format!("{}_{}", g.keys.ident(key), method_name(func)));
            for (p, t) in &ft.params {
                g.visit(*t, &format!("{at}{}", camel(p)), 0);
            }
            if let Some(r) = ft.result {
                g.visit(r, &format!("{at}Result"), 0);
            }
        }
        g
    }

    fn def(&self, t: u32) -> Option<&'a TypeDef> {
        self.info.types.get(t as usize)
    }

    /// Whether values of `t` cross in typed calls (`weld_host::Instance::typed`): everything
    /// but resources, flags of more than 32 and tuples of more than six.
    fn typed(&self, t: u32, depth: u32) -> bool {
        let d = depth + 1;
        let ok = |x: &u32| self.typed(*x, d);
        depth <= 64
            && match self.def(t) {
                None | Some(TypeDef::Own(_) | TypeDef::Borrow(_)) => false,
                Some(TypeDef::Map { .. }) => Types::new(&self.info.types)
                    .map_key_value(t)
                    .is_some_and(|(k, v)| ok(&k) && ok(&v)),
                Some(TypeDef::Flags(names)) => names.len() <= 32,
                Some(TypeDef::Tuple(ts)) => ts.len() <= 6 && ts.iter().all(ok),
                Some(TypeDef::List(e) | TypeDef::Option(e)) => ok(e),
                Some(TypeDef::FixedList { elem, .. }) => ok(elem),
                Some(TypeDef::Record(fs)) => fs.iter().all(|(_, f)| ok(f)),
                Some(TypeDef::Variant(cs)) => cs.iter().filter_map(|(_, p)| p.as_ref()).all(ok),
                Some(TypeDef::Result { ok: o, err }) => o.iter().chain(err).all(ok),
                Some(_) => true,
            }
    }

    /// Whether a function of type `ft` is called through a typed function: all its types cross
    /// typed, at most six parameters, flat in at most `MAX_FLAT_PARAMS` values.
    fn typed_call(&self, ft: &FuncTy) -> bool {
        let params: Vec<u32> = ft.params.iter().map(|(_, t)| *t).collect();
        params.len() <= 6
            && params.iter().chain(&ft.result).all(|t| self.typed(*t, 0))
            && Types::new(&self.info.types).flatten_all(&params).len() <= MAX_FLAT_PARAMS
    }

    /// A free name in module `path`.
    fn claim(&mut self, path: Vec<String>, want: String) -> Item {
        let mut name = want.clone();
        let mut n = 2;
        while self.used.contains(&(path.clone(), name.clone())) {
            name = format!("{want}{n}");
            n += 1;
        }
        self.used.insert((path.clone(), name.clone()));
        Item { path, name }
    }

    /// Give `t` and the named types inside it their items; `hint` names an unnamed one.
    fn visit(&mut self, t: u32, hint: &str, depth: u32) {
        let Some(def) = self.def(t) else {
            return;
        };
        if depth > 64 || self.items.get(t as usize).is_some_and(|i| i.is_some()) {
            return;
        }
        let d = depth + 1;
        match def {
            TypeDef::List(e)
            | TypeDef::FixedList { elem: e, .. }
            | TypeDef::Map { entry: e }
            | TypeDef::Option(e) => self.visit(*e, &format!("{hint}Elem"), d),
            TypeDef::Result { ok, err } => {
                for (x, s) in [(ok, "Ok"), (err, "Err")] {
                    if let Some(x) = x {
                        self.visit(*x, &format!("{hint}{s}"), d);
                    }
                }
            }
            TypeDef::Tuple(ts) => {
                for (i, e) in ts.iter().enumerate() {
                    self.visit(*e, &format!("{hint}{i}"), d);
                }
            }
            TypeDef::Own(r) | TypeDef::Borrow(r) => self.resource(*r),
            _ => {}
        }
        if !matches!(
            def,
            TypeDef::Record(_) | TypeDef::Variant(_) | TypeDef::Enum(_) | TypeDef::Flags(_)
        ) {
            return;
        }
        let item = match self.names.types.get(t as usize).and_then(|n| n.as_ref()) {
            Some(n) => {
                let path = self.keys.path(&n.owner);
                self.claim(path, camel(&n.name))
            }
            None => self.claim(Vec::new(), hint.to_string()),
        };
        if let Some(slot) = self.items.get_mut(t as usize) {
            *slot = Some(item);
        }
        self.order.push(t);
        match def {
            TypeDef::Record(fs) => {
                for (n, f) in fs {
                    self.visit(*f, &format!("{hint}{}", camel(n)), d);
                }
            }
            TypeDef::Variant(cs) => {
                for (n, p) in cs {
                    if let Some(p) = p {
                        self.visit(*p, &format!("{hint}{}", camel(n)), d);
                    }
                }
            }
            _ => {}
        }
    }

    fn resource(&mut self, r: u32) {
        if self.resources.get(r as usize).is_none_or(|i| i.is_some()) {
            return;
        }
        let item = match self
            .names
            .resources
            .get(r as usize)
            .and_then(|n| n.as_ref())
        {
            Some(n) => {
                let path = self.keys.path(&n.owner);
                self.claim(path, camel(&n.name))
            }
            None => self.claim(Vec::new(), format!("Resource{r}")),
        };
        self.resources[r as usize] = Some(item);
        self.resource_order.push(r);
    }

    /// `item` as seen from module `here` (a path from the bindings' root).
    fn item_ref(item: &Item, here: &[String]) -> String {
        let common = here
            .iter()
            .zip(&item.path)
            .take_while(|(a, b)| a == b)
            .count();
        let mut s = "super::".repeat(here.len() - common);
        for p in &item.path[common..] {
            s.push_str(&ident(p));
            s.push_str("::");
        }
        s.push_str(&item.name);
        s
    }

    /// The Rust type of `t`, seen from module `here`.
    fn ty(&self, t: u32, here: &[String]) -> String {
        let r = |x: &u32| self.ty(*x, here);
        let Some(def) = self.def(t) else {
            return "()".into();
        };
        match def {
            TypeDef::Bool => "bool".into(),
            TypeDef::S8 => "i8".into(),
            TypeDef::U8 => "u8".into(),
            TypeDef::S16 => "i16".into(),
            TypeDef::U16 => "u16".into(),
            TypeDef::S32 => "i32".into(),
            TypeDef::U32 => "u32".into(),
            TypeDef::S64 => "i64".into(),
            TypeDef::U64 => "u64".into(),
            TypeDef::F32 => "f32".into(),
            TypeDef::F64 => "f64".into(),
            TypeDef::Char => "char".into(),
            TypeDef::String => "String".into(),
            TypeDef::List(e) => format!("Vec<{}>", r(e)),
            TypeDef::FixedList { elem, len } => format!("[{}; {len}]", r(elem)),
            TypeDef::Map { .. } => match Types::new(&self.info.types).map_key_value(t) {
                Some((k, v)) => format!("std::collections::BTreeMap<{}, {}>", r(&k), r(&v)),
                None => "()".into(),
            },
            TypeDef::Option(e) => format!("Option<{}>", r(e)),
            TypeDef::Result { ok, err } => format!(
                "Result<{}, {}>",
                ok.as_ref().map_or("()".into(), r),
                err.as_ref().map_or("()".into(), r)
            ),
            TypeDef::Tuple(ts) => {
                let parts: Vec<String> = ts.iter().map(r).collect();
                match parts.len() {
                    1 => format!("({},)", parts[0]),
                    _ => format!("({})", parts.join(", ")),
                }
            }
            TypeDef::Own(x) | TypeDef::Borrow(x) => self
                .resources
                .get(*x as usize)
                .and_then(|i| i.as_ref())
                .map_or("()".into(), |i| Self::item_ref(i, here)),
            _ => self
                .items
                .get(t as usize)
                .and_then(|i| i.as_ref())
                .map_or("()".into(), |i| Self::item_ref(i, here)),
        }
    }
}

mod items;

/// The Rust bindings of a component (see the module docs); `name` is its `--name`.
pub fn write_rust_bindings(info: &ComponentInfo, names: &WitNames, name: &str) -> String {
    items::bindings(Gen::new(info, names), name)
}

/// The Rust path the bindings give each arena type that becomes an item (records, variants,
/// enums, flags) and each resource, from the bindings' root; for `weld inspect`.
pub fn type_paths(
    info: &ComponentInfo,
    names: &WitNames,
) -> (Vec<Option<String>>, Vec<Option<String>>) {
    let g = Gen::new(info, names);
    let show = |i: &Option<Item>| i.as_ref().map(|i| Gen::item_ref(i, &[]));
    (
        g.items.iter().map(show).collect(),
        g.resources.iter().map(show).collect(),
    )
}

/// The parameter list and argument conversions of an export's method, seen from `here`: a
/// `borrow<R>` parameter is taken by reference.
fn params(g: &Gen<'_>, ft: &FuncTy, here: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut decls, mut vals) = (Vec::new(), Vec::new());
    for (n, t) in &ft.params {
        let p = ident(&snake(n).unwrap_or_else(|| mangle(n)));
        let ty = g.ty(*t, here);
        match g.def(*t) {
            Some(TypeDef::Borrow(r)) => {
                decls.push(format!("{p}: &{ty}"));
                vals.push(format!(
                    "weld_host::Val::Borrow(weld_host::ResourceHandle {{ resource: {r}, rep: {p}.rep() }})"
                ));
            }
            _ => {
                decls.push(format!("{p}: {ty}"));
                vals.push(format!("weld_host::types::WitType::into_val({p})"));
            }
        }
    }
    (decls, vals)
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// `wit()` of a generated type: its text in the plugin's world.
fn wit_fn(info: &ComponentInfo, t: u32, out: &mut String) {
    let _ = writeln!(
        out,
        "    fn wit() -> String {{\n        {}.into()\n    }}",
        lit(&type_text(info, t))
    );
}
