//! `weld inspect`: the flattened graph as text — core instances and who feeds their imports,
//! lowerings with their targets and string encodings, resources and exports.

use std::fmt::Write;
use weld_contract::component::{
    CanonOpts, ComponentInfo, CoreDef, FuncTy, LoweringTarget, StringEncoding, TypeDef,
};

fn def(d: &CoreDef) -> String {
    match d {
        CoreDef::Export { instance, name } => format!("instance {instance} export {name:?}"),
        CoreDef::Lowering(i) => format!("lowering {i}"),
        CoreDef::ResourceNew(r) => format!("resource.new {r}"),
        CoreDef::ResourceRep(r) => format!("resource.rep {r}"),
        CoreDef::ResourceDrop { resource, instance } => {
            format!("resource.drop {resource} (handles of component-instance {instance})")
        }
    }
}

fn enc(e: StringEncoding) -> &'static str {
    match e {
        StringEncoding::Utf8 => "utf8",
        StringEncoding::Utf16 => "utf16",
        StringEncoding::CompactUtf16 => "latin1+utf16",
    }
}

fn opts(o: &CanonOpts) -> String {
    let mut s = format!("component-instance {} {}", o.instance, enc(o.encoding));
    if let Some(m) = &o.memory {
        let _ = write!(s, ", memory = {}", def(m));
    }
    if let Some(r) = &o.realloc {
        let _ = write!(s, ", realloc = {}", def(r));
    }
    if let Some(p) = &o.post_return {
        let _ = write!(s, ", post-return = {}", def(p));
    }
    s
}

/// Render a type of the arena in WIT-like syntax.
pub fn type_name(info: &ComponentInfo, t: u32) -> String {
    let n = |t: &u32| type_name(info, *t);
    match info.types.get(t as usize) {
        None => "?".into(),
        Some(d) => match d {
            TypeDef::Bool => "bool".into(),
            TypeDef::S8 => "s8".into(),
            TypeDef::U8 => "u8".into(),
            TypeDef::S16 => "s16".into(),
            TypeDef::U16 => "u16".into(),
            TypeDef::S32 => "s32".into(),
            TypeDef::U32 => "u32".into(),
            TypeDef::S64 => "s64".into(),
            TypeDef::U64 => "u64".into(),
            TypeDef::F32 => "f32".into(),
            TypeDef::F64 => "f64".into(),
            TypeDef::Char => "char".into(),
            TypeDef::String => "string".into(),
            TypeDef::List(e) => format!("list<{}>", n(e)),
            TypeDef::Record(f) => format!(
                "record {{ {} }}",
                f.iter()
                    .map(|(k, t)| format!("{k}: {}", n(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TypeDef::Tuple(ts) => {
                format!("tuple<{}>", ts.iter().map(n).collect::<Vec<_>>().join(", "))
            }
            TypeDef::Variant(c) => format!(
                "variant {{ {} }}",
                c.iter()
                    .map(|(k, t)| match t {
                        Some(t) => format!("{k}({})", n(t)),
                        None => k.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TypeDef::Enum(c) => format!("enum {{ {} }}", c.join(", ")),
            TypeDef::Option(t) => format!("option<{}>", n(t)),
            TypeDef::Result { ok, err } => format!(
                "result<{}, {}>",
                ok.as_ref().map_or("_".into(), n),
                err.as_ref().map_or("_".into(), n)
            ),
            TypeDef::Flags(f) => format!("flags {{ {} }}", f.join(", ")),
            TypeDef::Own(r) => format!("own<resource {r}>"),
            TypeDef::Borrow(r) => format!("borrow<resource {r}>"),
        },
    }
}

/// Render a function type.
pub fn func_type(info: &ComponentInfo, f: &FuncTy) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(n, t)| format!("{n}: {}", type_name(info, *t)))
        .collect();
    match f.result {
        Some(r) => format!("func({}) -> {}", params.join(", "), type_name(info, r)),
        None => format!("func({})", params.join(", ")),
    }
}

/// The whole graph as text.
pub fn render(info: &ComponentInfo) -> String {
    let mut s = String::new();
    let fty = |i: u32| {
        info.func_types
            .get(i as usize)
            .map_or("?".into(), |f| func_type(info, f))
    };
    let _ = writeln!(s, "component instances: {}", info.component_instances);
    for (i, imp) in info.imports.iter().enumerate() {
        let _ = writeln!(s, "host import {i}: {:?}: {}", imp.name, fty(imp.ty));
    }
    for (i, r) in info.resources.iter().enumerate() {
        let owner = if r.instance == u32::MAX {
            "the host".to_string()
        } else {
            format!("component-instance {}", r.instance)
        };
        let _ = write!(s, "resource {i}: {} defined by {owner}", r.name);
        if let Some(d) = &r.dtor {
            let _ = write!(s, ", destructor {}", def(d));
        }
        s.push('\n');
    }
    for (i, inst) in info.instances.iter().enumerate() {
        let _ = writeln!(s, "core instance {i}: module {}", inst.module);
        for (j, a) in inst.args.iter().enumerate() {
            let _ = writeln!(s, "  import {j} <- {}", def(a));
        }
    }
    for (i, l) in info.lowerings.iter().enumerate() {
        let target = match &l.target {
            LoweringTarget::Lifted(f) => format!("lifted {} ({})", def(&f.func), opts(&f.opts)),
            LoweringTarget::Builtin(name) => format!("unsupported built-in {name} (traps)"),
            LoweringTarget::Import(h) => format!(
                "host import {h} ({:?})",
                info.imports
                    .get(*h as usize)
                    .map_or("?", |i| i.name.as_str())
            ),
        };
        let _ = writeln!(s, "lowering {i}: {}", fty(l.ty));
        let _ = writeln!(s, "  caller: {}", opts(&l.opts));
        let _ = writeln!(s, "  calls: {target}");
    }
    for e in &info.exports {
        let _ = writeln!(s, "export {:?}: {}", e.name, fty(e.func.ty));
        let _ = writeln!(s, "  lifts {} ({})", def(&e.func.func), opts(&e.func.opts));
    }
    s
}
