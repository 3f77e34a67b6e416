//! The preview1 wrapping on small modules: what is wrapped, what is refused, the repairs.

use super::exit::*;
use super::heap::*;
use super::*;

use crate::wat;

use tests_src::HELLO;

#[test]
fn a_preview1_command_becomes_a_component_that_weld_flattens() {
    let component = wrap(&wat(HELLO)).expect("adapts").expect("uses preview1");
    assert!(crate::frontend::is_component(&component));
    let info = crate::component::flatten(&component).expect("flattens");
    assert!(
        info.exports
            .iter()
            .any(|e| e.name.starts_with("wasi:cli/run@0.2")),
        "{:?}",
        info.exports.iter().map(|e| &e.name).collect::<Vec<_>>()
    );
    assert!(info
        .imports
        .iter()
        .any(|i| i.name.contains("wasi:cli/stdout")));
}

#[test]
fn modules_without_preview1_imports_are_left_alone() {
    assert_eq!(wrap(&wat("(module)")).expect("ok"), None);
}

#[test]
fn a_component_whose_nested_module_imports_preview1_is_left_alone() {
    // componentize-py's components hold core modules importing wasi_snapshot_preview1.
    let c = wat(r#"(component
      (core module
        (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (func (export "_start"))))"#);
    assert_eq!(preview1_use(&c), Preview1Use::default());
    assert_eq!(wrap(&c).expect("ok"), None);
}

#[test]
fn proc_exit_becomes_an_import_of_exit_with_code() {
    let m = wat(r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call 0 (i32.const 42))))"#);
    let renamed = exit_with_code(&m).expect("renames");
    let imports: Vec<(String, String)> = Parser::new(0)
        .parse_all(&renamed)
        .filter_map(|p| match p.expect("parses") {
            Payload::ImportSection(r) => Some(r),
            _ => None,
        })
        .flat_map(|r| r.into_imports().map(|i| i.expect("import")))
        .map(|i| (i.module.to_string(), i.name.to_string()))
        .collect();
    assert_eq!(
        imports,
        [
            (EXIT_INTERFACE.to_string(), "exit-with-code".to_string()),
            ("wasi_snapshot_preview1".to_string(), "fd_write".to_string())
        ]
    );
    let component = wrap(&m).expect("adapts").expect("preview1");
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&component)
        .expect("valid component");
    // A module without proc_exit is left as it is.
    assert_eq!(exit_with_code(&wat(HELLO)).expect("ok"), wat(HELLO));
}

#[test]
fn a_command_with_malloc_allocates_the_adapter_stack_only_after_start() {
    let m = wat(r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 0))
      (func (export "_start")))"#);
    let component = wrap(&m).expect("adapts").expect("preview1");
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&component)
        .expect("valid component");
    // Deferred already: `run` no longer begins with the call, so nothing is left to patch.
    assert!(!defer_run_stack(&mut component.clone()).expect("parses"));
    // Re-encoded without the deferral, the same module has the call to patch.
    let plain = wit_component::ComponentEncoder::default()
        .module(&realloc_via_malloc(&m).expect("ok").expect("has malloc"))
        .expect("module")
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        )
        .expect("adapter")
        .encode()
        .expect("encodes");
    let mut patched = plain.clone();
    assert!(defer_run_stack(&mut patched).expect("parses"));
    let changed: Vec<usize> = (0..plain.len())
        .filter(|&i| plain[i] != patched[i])
        .collect();
    assert!(
        (2..=6).contains(&changed.len()) && changed.iter().all(|&i| patched[i] == 0x01),
        "one `call` (opcode and index) overwritten with nops: {changed:?}"
    );
    assert_eq!(patched, component);
    // A module with a `cabi_realloc` of its own keeps the adapter as wit-component made it.
    let own = wat(r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 0))
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
      (func (export "_start")))"#);
    let mut kept = wrap(&own).expect("adapts").expect("preview1");
    assert!(
        defer_run_stack(&mut kept).expect("parses"),
        "`run` still begins with the call"
    );
}

/// Issue 23's finding: a preview1 program cut short declares sections longer than what is
/// left, and the rewriting sliced the input with those ranges and panicked. Every cut (and
/// a LEB overwritten with `ff ff ff 7f`) must give an error naming an offset instead.
#[test]
fn a_damaged_preview1_program_is_an_error_at_an_offset_not_a_panic() {
    let program: &[u8] = include_bytes!("../../../examples/wasi-c/hello.wasm");
    let mut damaged: Vec<Vec<u8>> = (9..program.len())
        .step_by(61)
        .map(|n| program[..n].to_vec())
        .collect();
    for at in (9..program.len() - 4).step_by(257) {
        let mut d = program.to_vec();
        d[at..at + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
        damaged.push(d);
    }
    let mut refused = 0;
    for d in &damaged {
        match std::panic::catch_unwind(|| wrap(d)) {
            Err(_) => panic!("adapting {} damaged bytes panicked", d.len()),
            Ok(Err(e)) => {
                refused += 1;
                assert!(e.to_string().contains("offset"), "no offset: {e}");
            }
            Ok(Ok(_)) => {}
        }
    }
    assert!(
        refused > damaged.len() / 2,
        "{refused} of {}",
        damaged.len()
    );
}

#[test]
fn other_imports_cannot_be_adapted() {
    let m = wat(r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
      (import "env" "f" (func)))"#);
    assert!(matches!(wrap(&m), Err(Error::Unsupported { .. })));
}

#[test]
fn sightglass_bench_imports_become_the_component_import_bench() {
    // The Sightglass protocol: `bench.start` / `bench.end` around the measured region.
    let m = wat(r#"(module
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
      (import "bench" "start" (func $start))
      (import "bench" "end" (func $end))
      (memory (export "memory") 1)
      (func (export "_start") (call $start) (call $end)))"#);
    let component = wrap(&m).expect("adapts").expect("preview1");
    let info = crate::component::flatten(&component).expect("flattens");
    let names: Vec<&str> = info.imports.iter().map(|i| i.name.as_str()).collect();
    assert!(names.contains(&"bench#start"), "{names:?}");
    assert!(names.contains(&"bench#end"), "{names:?}");
    assert!(
        info.exports
            .iter()
            .any(|e| e.name.starts_with("wasi:cli/run@0.2")),
        "a command"
    );
    crate::compile_component(&component, &crate::Options::default()).expect("compiles");
}

mod compile_tests {
    #[test]
    fn an_adapted_preview1_command_compiles_to_one_object() {
        let buf = wast::parser::ParseBuffer::new(super::tests_src::HELLO).expect("lex");
        let mut w: wast::Wat = wast::parser::parse(&buf).expect("parse");
        let core = w.encode().expect("encode");
        let component = super::super::wrap(&core)
            .expect("adapts")
            .expect("preview1");
        let obj =
            crate::compile_component(&component, &crate::Options::default()).expect("compiles");
        assert!(obj.len() > 1000);
    }
}

mod tests_src {
    pub const HELLO: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 6))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
}
