//! `weld inspect` renderings of a [`Graph`]: JSON (a stable schema), Graphviz DOT, the
//! reachability report, and the instance list that heads the text rendering.
//!
//! # JSON schema (`"schema": "weld-inspect/1"`)
//!
//! Additive changes keep the version; anything else bumps it. Arrays are in the order given.
//!
//! ```text
//! {
//!   "schema": "weld-inspect/1",
//!   "instances": [            // component instances, by index; 0 is the root
//!     { "index": 0, "path": "(root)" | "app" | "app/inner", "name": "app",
//!       "definition": "app" | null,          // $id of the component definition
//!       "parent": null | 0,
//!       "core_instances": [0, 1],            // indices of the flattened core instances
//!       "linear_memories": 1,                // linear memories its core instances define
//!       "gc_heap": false,                    // whether they allocate GC structs/arrays
//!       "imports": ["example:logic/api"],    // import names, in order
//!       "exports": ["run"] }                 // export names, sorted
//!   ],
//!   "host_imports": [         // sorted by interface
//!     { "interface": "wasi:cli/stdout@0.2.0", "functions": ["wasi:cli/stdout@0.2.0#get-stdout"] }
//!   ],
//!   "edges": [                // sorted by from, then target, then interface
//!     { "from": 1, "to": { "instance": 2 } | { "host": "wasi:cli/stdout@0.2.0" },
//!       "interface": "example:pii/store",    // "core" for core-level wiring
//!       "calls": [ { "function": "example:pii/store#get", "lowering": 0 | null,
//!                    "caller_encoding": "utf8", "callee_encoding": "utf16" | null } ] }
//!   ],
//!   "exports": [ { "name": "run", "instance": 1 } ],   // the root's lifted exports
//!   "reach": [                // one entry per instance, by index
//!     { "instance": 1, "targets": [
//!         { "to": { "instance": 3 }, "direct": false,
//!           "path": [ { "from": 1, "to": { "instance": 2 }, "function": "..." }, ... ] } ] }
//!   ]
//! }
//! ```

use super::graph::{Graph, Hop, Target};
use std::fmt::Write;
use weld_contract::component::{ComponentInfo, StringEncoding};

/// The schema tag of [`json`].
pub const JSON_SCHEMA: &str = "weld-inspect/1";

/// A string encoding's name (`utf8`, `utf16`, `latin1+utf16`).
pub fn encoding_name(e: StringEncoding) -> &'static str {
    match e {
        StringEncoding::Utf8 => "utf8",
        StringEncoding::Utf16 => "utf16",
        StringEncoding::CompactUtf16 => "latin1+utf16",
    }
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn js_list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(", "))
}

fn js_target(t: &Target) -> String {
    match t {
        Target::Instance(i) => format!("{{\"instance\": {i}}}"),
        Target::Host(h) => format!("{{\"host\": {}}}", js(h)),
    }
}

fn js_hop(h: &Hop) -> String {
    format!(
        "{{\"from\": {}, \"to\": {}, \"function\": {}}}",
        h.from,
        js_target(&h.to),
        js(&h.function)
    )
}

/// The graph as JSON (schema in this module's documentation), one item per line.
pub fn json(g: &Graph, info: &ComponentInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{{\n  \"schema\": {},", js(JSON_SCHEMA));
    s.push_str("  \"instances\": [");
    for (i, n) in g.instances.iter().enumerate() {
        let m = &n.names;
        let _ = write!(
            s,
            "{}\n    {{\"index\": {i}, \"path\": {}, \"name\": {}, \"definition\": {}, \
             \"parent\": {}, \"core_instances\": {}, \"linear_memories\": {}, \
             \"gc_heap\": {}, \"imports\": {}, \"exports\": {}}}",
            if i == 0 { "" } else { "," },
            js(&n.path),
            js(&m.name),
            m.definition.as_deref().map_or("null".into(), js),
            m.parent.map_or("null".into(), |p| p.to_string()),
            js_list(&m.core_instances, |c| c.to_string()),
            n.storage.linear_memories,
            n.storage.gc_heap,
            js_list(&m.imports, |x| js(x)),
            js_list(&m.exports, |x| js(x)),
        );
    }
    s.push_str("\n  ],\n  \"host_imports\": [");
    for (i, (iface, funcs)) in g.hosts.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {{\"interface\": {}, \"functions\": {}}}",
            if i == 0 { "" } else { "," },
            js(iface),
            js_list(funcs, |x| js(x))
        );
    }
    s.push_str("\n  ],\n  \"edges\": [");
    for (i, e) in g.edges.iter().enumerate() {
        let calls = js_list(&e.calls, |c| {
            format!(
                "{{\"function\": {}, \"lowering\": {}, \"caller_encoding\": {}, \
                 \"callee_encoding\": {}}}",
                js(&c.function),
                c.lowering.map_or("null".into(), |l| l.to_string()),
                js(encoding_name(c.caller_encoding)),
                c.callee_encoding
                    .map_or("null".into(), |e| js(encoding_name(e)))
            )
        });
        let _ = write!(
            s,
            "{}\n    {{\"from\": {}, \"to\": {}, \"interface\": {}, \"calls\": {calls}}}",
            if i == 0 { "" } else { "," },
            e.from,
            js_target(&e.to),
            js(&e.interface)
        );
    }
    s.push_str("\n  ],\n  \"exports\": [");
    for (i, e) in info.exports.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {{\"name\": {}, \"instance\": {}}}",
            if i == 0 { "" } else { "," },
            js(&e.name),
            e.func.opts.instance
        );
    }
    s.push_str("\n  ],\n  \"reach\": [");
    for i in 0..g.instances.len() as u32 {
        let r = g.reach(i);
        let targets: Vec<String> = r
            .targets
            .iter()
            .map(|(t, hops)| {
                format!(
                    "{{\"to\": {}, \"direct\": {}, \"path\": {}}}",
                    js_target(t),
                    hops.len() == 1,
                    js_list(hops, js_hop)
                )
            })
            .collect();
        let _ = write!(
            s,
            "{}\n    {{\"instance\": {i}, \"targets\": [{}]}}",
            if i == 0 { "" } else { "," },
            targets.join(", ")
        );
    }
    s.push_str("\n  ]\n}\n");
    s
}

/// A DOT string literal.
fn ds(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Whether an instance is drawn: it has core instances or edges (the root of a composition,
/// which only wires its children, is left out).
fn drawn(g: &Graph, i: u32) -> bool {
    g.instances
        .get(i as usize)
        .is_some_and(|n| !n.names.core_instances.is_empty())
        || g.edges
            .iter()
            .any(|e| e.from == i || e.to == Target::Instance(i))
}

/// The graph in Graphviz DOT: a box per component instance (`i<index>`), an ellipse per host
/// interface (`h<n>`, in sorted order), an edge per (caller, target, interface) labelled with
/// the interface, its functions and, for fused calls, `caller → callee` string encodings.
pub fn dot(g: &Graph) -> String {
    let mut s = String::from("digraph weld {\n  rankdir=LR;\n  node [shape=box];\n");
    let host_id = |h: &str| g.hosts.keys().position(|k| k == h).unwrap_or(usize::MAX);
    for (i, n) in g.instances.iter().enumerate() {
        if !drawn(g, i as u32) {
            continue;
        }
        let mut label = n.path.clone();
        if let Some(d) = n.names.definition.as_ref().filter(|d| **d != n.names.name) {
            let _ = write!(label, "\n(component {d})");
        }
        let _ = writeln!(s, "  i{i} [label={}];", ds(&label));
    }
    for (k, h) in g.hosts.keys().enumerate() {
        let _ = writeln!(
            s,
            "  h{k} [label={}, shape=ellipse];",
            ds(&format!("host\n{h}"))
        );
    }
    for e in &g.edges {
        let to = match &e.to {
            Target::Instance(i) => format!("i{i}"),
            Target::Host(h) => format!("h{}", host_id(h)),
        };
        let funcs: Vec<&str> = e
            .calls
            .iter()
            .map(|c| {
                c.function
                    .split_once('#')
                    .map_or(c.function.as_str(), |x| x.1)
            })
            .collect();
        let mut label = if funcs.len() == 1 && funcs[0] == e.interface {
            e.interface.clone()
        } else {
            format!("{}: {}", e.interface, funcs.join(", "))
        };
        let mut encs: Vec<String> = e
            .calls
            .iter()
            .filter_map(|c| {
                let callee = c.callee_encoding?;
                Some(format!(
                    "{} → {}",
                    encoding_name(c.caller_encoding),
                    encoding_name(callee)
                ))
            })
            .collect();
        encs.sort();
        encs.dedup();
        if !encs.is_empty() {
            let _ = write!(label, "\n{}", encs.join(", "));
        }
        let _ = writeln!(s, "  i{} -> {to} [label={}];", e.from, ds(&label));
    }
    s.push_str("}\n");
    s
}

/// The reachability report of `weld inspect --reach`: per instance, each target it reaches,
/// `direct` or with the path that reaches it.
pub fn reach_text(g: &Graph) -> String {
    let mut s = String::new();
    for i in 0..g.instances.len() as u32 {
        let r = g.reach(i);
        let _ = writeln!(s, "{} (instance {i}):", g.path(i));
        if r.targets.is_empty() {
            s.push_str("  reaches nothing\n");
        }
        for (t, hops) in &r.targets {
            let how = if hops.len() == 1 {
                format!("direct [{}]", hops[0].function)
            } else {
                format!("via {}", g.describe(hops))
            };
            let _ = writeln!(s, "  -> {}: {how}", g.target_name(t));
        }
    }
    s
}

/// The named instance list that heads `weld inspect`'s text.
pub fn instances_text(g: &Graph) -> String {
    let mut s = String::new();
    for (i, n) in g.instances.iter().enumerate() {
        let m = &n.names;
        let _ = write!(s, "component instance {i}: {}", n.path);
        if let Some(d) = &m.definition {
            let _ = write!(s, " (component {d})");
        }
        let list = |v: &[u32]| {
            v.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "\n  core instances: [{}]", list(&m.core_instances));
        let st = n.storage;
        let _ = writeln!(
            s,
            "  storage: {} linear memor{}{}",
            st.linear_memories,
            if st.linear_memories == 1 { "y" } else { "ies" },
            if st.gc_heap { ", GC heap" } else { "" }
        );
        let _ = writeln!(s, "  imports: {:?}", m.imports);
        let _ = writeln!(s, "  exports: {:?}", m.exports);
    }
    s
}
