//! The hostile-input campaign: damaged inputs fed to every entry point of the `weld` command, as
//! a user would feed them, each in its own process with a time and memory limit.
//!
//! In: seed files (every `.wasm`, `.wat` and `.wast` of the repository and `../shared`, the
//! policy examples) and a case number. Out: per case, whether `weld` behaved: it exits 0, or
//! exits with an error of one line that names the input it could not use and leaves no output
//! file behind. A panic, a signal, a hang (beyond [`CASE_TIMEOUT`]), a multi-line or anonymous
//! error, or a partial output is a [`Finding`]; findings are minimised and written to
//! `fuzz/divergences/hostile-<case>/` with the command that replays them.
//!
//! Entry points that run code (`weld run --invoke`, `weld wast`) may legitimately run long or
//! fail in the program's own way: for them only panics and signals count, and a timeout is
//! inconclusive.

pub mod campaign;
pub mod mutate;

use crate::Rng;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a case may take before it counts as a hang.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Address space a case that does not run wasm may use (KiB, `ulimit -v`).
const MEMORY_LIMIT_KIB: u64 = 4 << 20;

/// Largest seed file used (larger programs make cases slow without finding more).
const MAX_SEED_BYTES: u64 = 4 << 20;

/// What a seed file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedKind {
    /// A binary module or component (`.wat` files are encoded to this).
    Wasm,
    /// A `.wast` script.
    Wast,
    /// A graph policy (TOML).
    Policy,
    /// A plugin (a component compiled to a shared object; see [`plugin_seeds`]).
    Plugin,
}

/// One seed input.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Where it came from.
    pub path: PathBuf,
    /// Its bytes (binary for `.wat` sources).
    pub bytes: Vec<u8>,
    /// What it is.
    pub kind: SeedKind,
}

/// Every seed under `roots`, sorted by path (so case numbers mean the same inputs everywhere).
pub fn collect_seeds(roots: &[PathBuf]) -> Vec<Seed> {
    let mut files = Vec::new();
    for root in roots {
        walk(root, &mut files);
    }
    files.sort();
    files.dedup();
    files.into_iter().filter_map(|p| seed(&p)).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

fn seed(p: &Path) -> Option<Seed> {
    let ext = p.extension()?.to_str()?;
    let kind = match ext {
        "wasm" | "wat" => SeedKind::Wasm,
        "wast" => SeedKind::Wast,
        "toml" if p.to_string_lossy().contains("polic") => SeedKind::Policy,
        _ => return None,
    };
    if std::fs::metadata(p).ok()?.len() > MAX_SEED_BYTES {
        return None;
    }
    let mut bytes = std::fs::read(p).ok()?;
    if ext == "wat" {
        let text = String::from_utf8(bytes).ok()?;
        let buf = wast::parser::ParseBuffer::new(&text).ok()?;
        let mut wat: wast::Wat = wast::parser::parse(&buf).ok()?;
        bytes = wat.encode().ok()?;
    }
    Some(Seed {
        path: p.to_path_buf(),
        bytes,
        kind,
    })
}

/// Plugins to damage: the smaller component seeds compiled by `weld` to shared objects, once
/// written by weld itself and once linked by `ld` (`WELD_USE_LD=1`), so both layouts are
/// damaged. Seeds that do not compile are left out.
pub fn plugin_seeds(weld: &Path, seeds: &[Seed]) -> Vec<Seed> {
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    let components = seeds
        .iter()
        .filter(|s| s.kind == SeedKind::Wasm && is_component(&s.bytes) && s.bytes.len() < 64 << 10)
        .take(24);
    let mut out = Vec::new();
    for (i, seed) in components.enumerate() {
        let input = dir.path().join(format!("c{i}.wasm"));
        if std::fs::write(&input, &seed.bytes).is_err() {
            continue;
        }
        for (writer, ld) in [("weld", "0"), ("ld", "1")] {
            let so = dir.path().join(format!("c{i}-{writer}.so"));
            let built = Command::new(weld)
                .arg("compile")
                .arg(&input)
                .args(["--emit", "sharedlib", "-o"])
                .arg(&so)
                .env("WELD_USE_LD", ld)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if let (true, Ok(bytes)) = (built, std::fs::read(&so)) {
                out.push(Seed {
                    path: PathBuf::from(format!("{} (plugin by {writer})", seed.path.display())),
                    bytes,
                    kind: SeedKind::Plugin,
                });
            }
        }
    }
    out
}

/// An entry point of the `weld` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `weld compile --emit KIND`.
    Compile(&'static str),
    /// `weld inspect --format FORMAT`.
    Inspect(&'static str),
    /// `weld inspect -o graph.svg`.
    InspectSvg,
    /// `weld inspect --reach`.
    InspectReach,
    /// `weld check --policy`, with the policy or the component damaged.
    Check,
    /// `weld run --invoke` with damaged WAVE text.
    Invoke,
    /// `weld wast` on a damaged script.
    Wast,
    /// `weld inspect plugin.so`: a damaged plugin loaded as a host loads it.
    InspectPlugin,
}

impl Entry {
    /// Every entry point, in the order case numbers cycle through them.
    pub const ALL: [Entry; 16] = [
        Entry::Compile("obj"),
        Entry::Compile("header"),
        Entry::Compile("rust"),
        Entry::Compile("staticlib"),
        Entry::Compile("sharedlib"),
        Entry::Compile("exe"),
        Entry::Compile("component"),
        Entry::Inspect("text"),
        Entry::Inspect("json"),
        Entry::Inspect("dot"),
        Entry::InspectSvg,
        Entry::InspectReach,
        Entry::Check,
        Entry::Invoke,
        Entry::Wast,
        Entry::InspectPlugin,
    ];

    /// A short name, for tallies.
    pub fn name(self) -> String {
        match self {
            Entry::Compile(k) => format!("compile --emit {k}"),
            Entry::Inspect(f) => format!("inspect --format {f}"),
            Entry::InspectSvg => "inspect -o x.svg".into(),
            Entry::InspectReach => "inspect --reach".into(),
            Entry::Check => "check --policy".into(),
            Entry::Invoke => "run --invoke".into(),
            Entry::Wast => "wast".into(),
            Entry::InspectPlugin => "inspect plugin.so".into(),
        }
    }

    fn runs_code(self) -> bool {
        matches!(self, Entry::Invoke | Entry::Wast)
    }
}

/// One case: the files it writes, the `weld` arguments, the file whose damage it tests.
#[derive(Debug, Clone)]
pub struct Case {
    /// Which entry point.
    pub entry: Entry,
    /// Files to write in the case's directory: (name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Arguments after `weld` (file names relative to the case directory).
    pub args: Vec<String>,
    /// The output file the command may create (must not exist after an error).
    pub output: Option<String>,
    /// The file that was damaged (its name), and how.
    pub damaged: (String, String),
}

fn pick<'a>(seeds: &'a [Seed], kind: SeedKind, rng: &mut Rng) -> Option<&'a Seed> {
    pick_where(seeds, rng, |s| s.kind == kind)
}

fn pick_where<'a>(seeds: &'a [Seed], rng: &mut Rng, f: impl Fn(&Seed) -> bool) -> Option<&'a Seed> {
    let chosen: Vec<&Seed> = seeds.iter().filter(|s| f(s)).collect();
    chosen.get(rng.below(chosen.len() as u64) as usize).copied()
}

/// Whether `bytes` start like a component (its version and layer fields).
fn is_component(bytes: &[u8]) -> bool {
    bytes.get(4..8) == Some(&[0x0d, 0x00, 0x01, 0x00])
}

/// The case with number `n`: a pure function of `n` and the seeds.
pub fn case(seeds: &[Seed], n: u64) -> Option<Case> {
    let mut rng = Rng::new(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);
    let entry = Entry::ALL[(n % Entry::ALL.len() as u64) as usize];
    // `inspect` and `check` read components; the compiler reads everything.
    let wasm = match entry {
        Entry::Inspect(_) | Entry::InspectSvg | Entry::InspectReach | Entry::Check => {
            pick_where(seeds, &mut rng, |s| {
                s.kind == SeedKind::Wasm && is_component(&s.bytes)
            })?
        }
        _ => pick(seeds, SeedKind::Wasm, &mut rng)?,
    };
    let other = pick(seeds, SeedKind::Wasm, &mut rng)?;
    // One core-module case in three is changed structurally (mostly still valid).
    let structural = (!is_component(&wasm.bytes) && rng.chance(1, 3))
        .then(|| mutate::wasm_mutate(&wasm.bytes, &mut rng))
        .flatten();
    let (how, damaged) =
        structural.unwrap_or_else(|| mutate::mutate(&wasm.bytes, &other.bytes, &mut rng));
    let from = format!("{} ({how})", wasm.path.display());
    let input = |bytes: Vec<u8>| vec![("input.wasm".to_string(), bytes)];
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(match entry {
        Entry::Compile(kind) => Case {
            entry,
            files: input(damaged),
            args: owned(&["compile", "input.wasm", "--emit", kind, "-o", "out"]),
            output: Some("out".into()),
            damaged: ("input.wasm".into(), from),
        },
        Entry::Inspect(format) => Case {
            entry,
            files: input(damaged),
            args: owned(&["inspect", "input.wasm", "--format", format, "-o", "out"]),
            output: Some("out".into()),
            damaged: ("input.wasm".into(), from),
        },
        Entry::InspectSvg => Case {
            entry,
            files: input(damaged),
            args: owned(&["inspect", "input.wasm", "-o", "out.svg"]),
            output: Some("out.svg".into()),
            damaged: ("input.wasm".into(), from),
        },
        Entry::InspectReach => Case {
            entry,
            files: input(damaged),
            args: owned(&["inspect", "input.wasm", "--reach"]),
            output: None,
            damaged: ("input.wasm".into(), from),
        },
        Entry::Check => {
            let policy = pick(seeds, SeedKind::Policy, &mut rng)?;
            let damage_policy = rng.chance(1, 2);
            let (pbytes, wbytes, damaged) = if damage_policy {
                let (how, p) = mutate::mutate(&policy.bytes, &policy.bytes, &mut rng);
                let what = format!("{} ({how})", policy.path.display());
                (p, wasm.bytes.clone(), ("policy.toml".to_string(), what))
            } else {
                (
                    policy.bytes.clone(),
                    damaged,
                    ("input.wasm".to_string(), from),
                )
            };
            Case {
                entry,
                files: vec![
                    ("input.wasm".into(), wbytes),
                    ("policy.toml".into(), pbytes),
                ],
                args: owned(&["check", "--policy", "policy.toml", "input.wasm"]),
                output: None,
                damaged,
            }
        }
        Entry::Invoke => {
            let text = wave_call(&wasm.bytes, &mut rng);
            let (how, text) = mutate::mutate(text.as_bytes(), b"(", &mut rng);
            // A command-line argument cannot hold a NUL byte.
            let text = String::from_utf8_lossy(&text).replace('\0', "");
            Case {
                entry,
                files: input(wasm.bytes.clone()),
                args: vec![
                    "run".into(),
                    "--invoke".into(),
                    text.clone(),
                    "input.wasm".into(),
                ],
                output: None,
                damaged: ("--invoke".into(), format!("{text:?} ({how})")),
            }
        }
        Entry::InspectPlugin => {
            let plugin = pick(seeds, SeedKind::Plugin, &mut rng)?;
            let other = pick(seeds, SeedKind::Plugin, &mut rng)?;
            let (how, damaged) = mutate::mutate(&plugin.bytes, &other.bytes, &mut rng);
            Case {
                entry,
                files: vec![("input.so".into(), damaged)],
                args: owned(&["inspect", "input.so"]),
                output: None,
                damaged: (
                    "input.so".into(),
                    format!("{} ({how})", plugin.path.display()),
                ),
            }
        }
        Entry::Wast => {
            let script = pick(seeds, SeedKind::Wast, &mut rng)?;
            let (how, s) = mutate::mutate(&script.bytes, &script.bytes, &mut rng);
            Case {
                entry,
                files: vec![("script.wast".into(), s)],
                args: owned(&["wast", "script.wast"]),
                output: None,
                damaged: (
                    "script.wast".into(),
                    format!("{} ({how})", script.path.display()),
                ),
            }
        }
    })
}

/// A WAVE call of one of the module's exported functions (or a made-up name) with a few
/// arguments of every kind WAVE writes.
fn wave_call(bytes: &[u8], rng: &mut Rng) -> String {
    let mut names = vec!["f".to_string()];
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(wasmparser::Payload::ExportSection(r)) => {
                names.extend(r.into_iter().flatten().map(|e| e.name.to_string()));
            }
            Ok(wasmparser::Payload::ComponentExportSection(r)) => {
                names.extend(r.into_iter().flatten().map(|e| e.name.name.to_string()));
            }
            Err(_) => break,
            _ => {}
        }
    }
    const ARGS: [&str; 12] = [
        "1",
        "-7",
        "4294967296",
        "3.5",
        "nan",
        "true",
        "'c'",
        "\"text\"",
        "[1, 2, 3]",
        "{a: 1, b: \"x\"}",
        "some(ok(2))",
        "%flags",
    ];
    let name = &names[rng.below(names.len() as u64) as usize];
    let n = rng.below(4);
    let args: Vec<&str> = (0..n).map(|_| ARGS[rng.below(12) as usize]).collect();
    format!("{name}({})", args.join(", "))
}

/// How a case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `weld` succeeded (or, running code, ended in the program's own way).
    Fine,
    /// `weld` refused the input cleanly: one error line naming it, nothing left behind.
    Refused,
    /// A code-running entry point ran out of time (the program may legitimately loop).
    Inconclusive(String),
    /// Something a user must never see.
    Finding(Finding),
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// `weld` panicked (exit status 101).
    Panic(String),
    /// It died of a signal.
    Signal(String),
    /// It did not finish within [`CASE_TIMEOUT`].
    Hang,
    /// It failed with an error of several lines, or none, or not naming the damaged input.
    BadError(String),
    /// It failed and left an output file behind.
    PartialOutput(String),
}

impl Finding {
    /// The class, for "still the same finding" while minimising.
    pub fn class(&self) -> &'static str {
        match self {
            Finding::Panic(_) => "panic",
            Finding::Signal(_) => "signal",
            Finding::Hang => "hang",
            Finding::BadError(_) => "bad error",
            Finding::PartialOutput(_) => "partial output",
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Hang => write!(f, "hang (over {} s)", CASE_TIMEOUT.as_secs()),
            Finding::Panic(s)
            | Finding::Signal(s)
            | Finding::BadError(s)
            | Finding::PartialOutput(s) => {
                write!(f, "{}: {s}", self.class())
            }
        }
    }
}

/// Run `case` with the `weld` at `weld` in a fresh directory under `work`.
pub fn run(weld: &Path, work: &Path, case: &Case) -> Verdict {
    let dir = work.join("case");
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Verdict::Inconclusive(format!("cannot make {}: {e}", dir.display()));
    }
    for (name, bytes) in &case.files {
        if let Err(e) = std::fs::write(dir.join(name), bytes) {
            return Verdict::Inconclusive(format!("cannot write {name}: {e}"));
        }
    }
    // A memory limit for compile-only entry points (running wasm reserves guard regions).
    let limit = if case.entry.runs_code() {
        "ulimit -c 0".to_string()
    } else {
        format!("ulimit -c 0; ulimit -v {MEMORY_LIMIT_KIB}")
    };
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{limit}; exec \"$0\" \"$@\""))
        .arg(weld)
        .args(&case.args)
        .current_dir(&dir)
        .env("WELD_CACHE_DIR", work.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let Ok(mut child) = cmd.spawn() else {
        return Verdict::Inconclusive("cannot start weld".into());
    };
    // Read stderr while it runs: a long panic report must not fill the pipe and stall it.
    let reader = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let _ = e.read_to_string(&mut text);
            text
        })
    });
    let began = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if began.elapsed() > CASE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return match case.entry.runs_code() {
                    true => Verdict::Inconclusive("timed out running code".into()),
                    false => Verdict::Finding(Finding::Hang),
                };
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Verdict::Inconclusive(format!("wait: {e}")),
        }
    };
    let stderr = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    judge(case, status, &stderr, &dir)
}

fn judge(case: &Case, status: std::process::ExitStatus, stderr: &str, dir: &Path) -> Verdict {
    let last = |s: &str| s.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
    let Some(code) = status.code() else {
        return Verdict::Finding(Finding::Signal(format!("{status}; {}", last(stderr))));
    };
    if code == 101 || stderr.contains("panicked at") {
        // Where and what: the `panicked at` line and the message after it, not the backtrace.
        let lines: Vec<&str> = stderr.lines().collect();
        let what = match lines.iter().position(|l| l.contains("panicked at")) {
            Some(i) => lines[i..]
                .iter()
                .take(2)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            None => last(stderr),
        };
        return Verdict::Finding(Finding::Panic(what));
    }
    if case.entry.runs_code() {
        // The program's own exit status, a trap, failed assertions: all fine.
        return Verdict::Fine;
    }
    if code == 0 {
        return Verdict::Fine;
    }
    if let Some(out) = &case.output {
        if dir.join(out).exists() {
            return Verdict::Finding(Finding::PartialOutput(format!(
                "{out} left after exit {code}"
            )));
        }
    }
    let left: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !case.files.iter().any(|(f, _)| f == n))
                .collect()
        })
        .unwrap_or_default();
    if !left.is_empty() {
        return Verdict::Finding(Finding::PartialOutput(format!(
            "{left:?} left after exit {code}"
        )));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let names_input = case.files.iter().any(|(f, _)| stderr.contains(f.as_str()));
    if lines.len() != 1 || !lines[0].starts_with("error: ") || !names_input {
        return Verdict::Finding(Finding::BadError(format!("exit {code}: {}", stderr.trim())));
    }
    Verdict::Refused
}
