//! Executing directives: instantiating the script's modules and components from the library,
//! invoking their exports, and comparing what happened with what the script expects.

use crate::{cvalues, values, Compiled};
use std::collections::HashMap;
use wast::{WastDirective, WastExecute, WastInvoke};
use weld_contract::info::ValType;
use weld_contract::trap::TrapCode;
use weld_runtime::component::Val;
use weld_runtime::{
    ComponentInstance, ComponentModule, Extern, HostImports, Instance, InstantiateError, Library,
    Module, Store, ValRaw,
};

/// A module or component instance of the script.
#[derive(Clone)]
enum Inst {
    Core(Instance),
    Component(ComponentInstance),
}

/// A module or component definition of the script.
#[derive(Clone)]
enum Def {
    Core(Module),
    Component(ComponentModule),
}

/// What running an action gave (before comparing with expectations).
enum Outcome {
    Core(Vec<(ValRaw, ValType)>),
    Component(Option<Val>),
}

enum Registered {
    Instance(Instance),
    Host(HashMap<String, Extern>),
}

/// The state of one script's run: its store, library, and named definitions and instances.
pub(crate) struct Runner {
    store: Store,
    library: Option<Library>,
    link_error: Option<String>,
    definitions: HashMap<String, Def>,
    instances: HashMap<String, Inst>,
    current: Option<Inst>,
    registered: HashMap<String, Registered>,
}

fn trap_matches(actual: TrapCode, expected: &str) -> bool {
    let a = actual.message();
    a.contains(expected) || expected.contains(a)
}

/// Environment variable: bytes of native stack wasm may use (default the store's).
pub const MAX_STACK_VAR: &str = "WELD_MAX_WASM_STACK";

impl Runner {
    pub(crate) fn new(library: Option<Library>, link_error: Option<String>) -> Runner {
        let mut store = Store::new();
        // The cross-architecture fuzzer gives targets whose frames are larger a bigger budget
        // than x86_64's (see `weld_fuzz::cross`).
        if let Some(bytes) = std::env::var(MAX_STACK_VAR)
            .ok()
            .and_then(|v| v.parse().ok())
        {
            store.set_max_wasm_stack(bytes);
        }
        let spectest = weld_runtime::spectest::exports(&mut store);
        let mut registered = HashMap::new();
        registered.insert(
            "spectest".to_string(),
            Registered::Host(spectest.into_iter().collect()),
        );
        Runner {
            store,
            library,
            link_error,
            definitions: HashMap::new(),
            instances: HashMap::new(),
            current: None,
            registered,
        }
    }

    fn def(&self, c: &Compiled) -> Result<Def, String> {
        match c {
            Compiled::None => Err("no module".into()),
            Compiled::TextError(e) => Err(format!("module text did not encode: {}", first_line(e))),
            Compiled::Refused { message, .. } => Err(format!("weld refused the module: {message}")),
            Compiled::Core(prefix) | Compiled::Component(prefix) => {
                if let Some(e) = &self.link_error {
                    return Err(e.clone());
                }
                let lib = self.library.as_ref().ok_or("no library")?;
                let r = if matches!(c, Compiled::Component(_)) {
                    lib.component(prefix).map(Def::Component)
                } else {
                    lib.module(prefix).map(Def::Core)
                };
                r.map_err(|e| format!("loading {prefix}: {e}"))
            }
        }
    }

    fn instantiate_def(&mut self, def: &Def) -> Result<Inst, InstantiateError> {
        match def {
            Def::Core(m) => self.instantiate(m).map(Inst::Core),
            Def::Component(c) => {
                ComponentInstance::new(&mut self.store, c, &HostImports::new()).map(Inst::Component)
            }
        }
    }

    fn resolve_imports(&mut self, module: &Module) -> Result<Vec<Extern>, InstantiateError> {
        let mut imports = Vec::new();
        for imp in &module.info().imports {
            let found = match self.registered.get(&imp.module) {
                Some(Registered::Instance(i)) => i.export(&self.store, &imp.name),
                Some(Registered::Host(map)) => map.get(&imp.name).cloned(),
                None => None,
            };
            match found {
                Some(e) => imports.push(e),
                None => {
                    return Err(InstantiateError::Link(format!(
                        "unknown import {:?} {:?}",
                        imp.module, imp.name
                    )))
                }
            }
        }
        Ok(imports)
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, InstantiateError> {
        let imports = self.resolve_imports(module)?;
        Instance::new(&mut self.store, module, &imports)
    }

    fn inst(&self, id: Option<&wast::token::Id<'_>>) -> Result<Inst, String> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no instance named ${}", id.name())),
            None => self
                .current
                .clone()
                .ok_or_else(|| "no current instance".to_string()),
        }
    }

    fn instance(&self, id: Option<&wast::token::Id<'_>>) -> Result<Instance, String> {
        match self.inst(id)? {
            Inst::Core(i) => Ok(i),
            Inst::Component(_) => Err("expected a core module instance, found a component".into()),
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Outcome, TrapCode>, String> {
        let inst = match self.inst(inv.module.as_ref())? {
            Inst::Core(i) => i,
            Inst::Component(c) => {
                let mut args = Vec::with_capacity(inv.args.len());
                for a in &inv.args {
                    match a {
                        wast::WastArg::Component(v) => args.push(cvalues::to_val(v)),
                        _ => return Err("core argument to a component function".into()),
                    }
                }
                if c.func_type(inv.name).is_none() {
                    return Err(format!("no exported function {:?}", inv.name));
                }
                return Ok(c
                    .call(&mut self.store, inv.name, &args)
                    .map(Outcome::Component)
                    .map_err(|t| t.code));
            }
        };
        let Some(Extern::Func(f)) = inst.export(&self.store, inv.name) else {
            return Err(format!("no exported function {:?}", inv.name));
        };
        let mut args = Vec::with_capacity(inv.args.len());
        for a in &inv.args {
            args.push(values::arg(a)?);
        }
        let ty = f.ty(&self.store);
        match f.call(&mut self.store, &args) {
            Ok(results) => Ok(Ok(Outcome::Core(
                results
                    .into_iter()
                    .zip(ty.results.iter().copied())
                    .collect(),
            ))),
            Err(trap) => Ok(Err(trap.code)),
        }
    }

    fn execute(
        &mut self,
        exec: &WastExecute<'_>,
        c: &Compiled,
    ) -> Result<Result<Outcome, TrapCode>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module.as_ref())?;
                match inst.export(&self.store, global) {
                    Some(Extern::Global(g)) => {
                        let ty = g.ty(&self.store).ty;
                        Ok(Ok(Outcome::Core(vec![(g.get(&self.store), ty)])))
                    }
                    _ => Err(format!("no exported global {global:?}")),
                }
            }
            WastExecute::Wat(_) => {
                let def = self.def(c)?;
                match self.instantiate_def(&def) {
                    Ok(_) => Ok(Ok(Outcome::Core(vec![]))),
                    Err(InstantiateError::Trap(t)) => Ok(Err(t.code)),
                    Err(InstantiateError::Link(e)) => Err(format!("link error: {e}")),
                }
            }
        }
    }

    pub(crate) fn directive(&mut self, d: &WastDirective<'_>, c: &Compiled) -> Result<(), String> {
        match d {
            WastDirective::Module(q) => {
                let def = self.def(c)?;
                let inst = self
                    .instantiate_def(&def)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                if let Some(id) = q.name() {
                    self.instances.insert(id.name().to_string(), inst.clone());
                }
                self.current = Some(inst);
                Ok(())
            }
            WastDirective::ModuleDefinition(q) => {
                let def = self.def(c)?;
                if let Some(id) = q.name() {
                    self.definitions.insert(id.name().to_string(), def);
                }
                Ok(())
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let def = module
                    .as_ref()
                    .and_then(|m| self.definitions.get(m.name()).cloned())
                    .ok_or("unknown module definition")?;
                let inst = self
                    .instantiate_def(&def)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_string(), inst.clone());
                }
                self.current = Some(inst);
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let inst = self.instance(module.as_ref())?;
                self.registered
                    .insert(name.to_string(), Registered::Instance(inst));
                Ok(())
            }
            WastDirective::Invoke(inv) => match self.invoke(inv)? {
                Ok(_) => Ok(()),
                Err(t) => Err(format!("invoke {:?} trapped: {t}", inv.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => match self.execute(exec, c)? {
                Err(t) => Err(format!("expected {} results, got trap: {t}", results.len())),
                Ok(Outcome::Component(actual)) => {
                    // `f32.const`/`f64.const` parse as core forms even in component scripts.
                    if let ([wast::WastRet::Core(e)], Some(a)) = (results.as_slice(), &actual) {
                        return if cvalues::matches_core(e, a) {
                            Ok(())
                        } else {
                            Err(format!("expected {e:?}, got {a}"))
                        };
                    }
                    let expected: Vec<&wast::component::WastVal<'_>> = results
                        .iter()
                        .filter_map(|r| match r {
                            wast::WastRet::Component(v) => Some(v),
                            _ => None,
                        })
                        .collect();
                    if expected.len() != results.len() {
                        return Err("core results expected from a component function".into());
                    }
                    match (expected.as_slice(), &actual) {
                        ([], None) => Ok(()),
                        ([e], Some(a)) if cvalues::matches(e, a) => Ok(()),
                        _ => Err(format!(
                            "expected {:?}, got {}",
                            expected,
                            actual.map_or("no result".to_string(), |a| a.to_string())
                        )),
                    }
                }
                Ok(Outcome::Core(actual)) => {
                    if actual.len() != results.len() {
                        return Err(format!(
                            "expected {} results, got {}",
                            results.len(),
                            actual.len()
                        ));
                    }
                    let store = &self.store;
                    let kind = |w: u64| store.ref_kind(w);
                    for (i, (e, (v, ty))) in results.iter().zip(actual).enumerate() {
                        if !values::matches(e, v, ty, &kind)? {
                            return Err(format!(
                                "result {i}: expected {}, got {}",
                                values::show_expected(e),
                                values::show(v, ty)
                            ));
                        }
                    }
                    Ok(())
                }
            },
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec, c)? {
                Ok(_) => Err(format!("expected trap {message:?}, got a normal return")),
                Err(t) if trap_matches(t, message) => Ok(()),
                Err(t) => Err(format!(
                    "expected trap {message:?}, got trap {:?}",
                    t.message()
                )),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(call)? {
                Ok(_) => Err(format!("expected {message:?}, got a normal return")),
                Err(TrapCode::StackOverflow) => Ok(()),
                Err(t) => Err(format!("expected {message:?}, got trap {:?}", t.message())),
            },
            WastDirective::AssertInvalid { message, .. }
            | WastDirective::AssertMalformed { message, .. } => match c {
                Compiled::TextError(_) => Ok(()),
                Compiled::Refused { invalid: true, .. } => Ok(()),
                Compiled::Refused { message: e, .. } => Err(format!(
                    "expected {message:?}; rejected for another reason: {e}"
                )),
                Compiled::Core(_) | Compiled::Component(_) => {
                    Err(format!("expected {message:?}, but weld compiled it"))
                }
                Compiled::None => Err("no module".into()),
            },
            WastDirective::AssertUnlinkable { message, .. } => {
                let def = self.def(c)?;
                match self.instantiate_def(&def) {
                    Ok(_) => Err(format!(
                        "expected unlinkable ({message:?}), but it instantiated"
                    )),
                    Err(InstantiateError::Link(_)) => Ok(()),
                    Err(InstantiateError::Trap(t)) => {
                        Err(format!("expected unlinkable ({message:?}), got trap {t}"))
                    }
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Err("custom-section assertions are not supported".into())
            }
            WastDirective::AssertException { exec, .. } => match self.execute(exec, c)? {
                Ok(_) => Err("expected an uncaught exception, got a normal return".into()),
                Err(TrapCode::UncaughtException) => Ok(()),
                Err(t) => Err(format!(
                    "expected an uncaught exception, got trap {:?}",
                    t.message()
                )),
            },
            WastDirective::AssertSuspension { .. } => {
                Err("stack switching is not supported".into())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Err("threads are not supported".into())
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
