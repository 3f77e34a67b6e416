//! Batches of cases: generate, compile with weld into one shared library, run both engines,
//! compare; minimise and record each divergence in `fuzz/divergences/`.

use crate::component::{
    check, gen_component_case, host_prefix, run_wasmtime_component, run_weld_component,
    weld_compile_component, ComponentCase,
};
use crate::core::{
    compare, gen_case, plan, run_wasmtime, run_weld, weld_compile, Case, Plan, Value, Verdict,
    WeldCompile,
};
use std::path::{Path, PathBuf};
use weld_runtime::Library;

/// What one case gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseResult {
    /// Both engines agreed.
    Same,
    /// Not comparable (one-sided stack exhaustion).
    Inconclusive(String),
    /// weld declined a feature it does not implement.
    Unsupported(String),
    /// The generator made no case of these random bytes.
    Skipped,
    /// The engines disagree (or weld rejected a valid input); the report's path.
    Diverged(String),
    /// weld panicked (or the process died: counted by the driver).
    Crash(String),
}

impl CaseResult {
    /// One word for the driver's protocol.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseResult::Same => "same",
            CaseResult::Inconclusive(_) => "inconclusive",
            CaseResult::Unsupported(_) => "unsupported",
            CaseResult::Skipped => "skipped",
            CaseResult::Diverged(_) => "divergence",
            CaseResult::Crash(_) => "crash",
        }
    }

    /// The detail, if any.
    pub fn detail(&self) -> &str {
        match self {
            CaseResult::Same | CaseResult::Skipped => "",
            CaseResult::Inconclusive(s)
            | CaseResult::Unsupported(s)
            | CaseResult::Diverged(s)
            | CaseResult::Crash(s) => s,
        }
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases run.
    pub cases: u64,
    /// Divergences.
    pub divergences: u64,
    /// Crashes.
    pub crashes: u64,
    /// One-sided stack exhaustion.
    pub inconclusive: u64,
    /// Declined by weld as unsupported.
    pub unsupported: u64,
    /// Not generated.
    pub skipped: u64,
}

impl Tally {
    /// Count one result.
    pub fn add(&mut self, r: &CaseResult) {
        self.cases += 1;
        match r {
            CaseResult::Same => {}
            CaseResult::Inconclusive(_) => self.inconclusive += 1,
            CaseResult::Unsupported(_) => self.unsupported += 1,
            CaseResult::Skipped => self.skipped += 1,
            CaseResult::Diverged(_) => self.divergences += 1,
            CaseResult::Crash(_) => self.crashes += 1,
        }
    }

    /// Add another tally.
    pub fn merge(&mut self, o: &Tally) {
        self.cases += o.cases;
        self.divergences += o.divergences;
        self.crashes += o.crashes;
        self.inconclusive += o.inconclusive;
        self.unsupported += o.unsupported;
        self.skipped += o.skipped;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cases, {} divergences, {} crashes ({} inconclusive, {} unsupported, {} not generated)",
            self.cases,
            self.divergences,
            self.crashes,
            self.inconclusive,
            self.unsupported,
            self.skipped
        )
    }
}

/// Where divergences are written: `$FUZZ_OUT`, else `fuzz/divergences`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("divergences"))
}

/// Write a replayable report: `<name>.wasm`, `<name>.calls` (core) and `<name>.txt` holding the
/// message and the one-line command that replays it. Returns the `.wasm` path.
pub fn write_report(
    name: &str,
    bytes: &[u8],
    plan: Option<&Plan>,
    replay: &str,
    msg: &str,
) -> String {
    let dir = out_dir();
    let _ = std::fs::create_dir_all(&dir);
    let wasm = dir.join(format!("{name}.wasm"));
    let _ = std::fs::write(&wasm, bytes);
    if let Some(p) = plan {
        let _ = std::fs::write(dir.join(format!("{name}.calls")), p.to_text());
    }
    let cmd = if replay.is_empty() {
        format!("cargo run -p weld-fuzz -- replay {}", wasm.display())
    } else {
        format!("cargo run -p weld-fuzz -- {replay}")
    };
    let _ = std::fs::write(dir.join(format!("{name}.txt")), format!("{msg}\n{cmd}\n"));
    format!("{msg} [{}]", wasm.display())
}

/// Called before each case is worked on (compile phase, then run phase), so that a driver can
/// tell which case killed the process.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// Run the core cases `seeds` as one batch; `each` gets every result.
pub fn run_core_batch(
    seeds: &[u64],
    engine: &wasmtime::Engine,
    started: Progress<'_>,
    each: &mut dyn FnMut(u64, CaseResult),
) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            for s in seeds {
                each(*s, CaseResult::Crash(format!("temporary directory: {e}")));
            }
            return;
        }
    };
    let mut compiled: Vec<(Case, String, PathBuf)> = Vec::new();
    for &seed in seeds {
        started(seed);
        let Some(case) = gen_case(seed) else {
            each(seed, CaseResult::Skipped);
            continue;
        };
        let prefix = format!("c{seed}");
        match weld_compile(&case, &prefix) {
            WeldCompile::Object(obj) => {
                let path = dir.path().join(format!("{prefix}.o"));
                if let Err(e) = std::fs::write(&path, obj) {
                    each(seed, CaseResult::Crash(format!("writing object: {e}")));
                    continue;
                }
                compiled.push((case, prefix, path));
            }
            WeldCompile::Unsupported(m) => each(seed, CaseResult::Unsupported(m)),
            WeldCompile::Failed(m) => {
                let msg = format!("weld rejected a module Wasmtime accepts: {m}");
                let r = write_report(&format!("core-{seed}"), &case.bytes, None, "", &msg);
                each(seed, CaseResult::Diverged(r));
            }
            WeldCompile::Panicked(m) => {
                let msg = format!("weld panicked compiling: {m}");
                let r = write_report(&format!("crash-{seed}"), &case.bytes, None, "", &msg);
                each(seed, CaseResult::Crash(r));
            }
        }
    }
    if compiled.is_empty() {
        return;
    }
    let objects: Vec<PathBuf> = compiled.iter().map(|(_, _, p)| p.clone()).collect();
    let lib = match crate::link_library(&objects, &dir.path().join("batch.so")) {
        Ok(l) => l,
        Err(e) => {
            for (case, _, _) in &compiled {
                let msg = format!("weld's objects did not link: {e}");
                let r = write_report(&format!("core-{}", case.seed), &case.bytes, None, "", &msg);
                each(case.seed, CaseResult::Diverged(r));
            }
            return;
        }
    };
    for (case, prefix, _) in &compiled {
        started(case.seed);
        each(case.seed, run_core_case(&lib, prefix, case, engine));
    }
}

/// Run one compiled case in both engines and judge it; divergences are minimised and recorded.
pub fn run_core_case(
    lib: &Library,
    prefix: &str,
    case: &Case,
    engine: &wasmtime::Engine,
) -> CaseResult {
    let p = match plan(case) {
        Ok(p) => p,
        Err(e) => return CaseResult::Diverged(format!("reading exports: {e}")),
    };
    match judge(lib, prefix, case, engine, &p) {
        Verdict::Same => CaseResult::Same,
        Verdict::Inconclusive(m) => CaseResult::Inconclusive(m),
        Verdict::Diverged(_) => {
            let (small, msg) = minimize(lib, prefix, case, engine, p);
            let wasm = out_dir().join(format!("core-{}.wasm", case.seed));
            let flags = format!(
                "replay {}{}",
                wasm.display(),
                if case.explicit_bounds {
                    " --explicit-bounds"
                } else {
                    ""
                }
            );
            CaseResult::Diverged(write_report(
                &format!("core-{}", case.seed),
                &case.bytes,
                Some(&small),
                &flags,
                &msg,
            ))
        }
    }
}

/// Run `plan` in both engines and compare.
pub fn judge(
    lib: &Library,
    prefix: &str,
    case: &Case,
    engine: &wasmtime::Engine,
    plan: &Plan,
) -> Verdict {
    let w = run_weld(lib, prefix, plan);
    let t = run_wasmtime(engine, &case.bytes, plan);
    compare(plan, &w, &t)
}

fn zero_of(v: Value) -> Value {
    match v {
        Value::I32(_) => Value::I32(0),
        Value::I64(_) => Value::I64(0),
        Value::F32(_) => Value::F32(0),
        Value::F64(_) => Value::F64(0),
        Value::V128(_) => Value::V128(0),
        r @ Value::Ref { .. } => r,
    }
}

/// Shrink a diverging plan: drop calls (latest first) and zero arguments while it still
/// diverges. Returns the smaller plan and its divergence message.
pub fn minimize(
    lib: &Library,
    prefix: &str,
    case: &Case,
    engine: &wasmtime::Engine,
    mut plan: Plan,
) -> (Plan, String) {
    let mut msg = match judge(lib, prefix, case, engine, &plan) {
        Verdict::Diverged(m) => m,
        other => return (plan, format!("not reproducible: {other:?}")),
    };
    let mut budget = 300;
    let mut i = plan.calls.len();
    while i > 0 && budget > 0 {
        i -= 1;
        let mut smaller = plan.clone();
        smaller.calls.remove(i);
        budget -= 1;
        if let Verdict::Diverged(m) = judge(lib, prefix, case, engine, &smaller) {
            plan = smaller;
            msg = m;
        }
    }
    for c in 0..plan.calls.len() {
        for a in 0..plan.calls[c].args.len() {
            if budget == 0 {
                break;
            }
            let zero = zero_of(plan.calls[c].args[a]);
            if plan.calls[c].args[a] == zero {
                continue;
            }
            let mut smaller = plan.clone();
            smaller.calls[c].args[a] = zero;
            budget -= 1;
            if let Verdict::Diverged(m) = judge(lib, prefix, case, engine, &smaller) {
                plan = smaller;
                msg = m;
            }
        }
    }
    (plan, msg)
}

/// Run the component cases `seeds` as one batch.
pub fn run_component_batch(
    seeds: &[u64],
    engine: &wasmtime::Engine,
    started: Progress<'_>,
    each: &mut dyn FnMut(u64, CaseResult),
) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            for s in seeds {
                each(*s, CaseResult::Crash(format!("temporary directory: {e}")));
            }
            return;
        }
    };
    let mut compiled: Vec<(ComponentCase, String, Vec<PathBuf>)> = Vec::new();
    for &seed in seeds {
        started(seed);
        let case = match gen_component_case(seed) {
            Ok(c) => c,
            Err(e) => {
                each(seed, CaseResult::Diverged(format!("generated text: {e}")));
                continue;
            }
        };
        let prefix = format!("k{seed}");
        let name = format!("component-{seed}");
        let replay = format!("component {seed}");
        let host = match weld_compile_component(&case.host_bytes, &host_prefix(&prefix)) {
            WeldCompile::Object(obj) => obj,
            WeldCompile::Unsupported(m) => {
                each(seed, CaseResult::Unsupported(m));
                continue;
            }
            WeldCompile::Failed(m) | WeldCompile::Panicked(m) => {
                let msg = format!("{}: weld failed on the host echo: {m}", case.describe());
                let r = write_report(&name, &case.host_bytes, None, &replay, &msg);
                each(seed, CaseResult::Crash(r));
                continue;
            }
        };
        match weld_compile_component(&case.bytes, &prefix) {
            WeldCompile::Object(obj) => {
                let path = dir.path().join(format!("{prefix}.o"));
                let host_path = dir.path().join(format!("{}.o", host_prefix(&prefix)));
                if let Err(e) = std::fs::write(&path, obj).and(std::fs::write(&host_path, host)) {
                    each(seed, CaseResult::Crash(format!("writing object: {e}")));
                    continue;
                }
                compiled.push((case, prefix, vec![path, host_path]));
            }
            WeldCompile::Unsupported(m) => each(seed, CaseResult::Unsupported(m)),
            WeldCompile::Failed(m) => {
                let msg = format!("{}: weld rejected it: {m}", case.describe());
                let r = write_report(&name, &case.bytes, None, &replay, &msg);
                each(seed, CaseResult::Diverged(r));
            }
            WeldCompile::Panicked(m) => {
                let msg = format!("{}: weld panicked: {m}", case.describe());
                let r = write_report(&name, &case.bytes, None, &replay, &msg);
                each(seed, CaseResult::Crash(r));
            }
        }
    }
    if compiled.is_empty() {
        return;
    }
    let objects: Vec<PathBuf> = compiled.iter().flat_map(|(_, _, p)| p.clone()).collect();
    let lib = match crate::link_library(&objects, &dir.path().join("batch.so")) {
        Ok(l) => l,
        Err(e) => {
            for (case, _, _) in &compiled {
                each(case.seed, CaseResult::Diverged(format!("link: {e}")));
            }
            return;
        }
    };
    for (case, prefix, _) in &compiled {
        started(case.seed);
        let w = run_weld_component(&lib, prefix, case);
        let t = run_wasmtime_component(engine, case);
        let r = match check(case, &w, &t) {
            Ok(()) => CaseResult::Same,
            Err(m) => {
                // Minimised: only the first value that fails, through the export that fails.
                let msg = format!("{}: {m}", case.describe());
                CaseResult::Diverged(write_report(
                    &format!("component-{}", case.seed),
                    &case.bytes,
                    None,
                    &format!("component {}", case.seed),
                    &msg,
                ))
            }
        };
        each(case.seed, r);
    }
}
