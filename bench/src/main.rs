//! `weld-bench` (`make bench`, issue 5): weld against Wasmtime 48.0.8 and native C on this
//! machine, in one run — Sightglass run time (and that of weld's Wasm 3.0 programs in
//! `bench/wasm3/`), hello-world start-up and size, boundary calls and compile cost — written as
//! `bench/results/latest.{json,md,svg}`.
//!
//! Environment: `BENCH=name` runs one Sightglass benchmark (a name, file stem or directory, e.g.
//! `shootout`), or one section (`startup`, `calls`, `async-calls`, `compile-python`), and writes
//! `target/bench/partial.{json,md,svg}` instead of `bench/results/latest.*`. `BENCH_RUNS` fixes the
//! number of weld/Wasmtime run pairs per program (default: up to 9, as many as fit in the
//! run-time section's budget `BENCH_BUDGET_S`, 480 s, shared out among the programs; up to 25
//! for programs whose runs spread widely);
//! `SIGHTGLASS` points at the corpus (default `../shared/bench/sightglass`); `WASMTIME`,
//! `WASM_TOOLS` at the tools (default: `PATH`, then `~/.cargo/bin`).
//!
//! `weld-bench run-weld LIB.so ARGV0` is the child that runs one compiled benchmark ([`child`]).

mod async_calls;
mod calls;
mod child;
mod procs;
mod report;
mod sightglass;
mod startup;
mod stats;
mod timer_component;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("run-weld") {
        let (Some(so), Some(argv0)) = (args.get(2), args.get(3)) else {
            eprintln!("usage: weld-bench run-weld LIB.so ARGV0");
            return ExitCode::from(2);
        };
        return match child::run_weld(Path::new(so), argv0) {
            Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(1)),
            Err(e) => {
                eprintln!("weld-bench run-weld: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    match harness() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weld-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tool_version(p: Option<&Path>) -> Value {
    p.and_then(|p| std::process::Command::new(p).arg("--version").output().ok())
        .map(|o| json!(String::from_utf8_lossy(&o.stdout).trim().to_string()))
        .unwrap_or(Value::Null)
}

fn harness() -> Result<()> {
    let started = Instant::now();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the repository root")?;
    let corpus = std::env::var_os("SIGHTGLASS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/bench/sightglass"));
    let filter = std::env::var("BENCH").ok().filter(|s| !s.is_empty());
    let section = |s: &str| filter.as_deref().is_none_or(|f| f == s);
    let work = repo.join("target/bench");
    std::fs::create_dir_all(&work).context("creating target/bench")?;
    let me = std::env::current_exe().context("locating weld-bench")?;
    let weld = me.with_file_name("weld");
    anyhow::ensure!(
        weld.is_file(),
        "{} not found: build it with `cargo build --release -p weld -p weld-runtime`",
        weld.display()
    );
    let tools = procs::Tools {
        launch: procs::build_launcher(&work)?,
        work: work.clone(),
        weld,
        me,
        wasmtime: procs::find_tool("WASMTIME", "wasmtime"),
        wasm_tools: procs::find_tool("WASM_TOOLS", "wasm-tools"),
    };
    let mut r = report::Results::default();
    let wasmtime_version = tool_version(tools.wasmtime.as_deref());
    if tools.wasmtime.is_none() {
        r.notes.push(
            "wasmtime not found: Wasmtime figures are missing (make bench installs it)".into(),
        );
    } else if !wasmtime_version
        .as_str()
        .is_some_and(|v| v.contains("48.0.8"))
    {
        r.notes.push(format!(
            "the wasmtime CLI is {wasmtime_version}, not 48.0.8"
        ));
    }
    if tools.wasm_tools.is_none() {
        r.notes.push(
            "wasm-tools not found: components (cm-online-stats) cannot be composed for Wasmtime"
                .into(),
        );
    }
    eprintln!(
        "weld-bench: weld {} ; wasmtime {} ; corpus {}",
        tools.weld.display(),
        wasmtime_version,
        corpus.display()
    );

    // 1. Start-up first, while this process is small (its children are measured through the
    //    launcher anyway).
    if section("startup") {
        let rounds = env_usize("BENCH_STARTUP_RUNS", 40);
        eprintln!("[startup] hello world: {rounds} rounds of weld / wasmtime / native");
        match startup::run(&tools, &repo, rounds) {
            Ok(s) => {
                for (who, side) in [
                    ("weld", &s.weld),
                    ("wasmtime", &s.wasmtime),
                    ("native", &s.native),
                ] {
                    eprintln!(
                        "[startup]   {who:8} wall {} rss {:.2} MiB{}",
                        side.wall().map_or("-".into(), |w| stats::fmt_ns(w.median)),
                        side.rss().map_or(f64::NAN, |x| x.median / 1024.0),
                        side.error
                            .as_ref()
                            .map_or(String::new(), |e| format!("  ERROR {e}"))
                    );
                }
                r.startup = Some(s);
            }
            Err(e) => r.notes.push(format!("start-up not measured: {e:#}")),
        }
    }

    // 2. Sightglass: compile, then run alternately.
    let (mut benches, skipped) = sightglass::discover(&corpus, sightglass::Suite::Sightglass)
        .with_context(|| format!("the Sightglass corpus at {}", corpus.display()))?;
    // weld's own Wasm 3.0 programs, run the same way (their ratios are reported apart).
    let wasm3 = repo.join("bench/wasm3");
    let (programs, _) = sightglass::discover(&wasm3, sightglass::Suite::Wasm3)
        .with_context(|| format!("the Wasm 3.0 programs at {}", wasm3.display()))?;
    benches.extend(programs);
    let selected: Vec<_> = benches
        .iter()
        .filter(|b| filter.as_deref().is_none_or(|f| b.matches(f)))
        .collect();
    r.skipped = skipped
        .into_iter()
        .filter(|(n, _)| filter.as_deref().is_none_or(|f| f == n))
        .collect();
    for (n, why) in &r.skipped {
        eprintln!("[runtime] skipping {n}: {why}");
    }
    if !selected.is_empty() {
        let aux = match tools.wasmtime {
            Some(_) => match sightglass::prepare_wasmtime(&tools, &corpus.join("harness")) {
                Ok(a) => Some(a),
                Err(e) => {
                    r.notes.push(format!("Wasmtime runs impossible: {e:#}"));
                    None
                }
            },
            None => None,
        };
        let compile_runs = env_usize("BENCH_COMPILE_RUNS", 3).max(1);
        let total = selected.len();
        // The run-time section's budget (BENCH_BUDGET_S, default 480 s), shared out evenly
        // among the programs still to run: slow programs get fewer run pairs.
        let budget = env_usize("BENCH_BUDGET_S", 480) as f64 * 1e9;
        let section_start = Instant::now();
        for (i, b) in selected.into_iter().enumerate() {
            let t = Instant::now();
            let left = budget - section_start.elapsed().as_nanos() as f64;
            let share = left / (total - i) as f64;
            let res = sightglass::run_bench(&tools, aux.as_ref(), b, compile_runs, share);
            let show = |s: &sightglass::RunSide| match (&s.error, s.region(), s.process()) {
                (Some(e), _, _) => format!("FAILED ({})", e.chars().take(160).collect::<String>()),
                (None, Some(x), _) => stats::fmt_ns(x.median),
                (None, None, Some(p)) => format!("{} (process)", stats::fmt_ns(p.median)),
                _ => "-".into(),
            };
            eprintln!(
                "[runtime {}/{total}] {}: weld {}, wasmtime {}{} [{:.0} s, {:.0} s in all]",
                i + 1,
                b.name,
                show(&res.weld),
                show(&res.wasmtime),
                match res.ratio() {
                    Some((x, basis)) => format!(" → {x:.3} ({basis})"),
                    None if res.too_short() => " → too short to time".into(),
                    None if res.varies() => " → work varies run to run".into(),
                    None => String::new(),
                },
                t.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
            r.runtime.push(res);
        }
    }

    // 3. A large real component: the componentize-py example, if built.
    if section("compile-python") {
        let app = repo.join("examples/python/app.wasm");
        if app.is_file() {
            eprintln!("[compile] examples/python/app.wasm (componentize-py)");
            r.extra_compiles.push(compile_extra(&tools, &app));
        } else {
            r.notes.push(
                "examples/python/app.wasm missing (make python-example builds it): no large-component compile figures"
                    .into(),
            );
        }
    }

    // 4. Boundary calls, in this process.
    if section("calls") {
        let rounds = env_usize("BENCH_CALL_ROUNDS", 9);
        eprintln!("[calls] {rounds} rounds per case");
        match calls::run(&work, rounds) {
            Ok(cases) => {
                show_cases("calls", &cases);
                r.calls = cases;
            }
            Err(e) => r.notes.push(format!("boundary calls not measured: {e:#}")),
        }
    }

    // 5. Async calls and a stream between components (Component Model async), in this process.
    if section("async-calls") {
        let rounds = env_usize("BENCH_CALL_ROUNDS", 9);
        eprintln!("[async-calls] {rounds} rounds per case");
        match async_calls::run(&work, rounds) {
            Ok(cases) => {
                show_cases("async-calls", &cases);
                r.calls.extend(cases);
            }
            Err(e) => r.notes.push(format!("async calls not measured: {e:#}")),
        }
    }

    r.meta = meta(
        &repo,
        wasmtime_version,
        tool_version(tools.wasm_tools.as_deref()),
        started,
    );
    let (dir, stem) = match &filter {
        None => (repo.join("bench/results"), "latest"),
        Some(_) => (work.clone(), "partial"),
    };
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&report::to_json(&r))? + "\n";
    std::fs::write(dir.join(format!("{stem}.json")), json)?;
    std::fs::write(dir.join(format!("{stem}.md")), report::to_markdown(&r))?;
    match report::to_svg(&r) {
        Ok(svg) => std::fs::write(dir.join(format!("{stem}.svg")), svg)?,
        Err(e) => eprintln!("weld-bench: no chart: {e:#}"),
    }
    eprintln!("ratios:");
    for (k, v) in report::ratios(&r) {
        eprintln!("  {k:28} {}", v.map_or("-".into(), |v| format!("{v:.3}")));
    }
    eprintln!(
        "wrote {}/{stem}.{{json,md,svg}} in {:.0} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn compile_extra(tools: &procs::Tools, app: &Path) -> report::ExtraCompile {
    let mut weld = sightglass::CompileSide::default();
    let mut wasmtime = sightglass::CompileSide::default();
    let so = tools.work.join("python-app.so");
    let cwasm = tools.work.join("python-app.cwasm");
    let app_s = app.display().to_string();
    let so_s = so.display().to_string();
    let cw_s = cwasm.display().to_string();
    let record = |res: Result<procs::Run>, out: &Path, side: &mut sightglass::CompileSide| match res
    {
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
                procs::tail(&run.stderr)
            ))
        }
        Err(e) => side.error = Some(format!("{e:#}")),
    };
    let res = tools.measure(
        &tools.work,
        &tools.weld,
        &[
            "compile",
            &app_s,
            "--emit",
            "sharedlib",
            "--name",
            "app",
            "-o",
            &so_s,
        ],
    );
    record(res, &so, &mut weld);
    match tools.wasmtime() {
        Ok(wt) => {
            let res = tools.measure(&tools.work, wt, &["compile", &app_s, "-o", &cw_s]);
            record(res, &cwasm, &mut wasmtime);
        }
        Err(e) => wasmtime.error = Some(format!("{e:#}")),
    }
    let show = |s: &sightglass::CompileSide| match &s.error {
        Some(e) => format!("FAILED ({e})"),
        None => format!(
            "{} wall, {:.0} MiB",
            stats::fmt_ns(s.wall_ns.first().copied().unwrap_or(f64::NAN)),
            s.rss_kib.first().copied().unwrap_or(f64::NAN) / 1024.0
        ),
    };
    eprintln!(
        "[compile]   weld {}; wasmtime {}",
        show(&weld),
        show(&wasmtime)
    );
    report::ExtraCompile {
        name: "componentize-py app".into(),
        path: "examples/python/app.wasm".into(),
        weld,
        wasmtime,
    }
}

fn meta(
    repo: &Path,
    wasmtime: Value,
    wasm_tools: Value,
    started: Instant,
) -> serde_json::Map<String, Value> {
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
    });
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let when = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut m = serde_json::Map::new();
    m.insert("weld_commit".into(), json!(git));
    m.insert("wasmtime_cli".into(), wasmtime);
    m.insert("wasmtime_crate".into(), json!("48.0.8"));
    m.insert("wasm_tools".into(), wasm_tools);
    m.insert("cpu".into(), json!(cpu));
    m.insert("cores".into(), json!(cores));
    m.insert("unix_time".into(), json!(when));
    m.insert("duration_s".into(), json!(started.elapsed().as_secs_f64()));
    m.insert(
        "summary".into(),
        json!(format!(
            "weld {} vs Wasmtime CLI {} / crate 48.0.8, {} core(s) of {}",
            git.unwrap_or_default(),
            m.get("wasmtime_cli").and_then(Value::as_str).unwrap_or("?"),
            cores,
            cpu.unwrap_or_default()
        )),
    );
    m
}

/// One line per measured case on stderr, under `[section]`.
fn show_cases(section: &str, cases: &[calls::Case]) {
    for c in cases {
        let m = |xs: &[f64]| stats::Summary::of(xs).map_or(f64::NAN, |s| s.median);
        eprintln!(
            "[{section}]   {:36} weld {:8.1} ns, wasmtime {:8.1} ns{}",
            c.name,
            m(&c.weld_ns),
            m(&c.wasmtime_ns),
            c.error
                .as_ref()
                .map_or(String::new(), |e| format!("  ERROR {e}"))
        );
    }
}
