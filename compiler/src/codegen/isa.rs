//! Target selection: the only place that turns a triple and options into a Cranelift ISA.

use crate::error::{Error, Result};
use crate::options::Options;
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};

/// Build the Cranelift ISA for `options.target`.
pub fn build_isa(options: &Options) -> Result<OwnedTargetIsa> {
    let unsupported = |m: String| Error::Unsupported {
        message: m,
        offset: None,
    };
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, k: &str, v: &str| {
        flags
            .set(k, v)
            .map_err(|e| unsupported(format!("Cranelift setting {k}={v}: {e}")))
    };
    set(&mut flags, "opt_level", &options.opt_level)?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "unwind_info", "false")?;
    // Block offsets and edges: where the small loops are (see `emit::layout`).
    set(&mut flags, "machine_code_cfg_info", "true")?;
    set(&mut flags, "is_pic", "true")?;
    set(&mut flags, "enable_heap_access_spectre_mitigation", "false")?;
    set(
        &mut flags,
        "enable_table_access_spectre_mitigation",
        "false",
    )?;
    let triple = options.target.as_str();
    let arch = triple.split('-').next().unwrap_or("");
    let mut builder =
        isa::lookup_by_name(triple).map_err(|e| unsupported(format!("target {triple:?}: {e}")))?;
    if arch == "x86_64" {
        // x86-64-v2: what every x86-64 machine of the last decade has; SIMD needs SSE4.1.
        for f in [
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
        ] {
            builder
                .enable(f)
                .map_err(|e| unsupported(format!("x86_64 feature {f}: {e}")))?;
        }
    }
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| unsupported(format!("target {triple:?}: {e}")))
}
