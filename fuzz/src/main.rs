//! `weld-fuzz`: the long-run driver behind `make fuzz`.
//!
//! - `weld-fuzz [run]`: `FUZZ_CASES` core cases (default 10000) from seed `FUZZ_SEED` (default
//!   0), then `FUZZ_COMPONENT_CASES` component cases (default a tenth of that), in batches of
//!   `FUZZ_BATCH` (default 100); each batch runs in a child process, so a crash is counted (and
//!   the batch resumes after the case that died) instead of ending the run. Prints progress and
//!   ends with `N cases, N divergences, N crashes`. Half the core cases may use Wasm GC;
//!   with `FUZZ_GC=1` every one may (set it for `replay`, `gen` and `cross` of such seeds too).
//! - `weld-fuzz hostile`: `FUZZ_HOSTILE` hostile-input cases (default 1000) from case
//!   `FUZZ_SEED`, each a damaged input fed to one entry point of the `weld` command beside this
//!   executable (see `weld_fuzz::hostile`); ends with a table of cases and findings per entry
//!   point.
//! - `weld-fuzz cross aarch64|riscv64`: `FUZZ_CROSS` core cases (default 1000) from seed
//!   `FUZZ_SEED` that agree between weld and Wasmtime on x86_64, run again compiled for the
//!   target under qemu-user (see `weld_fuzz::cross`; needs `make runtime-cross`); ends with
//!   `N cases, N directives, N failed`.
//! - `weld-fuzz batch core|component SEED...`: one batch (the child's side of the protocol:
//!   `start SEED` before each case is worked on, `result SEED KIND DETAIL` after).
//! - `weld-fuzz replay FILE.wasm [--explicit-bounds]`: run a recorded core divergence (with
//!   `FILE.calls` if present) and print what each engine did.
//! - `weld-fuzz component SEED`: rerun one component case.
//! - `weld-fuzz print FILE.wasm`: the module as text.
//! - `weld-fuzz gen SEED OUT.wasm`: write the core module of a seed (and print its call plan).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weld_fuzz::campaign::{run_component_batch, run_core_batch, CaseResult, Tally};
use weld_fuzz::core::{
    compare, plan, run_wasmtime, run_weld, weld_compile, Case, Plan, WeldCompile,
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("run") => run(),
        Some("batch") => batch(&args[1..]),
        Some("hostile") => hostile(),
        Some("cross") => cross(args.get(1).map(String::as_str)),
        Some("replay") => replay(&args[1..]),
        Some("component") => component(&args[1..]),
        Some("gen") => gen(&args[1..]),
        Some("print") => match args.get(1).map(std::fs::read) {
            Some(Ok(b)) => match wasmprinter::print_bytes(&b) {
                Ok(t) => {
                    println!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            },
            _ => {
                eprintln!("usage: weld-fuzz print FILE.wasm");
                ExitCode::from(2)
            }
        },
        Some(other) => {
            eprintln!(
                "weld-fuzz: unknown command {other:?} (run, hostile, batch, replay, component)"
            );
            ExitCode::from(2)
        }
    }
}

fn cross(arch: Option<&str>) -> ExitCode {
    let (triple, qemu) = match arch {
        Some("aarch64") => ("aarch64-unknown-linux-gnu", "aarch64"),
        Some("riscv64") => ("riscv64gc-unknown-linux-gnu", "riscv64"),
        _ => {
            eprintln!("usage: weld-fuzz cross aarch64|riscv64");
            return ExitCode::from(2);
        }
    };
    let n = env_u64("FUZZ_CROSS", 1000);
    let seed = env_u64("FUZZ_SEED", 0);
    let batch = env_u64("FUZZ_BATCH", 100).max(1);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let runner = repo
        .join("target")
        .join(triple)
        .join("release/weld-wast-run");
    if !runner.is_file() {
        eprintln!(
            "weld-fuzz cross: {} is missing (make runtime-cross)",
            runner.display()
        );
        return ExitCode::from(2);
    }
    let exec = weld_fuzz::cross::exec(qemu, &runner);
    let target = match weld::Target::new(triple) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("weld-fuzz cross: {e}");
            return ExitCode::from(2);
        }
    };
    let engine = weld_fuzz::core::wasmtime_engine();
    let out = weld_fuzz::campaign::out_dir();
    let (mut total, began) = (weld_fuzz::cross::CrossTally::default(), Instant::now());
    let mut next = seed;
    while next < seed.saturating_add(n) {
        let seeds: Vec<u64> = (next..(next + batch).min(seed + n)).collect();
        next += seeds.len() as u64;
        // Alternate the bounds-check modes batch by batch.
        let explicit = (seeds[0] / batch) % 2 == 1;
        let options = weld::Options {
            target: target.clone(),
            relaxed_simd: weld::RelaxedSimd::Deterministic,
            bounds_checks: if explicit {
                weld::BoundsChecks::Explicit
            } else {
                weld::BoundsChecks::Guard
            },
            ..weld::Options::default()
        };
        match weld_fuzz::cross::run_batch(&seeds, &engine, &options, &exec, &out) {
            Ok(t) => {
                total.cases += t.cases;
                total.passed += t.passed;
                total.failed += t.failed;
                total.left_out += t.left_out;
            }
            Err(e) => println!("  batch from seed {}: {e}", seeds[0]),
        }
        println!(
            "[cross {arch}] {}/{n} seeds: {} cases, {} directives held, {} failed, {} left out ({:.1} seeds/s)",
            next - seed,
            total.cases,
            total.passed,
            total.failed,
            total.left_out,
            (next - seed) as f64 / began.elapsed().as_secs_f64().max(0.001),
            arch = arch.unwrap_or("")
        );
        let _ = std::io::stdout().flush();
    }
    println!(
        "{} cases, {} directives, {} failed",
        total.cases,
        total.passed + total.failed,
        total.failed
    );
    if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn hostile() -> ExitCode {
    use weld_fuzz::hostile;
    let n = env_u64("FUZZ_HOSTILE", 1000);
    let first = env_u64("FUZZ_SEED", 0);
    let Some(weld) = std::env::current_exe()
        .ok()
        .map(|e| e.with_file_name("weld"))
        .filter(|w| w.is_file())
    else {
        eprintln!("weld-fuzz hostile: no `weld` beside this executable (cargo build -p weld)");
        return ExitCode::from(2);
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = hostile::collect_seeds(&[repo.clone(), repo.join("../shared")]);
    seeds.extend(hostile::plugin_seeds(&weld, &seeds));
    println!(
        "weld-fuzz hostile: {n} cases from case {first}, {} seed files, weld at {}; findings go to {}",
        seeds.len(),
        weld.display(),
        weld_fuzz::campaign::out_dir().display()
    );
    let counts =
        hostile::campaign::campaign(&weld, &seeds, first, n, &weld_fuzz::campaign::out_dir());
    print!("{}", hostile::campaign::table(&counts));
    if counts.values().all(|c| c.findings == 0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Per-batch time limit: a child that exceeds it is killed and its current case counted as a
/// crash (a hang).
const BATCH_TIMEOUT: Duration = Duration::from_secs(600);

fn run() -> ExitCode {
    let cases = env_u64("FUZZ_CASES", 10_000);
    let seed = env_u64("FUZZ_SEED", 0);
    let component_cases = env_u64("FUZZ_COMPONENT_CASES", cases / 10);
    let batch = env_u64("FUZZ_BATCH", 100).max(1);
    println!(
        "weld-fuzz: {cases} core cases and {component_cases} component cases from seed {seed}, batches of {batch}; divergences go to {}",
        weld_fuzz::campaign::out_dir().display()
    );
    let mut total = Tally::default();
    for (kind, n) in [("core", cases), ("component", component_cases)] {
        let t = drive(kind, seed, n, batch);
        println!("{kind}: {t}");
        total.merge(&t);
    }
    println!(
        "{} cases, {} divergences, {} crashes",
        total.cases, total.divergences, total.crashes
    );
    if total.divergences + total.crashes == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn drive(kind: &str, seed: u64, n: u64, batch: u64) -> Tally {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("weld-fuzz: cannot find my own executable: {e}");
            return Tally::default();
        }
    };
    let mut tally = Tally::default();
    let began = Instant::now();
    let mut next = seed;
    let end = seed.saturating_add(n);
    while next < end {
        let mut pending: Vec<u64> = (next..end.min(next + batch)).collect();
        next += pending.len() as u64;
        while !pending.is_empty() {
            let (done, died) = child(&exe, kind, &pending, &mut tally);
            pending.retain(|s| !done.contains(s));
            if let Some((seed, why)) = died {
                // The case being worked on when the child died is the crash; the rest of the
                // batch runs again in a new child.
                pending.retain(|s| *s != seed);
                tally.add(&CaseResult::Crash(why.clone()));
                println!("  {kind} seed {seed}: crash: {why}");
            } else if !pending.is_empty() {
                for s in pending.drain(..) {
                    tally.add(&CaseResult::Crash("no result from the child".into()));
                    println!("  {kind} seed {s}: crash: no result");
                }
            }
        }
        let secs = began.elapsed().as_secs_f64().max(0.001);
        println!(
            "[{kind}] {}/{n}: {} divergences, {} crashes, {} inconclusive, {} unsupported ({:.1} cases/s)",
            tally.cases,
            tally.divergences,
            tally.crashes,
            tally.inconclusive,
            tally.unsupported,
            tally.cases as f64 / secs
        );
        let _ = std::io::stdout().flush();
    }
    tally
}

/// Run one child on `seeds`; the seeds it reported, and the one it died on (with why).
fn child(
    exe: &std::path::Path,
    kind: &str,
    seeds: &[u64],
    tally: &mut Tally,
) -> (Vec<u64>, Option<(u64, String)>) {
    let mut cmd = Command::new(exe);
    cmd.arg("batch").arg(kind);
    cmd.args(seeds.iter().map(u64::to_string));
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut ch = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return (
                vec![],
                Some((seeds[0], format!("could not start a child: {e}"))),
            );
        }
    };
    let Some(out) = ch.stdout.take() else {
        return (vec![], Some((seeds[0], "no stdout".into())));
    };
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut done = Vec::new();
    let mut current = None;
    let deadline = Instant::now() + BATCH_TIMEOUT;
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let mut w = line.splitn(4, ' ');
                match (w.next(), w.next().and_then(|s| s.parse::<u64>().ok())) {
                    (Some("start"), Some(s)) => current = Some(s),
                    (Some("result"), Some(s)) => {
                        let k = w.next().unwrap_or("");
                        let detail = w.next().unwrap_or("").to_string();
                        let r = match k {
                            "same" => CaseResult::Same,
                            "inconclusive" => CaseResult::Inconclusive(detail),
                            "unsupported" => CaseResult::Unsupported(detail),
                            "skipped" => CaseResult::Skipped,
                            "divergence" => CaseResult::Diverged(detail),
                            _ => CaseResult::Crash(detail),
                        };
                        if matches!(r, CaseResult::Diverged(_) | CaseResult::Crash(_)) {
                            println!("  {kind} seed {s}: {}: {}", r.kind(), r.detail());
                        }
                        tally.add(&r);
                        done.push(s);
                        current = None;
                    }
                    _ => {}
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if Instant::now() > deadline {
                    let _ = ch.kill();
                    timed_out = true;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = reader.join();
    let status = ch.wait();
    let died = match status {
        Ok(st) if st.success() && !timed_out => None,
        Ok(st) => current.map(|s| {
            (
                s,
                if timed_out {
                    "timed out".to_string()
                } else {
                    format!("the process died ({st})")
                },
            )
        }),
        Err(e) => current.map(|s| (s, format!("wait: {e}"))),
    };
    if let Some((s, why)) = &died {
        let _ = std::fs::create_dir_all(weld_fuzz::campaign::out_dir());
        let note = weld_fuzz::campaign::out_dir().join(format!("{kind}-crash-{s}.txt"));
        let _ = std::fs::write(
            note,
            format!("{why}\ncargo run -p weld-fuzz -- batch {kind} {s}\n"),
        );
    }
    (done, died)
}

fn batch(args: &[String]) -> ExitCode {
    let Some(kind) = args.first() else {
        eprintln!("usage: weld-fuzz batch core|component SEED...");
        return ExitCode::from(2);
    };
    let seeds: Vec<u64> = args[1..].iter().filter_map(|s| s.parse().ok()).collect();
    let engine = weld_fuzz::core::wasmtime_engine();
    let out = std::io::stdout();
    let mut started = |s: u64| {
        let mut o = out.lock();
        let _ = writeln!(o, "start {s}");
        let _ = o.flush();
    };
    let mut each = |s: u64, r: CaseResult| {
        let mut o = out.lock();
        let _ = writeln!(
            o,
            "result {s} {} {}",
            r.kind(),
            r.detail().replace('\n', " ")
        );
        let _ = o.flush();
    };
    // Panics are caught per case; keep their messages off the terminal of a long run.
    std::panic::set_hook(Box::new(|_| {}));
    match kind.as_str() {
        "core" => run_core_batch(&seeds, &engine, &mut started, &mut each),
        "component" => run_component_batch(&seeds, &engine, &mut started, &mut each),
        _ => {
            eprintln!("unknown batch kind {kind:?}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn replay(args: &[String]) -> ExitCode {
    let Some(path) = args.first() else {
        eprintln!("usage: weld-fuzz replay FILE.wasm [--explicit-bounds]");
        return ExitCode::from(2);
    };
    let explicit = args.iter().any(|a| a == "--explicit-bounds");
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let case = Case {
        seed: 0,
        bytes,
        explicit_bounds: explicit,
    };
    let calls = std::path::Path::new(path).with_extension("calls");
    let plan: Plan = match std::fs::read_to_string(&calls) {
        Ok(text) => match Plan::from_text(&case.bytes, &text) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{}: {e}", calls.display());
                return ExitCode::from(2);
            }
        },
        Err(_) => match plan(&case) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    print!("plan:\n{}", plan.to_text());
    let obj = match weld_compile(&case, "replay") {
        WeldCompile::Object(o) => o,
        other => {
            println!("weld: {other:?}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let o = dir.path().join("replay.o");
    if let Err(e) = std::fs::write(&o, obj) {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    let lib = match weld_fuzz::link_library(&[o], &dir.path().join("replay.so")) {
        Ok(l) => l,
        Err(e) => {
            println!("weld: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = weld_fuzz::core::wasmtime_engine();
    let w = run_weld(&lib, "replay", &plan);
    let t = run_wasmtime(&engine, &case.bytes, &plan);
    for (name, o) in [("weld", &w), ("wasmtime", &t)] {
        println!("{name}: instantiate {:?}", o.instantiate);
        for (c, r) in plan.calls.iter().zip(&o.calls) {
            println!("  {} -> {r}", c.export);
        }
        for (g, v) in &o.globals {
            println!("  global {g} = {v}");
        }
    }
    let v = compare(&plan, &w, &t);
    println!("verdict: {v:?}");
    if matches!(v, weld_fuzz::core::Verdict::Diverged(_)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn gen(args: &[String]) -> ExitCode {
    let (Some(seed), Some(out)) = (args.first().and_then(|s| s.parse().ok()), args.get(1)) else {
        eprintln!("usage: weld-fuzz gen SEED OUT.wasm");
        return ExitCode::from(2);
    };
    match weld_fuzz::core::gen_case(seed) {
        Some(case) => match std::fs::write(out, &case.bytes) {
            Ok(()) => {
                let p = plan(&case).unwrap_or_default();
                print!(
                    "{} bytes, {} calls\n{}",
                    case.bytes.len(),
                    p.calls.len(),
                    p.to_text()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{out}: {e}");
                ExitCode::from(2)
            }
        },
        None => {
            eprintln!("seed {seed}: wasm-smith made no module");
            ExitCode::FAILURE
        }
    }
}

fn component(args: &[String]) -> ExitCode {
    let Some(seed) = args.first().and_then(|s| s.parse::<u64>().ok()) else {
        eprintln!("usage: weld-fuzz component SEED");
        return ExitCode::from(2);
    };
    let engine = weld_fuzz::core::wasmtime_engine();
    let mut bad = false;
    run_component_batch(&[seed], &engine, &mut |_| {}, &mut |s, r| {
        println!("component seed {s}: {} {}", r.kind(), r.detail());
        bad = matches!(r, CaseResult::Diverged(_) | CaseResult::Crash(_));
    });
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
