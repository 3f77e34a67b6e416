//! Boundary calls, in this process, ns per call: host → component export, component → host
//! import, component → component through a fused adapter; with no arguments and with strings.
//! One component (WAT, [`component_wat`]) serves all cases; weld compiles it (`weld_runtime`:
//! `ComponentInstance::typed_func`, `HostImports::func_wrap`) and the `wasmtime` crate 48.0.8
//! runs the same bytes (`wasmtime::component`, typed functions and `func_wrap`). Calls made from inside a component are timed as one
//! call of an export that loops `n` times, divided by `n`.

use crate::stats::Summary;
use anyhow::{anyhow, Result};
use std::path::Path;
use std::time::Instant;
use weld_runtime::{ComponentInstance, HostImports, Library, Store};

/// One measured case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    /// Which ratio it counts toward.
    pub group: &'static str,
    pub weld_ns: Vec<f64>,
    pub wasmtime_ns: Vec<f64>,
    pub error: Option<String>,
}

impl Case {
    pub fn ratio(&self) -> Option<f64> {
        let (a, b) = (
            Summary::of(&self.weld_ns)?.median,
            Summary::of(&self.wasmtime_ns)?.median,
        );
        crate::stats::ratio(a, b)
    }
}

/// What a case calls: an export once (host → component) or a looping export (`n` calls inside).
#[derive(Debug, Clone, Copy)]
enum Call {
    Nop,
    Take(usize),
    LoopNop,
    /// A looping export taking `(n, len)`.
    Loop(&'static str, usize),
    LoopHostNop,
    LoopHostStr(usize),
    /// `take-records` with 100 records from the host.
    Records,
    /// The caller passing 100 records to the host 's `host-records`, `n` times.
    LoopHostRecords,
}

weld_runtime::component_record! {
    /// `rec` on weld's side.
    struct Rec {
        id: u32,
        name: String,
    }
}

/// `rec` on Wasmtime's side.
#[derive(
    wasmtime::component::ComponentType, wasmtime::component::Lower, wasmtime::component::Lift,
)]
#[component(record)]
struct WtRec {
    id: u32,
    name: String,
}

/// The 100 records the host passes: `{id: i, name: "aaaaaaaa"}`, as in [`records_data`].
fn records() -> Vec<(u32, String)> {
    (0..100).map(|i| (i, "a".repeat(8))).collect()
}

const CASES: &[(&str, &str, Call)] = &[
    ("host→component nop", "host_to_component_call", Call::Nop),
    (
        "host→component 1 KiB string",
        "host_to_component_call",
        Call::Take(1024),
    ),
    (
        "host→component list<record{id, name}> ×100",
        "host_to_component_call",
        Call::Records,
    ),
    (
        "component→host nop",
        "component_to_host_call",
        Call::LoopHostNop,
    ),
    (
        "component→host list<record{id, name}> ×100",
        "component_to_host_call",
        Call::LoopHostRecords,
    ),
    (
        "component→host 1 KiB string",
        "component_to_host_call",
        Call::LoopHostStr(1024),
    ),
    (
        "component→component nop",
        "component_to_component_call",
        Call::LoopNop,
    ),
    (
        "component→component 1 KiB string",
        "component_to_component_call",
        Call::Loop("loop-take", 1024),
    ),
    (
        "component→component 16 KiB string",
        "component_to_component_call",
        Call::Loop("loop-take", 16384),
    ),
    (
        "component→component 1 KiB string UTF-16→UTF-8",
        "component_to_component_call",
        Call::Loop("loop-take16", 1024),
    ),
    (
        "component→component 1 KiB string Latin-1→UTF-8",
        "component_to_component_call",
        Call::Loop("loop-take-latin1", 1024),
    ),
    (
        "component→component 64 KiB list<u8>",
        "component_to_component_call",
        Call::Loop("loop-bytes", 65536),
    ),
    (
        "component→component list<record{id, name}> ×100",
        "component_to_component_call",
        Call::Loop("loop-records", 100),
    ),
    (
        "component→component result<record, variant>",
        "component_to_component_call",
        Call::Loop("loop-result", 0),
    ),
];

/// The named types both components use, as the root defines and exports them (`rec`: a list
/// element; `item`/`err`: a result's two sides) and as each inner component imports them.
const TYPES: [(&str, &str); 3] = [
    ("rec", r#"(record (field "id" u32) (field "name" string))"#),
    (
        "item",
        r#"(record (field "id" u32) (field "score" f64) (field "name" string))"#,
    ),
    ("err", r#"(variant (case "missing") (case "bad" u32))"#),
];

/// The root's type definitions and exports, an inner component's imports of them, and the
/// instantiation arguments that pass them.
fn type_texts() -> (String, String, String) {
    let (mut root, mut inner, mut withs) = (String::new(), String::new(), String::new());
    for (name, def) in TYPES {
        root += &format!("\n  (type $d-{name} {def}) (export ${name} \"{name}\" (type $d-{name}))");
        inner += &format!(
            "\n    (type $d-{name} {def}) (import \"{name}\" (type ${name} (eq $d-{name})))"
        );
        withs += &format!(" (with \"{name}\" (type ${name}))");
    }
    (root, inner, withs)
}

/// 100 records `{id: i, name: "aaaaaaaa"}` (the name at offset 0), as data-segment text.
fn records_data() -> String {
    let mut s = String::new();
    for i in 0..100u32 {
        for word in [i, 0, 8] {
            for b in word.to_le_bytes() {
                s += &format!("\\{b:02x}");
            }
        }
    }
    s
}

/// `result<item, err>` as `ok(item{id: 7, score: 1.5, name: "hello"})` at offset 0 (the name at
/// 64), as data-segment text.
const RESULT_DATA: &str = "\\00\\00\\00\\00\\00\\00\\00\\00\\07\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\f8\\3f\\40\\00\\00\\00\\05\\00\\00\\00";

/// The benchmark component: a callee (`nop`, `take: func(s: string)`, `take-bytes: func(b:
/// list<u8>)`, realloc returning one fixed buffer) and a caller wired to it and to the host's
/// `host-nop` / `host-str`, exporting its own `nop` / `take` and loops over each import (`take`
/// lowered three times: UTF-8, UTF-16 and Latin-1+UTF-16; the UTF-16 text is at 65536).
pub fn component_wat() -> String {
    let data = "a".repeat(16384);
    let data16 = "a\\00".repeat(1024);
    let records = records_data();
    let (root_types, inner_types, type_withs) = type_texts();
    format!(
        r#"(component{root_types}
  (import "rec-in" (type $rec-in (eq $d-rec)))
  (import "host-nop" (func $host-nop))
  (import "host-str" (func $host-str (param "s" string)))
  (import "host-records" (func $host-records (param "l" (list $rec-in))))
  (component $callee{inner_types}
    (core module $m
      (memory (export "mem") 2)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "nop"))
      (func (export "take") (param i32 i32))
      (func (export "get") (result i32) (i32.const 0))
      (data (i32.const 0) "{RESULT_DATA}")
      (data (i32.const 64) "hello"))
    (core instance $i (instantiate $m))
    (func (export "nop") (canon lift (core func $i "nop")))
    (func (export "take") (param "s" string)
      (canon lift (core func $i "take") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "take-bytes") (param "b" (list u8))
      (canon lift (core func $i "take") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "take-records") (param "l" (list $rec))
      (canon lift (core func $i "take") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "get") (result (result $item (error $err)))
      (canon lift (core func $i "get") (memory $i "mem") (realloc (func $i "realloc")))))
  (instance $callee (instantiate $callee{type_withs}))
  (component $caller{inner_types}
    (import "nop" (func $nop))
    (import "take" (func $take (param "s" string)))
    (import "take-bytes" (func $take-bytes (param "b" (list u8))))
    (import "take-records" (func $take-records (param "l" (list $rec))))
    (import "get" (func $get (result (result $item (error $err)))))
    (import "host-nop" (func $hnop))
    (import "host-str" (func $hstr (param "s" string)))
    (import "host-records" (func $hrecords (param "l" (list $rec))))
    (core module $libc
      (memory (export "mem") 2)
      ;; A bump allocator over 32768..61440, starting again at the bottom when full.
      (global $bump (mut i32) (i32.const 32768))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.const 7)) (i32.const -8)))
        (if (i32.gt_u (i32.add (local.get $p) (local.get 3)) (i32.const 61440))
          (then (local.set $p (i32.const 32768))))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      (data (i32.const 0) "{data}")
      (data (i32.const 65536) "{data16}")
      (data (i32.const 20000) "{records}"))
    (core instance $libc (instantiate $libc))
    (core func $nop' (canon lower (func $nop)))
    (core func $take' (canon lower (func $take) (memory $libc "mem")))
    (core func $take16' (canon lower (func $take) (memory $libc "mem") string-encoding=utf16))
    (core func $take-latin1' (canon lower (func $take) (memory $libc "mem")
      string-encoding=latin1+utf16))
    (core func $take-bytes' (canon lower (func $take-bytes) (memory $libc "mem")))
    (core func $take-records' (canon lower (func $take-records) (memory $libc "mem")))
    (core func $get' (canon lower (func $get) (memory $libc "mem")
      (realloc (func $libc "realloc"))))
    (core func $hnop' (canon lower (func $hnop)))
    (core func $hstr' (canon lower (func $hstr) (memory $libc "mem")))
    (core func $hrecords' (canon lower (func $hrecords) (memory $libc "mem")))
    (core module $main
      (import "" "nop" (func $nop))
      (import "" "take" (func $take (param i32 i32)))
      (import "" "take16" (func $take16 (param i32 i32)))
      (import "" "take-latin1" (func $take-latin1 (param i32 i32)))
      (import "" "take-bytes" (func $take-bytes (param i32 i32)))
      (import "" "take-records" (func $take-records (param i32 i32)))
      (import "" "get" (func $get (param i32)))
      (import "" "hnop" (func $hnop))
      (import "" "hstr" (func $hstr (param i32 i32)))
      (import "" "hrecords" (func $hrecords (param i32 i32)))
      (func (export "nop"))
      (func (export "take") (param i32 i32))
      (func (export "loop-nop") (param $n i32)
        (loop $l (call $nop)
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-take") (param $n i32) (param $len i32)
        (loop $l (call $take (i32.const 0) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-take16") (param $n i32) (param $len i32)
        (loop $l (call $take16 (i32.const 65536) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-take-latin1") (param $n i32) (param $len i32)
        (loop $l (call $take-latin1 (i32.const 0) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-bytes") (param $n i32) (param $len i32)
        (loop $l (call $take-bytes (i32.const 0) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-records") (param $n i32) (param $len i32)
        (loop $l (call $take-records (i32.const 20000) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-result") (param $n i32) (param $len i32)
        (loop $l (call $get (i32.const 40000))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-host-nop") (param $n i32)
        (loop $l (call $hnop)
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-host-str") (param $n i32) (param $len i32)
        (loop $l (call $hstr (i32.const 0) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "loop-host-records") (param $n i32) (param $len i32)
        (loop $l (call $hrecords (i32.const 20000) (local.get $len))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
    (core instance $main (instantiate $main (with "" (instance
      (export "nop" (func $nop')) (export "take" (func $take'))
      (export "take16" (func $take16')) (export "take-latin1" (func $take-latin1'))
      (export "take-bytes" (func $take-bytes'))
      (export "take-records" (func $take-records')) (export "get" (func $get'))
      (export "hnop" (func $hnop')) (export "hstr" (func $hstr'))
      (export "hrecords" (func $hrecords'))))))
    (func (export "nop") (canon lift (core func $main "nop")))
    (func (export "take") (param "s" string)
      (canon lift (core func $main "take") (memory $libc "mem") (realloc (func $libc "realloc"))))
    (func (export "loop-nop") (param "n" u32) (canon lift (core func $main "loop-nop")))
    (func (export "loop-take") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-take")))
    (func (export "loop-take16") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-take16")))
    (func (export "loop-take-latin1") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-take-latin1")))
    (func (export "loop-bytes") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-bytes")))
    (func (export "loop-records") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-records")))
    (func (export "loop-result") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-result")))
    (func (export "loop-host-nop") (param "n" u32) (canon lift (core func $main "loop-host-nop")))
    (func (export "loop-host-str") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-host-str")))
    (func (export "loop-host-records") (param "n" u32) (param "len" u32)
      (canon lift (core func $main "loop-host-records")))
    (func (export "take-records") (param "l" (list $rec))
      (canon lift (core func $main "take") (memory $libc "mem") (realloc (func $libc "realloc")))))
  (instance $caller (instantiate $caller{type_withs}
    (with "nop" (func $callee "nop")) (with "take" (func $callee "take"))
    (with "take-bytes" (func $callee "take-bytes"))
    (with "take-records" (func $callee "take-records")) (with "get" (func $callee "get"))
    (with "host-nop" (func $host-nop)) (with "host-str" (func $host-str))
    (with "host-records" (func $host-records))))
  (export "nop" (func $caller "nop"))
  (export "take" (func $caller "take"))
  (export "loop-nop" (func $caller "loop-nop"))
  (export "loop-take" (func $caller "loop-take"))
  (export "loop-take16" (func $caller "loop-take16"))
  (export "loop-take-latin1" (func $caller "loop-take-latin1"))
  (export "loop-bytes" (func $caller "loop-bytes"))
  (export "loop-records" (func $caller "loop-records"))
  (export "loop-result" (func $caller "loop-result"))
  (export "loop-host-nop" (func $caller "loop-host-nop"))
  (export "loop-host-str" (func $caller "loop-host-str"))
  (export "loop-host-records" (func $caller "loop-host-records"))
  (export "take-records" (func $caller "take-records")))"#
    )
}

pub fn wat_to_binary(text: &str) -> Result<Vec<u8>> {
    let buf = wast::parser::ParseBuffer::new(text).map_err(|e| anyhow!("lex: {e}"))?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(|e| anyhow!("parse: {e}"))?;
    wat.encode().map_err(|e| anyhow!("encode: {e}"))
}

/// Component `bytes` compiled by weld for this CPU into `<work>/<prefix>.so` and loaded.
pub fn load_weld(
    bytes: &[u8],
    work: &Path,
    prefix: &str,
) -> Result<(Library, weld_runtime::ComponentModule)> {
    let options = weld::Options {
        prefix: prefix.into(),
        c_entry_points: false,
        cpu: weld::Cpu::Native,
        ..weld::Options::default()
    };
    let so = work.join(format!("{prefix}.so"));
    let product = weld::link::product::Product::SharedLib;
    weld::link::product::build(bytes, &options, product, &so).map_err(|e| anyhow!("weld: {e}"))?;
    let lib = Library::open(&so).map_err(|e| anyhow!("{e}"))?;
    let module = lib.component(prefix).map_err(|e| anyhow!("{e}"))?;
    Ok((lib, module))
}

/// The weld side: the component compiled and loaded; timing closures per call.
struct WeldSide {
    store: Store,
    inst: ComponentInstance,
    _module: weld_runtime::ComponentModule,
    _lib: Library,
}

impl WeldSide {
    fn new(bytes: &[u8], work: &Path) -> Result<WeldSide> {
        let (lib, module) = load_weld(bytes, work, "calls")?;
        // Typed host functions, as on the Wasmtime side: the string is borrowed from the
        // guest's memory (`WasmStr` both sides), validated, and read in place.
        let mut imports = HostImports::new();
        imports.func_wrap("host-nop", |(): ()| Ok(()));
        imports.func_wrap_with_caller(
            "host-str",
            |caller: &weld_runtime::component::Caller<'_>,
             (s,): (weld_runtime::component::WasmStr,)| {
                std::hint::black_box(caller.str(&s)?);
                Ok(())
            },
        );
        imports.func_wrap("host-records", |(l,): (Vec<Rec>,)| {
            std::hint::black_box(l);
            Ok(())
        });
        let mut store = Store::new();
        let inst = ComponentInstance::new(&mut store, &module, &imports)
            .map_err(|e| anyhow!("instantiate: {e}"))?;
        Ok(WeldSide {
            store,
            inst,
            _module: module,
            _lib: lib,
        })
    }

    /// Time `iters` calls through typed functions (as the Wasmtime side's `TypedFunc`s);
    /// ns per call.
    fn time(&mut self, call: Call, iters: u32, text: &str) -> Result<f64> {
        let trap = |e: weld_runtime::Trap| anyhow!("weld trap: {e}");
        let typed = |e: weld_runtime::component::TypedError| anyhow!("weld: {e}");
        let s = &mut self.store;
        let i = &self.inst;
        let t;
        match call {
            Call::Nop => {
                let f = i.typed_func::<(), ()>(s, "nop").map_err(typed)?;
                t = Instant::now();
                for _ in 0..iters {
                    f.call(s, ()).map_err(trap)?;
                }
            }
            Call::Take(len) => {
                let f = i.typed_func::<(&str,), ()>(s, "take").map_err(typed)?;
                let arg = &text[..len];
                t = Instant::now();
                for _ in 0..iters {
                    f.call(s, (arg,)).map_err(trap)?;
                }
            }
            Call::LoopNop | Call::LoopHostNop => {
                let name = if matches!(call, Call::LoopNop) {
                    "loop-nop"
                } else {
                    "loop-host-nop"
                };
                let f = i.typed_func::<(u32,), ()>(s, name).map_err(typed)?;
                t = Instant::now();
                f.call(s, (iters,)).map_err(trap)?;
            }
            Call::Loop(_, len) | Call::LoopHostStr(len) => {
                let name = match call {
                    Call::Loop(name, _) => name,
                    _ => "loop-host-str",
                };
                let f = i.typed_func::<(u32, u32), ()>(s, name).map_err(typed)?;
                t = Instant::now();
                f.call(s, (iters, len as u32)).map_err(trap)?;
            }
            Call::Records => {
                let f = i
                    .typed_func::<(&[Rec],), ()>(s, "take-records")
                    .map_err(typed)?;
                let arg: Vec<Rec> = records()
                    .into_iter()
                    .map(|(id, name)| Rec { id, name })
                    .collect();
                t = Instant::now();
                for _ in 0..iters {
                    f.call(s, (&arg[..],)).map_err(trap)?;
                }
            }
            Call::LoopHostRecords => {
                let f = i
                    .typed_func::<(u32, u32), ()>(s, "loop-host-records")
                    .map_err(typed)?;
                t = Instant::now();
                f.call(s, (iters, 100)).map_err(trap)?;
            }
        }
        Ok(t.elapsed().as_nanos() as f64 / iters as f64)
    }
}

struct WasmtimeSide {
    store: wasmtime::Store<()>,
    instance: wasmtime::component::Instance,
}

fn wt<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(|e| anyhow!("wasmtime: {e:?}"))
}

impl WasmtimeSide {
    fn new(bytes: &[u8]) -> Result<WasmtimeSide> {
        use wasmtime::component::{Component, Linker};
        // The synchronous calls are measured as before the crate was built with its
        // component-model-async support (for `async_calls.rs`): without the concurrency state.
        let mut config = wasmtime::Config::new();
        config.concurrency_support(false);
        let engine = wt(wasmtime::Engine::new(&config))?;
        let component = wt(Component::new(&engine, bytes))?;
        let mut linker = Linker::<()>::new(&engine);
        wt(linker.root().func_wrap("host-nop", |_, (): ()| Ok(())))?;
        wt(linker.root().func_wrap(
            "host-str",
            |store, (s,): (wasmtime::component::WasmStr,)| {
                std::hint::black_box(s.to_str(&store)?);
                Ok(())
            },
        ))?;
        wt(linker
            .root()
            .func_wrap("host-records", |_, (l,): (Vec<WtRec>,)| {
                std::hint::black_box(l);
                Ok(())
            }))?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wt(linker.instantiate(&mut store, &component))?;
        Ok(WasmtimeSide { store, instance })
    }

    fn time(&mut self, call: Call, iters: u32, text: &str) -> Result<f64> {
        let s = &mut self.store;
        let i = &self.instance;
        let t;
        match call {
            Call::Nop => {
                let f = wt(i.get_typed_func::<(), ()>(&mut *s, "nop"))?;
                t = Instant::now();
                for _ in 0..iters {
                    wt(f.call(&mut *s, ()))?;
                }
            }
            Call::Take(len) => {
                let f = wt(i.get_typed_func::<(&str,), ()>(&mut *s, "take"))?;
                let arg = &text[..len];
                t = Instant::now();
                for _ in 0..iters {
                    wt(f.call(&mut *s, (arg,)))?;
                }
            }
            Call::LoopNop | Call::LoopHostNop => {
                let name = if matches!(call, Call::LoopNop) {
                    "loop-nop"
                } else {
                    "loop-host-nop"
                };
                let f = wt(i.get_typed_func::<(u32,), ()>(&mut *s, name))?;
                t = Instant::now();
                wt(f.call(&mut *s, (iters,)))?;
            }
            Call::Loop(_, len) | Call::LoopHostStr(len) => {
                let name = match call {
                    Call::Loop(name, _) => name,
                    _ => "loop-host-str",
                };
                let f = wt(i.get_typed_func::<(u32, u32), ()>(&mut *s, name))?;
                t = Instant::now();
                wt(f.call(&mut *s, (iters, len as u32)))?;
            }
            Call::Records => {
                let f = wt(i.get_typed_func::<(&[WtRec],), ()>(&mut *s, "take-records"))?;
                let arg: Vec<WtRec> = records()
                    .into_iter()
                    .map(|(id, name)| WtRec { id, name })
                    .collect();
                t = Instant::now();
                for _ in 0..iters {
                    wt(f.call(&mut *s, (&arg[..],)))?;
                }
            }
            Call::LoopHostRecords => {
                let f = wt(i.get_typed_func::<(u32, u32), ()>(&mut *s, "loop-host-records"))?;
                t = Instant::now();
                wt(f.call(&mut *s, (iters, 100)))?;
            }
        }
        Ok(t.elapsed().as_nanos() as f64 / iters as f64)
    }
}

/// Iterations for a round of about `target_ns`, from a first estimate of ns per call.
pub fn iterations_for(ns_per_call: f64, target_ns: f64) -> u32 {
    if !ns_per_call.is_finite() || ns_per_call <= 0.0 {
        return 1000;
    }
    (target_ns / ns_per_call).clamp(100.0, 50_000_000.0) as u32
}

/// Run every case: `rounds` rounds alternating weld and Wasmtime, each of about 20 ms.
pub fn run(work: &Path, rounds: usize) -> Result<Vec<Case>> {
    let bytes = wat_to_binary(&component_wat())?;
    let text = "a".repeat(16384);
    let mut weld = WeldSide::new(&bytes, work).map_err(|e| e.context("weld side"));
    let mut wasm = WasmtimeSide::new(&bytes).map_err(|e| e.context("wasmtime side"));
    let mut out = Vec::new();
    for &(name, group, call) in CASES {
        let case = measure(
            (name, group),
            (1000, rounds),
            (&mut weld, &mut wasm),
            |ns| Ok(iterations_for(ns, 2e7)),
            (
                |w: &mut WeldSide, n| w.time(call, n, &text),
                |w: &mut WasmtimeSide, n| w.time(call, n, &text),
            ),
        );
        out.push(case);
    }
    Ok(out)
}

/// One case measured on both sides: a calibrating (and warming) run of `calibration`
/// iterations, sized by `size` into the count for each of `rounds` timed runs; errors of
/// either side are kept in the case.
pub fn measure<W, M>(
    (name, group): (&'static str, &'static str),
    (calibration, rounds): (u32, usize),
    (weld, wasm): (&mut Result<W>, &mut Result<M>),
    size: impl Fn(f64) -> Result<u32>,
    (mut time_weld, mut time_wasm): (
        impl FnMut(&mut W, u32) -> Result<f64>,
        impl FnMut(&mut M, u32) -> Result<f64>,
    ),
) -> Case {
    let mut case = Case {
        name,
        group,
        weld_ns: Vec::new(),
        wasmtime_ns: Vec::new(),
        error: None,
    };
    let mut errors = Vec::new();
    let wi = match weld {
        Ok(w) => time_weld(w, calibration)
            .and_then(&size)
            .map_err(|e| errors.push(format!("weld: {e:#}")))
            .ok(),
        Err(e) => {
            errors.push(format!("{e:#}"));
            None
        }
    };
    let mi = match wasm {
        Ok(w) => time_wasm(w, calibration)
            .and_then(&size)
            .map_err(|e| errors.push(format!("wasmtime: {e:#}")))
            .ok(),
        Err(e) => {
            errors.push(format!("{e:#}"));
            None
        }
    };
    for _ in 0..rounds {
        if let (Ok(w), Some(n)) = (&mut *weld, wi) {
            match time_weld(w, n) {
                Ok(ns) => case.weld_ns.push(ns),
                Err(e) => errors.push(format!("weld: {e:#}")),
            }
        }
        if let (Ok(w), Some(n)) = (&mut *wasm, mi) {
            match time_wasm(w, n) {
                Ok(ns) => case.wasmtime_ns.push(ns),
                Err(e) => errors.push(format!("wasmtime: {e:#}")),
            }
        }
    }
    errors.dedup();
    if !errors.is_empty() {
        case.error = Some(errors.join("; "));
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_text_is_valid_wat() {
        let bytes = wat_to_binary(&component_wat()).expect("encodes");
        assert!(bytes.starts_with(b"\0asm"));
    }

    #[test]
    fn rounds_are_sized_from_the_estimate() {
        assert_eq!(iterations_for(100.0, 2e7), 200_000);
        assert_eq!(iterations_for(0.0, 2e7), 1000);
        assert_eq!(iterations_for(1e9, 2e7), 100);
        assert_eq!(iterations_for(1e-6, 2e7), 50_000_000);
    }
}
