//! Filesystem tests through `HostImports`: a temporary directory preopened as `/sandbox`,
//! files made, read, listed, renamed and removed through the WASI functions, and the sandbox
//! refusing `..`, absolute paths and symlinks that leave it.

use super::tests::{borrow, call, host, ok_bytes, own_rep, u8s};
use super::WasiCtx;
use crate::component::{HostImports, Val};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::path::PathBuf;

const T: &str = "wasi:filesystem/types@0.2.3#[method]descriptor.";

fn flags(names: &[&str]) -> Val {
    Val::Flags(names.iter().map(|n| n.to_string()).collect())
}

fn temp(tag: &str) -> PathBuf {
    use core::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let p = std::env::temp_dir().join(alloc::format!("weld-fs-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The host functions and the rep of the one preopen.
fn sandbox(dir: &PathBuf) -> (HostImports, u32) {
    let (h, _) = host(WasiCtx::new().preopen(dir, "/sandbox"));
    let dirs = call(&h, "wasi:filesystem/preopens@0.2.0#get-directories", &[]);
    let Val::List(dirs) = dirs else { panic!() };
    let Val::Tuple(pair) = &dirs[0] else { panic!() };
    assert_eq!(pair[1], Val::String("/sandbox".into()));
    (h, own_rep(&pair[0]))
}

fn m(h: &HostImports, name: &str, args: &[Val]) -> Val {
    call(h, &alloc::format!("{T}{name}"), args)
}

fn open(h: &HostImports, dir: u32, path: &str, oflags: &[&str], dflags: &[&str]) -> Val {
    let args = [
        borrow(dir),
        flags(&["symlink-follow"]),
        Val::String(path.into()),
        flags(oflags),
        flags(dflags),
    ];
    m(h, "open-at", &args)
}

fn err_code(v: &Val) -> String {
    match v {
        Val::Result(Err(Some(e))) => match &**e {
            Val::Enum(c) => c.clone(),
            other => panic!("not an error code: {other}"),
        },
        other => panic!("not an error: {other}"),
    }
}

fn ok_own(v: &Val) -> u32 {
    match v {
        Val::Result(Ok(Some(x))) => own_rep(x),
        other => panic!("not ok(own): {other}"),
    }
}

fn s(v: &str) -> Val {
    Val::String(v.into())
}

#[test]
fn files_are_created_written_read_and_stated_inside_the_preopen() {
    let dir = temp("rw");
    let (h, root) = sandbox(&dir);
    let f = ok_own(&open(&h, root, "new.txt", &["create"], &["read", "write"]));
    let w = m(&h, "write-via-stream", &[borrow(f), Val::U64(0)]);
    let out = ok_own(&w);
    let write = "wasi:io/streams@0.2.0#[method]output-stream.blocking-write-and-flush";
    call(&h, write, &[borrow(out), u8s(b"hello file")]);
    assert_eq!(std::fs::read(dir.join("new.txt")).unwrap(), b"hello file");
    let input = ok_own(&m(&h, "read-via-stream", &[borrow(f), Val::U64(6)]));
    let read = "wasi:io/streams@0.2.0#[method]input-stream.read";
    assert_eq!(
        ok_bytes(&call(&h, read, &[borrow(input), Val::U64(100)])),
        b"file"
    );
    let r = m(&h, "read", &[borrow(f), Val::U64(5), Val::U64(0)]);
    assert_eq!(r.to_string(), "ok(([104, 101, 108, 108, 111], false))");
    let st = m(&h, "stat", &[borrow(f)]);
    let Val::Result(Ok(Some(st))) = st else {
        panic!()
    };
    let Val::Record(fields) = *st else { panic!() };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "type",
            "link-count",
            "size",
            "data-access-timestamp",
            "data-modification-timestamp",
            "status-change-timestamp"
        ]
    );
    assert_eq!(fields[0].1, Val::Enum("regular-file".into()));
    assert_eq!(fields[2].1, Val::U64(10));
    let ty = m(&h, "get-type", &[borrow(root)]);
    assert_eq!(ty.to_string(), "ok(directory)");
    let w = m(&h, "write", &[borrow(f), u8s(b"J"), Val::U64(0)]);
    assert_eq!(w.to_string(), "ok(1)");
    assert_eq!(std::fs::read(dir.join("new.txt")).unwrap(), b"Jello file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn directories_are_listed_renamed_and_removed() {
    let dir = temp("dirs");
    std::fs::write(dir.join("a.txt"), "a").unwrap();
    let (h, root) = sandbox(&dir);
    assert_eq!(
        m(&h, "create-directory-at", &[borrow(root), s("sub")]).to_string(),
        "ok"
    );
    let exists = m(&h, "create-directory-at", &[borrow(root), s("sub")]);
    assert_eq!(err_code(&exists), "exist");
    let ren = [borrow(root), s("a.txt"), borrow(root), s("sub/b.txt")];
    assert_eq!(m(&h, "rename-at", &ren).to_string(), "ok");
    let sub = ok_own(&open(&h, root, "sub", &["directory"], &["read"]));
    let stream = ok_own(&m(&h, "read-directory", &[borrow(sub)]));
    let next = "wasi:filesystem/types@0.2.0#[method]directory-entry-stream.read-directory-entry";
    let e = call(&h, next, &[borrow(stream)]);
    assert_eq!(
        e.to_string(),
        r#"ok(some({type: regular-file, name: "b.txt"}))"#
    );
    assert_eq!(call(&h, next, &[borrow(stream)]).to_string(), "ok(none)");
    let not_empty = m(&h, "remove-directory-at", &[borrow(root), s("sub")]);
    assert_eq!(err_code(&not_empty), "not-empty");
    assert_eq!(
        m(&h, "unlink-file-at", &[borrow(sub), s("b.txt")]).to_string(),
        "ok"
    );
    assert_eq!(
        m(&h, "remove-directory-at", &[borrow(root), s("sub")]).to_string(),
        "ok"
    );
    let gone = m(&h, "stat-at", &[borrow(root), flags(&[]), s("sub")]);
    assert_eq!(err_code(&gone), "no-entry");
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sandbox_refuses_dot_dot_absolute_paths_and_escaping_symlinks() {
    let base = temp("escape");
    let dir = base.join("root");
    std::fs::create_dir_all(dir.join("inner")).unwrap();
    std::fs::write(base.join("secret"), "s").unwrap();
    std::fs::write(dir.join("inner/ok.txt"), "fine").unwrap();
    std::os::unix::fs::symlink("../secret", dir.join("out")).unwrap();
    std::os::unix::fs::symlink("inner/ok.txt", dir.join("in")).unwrap();
    let (h, root) = sandbox(&dir);
    let secret = base.join("secret").to_str().unwrap().to_string();
    for path in [
        "../secret",
        "inner/../../secret",
        "out",
        &secret,
        "/etc/passwd",
    ] {
        let r = open(&h, root, path, &[], &["read"]);
        assert_eq!(err_code(&r), "not-permitted", "{path}");
        let st = m(
            &h,
            "stat-at",
            &[borrow(root), flags(&["symlink-follow"]), s(path)],
        );
        assert_eq!(err_code(&st), "not-permitted", "{path}");
    }
    let made = m(&h, "symlink-at", &[borrow(root), s(&secret), s("abs")]);
    assert_eq!(err_code(&made), "not-permitted");
    // Nested paths and symlinks that stay inside work.
    for path in ["inner/ok.txt", "in", "inner/../in"] {
        let f = ok_own(&open(&h, root, path, &[], &["read"]));
        let r = m(&h, "read", &[borrow(f), Val::U64(100), Val::U64(0)]);
        assert_eq!(r.to_string(), "ok(([102, 105, 110, 101], true))", "{path}");
    }
    let link = m(&h, "readlink-at", &[borrow(root), s("in")]);
    assert_eq!(link, Val::Result(Ok(Some(Box::new(s("inner/ok.txt"))))));
    // A directory descriptor below the root cannot climb out either.
    let inner = ok_own(&open(&h, root, "inner", &["directory"], &[]));
    let up = open(&h, inner, "../../secret", &[], &["read"]);
    assert_eq!(err_code(&up), "not-permitted");
    ok_own(&open(&h, inner, "../in", &[], &["read"]));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn sockets_link_but_refuse_to_connect() {
    let (h, _) = host(WasiCtx::new());
    let tcp = "wasi:sockets/tcp-create-socket@0.2.0#create-tcp-socket";
    let r = call(&h, tcp, &[Val::Enum("ipv4".into())]);
    assert_eq!(err_code(&r), "access-denied");
    let net = call(
        &h,
        "wasi:sockets/instance-network@0.2.0#instance-network",
        &[],
    );
    let lookup = "wasi:sockets/ip-name-lookup@0.2.0#resolve-addresses";
    let r = call(&h, lookup, &[borrow(own_rep(&net)), s("example.com")]);
    assert_eq!(err_code(&r), "access-denied");
}
