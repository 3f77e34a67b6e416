//! Tests of the WASI host through the `HostImports` API, without a compiled component: each
//! calls host functions by their import name (any `0.2.x` version) with `Val`s, as the
//! runtime would after lifting a guest's arguments.

use super::table::WasiState;
use super::{add_to_imports, MemoryPipe, WasiCtx};
use crate::component::{HostImports, ResourceHandle, Val};
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use weld_contract::trap::TrapCode;

pub(super) fn host(ctx: WasiCtx) -> (HostImports, Rc<RefCell<WasiState>>) {
    let mut imports = HostImports::new();
    let state = add_to_imports(&mut imports, ctx);
    (imports, state)
}

pub(super) fn call(h: &HostImports, name: &str, args: &[Val]) -> Val {
    h.call(name, args)
        .unwrap_or_else(|t| panic!("{name} trapped: {t}"))
        .unwrap_or_else(|| panic!("{name} returned nothing"))
}

/// The rep of an own handle a host function returned.
pub(super) fn own_rep(v: &Val) -> u32 {
    match v {
        Val::Own(h) => {
            assert_eq!(h.resource, ResourceHandle::HOST);
            h.rep
        }
        other => panic!("not an own handle: {other}"),
    }
}

pub(super) fn borrow(rep: u32) -> Val {
    Val::Borrow(ResourceHandle { resource: 7, rep })
}

pub(super) fn u8s(b: &[u8]) -> Val {
    Val::List(b.iter().map(|b| Val::U8(*b)).collect())
}

pub(super) fn ok_bytes(v: &Val) -> Vec<u8> {
    let Val::Result(Ok(Some(list))) = v else {
        panic!("not ok(list): {v}");
    };
    let Val::List(items) = &**list else {
        panic!("not a list: {list}");
    };
    items
        .iter()
        .map(|b| match b {
            Val::U8(b) => *b,
            _ => panic!("not a byte"),
        })
        .collect()
}

#[test]
fn stdout_and_stderr_writes_reach_the_context_streams() {
    let (out, err) = (MemoryPipe::new(), MemoryPipe::new());
    let mut ctx = WasiCtx::new();
    ctx.stdout = Box::new(out.clone());
    ctx.stderr = Box::new(err.clone());
    let (h, _) = host(ctx);
    let so = own_rep(&call(&h, "wasi:cli/stdout@0.2.0#get-stdout", &[]));
    let se = own_rep(&call(&h, "wasi:cli/stderr@0.2.6#get-stderr", &[]));
    let w = "wasi:io/streams@0.2.6#[method]output-stream.blocking-write-and-flush";
    assert_eq!(
        call(&h, w, &[borrow(so), u8s(b"hello ")]),
        Val::Result(Ok(None))
    );
    let w2 = "wasi:io/streams@0.2.3#[method]output-stream.write";
    call(&h, w2, &[borrow(so), u8s(b"world\n")]);
    call(&h, w, &[borrow(se), u8s(b"oops")]);
    let cw = call(
        &h,
        "wasi:io/streams@0.2.3#[method]output-stream.check-write",
        &[borrow(so)],
    );
    assert!(matches!(cw, Val::Result(Ok(Some(_)))));
    assert_eq!(out.contents(), b"hello world\n");
    assert_eq!(err.contents(), b"oops");
}

#[test]
fn stdin_reads_until_the_stream_is_closed() {
    let mut ctx = WasiCtx::new();
    ctx.stdin = Box::new(MemoryPipe::with(b"abcdef"));
    let (h, _) = host(ctx);
    let si = own_rep(&call(&h, "wasi:cli/stdin@0.2.0#get-stdin", &[]));
    let read = "wasi:io/streams@0.2.0#[method]input-stream.blocking-read";
    assert_eq!(
        ok_bytes(&call(&h, read, &[borrow(si), Val::U64(4)])),
        b"abcd"
    );
    let skip = "wasi:io/streams@0.2.0#[method]input-stream.skip";
    assert_eq!(
        call(&h, skip, &[borrow(si), Val::U64(1)]),
        Val::Result(Ok(Some(Box::new(Val::U64(1)))))
    );
    assert_eq!(ok_bytes(&call(&h, read, &[borrow(si), Val::U64(9)])), b"f");
    let closed = Val::Result(Err(Some(Box::new(Val::Variant("closed".into(), None)))));
    assert_eq!(call(&h, read, &[borrow(si), Val::U64(9)]), closed);
}

#[test]
fn arguments_and_environment_are_exactly_the_contexts() {
    let ctx = WasiCtx::new().arg("prog").arg("x y").env("K", "V");
    let (h, _) = host(ctx);
    let args = call(&h, "wasi:cli/environment@0.2.12#get-arguments", &[]);
    assert_eq!(args.to_string(), r#"["prog", "x y"]"#);
    let env = call(&h, "wasi:cli/environment@0.2.12#get-environment", &[]);
    assert_eq!(env.to_string(), r#"[("K", "V")]"#);
    let cwd = call(&h, "wasi:cli/environment@0.2.12#initial-cwd", &[]);
    assert_eq!(cwd, Val::Option(None));
}

#[test]
fn nothing_is_visible_by_default() {
    let (h, _) = host(WasiCtx::new());
    let args = call(&h, "wasi:cli/environment@0.2.0#get-arguments", &[]);
    assert_eq!(args, Val::List(vec![]));
    let dirs = call(&h, "wasi:filesystem/preopens@0.2.0#get-directories", &[]);
    assert_eq!(dirs, Val::List(vec![]));
}

#[test]
fn exit_records_the_status_and_raises_the_exit_trap() {
    let (h, st) = host(WasiCtx::new());
    let r = h.call("wasi:cli/exit@0.2.0#exit-with-code", &[Val::U8(42)]);
    assert_eq!(r.unwrap_err().code, TrapCode::Exit);
    assert_eq!(st.borrow().exit, Some(42));
    let r = h.call("wasi:cli/exit@0.2.0#exit", &[Val::Result(Err(None))]);
    assert_eq!(r.unwrap_err().code, TrapCode::Exit);
    assert_eq!(st.borrow().exit, Some(1));
}

#[test]
fn clocks_advance_and_timers_become_ready_after_their_duration() {
    let (h, _) = host(WasiCtx::new());
    let now = |h: &HostImports| match call(h, "wasi:clocks/monotonic-clock@0.2.0#now", &[]) {
        Val::U64(t) => t,
        v => panic!("{v}"),
    };
    let t0 = now(&h);
    let sub = "wasi:clocks/monotonic-clock@0.2.0#subscribe-duration";
    let p = own_rep(&call(&h, sub, &[Val::U64(200_000_000)]));
    let ready = "wasi:io/poll@0.2.0#[method]pollable.ready";
    assert_eq!(call(&h, ready, &[borrow(p)]), Val::Bool(false));
    let polled = call(&h, "wasi:io/poll@0.2.0#poll", &[Val::List(vec![borrow(p)])]);
    assert_eq!(polled, Val::List(vec![Val::U32(0)]));
    assert!(now(&h) >= t0 + 200_000_000);
    assert_eq!(call(&h, ready, &[borrow(p)]), Val::Bool(true));
    let wall = call(&h, "wasi:clocks/wall-clock@0.2.0#now", &[]);
    let Val::Record(fields) = wall else { panic!() };
    assert_eq!(fields[0].0, "seconds");
    assert!(matches!(fields[0].1, Val::U64(s) if s > 1_600_000_000));
}

#[test]
fn random_bytes_have_the_asked_length_and_huge_requests_trap() {
    let (h, _) = host(WasiCtx::new());
    for name in [
        "wasi:random/random@0.2.0#get-random-bytes",
        "wasi:random/insecure@0.2.0#get-insecure-random-bytes",
    ] {
        let Val::List(b) = call(&h, name, &[Val::U64(13)]) else {
            panic!()
        };
        assert_eq!(b.len(), 13);
        assert!(h.call(name, &[Val::U64(u64::MAX)]).is_err());
    }
    let a = call(&h, "wasi:random/random@0.2.0#get-random-u64", &[]);
    let b = call(&h, "wasi:random/random@0.2.0#get-random-u64", &[]);
    assert_ne!(a, b);
    let Val::List(many) = call(
        &h,
        "wasi:random/random@0.2.0#get-random-bytes",
        &[Val::U64(64)],
    ) else {
        panic!()
    };
    assert!(many.iter().any(|b| *b != Val::U8(0)), "64 zero bytes");
    // The insecure seed is drawn once (on first use) and stays; the generator moves on.
    let seed = call(&h, "wasi:random/insecure-seed@0.2.0#insecure-seed", &[]);
    assert!(matches!(seed, Val::Tuple(ref t) if t.len() == 2));
    let insecure = "wasi:random/insecure@0.2.0#get-insecure-random-u64";
    assert_ne!(call(&h, insecure, &[]), call(&h, insecure, &[]));
    let again = call(&h, "wasi:random/insecure-seed@0.2.0#insecure-seed", &[]);
    assert_eq!(seed, again);
}

#[test]
fn dropping_a_handle_frees_the_host_resource_under_any_alias() {
    let (h, st) = host(WasiCtx::new());
    let a = own_rep(&call(&h, "wasi:cli/stdout@0.2.0#get-stdout", &[]));
    let b = own_rep(&call(&h, "wasi:cli/stdout@0.2.0#get-stdout", &[]));
    assert_ne!(a, b);
    assert_eq!(st.borrow().live(), 2);
    assert!(h.drop_resource("wasi:io/streams@0.2.9#output-stream", a));
    assert_eq!(st.borrow().live(), 1);
    assert!(h.drop_resource("wasi:cli/stdout@0.2.0#output-stream", b));
    assert_eq!(st.borrow().live(), 0);
    // A freed rep is an unknown handle for the host functions.
    let w = "wasi:io/streams@0.2.0#[method]output-stream.write";
    let r = h.call(w, &[borrow(a), u8s(b"x")]);
    assert_eq!(r.unwrap_err().code, TrapCode::UnknownHandle);
    // Reps are reused.
    let c = own_rep(&call(&h, "wasi:cli/stdout@0.2.0#get-stdout", &[]));
    assert!(c == a || c == b);
}

#[test]
fn stream_errors_carry_an_error_resource_with_a_message() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut ctx = WasiCtx::new();
    ctx.stdout = Box::new(Broken);
    let (h, _) = host(ctx);
    let so = own_rep(&call(&h, "wasi:cli/stdout@0.2.0#get-stdout", &[]));
    let r = call(
        &h,
        "wasi:io/streams@0.2.0#[method]output-stream.write",
        &[borrow(so), u8s(b"x")],
    );
    let Val::Result(Err(Some(e))) = r else {
        panic!("{r}")
    };
    let Val::Variant(case, Some(err)) = *e else {
        panic!()
    };
    assert_eq!(case, "last-operation-failed");
    let msg = call(
        &h,
        "wasi:io/error@0.2.0#[method]error.to-debug-string",
        &[borrow(own_rep(&err))],
    );
    assert_eq!(msg, Val::String(String::from("disk on fire")));
}

#[test]
fn a_component_gets_exactly_the_functions_it_imports() {
    let mut imports = HostImports::new();
    let names = [
        "wasi:cli/stdout@0.2.3#get-stdout",
        "wasi:io/streams@0.2.0#[method]output-stream.blocking-write-and-flush",
        "wasi:io/streams@0.2.0#output-stream",
    ];
    let state = super::add_to_imports_for(&mut imports, WasiCtx::new(), names);
    for n in [
        "wasi:cli/stdout@0.2.0#get-stdout",
        "wasi:io/streams@0.2.6#[method]output-stream.blocking-write-and-flush",
    ] {
        assert!(imports.contains(n), "{n} missing");
    }
    for n in [
        "wasi:cli/stderr@0.2.0#get-stderr",
        "wasi:io/streams@0.2.0#[method]output-stream.write",
        "wasi:filesystem/types@0.2.0#[method]descriptor.read",
    ] {
        assert!(!imports.contains(n), "{n} registered though not imported");
    }
    // The registered function works.
    let out = call(&imports, "wasi:cli/stdout@0.2.0#get-stdout", &[]);
    assert!(state.borrow().live() >= 1, "{out:?}");
}
