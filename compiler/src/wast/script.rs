//! Running one script: compile every module (for the options' target), link them into one
//! shared library, then execute the directives in order — in this process for the host target,
//! or through a runner command (`weld-wast-run` under qemu-user) for a cross target.

use super::skips::{SkipList, Verdict};
use super::{Exec, Summary};
use crate::error::Error;
use crate::options::Options;
use std::path::Path;
use std::process::Command;
use wast::{QuoteWat, WastDirective, WastExecute, Wat};
use weld_runtime::Library;
use weld_wast_runner::{Compiled, DirectiveResult, Plan};

/// Run the script at `file`.
pub fn run(file: &Path, skips: &SkipList, options: &Options, exec: &Exec) -> Summary {
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
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            fail_whole(&mut summary, format!("temporary directory: {e}"));
            return summary;
        }
    };
    let so = dir.path().join("script.so");

    // Phase 1: compile every module and link the library.
    let plan = match weld_wast_runner::with_script(&text, |script| {
        compile_all(&text, script, options, dir.path(), &so)
    }) {
        Ok(Ok(plan)) => plan,
        Ok(Err(e)) | Err(e) => {
            fail_whole(&mut summary, e);
            return summary;
        }
    };
    let linked = plan.link_error.is_none() && so.exists();

    // Phase 2: run the directives.
    let results = match exec {
        Exec::InProcess => {
            let mut plan = plan;
            let library = if linked {
                match Library::open(&so) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        plan.link_error = Some(format!("loading the shared library: {e}"));
                        None
                    }
                }
            } else {
                None
            };
            weld_wast_runner::execute(&text, &plan, library)
        }
        Exec::Command(cmd) => run_command(cmd, file, &plan, dir.path(), linked.then_some(&*so)),
    };
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            fail_whole(&mut summary, e);
            return summary;
        }
    };
    for r in results {
        let verdict = skips.verdict(file, r.line);
        let loc = format!("{}:{}:{}", file.display(), r.line, r.col);
        match (verdict, r.outcome) {
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
                skips.record_failure(file, r.line);
                summary.skipped += 1;
            }
        }
    }
    summary
}

/// Compile each module directive of `script` into `dir`, link the linkable ones into `so`.
fn compile_all(
    text: &str,
    script: &mut wast::Wast<'_>,
    options: &Options,
    dir: &Path,
    so: &Path,
) -> Result<Plan, String> {
    // Per-file features, from a wasm-tools `;; RUN: wast % -f LIST` header line.
    let options = &script_features(text, options)?;
    let mut plan = Plan::default();
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
        let compiled = match bytes {
            None => Compiled::None,
            Some(Err(e)) => Compiled::TextError(e),
            Some(Ok(bytes)) => {
                let prefix = format!("m{i}");
                let mut o = options.clone();
                o.prefix = prefix.clone();
                // Loaded with dlopen(RTLD_NOW) and driven through the Rust API: no C entry
                // points, whose runtime references the loading process does not export.
                o.c_entry_points = false;
                o.c_host_adapters = false;
                let component = crate::frontend::is_component(&bytes);
                let result = crate::compile(&bytes, &o);
                match result {
                    Err(e) => Compiled::Refused {
                        invalid: matches!(e, Error::Invalid { .. }),
                        message: e.to_string(),
                    },
                    Ok(obj) => {
                        if linkable {
                            let path = dir.join(format!("{prefix}.o"));
                            std::fs::write(&path, obj)
                                .map_err(|e| format!("writing object: {e}"))?;
                            objects.push(path);
                        }
                        if component {
                            Compiled::Component(prefix)
                        } else {
                            Compiled::Core(prefix)
                        }
                    }
                }
            }
        };
        plan.directives.push(compiled);
    }
    if !objects.is_empty() {
        let product = crate::link::product::Product::SharedLib;
        if let Err(e) =
            crate::link::product::from_paths(&objects, product, so, options.target.as_str())
        {
            plan.link_error = Some(e.to_string());
        }
    }
    Ok(plan)
}

/// Phase 2 through `cmd` (e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu weld-wast-run`): write
/// the plan beside the library, run `cmd SCRIPT PLAN [LIBRARY]`, read its result lines.
fn run_command(
    cmd: &[String],
    file: &Path,
    plan: &Plan,
    dir: &Path,
    so: Option<&Path>,
) -> Result<Vec<DirectiveResult>, String> {
    let plan_path = dir.join("script.plan");
    std::fs::write(&plan_path, plan.to_text()).map_err(|e| format!("writing the plan: {e}"))?;
    let (program, args) = cmd.split_first().ok_or("empty runner command")?;
    let mut c = Command::new(program);
    c.args(args).arg(file).arg(&plan_path);
    if let Some(so) = so {
        c.arg(so);
    }
    let out = c
        .output()
        .map_err(|e| format!("cannot run the runner {program}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "the runner failed ({}): {}",
            out.status,
            err.lines().last().unwrap_or("no message")
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results = stdout
        .lines()
        .map(DirectiveResult::from_line)
        .collect::<Result<Vec<_>, _>>()?;
    if results.len() != plan.directives.len() {
        return Err(format!(
            "the runner reported {} directives of {}",
            results.len(),
            plan.directives.len()
        ));
    }
    Ok(results)
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
