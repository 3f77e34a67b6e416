//! The C header of a component (`weld compile app.wasm --emit header`): C types for every
//! interface type its exports and imports use, one `static inline` function per export, and for
//! every host import a typed function-pointer typedef plus a helper that makes its
//! `weld_component_import` entry.
//!
//! In: the flattened [`ComponentInfo`], the [`WitNames`] its WIT world gives its types, and the
//! symbol prefix. Out: C source that needs only `weld.h`, the component's object and
//! `libweld_runtime.a`. The object is unchanged by the header: every entry point is a `static
//! inline` wrapper around `weld_component_call(inst, export_index, args, ret)` (arguments and
//! result in the C layout of [`weld_contract::component::clayout`], which the compiled host
//! entries and host calls of the adapter stage read and write directly, and the runtime's
//! generic path too),
//! and `<prefix>__instantiate` wraps `weld_component_instantiate(&<prefix>__component, ...)`.
//!
//! Names follow wit-bindgen's C generator, after the prefix (identifiers from
//! [`crate::component::wit_names`], kebab-case to snake_case):
//! - export `example:text/transform@0.1.0#upper`: `<prefix>_example_text_transform_upper`;
//!   `[constructor]builder`, `[method]builder.append` and `[static]builder.new` become
//!   `..._constructor_builder`, `..._method_builder_append`, `..._static_builder_new`; a
//!   world-level function `run`: `<prefix>_run`;
//! - import `wasi:cli/stdout@0.2.0#get-stdout`: the host implements
//!   `<prefix>_wasi_cli_stdout_get_stdout_fn` and registers it with
//!   `<prefix>_import_wasi_cli_stdout_get_stdout(fn, ctx)`;
//! - a named type (`char-class` of that interface): `<prefix>_example_text_transform_char_class_t`,
//!   its cases or flags `<PREFIX>_EXAMPLE_TEXT_TRANSFORM_CHAR_CLASS_LETTER`; resource handles
//!   `..._own_builder_t` and `..._borrow_builder_t`;
//! - anonymous types by structure: `<prefix>_string_t`, `<prefix>_list_<elem>_t`,
//!   `<prefix>_option_<T>_t`, `<prefix>_result_<T>_<E>_t`, `<prefix>_tuple<N>_<T...>_t`, with a
//!   named element by its WIT name (`<prefix>_list_char_class_t`);
//! - a record, variant, enum or flags type the world does not name (a component without WIT
//!   type exports) after the place it is first used: `<prefix>_<function>_<param>_t`,
//!   `<prefix>_<function>_result_t`, nested ones with `_<field>`, `_elem`, `_some`, `_ok`,
//!   `_err` or `_<case>` appended.
//!
//! The package version appears (`wasi_cli_0_2_0_stdout`) only when two versions of a package
//! are used; a name that is not a WIT identifier is escaped with [`symbols::mangle`]. One rule
//! keeps everything distinct: names are claimed in the order above (exports, then types as first
//! used, then imports), and a name already claimed gets `_2`, `_3`, ... appended.

use super::header::quoted;
use crate::component::wit_names::{func_ident, snake, split, Keys, WitNames};
use std::collections::HashSet;
use std::fmt::Write;
use weld_contract::component::abi::Types;
use weld_contract::component::clayout::flags_layout;
use weld_contract::component::{ComponentInfo, FuncTy, TypeDef};
use weld_contract::symbols::{self, mangle};

const C_KEYWORDS: &[&str] = &[
    "auto",
    "bool",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "true",
    "false",
    "alignas",
    "alignof",
    // C++ keywords, so that the header also compiles as C++.
    "and",
    "asm",
    "catch",
    "class",
    "delete",
    "explicit",
    "export",
    "friend",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "operator",
    "or",
    "private",
    "protected",
    "public",
    "template",
    "this",
    "throw",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "xor",
];

/// A WIT name as a C member or parameter name: snake_case (escaped if it is not a WIT name), and
/// `_` appended to C keywords (neither form ever ends in `_`, so this stays injective).
fn member(name: &str) -> String {
    let m = snake(name).unwrap_or_else(|| mangle(name));
    if m.is_empty() || C_KEYWORDS.contains(&m.as_str()) {
        format!("{m}_")
    } else {
        m
    }
}

/// A string as a C string literal (octal escapes, which cannot swallow following digits).
fn c_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            b'?' => out.push_str("\\077"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

fn primitive(def: &TypeDef) -> Option<(&'static str, &'static str)> {
    Some(match def {
        TypeDef::Bool => ("bool", "bool"),
        TypeDef::S8 => ("int8_t", "s8"),
        TypeDef::U8 => ("uint8_t", "u8"),
        TypeDef::S16 => ("int16_t", "s16"),
        TypeDef::U16 => ("uint16_t", "u16"),
        TypeDef::S32 => ("int32_t", "s32"),
        TypeDef::U32 => ("uint32_t", "u32"),
        TypeDef::S64 => ("int64_t", "s64"),
        TypeDef::U64 => ("uint64_t", "u64"),
        TypeDef::F32 => ("float", "f32"),
        TypeDef::F64 => ("double", "f64"),
        TypeDef::Char => ("uint32_t", "char"),
        _ => return None,
    })
}

/// The header generator: names of every type, in definition order.
pub(crate) struct Gen<'a> {
    info: &'a ComponentInfo,
    names: &'a WitNames,
    keys: Keys,
    prefix: String,
    /// The C function of each export, as claimed.
    export_fns: Vec<String>,
    used: HashSet<String>,
    /// Base name (without `_t`) per type index, once named.
    base: Vec<Option<String>>,
    /// Named types, children before parents.
    order: Vec<u32>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(info: &'a ComponentInfo, names: &'a WitNames, prefix: &str) -> Gen<'a> {
        let mut g = Gen {
            info,
            names,
            keys: Keys::new(info, names),
            prefix: prefix.to_string(),
            export_fns: Vec::new(),
            used: HashSet::new(),
            base: vec![None; info.types.len()],
            order: Vec::new(),
        };
        for fixed in [
            symbols::instantiate(prefix),
            symbols::free(prefix),
            symbols::component_descriptor(prefix),
        ] {
            g.used.insert(fixed);
        }
        for e in &info.exports {
            let name = g.claim(format!("{prefix}_{}", g.func_item(&e.name)));
            g.export_fns.push(name);
        }
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
            let f = g.func_item(&name);
            for (p, t) in &ft.params {
                g.visit(*t, &format!("{f}_{}", member(p)), 0);
            }
            if let Some(r) = ft.result {
                g.visit(r, &format!("{f}_result"), 0);
            }
        }
        g
    }

    /// An import or export name as an identifier (`example_text_transform_upper`).
    fn func_item(&self, name: &str) -> String {
        let (key, func) = split(name);
        self.keys.item(key, &func_ident(func))
    }

    /// The identifier of a type the WIT world names (`example_text_transform_char_class`).
    fn wit_item(&self, t: u32) -> Option<String> {
        let n = self.names.types.get(t as usize)?.as_ref()?;
        Some(self.keys.item(&n.owner, &snake(&n.name)?))
    }

    /// Reserve `want` (or `want_2`, `want_3`, ... if taken).
    fn claim(&mut self, want: String) -> String {
        let mut name = want.clone();
        let mut n = 2;
        while self.used.contains(&name) {
            name = format!("{want}_{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    /// An async export's calls the host does not wait for: `<fn>_start` (typed arguments, the
    /// handle out), then `<fn>_poll`, `<fn>_wait` or `<fn>_cancel` (typed result).
    fn async_wrappers(&mut self, h: &mut String, i: usize, ft: &FuncTy) {
        let base = self.export_fns.get(i).cloned().unwrap_or_default();
        let (mut decls, args) = self.params(ft);
        decls.insert(0, "weld_component *weld_inst".into());
        decls.push("weld_async_call **weld_call_out".into());
        let start = if args.is_empty() {
            format!("  return weld_component_call_start(weld_inst, {i}, NULL, weld_call_out);\n")
        } else {
            format!(
                "  const void *weld_args[{}] = {{{}}};\n  return weld_component_call_start(weld_inst, {i}, weld_args, weld_call_out);\n",
                args.len(),
                args.join(", ")
            )
        };
        let name = self.claim(format!("{base}_start"));
        let _ = write!(
            h,
            "/* Start {base} without waiting for it (an async export); then {base}_poll,\n * {base}_wait or {base}_cancel with the handle (weld.h: weld_component_call_poll). */\nstatic inline uint32_t {name}({}) {{\n{start}}}\n",
            decls.join(", ")
        );
        let ret = ft.result.map(|r| format!("{} *weld_ret", self.c_type(r)));
        let (ret_decl, ret_arg) = match &ret {
            Some(d) => (format!(", {d}"), "weld_ret"),
            None => (String::new(), "NULL"),
        };
        for step in ["poll", "wait", "cancel"] {
            let name = self.claim(format!("{base}_{step}"));
            let _ = write!(
                h,
                "static inline uint32_t {name}(weld_component *weld_inst, weld_async_call *weld_handle{ret_decl}) {{\n  return weld_component_call_{step}(weld_inst, weld_handle, {ret_arg});\n}}\n"
            );
        }
        h.push('\n');
    }

    /// Reserve a type base name together with its `_t`, `_free` and `_entry_t` forms.
    fn claim_base(&mut self, want: String) -> String {
        let mut name = want.clone();
        let mut n = 2;
        let taken = |u: &HashSet<String>, b: &str| {
            [
                b.to_string(),
                format!("{b}_t"),
                format!("{b}_free"),
                format!("{b}_entry_t"),
            ]
            .iter()
            .any(|x| u.contains(x))
        };
        while taken(&self.used, &name) {
            name = format!("{want}_{n}");
            n += 1;
        }
        for x in [
            name.clone(),
            format!("{name}_t"),
            format!("{name}_free"),
            format!("{name}_entry_t"),
        ] {
            self.used.insert(x);
        }
        name
    }

    fn types(&self) -> Types<'a> {
        Types::new(&self.info.types)
    }

    fn def(&self, t: u32) -> &'a TypeDef {
        static FALLBACK: TypeDef = TypeDef::Bool;
        self.info.types.get(t as usize).unwrap_or(&FALLBACK)
    }

    /// Short name of a type inside a structural name (`u32`, `string`, `person`...).
    fn short(&self, t: u32) -> String {
        if let Some((_, s)) = primitive(self.def(t)) {
            return s.to_string();
        }
        if let Some(n) = self.names.types.get(t as usize).and_then(|n| n.as_ref()) {
            if let Some(s) = snake(&n.name) {
                return s;
            }
        }
        let base = self
            .base
            .get(t as usize)
            .cloned()
            .flatten()
            .unwrap_or_default();
        let p = format!("{}_", self.prefix);
        base.strip_prefix(&p).unwrap_or(&base).to_string()
    }

    /// Name `t` (and its children first), `path` naming where it is used.
    fn visit(&mut self, t: u32, path: &str, depth: u32) {
        let def = self.def(t);
        if depth > 64 || primitive(def).is_some() || (t as usize) >= self.base.len() {
            return;
        }
        if self.base[t as usize].is_some() {
            return;
        }
        match def {
            TypeDef::List(e) | TypeDef::FixedList { elem: e, .. } => {
                self.visit(*e, &format!("{path}_elem"), depth + 1)
            }
            TypeDef::Map { .. } => {
                if let Some((k, v)) = self.types().map_key_value(t) {
                    self.visit(k, &format!("{path}_key"), depth + 1);
                    self.visit(v, &format!("{path}_value"), depth + 1);
                }
            }
            TypeDef::Option(e) => self.visit(*e, &format!("{path}_some"), depth + 1),
            TypeDef::Result { ok, err } => {
                if let Some(ok) = ok {
                    self.visit(*ok, &format!("{path}_ok"), depth + 1);
                }
                if let Some(err) = err {
                    self.visit(*err, &format!("{path}_err"), depth + 1);
                }
            }
            TypeDef::Tuple(ts) => {
                for (i, e) in ts.iter().enumerate() {
                    self.visit(*e, &format!("{path}_{i}"), depth + 1);
                }
            }
            TypeDef::Record(fields) => {
                for (n, e) in fields {
                    self.visit(*e, &format!("{path}_{}", member(n)), depth + 1);
                }
            }
            TypeDef::Variant(cases) => {
                for (n, e) in cases {
                    if let Some(e) = e {
                        self.visit(*e, &format!("{path}_{}", member(n)), depth + 1);
                    }
                }
            }
            _ => {}
        }
        let p = &self.prefix;
        let want = match def {
            _ if self.wit_item(t).is_some() => {
                format!("{p}_{}", self.wit_item(t).unwrap_or_default())
            }
            TypeDef::String => format!("{p}_string"),
            TypeDef::List(e) => format!("{p}_list_{}", self.short(*e)),
            TypeDef::FixedList { elem, len } => format!("{p}_list{len}_{}", self.short(*elem)),
            TypeDef::Map { .. } => match self.types().map_key_value(t) {
                Some((k, v)) => format!("{p}_map_{}_{}", self.short(k), self.short(v)),
                None => format!("{p}_{path}"),
            },
            TypeDef::Option(e) => format!("{p}_option_{}", self.short(*e)),
            TypeDef::Result { ok, err } => {
                let s = |x: &Option<u32>| x.map_or("void".to_string(), |x| self.short(x));
                format!("{p}_result_{}_{}", s(ok), s(err))
            }
            TypeDef::Tuple(ts) => {
                let parts: Vec<String> = ts.iter().map(|e| self.short(*e)).collect();
                format!("{p}_tuple{}_{}", ts.len(), parts.join("_"))
            }
            TypeDef::Own(r) | TypeDef::Borrow(r) => {
                let kind = if matches!(def, TypeDef::Own(_)) {
                    "own"
                } else {
                    "borrow"
                };
                let wit = self
                    .names
                    .resources
                    .get(*r as usize)
                    .and_then(|n| n.as_ref());
                match wit.and_then(|n| Some((&n.owner, snake(&n.name)?))) {
                    Some((owner, name)) => {
                        format!("{p}_{}", self.keys.item(owner, &format!("{kind}_{name}")))
                    }
                    None => {
                        let name = self
                            .info
                            .resources
                            .get(*r as usize)
                            .map_or("resource", |r| &r.name);
                        format!("{p}_{kind}_{}", mangle(name))
                    }
                }
            }
            _ => format!("{p}_{path}"),
        };
        let base = self.claim_base(want);
        self.base[t as usize] = Some(base);
        self.order.push(t);
    }

    /// The C type of `t`.
    pub(crate) fn c_type(&self, t: u32) -> String {
        match primitive(self.def(t)) {
            Some((c, _)) => c.to_string(),
            None => match self.base.get(t as usize).cloned().flatten() {
                Some(b) => format!("{b}_t"),
                None => "uint8_t".to_string(),
            },
        }
    }

    /// Whether `t` is passed by value (a C scalar) rather than by const pointer.
    fn by_value(&self, t: u32) -> bool {
        match self.def(t) {
            TypeDef::Enum(_) | TypeDef::Own(_) | TypeDef::Borrow(_) => true,
            TypeDef::Flags(names) => names.len() <= 32,
            d => primitive(d).is_some(),
        }
    }

    /// Whether a value of `t` owns heap memory (and so gets a `_free` function).
    fn owns(&self, t: u32, depth: u32) -> bool {
        if depth > 64 {
            return false;
        }
        let d = depth + 1;
        match self.def(t) {
            TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. } => true,
            TypeDef::FixedList { elem, .. } => self.owns(*elem, d),
            TypeDef::Record(fs) => fs.iter().any(|(_, f)| self.owns(*f, d)),
            TypeDef::Tuple(ts) => ts.iter().any(|f| self.owns(*f, d)),
            TypeDef::Variant(cs) => cs.iter().any(|(_, p)| p.is_some_and(|p| self.owns(p, d))),
            TypeDef::Option(p) => self.owns(*p, d),
            TypeDef::Result { ok, err } => ok.iter().chain(err).any(|p| self.owns(*p, d)),
            _ => false,
        }
    }

    fn base_of(&self, t: u32) -> String {
        self.base
            .get(t as usize)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }

    /// The typedef (and constants) of named type `t`.
    fn typedef(&mut self, t: u32, h: &mut String) {
        let b = self.base_of(t);
        let def = self.def(t);
        let ct = |g: &Self, x: u32| g.c_type(x);
        match def {
            TypeDef::String => {
                let _ = writeln!(
                    h,
                    "typedef struct {b}_t {{\n  uint8_t *ptr;\n  size_t len;\n}} {b}_t;"
                );
            }
            TypeDef::List(e) => {
                let _ = writeln!(
                    h,
                    "typedef struct {b}_t {{\n  {} *ptr;\n  size_t len;\n}} {b}_t;",
                    ct(self, *e)
                );
            }
            TypeDef::FixedList { elem, len } => {
                let _ = writeln!(
                    h,
                    "typedef struct {b}_t {{\n  {} elems[{len}];\n}} {b}_t;",
                    ct(self, *elem)
                );
            }
            // Laid out as the entry tuple the Canonical ABI makes of it, with named members.
            TypeDef::Map { .. } => {
                let (k, v) = self.types().map_key_value(t).unwrap_or_default();
                let _ = writeln!(
                    h,
                    "typedef struct {b}_entry_t {{\n  {} key;\n  {} value;\n}} {b}_entry_t;\n\
                     typedef struct {b}_t {{\n  {b}_entry_t *ptr;\n  size_t len;\n}} {b}_t;",
                    ct(self, k),
                    ct(self, v)
                );
            }
            TypeDef::Record(fields) => {
                let _ = writeln!(h, "typedef struct {b}_t {{");
                if fields.is_empty() {
                    h.push_str("  uint8_t unused_;\n");
                }
                for (n, f) in fields {
                    let _ = writeln!(h, "  {} {};", ct(self, *f), member(n));
                }
                let _ = writeln!(h, "}} {b}_t;");
            }
            TypeDef::Tuple(ts) => {
                let _ = writeln!(h, "typedef struct {b}_t {{");
                if ts.is_empty() {
                    h.push_str("  uint8_t unused_;\n");
                }
                for (i, f) in ts.iter().enumerate() {
                    let _ = writeln!(h, "  {} f{i};", ct(self, *f));
                }
                let _ = writeln!(h, "}} {b}_t;");
            }
            TypeDef::Variant(cases) => {
                let tag = match weld_contract::component::clayout::tag_size(cases.len()) {
                    1 => "uint8_t",
                    2 => "uint16_t",
                    _ => "uint32_t",
                };
                let _ = writeln!(h, "typedef struct {b}_t {{\n  {tag} tag;");
                if cases.iter().any(|(_, p)| p.is_some()) {
                    h.push_str("  union {\n");
                    for (n, p) in cases {
                        if let Some(p) = p {
                            let _ = writeln!(h, "    {} {};", ct(self, *p), member(n));
                        }
                    }
                    h.push_str("  } val;\n");
                }
                let _ = writeln!(h, "}} {b}_t;");
                self.constants(&b, cases.iter().map(|(n, _)| n.as_str()), h, false);
            }
            TypeDef::Enum(cases) => {
                let tag = match weld_contract::component::clayout::tag_size(cases.len()) {
                    1 => "uint8_t",
                    2 => "uint16_t",
                    _ => "uint32_t",
                };
                let _ = writeln!(h, "typedef {tag} {b}_t;");
                self.constants(&b, cases.iter().map(|n| n.as_str()), h, false);
            }
            TypeDef::Flags(names) => {
                let size = flags_layout(names.len()).size;
                match names.len() {
                    0..=32 => {
                        let it = match size {
                            1 => "uint8_t",
                            2 => "uint16_t",
                            _ => "uint32_t",
                        };
                        let _ = writeln!(h, "typedef {it} {b}_t;");
                    }
                    _ => {
                        let _ = writeln!(
                            h,
                            "/* Flag i is bit (i % 32) of bits[i / 32]; the constants are i. */\n\
                             typedef struct {b}_t {{\n  uint32_t bits[{}];\n}} {b}_t;",
                            size / 4
                        );
                    }
                }
                self.constants(&b, names.iter().map(|n| n.as_str()), h, names.len() <= 32);
            }
            TypeDef::Option(p) => {
                let _ = writeln!(
                    h,
                    "typedef struct {b}_t {{\n  bool is_some;\n  {} val;\n}} {b}_t;",
                    ct(self, *p)
                );
            }
            TypeDef::Result { ok, err } => {
                let _ = writeln!(h, "typedef struct {b}_t {{\n  bool is_err;");
                if ok.is_some() || err.is_some() {
                    h.push_str("  union {\n");
                    if let Some(ok) = ok {
                        let _ = writeln!(h, "    {} ok;", ct(self, *ok));
                    }
                    if let Some(err) = err {
                        let _ = writeln!(h, "    {} err;", ct(self, *err));
                    }
                    h.push_str("  } val;\n");
                }
                let _ = writeln!(h, "}} {b}_t;");
            }
            TypeDef::Own(_) | TypeDef::Borrow(_) => {
                let _ = writeln!(
                    h,
                    "/* A resource handle: the representation its defining instance gave it. */\n\
                     typedef uint32_t {b}_t;"
                );
            }
            _ => {}
        }
        if self.owns(t, 0) {
            self.free_fn(t, &b, h);
        }
        h.push('\n');
    }

    /// `#define` constants for the cases or flags of `base`.
    fn constants<'n>(
        &mut self,
        base: &str,
        names: impl Iterator<Item = &'n str>,
        h: &mut String,
        bits: bool,
    ) {
        for (i, n) in names.enumerate() {
            let c = self.claim(format!("{}_{}", base, member(n)).to_ascii_uppercase());
            let v = if bits {
                format!("(1u << {i})")
            } else {
                i.to_string()
            };
            let _ = writeln!(h, "#define {c} {v}");
        }
    }

    /// A statement freeing the memory owned by `*(expr)` of type `t`, if it owns any.
    fn free_stmt(&self, t: u32, expr: &str) -> Option<String> {
        self.owns(t, 0)
            .then(|| format!("{}_free({expr});", self.base_of(t)))
    }

    fn free_fn(&self, t: u32, b: &str, h: &mut String) {
        let mut body = String::new();
        match self.def(t) {
            TypeDef::String => body.push_str("  free(p->ptr);\n"),
            TypeDef::List(e) => {
                if let Some(s) = self.free_stmt(*e, "&p->ptr[i]") {
                    let _ = writeln!(body, "  for (size_t i = 0; i < p->len; i++)\n    {s}");
                }
                body.push_str("  free(p->ptr);\n");
            }
            TypeDef::FixedList { elem, len } => {
                if let Some(s) = self.free_stmt(*elem, "&p->elems[i]") {
                    let _ = writeln!(body, "  for (size_t i = 0; i < {len}; i++)\n    {s}");
                }
            }
            TypeDef::Map { .. } => {
                let (k, v) = self.types().map_key_value(t).unwrap_or_default();
                let frees: Vec<String> = [(k, "key"), (v, "value")]
                    .iter()
                    .filter_map(|(x, m)| self.free_stmt(*x, &format!("&p->ptr[i].{m}")))
                    .collect();
                if !frees.is_empty() {
                    let _ = writeln!(
                        body,
                        "  for (size_t i = 0; i < p->len; i++) {{\n    {}\n  }}",
                        frees.join("\n    ")
                    );
                }
                body.push_str("  free(p->ptr);\n");
            }
            TypeDef::Record(fields) => {
                for (n, f) in fields {
                    if let Some(s) = self.free_stmt(*f, &format!("&p->{}", member(n))) {
                        let _ = writeln!(body, "  {s}");
                    }
                }
            }
            TypeDef::Tuple(ts) => {
                for (i, f) in ts.iter().enumerate() {
                    if let Some(s) = self.free_stmt(*f, &format!("&p->f{i}")) {
                        let _ = writeln!(body, "  {s}");
                    }
                }
            }
            TypeDef::Variant(cases) => {
                for (i, (n, p)) in cases.iter().enumerate() {
                    let s = p.and_then(|p| self.free_stmt(p, &format!("&p->val.{}", member(n))));
                    if let Some(s) = s {
                        let _ = writeln!(body, "  if (p->tag == {i})\n    {s}");
                    }
                }
            }
            TypeDef::Option(e) => {
                if let Some(s) = self.free_stmt(*e, "&p->val") {
                    let _ = writeln!(body, "  if (p->is_some)\n    {s}");
                }
            }
            TypeDef::Result { ok, err } => {
                if let Some(s) = ok.and_then(|x| self.free_stmt(x, "&p->val.ok")) {
                    let _ = writeln!(body, "  if (!p->is_err)\n    {s}");
                }
                if let Some(s) = err.and_then(|x| self.free_stmt(x, "&p->val.err")) {
                    let _ = writeln!(body, "  if (p->is_err)\n    {s}");
                }
            }
            _ => {}
        }
        let _ = write!(
            h,
            "/* Frees what a {b}_t owns (not the struct itself). */\n\
             static inline void {b}_free({b}_t *p) {{\n{body}}}\n"
        );
    }

    /// A WIT-like rendering of a function type for comments.
    fn signature(&self, ft: &FuncTy) -> String {
        let params: Vec<String> = ft
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {}", self.c_type(*t)))
            .collect();
        let result = ft
            .result
            .map_or(String::new(), |r| format!(" -> {}", self.c_type(r)));
        format!("func({}){result}", params.join(", ")).replace("*/", "*\\/")
    }

    /// Parameter declarations (after the instance or ctx) and the matching `args[]` entries.
    fn params(&self, ft: &FuncTy) -> (Vec<String>, Vec<String>) {
        let (mut decls, mut args) = (Vec::new(), Vec::new());
        for (n, t) in &ft.params {
            let m = member(n);
            if self.by_value(*t) {
                decls.push(format!("{} {m}", self.c_type(*t)));
                args.push(format!("&{m}"));
            } else {
                decls.push(format!("const {} *{m}", self.c_type(*t)));
                args.push(m);
            }
        }
        (decls, args)
    }

    pub(crate) fn header(mut self) -> String {
        let info = self.info;
        let prefix = self.prefix.clone();
        let guard = format!("WELD_COMPONENT_{}_H", prefix.to_ascii_uppercase());
        let mut h = String::new();
        let _ = write!(
            h,
            "/* Generated by weld: the C API of component `{prefix}`.\n\
             \x20* Link its object (weld compile --emit obj --name {prefix}) with libweld_runtime.a.\n\
             \x20*\n\
             \x20* Every export is a static inline function returning 0 or a weld_trap_code.\n\
             \x20* Arguments are borrowed: the caller owns them and the call only reads them.\n\
             \x20* Results are written through the last pointer only when the call returns 0; the\n\
             \x20* strings and lists inside them are allocated with malloc and owned by the caller,\n\
             \x20* who releases them with the type's <name>_free function (or free()).\n\
             \x20* Host imports: the host implements each <prefix>_<import>_fn and registers it with\n\
             \x20* <prefix>_import_<import>(fn, ctx). Its arguments are valid only during the call;\n\
             \x20* what it stores into its result (strings, lists) must come from malloc and is then\n\
             \x20* owned and freed by the runtime. Returning non-zero traps with that code.\n\
             \x20*/\n#ifndef {guard}\n#define {guard}\n\n\
             #include <stdbool.h>\n#include <stdint.h>\n#include <stdlib.h>\n#include \"weld.h\"\n\n\
             #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n"
        );
        for t in self.order.clone() {
            self.typedef(t, &mut h);
        }
        let desc = symbols::component_descriptor(&prefix);
        let _ = write!(
            h,
            "extern const weld_component_module {desc};\n\n\
             /* A new instance; NULL on failure, with the reason in weld_last_error(). */\n\
             static inline weld_component *{}(const weld_component_import *imports, size_t n) {{\n  \
             return weld_component_instantiate(&{desc}, imports, n);\n}}\n\n\
             static inline void {}(weld_component *inst) {{ weld_component_free(inst); }}\n\n\
             /* The world this header describes (FNV-1a of its text): weld_plugin_open loads only a\n\
             \x20* plugin with exactly these imports and exports when given it. */\n\
             #define {}_WORLD_HASH {:#018x}ULL\n\n\
             /* A new instance of a plugin loaded with weld_plugin_open(path, {}_WORLD_HASH). */\n\
             static inline weld_component *{}_plugin(const weld_component_module *plugin,\n\
             \x20                                         const weld_component_import *imports, size_t n) {{\n  \
             return weld_component_instantiate(plugin, imports, n);\n}}\n\n",
            symbols::instantiate(&prefix),
            symbols::free(&prefix),
            prefix.to_uppercase(),
            weld_contract::component::world::fnv1a64(
                weld_contract::component::world::world_text(info).as_bytes()
            ),
            prefix.to_uppercase(),
            symbols::instantiate(&prefix),
        );
        for (i, e) in info.exports.iter().enumerate() {
            let Some(ft) = info.func_types.get(e.func.ty as usize) else {
                continue;
            };
            let (mut decls, args) = self.params(ft);
            decls.insert(0, "weld_component *weld_inst".into());
            if let Some(r) = ft.result {
                decls.push(format!("{} *weld_ret", self.c_type(r)));
            }
            let ret = if ft.result.is_some() {
                "weld_ret"
            } else {
                "NULL"
            };
            let call = if args.is_empty() {
                format!("  return weld_component_call(weld_inst, {i}, NULL, {ret});\n")
            } else {
                format!(
                    "  const void *weld_args[{}] = {{{}}};\n  return weld_component_call(weld_inst, {i}, weld_args, {ret});\n",
                    args.len(),
                    args.join(", ")
                )
            };
            let _ = write!(
                h,
                "/* export {}: {} */\nstatic inline uint32_t {}({}) {{\n{call}}}\n\n",
                quoted(&e.name),
                self.signature(ft),
                self.export_fns.get(i).cloned().unwrap_or_default(),
                decls.join(", ")
            );
            if e.func.opts.async_ {
                self.async_wrappers(&mut h, i, ft);
            }
        }
        for (i, imp) in info.imports.iter().enumerate() {
            let Some(ft) = info.func_types.get(imp.ty as usize) else {
                continue;
            };
            let m = self.func_item(&imp.name);
            let fn_ty = self.claim(format!("{prefix}_{m}_fn"));
            let helper = self.claim(format!("{prefix}_import_{m}"));
            let adapter = self.claim(format!("{prefix}__adapter{i}"));
            let (mut decls, _) = self.params(ft);
            decls.insert(0, "void *ctx".into());
            let mut reads = vec!["ctx".to_string()];
            for (k, (_, t)) in ft.params.iter().enumerate() {
                let c = self.c_type(*t);
                reads.push(if self.by_value(*t) {
                    format!("*(const {c} *)args[{k}]")
                } else {
                    format!("(const {c} *)args[{k}]")
                });
            }
            if let Some(r) = ft.result {
                decls.push(format!("{} *ret", self.c_type(r)));
                reads.push(format!("({} *)ret", self.c_type(r)));
            }
            let _ = write!(
                h,
                "/* import {}: {} */\n\
                 typedef uint32_t (*{fn_ty})({});\n\
                 static inline uint32_t {adapter}(weld_fn f, void *ctx, const void *const *args, void *ret) {{\n  \
                 (void)args;\n  (void)ret;\n  return (({fn_ty})f)({});\n}}\n\
                 static inline weld_component_import {helper}({fn_ty} f, void *ctx) {{\n  \
                 weld_component_import i = {{{}, {adapter}, (weld_fn)f, ctx}};\n  return i;\n}}\n\n",
                quoted(&imp.name),
                self.signature(ft),
                decls.join(", "),
                reads.join(", "),
                c_literal(&imp.name),
            );
        }
        let _ = writeln!(h, "#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {guard} */");
        h
    }

    /// A C `main` (after including the header) printing, per named type, `t<index> sizeof
    /// alignof` and the offsets of its members: record/tuple fields, the `val` union of a
    /// variant, option or result, or the key and value of a map's entry. Tests compare it with [`weld_contract::component::clayout`].
    pub(crate) fn layout_probe(&self) -> String {
        let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\nint main(void) {\n");
        for &t in &self.order {
            let ty = self.c_type(t);
            let mut offs = Vec::new();
            match self.def(t) {
                TypeDef::Record(fs) => offs.extend(
                    fs.iter()
                        .map(|(n, _)| format!("offsetof({ty}, {})", member(n))),
                ),
                TypeDef::Tuple(ts) => {
                    offs.extend((0..ts.len()).map(|i| format!("offsetof({ty}, f{i})")))
                }
                TypeDef::Variant(cs) if cs.iter().any(|(_, p)| p.is_some()) => {
                    offs.push(format!("offsetof({ty}, val)"))
                }
                TypeDef::Option(_) => offs.push(format!("offsetof({ty}, val)")),
                // A map's entries: laid out as the entry tuple the runtime reads.
                TypeDef::Map { .. } => {
                    let entry = format!("{}_entry_t", self.base_of(t));
                    offs.push(format!("offsetof({entry}, key)"));
                    offs.push(format!("offsetof({entry}, value)"));
                }
                TypeDef::Result { ok, err } if ok.is_some() || err.is_some() => {
                    offs.push(format!("offsetof({ty}, val)"))
                }
                _ => {}
            }
            let fmt: String = offs.iter().map(|_| " %zu").collect();
            let args: String = offs.iter().map(|o| format!(", {o}")).collect();
            let _ = writeln!(
                c,
                "  printf(\"t{t} %zu %zu{fmt}\\n\", sizeof({ty}), _Alignof({ty}){args});"
            );
        }
        c.push_str("  return 0;\n}\n");
        c
    }
}

/// The C header of a component (see the module docs).
pub fn write_component_header(info: &ComponentInfo, names: &WitNames, prefix: &str) -> String {
    Gen::new(info, names, prefix).header()
}

/// The C type name the header gives each arena type (`None` for one it does not use); for
/// `weld inspect`.
pub fn type_names(info: &ComponentInfo, names: &WitNames, prefix: &str) -> Vec<Option<String>> {
    let g = Gen::new(info, names, prefix);
    (0..info.types.len() as u32)
        .map(|t| (g.order.contains(&t)).then(|| g.c_type(t)))
        .collect()
}

/// A C program that prints the generated types' layouts (see [`Gen::layout_probe`]); compile it
/// after `#include`-ing the header. For tests.
pub fn layout_probe(info: &ComponentInfo, names: &WitNames, prefix: &str) -> String {
    Gen::new(info, names, prefix).layout_probe()
}

#[cfg(test)]
mod tests {
    use super::*;
    use weld_contract::component::HostImport;

    fn info(types: Vec<TypeDef>, imports: &[&str]) -> ComponentInfo {
        let params = (0..types.len() as u32)
            .map(|t| (format!("p{t}"), t))
            .collect();
        ComponentInfo {
            types,
            func_types: vec![FuncTy {
                params,
                result: None,
                async_: false,
            }],
            imports: imports
                .iter()
                .map(|n| HostImport {
                    name: n.to_string(),
                    ty: 0,
                })
                .collect(),
            ..ComponentInfo::default()
        }
    }

    #[test]
    fn keywords_and_punctuation_become_distinct_c_names() {
        assert_eq!(member("int"), "int_");
        assert_eq!(member("a-b"), "a_b");
        assert_eq!(member("a_b"), "a__b");
        assert_eq!(member("char"), "char_");
        assert_eq!(c_literal("a\"?\u{e9}"), "\"a\\\"\\077\\303\\251\"");
    }

    #[test]
    fn clashing_type_names_get_suffixes() {
        let rec = |f: &str| TypeDef::Record(vec![(f.to_string(), 0)]);
        // Two different records first used at the same (mangled) place.
        let i = info(vec![TypeDef::U8, rec("x"), rec("y")], &["f", "f"]);
        let wit = WitNames::none(&i);
        let g = Gen::new(&i, &wit, "p");
        let names: Vec<String> = (1..3).map(|t| g.c_type(t)).collect();
        assert_ne!(names[0], names[1], "{names:?}");
        let h = Gen::new(&i, &wit, "p").header();
        assert!(h.contains("p_f_fn_2"), "{h}");
    }
}
