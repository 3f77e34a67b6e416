//! `weld inspect`: the flattened graph as text — core instances and who feeds their imports,
//! lowerings with their targets and string encodings, resources and exports.

use std::fmt::Write;
use weld_contract::component::{
    Builtin, CanonOpts, ComponentInfo, CoreDef, FuncTy, LoweringTarget, StringEncoding,
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
        CoreDef::Flag { instance, flag } => {
            format!("{flag:?} flag of component-instance {instance}")
        }
        CoreDef::Transcode { lowering, results } => {
            let way = if *results { "results" } else { "parameters" };
            format!("string transcoder of lowering {lowering} ({way})")
        }
        CoreDef::Handle {
            op,
            lowering,
            resource,
        } => format!("handle {op:?} of lowering {lowering} (resource {resource})"),
        CoreDef::HostMemory => "the host's address space (64-bit memory)".into(),
        CoreDef::HostCall(i) => format!("the C host function of import {i}"),
        CoreDef::Intrinsic { op, memory } => match memory {
            Some((i, name)) => format!("intrinsic {op:?} on instance {i} memory {name:?}"),
            None => format!("intrinsic {op:?}"),
        },
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
    if o.async_ {
        s.push_str(", async");
    }
    if let Some(c) = &o.callback {
        let _ = write!(s, ", callback = {}", def(c));
    }
    s
}

/// Render a type of the arena in WIT-like syntax.
pub fn type_name(info: &ComponentInfo, t: u32) -> String {
    weld_contract::component::world::type_text(info, t)
}

/// Render a function type.
pub fn func_type(info: &ComponentInfo, f: &FuncTy) -> String {
    weld_contract::component::world::func_text(info, f)
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
            LoweringTarget::Builtin(Builtin::Unsupported(name)) => {
                format!("unsupported built-in {name} (traps)")
            }
            LoweringTarget::Builtin(Builtin::Channel { ty, .. }) => {
                let b = match &l.target {
                    LoweringTarget::Builtin(b) => b.name(),
                    _ => String::new(),
                };
                let kind = type_name(info, *ty);
                let op = b.strip_prefix("channel").unwrap_or(&b);
                format!("built-in {kind}{op} ({})", opts(&l.opts))
            }
            LoweringTarget::Builtin(b) => format!("built-in {} ({})", b.name(), opts(&l.opts)),
            LoweringTarget::Import(h) => format!(
                "host import {h} ({:?})",
                info.imports
                    .get(*h as usize)
                    .map_or("?", |i| i.name.as_str())
            ),
        };
        // A built-in's function type means something only for `task.return`.
        match &l.target {
            LoweringTarget::Builtin(b) if *b != Builtin::TaskReturn => {
                let _ = writeln!(
                    s,
                    "lowering {i}: core {:?} -> {:?}",
                    l.core_params, l.core_results
                );
            }
            _ => {
                let _ = writeln!(s, "lowering {i}: {}", fty(l.ty));
            }
        }
        let _ = writeln!(s, "  caller: {}", opts(&l.opts));
        let _ = writeln!(s, "  calls: {target}");
    }
    for e in &info.exports {
        let _ = writeln!(s, "export {:?}: {}", e.name, fty(e.func.ty));
        let _ = writeln!(s, "  lifts {} ({})", def(&e.func.func), opts(&e.func.opts));
    }
    s
}

/// The WIT names of the types and resources, and what the C header (`c`, per type) and the
/// Rust bindings (`rust`: per type, per resource) call them; empty when the world names none.
pub fn names_text(
    info: &ComponentInfo,
    names: &crate::component::wit_names::WitNames,
    c: &[Option<String>],
    rust: &(Vec<Option<String>>, Vec<Option<String>>),
) -> String {
    let mut s = String::new();
    let at = |v: &[Option<String>], i: usize| v.get(i).cloned().flatten();
    for (t, n) in names.types.iter().enumerate() {
        let Some(n) = n else { continue };
        let owner = if n.owner.is_empty() {
            "the world"
        } else {
            &n.owner
        };
        let _ = write!(
            s,
            "type {t}: {} of {owner} = {}",
            n.name,
            type_name(info, t as u32)
        );
        if let Some(c) = at(c, t) {
            let _ = write!(s, "\n  C {c}");
        }
        if let Some(r) = at(&rust.0, t) {
            let _ = write!(s, "\n  Rust {r}");
        }
        s.push('\n');
    }
    for (r, n) in names.resources.iter().enumerate() {
        let Some(n) = n else { continue };
        let owner = if n.owner.is_empty() {
            "the world"
        } else {
            &n.owner
        };
        let _ = write!(s, "resource {r}: {} of {owner}", n.name);
        if let Some(p) = at(&rust.1, r) {
            let _ = write!(s, "\n  Rust {p}");
        }
        s.push('\n');
    }
    s
}
