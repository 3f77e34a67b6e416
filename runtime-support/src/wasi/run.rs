//! [`run_command`]: instantiate a `wasi:cli/command` component with the WASI host and call its
//! `wasi:cli/run@0.2.x#run` export; the program's exit status.

use super::{add_to_imports_for, WasiCtx};
use crate::component::names::normalize;
use crate::component::{ComponentInstance, ComponentModule, HostImports, Val};
use crate::instance::InstantiateError;
use crate::store::Store;
use crate::trap::Trap;
use alloc::string::String;
use std::io::Write;
use weld_contract::trap::TrapCode;

/// The export a command runs, normalised.
pub const RUN_EXPORT: &str = "wasi:cli/run@0.2#run";

/// WASI 0.3's (an async function, same result), normalised.
pub const RUN_EXPORT_P3: &str = "wasi:cli/run@0.3#run";

/// Why a command did not run to an exit status.
#[derive(Debug)]
pub enum RunError {
    /// Instantiation failed: an import weld's WASI host does not provide, or a trap in a
    /// start function.
    Instantiate(InstantiateError),
    /// The component exports no `wasi:cli/run@0.2.x#run` (the name it looked for).
    NoRunExport(String),
    /// The program trapped.
    Trap(Trap),
}

impl core::fmt::Display for RunError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RunError::Instantiate(e) => write!(f, "instantiation failed: {e}"),
            RunError::NoRunExport(n) => write!(f, "the component does not export {n}"),
            RunError::Trap(t) => write!(f, "{t}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<Trap> for RunError {
    fn from(t: Trap) -> RunError {
        RunError::Trap(t)
    }
}

/// The name of `instance`'s run export, whatever `0.2.x` (or `0.3.x`) version it has.
pub fn find_run_export(instance: &ComponentInstance) -> Option<String> {
    instance
        .exports()
        .into_iter()
        .find(|(name, _)| {
            let n = normalize(name);
            n == RUN_EXPORT || n == RUN_EXPORT_P3
        })
        .map(|(name, _)| String::from(name))
}

/// Run a command component: instantiate it in `store` with the WASI host for `ctx` and call
/// `wasi:cli/run#run`. `ok` is exit status 0, `err` 1; `exit`/`exit-with-code` give theirs.
/// Stdout and stderr are flushed whatever happens.
pub fn run_command(
    store: &mut Store,
    module: &ComponentModule,
    ctx: WasiCtx,
) -> Result<i32, RunError> {
    let mut imports = HostImports::new();
    // The interfaces of its imported functions and of the host resources it uses (a handle of
    // `wasi:io/error#error` can arrive without any function of that interface imported).
    let info = module.info();
    let names = info.imports.iter().map(|i| i.name.as_str()).chain(
        info.resources
            .iter()
            .filter(|r| r.instance == u32::MAX)
            .map(|r| r.name.as_str()),
    );
    let state = add_to_imports_for(&mut imports, ctx, names);
    let result = (|| {
        let instance = ComponentInstance::new(store, module, &imports);
        let instance = match instance {
            Ok(i) => i,
            Err(InstantiateError::Trap(t)) => return Err(RunError::Trap(t)),
            Err(e) => return Err(RunError::Instantiate(e)),
        };
        // The program runs with the ordinary allocator (see `arena`; a no-op unless an
        // executable's `main` began the arena).
        crate::arena::end();
        let name = find_run_export(&instance)
            .ok_or_else(|| RunError::NoRunExport(String::from(RUN_EXPORT)))?;
        match instance.call(store, &name, &[])? {
            Some(Val::Result(Ok(_))) => Ok(0),
            Some(Val::Result(Err(_))) => Ok(1),
            _ => Err(RunError::Trap(Trap::new(TrapCode::InvalidValue))),
        }
    })();
    let mut st = state.borrow_mut();
    let _ = st.ctx.stdout.flush();
    let _ = st.ctx.stderr.flush();
    match result {
        Err(RunError::Trap(t)) if t.code == TrapCode::Exit => st.exit.ok_or(RunError::Trap(t)),
        r => r,
    }
}
