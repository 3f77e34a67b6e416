//! Statistics and the parsing of what measured programs print: medians with min–max, geometric
//! means, the launcher's `RUSAGE` report, `BENCH_NS` lines, expected-output comparison and the
//! Sightglass README's "not runnable" rows. Pure functions, unit-tested below.

use serde_json::{json, Value};

/// Median with min–max of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// `None` for no samples; non-finite samples are ignored.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut xs: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(f64::total_cmp);
        let n = xs.len();
        let median = if n % 2 == 1 {
            xs[n / 2]
        } else {
            (xs[n / 2 - 1] + xs[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: xs[0],
            max: xs[n - 1],
            n,
        })
    }

    pub fn json(&self) -> Value {
        json!({ "median": self.median, "min": self.min, "max": self.max, "n": self.n })
    }
}

/// JSON of an optional summary (`null` when missing).
pub fn summary_json(s: Option<Summary>) -> Value {
    s.map_or(Value::Null, |s| s.json())
}

/// Geometric mean of the positive finite values; `None` if there are none.
pub fn geomean(xs: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = xs
        .iter()
        .filter(|x| x.is_finite() && **x > 0.0)
        .map(|x| x.ln())
        .collect();
    if logs.is_empty() {
        return None;
    }
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// `a / b` when both are positive and finite.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (a.is_finite() && b.is_finite() && a >= 0.0 && b > 0.0).then(|| a / b)
}

/// What the launcher (`launch.c`) reports about one child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rusage {
    pub wall_ns: u64,
    pub maxrss_kib: u64,
    pub user_us: u64,
    pub sys_us: u64,
    /// The exit status, or 128 + the signal number.
    pub status: i32,
}

impl Rusage {
    pub fn cpu_ns(&self) -> u64 {
        (self.user_us + self.sys_us) * 1000
    }
}

/// Parse `RUSAGE <wall_ns> <maxrss_kib> <user_us> <sys_us> <status>`.
pub fn parse_rusage(text: &str) -> Result<Rusage, String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("RUSAGE "))
        .ok_or_else(|| format!("no RUSAGE line in {:?}", truncate(text, 80)))?;
    let fields: Vec<&str> = line.split_whitespace().skip(1).collect();
    if fields.len() != 5 {
        return Err(format!("RUSAGE needs 5 fields: {line:?}"));
    }
    let num = |i: usize| -> Result<u64, String> {
        fields[i]
            .parse::<u64>()
            .map_err(|_| format!("RUSAGE field {} is not a number: {line:?}", i + 1))
    };
    Ok(Rusage {
        wall_ns: num(0)?,
        maxrss_kib: num(1)?,
        user_us: num(2)?,
        sys_us: num(3)?,
        status: fields[4]
            .parse::<i32>()
            .map_err(|_| format!("RUSAGE status is not a number: {line:?}"))?,
    })
}

/// Take `BENCH_NS <n>` out of a program's stderr (wherever it is: Wasmtime's timer module
/// writes it in the middle of the program's own output): the last value, and the rest.
pub fn take_bench_ns(stderr: &str) -> (Option<u64>, String) {
    const TAG: &str = "BENCH_NS ";
    let mut rest = String::with_capacity(stderr.len());
    let mut value = None;
    let mut s = stderr;
    while let Some(at) = s.find(TAG) {
        rest.push_str(&s[..at]);
        let after = &s[at + TAG.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            rest.push_str(TAG);
            s = after;
            continue;
        }
        value = after[..digits].parse::<u64>().ok().or(value);
        s = &after[digits..];
        s = s.strip_prefix('\n').unwrap_or(s);
    }
    rest.push_str(s);
    (value, rest)
}

/// Whether `got` equals `expected` with trailing newlines ignored (the Sightglass rule).
pub fn output_matches(got: &[u8], expected: &[u8]) -> bool {
    fn trim(b: &[u8]) -> &[u8] {
        let mut end = b.len();
        while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
            end -= 1;
        }
        &b[..end]
    }
    trim(got) == trim(expected)
}

/// The files the Sightglass README's table marks "not runnable", with the reason given there:
/// rows `| `dir/file.wasm` | ... | **not runnable ...**: reason |`.
pub fn readme_not_runnable(readme: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in readme.lines() {
        let line = line.trim();
        if !line.starts_with("| `") || !line.contains("not runnable") {
            continue;
        }
        let Some(file) = line[3..].split('`').next() else {
            continue;
        };
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        let Some(status) = cells.iter().rev().find(|c| c.contains("not runnable")) else {
            continue;
        };
        let reason = status.replace("**", "").replace('`', "");
        out.push((file.to_string(), reason.trim().to_string()));
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A duration in ns, human-readable.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        "-".into()
    } else if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).expect("samples");
        assert_eq!((s.median, s.min, s.max, s.n), (3.0, 1.0, 5.0, 3));
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0]).expect("samples");
        assert_eq!(s.median, 2.5);
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        assert_eq!(Summary::of(&[f64::NAN, 7.0]).map(|s| s.n), Some(1));
    }

    #[test]
    fn geometric_mean_skips_what_is_not_positive() {
        let g = geomean(&[1.0, 4.0]).expect("values");
        assert!((g - 2.0).abs() < 1e-12);
        let g = geomean(&[2.0, 0.0, f64::INFINITY, -1.0, 8.0]).expect("values");
        assert!((g - 4.0).abs() < 1e-12);
        assert_eq!(geomean(&[]), None);
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
    }

    #[test]
    fn rusage_lines() {
        let r = parse_rusage("RUSAGE 1200 548 10 20 0\n").expect("parses");
        assert_eq!(
            r,
            Rusage {
                wall_ns: 1200,
                maxrss_kib: 548,
                user_us: 10,
                sys_us: 20,
                status: 0
            }
        );
        assert_eq!(r.cpu_ns(), 30_000);
        assert!(parse_rusage("").is_err());
        assert!(parse_rusage("RUSAGE 1 2 3").is_err());
        assert!(parse_rusage("RUSAGE 1 2 x 4 0").is_err());
        assert_eq!(
            parse_rusage("RUSAGE 1 2 3 4 139").map(|r| r.status),
            Ok(139)
        );
    }

    #[test]
    fn bench_ns_is_taken_out_of_stderr() {
        assert_eq!(
            take_bench_ns("BENCH_NS 12345\n"),
            (Some(12345), String::new())
        );
        assert_eq!(
            take_bench_ns("a\nBENCH_NS 7\nb\n"),
            (Some(7), "a\nb\n".to_string())
        );
        // In the middle of a line the program had not finished.
        assert_eq!(
            take_bench_ns("partBENCH_NS 9\nrest"),
            (Some(9), "partrest".to_string())
        );
        assert_eq!(take_bench_ns("no timer"), (None, "no timer".to_string()));
        assert_eq!(
            take_bench_ns("BENCH_NS x"),
            (None, "BENCH_NS x".to_string())
        );
    }

    #[test]
    fn outputs_compare_without_trailing_newlines() {
        assert!(output_matches(b"0\n", b"0"));
        assert!(output_matches(b"a\nb", b"a\nb\n\n"));
        assert!(!output_matches(b"a\n\nb", b"a\nb"));
        assert!(output_matches(b"", b"\n"));
    }

    #[test]
    fn readme_rows_marked_not_runnable() {
        let readme = "\
| file | size | status |
|---|---|---|
| `hex-simd/benchmark.wasm` | 92 KiB | **not runnable as copied**: `default.input` absent |
| `noop/benchmark.wasm` | 51 KiB | ok |
| `image-classification/x.wasm` | 1 | **not runnable here**: needs `wasi_ephemeral_nn` |
";
        let rows = readme_not_runnable(readme);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, "hex-simd/benchmark.wasm");
        assert_eq!(rows[0].1, "not runnable as copied: default.input absent");
        assert_eq!(rows[1].0, "image-classification/x.wasm");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_ns(12.34), "12.3 ns");
        assert_eq!(fmt_ns(2_500_000.0), "2.50 ms");
        assert_eq!(fmt_ns(f64::NAN), "-");
    }
}
