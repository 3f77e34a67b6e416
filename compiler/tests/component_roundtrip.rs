//! Random interface types and values make a round trip host → caller component → callee
//! component → host, across two linear memories with every pair of string encodings; what comes
//! back must equal what went in. The same values cross the compiled C host entries (written and
//! read in the generated header's C layout) and come back equal to what the generic path
//! returns, and so do values a component sends out to a host function through its compiled C
//! host call. `WELD_ROUNDTRIP_CASES` and `WELD_ROUNDTRIP_SEED` widen the run.

#![allow(clippy::panic, clippy::unwrap_used)]

use weld_contract::component::StringEncoding;
use weld_runtime::component::Val;
use weld_runtime::Trap;
use weld_runtime::{ComponentInstance, HostImports, Library, Store};
use weld_testgen::roundtrip::{
    component, gen_type, gen_value, host_echo_component, pad_value, wat_type, Ty, ENCODINGS,
};
use weld_testgen::Rng;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One compiled round-trip case: its type, the two components' encodings, and the generator
/// that made the type (values continue from it).
type Case = (Ty, StringEncoding, StringEncoding, Rng);

/// Compile `cases` random round-trip components from `seed` into one library; `None` (after
/// printing SKIPPED) without a C compiler.
fn compile_cases(
    cases: u64,
    seed: u64,
    make: fn(&Ty, StringEncoding, StringEncoding) -> String,
) -> Option<(tempfile::TempDir, Library, Vec<Case>)> {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no C compiler");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut objects = Vec::new();
    let mut types = Vec::new();
    for case in 0..cases {
        let mut rng = Rng::new(seed.wrapping_add(case));
        let ty = gen_type(&mut rng, 3);
        let caller = ENCODINGS[(case % 3) as usize];
        let callee = ENCODINGS[((case / 3) % 3) as usize];
        let text = make(&ty, caller, callee);
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let mut wat: wast::Wat = wast::parser::parse(&buf)
            .unwrap_or_else(|e| panic!("case {case}: generated text does not parse: {e}\n{text}"));
        let bytes = wat.encode().unwrap();
        let options = weld::Options {
            prefix: format!("c{case}"),
            c_entry_points: false,
            ..weld::Options::default()
        };
        let obj = weld::compile_component(&bytes, &options)
            .unwrap_or_else(|e| panic!("case {case} ({}): {e}\n{text}", wat_type(&ty)));
        let path = dir.path().join(format!("c{case}.o"));
        std::fs::write(&path, obj).unwrap();
        objects.push(path);
        types.push((ty, caller, callee, rng));
    }
    let so = dir.path().join("cases.so");
    weld::link::link(
        &objects,
        &so,
        weld::link::OutputKind::SharedLib,
        weld::options::host_triple(),
        &[],
    )
    .unwrap();
    let lib = Library::open(&so).unwrap();
    Some((dir, lib, types))
}

#[test]
fn random_values_of_random_types_survive_fused_calls_between_memories() {
    let cases = env_u64("WELD_ROUNDTRIP_CASES", 60);
    let seed = env_u64("WELD_ROUNDTRIP_SEED", 1);
    let Some((_dir, lib, types)) = compile_cases(cases, seed, component) else {
        return;
    };
    let mut checked = 0;
    for (case, (ty, caller, callee, mut rng)) in types.into_iter().enumerate() {
        let module = lib.component(&format!("c{case}")).unwrap();
        for round in 0..4 {
            // A fresh store and instance per call keeps one case's failure from hiding others.
            let mut store = Store::new();
            let inst = ComponentInstance::new(&mut store, &module, &HostImports::new()).unwrap();
            let v = gen_value(&mut rng, &ty);
            for export in ["echo", "direct-echo"] {
                let got = inst.call(&mut store, export, &[v.clone(), pad_value()]);
                match got {
                    Ok(Some(got)) if got == v => checked += 1,
                    other => panic!(
                        "case {case} round {round} via {export} (caller {caller:?}, callee {callee:?}): type {}\n  sent {v}\n  got  {other:?}",
                        wat_type(&ty)
                    ),
                }
            }
        }
    }
    assert_eq!(checked, cases * 4 * 2);
}

#[test]
fn random_values_cross_compiled_c_host_entries_as_they_cross_the_generic_path() {
    let cases = env_u64("WELD_ROUNDTRIP_CASES", 60);
    let seed = env_u64("WELD_ROUNDTRIP_SEED", 1) ^ 0x5eed;
    let Some((_dir, lib, types)) = compile_cases(cases, seed, component) else {
        return;
    };
    let mut checked = 0;
    for (case, (ty, caller, callee, mut rng)) in types.into_iter().enumerate() {
        let module = lib.component(&format!("c{case}")).unwrap();
        let mut store = Store::new();
        let inst = ComponentInstance::new(&mut store, &module, &HostImports::new()).unwrap();
        let names: Vec<String> = inst.exports().iter().map(|(n, _)| n.to_string()).collect();
        for (index, name) in names.iter().enumerate() {
            // `echo` is lifted by the caller, `direct-echo` by the callee: in their encoding,
            // which must be UTF-8 for a host entry when strings cross.
            let lifted = if name == "direct-echo" {
                callee
            } else {
                caller
            };
            assert_eq!(
                inst.has_host_entry(index),
                lifted == StringEncoding::Utf8 || !has_string(&ty),
                "case {case} export {name} (lifted in {lifted:?}): type {}",
                wat_type(&ty)
            );
            if !inst.has_host_entry(index) {
                continue;
            }
            for round in 0..4 {
                let v = gen_value(&mut rng, &ty);
                let args = [v.clone(), pad_value()];
                let generic = inst.call(&mut store, name, &args);
                let compiled = inst.call_as_c_host(&mut store, index, &args);
                match (&generic, &compiled) {
                    (Ok(Some(a)), Ok(Some(b))) if a == b && *b == v => checked += 1,
                    _ => panic!(
                        "case {case} round {round} via {name} (caller {caller:?}, callee {callee:?}): type {}\n  sent     {v}\n  generic  {generic:?}\n  compiled {compiled:?}",
                        wat_type(&ty)
                    ),
                }
            }
        }
    }
    println!("{checked} calls through host entries checked");
    assert!(checked >= cases * 2, "{checked} calls checked");
}

/// Whether values of `ty` can hold a string.
fn has_string(ty: &Ty) -> bool {
    match ty {
        Ty::String => true,
        Ty::List(t) | Ty::Option(t) | Ty::FixedList(t, _) => has_string(t),
        Ty::Map(k, v) => has_string(k) || has_string(v),
        Ty::Record(ts) | Ty::Tuple(ts) => ts.iter().any(has_string),
        Ty::Variant(cs) => cs.iter().flatten().any(has_string),
        Ty::Result(ok, err) => ok.iter().chain(err.iter()).any(|t| has_string(t)),
        _ => false,
    }
}

#[test]
fn random_values_cross_compiled_c_host_calls_as_they_cross_the_generic_path() {
    let cases = env_u64("WELD_ROUNDTRIP_CASES", 60);
    let seed = env_u64("WELD_ROUNDTRIP_SEED", 1) ^ 0xca11;
    let make = |t: &Ty, encoding: StringEncoding, _| host_echo_component(t, encoding);
    let Some((_dir, lib, types)) = compile_cases(cases, seed, make) else {
        return;
    };
    let echo = |args: &[Val]| -> Result<Option<Val>, Trap> { Ok(args.first().cloned()) };
    let (mut checked, mut compiled) = (0, 0);
    for (case, (ty, encoding, _, mut rng)) in types.into_iter().enumerate() {
        let module = lib.component(&format!("c{case}")).unwrap();
        let info = module.info();
        let host_call = info.lowerings.iter().any(|l| l.host_call.is_some());
        assert_eq!(
            host_call,
            encoding == StringEncoding::Utf8 || !has_string(&ty),
            "case {case} ({encoding:?}): type {}",
            wat_type(&ty)
        );
        compiled += u64::from(host_call);
        let import = &info.imports[0];
        let ft = &info.func_types[import.ty as usize];
        let mut generic = HostImports::new();
        generic.insert(&import.name, echo);
        let mut c_layout = HostImports::new();
        c_layout.insert_via_c_layout(&import.name, &info.types, ft, echo);
        for round in 0..4 {
            let v = gen_value(&mut rng, &ty);
            let args = [v.clone(), pad_value()];
            let mut results = Vec::new();
            for host in [&generic, &c_layout] {
                let mut store = Store::new();
                let inst = ComponentInstance::new(&mut store, &module, host).unwrap();
                results.push(inst.call(&mut store, "echo", &args));
            }
            match (&results[0], &results[1]) {
                (Ok(Some(a)), Ok(Some(b))) if a == b && *b == v => checked += 1,
                _ => panic!(
                    "case {case} round {round} ({encoding:?}): type {}\n  sent     {v}\n  generic  {:?}\n  c layout {:?}",
                    wat_type(&ty),
                    results[0],
                    results[1]
                ),
            }
        }
    }
    println!("{checked} calls checked, {compiled} of {cases} components with compiled host calls");
    assert_eq!(checked, cases * 4);
    assert!(compiled * 2 > cases, "{compiled} of {cases} compiled");
}
