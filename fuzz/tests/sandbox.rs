//! The sandbox holds (issue 6, item 3): every load and store width traps exactly when it
//! reaches past the end of memory, in both bounds-check modes, before and after `memory.grow`;
//! an instance cannot reach another instance's memory (each memory has its own reservation, so
//! a pointer just past one memory traps instead of landing in the next), nor another memory of
//! its own; and after each trap, every instance keeps working.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::fmt::Write;
use weld::BoundsChecks;
use weld_runtime::{Extern, Instance, Library, Module, Store, TrapCode, ValRaw};

const PAGE: u64 = 65536;

/// (instruction, bytes accessed, result type) of every load.
const LOADS: &[(&str, u64, &str)] = &[
    ("i32.load", 4, "i32"),
    ("i64.load", 8, "i64"),
    ("f32.load", 4, "f32"),
    ("f64.load", 8, "f64"),
    ("i32.load8_s", 1, "i32"),
    ("i32.load8_u", 1, "i32"),
    ("i32.load16_s", 2, "i32"),
    ("i32.load16_u", 2, "i32"),
    ("i64.load8_s", 1, "i64"),
    ("i64.load8_u", 1, "i64"),
    ("i64.load16_s", 2, "i64"),
    ("i64.load16_u", 2, "i64"),
    ("i64.load32_s", 4, "i64"),
    ("i64.load32_u", 4, "i64"),
    ("v128.load", 16, "v128"),
    ("v128.load8x8_s", 8, "v128"),
    ("v128.load16x4_u", 8, "v128"),
    ("v128.load32_zero", 4, "v128"),
    ("v128.load64_splat", 8, "v128"),
    ("v128.load8_splat", 1, "v128"),
];

/// (instruction, bytes written, the value pushed before it) of every store.
const STORES: &[(&str, u64, &str)] = &[
    ("i32.store", 4, "i32.const -1"),
    ("i64.store", 8, "i64.const -1"),
    ("f32.store", 4, "f32.const -1"),
    ("f64.store", 8, "f64.const -1"),
    ("i32.store8", 1, "i32.const -1"),
    ("i32.store16", 2, "i32.const -1"),
    ("i64.store8", 1, "i64.const -1"),
    ("i64.store16", 2, "i64.const -1"),
    ("i64.store32", 4, "i64.const -1"),
    ("v128.store", 16, "v128.const i64x2 -1 -1"),
];

/// Static offsets every access is also tried with.
const OFFSETS: &[u64] = &[0, 1, 0x1_0000, 0xffff_ffff];

fn access_module() -> String {
    let mut m = String::from("(module\n  (memory (export \"mem\") 1 3)\n");
    for (op, _, ty) in LOADS {
        for off in OFFSETS {
            let _ = writeln!(
                m,
                "  (func (export \"{op}/{off}\") (param i32) (result {ty}) local.get 0 {op} offset={off})"
            );
        }
    }
    for (op, _, val) in STORES {
        for off in OFFSETS {
            let _ = writeln!(
                m,
                "  (func (export \"{op}/{off}\") (param i32) local.get 0 {val} {op} offset={off})"
            );
        }
    }
    m.push_str(
        "  (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow)\n\
           (func (export \"size\") (result i32) memory.size)\n\
           (func (export \"peek\") (param i32) (result i32) local.get 0 i32.load8_u))\n",
    );
    m
}

/// Two memories: the second is right there in the instance, but no access to the first may
/// reach it.
const TWO_MEMORIES: &str = r#"(module
  (memory $a (export "a") 1 1)
  (memory $b (export "b") 1 1)
  (data (memory $b) (i32.const 0) "\2a\2a\2a\2a")
  (func (export "load_a") (param i32) (result i32) local.get 0 i32.load $a)
  (func (export "load_b") (param i32) (result i32) local.get 0 i32.load $b)
  (func (export "store_a") (param i32 i32) local.get 0 local.get 1 i32.store $a))"#;

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut w: wast::Wat = wast::parser::parse(&buf).unwrap();
    w.encode().unwrap()
}

/// Compile each `(text, prefix)` in both bounds modes (prefixes get `_guard` / `_explicit`)
/// into one shared library.
fn library(modules: &[(&str, &str)]) -> Option<(tempfile::TempDir, Library)> {
    if !weld_fuzz::have_cc() {
        println!("SKIPPED: no C compiler");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut objects = Vec::new();
    for (text, prefix) in modules {
        let bytes = wat(text);
        for (mode, name) in [
            (BoundsChecks::Guard, "guard"),
            (BoundsChecks::Explicit, "explicit"),
        ] {
            let options = weld::Options {
                prefix: format!("{prefix}_{name}"),
                bounds_checks: mode,
                c_entry_points: false,
                ..weld::Options::default()
            };
            let obj = weld::compile_module(&bytes, &options).unwrap();
            let path = dir.path().join(format!("{prefix}_{name}.o"));
            std::fs::write(&path, obj).unwrap();
            objects.push(path);
        }
    }
    let lib = weld_fuzz::link_library(&objects, &dir.path().join("sandbox.so")).unwrap();
    Some((dir, lib))
}

fn call(
    store: &mut Store,
    inst: Instance,
    name: &str,
    args: &[ValRaw],
) -> Result<Vec<ValRaw>, TrapCode> {
    let Some(Extern::Func(f)) = inst.export(store, name) else {
        panic!("no export {name}");
    };
    f.call(store, args).map_err(|t| t.code)
}

fn memory_len(store: &Store, inst: Instance, name: &str) -> u64 {
    match inst.export(store, name) {
        Some(Extern::Memory(m)) => m.data(store).len() as u64,
        _ => panic!("no memory {name}"),
    }
}

/// Addresses around the end of a memory of `len` bytes for an access of `width` bytes.
fn addresses(len: u64, width: u64) -> Vec<u64> {
    let mut v = vec![
        0,
        1,
        len - width - 1,
        len - width,
        len - width + 1,
        len - 1,
        len,
    ];
    v.extend([
        len + 1,
        len + 4096,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fff0,
        0xffff_ffff,
    ]);
    v.retain(|a| *a <= 0xffff_ffff);
    v
}

/// Every access of `module` at every address near the end of its current memory traps exactly
/// when it reaches past the end; returns how many accesses were checked.
fn check_every_access(store: &mut Store, inst: Instance, other: Instance) -> usize {
    let len = memory_len(store, inst, "mem");
    let mut checked = 0;
    let all = LOADS
        .iter()
        .map(|(op, w, _)| (op, w, true))
        .chain(STORES.iter().map(|(op, w, _)| (op, w, false)));
    for (op, width, _is_load) in all {
        for off in OFFSETS {
            for addr in addresses(len, *width) {
                let name = format!("{op}/{off}");
                let got = call(store, inst, &name, &[ValRaw::i32(addr as u32 as i32)]);
                let in_bounds = addr + off + width <= len;
                match (&got, in_bounds) {
                    (Ok(_), true) => {}
                    (Err(TrapCode::MemoryOutOfBounds), false) => {
                        // The host survives and the other instance keeps working.
                        let r = call(store, other, "size", &[]).unwrap();
                        assert!(r[0].get_i32() >= 1);
                    }
                    _ => panic!(
                        "{name} at {addr:#x} (memory of {len:#x} bytes): expected {}, got {got:?}",
                        if in_bounds { "success" } else { "a trap" }
                    ),
                }
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn every_access_width_traps_exactly_past_the_end_of_memory_in_both_bounds_modes_and_after_grow() {
    let text = access_module();
    let Some((_dir, lib)) = library(&[(&text, "acc")]) else {
        return;
    };
    let mut total = 0;
    for mode in ["guard", "explicit"] {
        let module: Module = lib.module(&format!("acc_{mode}")).unwrap();
        let mut store = Store::new();
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let other = Instance::new(&mut store, &module, &[]).unwrap();
        total += check_every_access(&mut store, inst, other);
        // Grow by one page: the old end is now inside, the new end traps.
        let r = call(&mut store, inst, "grow", &[ValRaw::i32(1)]).unwrap();
        assert_eq!(
            r[0].get_i32(),
            1,
            "{mode}: memory.grow returns the old size"
        );
        assert_eq!(memory_len(&store, inst, "mem"), 2 * PAGE);
        total += check_every_access(&mut store, inst, other);
        // Up to the maximum, then no further.
        assert_eq!(
            call(&mut store, inst, "grow", &[ValRaw::i32(1)]).unwrap()[0].get_i32(),
            2
        );
        assert_eq!(
            call(&mut store, inst, "grow", &[ValRaw::i32(1)]).unwrap()[0].get_i32(),
            -1
        );
        total += check_every_access(&mut store, inst, other);
        // The other instance's memory did not grow with it, and its accesses still trap at
        // its own end.
        assert_eq!(memory_len(&store, other, "mem"), PAGE);
        total += check_every_access(&mut store, other, inst);
    }
    assert!(total > 10_000, "{total} accesses checked");
}

#[test]
fn an_instance_cannot_read_another_instances_memory_through_a_pointer_past_its_own() {
    let text = access_module();
    let Some((_dir, lib)) = library(&[(&text, "acc")]) else {
        return;
    };
    for mode in ["guard", "explicit"] {
        let module = lib.module(&format!("acc_{mode}")).unwrap();
        let mut store = Store::new();
        let a = Instance::new(&mut store, &module, &[]).unwrap();
        let b = Instance::new(&mut store, &module, &[]).unwrap();
        // b's memory is full of 0xff at its start; a's stays zero.
        for addr in (0..64).step_by(4) {
            call(&mut store, b, "i32.store/0", &[ValRaw::i32(addr)]).unwrap();
        }
        let (pa, pb) = match (a.export(&store, "mem"), b.export(&store, "mem")) {
            (Some(Extern::Memory(ma)), Some(Extern::Memory(mb))) => (
                ma.data(&store).as_ptr() as u64,
                mb.data(&store).as_ptr() as u64,
            ),
            _ => panic!("no memories"),
        };
        assert_ne!(pa, pb, "{mode}: two instances share a memory");
        // Every byte a can name reads a's memory or traps: never b's 0xff bytes.
        let distance = pb.wrapping_sub(pa);
        let mut probes = vec![PAGE, PAGE + 1, PAGE * 2, 0xffff_ffff];
        if distance < 1 << 32 {
            probes.push(distance);
        }
        for p in probes {
            assert_eq!(
                call(&mut store, a, "peek", &[ValRaw::i32(p as u32 as i32)]),
                Err(TrapCode::MemoryOutOfBounds),
                "{mode}: a read at {p:#x} (b's memory is {distance:#x} further on)"
            );
            // Both keep working after the trap.
            assert_eq!(
                call(&mut store, a, "peek", &[ValRaw::i32(0)]).unwrap()[0].get_i32(),
                0
            );
            assert_eq!(
                call(&mut store, b, "peek", &[ValRaw::i32(0)]).unwrap()[0].get_i32(),
                0xff
            );
        }
    }
}

#[test]
fn an_access_past_one_memory_traps_rather_than_reaching_the_instances_next_memory() {
    let Some((_dir, lib)) = library(&[(TWO_MEMORIES, "two")]) else {
        return;
    };
    for mode in ["guard", "explicit"] {
        let module = lib.module(&format!("two_{mode}")).unwrap();
        let mut store = Store::new();
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        let other = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(
            call(&mut store, inst, "load_b", &[ValRaw::i32(0)]).unwrap()[0].get_i32(),
            0x2a2a_2a2a
        );
        for addr in [PAGE - 3, PAGE, PAGE + 1, 2 * PAGE, 0xffff_fffc] {
            let a = ValRaw::i32(addr as u32 as i32);
            assert_eq!(
                call(&mut store, inst, "load_a", &[a]),
                Err(TrapCode::MemoryOutOfBounds),
                "{mode}: load past memory a at {addr:#x}"
            );
            assert_eq!(
                call(&mut store, inst, "store_a", &[a, ValRaw::i32(7)]),
                Err(TrapCode::MemoryOutOfBounds),
                "{mode}: store past memory a at {addr:#x}"
            );
        }
        // Nothing leaked into memory b, of this instance or the other; both still work.
        for i in [inst, other] {
            assert_eq!(
                call(&mut store, i, "load_b", &[ValRaw::i32(0)]).unwrap()[0].get_i32(),
                0x2a2a_2a2a
            );
            call(&mut store, i, "store_a", &[ValRaw::i32(0), ValRaw::i32(5)]).unwrap();
            assert_eq!(
                call(&mut store, i, "load_a", &[ValRaw::i32(0)]).unwrap()[0].get_i32(),
                5
            );
        }
    }
}
