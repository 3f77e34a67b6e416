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
use weld_contract::info::ValType;
use weld_contract::trap::TrapCode;
use weld_runtime::component::Val;
use weld_runtime::{
    ComponentInstance, ComponentModule, Extern, HostImports, Instance, InstantiateError, Library,
    Module, Store, ValRaw,
};

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
    /// A compiled component; the object's symbol prefix.
    Component(String),
}

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

struct Runner {
    store: Store,
    library: Option<Library>,
    link_error: Option<String>,
    definitions: HashMap<String, Def>,
    instances: HashMap<String, Inst>,
    current: Option<Inst>,
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

    // Per-file features, from a wasm-tools `;; RUN: wast % -f LIST` header line.
    let options = &match script_features(&text, options) {
        Ok(o) => o,
        Err(e) => {
            fail_whole(&mut summary, e);
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
                let component = crate::frontend::is_component(&bytes);
                let result = if component {
                    crate::compile_component(&bytes, &o)
                } else {
                    crate::compile_module(&bytes, &o)
                };
                match result {
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
                        if component {
                            Compiled::Component(prefix)
                        } else {
                            Compiled::Ok(prefix)
                        }
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

/// Options with the features a script's first `;; RUN:` line asks for (`-f LIST`, `-f=LIST`,
/// `--features=LIST`, `--features LIST`; items prefixed with `-` are turned off).
fn script_features(text: &str, options: &Options) -> Result<Options, String> {
    let mut header = text
        .lines()
        .take_while(|l| l.starts_with(";;") || l.trim().is_empty())
        .skip_while(|l| !l.starts_with(";; RUN: "));
    let Some(first) = header.next() else {
        return Ok(options.clone());
    };
    // A RUN line may continue over following comment lines ending in `\`.
    let mut line = first.trim_start_matches(";; RUN: ").to_string();
    while line.ends_with('\\') {
        line.pop();
        match header.next() {
            Some(next) => line.push_str(next.trim_start_matches(";;")),
            None => break,
        }
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut o = options.clone();
    // RUN lines are relative to the defaults of the wasm-tools the test data was written for
    // (wasmparser's defaults before maps were on by default), not to weld's wider set.
    let mut features = wasmparser::WasmFeatures::default() - wasmparser::WasmFeatures::CM_MAP;
    o.features = Some(features);
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let list = if w == "-f" || w == "--features" {
            i += 1;
            words.get(i).copied()
        } else {
            w.strip_prefix("-f=")
                .or_else(|| w.strip_prefix("--features="))
        };
        if let Some(list) = list {
            features = crate::frontend::apply_feature_list(features, list)
                .map_err(|e| format!("RUN line: {e}"))?;
            o.features = Some(features);
        }
        i += 1;
    }
    Ok(o)
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
    fn def(&self, c: &Compiled) -> Result<Def, String> {
        match c {
            Compiled::None => Err("no module".into()),
            Compiled::TextError(e) => Err(format!("module text did not encode: {}", one_line(e))),
            Compiled::Refused(e) => Err(format!("weld refused the module: {e}")),
            Compiled::Ok(prefix) | Compiled::Component(prefix) => {
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
                        wast::WastArg::Component(v) => args.push(super::cvalues::to_val(v)),
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

    fn directive(&mut self, d: &WastDirective<'_>, c: &Compiled) -> Result<(), String> {
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
                        return if super::cvalues::matches_core(e, a) {
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
                        ([e], Some(a)) if super::cvalues::matches(e, a) => Ok(()),
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
                Compiled::Ok(_) | Compiled::Component(_) => {
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
