//! `--cpu`: code compiled for more than the target's baseline uses those instructions, records
//! them in its descriptor, runs where they exist and gives the same results; asking for x86
//! features on another architecture, or for `native` of another machine, is refused.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use weld::{Cpu, Options};
use weld_runtime::{Instance, Store, ValRaw};

/// i64x2 multiplication: SSE4.2 has no 64-bit lane multiply (a pmuludq sequence); AVX-512
/// (x86-64-v4) has one instruction.
const MUL: &str = r#"(module
  (memory 1)
  (func (export "mul") (param i64 i64) (result i64)
    (i64x2.extract_lane 1
      (i64x2.mul (i64x2.splat (local.get 0)) (i64x2.splat (local.get 1))))))"#;

fn compile(cpu: Cpu, prefix: &str) -> Result<Vec<u8>, weld::Error> {
    let buf = wast::parser::ParseBuffer::new(MUL).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let options = Options {
        cpu,
        prefix: prefix.into(),
        c_entry_points: false,
        ..Options::default()
    };
    weld::compile_module(&wat.encode().unwrap(), &options)
}

fn text_len(obj: &[u8]) -> u64 {
    use object::{Object, ObjectSection};
    let file = object::File::parse(obj).unwrap();
    file.section_by_name(".text").unwrap().size()
}

#[test]
fn code_for_this_cpu_uses_its_features_and_computes_the_same() {
    if !cfg!(target_arch = "x86_64") {
        println!("SKIPPED: x86-64 CPU levels on another architecture");
        return;
    }
    let base = compile(Cpu::Baseline, "base").unwrap();
    let native = compile(Cpu::Native, "native").unwrap();
    let have_v4 =
        weld_runtime::module::cpu_has("avx512dq") && weld_runtime::module::cpu_has("avx512vl");
    if have_v4 {
        assert!(
            text_len(&native) < text_len(&base),
            "native {} bytes, baseline {}",
            text_len(&native),
            text_len(&base)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = common::load_objects(dir.path(), &[("base", &base), ("native", &native)]);
    let mut store = Store::new();
    let mut results = Vec::new();
    for prefix in ["base", "native"] {
        let module = lib.module(prefix).unwrap();
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let Some(weld_runtime::Extern::Func(f)) = inst.export(&store, "mul") else {
            panic!("no mul");
        };
        let r = f
            .call(
                &mut store,
                &[ValRaw::i64(-3), ValRaw::i64(0x1234_5678_9abc)],
            )
            .unwrap();
        results.push(r[0].get_i64());
    }
    assert_eq!(results, [-3 * 0x1234_5678_9abc, -3 * 0x1234_5678_9abc]);
}

#[test]
fn cpu_levels_that_do_not_fit_the_target_are_refused() {
    for (target, cpu) in [
        ("aarch64-unknown-linux-gnu", Cpu::X86_64V3),
        ("riscv64gc-unknown-linux-gnu", Cpu::X86_64V4),
    ] {
        let options = Options {
            target: weld::Target::new(target).unwrap(),
            cpu,
            ..Options::default()
        };
        let err = weld::compile_module(b"\0asm\x01\0\0\0", &options).unwrap_err();
        assert!(err.to_string().contains("--cpu"), "{target}: {err}");
    }
    if weld::options::host_triple() != "aarch64-unknown-linux-gnu" {
        let options = Options {
            target: weld::Target::new("aarch64-unknown-linux-gnu").unwrap(),
            cpu: Cpu::Native,
            ..Options::default()
        };
        // Native of this machine means nothing for aarch64 code: nothing extra, accepted.
        assert!(weld::compile_module(b"\0asm\x01\0\0\0", &options).is_ok());
    }
}
