//! The host's side of async exports: `ComponentInstance::call` returns once the task resolves,
//! even if the task goes on (suspended on its fiber); a task that can never resolve is a
//! deadlock trap that leaves the host in control; calls the host does not wait for
//! (`start_call`) are polled, waited for and cancelled; and while tasks are suspended the
//! instance may only be called with the store they run in. The component:
//! `tests/components/async-host.wat`.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use weld_runtime::component::{CallState, Val};
use weld_runtime::{ComponentInstance, ComponentModule, HostImports, Library, Store, TrapCode};

struct Loaded {
    _dir: tempfile::TempDir,
    _lib: Library,
    module: ComponentModule,
}

fn load() -> Option<Loaded> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/components/async-host.wat");
    load_text("async_host", &std::fs::read_to_string(path).unwrap())
}

/// Compile and load component `text` under symbol prefix `prefix` (one per component: the
/// loaded objects share one symbol namespace).
fn load_text(prefix: &str, text: &str) -> Option<Loaded> {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no C compiler (cc)");
        return None;
    }
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let bytes = wat.encode().unwrap();
    let options = weld::Options {
        prefix: prefix.into(),
        c_entry_points: false,
        ..weld::Options::default()
    };
    let obj = weld::compile_component(&bytes, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = common::load_objects(dir.path(), &[(prefix, &obj)]);
    let module = lib.component(prefix).unwrap();
    Some(Loaded {
        _dir: dir,
        _lib: lib,
        module,
    })
}

#[test]
fn a_call_returns_when_the_task_resolves_and_the_task_may_stay_suspended() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    for _ in 0..3 {
        assert_eq!(
            inst.call(&mut store, "linger", &[]).unwrap(),
            Some(Val::U32(7))
        );
    }
    // The instance still serves calls while those tasks wait on their fibers.
    assert_eq!(
        inst.call(&mut store, "count", &[]).unwrap(),
        Some(Val::U32(1))
    );
}

#[test]
fn a_task_that_can_never_resolve_is_a_deadlock_trap_returned_to_the_host() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    let t = inst.call(&mut store, "stuck", &[]).unwrap_err();
    assert_eq!(t.code, TrapCode::AsyncDeadlock);
    // The host goes on: another instance of the same component works.
    let mut store = Store::new();
    let other = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    assert_eq!(
        other.call(&mut store, "count", &[]).unwrap(),
        Some(Val::U32(1))
    );
}

#[test]
fn another_store_is_refused_while_tasks_are_suspended_in_the_first() {
    let Some(l) = load() else { return };
    let mut store = Box::new(Store::new());
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    assert_eq!(
        inst.call(&mut store, "linger", &[]).unwrap(),
        Some(Val::U32(7))
    );
    let mut other = Store::new();
    let t = inst.call(&mut other, "count", &[]).unwrap_err();
    assert_eq!(t.code, TrapCode::StoreMoved);
    assert_eq!(
        inst.call(&mut store, "count", &[]).unwrap(),
        Some(Val::U32(1))
    );
}

#[test]
fn a_started_call_is_polled_until_it_returns_and_is_over_after() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    let call = inst.start_call(&mut store, "linger", &[]).unwrap();
    let state = inst.poll_call(&mut store, &call).unwrap();
    assert_eq!(state, CallState::Returned(Some(Val::U32(7))));
    // The outcome was reported: the handle names no call any more.
    assert_eq!(
        inst.poll_call(&mut store, &call).unwrap_err().code,
        TrapCode::InvalidValue
    );
}

#[test]
fn a_call_that_cannot_finish_stays_pending_until_the_host_cancels_it() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    let call = inst.start_call(&mut store, "patient", &[]).unwrap();
    for _ in 0..3 {
        assert_eq!(
            inst.poll_call(&mut store, &call).unwrap(),
            CallState::Pending
        );
    }
    // The task waits in its callback loop: it is told at once and answers with task.cancel.
    assert_eq!(
        inst.cancel_call(&mut store, &call).unwrap(),
        CallState::Cancelled
    );
    assert_eq!(
        inst.call(&mut store, "count", &[]).unwrap(),
        Some(Val::U32(1))
    );
}

#[test]
fn waiting_for_a_call_that_cannot_finish_is_a_deadlock_trap() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    let call = inst.start_call(&mut store, "stuck", &[]).unwrap();
    let t = inst.wait_call(&mut store, call).unwrap_err();
    assert_eq!(t.code, TrapCode::AsyncDeadlock);
}

#[test]
fn only_async_exports_with_arguments_of_their_types_can_be_started() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let inst = ComponentInstance::new(&mut store, &l.module, &HostImports::new()).unwrap();
    for (name, args) in [
        ("count", vec![]),
        ("linger", vec![Val::U32(1)]),
        ("nope", vec![]),
    ] {
        let t = inst.start_call(&mut store, name, &args).unwrap_err();
        assert_eq!(t.code, TrapCode::InvalidValue, "{name}");
    }
}

#[test]
fn a_typed_host_function_lowered_async_is_refused_at_instantiation_and_a_val_one_serves() {
    let Some(l) = load_text(
        "async_ping",
        r#"(component
          (import "ping" (func $ping async))
          (core func $ping' (canon lower (func $ping) async))
          (core module $m
            (import "" "ping" (func $ping (result i32)))
            (func (export "run") (result i32) (call $ping)))
          (core instance $i (instantiate $m (with "" (instance (export "ping" (func $ping'))))))
          (func (export "run") (result u32) (canon lift (core func $i "run"))))"#,
    ) else {
        return;
    };
    let mut store = Store::new();
    let mut typed = HostImports::new();
    typed.func_wrap("ping", |(): ()| Ok(()));
    let e = ComponentInstance::new(&mut store, &l.module, &typed).unwrap_err();
    assert!(e.to_string().contains("lowered `async`"), "{e}");
    let mut vals = HostImports::new();
    vals.insert("ping", |_: &[Val]| Ok(None));
    let inst = ComponentInstance::new(&mut store, &l.module, &vals).unwrap();
    // RETURNED (2): the host function finished before the call returned.
    assert_eq!(
        inst.call(&mut store, "run", &[]).unwrap(),
        Some(Val::U32(2))
    );
}
