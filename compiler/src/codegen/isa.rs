//! Target selection: the only place that turns a triple and options into a Cranelift ISA.

use crate::error::{Error, Result};
use crate::options::{Cpu, Options};
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
    if options.quick {
        set(&mut flags, "opt_level", "none")?;
        set(&mut flags, "regalloc_algorithm", "single_pass")?;
    } else {
        set(&mut flags, "opt_level", options.opt_level.name())?;
    }
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

    let mut builder =
        isa::lookup_by_name(triple).map_err(|e| unsupported(format!("target {triple:?}: {e}")))?;
    if options.target.arch() == crate::Arch::X86_64 {
        // x86-64-v2: what every x86-64 machine of the last decade has; SIMD needs SSE4.1.
        let baseline = [
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
        ];
        let extra = weld_contract::cpu::features_in(cpu_flags(options)?).map(|f| f.setting);
        for f in baseline.into_iter().chain(extra) {
            builder
                .enable(f)
                .map_err(|e| unsupported(format!("x86_64 feature {f}: {e}")))?;
        }
    } else if options.cpu != Cpu::Baseline && options.cpu != Cpu::Native {
        return Err(unsupported(format!(
            "--cpu {:?} names x86-64 features; the target is {triple}",
            options.cpu
        )));
    }
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| unsupported(format!("target {triple:?}: {e}")))
}

/// The descriptor bits (`weld_contract::cpu`) of the CPU features `options.cpu` lets the code
/// use: none for the baseline and for non-x86 targets.
pub fn cpu_flags(options: &Options) -> Result<u32> {
    use weld_contract::cpu::{by_name, X86_64_V3, X86_64_V4, X86_FEATURES};
    if options.target.arch() != crate::Arch::X86_64 {
        return Ok(0);
    }
    let named = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| by_name(n))
            .fold(0, |m, f| m | f.flag)
    };
    Ok(match options.cpu {
        Cpu::Baseline => 0,
        Cpu::X86_64V3 => named(X86_64_V3),
        Cpu::X86_64V4 => named(X86_64_V4),
        Cpu::Native => {
            if !options.target.is_host() {
                return Err(Error::Unsupported {
                    message: format!(
                        "--cpu native describes this machine; the target is {}",
                        options.target
                    ),
                    offset: None,
                });
            }
            X86_FEATURES
                .iter()
                .filter(|f| weld_runtime::module::cpu_has(f.name))
                .fold(0, |m, f| m | f.flag)
        }
    })
}
