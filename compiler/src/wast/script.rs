//! Running one script: compile every module, link them into one shared library, load it, then
//! execute the directives in order.

use super::skips::{SkipList, Verdict};
use super::values;
use super::Summary;
use crate::error::Error;
use crate::options::Options;
use std::collections::HashMap;
use std::path::Path;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke, Wat};
use weld_contract::trap::TrapCode;
use weld_runtime::{Extern, Instance, InstantiateError, Library, Module, Store, ValRaw};

/// What compiling one module of the script gave.
enum Compiled {
    /// Not a module directive.
    None,
    /// The text did not encode (malformed text).
    TextError(String),
    /// weld refused it.
    Refused(Error),
    /// Compiled; the object's symbol prefix.
    Ok(String),
}

enum Registered {
    Instance(Instance),
    Host(HashMap<String, Extern>),
}

struct Runner {
    store: Store,
    library: Option<Library>,
    link_error: Option<String>,
    definitions: HashMap<String, Module>,
    instances: HashMap<String, Instance>,
    current: Option<Instance>,
    registered: HashMap<String, Registered>,
}

/// Run the script at `file`.
pub fn run(file: &Path, skips: &SkipList, options: &Options) -> Summary {
    let mut summary = Summary::default();
    let fail_whole = |summary: &mut Summary, msg: String| {
        println!("{}: {msg}", file.display());
        summary.failed += 1;
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            fail_whole(&mut summary, format!("cannot read: {e}"));
            return summary;
        }
    };
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            fail_whole(&mut summary, format!("cannot lex: {e}"));
            return summary;
        }
    };
    let mut script: Wast<'_> = match parser::parse(&buf) {
        Ok(w) => w,
        Err(e) => {
            fail_whole(
                &mut summary,
                format!("cannot parse: {}", e.to_string().replace('\n', " ")),
            );
            return summary;
        }
    };

    // Phase 1: compile every module.
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            fail_whole(&mut summary, format!("temporary directory: {e}"));
            return summary;
        }
    };
    let mut compiled = Vec::with_capacity(script.directives.len());
    let mut objects = Vec::new();
    for (i, d) in script.directives.iter_mut().enumerate() {
        let quote: Option<&mut QuoteWat<'_>> = match d {
            WastDirective::Module(q)
            | WastDirective::ModuleDefinition(q)
            | WastDirective::AssertMalformed { module: q, .. }
            | WastDirective::AssertInvalid { module: q, .. } => Some(q),
            _ => None,
        };
        let bytes = match quote {
            Some(q) => Some(q.encode().map_err(|e| e.to_string())),
            None => match d {
                WastDirective::AssertUnlinkable { module, .. }
                | WastDirective::AssertTrap {
                    exec: WastExecute::Wat(module),
                    ..
                }
                | WastDirective::AssertReturn {
                    exec: WastExecute::Wat(module),
                    ..
                } => Some(encode_wat(module)),
                _ => None,
            },
        };
        let linkable = !matches!(
            d,
            WastDirective::AssertMalformed { .. } | WastDirective::AssertInvalid { .. }
        );
        let result = match bytes {
            None => Compiled::None,
            Some(Err(e)) => Compiled::TextError(e),
            Some(Ok(bytes)) => {
                let prefix = format!("m{i}");
                let mut o = options.clone();
                o.prefix = prefix.clone();
                // Loaded with dlopen(RTLD_NOW) and driven through the Rust API: no C entry
                // points, whose runtime references this process does not export.
                o.c_entry_points = false;
                match crate::compile_module(&bytes, &o) {
                    Err(e) => Compiled::Refused(e),
                    Ok(obj) => {
                        if linkable {
                            let path = dir.path().join(format!("{prefix}.o"));
                            match std::fs::write(&path, obj) {
                                Ok(()) => objects.push(path),
                                Err(e) => {
                                    fail_whole(&mut summary, format!("writing object: {e}"));
                                    return summary;
                                }
                            }
                        }
                        Compiled::Ok(prefix)
                    }
                }
            }
        };
        compiled.push(result);
    }

    let mut runner = Runner {
        store: Store::new(),
        library: None,
        link_error: None,
        definitions: HashMap::new(),
        instances: HashMap::new(),
        current: None,
        registered: HashMap::new(),
    };
    let spectest = weld_runtime::spectest::exports(&mut runner.store);
    runner.registered.insert(
        "spectest".into(),
        Registered::Host(spectest.into_iter().collect()),
    );
    if !objects.is_empty() {
        let so = dir.path().join("script.so");
        match crate::link::link(
            &objects,
            &so,
            crate::link::OutputKind::SharedLib,
            &options.target,
            &[],
        ) {
            Ok(()) => match Library::open(&so) {
                Ok(l) => runner.library = Some(l),
                Err(e) => runner.link_error = Some(format!("loading the shared library: {e}")),
            },
            Err(e) => runner.link_error = Some(e.to_string()),
        }
    }

    // Phase 2: run the directives.
    for (d, c) in script.directives.iter().zip(&compiled) {
        let (line, col) = d.span().linecol_in(&text);
        let line = line as u32 + 1;
        let outcome = runner.directive(d, c);
        let verdict = skips.verdict(file, line);
        let loc = format!("{}:{}:{}", file.display(), line, col + 1);
        match (verdict, outcome) {
            (Verdict::Run, Ok(())) | (Verdict::FileSkip(_), Ok(())) => summary.passed += 1,
            (Verdict::Run, Err(msg)) => {
                println!("{loc}: {msg}");
                summary.failed += 1;
            }
            (Verdict::LineSkip(reason), Ok(())) => {
                println!("{loc}: passes but is on the skip list ({reason}); remove the entry");
                summary.failed += 1;
            }
            (Verdict::LineSkip(_), Err(_)) | (Verdict::FileSkip(_), Err(_)) => {
                skips.record_failure(file, line);
                summary.skipped += 1;
            }
        }
    }
    summary
}

fn encode_wat(w: &mut Wat<'_>) -> Result<Vec<u8>, String> {
    w.encode().map_err(|e| e.to_string())
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

fn trap_matches(actual: TrapCode, expected: &str) -> bool {
    let a = actual.message();
    a.contains(expected) || expected.contains(a)
}

impl Runner {
    fn module(&self, c: &Compiled) -> Result<Module, String> {
        match c {
            Compiled::None => Err("no module".into()),
            Compiled::TextError(e) => Err(format!("module text did not encode: {}", one_line(e))),
            Compiled::Refused(e) => Err(format!("weld refused the module: {e}")),
            Compiled::Ok(prefix) => {
                if let Some(e) = &self.link_error {
                    return Err(e.clone());
                }
                let lib = self.library.as_ref().ok_or("no library")?;
                lib.module(prefix)
                    .map_err(|e| format!("loading {prefix}: {e}"))
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

    fn instance(&self, id: Option<&wast::token::Id<'_>>) -> Result<Instance, String> {
        match id {
            Some(id) => self
                .instances
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no instance named ${}", id.name())),
            None => self
                .current
                .ok_or_else(|| "no current instance".to_string()),
        }
    }

    fn invoke(
        &mut self,
        inv: &WastInvoke<'_>,
    ) -> Result<Result<Vec<(ValRaw, weld_contract::info::ValType)>, TrapCode>, String> {
        let inst = self.instance(inv.module.as_ref())?;
        let Some(Extern::Func(f)) = inst.export(&self.store, inv.name) else {
            return Err(format!("no exported function {:?}", inv.name));
        };
        let mut args = Vec::with_capacity(inv.args.len());
        for a in &inv.args {
            args.push(values::arg(a)?);
        }
        let ty = f.ty(&self.store);
        match f.call(&mut self.store, &args) {
            Ok(results) => Ok(Ok(results
                .into_iter()
                .zip(ty.results.iter().copied())
                .collect())),
            Err(trap) => Ok(Err(trap.code)),
        }
    }

    fn execute(
        &mut self,
        exec: &WastExecute<'_>,
        c: &Compiled,
    ) -> Result<Result<Vec<(ValRaw, weld_contract::info::ValType)>, TrapCode>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module.as_ref())?;
                match inst.export(&self.store, global) {
                    Some(Extern::Global(g)) => {
                        let ty = g.ty(&self.store).ty;
                        Ok(Ok(vec![(g.get(&self.store), ty)]))
                    }
                    _ => Err(format!("no exported global {global:?}")),
                }
            }
            WastExecute::Wat(_) => {
                let module = self.module(c)?;
                match self.instantiate(&module) {
                    Ok(_) => Ok(Ok(vec![])),
                    Err(InstantiateError::Trap(t)) => Ok(Err(t.code)),
                    Err(InstantiateError::Link(e)) => Err(format!("link error: {e}")),
                }
            }
        }
    }

    fn directive(&mut self, d: &WastDirective<'_>, c: &Compiled) -> Result<(), String> {
        match d {
            WastDirective::Module(q) => {
                let module = self.module(c)?;
                let inst = self
                    .instantiate(&module)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                if let Some(id) = q.name() {
                    self.instances.insert(id.name().to_string(), inst);
                }
                self.current = Some(inst);
                Ok(())
            }
            WastDirective::ModuleDefinition(q) => {
                let module = self.module(c)?;
                if let Some(id) = q.name() {
                    self.definitions.insert(id.name().to_string(), module);
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
                    .instantiate(&def)
                    .map_err(|e| format!("instantiation failed: {e}"))?;
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_string(), inst);
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
                Ok(actual) => {
                    if actual.len() != results.len() {
                        return Err(format!(
                            "expected {} results, got {}",
                            results.len(),
                            actual.len()
                        ));
                    }
                    for (i, (e, (v, ty))) in results.iter().zip(actual).enumerate() {
                        if !values::matches(e, v, ty)? {
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
                Compiled::Refused(Error::Invalid { .. }) => Ok(()),
                Compiled::Refused(e) => Err(format!(
                    "expected {message:?}; rejected for another reason: {e}"
                )),
                Compiled::Ok(_) => Err(format!("expected {message:?}, but weld compiled it")),
                Compiled::None => Err("no module".into()),
            },
            WastDirective::AssertUnlinkable { message, .. } => {
                let module = self.module(c)?;
                match self.instantiate(&module) {
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
            WastDirective::AssertException { .. } => Err("exceptions are not supported".into()),
            WastDirective::AssertSuspension { .. } => {
                Err("stack switching is not supported".into())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Err("threads are not supported".into())
            }
        }
    }
}
