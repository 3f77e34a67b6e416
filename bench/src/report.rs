//! The results: `latest.json` (the `ratios` object plus every raw figure), `latest.md` (tables)
//! and `latest.svg` (the ratios against their targets, drawn with plotters' SVG backend).

use crate::calls::Case;
use crate::sightglass::{CompileSide, Result1, Suite};
use crate::startup::Startup;
use crate::stats::{fmt_ns, geomean, ratio, summary_json, Summary};
use serde_json::{json, Map, Value};

/// The `ratios` keys, in order, with their targets (issue 5) and what they mean.
pub const RATIOS: &[(&str, f64, &str)] = &[
    (
        "runtime_geomean",
        1.0,
        "run time, weld/Wasmtime, geometric mean over Sightglass",
    ),
    (
        "runtime_worst",
        1.15,
        "run time, weld/Wasmtime, worst Sightglass program",
    ),
    (
        "startup_wall",
        0.1,
        "hello-world start-up wall, weld/Wasmtime",
    ),
    (
        "startup_rss_mib",
        2.0,
        "hello-world peak RSS of weld's executable, MiB",
    ),
    // The boundary-call targets of the adapter stage (issue 18).
    (
        "host_to_component_call",
        0.2,
        "host → component call, weld/Wasmtime",
    ),
    (
        "component_to_host_call",
        0.2,
        "component → host call, weld/Wasmtime",
    ),
    (
        "component_to_component_call",
        0.6,
        "component → component (fused) call, weld/Wasmtime",
    ),
    // Component Model async (issue 21).
    (
        "async_host_to_component_call",
        0.25,
        "async host → component call (an async-lifted export that returns at once), weld/Wasmtime",
    ),
    (
        "async_component_to_host_call",
        0.25,
        "async component → host call (a host function lowered async), weld/Wasmtime",
    ),
    (
        "stream_u8_per_chunk",
        1.0,
        "64 MiB through a stream<u8> between two components, time per 64 KiB, weld/Wasmtime \
         (at most 1: at least Wasmtime's MB/s)",
    ),
    ("compile_wall", 1.0, "compile wall time, weld/Wasmtime"),
    ("compile_rss", 1.0, "compile peak RSS, weld/Wasmtime"),
    (
        "tail_call_interpreter",
        1.0,
        "a clang musttail interpreter (bench/wasm3/tail-interp), run time, weld/Wasmtime",
    ),
    (
        "throw_catch",
        0.1,
        "a million throw → catch round trips across ten frames (bench/wasm3/throw-catch), \
         run time, weld/Wasmtime",
    ),
    (
        "gc_binary_trees",
        1.0,
        "Kotlin/Wasm binary trees of depth 18, 68 million GC allocations \
         (bench/wasm3/binary-trees), run time, weld/Wasmtime",
    ),
    (
        "gc_binary_trees_rss",
        1.0,
        "the same, peak RSS, weld/Wasmtime",
    ),
    (
        "gc_splay",
        1.0,
        "Sightglass splay (Wasm GC), run time, weld/Wasmtime",
    ),
    (
        "gc_kotlin_richards",
        1.0,
        "Sightglass kotlin-richards (Wasm GC component), run time, weld/Wasmtime",
    ),
    (
        "gc_splay_rss",
        1.0,
        "Sightglass splay (Wasm GC), peak RSS, weld/Wasmtime",
    ),
    (
        "gc_kotlin_richards_rss",
        1.0,
        "Sightglass kotlin-richards (Wasm GC component), peak RSS, weld/Wasmtime",
    ),
];

/// A compiled program that is not a Sightglass benchmark (the componentize-py component).
#[derive(Debug, Clone)]
pub struct ExtraCompile {
    pub name: String,
    pub path: String,
    pub weld: CompileSide,
    pub wasmtime: CompileSide,
}

#[derive(Debug, Default)]
pub struct Results {
    pub runtime: Vec<Result1>,
    pub skipped: Vec<(String, String)>,
    pub startup: Option<Startup>,
    pub calls: Vec<Case>,
    pub extra_compiles: Vec<ExtraCompile>,
    /// Sections not run, and why (tools missing, a filter).
    pub notes: Vec<String>,
    pub meta: Map<String, Value>,
}

fn med(xs: &[f64]) -> Option<f64> {
    Summary::of(xs).map(|s| s.median)
}

fn compile_pairs(r: &Results) -> Vec<(&CompileSide, &CompileSide)> {
    r.runtime
        .iter()
        .map(|b| (&b.weld_compile, &b.wasmtime_compile))
        .chain(r.extra_compiles.iter().map(|e| (&e.weld, &e.wasmtime)))
        .collect()
}

/// The headline figures (`None` when not measured), in [`RATIOS`] order.
pub fn ratios(r: &Results) -> Vec<(&'static str, Option<f64>)> {
    let run: Vec<f64> = r
        .runtime
        .iter()
        .filter(|b| b.bench.suite == Suite::Sightglass)
        .filter_map(|b| b.ratio())
        .map(|x| x.0)
        .collect();
    let worst = run
        .iter()
        .copied()
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    let in_suite = |suite: Suite, name: &str| {
        r.runtime
            .iter()
            .find(|b| b.bench.suite == suite && b.bench.name == name)
            .and_then(|b| b.ratio())
            .map(|x| x.0)
    };
    let program = |name: &str| in_suite(Suite::Wasm3, name);
    // Peak RSS of a program's runs, weld over Wasmtime (medians).
    let rss = |name: &str| {
        let b = r.runtime.iter().find(|b| b.bench.name == name)?;
        ratio(med(&b.weld.rss_kib)?, med(&b.wasmtime.rss_kib)?)
    };
    let st = r.startup.as_ref();
    let startup_wall = st.and_then(|s| ratio(med(&s.weld.wall_ns)?, med(&s.wasmtime.wall_ns)?));
    let startup_rss = st.and_then(|s| med(&s.weld.rss_kib)).map(|k| k / 1024.0);
    let group = |g: &str| {
        let xs: Vec<f64> = r
            .calls
            .iter()
            .filter(|c| c.group == g)
            .filter_map(Case::ratio)
            .collect();
        geomean(&xs)
    };
    let cp = compile_pairs(r);
    let comp = |f: fn(&CompileSide) -> &Vec<f64>| {
        let xs: Vec<f64> = cp
            .iter()
            .filter(|(a, b)| a.error.is_none() && b.error.is_none())
            .filter_map(|(a, b)| ratio(med(f(a))?, med(f(b))?))
            .collect();
        geomean(&xs)
    };
    vec![
        ("runtime_geomean", geomean(&run)),
        ("runtime_worst", worst),
        ("startup_wall", startup_wall),
        ("startup_rss_mib", startup_rss),
        ("host_to_component_call", group("host_to_component_call")),
        ("component_to_host_call", group("component_to_host_call")),
        (
            "component_to_component_call",
            group("component_to_component_call"),
        ),
        ("async_host_to_component_call", group("async_call")),
        ("async_component_to_host_call", group("async_host_call")),
        ("stream_u8_per_chunk", group("stream_throughput")),
        ("compile_wall", comp(|c| &c.wall_ns)),
        ("compile_rss", comp(|c| &c.rss_kib)),
        ("tail_call_interpreter", program("tail-interp")),
        ("throw_catch", program("throw-catch")),
        ("gc_binary_trees", program("binary-trees")),
        ("gc_binary_trees_rss", rss("binary-trees")),
        ("gc_splay", in_suite(Suite::Sightglass, "splay")),
        (
            "gc_kotlin_richards",
            in_suite(Suite::Sightglass, "kotlin-richards"),
        ),
        ("gc_splay_rss", rss("splay")),
        ("gc_kotlin_richards_rss", rss("kotlin-richards")),
    ]
}

fn num(x: Option<f64>) -> Value {
    x.filter(|x| x.is_finite())
        .map_or(Value::Null, |x| json!(x))
}

fn compile_json(c: &CompileSide) -> Value {
    json!({
        "wall_ns": summary_json(Summary::of(&c.wall_ns)),
        "cpu_ns": summary_json(Summary::of(&c.cpu_ns)),
        "peak_rss_kib": summary_json(Summary::of(&c.rss_kib)),
        "output_bytes": c.size,
        "error": c.error,
    })
}

pub fn to_json(r: &Results) -> Value {
    let mut ratios_obj = Map::new();
    for (k, v) in ratios(r) {
        ratios_obj.insert(k.to_string(), num(v));
    }
    let targets: Map<String, Value> = RATIOS
        .iter()
        .map(|(k, t, _)| (k.to_string(), json!(t)))
        .collect();
    let runtime: Vec<Value> = r
        .runtime
        .iter()
        .map(|b| {
            let side = |s: &crate::sightglass::RunSide| {
                json!({
                    "region_ns": summary_json(s.region()),
                    "process_ns": summary_json(s.process()),
                    "peak_rss_kib": summary_json(Summary::of(&s.rss_kib)),
                    "error": s.error,
                })
            };
            let (ratio, basis) = b.ratio().map_or((None, None), |(x, k)| (Some(x), Some(k)));
            json!({
                "name": b.bench.name,
                "file": b.bench.rel,
                "kind": if b.bench.component { "component" } else { "core" },
                "suite": match b.bench.suite {
                    Suite::Sightglass => "sightglass",
                    Suite::Wasm3 => "wasm3",
                },
                "weld": side(&b.weld),
                "wasmtime": side(&b.wasmtime),
                "ratio": num(ratio),
                "ratio_basis": basis,
                "too_short_to_time": b.too_short(),
            })
        })
        .collect();
    let failures: Vec<Value> = r
        .runtime
        .iter()
        .flat_map(|b| {
            [("weld", &b.weld.error), ("wasmtime", &b.wasmtime.error)]
                .into_iter()
                .filter_map(move |(who, e)| {
                    e.as_ref()
                        .map(|e| json!({ "name": b.bench.name, "engine": who, "error": e }))
                })
        })
        .collect();
    let compile: Vec<Value> = r
        .runtime
        .iter()
        .map(|b| (b.bench.name.as_str(), b.bench.rel.as_str(), &b.weld_compile, &b.wasmtime_compile))
        .chain(
            r.extra_compiles
                .iter()
                .map(|e| (e.name.as_str(), e.path.as_str(), &e.weld, &e.wasmtime)),
        )
        .map(|(name, file, a, b)| {
            json!({
                "name": name,
                "file": file,
                "weld": compile_json(a),
                "wasmtime": compile_json(b),
                "wall_ratio": num(ratio(med(&a.wall_ns).unwrap_or(f64::NAN), med(&b.wall_ns).unwrap_or(f64::NAN))),
                "rss_ratio": num(ratio(med(&a.rss_kib).unwrap_or(f64::NAN), med(&b.rss_kib).unwrap_or(f64::NAN))),
            })
        })
        .collect();
    let startup = r.startup.as_ref().map_or(Value::Null, |s| {
        let side = |x: &crate::startup::Side| {
            json!({
                "wall_ns": summary_json(x.wall()),
                "peak_rss_kib": summary_json(x.rss()),
                "error": x.error,
            })
        };
        let nat_wall = med(&s.native.wall_ns);
        json!({
            "program": s.source,
            "weld": side(&s.weld),
            "wasmtime": side(&s.wasmtime),
            "native_static_c": side(&s.native),
            "weld_over_native_wall": num(nat_wall.and_then(|n| ratio(med(&s.weld.wall_ns)?, n))),
            "wasmtime_over_native_wall": num(nat_wall.and_then(|n| ratio(med(&s.wasmtime.wall_ns)?, n))),
        })
    });
    let size = r.startup.as_ref().map_or(Value::Null, |s| {
        json!({
            "weld_exe_bytes": s.weld.size,
            "wasmtime_cwasm_bytes": s.wasmtime.size,
            "native_static_c_bytes": s.native.size,
            "weld_over_native": num(match (s.weld.size, s.native.size) {
                (Some(a), Some(b)) => ratio(a as f64, b as f64),
                _ => None,
            }),
        })
    });
    let calls: Vec<Value> = r
        .calls
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "group": c.group,
                "weld_ns_per_call": summary_json(Summary::of(&c.weld_ns)),
                "wasmtime_ns_per_call": summary_json(Summary::of(&c.wasmtime_ns)),
                "ratio": num(c.ratio()),
                "error": c.error,
            })
        })
        .collect();
    let skipped: Vec<Value> = r
        .skipped
        .iter()
        .map(|(n, why)| json!({ "name": n, "reason": why }))
        .collect();
    json!({
        "schema": "weld-bench/1",
        "meta": r.meta,
        "ratios": ratios_obj,
        "targets": targets,
        "runtime": runtime,
        "runtime_failures": failures,
        "skipped": skipped,
        "startup": startup,
        "size": size,
        "calls": calls,
        "compile": compile,
        "notes": r.notes,
    })
}

fn fmt_ratio(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.3}"))
}

fn fmt_summary_ns(s: Option<Summary>) -> String {
    s.map_or("-".into(), |s| {
        format!("{} ({}–{})", fmt_ns(s.median), fmt_ns(s.min), fmt_ns(s.max))
    })
}

fn fmt_kib(s: Option<Summary>) -> String {
    s.map_or("-".into(), |s| format!("{:.1} MiB", s.median / 1024.0))
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn to_markdown(r: &Results) -> String {
    let mut md = String::new();
    md.push_str("# weld vs Wasmtime 48.0.8 and native C (`make bench`)\n\n");
    if let Some(Value::String(d)) = r.meta.get("summary") {
        md.push_str(&format!("{d}\n\n"));
    }
    md.push_str("Medians with (min–max). Figures vary ±30% run to run on this machine.\n\n");
    md.push_str("## Ratios\n\n| figure | value | target | met |\n|---|---:|---:|:---:|\n");
    for ((k, v), (_, target, what)) in ratios(r).into_iter().zip(RATIOS) {
        let met = v.map_or("-", |v| if v <= *target { "yes" } else { "**no**" });
        md.push_str(&format!(
            "| `{k}` ({what}) | {} | ≤ {target} | {met} |\n",
            fmt_ratio(v)
        ));
    }
    if let Some(s) = &r.startup {
        md.push_str(&format!(
            "\n## Start-up ({})\n\n| | wall | peak RSS | size |\n|---|---:|---:|---:|\n",
            s.source
        ));
        for (who, side) in [
            ("weld executable", &s.weld),
            ("wasmtime run --allow-precompiled (.cwasm)", &s.wasmtime),
            ("native C, gcc -O2 -static", &s.native),
        ] {
            let wall = match &side.error {
                Some(e) => format!("error: {}", cell(e)),
                None => fmt_summary_ns(side.wall()),
            };
            md.push_str(&format!(
                "| {who} | {wall} | {} | {} |\n",
                fmt_kib(side.rss()),
                side.size
                    .map_or("-".into(), |b| format!("{:.1} KiB", b as f64 / 1024.0))
            ));
        }
        // The second start-up target (≤ 2× native static C), and the same ratio for
        // native C itself: what the 0.1× Wasmtime target asks of any static glibc program on
        // this machine.
        let m = |side: &crate::startup::Side| side.wall().map(|w| w.median);
        let pair = |a, b| match (a, b) {
            (Some(a), Some(b)) => ratio(a, b).map_or("-".into(), |r| format!("{r:.3}")),
            _ => "-".into(),
        };
        md.push_str(&format!(
            "
weld/native: {} (target ≤ 2); native/Wasmtime: {} (for calibration: the start-up \
             target asks weld for ≤ 0.1).\n",
            pair(m(&s.weld), m(&s.native)),
            pair(m(&s.native), m(&s.wasmtime)),
        ));
    }
    if !r.calls.is_empty() {
        md.push_str("\n## Boundary calls (ns per call, in process)\n\n| call | weld | Wasmtime | weld/Wasmtime |\n|---|---:|---:|---:|\n");
        for c in &r.calls {
            let f = |xs: &[f64]| {
                Summary::of(xs).map_or("-".into(), |s| {
                    format!("{:.1} ({:.1}–{:.1})", s.median, s.min, s.max)
                })
            };
            let err = c
                .error
                .as_ref()
                .map_or(String::new(), |e| format!(" error: {}", cell(e)));
            md.push_str(&format!(
                "| {} | {} | {} | {}{err} |\n",
                c.name,
                f(&c.weld_ns),
                f(&c.wasmtime_ns),
                fmt_ratio(c.ratio())
            ));
        }
    }
    if !r.runtime.is_empty() {
        md.push_str("\n## Run time (Sightglass, and weld's Wasm 3.0 programs from `bench/wasm3/`, marked, which count only toward their own ratios)\n\nBoth engines compile for this machine's CPU (`weld compile --cpu native`; `wasmtime compile` does so by default). region = between `bench.start` and `bench.end` (Wasmtime's timer is the harness's `bench-timer.wat`, preloaded into core modules and, made a component, composed into components); process = the whole process. The ratio uses regions when both engines report one, else processes; regions under 1 ms (Wasmtime's timer costs several µs) and processes under 50 ms are too short to time and do not count; nor do programs whose slowest run took over 4× their fastest on both engines (their work varies run to run: some libsodium tests size it with `randombytes`).\n\n| program | weld region | Wasmtime region | weld process | Wasmtime process | weld/Wasmtime |\n|---|---:|---:|---:|---:|---:|\n");
        for b in &r.runtime {
            let ratio = match (&b.weld.error, &b.wasmtime.error, b.ratio()) {
                (Some(e), _, _) => format!("weld failed: {}", cell(e)),
                (_, Some(e), _) => format!("Wasmtime failed: {}", cell(e)),
                (_, _, Some((x, basis))) => format!("{x:.3} ({basis})"),
                _ if b.too_short() => "too short to time (not counted)".into(),
                _ if b.varies() => "work varies run to run (not counted)".into(),
                _ => "-".into(),
            };
            let name = match b.bench.suite {
                Suite::Sightglass => b.bench.name.clone(),
                Suite::Wasm3 => format!("{} (wasm3)", b.bench.name),
            };
            md.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {ratio} |\n",
                fmt_summary_ns(b.weld.region()),
                fmt_summary_ns(b.wasmtime.region()),
                fmt_summary_ns(b.weld.process()),
                fmt_summary_ns(b.wasmtime.process()),
            ));
        }
    }
    if !r.skipped.is_empty() {
        md.push_str("\n### Skipped\n\n");
        for (n, why) in &r.skipped {
            md.push_str(&format!("- `{n}`: {why}\n"));
        }
    }
    let cp: Vec<_> = r
        .runtime
        .iter()
        .map(|b| (b.bench.name.as_str(), &b.weld_compile, &b.wasmtime_compile))
        .chain(
            r.extra_compiles
                .iter()
                .map(|e| (e.name.as_str(), &e.weld, &e.wasmtime)),
        )
        .collect();
    if !cp.is_empty() {
        md.push_str("\n## Compile\n\n| program | weld wall | weld CPU | weld RSS | weld output | Wasmtime wall | Wasmtime CPU | Wasmtime RSS | Wasmtime output |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (name, a, b) in cp {
            let side = |c: &CompileSide| match &c.error {
                Some(e) => format!(
                    "error: {} | | |",
                    cell(&e.chars().take(120).collect::<String>())
                ),
                None => format!(
                    "{} | {} | {} | {}",
                    fmt_ns(med(&c.wall_ns).unwrap_or(f64::NAN)),
                    fmt_ns(med(&c.cpu_ns).unwrap_or(f64::NAN)),
                    fmt_kib(Summary::of(&c.rss_kib)),
                    c.size
                        .map_or("-".into(), |s| format!("{:.0} KiB", s as f64 / 1024.0))
                ),
            };
            md.push_str(&format!("| {name} | {} | {} |\n", side(a), side(b)));
        }
    }
    if !r.notes.is_empty() {
        md.push_str("\n## Notes\n\n");
        for n in &r.notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md
}

/// The ratios as horizontal bars on a log scale, each with its target marked; green when met.
pub fn to_svg(r: &Results) -> anyhow::Result<String> {
    use plotters::prelude::*;
    let rows: Vec<(&str, Option<f64>, f64)> = ratios(r)
        .into_iter()
        .zip(RATIOS)
        .map(|((k, v), (_, t, _))| (k, v, *t))
        .collect();
    let lo = rows
        .iter()
        .flat_map(|(_, v, t)| [v.unwrap_or(*t), *t])
        .fold(f64::INFINITY, f64::min)
        .max(1e-4);
    let hi = rows
        .iter()
        .flat_map(|(_, v, t)| [v.unwrap_or(*t), *t])
        .fold(0.0f64, f64::max);
    let x0 = 10f64.powf(lo.log10().floor() - 0.3);
    let x1 = 10f64.powf(hi.log10().ceil() + 0.3);
    let n = rows.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("drawing: {e}");
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "weld vs Wasmtime 48.0.8: ratios (lower is better; | = target; RSS in MiB)",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(230)
            .build_cartesian_2d((x0..x1).log_scale(), 0f64..n as f64)
            .map_err(|e| err(&e))?;
        let labels: Vec<String> = rows.iter().map(|(k, _, _)| k.to_string()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (n as f64 - y - 0.5).round();
                if (n as f64 - y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_desc("weld / Wasmtime (log scale)")
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (_, v, t)) in rows.iter().enumerate() {
            let y = (n - i) as f64;
            if let Some(v) = v {
                let color = if *v <= *t {
                    GREEN.mix(0.7)
                } else {
                    RED.mix(0.7)
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y - 0.8), (*v, y - 0.2)],
                        color.filled(),
                    )))
                    .map_err(|e| err(&e))?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{v:.3}"),
                        (*v * 1.08, y - 0.65),
                        ("sans-serif", 14),
                    )))
                    .map_err(|e| err(&e))?;
            } else {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "not measured".to_string(),
                        (x0 * 1.1, y - 0.65),
                        ("sans-serif", 14),
                    )))
                    .map_err(|e| err(&e))?;
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*t, y - 0.95), (*t, y - 0.05)],
                    BLACK.stroke_width(3),
                )))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sightglass::{Bench, RunSide};

    fn sample() -> Results {
        let bench = |name: &str, weld: f64, wasmtime: f64| Result1 {
            bench: Bench {
                name: name.into(),
                suite: Suite::Sightglass,
                rel: format!("{name}/benchmark.wasm"),
                dir: Default::default(),
                wasm: Default::default(),
                stem: "benchmark".into(),
                component: false,
            },
            weld_compile: CompileSide {
                wall_ns: vec![2e9],
                cpu_ns: vec![3e9],
                rss_kib: vec![2048.0],
                size: Some(100),
                error: None,
            },
            wasmtime_compile: CompileSide {
                wall_ns: vec![1e9],
                cpu_ns: vec![1e9],
                rss_kib: vec![4096.0],
                size: Some(200),
                error: None,
            },
            weld: RunSide {
                region_ns: vec![weld],
                process_ns: vec![weld],
                rss_kib: vec![1.0],
                error: None,
            },
            wasmtime: RunSide {
                region_ns: vec![wasmtime],
                process_ns: vec![wasmtime],
                rss_kib: vec![1.0],
                error: None,
            },
        };
        let mut broken = bench("broken", 1e7, 1e7);
        broken.weld.error = Some("stdout differs".into());
        // A Wasm 3.0 program: its own ratio, outside the Sightglass ones.
        let mut interp = bench("tail-interp", 3e7, 4e7);
        interp.bench.suite = Suite::Wasm3;
        Results {
            runtime: vec![bench("a", 1e7, 2e7), bench("b", 2e7, 1e7), broken, interp],
            calls: vec![Case {
                name: "host→component nop",
                group: "host_to_component_call",
                weld_ns: vec![10.0, 12.0, 11.0],
                wasmtime_ns: vec![110.0],
                error: None,
            }],
            ..Results::default()
        }
    }

    #[test]
    fn json_has_exactly_the_listed_ratios_and_wasm3_programs_count_only_toward_their_own() {
        let v = to_json(&sample());
        let ratios = v["ratios"].as_object().expect("ratios object");
        let keys: Vec<&str> = ratios.keys().map(String::as_str).collect();
        let mut want: Vec<&str> = RATIOS.iter().map(|r| r.0).collect();
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);
        assert!((v["ratios"]["runtime_geomean"].as_f64().expect("n") - 1.0).abs() < 1e-12);
        assert_eq!(v["ratios"]["runtime_worst"].as_f64(), Some(2.0));
        assert_eq!(v["ratios"]["tail_call_interpreter"].as_f64(), Some(0.75));
        assert_eq!(v["runtime"][3]["suite"], "wasm3");
        let h2c = v["ratios"]["host_to_component_call"].as_f64().expect("n");
        assert!((h2c - 0.1).abs() < 1e-12);
        assert_eq!(v["ratios"]["compile_wall"].as_f64(), Some(2.0));
        assert_eq!(v["ratios"]["compile_rss"].as_f64(), Some(0.5));
        assert!(v["ratios"]["startup_wall"].is_null());
        assert_eq!(v["runtime_failures"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["runtime"][0]["ratio_basis"], "region");
        assert_eq!(
            v["calls"][0]["weld_ns_per_call"]["median"].as_f64(),
            Some(11.0)
        );
        // Round-trips as JSON text.
        let text = serde_json::to_string_pretty(&v).expect("serialises");
        let back: Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(back["schema"], "weld-bench/1");
    }

    #[test]
    fn markdown_and_svg_render() {
        let r = sample();
        let md = to_markdown(&r);
        assert!(md.contains("`runtime_geomean`"));
        assert!(md.contains("weld failed: stdout differs"));
        let svg = to_svg(&r).expect("draws");
        assert!(svg.starts_with("<svg") && svg.contains("runtime_worst"));
        assert!(svg.contains("not measured"));
    }

    #[test]
    fn start_up_is_also_compared_with_native_c() {
        let side = |ns: f64| crate::startup::Side {
            wall_ns: vec![ns, ns],
            ..Default::default()
        };
        let r = Results {
            startup: Some(Startup {
                source: "hello".into(),
                weld: side(600e3),
                wasmtime: side(5e6),
                native: side(400e3),
            }),
            ..Results::default()
        };
        let md = to_markdown(&r);
        assert!(md.contains("weld/native: 1.500 (target ≤ 2)"), "{md}");
        assert!(md.contains("native/Wasmtime: 0.080"), "{md}");
        let v = to_json(&r);
        assert!((v["ratios"]["startup_wall"].as_f64().expect("n") - 0.12).abs() < 1e-12);
    }
}
