//! `weld-bench run-weld LIB.so ARGV0`: the weld side of one Sightglass run, in this process.
//! Loads the component weld compiled into `LIB.so` (symbol prefix [`PREFIX`]), instantiates it
//! with the WASI 0.2 host (stdio inherited, `.` preopened as `.`, the current directory being the
//! benchmark's) and `bench#start` / `bench#end` host functions that take timestamps, calls
//! `wasi:cli/run`, then prints `BENCH_NS <ns between start and end>` to stderr — the same line
//! Wasmtime's `bench-timer.wat` prints — and exits with the program's status.

use anyhow::{anyhow, Result};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;
use weld_runtime::wasi::{add_to_imports, run::find_run_export, WasiCtx};
use weld_runtime::{
    ComponentInstance, HostImports, InstantiateError, Library, Store, TrapCode, Val,
};

/// The symbol prefix the harness compiles benchmarks with (`weld compile --name`).
pub const PREFIX: &str = "bm";

/// Trap exit status, as weld's executables use.
const TRAP_STATUS: i32 = 134;

pub fn run_weld(so: &Path, argv0: &str) -> Result<i32> {
    let lib = Library::open(so).map_err(|e| anyhow!("{}: {e}", so.display()))?;
    let module = lib
        .component(PREFIX)
        .map_err(|e| anyhow!("{}: {e}", so.display()))?;
    let mut ctx = WasiCtx::new().inherit_stdio().preopen(".", ".");
    ctx.args = vec![argv0.to_string()];
    let mut imports = HostImports::new();
    let state = add_to_imports(&mut imports, ctx);
    let start: Rc<Cell<Option<Instant>>> = Rc::default();
    let end: Rc<Cell<Option<Instant>>> = Rc::default();
    {
        let start = start.clone();
        imports.insert("bench#start", move |_: &[Val]| {
            start.set(Some(Instant::now()));
            Ok(None)
        });
        let end = end.clone();
        imports.insert("bench#end", move |_: &[Val]| {
            end.set(Some(Instant::now()));
            Ok(None)
        });
    }
    let mut store = Store::new();
    let result = match ComponentInstance::new(&mut store, &module, &imports) {
        Ok(inst) => {
            let name = find_run_export(&inst)
                .ok_or_else(|| anyhow!("the component exports no wasi:cli/run"))?;
            inst.call(&mut store, &name, &[])
        }
        Err(InstantiateError::Trap(t)) => Err(t),
        Err(e) => return Err(anyhow!("instantiation failed: {e}")),
    };
    let status = {
        let mut st = state.borrow_mut();
        let _ = st.ctx.stdout.flush();
        let _ = st.ctx.stderr.flush();
        match result {
            Ok(Some(Val::Result(Ok(_)))) => 0,
            Ok(_) => 1,
            Err(t) if t.code == TrapCode::Exit => st.exit.unwrap_or(1),
            Err(t) => {
                eprintln!("trap: {t}");
                if let Some(bt) = weld_runtime::backtrace::take() {
                    eprintln!("{bt}");
                }
                TRAP_STATUS
            }
        }
    };
    if let (Some(a), Some(b)) = (start.get(), end.get()) {
        eprintln!("BENCH_NS {}", b.duration_since(a).as_nanos());
    }
    Ok(status)
}
