//! Printable CLIF for inspection and golden tests (`tests/disas/`).
//!
//! In: the bytes of a core module and the options. Out: the CLIF of every defined function after
//! Cranelift's mid-end optimisations (`Context::optimize`: unreachable-code removal, constant
//! phis, the e-graph pass at `speed`), i.e. exactly what instruction selection is given. The
//! text depends only on the input and the options, so it can be compared byte for byte.

use super::func::{self, FuncContext};
use super::{build_isa, ModuleEnv};
use crate::error::{Error, Result};
use crate::options::Options;
use std::fmt::Write;
use weld_contract::vmctx::VMOffsets;

/// The optimised CLIF of every defined function of a core module, in function-index order, each
/// function followed by a blank line.
pub fn clif_text(bytes: &[u8], options: &Options) -> Result<String> {
    options.validate()?;
    let parsed = crate::frontend::parse_module(bytes)?;
    let isa = build_isa(options)?;
    let env = ModuleEnv {
        info: &parsed.info,
        offsets: VMOffsets::new(parsed.info.counts()),
        options,
        isa: &*isa,
        exits: super::exit::ExitTrampolines::plan(&parsed.info),
    };
    let mut fctx = FuncContext::default();
    let mut out = String::new();
    for (i, input) in parsed.functions.iter().enumerate() {
        let index = parsed.info.imported_funcs + i as u32;
        func::translate_function(&env, &mut fctx, index, input)?;
        let mut ctrl = cranelift_codegen::control::ControlPlane::default();
        fctx.ctx
            .optimize(env.isa, &mut ctrl)
            .map_err(|e| Error::Codegen {
                func: index,
                message: format!("{e:?}"),
            })?;
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", fctx.ctx.func.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wat;

    #[test]
    fn clif_text_prints_every_defined_function_by_index() {
        let bytes = wat(r#"(module
            (import "m" "f" (func))
            (func (result i32) i32.const 1)
            (func (result i32) i32.const 2))"#);
        let text = clif_text(&bytes, &Options::default()).expect("compiles");
        assert!(!text.contains("function u0:0("), "{text}");
        assert!(text.contains("function u0:1("), "{text}");
        assert!(text.contains("function u0:2("), "{text}");
        assert!(text.contains("iconst.i32 2"), "{text}");
    }

    #[test]
    fn clif_text_reports_invalid_modules() {
        let bytes = wat("(module (func (result i32)))");
        assert!(matches!(
            clif_text(&bytes, &Options::default()),
            Err(Error::Invalid { .. })
        ));
    }
}
