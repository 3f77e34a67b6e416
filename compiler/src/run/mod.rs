//! `weld run`: compile (with a cache), load and run a module or component in this process.
//!
//! In: the input bytes, compilation options and an optional `--invoke` call in WAVE syntax.
//! Out: the call's results printed in WAVE syntax (one line), or the program run through its
//! `_start`; an exit status.
//!
//! Compiled shared libraries are cached in `$WELD_CACHE_DIR` (else `$XDG_CACHE_HOME/weld`, else
//! `~/.cache/weld`), keyed by a hash of the input, the options and weld's version, so a second
//! run skips compilation. A trap prints `trap: <message>` and gives exit status 134, as the
//! executables `weld compile --emit exe` writes do.

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

/// Compile `bytes` to a cached shared library; returns its path.
pub fn compile_cached(bytes: &[u8], options: &Options) -> Result<PathBuf> {
    let mut o = options.clone();
    o.prefix = PREFIX.to_string();
    o.c_entry_points = false;
    let key = hash128(&[
        bytes,
        format!("{o:?}").as_bytes(),
        env!("CARGO_PKG_VERSION").as_bytes(),
    ]);
    let dir = cache_dir();
    let so = dir.join(format!("{key}.so"));
    if so.is_file() {
        return Ok(so);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        what: format!("creating the cache directory {}", dir.display()),
        source: e,
    })?;
    let obj = if crate::frontend::is_component(bytes) {
        crate::compile_component(bytes, &o)?
    } else {
        crate::compile_module(bytes, &o)?
    };
    let tmp = tempfile::tempdir_in(&dir).map_err(|e| Error::Io {
        what: "creating a temporary directory".into(),
        source: e,
    })?;
    let obj_path = tmp.path().join("m.o");
    std::fs::write(&obj_path, obj).map_err(|e| Error::Io {
        what: "writing a temporary object".into(),
        source: e,
    })?;
    crate::link::link(
        &[obj_path],
        &so,
        crate::link::OutputKind::SharedLib,
        &o.target,
        &[],
    )?;
    Ok(so)
}

/// What a run ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Normal completion; the results were printed.
    Done,
    /// A trap (its message was printed to stderr).
    Trapped,
}

fn runtime_err(what: impl std::fmt::Display) -> Error {
    Error::Link(what.to_string())
}

/// Run `bytes`: call `invoke` (WAVE syntax) or the program's entry point.
pub fn run(bytes: &[u8], options: &Options, invoke: Option<&str>) -> Result<Outcome> {
    let so = compile_cached(bytes, options)?;
    let lib = Library::open(&so).map_err(runtime_err)?;
    let mut store = Store::new();
    if crate::frontend::is_component(bytes) {
        let module = lib.component(PREFIX).map_err(runtime_err)?;
        let inst = ComponentInstance::new(&mut store, &module, &HostImports::new())
            .map_err(|e| runtime_err(format!("instantiation failed: {e}")))?;
        let Some(expr) = invoke else {
            return Err(Error::Unsupported {
                message: "running a command component needs WASI, which weld run does not provide yet; use --invoke".into(),
                offset: None,
            });
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
                eprintln!("trap: {t}");
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

fn bad_call(e: wave::WaveError) -> Error {
    Error::Unsupported {
        message: format!("--invoke: {e}"),
        offset: None,
    }
}

fn invoke_component(store: &mut Store, inst: &ComponentInstance, expr: &str) -> Result<Outcome> {
    let (name, args) = wave::split_call(expr).map_err(bad_call)?;
    let ft = inst.func_type(&name).cloned().ok_or_else(|| {
        let names: Vec<&str> = inst.exports().into_iter().map(|(n, _)| n).collect();
        runtime_err(format!(
            "no exported function {name:?} (exports: {})",
            names.join(", ")
        ))
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
        Ok(None) => Ok(Outcome::Done),
        Err(t) => {
            eprintln!("trap: {t}");
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
            other => {
                return Err(runtime_err(format!(
                    "--invoke cannot pass {other:?} values"
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
                    _ => format!("{:#x}", v.get_i64()),
                })
                .collect();
            if !shown.is_empty() {
                println!("{}", shown.join(" "));
            }
            Ok(Outcome::Done)
        }
        Err(t) => {
            eprintln!("trap: {t}");
            Ok(Outcome::Trapped)
        }
    }
}

/// For tests: whether a path is inside the cache.
pub fn is_cached(path: &Path) -> bool {
    path.starts_with(cache_dir())
}
