//! A WASI 0.2 host (`std` only): what `wasi:cli/command` components import, implemented over
//! the component embedder API ([`HostImports`](crate::HostImports), [`Val`](crate::Val)).
//!
//! - [`WasiCtx`]: what the program may see — arguments, environment, preopened directories,
//!   stdio. Nothing by default (no files, no environment, stdin empty, output discarded).
//! - [`add_to_imports`]: registers every WASI function (names at `@0.2`, so any `0.2.x` import
//!   matches) and the drop callbacks of WASI's resource types; returns the shared [`WasiState`].
//! - [`run_command`]: instantiate a command component and call `wasi:cli/run#run`.
//! - `weld_main`: the C entry of `weld compile --emit exe` executables ([`main`]).
//!
//! Host resources (streams, pollables, descriptors, ...) live in one table of the state
//! ([`table`]); their rep is the table index. The pieces: [`cli`] (environment, exit, stdio,
//! terminals), [`io`] (streams, poll, error), [`clocks`] (clocks, random), [`filesystem`] over
//! [`sandbox`] (path resolution inside preopens), [`sockets`] (present, always refusing).
//!
//! `exit` raises the trap [`TrapCode::Exit`](crate::TrapCode::Exit) after recording the status
//! in the state: the trap unwinds the wasm stack to the runner, which reports the status.

pub mod cli;
pub mod clocks;
pub mod filesystem;
pub mod fsmeta;
pub mod io;
pub mod main;
pub mod run;
pub mod sandbox;
pub mod sockets;
pub mod table;
mod vals;

#[cfg(test)]
mod fs_tests;
#[cfg(test)]
mod tests;

pub use run::{run_command, RunError};
pub use table::{Obj, WasiState};

use crate::component::HostImports;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use std::io::{Read, Write};
use std::path::PathBuf;

/// What a WASI program may see. Build with [`WasiCtx::new`] and the builder methods.
pub struct WasiCtx {
    /// `get-arguments`, program name first.
    pub args: Vec<String>,
    /// `get-environment`.
    pub env: Vec<(String, String)>,
    /// Preopened directories: host path, and the name the guest sees (`get-directories`).
    pub preopens: Vec<(PathBuf, String)>,
    /// `initial-cwd`.
    pub cwd: Option<String>,
    /// What `get-stdin` reads.
    pub stdin: Box<dyn Read>,
    /// Where `get-stdout` writes.
    pub stdout: Box<dyn Write>,
    /// Where `get-stderr` writes.
    pub stderr: Box<dyn Write>,
    /// Imports the WASI host does not provide trap when called instead of failing
    /// instantiation (see [`HostImports::set_trap_unknown_imports`]).
    pub trap_unknown_imports: bool,
}

impl Default for WasiCtx {
    fn default() -> Self {
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            cwd: None,
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
            trap_unknown_imports: false,
        }
    }
}

impl core::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args)
            .field("env", &self.env)
            .field("preopens", &self.preopens)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl WasiCtx {
    /// Nothing: no arguments, environment or directories; empty stdin; output discarded.
    pub fn new() -> WasiCtx {
        WasiCtx::default()
    }

    /// Use the process's stdin, stdout and stderr.
    pub fn inherit_stdio(mut self) -> WasiCtx {
        self.stdin = Box::new(ProcessStdin);
        self.stdout = Box::new(std::io::stdout());
        self.stderr = Box::new(std::io::stderr());
        self
    }

    /// Append an argument.
    pub fn arg(mut self, a: impl Into<String>) -> WasiCtx {
        self.args.push(a.into());
        self
    }

    /// Append an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> WasiCtx {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Preopen host directory `host` as `guest`.
    pub fn preopen(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> WasiCtx {
        self.preopens.push((host.into(), guest.into()));
        self
    }
}

/// The process's stdin, reached only when the program reads it: `std::io::stdin()` allocates its
/// 8 KiB buffer on first use, which most programs (and every start-up) never need.
struct ProcessStdin;

impl Read for ProcessStdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::stdin().read(buf)
    }
}

/// An in-memory pipe: clones share one buffer. Write to it (as a program's stdout) and read
/// what was written with [`MemoryPipe::contents`], or fill it and give it as stdin.
#[derive(Clone, Debug, Default)]
pub struct MemoryPipe(Rc<RefCell<std::collections::VecDeque<u8>>>);

impl MemoryPipe {
    /// An empty pipe.
    pub fn new() -> MemoryPipe {
        MemoryPipe::default()
    }

    /// A pipe holding `bytes`.
    pub fn with(bytes: &[u8]) -> MemoryPipe {
        MemoryPipe(Rc::new(RefCell::new(bytes.iter().copied().collect())))
    }

    /// The bytes not read yet.
    pub fn contents(&self) -> Vec<u8> {
        self.0.borrow().iter().copied().collect()
    }
}

impl Write for MemoryPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for MemoryPipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut q = self.0.borrow_mut();
        let n = buf.len().min(q.len());
        for (dst, src) in buf.iter_mut().zip(q.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

/// Those of `names` (component import names, any 0.2.x version) that the WASI host does not
/// provide, in the order given: what `weld compile` reports before making an executable.
pub fn unprovided<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut host = HostImports::new();
    add_to_imports(&mut host, WasiCtx::new());
    names
        .into_iter()
        .filter(|n| !host.contains(n))
        .map(String::from)
        .collect()
}

/// Register the whole WASI 0.2 host for `ctx` in `imports`; the state the functions share
/// (to read the exit status, or inspect resources in tests).
pub fn add_to_imports(imports: &mut HostImports, ctx: WasiCtx) -> Rc<RefCell<WasiState>> {
    register(imports, ctx, None)
}

/// [`add_to_imports`], registering only the functions and resource drops `names` name
/// (`interface#function` import names and `interface#resource` host resource names, any 0.2.x
/// version): what an executable does, knowing its component's imports.
pub fn add_to_imports_for<'a>(
    imports: &mut HostImports,
    ctx: WasiCtx,
    names: impl IntoIterator<Item = &'a str>,
) -> Rc<RefCell<WasiState>> {
    let needed = names
        .into_iter()
        .map(|n| crate::component::names::normalize(n).into_owned())
        .collect();
    register(imports, ctx, Some(needed))
}

fn register(
    imports: &mut HostImports,
    ctx: WasiCtx,
    needed: Option<Vec<String>>,
) -> Rc<RefCell<WasiState>> {
    imports.set_trap_unknown_imports(ctx.trap_unknown_imports);
    let state = Rc::new(RefCell::new(WasiState::new(ctx)));
    let mut reg = table::Registrar::new(imports, state.clone(), needed);
    cli::register(&mut reg);
    io::register(&mut reg);
    clocks::register(&mut reg);
    filesystem::register(&mut reg);
    sockets::register(&mut reg);
    state
}
