//! Compilation options shared by every stage.

use crate::error::{Error, Result};

/// How linear-memory accesses are kept in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BoundsChecks {
    /// Rely on a reserved guard region (64-bit hosted targets): most checks vanish.
    #[default]
    Guard,
    /// Compare every access with the memory's length.
    Explicit,
}

/// The instruction set a [`Target`] compiles for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64.
    X86_64,
    /// AArch64.
    Aarch64,
    /// RISC-V 64 (`riscv64gc`).
    Riscv64,
}

/// A target triple weld compiles for (`weld compile --target`), its architecture known. The
/// rest of the triple (vendor, system, ABI) is checked by Cranelift and the linker.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    triple: String,
    arch: Arch,
}

impl Target {
    /// The triple `triple`, if weld has a back end for its architecture.
    pub fn new(triple: &str) -> Result<Target> {
        let arch = match triple.split('-').next().unwrap_or("") {
            "x86_64" => Arch::X86_64,
            "aarch64" => Arch::Aarch64,
            "riscv64" | "riscv64gc" => Arch::Riscv64,
            other => {
                return Err(Error::Unsupported {
                    message: format!(
                        "target {triple:?}: no back end for architecture {other:?} (x86_64, aarch64, riscv64)"
                    ),
                    offset: None,
                })
            }
        };
        Ok(Target {
            triple: triple.to_string(),
            arch,
        })
    }

    /// The machine weld runs on.
    pub fn host() -> Target {
        let arch = if cfg!(target_arch = "aarch64") {
            Arch::Aarch64
        } else if cfg!(target_arch = "riscv64") {
            Arch::Riscv64
        } else {
            Arch::X86_64
        };
        Target {
            triple: host_triple().to_string(),
            arch,
        }
    }

    /// The triple as written.
    pub fn as_str(&self) -> &str {
        &self.triple
    }

    /// Its architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// Whether it is the machine weld runs on.
    pub fn is_host(&self) -> bool {
        self.triple == host_triple()
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.triple)
    }
}

/// Cranelift's optimisation level (`weld compile --opt-level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OptLevel {
    /// No optimisation.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

impl OptLevel {
    /// The name Cranelift's `opt_level` setting and the command line use.
    pub fn name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }

    /// The level named `name` (`none`, `speed`, `speed_and_size`).
    pub fn from_name(name: &str) -> Option<OptLevel> {
        [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

/// Which CPU the code may assume beyond its target's baseline (`weld compile --cpu`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cpu {
    /// Any CPU of the target (x86-64: x86-64-v2, SSE4.2).
    #[default]
    Baseline,
    /// x86-64-v3: AVX2, FMA, BMI1/2, LZCNT.
    X86_64V3,
    /// x86-64-v4: v3 and AVX-512 (F, VL, DQ).
    X86_64V4,
    /// Whatever the machine running weld has (the host target only), as Wasmtime compiles.
    Native,
}

/// How the relaxed-SIMD operators (Wasm 3.0) are lowered (`weld compile --relaxed-simd`).
///
/// The spec lets each of them return one of a few results; a target fixes its choice once, so
/// the same module gives the same bits on one machine every time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RelaxedSimd {
    /// The target's fastest choice. x86-64: `pshufb` for `relaxed_swizzle`, `cvttps2dq` for
    /// `relaxed_trunc_f32x4_s`, `blendv` for the 8-, 32- and 64-bit `relaxed_laneselect`,
    /// `minps`/`maxps` (`pmin`/`pmax`) for `relaxed_min`/`relaxed_max`, `pmulhrsw` for
    /// `relaxed_q15mulr_s`, `pmaddubsw` for the dot products, and `relaxed_madd`/`_nmadd`
    /// fused with FMA (`--cpu x86-64-v3` and up) or as a multiply then an add without it; the
    /// rest as in [`RelaxedSimd::Deterministic`]. aarch64: every operator's deterministic
    /// result, which its instructions give at no cost (`tbl`, `fcvtzs`, `fmla`, `bsl`, `fmin`,
    /// `sqrdmulh`).
    #[default]
    Native,
    /// The same bits on every target, as Wasmtime's `relaxed_simd_deterministic`: each operator
    /// behaves as its non-relaxed counterpart (`swizzle`, `trunc_sat`, `bitselect`, `min`/`max`,
    /// `q15mulr_sat_s`), `relaxed_madd` is fused (one rounding; a libcall per lane on x86-64
    /// without FMA) and the dot products treat both operands as signed, the `i32x4` one summing
    /// its four products exactly.
    Deterministic,
}

/// Options for one compilation.
#[derive(Clone, Debug)]
pub struct Options {
    /// Target triple.
    pub target: Target,
    /// Bounds-check strategy.
    pub bounds_checks: BoundsChecks,
    /// Symbol prefix (a C identifier).
    pub prefix: String,
    /// Cranelift optimisation level.
    pub opt_level: OptLevel,
    /// Compile functions on this many threads (0 = one per CPU).
    pub threads: usize,
    /// Put C entry points in the object (`<prefix>__instantiate`, `<prefix>_<export>`, ...; see
    /// `codegen::entry`). They call the runtime's C API, so the object then has undefined
    /// references to `weld_call` & co. that only `libweld_runtime.a` resolves. `weld wast` turns
    /// this off: it drives modules through the Rust API inside the `weld` process and `dlopen`s
    /// its shared objects with `RTLD_NOW`, which would refuse those undefined symbols. (Exporting
    /// them from the `weld` binary with `-rdynamic` would work too, but would tie every Rust host
    /// of `Library` — test binaries included — to that link flag, for entry points nobody calls.)
    pub c_entry_points: bool,
    /// For components: generate the C host boundaries, a host entry per export and a host
    /// call per import whose values are covered (`adapter::host_entry`, `adapter::host_call`),
    /// through which a C host (the generated header) calls without the runtime's generic path.
    /// Off for outputs no C host uses: executables (their host is the runtime's WASI), `weld
    /// run` and `weld wast`, where they would only add code and start-up work.
    pub c_host_adapters: bool,
    /// WebAssembly features to validate with (`None`: [`crate::frontend::features`]).
    pub features: Option<wasmparser::WasmFeatures>,
    /// For components: also export the plugin descriptor `weld_plugin_v1` (target, world text
    /// and hash; see `weld_contract::component::world`). Set for `--emit sharedlib`: one per
    /// shared object, so never in objects meant to be linked together.
    pub plugin: bool,
    /// CPU features the code may use beyond the target's baseline; the runtime refuses to load
    /// code on a CPU without them.
    pub cpu: Cpu,
    /// For a component weld made from a preview1 module (`weld compile` and `weld run` set it):
    /// compile its inner modules after the first — the preview1 adapter and `wit-component`'s
    /// shims, weld-supplied glue whose calls spend their time in the host — with Cranelift's
    /// quick settings ([`Options::quick`]). The program's own module is compiled as usual.
    /// Measured: a fifth less compile work for a small program (noop: 94.7 → 75.4 M
    /// instructions), no change in a file-reading program's run time (blake3-scalar).
    pub quick_glue: bool,
    /// Compile with Cranelift's quick settings: no optimisation and the single-pass register
    /// allocator (for code whose speed does not matter; see [`Options::quick_glue`]).
    pub quick: bool,
    /// How relaxed-SIMD operators are lowered.
    pub relaxed_simd: RelaxedSimd,
    /// `-g`: translate the module's DWARF (clang `-g` for wasm) into native DWARF for the
    /// compiled code (`emit::debug`), and keep it when linking. Off: the output has no debug
    /// sections, and the code is the same either way.
    pub debug_info: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target: Target::host(),
            bounds_checks: BoundsChecks::Guard,
            prefix: "wasm".to_string(),
            opt_level: OptLevel::Speed,
            threads: 0,
            c_entry_points: true,
            c_host_adapters: true,
            features: None,
            plugin: false,
            cpu: Cpu::Baseline,
            quick_glue: false,
            quick: false,
            relaxed_simd: RelaxedSimd::Native,
            debug_info: false,
        }
    }
}

/// The triple of the machine weld runs on.
pub fn host_triple() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "aarch64-unknown-linux-gnu"
    } else if cfg!(target_arch = "riscv64") {
        "riscv64gc-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    }
}

impl Options {
    /// The feature set to validate with. riscv64 targets leave out SIMD: Cranelift lowers
    /// `v128` only with the V extension, which `riscv64gc` does not promise.
    pub fn features(&self) -> wasmparser::WasmFeatures {
        let mut f = self.features.unwrap_or_else(crate::frontend::features);
        if self.lacks_simd() {
            f.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
        }
        f
    }

    fn lacks_simd(&self) -> bool {
        self.target.arch() == Arch::Riscv64
    }

    /// Explain a validation error that comes from the target rather than the input: a module
    /// using SIMD compiled for riscv64 is refused as unsupported, not as invalid.
    pub fn refine_error(&self, e: Error) -> Error {
        match e {
            Error::Invalid { message, offset }
                if self.lacks_simd() && message.contains("SIMD support is not enabled") =>
            {
                Error::Unsupported {
                    message: format!(
                        "SIMD (v128) on {}: weld does not target the riscv64 V extension",
                        self.target
                    ),
                    offset: Some(offset),
                }
            }
            other => other,
        }
    }

    /// Check the options themselves.
    pub fn validate(&self) -> Result<()> {
        if !weld_contract::symbols::is_valid_prefix(&self.prefix) {
            return Err(Error::Unsupported {
                message: format!(
                    "symbol prefix {:?} is not a C identifier (letters, digits, '_'; starting with a letter)",
                    self.prefix
                ),
                offset: None,
            });
        }
        Ok(())
    }
}
