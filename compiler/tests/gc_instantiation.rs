//! GC objects made while an instance is made (constant expressions of element segments) stay
//! alive until the table or passive segment holding them is a root: with the store collecting
//! at every allocation and poisoning what it frees, every item must read back what it was made
//! with, and `array.new_elem` must copy the segment's (moved) items.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use weld_runtime::{Extern, Instance, Library, Store, ValRaw};

const MODULE: &str = r#"
(module
  (type $s (struct (field i32)))
  (type $a (array (mut anyref)))
  (table $t 3 (ref null $s))
  (elem (table $t) (i32.const 0) (ref null $s)
    (item (struct.new $s (i32.const 7)))
    (item (struct.new $s (i32.const 8)))
    (item (struct.new $s (i32.const 9))))
  (elem $p anyref
    (item (struct.new $s (i32.const 10)))
    (item (struct.new $s (i32.const 11)))
    (item (ref.i31 (i32.const 12))))
  (func (export "table") (param i32) (result i32)
    (struct.get $s 0 (table.get $t (local.get 0))))
  (func (export "passive") (param i32) (result i32)
    (local $arr (ref null $a))
    (local.set $arr (array.new_elem $a $p (i32.const 0) (i32.const 3)))
    (drop (struct.new $s (i32.const 0)))
    (if (result i32) (i32.eq (local.get 0) (i32.const 2))
      (then (i31.get_s (ref.cast (ref i31) (array.get $a (local.get $arr) (local.get 0)))))
      (else (struct.get $s 0 (ref.cast (ref $s) (array.get $a (local.get $arr) (local.get 0))))))))
"#;

fn call(store: &mut Store, inst: Instance, name: &str, arg: i32) -> i32 {
    let Some(Extern::Func(f)) = inst.export(store, name) else {
        panic!("no export {name}");
    };
    let out = f.call(store, &[ValRaw::i32(arg)]).unwrap();
    out[0].get_i32()
}

#[test]
fn element_segment_items_survive_collections_during_instantiation() {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no C compiler (cc)");
        return;
    }
    let buf = wast::parser::ParseBuffer::new(MODULE).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let bytes = wat.encode().unwrap();
    let options = weld::Options {
        prefix: "gcinit".into(),
        c_entry_points: false,
        ..weld::Options::default()
    };
    let obj = weld::compile_module(&bytes, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib: Library = common::load_objects(dir.path(), &[("gcinit", &obj)]);
    let module = lib.module("gcinit").unwrap();
    let mut store = Store::new();
    store.set_gc_interval(1);
    store.set_gc_poison(true);
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    for (i, want) in [7, 8, 9].into_iter().enumerate() {
        assert_eq!(
            call(&mut store, inst, "table", i as i32),
            want,
            "table item {i}"
        );
    }
    for (i, want) in [10, 11, 12].into_iter().enumerate() {
        assert_eq!(
            call(&mut store, inst, "passive", i as i32),
            want,
            "segment item {i}"
        );
    }
    assert!(store.gc_stats().collections > 0, "the store collected");
}
