//! The WASI example programs (`examples/wasi-c`, `examples/wasi-cpp`: C and C++ built with
//! clang-19 and wasi-libc as WASI preview1 core modules, checked in) end to end: each is compiled
//! with `weld compile X.wasm -o X` and run as an executable, run with `weld run X.wasm`, and —
//! where `wasmtime` is installed — run with `wasmtime run X.wasm`; every runner's stdout, stderr
//! and exit status are checked against expectations computed here.
//!
//! Sandbox flags are the same for all three runners: `--dir HOST::GUEST`, `--env NAME[=VALUE]`
//! (the executable takes them before `--`; `weld run` and `wasmtime run` before the input).
//! Exit statuses: the program's (`proc_exit(n)` becomes `wasi:cli/exit#exit-with-code(n)`, see
//! `compiler/src/preview1/exit.rs`; `examples/wasi-component` calls it directly); a trap prints
//! `trap: <message>` and exits 134. The componentize-py
//! command of `examples/python` runs too when it has been built (`make python-example`).

#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Exit status of a trapped program (documented in `weld compile --help` and the README).
const TRAP_STATUS: i32 = 134;

/// No run of an example may take longer than this.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runner {
    /// The executable `weld compile X.wasm -o X` wrote.
    Exe,
    /// `weld run X.wasm`.
    WeldRun,
    /// `wasmtime run X.wasm`, the reference.
    Wasmtime,
}

/// What a run printed and its exit status.
#[derive(Debug)]
struct Out {
    runner: Runner,
    status: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Out {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panic with everything the run printed.
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{:?}: {what}\nstatus {}\n--- stdout\n{}\n--- stderr\n{}",
            self.runner,
            self.status,
            self.stdout(),
            self.stderr
        )
    }

    fn expect_status(&self, status: i32) -> &Self {
        if self.status != status {
            self.fail(&format!("expected exit status {status}"));
        }
        self
    }

    fn expect_stdout(&self, expected: &str) -> &Self {
        if self.stdout != expected.as_bytes() {
            self.fail(&format!("expected stdout\n{expected}"));
        }
        self
    }

    fn expect_stderr_contains(&self, needle: &str) -> &Self {
        if !self.stderr.contains(needle) {
            self.fail(&format!("expected stderr to contain {needle:?}"));
        }
        self
    }
}

/// Directories and environment variables a run may see.
#[derive(Default, Clone)]
struct Sandbox {
    /// Host directory and the name the program sees it under.
    dirs: Vec<(PathBuf, String)>,
    /// `NAME=VALUE`, or `NAME` to pass the host's value.
    env: Vec<String>,
}

impl Sandbox {
    fn flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        for (host, guest) in &self.dirs {
            f.push("--dir".to_string());
            f.push(format!("{}::{guest}", host.display()));
        }
        for e in &self.env {
            f.push("--env".to_string());
            f.push(e.clone());
        }
        f
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Scratch space of this test process: executables and the `weld run` cache (emptied once, so
/// a changed compiler never runs stale cached code).
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi_programs");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("cache")).unwrap();
        d
    })
}

fn have_cc() -> bool {
    Command::new("cc").arg("--version").output().is_ok()
}

fn have_wasmtime() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        Command::new("wasmtime")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The runners of this machine; says so when the reference is missing.
fn runners() -> Vec<Runner> {
    if have_wasmtime() {
        vec![Runner::Exe, Runner::WeldRun, Runner::Wasmtime]
    } else {
        println!("SKIPPED: wasmtime not installed (comparison against recorded expectations only)");
        vec![Runner::Exe, Runner::WeldRun]
    }
}

/// `examples/<program>.wasm`, e.g. `wasi-c/hello`, else `examples/<program>.wat`.
fn wasm(program: &str) -> PathBuf {
    let binary = examples().join(format!("{program}.wasm"));
    if binary.is_file() {
        return binary;
    }
    examples().join(format!("{program}.wat"))
}

/// Per program: its executable once compiled (a lock each, so programs compile in parallel).
type Built = Mutex<HashMap<String, Arc<Mutex<Option<PathBuf>>>>>;

/// The executable `weld compile` makes of `program`, compiled once per test process.
fn exe(program: &str) -> PathBuf {
    static BUILT: OnceLock<Built> = OnceLock::new();
    let slot = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(program.to_string())
        .or_default()
        .clone();
    let mut slot = slot.lock().unwrap();
    if let Some(p) = &*slot {
        return p.clone();
    }
    let out = scratch().join(program.replace('/', "-"));
    let o = Command::new(env!("CARGO_BIN_EXE_weld"))
        .arg("compile")
        .arg(wasm(program))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "weld compile {program}.wasm failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Executable and readable by everyone, as `cc -o` makes them.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755, "{}", out.display());
    *slot = Some(out.clone());
    out
}

/// Run `program` with `runner` in `sandbox` with arguments `args` and standard input `stdin`.
fn run(runner: Runner, program: &str, sandbox: &Sandbox, args: &[&str], stdin: &[u8]) -> Out {
    let mut cmd = match runner {
        Runner::Exe => {
            let mut c = Command::new(exe(program));
            c.args(sandbox.flags()).arg("--");
            c
        }
        Runner::WeldRun => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_weld"));
            c.arg("run")
                .args(sandbox.flags())
                .arg(wasm(program))
                .env("WELD_CACHE_DIR", scratch().join("cache"));
            c
        }
        Runner::Wasmtime => {
            let mut c = Command::new("wasmtime");
            // exit-with-code is an unstable WASI interface wasmtime provides when asked.
            c.args(["run", "-S", "cli-exit-with-code=y"])
                .args(sandbox.flags())
                .arg(wasm(program));
            c
        }
    };
    // A variable of the host that no sandbox passes on: it must not be visible inside; and one
    // that `--env WELD_TEST_PASSED` passes through.
    cmd.args(args)
        .env("WELD_TEST_CANARY", "leaked")
        .env("WELD_TEST_PASSED", "from the host");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The program may exit without reading everything.
        let _ = input.write_all(&stdin);
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("{runner:?} {program} {args:?}: no exit within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    writer.join().unwrap();
    Out {
        runner,
        status: status.code().unwrap_or(-1),
        stdout: reader.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
    }
}

/// Run with every runner (same sandbox, arguments and input).
fn run_all(program: &str, sandbox: &Sandbox, args: &[&str], stdin: &[u8]) -> Vec<Out> {
    runners()
        .into_iter()
        .map(|r| run(r, program, sandbox, args, stdin))
        .collect()
}

macro_rules! require_cc {
    () => {
        if !have_cc() {
            println!("SKIPPED: no C compiler to link executables");
            return;
        }
    };
}

#[test]
fn hello_world_prints_one_line_and_exits_zero() {
    require_cc!();
    for out in run_all("wasi-c/hello", &Sandbox::default(), &[], b"") {
        out.expect_status(0).expect_stdout("Hello, world!\n");
        if !out.stderr.is_empty() {
            out.fail("expected nothing on stderr");
        }
    }
}

#[test]
fn arguments_reach_the_program_unchanged_and_in_order() {
    require_cc!();
    let args = ["one", "two words", "", "--dir", "-x", "ünïcødé", "a=b"];
    let mut expected = format!("argc={}\n", args.len() + 1);
    for (i, a) in args.iter().enumerate() {
        expected += &format!("argv[{}]={a}\n", i + 1);
    }
    for out in run_all("wasi-c/args", &Sandbox::default(), &args, b"") {
        out.expect_status(0).expect_stdout(&expected);
    }
}

#[test]
fn an_executable_passes_arguments_after_the_first_non_option_without_double_dash() {
    require_cc!();
    let out = Command::new(exe("wasi-c/args"))
        .args(["first", "--env", "X=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "argc=4\nargv[1]=first\nargv[2]=--env\nargv[3]=X=1\n"
    );
}

#[test]
fn the_environment_holds_only_the_variables_the_runner_passes() {
    require_cc!();
    let sandbox = Sandbox {
        env: vec![
            "GREETING=hello world".into(),
            "EMPTY=".into(),
            // Passed through from the host (set on every runner's command below).
            "WELD_TEST_PASSED".into(),
        ],
        ..Sandbox::default()
    };
    let expected = "environ has 3 entries\nGREETING=hello world\nEMPTY=\n\
                    WELD_TEST_PASSED=from the host\nWELD_TEST_CANARY is unset\nPATH is unset\n";
    for r in runners() {
        let names = [
            "GREETING",
            "EMPTY",
            "WELD_TEST_PASSED",
            "WELD_TEST_CANARY",
            "PATH",
        ];
        run(r, "wasi-c/env", &sandbox, &names, b"")
            .expect_status(0)
            .expect_stdout(expected);
    }
}

#[test]
fn by_default_a_program_sees_no_environment() {
    require_cc!();
    for out in run_all("wasi-c/env", &Sandbox::default(), &["HOME", "PATH"], b"") {
        out.expect_status(0)
            .expect_stdout("environ has 0 entries\nHOME is unset\nPATH is unset\n");
    }
}

#[test]
fn exit_statuses_from_exit_and_from_main_reach_the_host() {
    require_cc!();
    // weld keeps proc_exit's status (compiler/src/preview1/exit.rs), as wasmtime does for 0..126.
    let cases = [
        ("exit", 0),
        ("exit", 1),
        ("exit", 42),
        ("exit", 125),
        ("return", 0),
        ("return", 3),
    ];
    for r in runners() {
        for (how, code) in cases {
            let code_s = code.to_string();
            run(r, "wasi-c/exit", &Sandbox::default(), &[how, &code_s], b"")
                .expect_status(code)
                .expect_stdout(&format!("exiting with {code} via {how}\n"));
        }
    }
}

#[test]
fn a_component_reports_any_exit_status_through_exit_with_code() {
    require_cc!();
    for out in run_all("wasi-component/exit_code", &Sandbox::default(), &[], b"") {
        out.expect_status(42).expect_stdout("");
    }
}

/// What `bigout N` writes.
fn bigout_pattern(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

#[test]
fn one_mebibyte_of_stdout_arrives_complete_and_in_order() {
    require_cc!();
    let expected = bigout_pattern(1 << 20);
    for out in run_all("wasi-c/bigout", &Sandbox::default(), &[], b"") {
        out.expect_status(0);
        if out.stdout.len() != expected.len() {
            out.fail(&format!(
                "expected {} bytes, got {}",
                expected.len(),
                out.stdout.len()
            ));
        }
        if let Some(i) = (0..expected.len()).find(|&i| out.stdout[i] != expected[i]) {
            out.fail(&format!("first wrong byte at offset {i}"));
        }
    }
}

#[test]
fn stdin_is_read_to_the_end() {
    require_cc!();
    // 300 KB over many lines, more than any pipe or stdio buffer holds.
    let mut input = b"first line of stdin\n".to_vec();
    for i in 0..20_000 {
        input.extend_from_slice(format!("line {i:05} of the input\n").as_bytes());
    }
    let fnv = input.iter().fold(2_166_136_261u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(16_777_619)
    });
    let lines = input.iter().filter(|&&b| b == b'\n').count();
    let expected = format!(
        "bytes={} lines={lines} fnv1a={fnv:08x}\nfirst line: FIRST LINE OF STDIN\n",
        input.len()
    );
    for out in run_all("wasi-c/stdin", &Sandbox::default(), &[], &input) {
        out.expect_status(0).expect_stdout(&expected);
    }
}

#[test]
fn an_empty_stdin_reads_as_end_of_file() {
    require_cc!();
    for out in run_all("wasi-c/stdin", &Sandbox::default(), &[], b"") {
        out.expect_status(0)
            .expect_stdout("bytes=0 lines=0 fnv1a=811c9dc5\nfirst line: \n");
    }
}

/// A fresh host tree: `data/input.txt`, `outside/secret.txt` and a symlink `data/link` to
/// `../outside`.
fn host_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("data")).unwrap();
    std::fs::create_dir(t.path().join("outside")).unwrap();
    std::fs::write(t.path().join("data/input.txt"), "from the host\n").unwrap();
    std::fs::write(t.path().join("outside/secret.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink("../outside", t.path().join("data/link")).unwrap();
    t
}

#[test]
fn files_in_a_preopened_directory_are_created_read_stated_listed_renamed_and_unlinked() {
    require_cc!();
    let expected = "input.txt: from the host\n\
                    read back: weld was here\n\
                    stat: size=14 regular=1 dir=0\n\
                    stat sub: dir=1\n\
                    unlink: gone\n\
                    rename: old gone, new present\n\
                    list /data: input.txt link sub\n\
                    list /data/sub: moved.txt\n";
    for r in runners() {
        let t = host_tree();
        let data = t.path().join("data");
        let sandbox = Sandbox {
            dirs: vec![(data.clone(), "/data".into())],
            ..Sandbox::default()
        };
        let out = run(r, "wasi-c/files", &sandbox, &["/data"], b"");
        out.expect_status(0).expect_stdout(expected);
        // What the program did is visible on the host.
        assert_eq!(
            std::fs::read_to_string(data.join("sub/moved.txt")).unwrap(),
            "weld was here\n",
            "{r:?}"
        );
        assert!(!data.join("note.txt").exists(), "{r:?}: renamed file left");
        assert!(
            !data.join("sub/tmp.txt").exists(),
            "{r:?}: unlinked file left"
        );
        assert_eq!(
            std::fs::read_to_string(data.join("input.txt")).unwrap(),
            "from the host\n"
        );
    }
}

#[test]
fn without_a_preopened_directory_no_file_is_reachable() {
    require_cc!();
    for r in runners() {
        let t = host_tree();
        let data = t.path().join("data");
        let out = run(
            r,
            "wasi-c/files",
            &Sandbox::default(),
            &[data.to_str().unwrap()],
            b"",
        );
        out.expect_status(1);
        if !out.stdout().starts_with("FAILED: open ") {
            out.fail("expected the first file operation to fail");
        }
        assert!(!data.join("note.txt").exists(), "{r:?}");
        assert!(!data.join("sub").exists(), "{r:?}");
    }
}

#[test]
fn paths_leading_out_of_the_preopened_directory_are_denied_and_leave_the_outside_untouched() {
    require_cc!();
    for r in runners() {
        let t = host_tree();
        let outside = t.path().join("outside");
        let sandbox = Sandbox {
            dirs: vec![(t.path().join("data"), "/data".into())],
            ..Sandbox::default()
        };
        let absolute = outside.join("secret.txt").display().to_string();
        let absolute_new = outside.join("new-absolute.txt").display().to_string();
        let attempts = [
            "/data/../outside/secret.txt",
            "/data/../outside/new-dotdot.txt",
            "/data/sub/../../outside/secret.txt",
            "/data/link/secret.txt",
            "/data/link/new-symlink.txt",
            "/data/link",
            "../outside/secret.txt",
            "/outside/secret.txt",
            &absolute,
            &absolute_new,
            "/etc/passwd",
        ];
        // A file inside the preopen, first: the program can open what it may.
        let mut args = vec!["escape", "/data/input.txt"];
        args.extend(attempts);
        let out = run(r, "wasi-c/files", &sandbox, &args, b"");
        let expected: String =
            std::iter::once("/data/input.txt: read OPENED, write OPENED\n".into())
                .chain(
                    attempts
                        .iter()
                        .map(|a| format!("{a}: read denied, write denied\n")),
                )
                .collect();
        out.expect_status(0).expect_stdout(&expected);
        // Nothing outside changed or appeared.
        assert_eq!(
            std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
            "secret\n",
            "{r:?}"
        );
        let mut names: Vec<String> = std::fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["secret.txt"], "{r:?}");
    }
}

#[test]
fn the_monotonic_clock_advances_across_a_sleep_and_the_wall_clock_is_now() {
    require_cc!();
    for out in run_all("wasi-c/clocks", &Sandbox::default(), &[], b"") {
        out.expect_status(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let text = out.stdout();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() != 3
            || lines[0] != "monotonic: advanced by >= 20 ms: yes"
            || lines[1] != "resolution ok: yes"
        {
            out.fail("unexpected clock report");
        }
        let wall: i64 = lines[2]
            .strip_prefix("realtime: ")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| out.fail("no realtime line"));
        if (wall - now).abs() > 120 {
            out.fail(&format!("wall clock {wall} is not near now ({now})"));
        }
    }
}

#[test]
fn random_bytes_differ_between_draws_and_between_runs() {
    require_cc!();
    for r in runners() {
        let draws: Vec<String> = (0..2)
            .map(|_| {
                let out = run(r, "wasi-c/random", &Sandbox::default(), &[], b"");
                out.expect_status(0);
                let text = out.stdout();
                let lines: Vec<&str> = text.lines().collect();
                let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
                if lines.len() != 4
                    || !hex(lines[0])
                    || !hex(lines[1])
                    || lines[2..] != ["draws differ: yes", "nonzero: yes"]
                {
                    out.fail("unexpected random report");
                }
                lines[0].to_string()
            })
            .collect();
        assert_ne!(draws[0], draws[1], "{r:?}: two runs drew the same bytes");
    }
}

#[test]
fn a_trap_prints_its_message_and_exits_with_the_trap_status() {
    require_cc!();
    for r in runners() {
        for (mode, message) in [
            ("oob", "out of bounds memory access"),
            ("abort", "unreachable"),
        ] {
            let out = run(r, "wasi-c/trap", &Sandbox::default(), &[mode], b"");
            out.expect_status(TRAP_STATUS)
                .expect_stdout("")
                .expect_stderr_contains(&format!("about to trap ({mode})"))
                .expect_stderr_contains(message);
            if r != Runner::Wasmtime {
                out.expect_stderr_contains(&format!("trap: {message}"));
                // The backtrace names the functions from the name section, innermost first.
                let stderr = &out.stderr;
                let trace = stderr
                    .split_once("wasm backtrace:")
                    .map(|(_, t)| t)
                    .unwrap_or_else(|| panic!("{r:?} {mode}: no backtrace in {stderr:?}"));
                let innermost = if mode == "oob" {
                    "!store_far"
                } else {
                    "!abort"
                };
                let first = trace.find(innermost);
                let main = trace.find("!main");
                assert!(
                    first.is_some() && main.is_some() && first < main,
                    "{r:?} {mode}: expected {innermost} above !main in {trace:?}"
                );
            }
        }
    }
}

#[test]
fn a_cpp_program_counts_words_with_map_vector_and_iostream() {
    require_cc!();
    let words = [
        "the", "cat", "and", "the", "dog", "and", "the", "bird", "ünï", "zebra",
    ];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for w in words {
        *counts.entry(w).or_default() += 1;
    }
    let mut sorted: Vec<(&str, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut expected = format!("distinct words: {}\n", sorted.len());
    for (w, n) in sorted {
        expected += &format!("{n} {w}\n");
    }
    for out in run_all("wasi-cpp/wordfreq", &Sandbox::default(), &words, b"") {
        out.expect_status(0).expect_stdout(&expected);
    }
}

#[test]
fn a_componentize_py_command_runs_when_it_has_been_built() {
    require_cc!();
    // ~18 MB, not checked in: `make python-example` builds it.
    if !wasm("python/app").is_file() {
        println!("SKIPPED: examples/python/app.wasm not built (make python-example)");
        return;
    }
    let expected = |args: &[&str]| {
        let json: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
        let mut words: Vec<&str> = args.to_vec();
        words.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        words.dedup();
        let listed: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let squares: u32 = (1..8).map(|n| n * n).sum();
        format!(
            "Hello from Python in weld!\nargs: [{}]\nlongest first: [{}]\n\
             sum of squares: {squares}\n\
             sha256(weld): c9abd566c4b489808065a241c747ffab186254d1d9b85c9de91e4cf34547f8e5\n",
            json.join(", "),
            listed.join(", ")
        )
    };
    for r in runners() {
        let args = ["hello", "python", "world"];
        run(r, "python/app", &Sandbox::default(), &args, b"")
            .expect_status(0)
            .expect_stdout(&expected(&args));
        // `run` returning err is exit status 1.
        let args = ["fail"];
        run(r, "python/app", &Sandbox::default(), &args, b"")
            .expect_status(1)
            .expect_stdout(&expected(&args));
    }
}

/// Whether `exe` links glibc: its static executables carry the `.note.ABI-tag` note, musl's
/// do not.
fn links_glibc(exe: &Path) -> bool {
    use object::{Object, ObjectSection};
    let data = std::fs::read(exe).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.sections().any(|s| s.name() == Ok(".note.ABI-tag"))
}

#[test]
fn executables_link_musl_when_it_is_there_and_glibc_on_request() {
    if !have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let musl = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/x86_64-unknown-linux-musl/release/libweld_runtime.a")
        .is_file()
        && Command::new("musl-gcc").arg("--version").output().is_ok();
    let compile = |libc: Option<&str>, out: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weld"));
        cmd.arg("compile")
            .arg(wasm("wasi-c/hello"))
            .arg("-o")
            .arg(out);
        cmd.env_remove("WELD_LIBC");
        if let Some(l) = libc {
            cmd.env("WELD_LIBC", l);
        }
        cmd.output().unwrap()
    };
    let hello = |exe: &Path| {
        let o = Command::new(exe).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", exe.display());
        assert_eq!(String::from_utf8_lossy(&o.stdout), "Hello, world!\n");
    };
    let glibc = scratch().join("hello-glibc");
    assert!(compile(Some("glibc"), &glibc).status.success());
    assert!(links_glibc(&glibc));
    hello(&glibc);

    let default = scratch().join("hello-default");
    assert!(compile(None, &default).status.success());
    hello(&default);
    if !musl {
        println!("SKIPPED: musl-gcc or its runtime missing (make runtime-musl): glibc only");
        assert!(links_glibc(&default));
        let o = compile(Some("musl"), &scratch().join("hello-musl"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("make runtime-musl"),
            "{err}"
        );
        return;
    }
    assert!(
        !links_glibc(&default),
        "the default is musl when it is there"
    );
    let forced = scratch().join("hello-musl");
    assert!(compile(Some("musl"), &forced).status.success());
    assert!(!links_glibc(&forced));
    hello(&forced);
    // Smaller too: no glibc (measured: 1.2 MB against 2.0 for hello-world).
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&default) < size(&glibc));

    let o = compile(Some("uclibc"), &scratch().join("hello-bad"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("WELD_LIBC=uclibc"));
    assert!(!scratch().join("hello-bad").exists());
}
