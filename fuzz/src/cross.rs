//! Cross-architecture differential cases: generated core modules whose x86_64 weld run agrees with
//! Wasmtime become a `.wast` script asserting exactly what x86_64 weld did, and that script runs
//! compiled for aarch64 or riscv64 under qemu-user (`weld::wast` with the cross-built runner).
//! A failing directive is a divergence between architectures (and so from Wasmtime too).
//!
//! In: the cases of a batch, their call plans and weld's x86_64 observations. Out: the script
//! text. NaN results follow the spec's nondeterminism: a quiet NaN result is asserted as
//! `nan:arithmetic` (also lane by lane in a v128), any other value bit for bit.
//!
//! Frames differ in size between architectures, so the stack is where they may rightly differ:
//! the target gets [`TARGET_STACK`], four times x86_64's budget, and a module's script ends
//! before a call that ran out of stack on x86_64 (its later state is not comparable), as it does
//! before a memory the host could not grow.

use crate::core::{Case, Observation, Outcome, Plan, RefSeen, Ty, Value};
use std::fmt::Write;
use weld_contract::trap::TrapCode;

/// Native stack the target's wasm may use: four times the default the x86_64 run had.
pub const TARGET_STACK: usize = 4 * weld_runtime::store::DEFAULT_MAX_WASM_STACK;

/// How to run a script's directives for `arch` (`aarch64`, `riscv64`) with `runner` (the
/// cross-built `weld-wast-run`) under qemu-user, with [`TARGET_STACK`].
pub fn exec(arch: &str, runner: &std::path::Path) -> weld::wast::Exec {
    weld::wast::Exec::Command(vec![
        "env".into(),
        format!("{}={TARGET_STACK}", weld_wast_runner::MAX_STACK_VAR),
        format!("qemu-{arch}"),
        "-L".into(),
        format!("/usr/{arch}-linux-gnu"),
        runner.display().to_string(),
    ])
}

/// A wast string literal holding `name`'s bytes exactly.
fn wast_string(name: &str) -> String {
    let mut s = String::from("\"");
    for b in name.bytes() {
        match b {
            b'"' | b'\\' => {
                let _ = write!(s, "\\{b:02x}");
            }
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A `(module binary ...)` with the case's bytes and one assertion per call weld made.
pub fn script(case: &Case, plan: &Plan, weld: &Observation) -> String {
    let mut s = String::from("(module binary \"");
    for b in &case.bytes {
        let _ = write!(s, "\\{b:02x}");
    }
    s.push_str("\")\n");
    if weld.instantiate != Some(Outcome::Returned(vec![])) {
        // Instantiation itself trapped: nothing to call; the module directive shows the trap.
        return String::new();
    }
    for (call, outcome) in plan.calls.iter().zip(&weld.calls) {
        let args: Vec<String> = call.args.iter().map(|a| arg(*a)).collect();
        let invoke = format!("(invoke {} {})", wast_string(&call.export), args.join(" "));
        match outcome {
            Outcome::Returned(vals) => {
                let results: Vec<String> = vals
                    .iter()
                    .zip(&call.results)
                    .map(|(v, t)| result(*v, *t))
                    .collect();
                let _ = writeln!(s, "(assert_return {invoke} {})", results.join(" "));
            }
            // Out of stack on x86_64: not comparable, nor is anything after it.
            Outcome::Trapped(TrapCode::StackOverflow) => break,
            Outcome::Trapped(TrapCode::UncaughtException) => {
                let _ = writeln!(s, "(assert_exception {invoke})");
            }
            Outcome::Trapped(code) => {
                let _ = writeln!(s, "(assert_trap {invoke} {})", wast_string(code.message()));
            }
            // A grow the host could not back, or anything else host-dependent: stop here.
            Outcome::Error(_) => break,
        }
    }
    s
}

fn arg(v: Value) -> String {
    match v {
        Value::I32(x) => format!("(i32.const {})", x as i32),
        Value::I64(x) => format!("(i64.const {})", x as i64),
        Value::F32(b) => format!("(f32.const {})", f32_exact(b)),
        Value::F64(b) => format!("(f64.const {})", f64_exact(b)),
        Value::V128(x) => format!(
            "(v128.const i64x2 {} {})",
            x as u64 as i64,
            (x >> 64) as u64 as i64
        ),
        // Plans pass null references only.
        Value::Ref(_) => "(ref.null extern)".into(),
    }
}

fn result(v: Value, t: Ty) -> String {
    match v {
        Value::F32(b) if f32_quiet_nan(b) => "(f32.const nan:arithmetic)".into(),
        Value::F64(b) if f64_quiet_nan(b) => "(f64.const nan:arithmetic)".into(),
        Value::V128(x) => v128_pattern(x),
        Value::Ref(seen) => match (t, seen) {
            (Ty::FuncRef, RefSeen::Null) => "(ref.null func)".into(),
            (Ty::FuncRef, _) => "(ref.func)".into(),
            (Ty::AnyRef, RefSeen::Null) => "(ref.null any)".into(),
            (Ty::AnyRef, RefSeen::I31(_)) => "(ref.i31)".into(),
            (Ty::AnyRef, RefSeen::Struct) => "(ref.struct)".into(),
            (Ty::AnyRef, RefSeen::Array(_)) => "(ref.array)".into(),
            (Ty::AnyRef, RefSeen::Opaque) => "(ref.any)".into(),
            (_, RefSeen::Null) => "(ref.null extern)".into(),
            (_, _) => "(ref.extern)".into(),
        },
        other => arg(other),
    }
}

fn v128_pattern(x: u128) -> String {
    let l32: Vec<u32> = (0..4).map(|i| (x >> (32 * i)) as u32).collect();
    let l64: Vec<u64> = (0..2).map(|i| (x >> (64 * i)) as u64).collect();
    if l32.iter().any(|b| f32_quiet_nan(*b)) {
        let lanes: Vec<String> = l32
            .iter()
            .map(|b| match f32_quiet_nan(*b) {
                true => "nan:arithmetic".into(),
                false => f32_exact(*b),
            })
            .collect();
        format!("(v128.const f32x4 {})", lanes.join(" "))
    } else if l64.iter().any(|b| f64_quiet_nan(*b)) {
        let lanes: Vec<String> = l64
            .iter()
            .map(|b| match f64_quiet_nan(*b) {
                true => "nan:arithmetic".into(),
                false => f64_exact(*b),
            })
            .collect();
        format!("(v128.const f64x2 {})", lanes.join(" "))
    } else {
        format!("(v128.const i64x2 {} {})", l64[0] as i64, l64[1] as i64)
    }
}

fn f32_quiet_nan(b: u32) -> bool {
    b & 0x7fc0_0000 == 0x7fc0_0000
}

fn f64_quiet_nan(b: u64) -> bool {
    b & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
}

/// A float literal with exactly these bits (hexadecimal floats and NaN payloads).
fn float_exact(neg: bool, exp: u64, frac: u64, frac_bits: u32, bias: i64) -> String {
    let sign = if neg { "-" } else { "" };
    let max_exp = (1u64 << (if frac_bits == 23 { 8 } else { 11 })) - 1;
    let digits = frac_bits.div_ceil(4) as usize;
    let frac_hex = frac << (4 * digits as u32 - frac_bits);
    match exp {
        e if e == max_exp && frac == 0 => format!("{sign}inf"),
        e if e == max_exp => format!("{sign}nan:0x{frac:x}"),
        0 => format!("{sign}0x0.{frac_hex:0digits$x}p{}", 1 - bias),
        e => format!("{sign}0x1.{frac_hex:0digits$x}p{}", e as i64 - bias),
    }
}

fn f32_exact(b: u32) -> String {
    float_exact(
        b >> 31 == 1,
        u64::from((b >> 23) & 0xff),
        u64::from(b & 0x7f_ffff),
        23,
        127,
    )
}

fn f64_exact(b: u64) -> String {
    float_exact(
        b >> 63 == 1,
        (b >> 52) & 0x7ff,
        b & 0xf_ffff_ffff_ffff,
        52,
        1023,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_f32(lit: &str) -> u32 {
        let text = format!("(module (func (result f32) (f32.const {lit})))");
        let buf = wast::parser::ParseBuffer::new(&text).unwrap();
        let mut m: wast::Wat = wast::parser::parse(&buf).unwrap();
        let bytes = m.encode().unwrap();
        // The body ends `0x43 b0 b1 b2 b3 0x0b`: the four bytes before the final `end`.
        let at = bytes.len() - 5;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn float_literals_carry_exactly_the_bits_they_came_from() {
        for b in [
            0u32,
            0x8000_0000,
            1,
            0x807f_ffff,
            0x3f80_0000,
            0x7f7f_ffff,
            0x7f80_0000,
            0xff80_0000,
            0x7fa0_0001,
            0x0040_0000,
            0x4049_0fdb,
        ] {
            assert_eq!(parse_f32(&f32_exact(b)), b, "{:#x} as {}", b, f32_exact(b));
        }
        assert_eq!(f64_exact(0x3ff8_0000_0000_0000), "0x1.8000000000000p0");
        assert_eq!(f64_exact(1), "0x0.0000000000001p-1022");
    }

    #[test]
    fn export_names_are_quoted_byte_for_byte() {
        assert_eq!(wast_string("a\0\"\\\tü"), "\"a\\00\\22\\5c\\09\\c3\\bc\"");
    }
}

/// How a cross batch went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CrossTally {
    /// Cases whose x86_64 run agreed with Wasmtime and went into the script.
    pub cases: u64,
    /// Directives that held on the target.
    pub passed: u64,
    /// Directives that did not: divergences between architectures.
    pub failed: u64,
    /// Cases left out (no case for the seed, SIMD on riscv64, disagreement or compile failure on
    /// x86_64, which the main campaign reports).
    pub left_out: u64,
}

/// Run `seeds` on x86_64 (weld and Wasmtime), then the agreeing ones compiled for `options`'
/// target through `exec`. A script with failures is kept in `out` as `cross-<first seed>.wast`.
pub fn run_batch(
    seeds: &[u64],
    engine: &wasmtime::Engine,
    options: &weld::Options,
    exec: &weld::wast::Exec,
    out: &std::path::Path,
) -> Result<CrossTally, String> {
    use crate::core::{compare, gen_case, plan, run_wasmtime, run_weld, weld_compile, Verdict};
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let simd = options.target.arch() != weld::Arch::Riscv64;
    let mut tally = CrossTally::default();
    let mut compiled = Vec::new();
    for &seed in seeds {
        let case = gen_case(seed).filter(|c| simd || !uses_simd(&c.bytes));
        let Some(case) = case else {
            tally.left_out += 1;
            continue;
        };
        let prefix = format!("c{seed}");
        match weld_compile(&case, &prefix) {
            crate::core::WeldCompile::Object(obj) => {
                let path = dir.path().join(format!("{prefix}.o"));
                std::fs::write(&path, obj).map_err(|e| e.to_string())?;
                compiled.push((case, prefix, path));
            }
            _ => tally.left_out += 1,
        }
    }
    if compiled.is_empty() {
        return Ok(tally);
    }
    let objects: Vec<_> = compiled.iter().map(|(_, _, p)| p.clone()).collect();
    let lib = crate::link_library(&objects, &dir.path().join("batch.so"))?;
    let mut text = String::new();
    for (case, prefix, _) in &compiled {
        let Ok(p) = plan(case) else {
            tally.left_out += 1;
            continue;
        };
        let weld = run_weld(&lib, prefix, &p);
        let wasmtime = run_wasmtime(engine, &case.bytes, &p);
        match compare(&p, &weld, &wasmtime) {
            Verdict::Same => {
                let part = script(case, &p, &weld);
                if part.is_empty() {
                    tally.left_out += 1;
                } else {
                    tally.cases += 1;
                    text += &format!(";; seed {}\n{part}", case.seed);
                }
            }
            _ => tally.left_out += 1,
        }
    }
    let file = dir.path().join(format!("cross-{}.wast", seeds[0]));
    std::fs::write(&file, &text).map_err(|e| e.to_string())?;
    let skips = weld::wast::skips::SkipList::default();
    let summary = weld::wast::run_files(std::slice::from_ref(&file), &skips, options, exec);
    tally.passed = summary.passed;
    tally.failed = summary.failed;
    if summary.failed > 0 {
        let _ = std::fs::create_dir_all(out);
        let _ = std::fs::copy(
            &file,
            out.join(format!("cross-{}-{}.wast", options.target, seeds[0])),
        );
    }
    Ok(tally)
}

/// Whether a module needs the SIMD proposal (riscv64 has no SIMD in weld).
fn uses_simd(bytes: &[u8]) -> bool {
    let features = weld::frontend::features()
        - wasmparser::WasmFeatures::SIMD
        - wasmparser::WasmFeatures::RELAXED_SIMD;
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .is_err()
}
