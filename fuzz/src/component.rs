//! Component differential testing: the round-trip components of `weld_testgen::roundtrip` (a
//! value of a random interface type crosses host → caller → callee → host, between two memories
//! with their own string encodings) run by weld and by Wasmtime's component model; and, of the
//! same type, a component that echoes its argument through a host import (weld serves it as a C
//! host does, through the compiled host call where there is one). The oracle: each engine gives
//! back exactly what it was given, and so the two agree.

use crate::Rng;
use weld_contract::component::StringEncoding;
use weld_runtime::component::Val;
use weld_runtime::{ComponentInstance, HostImports, Library, Store};
use weld_testgen::roundtrip::{
    component, gen_type, gen_value, host_echo_component, pad_value, wat_type, Ty, ENCODINGS,
};

/// Values sent through each generated component.
pub const ROUNDS: usize = 3;

/// One generated component case.
#[derive(Debug, Clone)]
pub struct ComponentCase {
    /// The seed.
    pub seed: u64,
    /// The interface type.
    pub ty: Ty,
    /// The caller's string encoding.
    pub caller: StringEncoding,
    /// The callee's string encoding.
    pub callee: StringEncoding,
    /// The component.
    pub bytes: Vec<u8>,
    /// The component echoing through a host import (lowered in the caller's encoding).
    pub host_bytes: Vec<u8>,
    /// The values sent.
    pub values: Vec<Val>,
}

/// The component case for `seed`.
pub fn gen_component_case(seed: u64) -> Result<ComponentCase, String> {
    let mut rng = Rng::new(seed ^ 0x000C_04B0_0000_0000);
    let ty = gen_type(&mut rng, 3);
    let caller = ENCODINGS[rng.below(3) as usize];
    let callee = ENCODINGS[rng.below(3) as usize];
    let bytes = encode(&component(&ty, caller, callee))?;
    let host_bytes = encode(&host_echo_component(&ty, caller))?;
    let values = (0..ROUNDS).map(|_| gen_value(&mut rng, &ty)).collect();
    Ok(ComponentCase {
        seed,
        ty,
        caller,
        callee,
        bytes,
        host_bytes,
        values,
    })
}

/// The binary of component text `text`.
fn encode(text: &str) -> Result<Vec<u8>, String> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| e.to_string())?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(|e| e.to_string())?;
    wat.encode().map_err(|e| e.to_string())
}

impl ComponentCase {
    /// A one-line description.
    pub fn describe(&self) -> String {
        format!(
            "type {} caller {:?} callee {:?}",
            wat_type(&self.ty),
            self.caller,
            self.callee
        )
    }
}

/// Compile the component with weld under `prefix`, catching panics.
pub fn weld_compile_component(bytes: &[u8], prefix: &str) -> crate::core::WeldCompile {
    let options = weld::Options {
        prefix: prefix.to_string(),
        c_entry_points: false,
        threads: 1,
        ..weld::Options::default()
    };
    match std::panic::catch_unwind(|| weld::compile_component(bytes, &options)) {
        Ok(Ok(obj)) => crate::core::WeldCompile::Object(obj),
        Ok(Err(e @ weld::Error::Unsupported { .. })) => {
            crate::core::WeldCompile::Unsupported(e.to_string())
        }
        Ok(Err(e)) => crate::core::WeldCompile::Failed(e.to_string()),
        Err(p) => crate::core::WeldCompile::Panicked(crate::core::panic_text(&*p)),
    }
}

/// The exports every round-trip component has.
pub const EXPORTS: [&str; 2] = ["echo", "direct-echo"];

/// The calls made with each value: the round-trip component's exports, then the host-echo
/// component's `echo`.
pub const CALLS: [&str; 3] = ["echo", "direct-echo", "echo through the host"];

/// The symbol prefix of the host-echo component of a case compiled under `prefix`.
pub fn host_prefix(prefix: &str) -> String {
    format!("{prefix}_host")
}

/// What weld returned for each (value, export): `Ok(Some(v))` or the trap's text.
pub fn run_weld_component(
    lib: &Library,
    prefix: &str,
    case: &ComponentCase,
) -> Vec<Result<Option<Val>, String>> {
    let module = match lib.component(prefix) {
        Ok(m) => m,
        Err(e) => return vec![Err(format!("loading: {e}"))],
    };
    let host_module = match lib.component(&host_prefix(prefix)) {
        Ok(m) => m,
        Err(e) => return vec![Err(format!("loading: {e}"))],
    };
    let echo = |args: &[Val]| Ok(args.first().cloned());
    let mut host = HostImports::new();
    if let Some(import) = host_module.info().imports.first() {
        let info = host_module.info();
        if let Some(ft) = info.func_types.get(import.ty as usize) {
            host.insert_via_c_layout(&import.name, &info.types, ft, echo);
        }
    }
    let mut out = Vec::new();
    for v in &case.values {
        let mut store = Store::new();
        let inst = match ComponentInstance::new(&mut store, &module, &HostImports::new()) {
            Ok(i) => i,
            Err(e) => return vec![Err(format!("instantiation: {e}"))],
        };
        for export in EXPORTS {
            let args = [v.clone(), pad_value()];
            let got = inst.call(&mut store, export, &args);
            out.push(
                match c_host_disagrees(&mut store, &inst, export, &args, &got) {
                    Some(why) => Err(why),
                    None => got.map_err(|t| t.to_string()),
                },
            );
        }
        let mut store = Store::new();
        out.push(
            match ComponentInstance::new(&mut store, &host_module, &host) {
                Ok(inst) => inst.call(&mut store, "echo", &[v.clone(), pad_value()]),
                Err(e) => return vec![Err(format!("instantiation: {e}"))],
            }
            .map_err(|t| t.to_string()),
        );
    }
    out
}

/// What the export's compiled C host entry (the generated header's path) returns for `args`
/// when it differs from the generic path's `generic`; `None` when they agree or the export
/// has no host entry.
fn c_host_disagrees(
    store: &mut Store,
    inst: &ComponentInstance,
    export: &str,
    args: &[Val],
    generic: &Result<Option<Val>, weld_runtime::Trap>,
) -> Option<String> {
    let index = inst.exports().iter().position(|(n, _)| *n == export)?;
    let c = inst.call_as_c_host(store, index, args).transpose()?;
    let same = match (&c, generic) {
        (Ok(a), Ok(Some(b))) => a == b,
        (Err(code), Err(t)) => *code == t.code,
        _ => false,
    };
    (!same).then(|| format!("the C host entry gave {c:?}, the generic path {generic:?}"))
}

/// weld's value of type `ty` as Wasmtime's. weld's `Val` holds a fixed-length list as a list,
/// and a map as the list of `(key, value)` tuples the Canonical ABI makes of it; Wasmtime has
/// `FixedLengthList` and `Map` for them.
pub fn to_wasmtime(v: &Val, ty: &Ty) -> wasmtime::component::Val {
    use wasmtime::component::Val as W;
    let b = |v: &Val, t: &Ty| Box::new(to_wasmtime(v, t));
    match (v, ty) {
        (Val::Bool(x), _) => W::Bool(*x),
        (Val::S8(x), _) => W::S8(*x),
        (Val::U8(x), _) => W::U8(*x),
        (Val::S16(x), _) => W::S16(*x),
        (Val::U16(x), _) => W::U16(*x),
        (Val::S32(x), _) => W::S32(*x),
        (Val::U32(x), _) => W::U32(*x),
        (Val::S64(x), _) => W::S64(*x),
        (Val::U64(x), _) => W::U64(*x),
        (Val::F32(x), _) => W::Float32(*x),
        (Val::F64(x), _) => W::Float64(*x),
        (Val::Char(x), _) => W::Char(*x),
        (Val::String(s), _) => W::String(s.clone()),
        (Val::List(xs), Ty::Map(k, v)) => W::Map(
            xs.iter()
                .map(|e| match e {
                    Val::Tuple(kv) if kv.len() == 2 => {
                        (to_wasmtime(&kv[0], k), to_wasmtime(&kv[1], v))
                    }
                    _ => (W::Bool(false), W::Bool(false)),
                })
                .collect(),
        ),
        (Val::List(xs), Ty::List(e)) => W::List(xs.iter().map(|x| to_wasmtime(x, e)).collect()),
        (Val::List(xs), Ty::FixedList(e, _)) => {
            W::FixedLengthList(xs.iter().map(|x| to_wasmtime(x, e)).collect())
        }
        (Val::Record(fs), Ty::Record(ts)) => W::Record(
            fs.iter()
                .zip(ts)
                .map(|((n, v), t)| (n.clone(), to_wasmtime(v, t)))
                .collect(),
        ),
        (Val::Tuple(xs), Ty::Tuple(ts)) => {
            W::Tuple(xs.iter().zip(ts).map(|(x, t)| to_wasmtime(x, t)).collect())
        }
        (Val::Variant(c, p), Ty::Variant(cs)) => {
            let case = c.strip_prefix('c').and_then(|i| i.parse::<usize>().ok());
            let t = case.and_then(|i| cs.get(i)).and_then(Option::as_ref);
            W::Variant(c.clone(), p.as_deref().zip(t).map(|(p, t)| b(p, t)))
        }
        (Val::Enum(c), _) => W::Enum(c.clone()),
        (Val::Option(o), Ty::Option(t)) => W::Option(o.as_deref().map(|o| b(o, t))),
        (Val::Result(Ok(o)), Ty::Result(t, _)) | (Val::Result(Err(o)), Ty::Result(_, t)) => {
            let p = o.as_deref().zip(t.as_deref()).map(|(o, t)| b(o, t));
            W::Result(if matches!(v, Val::Result(Ok(_))) {
                Ok(p)
            } else {
                Err(p)
            })
        }
        (Val::Flags(fs), _) => W::Flags(fs.clone()),
        // The generator makes no resources, and values always fit their types.
        _ => W::Bool(false),
    }
}

/// The padding argument's type.
fn pad_type() -> Ty {
    Ty::Record(vec![Ty::U64; 16])
}

/// What Wasmtime returned for each (value, export).
pub fn run_wasmtime_component(
    engine: &wasmtime::Engine,
    case: &ComponentCase,
) -> Vec<Result<Option<wasmtime::component::Val>, String>> {
    let comp = match wasmtime::component::Component::new(engine, &case.bytes) {
        Ok(c) => c,
        Err(e) => return vec![Err(format!("wasmtime rejected: {e:#}"))],
    };
    let linker = wasmtime::component::Linker::<()>::new(engine);
    let pre = match linker.instantiate_pre(&comp) {
        Ok(p) => p,
        Err(e) => return vec![Err(format!("wasmtime link: {e:#}"))],
    };
    let host_pre = match host_echo_pre(engine, case) {
        Ok(p) => p,
        Err(e) => return vec![Err(e)],
    };
    let mut out = Vec::new();
    for v in &case.values {
        let mut store = wasmtime::Store::new(engine, ());
        let inst = match pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => return vec![Err(format!("wasmtime instantiation: {e:#}"))],
        };
        for export in EXPORTS {
            let Some(f) = inst.get_func(&mut store, export) else {
                out.push(Err(format!("no export {export}")));
                continue;
            };
            let mut results = vec![wasmtime::component::Val::Bool(false)];
            let args = [
                to_wasmtime(v, &case.ty),
                to_wasmtime(&pad_value(), &pad_type()),
            ];
            let r = f.call(&mut store, &args, &mut results);
            out.push(match r {
                Ok(()) => Ok(results.pop()),
                Err(e) => Err(format!("{e:#}")),
            });
        }
        out.push(wasmtime_host_echo(engine, &host_pre, case, v));
    }
    out
}

/// The host-echo component of `case`, ready to instantiate, its import `echo` answering with
/// its first argument.
fn host_echo_pre(
    engine: &wasmtime::Engine,
    case: &ComponentCase,
) -> Result<wasmtime::component::InstancePre<()>, String> {
    let comp = wasmtime::component::Component::new(engine, &case.host_bytes)
        .map_err(|e| format!("wasmtime rejected the host echo: {e:#}"))?;
    let mut linker = wasmtime::component::Linker::<()>::new(engine);
    linker
        .root()
        .func_new("echo", |_, _, args, results| {
            if let (Some(r), Some(a)) = (results.first_mut(), args.first()) {
                *r = a.clone();
            }
            Ok(())
        })
        .map_err(|e| format!("wasmtime host function: {e:#}"))?;
    linker
        .instantiate_pre(&comp)
        .map_err(|e| format!("wasmtime link of the host echo: {e:#}"))
}

/// One call of the host-echo component's `echo` with `v`.
fn wasmtime_host_echo(
    engine: &wasmtime::Engine,
    pre: &wasmtime::component::InstancePre<()>,
    case: &ComponentCase,
    v: &Val,
) -> Result<Option<wasmtime::component::Val>, String> {
    let mut store = wasmtime::Store::new(engine, ());
    let inst = pre
        .instantiate(&mut store)
        .map_err(|e| format!("wasmtime instantiation: {e:#}"))?;
    let f = inst
        .get_func(&mut store, "echo")
        .ok_or_else(|| "no export echo".to_string())?;
    let mut results = vec![wasmtime::component::Val::Bool(false)];
    let args = [
        to_wasmtime(v, &case.ty),
        to_wasmtime(&pad_value(), &pad_type()),
    ];
    f.call(&mut store, &args, &mut results)
        .map_err(|e| format!("{e:#}"))?;
    Ok(results.pop())
}

/// Check both engines' answers against the values sent; `Err` says what differed.
pub fn check(
    case: &ComponentCase,
    weld: &[Result<Option<Val>, String>],
    wt: &[Result<Option<wasmtime::component::Val>, String>],
) -> Result<(), String> {
    let expected: Vec<&Val> = case
        .values
        .iter()
        .flat_map(|v| CALLS.iter().map(move |_| v))
        .collect();
    if weld.len() != expected.len() || wt.len() != expected.len() {
        return Err(format!(
            "{} results from weld ({:?}), {} from wasmtime ({:?}), {} expected",
            weld.len(),
            weld.first(),
            wt.len(),
            wt.first().map(|r| r.as_ref().map(|_| ())),
            expected.len()
        ));
    }
    for (i, ((v, w), t)) in expected.iter().zip(weld).zip(wt).enumerate() {
        let export = CALLS[i % CALLS.len()];
        let want = to_wasmtime(v, &case.ty);
        let weld_ok = matches!(w, Ok(Some(x)) if x == *v);
        let wt_ok = matches!(t, Ok(Some(x)) if *x == want);
        if !weld_ok || !wt_ok {
            return Err(format!(
                "round {} via {export}: sent {v}; weld {}; wasmtime {}",
                i / CALLS.len(),
                match w {
                    Ok(Some(x)) => x.to_string(),
                    other => format!("{other:?}"),
                },
                match t {
                    Ok(Some(x)) => format!("{x:?}"),
                    other => format!("{other:?}"),
                }
            ));
        }
    }
    Ok(())
}
