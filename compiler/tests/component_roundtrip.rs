//! Random interface types and values make a round trip host → caller component → callee
//! component → host, across two linear memories with every pair of string encodings; what comes
//! back must equal what went in. `WELD_ROUNDTRIP_CASES` and `WELD_ROUNDTRIP_SEED` widen the run.

#![allow(clippy::panic, clippy::unwrap_used)]

use weld_runtime::{ComponentInstance, HostImports, Library, Store};
use weld_testgen::roundtrip::{component, gen_type, gen_value, pad_value, wat_type, ENCODINGS};
use weld_testgen::Rng;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_values_of_random_types_survive_fused_calls_between_memories() {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no C compiler");
        return;
    }
    let cases = env_u64("WELD_ROUNDTRIP_CASES", 60);
    let seed = env_u64("WELD_ROUNDTRIP_SEED", 1);
    let dir = tempfile::tempdir().unwrap();
    let mut objects = Vec::new();
    let mut types = Vec::new();
    for case in 0..cases {
        let mut rng = Rng::new(seed.wrapping_add(case));
        let ty = gen_type(&mut rng, 3);
        let caller = ENCODINGS[(case % 3) as usize];
        let callee = ENCODINGS[((case / 3) % 3) as usize];
        let text = component(&ty, caller, callee);
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
