//! `weld run`: compile (with a cache), load and run a module or component in this process.
//!
//! In: the input bytes, compilation options and a [`RunConfig`]: an optional `--invoke` call in
//! WAVE syntax, the program's arguments and its sandbox (`--dir`, `--env`).
//! Out: the call's results printed in WAVE syntax (one line), or the program run — a command
//! component (`wasi:cli/run`) with the WASI 0.2 host, like `wasmtime run`; a WASI preview1 core
//! module after adapting it to such a component; a plain core module through its `_start` — and
//! an exit status.
//!
//! The sandbox gives nothing by default: no directories, no environment; stdio is the
//! process's. `--dir HOST[::GUEST]` and `--env NAME[=VALUE]` mean what they mean for the
//! executables `weld compile` writes (`weld_runtime::wasi::main`), which is how `wasmtime run`
//! spells them.
//!
//! Compiled shared libraries are cached in `$WELD_CACHE_DIR` (else `$XDG_CACHE_HOME/weld`, else
//! `~/.cache/weld`), keyed by a hash of the input, the options and weld's version, so a second
//! run skips compilation. A trap prints `trap: <message>` and gives exit status 134, as the
//! executables `weld compile --emit exe` writes do.

pub mod invoke;
pub mod wave;

use crate::error::{Error, Result};
use crate::options::Options;
use std::path::{Path, PathBuf};
use weld_contract::info::{ExportKind, ValType};
use weld_runtime::{ComponentInstance, Extern, HostImports, Instance, Library, Store, ValRaw};

/// Exit status of a run that trapped.
pub const TRAP_EXIT: i32 = 134;

/// The symbol prefix cached libraries use.
const PREFIX: &str = "weld_run";

/// Where compiled artifacts are cached.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WELD_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("weld");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache/weld"),
        None => std::env::temp_dir().join("weld-cache"),
    }
}

/// 128-bit content hash (two independent 64-bit FNV-1a variants): a cache key, not a security
/// boundary — the cache directory belongs to the user.
fn hash128(parts: &[&[u8]]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for p in parts {
        for &byte in p.iter().chain(&[0xff]) {
            a = (a ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ byte as u64)
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(5);
        }
    }
    format!("{a:016x}{b:016x}")
}

/// What distinguishes this weld build from another of the same version (the executable's size
/// and modification time), so a rebuilt weld never reuses code an older build compiled.
fn build_identity() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{mtime}", m.len())
        })
        .unwrap_or_default()
}

/// A cache key for `parts` made by this weld build (its version and [`build_identity`]).
pub(crate) fn build_key(parts: &[&[u8]]) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let identity = build_identity();
    let mut all = parts.to_vec();
    all.extend([version.as_bytes(), identity.as_bytes()]);
    hash128(&all)
}

/// Compile `bytes` to a cached shared library; returns its path.
pub fn compile_cached(bytes: &[u8], options: &Options) -> Result<PathBuf> {
    let mut o = options.clone();
    o.prefix = PREFIX.to_string();
    o.c_entry_points = false;
    o.c_host_adapters = false;
    let key = build_key(&[bytes, format!("{o:?}").as_bytes()]);
    let dir = cache_dir();
    let so = dir.join(format!("{key}.so"));
    if so.is_file() {
        return Ok(so);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        what: format!("creating the cache directory {}", dir.display()),
        source: e,
    })?;
    crate::link::product::build(bytes, &o, crate::link::product::Product::SharedLib, &so)?;
    Ok(so)
}

/// What a run ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Normal completion; the results were printed.
    Done,
    /// A trap (its message was printed to stderr).
    Trapped,
    /// A command finished with this exit status (`wasi:cli/run` returned or `exit` was called).
    Exit(i32),
}

/// How to run: what to call and the sandbox a WASI program gets.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// `--invoke`: call this export (WAVE syntax) instead of running the program.
    pub invoke: Option<String>,
    /// The program's arguments, `argv[0]` (the program name) first.
    pub args: Vec<String>,
    /// `--dir HOST[::GUEST]` values.
    pub dirs: Vec<String>,
    /// `--env NAME[=VALUE]` values (`NAME` alone passes the host's value, if set).
    pub env: Vec<String>,
    /// `--trap-unknown-imports`: imports the WASI host does not provide trap when called.
    pub trap_unknown_imports: bool,
}

impl RunConfig {
    /// The WASI context: the process's stdio, `args`, and the `--dir`/`--env` sandbox, parsed
    /// by the same code as an executable's command line.
    fn wasi_ctx(&self) -> Result<weld_runtime::wasi::WasiCtx> {
        let mut argv = vec![self.args.first().cloned().unwrap_or_default()];
        for d in &self.dirs {
            argv.push("--dir".into());
            argv.push(d.clone());
        }
        for e in &self.env {
            argv.push("--env".into());
            argv.push(e.clone());
        }
        argv.push("--".into());
        argv.extend(self.args.iter().skip(1).cloned());
        let host_env = |name: &str| std::env::var(name).ok();
        let o = weld_runtime::wasi::main::parse_args(&argv, &host_env).map_err(runtime_err)?;
        let mut ctx = weld_runtime::wasi::WasiCtx::new().inherit_stdio();
        ctx.args = o.args;
        ctx.env = o.env;
        ctx.preopens = o.dirs;
        ctx.trap_unknown_imports = self.trap_unknown_imports;
        Ok(ctx)
    }
}

/// Print a trap the way executables do: its message, then the wasm backtrace.
fn report_trap(t: weld_runtime::Trap) {
    eprintln!("trap: {t}");
    if let Some(bt) = weld_runtime::backtrace::take() {
        eprintln!("{bt}");
    }
}

fn runtime_err(what: impl std::fmt::Display) -> Error {
    Error::Link(what.to_string())
}

/// Run `bytes`: call `config.invoke` (WAVE syntax) or the program's entry point. A WASI
/// preview1 core module is adapted to a component first (as `weld compile` does).
pub fn run(bytes: &[u8], options: &Options, config: &RunConfig) -> Result<Outcome> {
    let adapted = crate::preview1::wrap(bytes)?;
    let options = &Options {
        quick_glue: adapted.is_some(),
        ..options.clone()
    };
    let bytes = adapted.as_deref().unwrap_or(bytes);
    let invoke = config.invoke.as_deref();
    let so = compile_cached(bytes, options)?;
    let lib = Library::open(&so).map_err(runtime_err)?;
    let mut store = Store::new();
    if crate::frontend::is_component(bytes) {
        let module = lib.component(PREFIX).map_err(runtime_err)?;
        if !config.trap_unknown_imports {
            let names = module.info().imports.iter().map(|i| i.name.as_str());
            let missing = weld_runtime::wasi::unprovided(names);
            if !missing.is_empty() {
                return Err(Error::MissingImports(missing));
            }
        }
        let Some(expr) = invoke else {
            return match weld_runtime::wasi::run_command(&mut store, &module, config.wasi_ctx()?) {
                Ok(status) => Ok(Outcome::Exit(status)),
                Err(weld_runtime::wasi::RunError::Trap(t)) => {
                    report_trap(t);
                    Ok(Outcome::Trapped)
                }
                Err(e) => Err(runtime_err(e)),
            };
        };
        // An export called directly still gets the WASI host (and the sandbox) for its imports.
        let mut imports = HostImports::new();
        let _state = weld_runtime::wasi::add_to_imports(&mut imports, config.wasi_ctx()?);
        let inst = match ComponentInstance::new(&mut store, &module, &imports) {
            Ok(i) => i,
            Err(weld_runtime::InstantiateError::Trap(t)) => {
                report_trap(t);
                return Ok(Outcome::Trapped);
            }
            Err(e) => return Err(runtime_err(format!("instantiation failed: {e}"))),
        };
        invoke_component(&mut store, &inst, expr)
    } else {
        let module = lib.module(PREFIX).map_err(runtime_err)?;
        if let Some(i) = module.info().imports.first() {
            return Err(runtime_err(format!(
                "the module imports {:?} {:?}, which weld run does not provide",
                i.module, i.name
            )));
        }
        let inst = match Instance::new(&mut store, &module, &[]) {
            Ok(i) => i,
            Err(weld_runtime::InstantiateError::Trap(t)) => {
                report_trap(t);
                return Ok(Outcome::Trapped);
            }
            Err(e) => return Err(runtime_err(format!("instantiation failed: {e}"))),
        };
        let expr = match invoke {
            Some(e) => e.to_string(),
            None => {
                let has_start = module
                    .info()
                    .exports
                    .iter()
                    .any(|e| e.kind == ExportKind::Func && e.name == "_start");
                if !has_start {
                    return Err(runtime_err("no `_start` export; use --invoke"));
                }
                "_start()".to_string()
            }
        };
        invoke_core(&mut store, &inst, &expr)
    }
}

/// A call expression that does not parse: the user's input is wrong, not weld's support.
fn bad_call(e: wave::WaveError) -> Error {
    Error::Invoke(e.to_string())
}

fn invoke_component(store: &mut Store, inst: &ComponentInstance, expr: &str) -> Result<Outcome> {
    let (written, args) = wave::split_call(expr).map_err(bad_call)?;
    let exports: Vec<&str> = inst.exports().into_iter().map(|(n, _)| n).collect();
    let name = invoke::resolve(&exports, &written).map_err(Error::Invoke)?;
    let ft = inst.func_type(&name).cloned().ok_or_else(|| {
        Error::Invoke(format!("No exported func named `{written}` in component."))
    })?;
    if args.len() != ft.params.len() {
        return Err(runtime_err(format!(
            "{name} takes {} arguments, {} given",
            ft.params.len(),
            args.len()
        )));
    }
    let mut vals = Vec::new();
    for ((pos, text), (_, ty)) in args.iter().zip(&ft.params) {
        let v = wave::parse_value(text, inst.types(), *ty).map_err(|mut e| {
            e.pos += pos;
            bad_call(e)
        })?;
        vals.push(v);
    }
    match inst.call(store, &name, &vals) {
        Ok(Some(v)) => {
            println!("{v}");
            Ok(Outcome::Done)
        }
        // As `wasmtime run --invoke` prints a function without results.
        Ok(None) => {
            println!("()");
            Ok(Outcome::Done)
        }
        Err(t) => {
            report_trap(t);
            Ok(Outcome::Trapped)
        }
    }
}

fn invoke_core(store: &mut Store, inst: &Instance, expr: &str) -> Result<Outcome> {
    let (name, args) = wave::split_call(expr).map_err(bad_call)?;
    let Some(Extern::Func(f)) = inst.export(store, &name) else {
        return Err(runtime_err(format!("no exported function {name:?}")));
    };
    let ty = f.ty(store);
    if args.len() != ty.params.len() {
        return Err(runtime_err(format!(
            "{name} takes {} arguments, {} given",
            ty.params.len(),
            args.len()
        )));
    }
    let mut raw = Vec::new();
    for ((_, text), t) in args.iter().zip(&ty.params) {
        let bad = || runtime_err(format!("`{text}` is not a valid {t:?}"));
        raw.push(match t {
            ValType::I32 => ValRaw::i32(
                text.parse::<i32>()
                    .or_else(|_| text.parse::<u32>().map(|v| v as i32))
                    .map_err(|_| bad())?,
            ),
            ValType::I64 => ValRaw::i64(
                text.parse::<i64>()
                    .or_else(|_| text.parse::<u64>().map(|v| v as i64))
                    .map_err(|_| bad())?,
            ),
            ValType::F32 => ValRaw::f32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
            ValType::F64 => ValRaw::f64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
            // A reference can only be null from the command line.
            t if t.is_ref() && text == "null" => ValRaw::default(),
            other => {
                return Err(runtime_err(format!(
                    "--invoke cannot pass {other:?} values (other than null)"
                )))
            }
        });
    }
    match f.call(store, &raw) {
        Ok(results) => {
            let shown: Vec<String> = results
                .iter()
                .zip(&ty.results)
                .map(|(v, t)| match t {
                    ValType::I32 => v.get_i32().to_string(),
                    ValType::I64 => v.get_i64().to_string(),
                    ValType::F32 => f32::from_bits(v.get_f32()).to_string(),
                    ValType::F64 => f64::from_bits(v.get_f64()).to_string(),
                    ValType::V128 => format!("{:#034x}", v.get_u128()),
                    ValType::AnyRef | ValType::ExternRef => show_gc_ref(store, v.get_i64() as u64),
                    _ => format!("{:#x}", v.get_i64()),
                })
                .collect();
            if !shown.is_empty() {
                println!("{}", shown.join(" "));
            }
            Ok(Outcome::Done)
        }
        Err(t) => {
            report_trap(t);
            Ok(Outcome::Trapped)
        }
    }
}

/// A GC reference as the text format writes what it holds (`null`, `(ref.i31 9)`,
/// `(ref.struct)`, `(ref.array 3)`, `(ref.host 5)`): an address would mean nothing.
fn show_gc_ref(store: &Store, word: u64) -> String {
    use weld_runtime::gc::RefKind;
    match store.ref_kind(word) {
        Some(RefKind::Null) => "null".into(),
        Some(RefKind::I31(v)) => format!("(ref.i31 {v})"),
        Some(RefKind::Struct) => "(ref.struct)".into(),
        Some(RefKind::Array(n)) => format!("(ref.array {n})"),
        Some(RefKind::Host(n)) => format!("(ref.host {n})"),
        None => format!("(ref {word:#x})"),
    }
}

/// For tests: whether a path is inside the cache.
pub fn is_cached(path: &Path) -> bool {
    path.starts_with(cache_dir())
}
