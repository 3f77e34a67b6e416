//! Differential fuzzing of weld against Wasmtime (issue 6).
//!
//! - [`core`]: random modules from `wasm-smith` (the features weld implements, no imports,
//!   everything exported, fuel-bounded loops and calls), compiled by weld into one shared
//!   library per batch and run by both weld and Wasmtime; every export is called with
//!   deterministic arguments and the results, trap kinds, final memories, globals and table sizes
//!   are compared.
//! - [`component`]: the round-trip components of `weld_testgen::roundtrip`, run by weld and by
//!   Wasmtime's component model; both must give back what they were given.
//! - [`cross`]: the same core cases compiled for aarch64 and riscv64 and run under qemu-user,
//!   asserting what weld did on x86_64 (where it agreed with Wasmtime).
//! - [`hostile`]: damaged inputs fed to every entry point of the `weld` command, each in its
//!   own process with a time and memory limit (panics, hangs, partial outputs, bad errors).
//! - [`campaign`]: batches, minimisation, the `fuzz/divergences/` reports and the child-process
//!   driver behind `make fuzz`.
//!
//! Everything is a pure function of a seed, so a case is replayed by its seed or its `.wasm`.

pub mod campaign;
pub mod component;
pub mod core;
pub mod cross;
pub mod hostile;

/// A small deterministic PRNG (the one the compiler's test generators use).
pub use weld_testgen::Rng;

/// Whether a C compiler is available to link weld's objects (the tests skip without one).
pub fn have_cc() -> bool {
    std::process::Command::new(weld::link::c_compiler(weld::options::host_triple()))
        .arg("--version")
        .output()
        .is_ok()
}

/// Link weld objects into one shared library at `so` and open it.
pub fn link_library(
    objects: &[std::path::PathBuf],
    so: &std::path::Path,
) -> Result<weld_runtime::Library, String> {
    weld::link::product::from_paths(
        objects,
        weld::link::product::Product::SharedLib,
        so,
        weld::options::host_triple(),
    )
    .map_err(|e| format!("linking: {e}"))?;
    weld_runtime::Library::open(so).map_err(|e| format!("loading {}: {e}", so.display()))
}
