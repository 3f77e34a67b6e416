//! Start-up and size: a C hello-world command — weld's executable, Wasmtime running the
//! precompiled `.cwasm`, and the same C compiled natively (`gcc -O2 -static`) — run in turn many
//! times; wall time and peak RSS per process, executable sizes.

use crate::procs::{tail, Tools};
use crate::sightglass::path_str;
use crate::stats::Summary;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

const HELLO_C: &str =
    "#include <stdio.h>\nint main(void) {\n  printf(\"Hello, world!\\n\");\n  return 0;\n}\n";

/// A preview1 hello world in WAT, for machines without examples/wasi-c/hello.wasm or clang.
const HELLO_WAT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello, world!\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

#[derive(Debug, Default, Clone)]
pub struct Side {
    pub wall_ns: Vec<f64>,
    pub rss_kib: Vec<f64>,
    pub size: Option<u64>,
    pub error: Option<String>,
}

impl Side {
    pub fn wall(&self) -> Option<Summary> {
        Summary::of(&self.wall_ns)
    }
    pub fn rss(&self) -> Option<Summary> {
        Summary::of(&self.rss_kib)
    }
}

#[derive(Debug, Default)]
pub struct Startup {
    /// Where the wasm came from.
    pub source: String,
    pub weld: Side,
    pub wasmtime: Side,
    pub native: Side,
}

/// The hello-world wasm: examples/wasi-c/hello.wasm, else built with clang, else the WAT.
fn hello_wasm(repo: &Path, work: &Path) -> Result<(PathBuf, String)> {
    let checked_in = repo.join("examples/wasi-c/hello.wasm");
    if checked_in.is_file() {
        return Ok((
            checked_in,
            "examples/wasi-c/hello.wasm (C, wasi-libc)".into(),
        ));
    }
    let c = work.join("hello.c");
    std::fs::write(&c, HELLO_C)?;
    let out = work.join("hello.wasm");
    for clang in ["clang-19", "clang"] {
        let ok = std::process::Command::new(clang)
            .args(["--target=wasm32-wasi", "-O2", "-o"])
            .arg(&out)
            .arg(&c)
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok((out, format!("hello.c built with {clang}")));
        }
    }
    let wat = work.join("hello.wat");
    std::fs::write(&wat, HELLO_WAT)?;
    Ok((
        wat,
        "a WAT hello world (no clang for wasm32-wasi here)".into(),
    ))
}

pub fn run(tools: &Tools, repo: &Path, rounds: usize) -> Result<Startup> {
    let w = &tools.work;
    let (wasm, source) = hello_wasm(repo, w)?;
    let mut s = Startup {
        source,
        ..Startup::default()
    };
    // Native: the C source next to the wasm if any, else ours.
    let c_src = repo.join("examples/wasi-c/hello.c");
    let c_src = if c_src.is_file() && wasm.starts_with(repo) {
        c_src
    } else {
        let p = w.join("hello-native.c");
        std::fs::write(&p, HELLO_C)?;
        p
    };
    let native = w.join("hello-native");
    let run = tools.measure(
        w,
        Path::new("gcc"),
        &[
            "-O2",
            "-static",
            "-o",
            &path_str(&native)?,
            &path_str(&c_src)?,
        ],
    );
    match run {
        Ok(r) if r.usage.status == 0 => s.native.size = size(&native),
        Ok(r) => s.native.error = Some(format!("gcc: {}", tail(&r.stderr))),
        Err(e) => s.native.error = Some(format!("{e:#}")),
    }
    let exe = w.join("hello-weld");
    let run = tools.measure(
        w,
        &tools.weld,
        &["compile", &path_str(&wasm)?, "-o", &path_str(&exe)?],
    );
    match run {
        Ok(r) if r.usage.status == 0 => s.weld.size = size(&exe),
        Ok(r) => s.weld.error = Some(format!("weld compile: {}", tail(&r.stderr))),
        Err(e) => s.weld.error = Some(format!("{e:#}")),
    }
    let cwasm = w.join("hello.cwasm");
    match tools.wasmtime() {
        Ok(wt) => match tools.measure(
            w,
            wt,
            &["compile", &path_str(&wasm)?, "-o", &path_str(&cwasm)?],
        ) {
            Ok(r) if r.usage.status == 0 => s.wasmtime.size = size(&cwasm),
            Ok(r) => s.wasmtime.error = Some(format!("wasmtime compile: {}", tail(&r.stderr))),
            Err(e) => s.wasmtime.error = Some(format!("{e:#}")),
        },
        Err(e) => s.wasmtime.error = Some(format!("{e:#}")),
    }
    let cw = path_str(&cwasm)?;
    for _ in 0..rounds {
        if s.weld.error.is_none() {
            one(tools, &exe, &[], &mut s.weld);
        }
        if s.wasmtime.error.is_none() {
            if let Ok(wt) = tools.wasmtime() {
                one(
                    tools,
                    wt,
                    &["run", "--allow-precompiled", &cw],
                    &mut s.wasmtime,
                );
            }
        }
        if s.native.error.is_none() {
            one(tools, &native, &[], &mut s.native);
        }
    }
    Ok(s)
}

fn size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

fn one(tools: &Tools, program: &Path, args: &[&str], side: &mut Side) {
    let check = || -> Result<crate::procs::Run> {
        let r = tools
            .measure(&tools.work, program, args)
            .with_context(|| program.display().to_string())?;
        if r.usage.status != 0 {
            bail!("exit status {}: {}", r.usage.status, tail(&r.stderr));
        }
        if !crate::stats::output_matches(&r.stdout, b"Hello, world!") {
            bail!("unexpected output {:?}", String::from_utf8_lossy(&r.stdout));
        }
        Ok(r)
    };
    match check() {
        Ok(r) => {
            side.wall_ns.push(r.usage.wall_ns as f64);
            side.rss_kib.push(r.usage.maxrss_kib as f64);
        }
        Err(e) => side.error = Some(format!("{e:#}")),
    }
}
