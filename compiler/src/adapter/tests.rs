//! Which lowerings get adapters, how they are wired in, and that every adapter validates.

use super::*;
use crate::component::{compile, AdapterBytes};
use crate::options::Options;
use crate::wat;
use weld_contract::component::{CanonOpts, FuncTy, HandleOp, StringEncoding};
use weld_testgen::roundtrip::{gen_type, Ty};
use weld_testgen::Rng;

/// A caller component lowering `f: func{ty}` from a callee, lowered as `core` in the caller.
fn fused(ty: &str, callee_opts: &str, caller_opts: &str, core: &str) -> Vec<u8> {
    wat(&format!(
        r#"(component
          (component $callee
            (core module $m
              (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
              (func (export "f") {core} unreachable))
            (core instance $i (instantiate $m))
            (func (export "f") {ty}
              (canon lift (core func $i "f") {callee_opts})))
          (instance $callee (instantiate $callee))
          (component $caller
            (import "f" (func $f {ty}))
            (import "log" (func $log (param "x" u32)))
            (core module $libc
              (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
            (core instance $libc (instantiate $libc))
            (core func $f' (canon lower (func $f) {caller_opts}))
            (core func $log' (canon lower (func $log)))
            (core module $main (import "" "f" (func {core})) (import "" "log" (func (param i32))))
            (core instance (instantiate $main
              (with "" (instance (export "f" (func $f')) (export "log" (func $log')))))))
          (import "log" (func $log (param "x" u32)))
          (instance (instantiate $caller (with "f" (func $callee "f")) (with "log" (func $log)))))"#
    ))
}

const BOTH_MEMORIES: &str = r#"(memory $i "mem") (realloc (func $i "realloc"))"#;
const CALLER_MEMORY: &str = r#"(memory $libc "mem") (realloc (func $libc "realloc"))"#;

/// The modules and flattened graph `bytes` compile to.
fn compiled(bytes: &[u8]) -> (usize, ComponentInfo) {
    let adapters = AdapterBytes::default();
    let c = compile(bytes, &adapters, &Options::default()).expect("compiles");
    (c.modules.len(), c.info)
}

#[test]
fn a_fused_call_gets_an_adapter_instance_placed_before_its_caller() {
    let bytes = fused(
        r#"(param "s" string) (param "b" u8) (result u32)"#,
        BOTH_MEMORIES,
        CALLER_MEMORY,
        "(param i32 i32 i32) (result i32)",
    );
    let (modules, info) = compiled(&bytes);
    assert_eq!(
        modules, 5,
        "callee, libc, main, the fused call's adapter and the host import's host call"
    );
    let adapter = info
        .instances
        .iter()
        .position(|i| i.module == 3)
        .expect("an adapter instance");
    let main = info.instances.last().expect("main");
    assert_eq!(
        main.args[0],
        CoreDef::Export {
            instance: adapter as u32,
            name: EXPORT.into()
        },
        "the caller imports the adapter's export"
    );
    let CoreDef::Lowering(log) = main.args[1] else {
        panic!("the host import keeps its lowering: {:?}", main.args[1]);
    };
    // The runtime binds it to the host call for a C host, else to the trampoline: the host
    // call is instantiated before main, which may import it.
    let host_call = info.lowerings[log as usize].host_call.expect("a host call");
    assert_eq!(info.instances[host_call as usize].module, 4);
    assert!((host_call as usize) < info.instances.len() - 1);
    let args = &info.instances[adapter].args;
    assert!(args.contains(&CoreDef::Intrinsic {
        op: weld_contract::component::Intrinsic::Trap,
        memory: None
    }));
    assert!(args
        .iter()
        .all(|a| !matches!(a, CoreDef::Export { instance, .. } if *instance as usize >= adapter)));
}

#[test]
fn strings_of_other_encodings_cross_through_the_runtime_transcoder() {
    let bytes = fused(
        r#"(param "s" string) (result u32)"#,
        r#"(memory $i "mem") (realloc (func $i "realloc")) string-encoding=utf16"#,
        CALLER_MEMORY,
        "(param i32 i32) (result i32)",
    );
    let (modules, info) = compiled(&bytes);
    assert_eq!(
        modules, 5,
        "the UTF-8 → UTF-16 call is adapted (and the host import)"
    );
    let adapter = info
        .instances
        .iter()
        .find(|i| i.module == 3)
        .expect("adapter");
    assert!(
        adapter
            .args
            .iter()
            .any(|a| matches!(a, CoreDef::Transcode { results: false, .. })),
        "{:?}",
        adapter.args
    );
}

#[test]
fn values_nested_deeper_than_the_limit_are_not_covered() {
    // list<list<...<u8>>>, 70 deep: index i is a list of index i - 1.
    let mut types = vec![TypeDef::U8];
    types.extend((0..70).map(TypeDef::List));
    let t = Types::new(&types);
    assert!(covered(t, 30, 0));
    assert!(!covered(t, 70, 0));
}

/// The arena index of `t`, interning its parts into `types`.
fn intern(types: &mut Vec<TypeDef>, t: &Ty) -> u32 {
    let def = match t {
        Ty::Bool => TypeDef::Bool,
        Ty::S8 => TypeDef::S8,
        Ty::U8 => TypeDef::U8,
        Ty::S16 => TypeDef::S16,
        Ty::U16 => TypeDef::U16,
        Ty::S32 => TypeDef::S32,
        Ty::U32 => TypeDef::U32,
        Ty::S64 => TypeDef::S64,
        Ty::U64 => TypeDef::U64,
        Ty::F32 => TypeDef::F32,
        Ty::F64 => TypeDef::F64,
        Ty::Char => TypeDef::Char,
        Ty::String => TypeDef::String,
        Ty::List(e) => TypeDef::List(intern(types, e)),
        Ty::Record(fs) => TypeDef::Record(
            fs.iter()
                .enumerate()
                .map(|(i, f)| (format!("f{i}"), intern(types, f)))
                .collect(),
        ),
        Ty::Tuple(ts) => TypeDef::Tuple(ts.iter().map(|t| intern(types, t)).collect()),
        Ty::Variant(cs) => TypeDef::Variant(
            cs.iter()
                .enumerate()
                .map(|(i, c)| (format!("c{i}"), c.as_ref().map(|t| intern(types, t))))
                .collect(),
        ),
        Ty::Enum(n) => TypeDef::Enum((0..*n).map(|i| format!("e{i}")).collect()),
        Ty::Option(t) => TypeDef::Option(intern(types, t)),
        Ty::Result(ok, err) => TypeDef::Result {
            ok: ok.as_ref().map(|t| intern(types, t)),
            err: err.as_ref().map(|t| intern(types, t)),
        },
        Ty::Flags(n) => TypeDef::Flags((0..*n).map(|i| format!("f{i}")).collect()),
        Ty::FixedList(e, len) => TypeDef::FixedList {
            elem: intern(types, e),
            len: *len,
        },
        Ty::Map(k, v) => {
            let kv = vec![intern(types, k), intern(types, v)];
            let entry = intern_def(types, TypeDef::Tuple(kv));
            TypeDef::Map { entry }
        }
    };
    intern_def(types, def)
}

fn intern_def(types: &mut Vec<TypeDef>, def: TypeDef) -> u32 {
    types.push(def);
    types.len() as u32 - 1
}

const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];

fn opts(instance: u32, with_post_return: bool, encoding: StringEncoding) -> CanonOpts {
    let export = |name: &str| CoreDef::Export {
        instance,
        name: name.into(),
    };
    CanonOpts {
        instance,
        memory: Some(export("mem")),
        realloc: Some(export("realloc")),
        post_return: with_post_return.then(|| export("post")),
        encoding,
        ..CanonOpts::default()
    }
}

#[test]
fn every_adapter_host_entry_and_host_call_of_ten_thousand_random_signatures_validates() {
    let (mut validated, mut host_entries, mut host_calls) = (0, 0, 0);
    for case in 0..10_000u64 {
        let mut rng = Rng::new(0xada9_7e45 ^ case);
        let mut types = Vec::new();
        let params: Vec<(String, u32)> = (0..rng.below(4))
            .map(|i| {
                let t = gen_type(&mut rng, 3);
                (format!("p{i}"), intern(&mut types, &t))
            })
            .collect();
        let mut params = params;
        // Handles: an own parameter, a list of borrows, an own inside the result.
        for (i, def) in [TypeDef::Own(0), TypeDef::Borrow(0)]
            .into_iter()
            .enumerate()
        {
            if rng.chance(1, 4) {
                types.push(TypeDef::List(types.len() as u32 + 1));
                types.push(def);
                params.push((format!("h{i}"), types.len() as u32 - 1 - i as u32));
            }
        }
        let result = rng.chance(3, 4).then(|| {
            let t = gen_type(&mut rng, 3);
            let t = intern(&mut types, &t);
            if rng.chance(1, 4) {
                types.push(TypeDef::Own(0));
                types.push(TypeDef::Tuple(vec![t, types.len() as u32 - 1]));
                types.len() as u32 - 1
            } else {
                t
            }
        });
        let callee = Lifted {
            func: CoreDef::Export {
                instance: 0,
                name: "f".into(),
            },
            ty: 0,
            opts: opts(0, rng.chance(1, 2), ENCODINGS[case as usize % 3]),
        };
        let lowering = Lowering {
            target: LoweringTarget::Lifted(callee.clone()),
            ty: 0,
            opts: opts(1, false, ENCODINGS[case as usize / 3 % 3]),
            core_params: Vec::new(),
            core_results: Vec::new(),
            host_call: None,
        };
        let ft = FuncTy {
            params,
            result,
            async_: false,
        };
        let m = build(Types::new(&types), 0, &lowering, &callee, &ft);
        let mut v = wasmparser::Validator::new_with_features(crate::frontend::features());
        if let Err(e) = v.validate_all(&m.bytes) {
            panic!("case {case}: {ft:?} over {types:?}: {e}");
        }
        validated += 1;
        let export = ComponentExport {
            name: "f".into(),
            func: callee,
            host_entry: None,
        };
        if host_entry::covers(Types::new(&types), &export, &ft) {
            let m = host_entry::build(Types::new(&types), &export, &ft);
            let mut v = wasmparser::Validator::new_with_features(crate::frontend::features());
            if let Err(e) = v.validate_all(&m.bytes) {
                panic!("case {case}: host entry of {ft:?} over {types:?}: {e}");
            }
            host_entries += 1;
        }
        let import = Lowering {
            target: LoweringTarget::Import(0),
            ..lowering
        };
        if host_call::covers(Types::new(&types), &import, &ft) {
            let m = host_call::build(Types::new(&types), 0, &import, &ft);
            let mut v = wasmparser::Validator::new_with_features(crate::frontend::features());
            if let Err(e) = v.validate_all(&m.bytes) {
                panic!("case {case}: host call of {ft:?} over {types:?}: {e}");
            }
            host_calls += 1;
        }
    }
    assert_eq!(validated, 10_000);
    assert!(host_entries > 3_000, "{host_entries} host entries checked");
    assert!(host_calls > 3_000, "{host_calls} host calls checked");
}

#[test]
fn handles_cross_through_the_runtime_handle_operations() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/wast/fused-handles.wast"
    );
    let text = std::fs::read_to_string(path).expect("script");
    let buf = wast::parser::ParseBuffer::new(&text).expect("lexes");
    let mut script: wast::Wast = wast::parser::parse(&buf).expect("parses");
    let bytes = script
        .directives
        .iter_mut()
        .find_map(|d| match d {
            wast::WastDirective::ModuleDefinition(q) => Some(q.encode().expect("encodes")),
            _ => None,
        })
        .expect("a component definition");
    let (_, info) = compiled(&bytes);
    let ops: Vec<HandleOp> = info
        .instances
        .iter()
        .flat_map(|i| &i.args)
        .filter_map(|a| match a {
            CoreDef::Handle { op, .. } => Some(*op),
            _ => None,
        })
        .collect();
    for op in HandleOp::ALL {
        assert!(ops.contains(&op), "{op:?} missing from {ops:?}");
    }
    let lowerings_left = info
        .instances
        .iter()
        .flat_map(|i| &i.args)
        .filter(|a| matches!(a, CoreDef::Lowering(_)))
        .count();
    assert_eq!(lowerings_left, 0, "make, peek and take are all adapted");
}

#[test]
fn the_round_trip_components_leave_no_fused_call_to_the_runtime() {
    let encodings = weld_testgen::roundtrip::ENCODINGS;
    for case in 0..60u64 {
        let mut rng = Rng::new(0x5eed ^ case);
        let ty = gen_type(&mut rng, 3);
        let text = weld_testgen::roundtrip::component(
            &ty,
            encodings[case as usize % 3],
            encodings[case as usize / 3 % 3],
        );
        let (_, info) = compiled(&wat(&text));
        let left: Vec<&CoreDef> = info
            .instances
            .iter()
            .flat_map(|i| &i.args)
            .filter(|a| matches!(a, CoreDef::Lowering(_)))
            .collect();
        assert!(left.is_empty(), "case {case} ({ty:?}): {left:?}");
    }
}

#[test]
fn the_c_layout_is_the_canonical_abi_layout_over_a_64_bit_memory() {
    use weld_contract::component::clayout::{CLayout, CLayouts};
    // Host entries rest on this: the header's C values are Canonical ABI values in a memory
    // with 8-byte pointers, so the adapter translator reads and writes them.
    let mut rng = Rng::new(0xC1A7);
    for case in 0..10_000 {
        let mut types = Vec::new();
        let t = intern(&mut types, &gen_type(&mut rng, 4));
        let (c, abi) = (CLayouts::new(&types, 8), Types::memory64(&types));
        for i in 0..=t {
            let want = CLayout {
                size: abi.size(i),
                align: abi.align(i),
            };
            assert_eq!(c.get(i), want, "case {case}: type {i} of {types:?}");
            if let TypeDef::Record(_) | TypeDef::Tuple(_) = &types[i as usize] {
                let fields = fields_of(&types[i as usize]);
                assert_eq!(
                    c.field_offsets(i),
                    abi.field_offsets(&fields),
                    "case {case}"
                );
            }
            if let (Some(v), Some(cases)) = (c.variant(i), abi.cases(i)) {
                assert_eq!(v.payload_offset, abi.payload_offset(&cases), "case {case}");
            }
        }
    }
}

fn fields_of(def: &TypeDef) -> Vec<u32> {
    match def {
        TypeDef::Record(fs) => fs.iter().map(|(_, t)| *t).collect(),
        TypeDef::Tuple(ts) => ts.clone(),
        _ => Vec::new(),
    }
}
