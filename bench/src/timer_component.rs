//! The `bench` instance Wasmtime's runs of *component* benchmarks import, with a timer: the
//! Sightglass harness's core timer module (`bench-timer.wat`, which prints `BENCH_NS <n>` to
//! stderr at `bench.end`) made into a component exporting the instance `bench`, with the WASI
//! preview1 reactor adapter of Wasmtime 48.0.8 turning its clock and write calls into WASI 0.2.
//! `wasm-tools compose` plugs it into each component benchmark, so that Wasmtime reports the
//! same measured region for components as weld (whose runner times `bench.start`..`bench.end`
//! in the host) and as it does for core modules (`--preload bench=`).

use anyhow::{bail, Context, Result};
use std::path::Path;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// The world of the component: the instance the benchmarks import.
const TIMER_WIT: &str = "package weld:bench-timer;

world timer {
  export bench: interface {
    start: func();
    end: func();
  }
}
";

/// The timer component built from the harness's `bench-timer.wat`.
pub fn timer_component(bench_timer_wat: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(bench_timer_wat)
        .with_context(|| format!("reading {}", bench_timer_wat.display()))?;
    // The world's export `bench` takes its functions from the core exports `bench#start` and
    // `bench#end`.
    let mut renamed = text.clone();
    for f in ["start", "end"] {
        let (from, to) = (
            format!("(export \"{f}\")"),
            format!("(export \"bench#{f}\")"),
        );
        if !renamed.contains(&from) {
            bail!("{} has no {from}", bench_timer_wat.display());
        }
        renamed = renamed.replace(&from, &to);
    }
    let mut module = crate::calls::wat_to_binary(&renamed)?;
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("timer.wit", TIMER_WIT)?;
    let world = resolve.select_world(&[pkg], Some("timer"))?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    wit_component::ComponentEncoder::default()
        .module(&module)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()
        .context("encoding the timer component")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_component_exports_the_bench_instance_and_imports_only_wasi() {
        let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/bench/sightglass/harness/bench-timer.wat");
        if !harness.is_file() {
            println!("SKIPPED: {} is not there", harness.display());
            return;
        }
        let bytes = timer_component(&harness).expect("builds");
        let Ok(wit_component::DecodedWasm::Component(resolve, world)) =
            wit_component::decode(&bytes)
        else {
            panic!("decodes as a component");
        };
        let w = &resolve.worlds[world];
        let exports: Vec<String> = w
            .exports
            .keys()
            .map(|k| resolve.name_world_key(k))
            .collect();
        assert_eq!(exports, ["bench"]);
        for k in w.imports.keys() {
            let name = resolve.name_world_key(k);
            assert!(name.starts_with("wasi:"), "imports {name}");
        }
    }
}
