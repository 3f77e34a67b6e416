//! The Sightglass programs: compile each with `weld compile` and `wasmtime compile` (the compile
//! figures), then run them alternately (weld, Wasmtime, weld, ...) from their own directory with
//! `.` preopened, check stdout/stderr against the `*.expected` files and time the region between
//! `bench.start` and `bench.end` (`BENCH_NS`) and the whole process.

use crate::procs::{tail, Tools};
use crate::stats::{output_matches, readme_not_runnable, take_bench_ns, Summary};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which collection a benchmark program belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// The Sightglass corpus in `../shared/bench/sightglass`: the run-time ratios.
    Sightglass,
    /// weld's Wasm 3.0 programs in `bench/wasm3/`: one ratio each (`tail_call_interpreter`,
    /// `throw_catch`).
    Wasm3,
}

#[derive(Debug, Clone)]
pub struct Bench {
    /// File stem, or the directory's name for `benchmark.wasm`.
    pub name: String,
    /// The collection it comes from.
    pub suite: Suite,
    /// `dir/file.wasm`, relative to the corpus.
    pub rel: String,
    pub dir: PathBuf,
    pub wasm: PathBuf,
    pub stem: String,
    pub component: bool,
}

impl Bench {
    pub fn matches(&self, filter: &str) -> bool {
        let dir = self.rel.split('/').next().unwrap_or("");
        filter == self.name || filter == dir || filter == self.rel || filter == self.stem
    }

    fn expected(&self, stream: &str) -> Option<PathBuf> {
        [
            format!("{}.{stream}.expected", self.stem),
            format!("default.{stream}.expected"),
        ]
        .into_iter()
        .map(|f| self.dir.join(f))
        .find(|p| p.is_file())
    }
}

/// Shortest measured region that counts toward the run-time ratios.
pub const MIN_REGION_NS: f64 = 1e6;
/// Shortest whole process that counts, for programs without a measured region.
pub const MIN_PROCESS_NS: f64 = 5e7;

/// Benchmarks left out: name and reason.
pub type Skipped = Vec<(String, String)>;

/// Every `.wasm` in the corpus, and those skipped with the reason.
pub fn discover(root: &Path, suite: Suite) -> Result<(Vec<Bench>, Skipped)> {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let skip = readme_not_runnable(&readme);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .with_context(|| format!("reading {}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut benches = Vec::new();
    let mut skipped = Vec::new();
    for dir in dirs {
        let dname = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if dname == "harness" || dname == "LICENSES" {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        files.sort();
        for wasm in files {
            let stem = wasm
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fname = format!("{stem}.wasm");
            let rel = format!("{dname}/{fname}");
            let name = if stem == "benchmark" {
                dname.clone()
            } else {
                stem.clone()
            };
            if let Some((_, why)) = skip.iter().find(|(f, _)| *f == rel) {
                skipped.push((name, why.clone()));
                continue;
            }
            let component = std::fs::read(&wasm)
                .map(|b| b.len() >= 8 && b[4..8] == [0x0d, 0x00, 0x01, 0x00])
                .unwrap_or(false);
            benches.push(Bench {
                name,
                suite,
                rel,
                dir: dir.clone(),
                wasm,
                stem,
                component,
            });
        }
    }
    Ok((benches, skipped))
}

/// One compile: wall, CPU, peak RSS, output size.
#[derive(Debug, Clone, Default)]
pub struct CompileSide {
    pub wall_ns: Vec<f64>,
    pub cpu_ns: Vec<f64>,
    pub rss_kib: Vec<f64>,
    pub size: Option<u64>,
    pub error: Option<String>,
}

/// One engine's runs of a benchmark.
#[derive(Debug, Clone, Default)]
pub struct RunSide {
    pub region_ns: Vec<f64>,
    pub process_ns: Vec<f64>,
    pub rss_kib: Vec<f64>,
    pub error: Option<String>,
}

impl RunSide {
    pub fn region(&self) -> Option<Summary> {
        Summary::of(&self.region_ns)
    }
    pub fn process(&self) -> Option<Summary> {
        Summary::of(&self.process_ns)
    }
}

#[derive(Debug, Clone)]
pub struct Result1 {
    pub bench: Bench,
    pub weld_compile: CompileSide,
    pub wasmtime_compile: CompileSide,
    pub weld: RunSide,
    pub wasmtime: RunSide,
}

impl Result1 {
    /// What the ratio compares: regions' summaries when both engines have one, else whole
    /// processes'; `None` for failures.
    fn basis(&self) -> Option<(Summary, Summary, &'static str)> {
        if self.weld.error.is_some() || self.wasmtime.error.is_some() {
            return None;
        }
        if let (Some(a), Some(b)) = (self.weld.region(), self.wasmtime.region()) {
            return Some((a, b, "region"));
        }
        Some((self.weld.process()?, self.wasmtime.process()?, "process"))
    }

    /// weld/Wasmtime run time: the medians of [`Self::basis`], with which basis. `None` for
    /// failures, for programs too short to time ([`Self::too_short`]) and for programs whose
    /// work varies from run to run ([`Self::varies`]).
    pub fn ratio(&self) -> Option<(f64, &'static str)> {
        let (a, b, basis) = self.basis()?;
        if self.too_short() || self.varies() {
            return None;
        }
        crate::stats::ratio(a.median, b.median).map(|r| (r, basis))
    }

    /// Ran on both but too short to time: a region under [`MIN_REGION_NS`] (Wasmtime's timer
    /// is a wasm module calling WASI `clock_time_get`, several µs, against weld's in-host clock
    /// read) or, without regions, a process under [`MIN_PROCESS_NS`] (start-up, measured
    /// separately, would dominate).
    pub fn too_short(&self) -> bool {
        let Some((a, b, basis)) = self.basis() else {
            return false;
        };
        let min = if basis == "region" {
            MIN_REGION_NS
        } else {
            MIN_PROCESS_NS
        };
        a.median.min(b.median) < min
    }

    /// Ran on both, but the work itself changes from run to run: on both engines the slowest
    /// run took more than [`MAX_SPREAD`] times the fastest — far beyond this machine's noise
    /// (±30%). Some libsodium tests size their work with `randombytes`; their medians over a
    /// few runs compare different amounts of work, so they do not count.
    pub fn varies(&self) -> bool {
        let Some((a, b, _)) = self.basis() else {
            return false;
        };
        let spread = |s: &Summary| s.min > 0.0 && s.max / s.min > MAX_SPREAD;
        spread(&a) && spread(&b)
    }
}

impl Result1 {
    /// The larger slowest/fastest ratio of the two engines' runs on the ratio's basis (NaN
    /// when either engine has no runs: not yet, or it failed).
    pub fn widest_spread(&self) -> f64 {
        let Some((a, b, _)) = self.basis() else {
            return f64::NAN;
        };
        let spread = |s: &Summary| if s.min > 0.0 { s.max / s.min } else { f64::NAN };
        spread(&a).max(spread(&b))
    }
}

/// See [`Result1::varies`].
pub const MAX_SPREAD: f64 = 4.0;

/// Files made once for the Wasmtime runs.
#[derive(Debug)]
pub struct WasmtimeAux {
    /// `bench-timer.wat` precompiled (the `--preload bench=` of core modules).
    pub timer: PathBuf,
    /// The timer as a component exporting `bench` (see [`crate::timer_component`]), plugged
    /// into component benchmarks with `wasm-tools compose`.
    pub bench_component: Option<PathBuf>,
}

pub fn prepare_wasmtime(tools: &Tools, harness: &Path) -> Result<WasmtimeAux> {
    let wasmtime = tools.wasmtime()?;
    let timer = tools.work.join("bench-timer.cwasm");
    let run = tools.measure(
        &tools.work,
        wasmtime,
        &[
            "compile",
            &path_str(&harness.join("bench-timer.wat"))?,
            "-o",
            &path_str(&timer)?,
        ],
    )?;
    if run.usage.status != 0 {
        bail!("wasmtime compile bench-timer.wat: {}", tail(&run.stderr));
    }
    // Composing needs wasm-tools; without it component benchmarks have no Wasmtime side.
    let bench_component = match &tools.wasm_tools {
        Some(_) => {
            let out = tools.work.join("bench-timer-component.wasm");
            let bytes = crate::timer_component::timer_component(&harness.join("bench-timer.wat"))?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            Some(out)
        }
        None => None,
    };
    Ok(WasmtimeAux {
        timer,
        bench_component,
    })
}

pub fn path_str(p: &Path) -> Result<String> {
    p.to_str()
        .map(str::to_string)
        .with_context(|| format!("path is not UTF-8: {}", p.display()))
}

/// Most weld/Wasmtime pairs of runs per program: this machine's timings move by ±30% from run
/// to run (other tenants), and a median of 5 still let one program's ratio swing from 1.06 to
/// 1.34 between two `make bench` runs.
pub const MAX_PAIRS: usize = 9;

/// How many weld/Wasmtime pairs of runs: `BENCH_RUNS`, else as many as fit in what is left of
/// this program's share of the time budget (`left_ns`) after the first pair, between 1 and
/// [`MAX_PAIRS`].
pub fn pairs_for(first_pair_ns: f64, left_ns: f64) -> usize {
    if let Some(n) = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        return n.max(1);
    }
    if first_pair_ns.is_nan() || first_pair_ns <= 0.0 || !left_ns.is_finite() {
        return 3;
    }
    (1.0 + (left_ns / first_pair_ns).floor()).clamp(1.0, MAX_PAIRS as f64) as usize
}

pub fn run_bench(
    tools: &Tools,
    aux: Option<&WasmtimeAux>,
    b: &Bench,
    compile_runs: usize,
    share_ns: f64,
) -> Result1 {
    let begun = Instant::now();
    let mut r = Result1 {
        bench: b.clone(),
        weld_compile: CompileSide::default(),
        wasmtime_compile: CompileSide::default(),
        weld: RunSide::default(),
        wasmtime: RunSide::default(),
    };
    let so = tools.work.join(format!("{}.so", b.name));
    let cwasm = tools.work.join(format!("{}.cwasm", b.name));
    // What Wasmtime compiles: the module, or the component with `bench` plugged in.
    let wasmtime_input = match (aux, b.component) {
        (None, _) => Err(anyhow::anyhow!("wasmtime is not available")),
        (Some(_), false) => Ok(b.wasm.clone()),
        (Some(aux), true) => compose(tools, aux, b),
    };
    if let Err(e) = &wasmtime_input {
        r.wasmtime_compile.error = Some(format!("{e:#}"));
        r.wasmtime.error = Some(format!("{e:#}"));
    }
    for _ in 0..compile_runs {
        if r.weld_compile.error.is_none() {
            compile_weld(tools, b, &so, &mut r.weld_compile);
        }
        if let Ok(input) = &wasmtime_input {
            if r.wasmtime_compile.error.is_none() {
                compile_wasmtime(tools, input, &cwasm, &mut r.wasmtime_compile);
            }
        }
    }
    if let Some(e) = &r.weld_compile.error {
        r.weld.error = Some(format!("compile: {e}"));
    }
    if r.wasmtime.error.is_none() {
        if let Some(e) = &r.wasmtime_compile.error {
            r.wasmtime.error = Some(format!("compile: {e}"));
        }
    }
    let weld_cmd = |tools: &Tools| -> Result<crate::procs::Run> {
        tools.measure(
            &b.dir,
            &tools.me,
            &["run-weld", &path_str(&so)?, &format!("{}.wasm", b.stem)],
        )
    };
    let wasmtime_cmd = |tools: &Tools| -> Result<crate::procs::Run> {
        let wasmtime = tools.wasmtime()?;
        let cw = path_str(&cwasm)?;
        let mut args = vec!["run", "--allow-precompiled"];
        let preload;
        if !b.component {
            let timer = aux
                .map(|a| path_str(&a.timer))
                .transpose()?
                .unwrap_or_default();
            preload = format!("bench={timer}");
            args.extend(["--preload", &preload]);
        }
        args.extend(["--dir", ".", &cw]);
        tools.measure(&b.dir, wasmtime, &args)
    };
    let mut pairs = 1;
    let runs_begun = Instant::now();
    let mut i = 0;
    while i < pairs {
        let t0 = Instant::now();
        if r.weld.error.is_none() {
            one_run(b, weld_cmd(tools), &mut r.weld);
        }
        if r.wasmtime.error.is_none() {
            one_run(b, wasmtime_cmd(tools), &mut r.wasmtime);
        }
        if i == 0 {
            let left = share_ns - begun.elapsed().as_nanos() as f64;
            pairs = pairs_for(t0.elapsed().as_nanos() as f64, left);
        }
        i += 1;
        // Programs whose ratio would not count anyway (work that varies, too short) get none.
        if i == pairs
            && pairs == MAX_PAIRS
            && std::env::var_os("BENCH_RUNS").is_none()
            && !r.varies()
            && !r.too_short()
        {
            let left = share_ns - begun.elapsed().as_nanos() as f64;
            // The mean pair so far: widely spread programs' first pair may be a fast one.
            let pair_ns = runs_begun.elapsed().as_nanos() as f64 / i as f64;
            pairs += wide_spread_pairs(r.widest_spread(), pair_ns, left);
        }
    }
    r
}

/// A spread (slowest/fastest run on one engine) above which a median of [`MAX_PAIRS`] is
/// itself noisy: programs whose work is sized at random (libsodium's `sodium_utils` went
/// 13–32 ms on both engines, and its ratio from 0.97 to 1.19 between two runs), or a noisy
/// neighbour. Such programs get up to [`MAX_PAIRS_WIDE`] pairs.
pub const WIDE_SPREAD: f64 = 1.5;

/// Most pairs of runs for a program with a [`WIDE_SPREAD`].
pub const MAX_PAIRS_WIDE: usize = 25;

/// How many pairs to add after [`MAX_PAIRS`] for a program whose widest spread is `spread`: as
/// many as fit in `left_ns` at `pair_ns` each, up to [`MAX_PAIRS_WIDE`] in all; none when the
/// spread is narrow.
pub fn wide_spread_pairs(spread: f64, pair_ns: f64, left_ns: f64) -> usize {
    if spread.is_nan() || spread <= WIDE_SPREAD || pair_ns.is_nan() || pair_ns <= 0.0 {
        return 0;
    }
    if !left_ns.is_finite() || left_ns <= 0.0 {
        return 0;
    }
    ((left_ns / pair_ns).floor() as usize).min(MAX_PAIRS_WIDE - MAX_PAIRS)
}

/// Whether the component in `bytes` imports the `bench` instance (at its top level).
fn imports_bench(bytes: &[u8]) -> bool {
    let mut depth = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(wasmparser::Payload::Version { .. }) => depth += 1,
            Ok(wasmparser::Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(wasmparser::Payload::ComponentImportSection(r))
                if depth == 1
                    && r.clone()
                        .into_iter()
                        .flatten()
                        .any(|i| i.name.name == "bench") =>
            {
                return true;
            }
            Err(_) => return false,
            _ => {}
        }
    }
    false
}

/// The component Wasmtime runs: `b`'s with the `bench` instance plugged in when it imports
/// one, else `b`'s own.
fn compose(tools: &Tools, aux: &WasmtimeAux, b: &Bench) -> Result<PathBuf> {
    let bytes = std::fs::read(&b.wasm).with_context(|| format!("reading {}", b.wasm.display()))?;
    if !imports_bench(&bytes) {
        return Ok(b.wasm.clone());
    }
    let (Some(wt), Some(bc)) = (&tools.wasm_tools, &aux.bench_component) else {
        bail!("wasm-tools is not installed: cannot plug the bench instance into the component for Wasmtime (cargo install wasm-tools --locked)");
    };
    let out = tools.work.join(format!("{}.composed.wasm", b.name));
    let run = tools.measure(
        &tools.work,
        wt,
        &[
            "compose",
            &path_str(&b.wasm)?,
            "-d",
            &path_str(bc)?,
            "-o",
            &path_str(&out)?,
        ],
    )?;
    if run.usage.status != 0 {
        bail!("wasm-tools compose: {}", tail(&run.stderr));
    }
    Ok(out)
}

fn compile_weld(tools: &Tools, b: &Bench, so: &Path, side: &mut CompileSide) {
    let args = |so: &Path| -> Result<Vec<String>> {
        Ok(vec![
            "compile".into(),
            path_str(&b.wasm)?,
            "--emit".into(),
            "sharedlib".into(),
            // As `wasmtime compile` does by default: code for this machine's CPU.
            "--cpu".into(),
            "native".into(),
            "--name".into(),
            crate::child::PREFIX.into(),
            "-o".into(),
            path_str(so)?,
        ])
    };
    let res = args(so).and_then(|a| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        tools.measure(&tools.work, &tools.weld, &a)
    });
    record_compile(res, so, side);
}

fn compile_wasmtime(tools: &Tools, input: &Path, cwasm: &Path, side: &mut CompileSide) {
    let res = (|| {
        let wasmtime = tools.wasmtime()?;
        tools.measure(
            &tools.work,
            wasmtime,
            &["compile", &path_str(input)?, "-o", &path_str(cwasm)?],
        )
    })();
    record_compile(res, cwasm, side);
}

fn record_compile(res: Result<crate::procs::Run>, out: &Path, side: &mut CompileSide) {
    match res {
        Ok(run) if run.usage.status == 0 => {
            side.wall_ns.push(run.usage.wall_ns as f64);
            side.cpu_ns.push(run.usage.cpu_ns() as f64);
            side.rss_kib.push(run.usage.maxrss_kib as f64);
            side.size = std::fs::metadata(out).ok().map(|m| m.len());
        }
        Ok(run) => {
            side.error = Some(format!(
                "exit {}: {}",
                run.usage.status,
                one_line(&tail(&run.stderr))
            ))
        }
        Err(e) => side.error = Some(format!("{e:#}")),
    }
}

fn one_line(s: &str) -> String {
    let s: String = s.chars().take(300).collect();
    s.replace('\n', " ")
}

/// Record one run, or the reason it does not count (status, output mismatch).
fn one_run(b: &Bench, run: Result<crate::procs::Run>, side: &mut RunSide) {
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            side.error = Some(format!("{e:#}"));
            return;
        }
    };
    let (ns, stderr) = take_bench_ns(&String::from_utf8_lossy(&run.stderr));
    if run.usage.status != 0 {
        side.error = Some(format!(
            "exit status {}: {}",
            run.usage.status,
            one_line(&tail(stderr.as_bytes()))
        ));
        return;
    }
    for (stream, got) in [("stdout", &run.stdout[..]), ("stderr", stderr.as_bytes())] {
        if let Some(path) = b.expected(stream) {
            match std::fs::read(&path) {
                Ok(want) if output_matches(got, &want) => {}
                Ok(_) => {
                    side.error = Some(format!(
                        "{stream} differs from {} (got {} bytes: {:?})",
                        path.file_name().unwrap_or_default().to_string_lossy(),
                        got.len(),
                        one_line(&String::from_utf8_lossy(&got[..got.len().min(120)]))
                    ));
                    return;
                }
                Err(e) => {
                    side.error = Some(format!("reading {}: {e}", path.display()));
                    return;
                }
            }
        }
    }
    if let Some(ns) = ns {
        side.region_ns.push(ns as f64);
    }
    side.process_ns.push(run.usage.wall_ns as f64);
    side.rss_kib.push(run.usage.maxrss_kib as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_names_files_and_reads_skips() {
        let root = std::env::temp_dir().join(format!("weld-bench-disc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["noop", "shootout", "hex-simd", "harness"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        std::fs::write(root.join("noop/benchmark.wasm"), b"\0asm\x01\0\0\0").expect("w");
        std::fs::write(root.join("shootout/shootout-fib2.wasm"), b"\0asm\x01\0\0\0").expect("w");
        std::fs::write(root.join("hex-simd/benchmark.wasm"), b"\0asm\x0d\0\x01\0").expect("w");
        std::fs::write(root.join("harness/x.wasm"), b"").expect("w");
        std::fs::write(
            root.join("README.md"),
            "| `hex-simd/benchmark.wasm` | 1 | **not runnable as copied**: input absent |\n",
        )
        .expect("w");
        let (benches, skipped) = discover(&root, Suite::Sightglass).expect("discovers");
        let names: Vec<&str> = benches.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["noop", "shootout-fib2"]);
        assert!(benches[1].matches("shootout") && benches[1].matches("shootout-fib2"));
        assert!(!benches[0].matches("shootout"));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, "hex-simd");
        std::fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn pairs_fit_the_share_of_the_budget() {
        assert_eq!(pairs_for(1e9, 10e9), MAX_PAIRS);
        assert_eq!(pairs_for(1e9, 4.5e9), 5);
        assert_eq!(pairs_for(1e9, 2.5e9), 3);
        assert_eq!(pairs_for(1e9, -1.0), 1);
        assert_eq!(pairs_for(0.0, 1e9), 3);
    }

    #[test]
    fn wide_spreads_get_more_pairs_as_the_budget_allows() {
        assert_eq!(wide_spread_pairs(1.2, 1e9, 100e9), 0, "narrow: no more");
        assert_eq!(
            wide_spread_pairs(2.0, 1e9, 100e9),
            MAX_PAIRS_WIDE - MAX_PAIRS
        );
        assert_eq!(wide_spread_pairs(2.0, 1e9, 4.5e9), 4);
        assert_eq!(wide_spread_pairs(2.0, 1e9, -1.0), 0);
        assert_eq!(wide_spread_pairs(f64::NAN, 1e9, 100e9), 0);
        assert_eq!(wide_spread_pairs(2.0, f64::NAN, 100e9), 0);
        assert_eq!(wide_spread_pairs(2.0, 0.0, 100e9), 0);
    }

    #[test]
    fn run_time_ratio_prefers_regions() {
        let b = Bench {
            name: "x".into(),
            suite: Suite::Sightglass,
            rel: "x/x.wasm".into(),
            dir: PathBuf::new(),
            wasm: PathBuf::new(),
            stem: "x".into(),
            component: false,
        };
        let side = |region: Vec<f64>, process: Vec<f64>| RunSide {
            region_ns: region,
            process_ns: process,
            ..RunSide::default()
        };
        let ms = 1e6;
        let mut r = Result1 {
            bench: b,
            weld_compile: CompileSide::default(),
            wasmtime_compile: CompileSide::default(),
            weld: side(vec![10.0 * ms, 30.0 * ms, 20.0 * ms], vec![100.0 * ms]),
            wasmtime: side(vec![40.0 * ms], vec![100.0 * ms]),
        };
        assert_eq!(r.ratio(), Some((0.5, "region")));
        r.wasmtime.region_ns = vec![0.5 * ms];
        assert_eq!(r.ratio(), None, "too short to time");
        assert!(r.too_short());
        r.wasmtime.region_ns.clear();
        assert_eq!(r.ratio(), Some((1.0, "process")));
        // Work that changes run to run on both engines does not count; on one only, it does.
        r.weld.region_ns = vec![5.0 * ms, 30.0 * ms, 60.0 * ms];
        r.wasmtime.region_ns = vec![2.0 * ms, 10.0 * ms, 90.0 * ms];
        assert!(r.varies() && !r.too_short());
        assert_eq!(r.ratio(), None);
        r.wasmtime.region_ns = vec![20.0 * ms, 25.0 * ms, 30.0 * ms];
        assert!(!r.varies());
        assert_eq!(r.ratio(), Some((1.2, "region")));
        r.weld.region_ns.clear();
        r.wasmtime.region_ns.clear();
        r.weld.error = Some("stdout differs".into());
        assert_eq!(r.ratio(), None);
    }
}
