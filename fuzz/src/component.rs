//! Component differential testing: the round-trip components of `weld_testgen::roundtrip` (a
//! value of a random interface type crosses host → caller → callee → host, between two memories
//! with their own string encodings) run by weld and by Wasmtime's component model. The oracle:
//! each engine gives back exactly what it was given, and so the two agree.

use crate::Rng;
use weld_contract::component::StringEncoding;
use weld_runtime::component::Val;
use weld_runtime::{ComponentInstance, HostImports, Library, Store};
use weld_testgen::roundtrip::{component, gen_type, gen_value, pad_value, wat_type, Ty, ENCODINGS};

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
    /// The values sent.
    pub values: Vec<Val>,
}

/// The component case for `seed`.
pub fn gen_component_case(seed: u64) -> Result<ComponentCase, String> {
    let mut rng = Rng::new(seed ^ 0x000C_04B0_0000_0000);
    let ty = gen_type(&mut rng, 3);
    let caller = ENCODINGS[rng.below(3) as usize];
    let callee = ENCODINGS[rng.below(3) as usize];
    let text = component(&ty, caller, callee);
    let buf = wast::parser::ParseBuffer::new(&text).map_err(|e| e.to_string())?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(|e| e.to_string())?;
    let bytes = wat.encode().map_err(|e| e.to_string())?;
    let values = (0..ROUNDS).map(|_| gen_value(&mut rng, &ty)).collect();
    Ok(ComponentCase {
        seed,
        ty,
        caller,
        callee,
        bytes,
        values,
    })
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
    let mut out = Vec::new();
    for v in &case.values {
        let mut store = Store::new();
        let inst = match ComponentInstance::new(&mut store, &module, &HostImports::new()) {
            Ok(i) => i,
            Err(e) => return vec![Err(format!("instantiation: {e}"))],
        };
        for export in EXPORTS {
            out.push(
                inst.call(&mut store, export, &[v.clone(), pad_value()])
                    .map_err(|t| t.to_string()),
            );
        }
    }
    out
}

/// weld's value as Wasmtime's.
pub fn to_wasmtime(v: &Val) -> wasmtime::component::Val {
    use wasmtime::component::Val as W;
    let b = |v: &Val| Box::new(to_wasmtime(v));
    match v {
        Val::Bool(x) => W::Bool(*x),
        Val::S8(x) => W::S8(*x),
        Val::U8(x) => W::U8(*x),
        Val::S16(x) => W::S16(*x),
        Val::U16(x) => W::U16(*x),
        Val::S32(x) => W::S32(*x),
        Val::U32(x) => W::U32(*x),
        Val::S64(x) => W::S64(*x),
        Val::U64(x) => W::U64(*x),
        Val::F32(x) => W::Float32(*x),
        Val::F64(x) => W::Float64(*x),
        Val::Char(x) => W::Char(*x),
        Val::String(s) => W::String(s.clone()),
        Val::List(xs) => W::List(xs.iter().map(to_wasmtime).collect()),
        Val::Record(fs) => W::Record(
            fs.iter()
                .map(|(n, v)| (n.clone(), to_wasmtime(v)))
                .collect(),
        ),
        Val::Tuple(xs) => W::Tuple(xs.iter().map(to_wasmtime).collect()),
        Val::Variant(c, p) => W::Variant(c.clone(), p.as_deref().map(b)),
        Val::Enum(c) => W::Enum(c.clone()),
        Val::Option(o) => W::Option(o.as_deref().map(b)),
        Val::Result(Ok(o)) => W::Result(Ok(o.as_deref().map(b))),
        Val::Result(Err(o)) => W::Result(Err(o.as_deref().map(b))),
        Val::Flags(fs) => W::Flags(fs.clone()),
        // The generator makes no resources.
        Val::Own(_) | Val::Borrow(_) => W::Bool(false),
    }
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
            let args = [to_wasmtime(v), to_wasmtime(&pad_value())];
            let r = f.call(&mut store, &args, &mut results);
            out.push(match r {
                Ok(()) => Ok(results.pop()),
                Err(e) => Err(format!("{e:#}")),
            });
        }
    }
    out
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
        .flat_map(|v| EXPORTS.iter().map(move |_| v))
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
        let export = EXPORTS[i % EXPORTS.len()];
        let want = to_wasmtime(v);
        let weld_ok = matches!(w, Ok(Some(x)) if x == *v);
        let wt_ok = matches!(t, Ok(Some(x)) if *x == want);
        if !weld_ok || !wt_ok {
            return Err(format!(
                "round {} via {export}: sent {v}; weld {}; wasmtime {}",
                i / EXPORTS.len(),
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
