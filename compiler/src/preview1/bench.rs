//! The Sightglass benchmark protocol: a module importing `bench.start` / `bench.end` gets the
//! world of an interface `bench`, so its component imports `bench#start` / `bench#end`.

/// The import module of the Sightglass benchmark protocol (`bench.start`, `bench.end`).
pub const BENCH_MODULE: &str = "bench";

/// The world a benchmark module's `bench` imports are described by.
const BENCH_WIT: &str = "package weld:bench;

world sightglass {
  import bench: interface {
    start: func();
    end: func();
  }
}
";

/// `bytes` with a `component-type` custom section describing [`BENCH_WIT`]'s world, so the
/// encoder turns the core imports `bench.start` / `bench.end` into the component import
/// `bench` (functions `start`, `end`).
pub(super) fn embed_bench_world(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("bench.wit", BENCH_WIT)?;
    let world = resolve.select_world(&[pkg], Some("sightglass"))?;
    let mut module = bytes.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    Ok(module)
}
