//! Cross targets end to end: programs compiled with `weld compile --target <triple>` into static
//! executables for aarch64 and riscv64 Linux, run under qemu-user, their output and exit status
//! checked. The programs: the WASI C examples (`examples/wasi-c`: hello, args, exit, trap, files)
//! and small core modules that trap in every way compiled code can (division by zero,
//! out-of-bounds access, `unreachable`, stack overflow, a null table entry), call through a table,
//! call C library functions for float rounding, and use SIMD (aarch64; riscv64 refuses SIMD with
//! a clear error, as weld does not target its V extension).
//!
//! Needs the cross C compilers, qemu-user and the runtime archive per target
//! (`target/<triple>/release/libweld_runtime.a`); `make cross-test` installs and builds them.
//! Without them each test prints `SKIPPED: <what is missing> (run make cross-toolchain)`.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::cross::{Target, AARCH64, RISCV64};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use weld_contract::trap::TrapCode;

/// Exit status of a trapped program.
const TRAP_STATUS: i32 = 134;

fn missing(t: Target) -> Option<String> {
    common::cross::missing(t, &["libweld_runtime.a"])
}

macro_rules! require {
    ($t:expr) => {
        if let Some(m) = missing($t) {
            println!("SKIPPED: {m} (run make cross-toolchain)");
            return;
        }
    };
}

fn scratch(t: Target) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let root = DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cross");
        let _ = std::fs::remove_dir_all(&d);
        d
    });
    let d = root.join(t.triple);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// `weld compile --target` of `input` into the executable `name`.
fn compile(t: Target, input: &Path, name: &str) -> Result<PathBuf, String> {
    let out = scratch(t).join(name);
    let o = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(["compile", "--emit", "exe", "--target", t.triple])
        .arg(input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    if o.status.success() {
        Ok(out)
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

fn compile_ok(t: Target, input: &Path, name: &str) -> PathBuf {
    compile(t, input, name).unwrap_or_else(|e| panic!("{}: weld compile {name}: {e}", t.triple))
}

/// Write a `.wat` into the scratch directory.
fn wat(t: Target, name: &str, text: &str) -> PathBuf {
    let p = scratch(t).join(format!("{name}.wat"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `exe` under qemu-user with `args`.
fn run(t: Target, exe: &Path, args: &[&str]) -> Output {
    Command::new(t.qemu)
        .arg(exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[track_caller]
fn expect(t: Target, what: &str, o: &Output, status: i32, stdout: &str, stderr_has: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.code() == Some(status) && out == stdout && err.contains(stderr_has),
        "{} {what}: expected status {status}, stdout {stdout:?}, stderr containing \
         {stderr_has:?}; got {:?}\n--- stdout\n{out}\n--- stderr\n{err}",
        t.triple,
        o.status
    );
}

fn wasi_examples(t: Target) {
    require!(t);
    let c = |name: &str| compile_ok(t, &examples().join(format!("wasi-c/{name}.wasm")), name);

    let hello = c("hello");
    expect(t, "hello", &run(t, &hello, &[]), 0, "Hello, world!\n", "");

    let args = c("args");
    let o = run(t, &args, &["--", "one", "two words", "ünï"]);
    expect(
        t,
        "args",
        &o,
        0,
        "argc=4\nargv[1]=one\nargv[2]=two words\nargv[3]=ünï\n",
        "argv[0]=",
    );

    // proc_exit's status reaches the host (compiler/src/preview1/exit.rs), as on x86_64.
    let exit = c("exit");
    for (how, code) in [("exit", 0), ("exit", 42), ("return", 7)] {
        let o = run(t, &exit, &["--", how, &code.to_string()]);
        expect(
            t,
            &format!("{how} {code}"),
            &o,
            code,
            &format!("exiting with {code} via {how}\n"),
            "",
        );
    }

    let trap = c("trap");
    for (mode, message) in [
        ("oob", "out of bounds memory access"),
        ("abort", "unreachable"),
    ] {
        let o = run(t, &trap, &["--", mode]);
        expect(
            t,
            &format!("trap {mode}"),
            &o,
            TRAP_STATUS,
            "",
            &format!("trap: {message}"),
        );
        // The frame-pointer walk works on this architecture too: innermost function first.
        let stderr = String::from_utf8_lossy(&o.stderr);
        let inner = if mode == "oob" { "store_far" } else { "abort" };
        let expected =
            format!("wasm backtrace:\n     0: trap.wasm!{inner}\n     1: trap.wasm!main\n");
        assert!(stderr.contains(&expected), "{}: {stderr}", t.triple);
    }

    let files = c("files");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("input.txt"), "from the host\n").unwrap();
    let map = format!("{}::/data", data.display());
    let o = run(t, &files, &["--dir", &map, "--", "/data"]);
    expect(
        t,
        "files",
        &o,
        0,
        "input.txt: from the host\n\
         read back: weld was here\n\
         stat: size=14 regular=1 dir=0\n\
         stat sub: dir=1\n\
         unlink: gone\n\
         rename: old gone, new present\n\
         list /data: input.txt sub\n\
         list /data/sub: moved.txt\n",
        "",
    );
    assert_eq!(
        std::fs::read_to_string(data.join("sub/moved.txt")).unwrap(),
        "weld was here\n"
    );
}

/// Core modules run as executables: `main` returns the exit status or traps.
const CORE: &[(&str, &str, i32, &str)] = &[
    (
        "answer",
        r#"(module
  (func $sum (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (local.get $n) (call $sum (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "main") (result i32) (i32.add (call $sum (i32.const 8)) (i32.const 6))))"#,
        42,
        "",
    ),
    (
        "indirect",
        r#"(module
  (type $t (func (param i32) (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $double $inc)
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "main") (result i32)
    (call_indirect (type $t) (call_indirect (type $t) (i32.const 20) (i32.const 0)) (i32.const 1))))"#,
        41,
        "",
    ),
    (
        "float",
        r#"(module
  (func (export "main") (result i32)
    (local $x f64) (local $y f32)
    (local.set $x (f64.const 2.5))
    (local.set $y (f32.const -3.5))
    ;; nearest(2.5) = 2, ceil(2.5) = 3, floor(-3.5) = -4, trunc(-3.5) = -3, sqrt(16) = 4
    (i32.add
      (i32.add
        (i32.trunc_f64_s (f64.nearest (local.get $x)))
        (i32.mul (i32.const 10) (i32.trunc_f64_s (f64.ceil (local.get $x)))))
      (i32.add
        (i32.mul (i32.const 100) (i32.trunc_f32_s (f32.neg (f32.floor (local.get $y)))))
        (i32.add
          (i32.mul (i32.const 1000) (i32.trunc_f32_s (f32.neg (f32.trunc (local.get $y)))))
          (i32.mul (i32.const 10000) (i32.trunc_f64_s (f64.sqrt (f64.const 16)))))))))"#,
        // 2 + 30 + 400 + 3000 + 40000 = 43432, of which the exit status keeps the low byte.
        43432 & 0xff,
        "",
    ),
    (
        "memory",
        r#"(module
  (memory 1 4)
  (data (i32.const 16) "\2a\00\00\00")
  (func (export "main") (result i32)
    (if (i32.ne (memory.grow (i32.const 2)) (i32.const 1)) (then unreachable))
    (i64.store (i32.const 196600) (i64.const 0x0102030405060708))
    (i32.add (i32.load (i32.const 16))
             (i32.sub (i32.load8_u (i32.const 196607)) (i32.const 1)))))"#,
        42,
        "",
    ),
    (
        "div_by_zero",
        r#"(module
  (func (export "main") (result i32) (local $z i32)
    (i32.div_s (i32.const 1) (local.get $z))))"#,
        TRAP_STATUS,
        "trap: integer divide by zero",
    ),
    (
        "overflow",
        r#"(module
  (func (export "main") (result i32) (local $m i32)
    (local.set $m (i32.const -1))
    (i32.div_s (i32.const 0x80000000) (local.get $m))))"#,
        TRAP_STATUS,
        "trap: integer overflow",
    ),
    (
        "oob",
        r#"(module
  (memory 1)
  (func (export "main") (result i32) (i32.load (i32.const 65534))))"#,
        TRAP_STATUS,
        "trap: out of bounds memory access",
    ),
    (
        "unreachable",
        r#"(module (func (export "main") (result i32) unreachable))"#,
        TRAP_STATUS,
        "trap: unreachable",
    ),
    (
        "stack_overflow",
        r#"(module
  (func $f (param i64) (result i64) (i64.add (call $f (local.get 0)) (i64.const 1)))
  (func (export "main") (result i32) (i32.wrap_i64 (call $f (i64.const 0)))))"#,
        TRAP_STATUS,
        "trap: call stack exhausted",
    ),
    (
        "null_entry",
        r#"(module
  (type $t (func (result i32)))
  (table 2 funcref)
  (func (export "main") (result i32) (call_indirect (type $t) (i32.const 1))))"#,
        TRAP_STATUS,
        "trap: uninitialized element",
    ),
    (
        "conversion",
        r#"(module
  (func (export "main") (result i32) (i32.trunc_f64_s (f64.const nan))))"#,
        TRAP_STATUS,
        "trap: invalid conversion to integer",
    ),
];

/// A SIMD module: lane-wise arithmetic, a shuffle and a reduction.
const SIMD: &str = r#"(module
  (memory 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "main") (result i32)
    (local $v v128)
    ;; [1 2 3 4] * [2 2 2 2] + [10 20 30 40] = [12 24 36 48]; reversed: [48 36 24 12]
    (local.set $v
      (i32x4.add
        (i32x4.mul (v128.load (i32.const 0)) (i32x4.splat (i32.const 2)))
        (v128.const i32x4 10 20 30 40)))
    (local.set $v (i8x16.shuffle 12 13 14 15 8 9 10 11 4 5 6 7 0 1 2 3
                                 (local.get $v) (local.get $v)))
    (v128.store (i32.const 32) (local.get $v))
    ;; 48 - 12 + (all lanes > 10) + f32x4 sqrt lane = 36 + 1 + 3 = 40, plus 2
    (i32.add
      (i32.add
        (i32.sub (i32x4.extract_lane 0 (local.get $v)) (i32.load (i32.const 44)))
        (i32x4.all_true (i32x4.gt_s (local.get $v) (i32x4.splat (i32.const 10)))))
      (i32.add
        (i32.trunc_f32_s (f32x4.extract_lane 2 (f32x4.sqrt (f32x4.splat (f32.const 9)))))
        (i32.const 2)))))"#;

fn core_modules(t: Target) {
    require!(t);
    for (name, text, status, stderr) in CORE {
        let exe = compile_ok(t, &wat(t, name, text), name);
        let o = run(t, &exe, &[]);
        expect(t, name, &o, *status, "", stderr);
    }
}

fn simd(t: Target) {
    require!(t);
    let input = wat(t, "simd", SIMD);
    if t.simd {
        let exe = compile_ok(t, &input, "simd");
        expect(t, "simd", &run(t, &exe, &[]), 42, "", "");
    } else {
        let e = compile(t, &input, "simd").expect_err("SIMD compiled for a target without it");
        assert!(
            e.contains("SIMD (v128) on riscv64gc-unknown-linux-gnu")
                && e.contains("V extension")
                && !e.contains("invalid"),
            "{}: unclear refusal of SIMD: {e}",
            t.triple
        );
    }
}

#[test]
fn aarch64_wasi_examples_run_under_qemu() {
    wasi_examples(AARCH64);
}

#[test]
fn aarch64_core_modules_return_and_trap_under_qemu() {
    core_modules(AARCH64);
}

#[test]
fn aarch64_simd_runs_under_qemu() {
    simd(AARCH64);
}

#[test]
fn riscv64_wasi_examples_run_under_qemu() {
    wasi_examples(RISCV64);
}

#[test]
fn riscv64_core_modules_return_and_trap_under_qemu() {
    core_modules(RISCV64);
}

#[test]
fn riscv64_refuses_simd_clearly() {
    simd(RISCV64);
}

/// `tests/run/fibers.wat`: two stackful tasks that yield at every step of a recursion run
/// interleaved, each on a fiber (the stack switch of this architecture), and exit 0.
fn fibers(t: Target) {
    require!(t);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/run/fibers.wat");
    let exe = compile_ok(t, &src, "fibers");
    expect(t, "fibers", &run(t, &exe, &[]), 0, "", "");
}

#[test]
fn aarch64_stackful_tasks_switch_fibers_under_qemu() {
    fibers(AARCH64);
}

#[test]
fn riscv64_stackful_tasks_switch_fibers_under_qemu() {
    fibers(RISCV64);
}

/// A plugin built for another machine is refused from its ELF header, before it is loaded.
fn foreign_plugin(t: Target) {
    require!(t);
    let wat = wat(
        t,
        "plugin",
        r#"(component
             (core module $m (func (export "f") (result i32) (i32.const 1)))
             (core instance $i (instantiate $m))
             (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
    );
    let out = scratch(t).join("plugin.so");
    let o = Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(["compile", "--emit", "sharedlib", "--target", t.triple])
        .arg(&wat)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let machine = t.triple.split('-').next().unwrap().trim_end_matches("gc");
    assert_eq!(
        weld_runtime::plugin::precheck(&bytes),
        Err(weld_runtime::plugin::PluginError::WrongTarget {
            expected: "x86_64".into(),
            found: machine.into(),
        })
    );
}

#[test]
fn aarch64_plugins_are_refused_on_this_host_before_loading() {
    foreign_plugin(AARCH64);
}

#[test]
fn riscv64_plugins_are_refused_on_this_host_before_loading() {
    foreign_plugin(RISCV64);
}

/// `examples/bare-metal`: the no-std runtime, a component and a C `_start` with raw system calls
/// make a static image with no relocations and no writable code; under qemu-user it computes,
/// traps, and reports the trap as a value.
fn bare_metal(t: Target, arch: &str, none_triple: &str) {
    require!(t);
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(none_triple)
        .join("release/libweld_runtime.a");
    if !runtime.is_file() {
        println!("SKIPPED: {} (make runtime-cross)", runtime.display());
        return;
    }
    let build = scratch(t).join("bare-metal");
    let out = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(examples().join("bare-metal"))
        .arg("run")
        .arg(format!("ARCH={arch}"))
        .arg(format!("WELD={}", env!("CARGO_BIN_EXE_weld")))
        .arg(format!("BUILD={}", build.display()))
        .arg(format!("RUNTIME={}", runtime.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{arch}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fib = |n: u64| {
        (0..n)
            .fold((0u64, 1u64), |(a, b), _| (b, a.wrapping_add(b)))
            .0
    };
    let checksum: u32 = (0..1000u32).map(|i| (i * 7) & 0xff).sum();
    // Records {id: i, name: 1 + i % 4 bytes}: ids plus name lengths.
    let records: u32 = (0..100u32).map(|i| i + 1 + i % 4).sum();
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.contains("weld compile"))
        .collect();
    assert_eq!(
        lines[..6],
        [
            format!("fib(90) = {}", fib(90)),
            format!("checksum(1000) = {checksum}"),
            format!("records(100) = {records}"),
            format!("div(84, 2) = {}", 84 / 2),
            format!(
                "div(1, 0): trap: {}",
                TrapCode::IntegerDivisionByZero.message()
            ),
            format!(
                "fib(10) after the trap: trap: {}",
                TrapCode::CannotEnterComponent.message()
            ),
        ],
        "{arch}: {stdout}"
    );
    // Code for flash: no run-time relocations, no segment both writable and executable.
    let image = std::fs::read(build.join(arch).join("image")).unwrap();
    use object::read::elf::ProgramHeader;
    use object::{Object, ObjectSection};
    let file = object::File::parse(&*image).unwrap();
    assert!(
        file.dynamic_relocations()
            .is_none_or(|mut r| r.next().is_none())
            && file
                .sections()
                .all(|s| !s.name().unwrap_or("").starts_with(".rel")),
        "{arch}: the image has run-time relocations"
    );
    // Every crossing compiled: the runtime's generic Canonical ABI path is not linked.
    use object::ObjectSymbol;
    let generic: Vec<String> = file
        .symbols()
        .filter_map(|s| s.name().ok().map(String::from))
        .filter(|n| {
            ["lift_values", "lower_values", "call_lifted"]
                .iter()
                .any(|g| n.contains(g))
        })
        .collect();
    assert!(
        generic.is_empty(),
        "{arch}: generic path linked: {generic:?}"
    );
    let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(&*image).unwrap();
    for ph in elf.elf_program_headers() {
        let flags = ph.p_flags(elf.endian());
        assert!(
            flags & object::elf::PF_W == 0 || flags & object::elf::PF_X == 0,
            "{arch}: a writable and executable segment"
        );
    }
}

#[test]
fn aarch64_bare_metal_image_runs_under_qemu() {
    bare_metal(AARCH64, "aarch64", "aarch64-unknown-none");
}

#[test]
fn riscv64_bare_metal_image_runs_under_qemu() {
    bare_metal(RISCV64, "riscv64", "riscv64gc-unknown-none-elf");
}
