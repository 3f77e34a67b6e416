//! Components: from a component's bytes to one object with every wiring resolved.
//!
//! The stages, each in its own file:
//! `translate` (parse + validate; per component definition, its items in order) →
//! `inline` (run the instantiation at compile time into a flat [`ComponentInfo`]) →
//! `crate::adapter` (fused crossings generated as core wasm modules, wired into the graph) →
//! core modules and adapters compiled as usual, one lowering trampoline per `canon lower`
//! (`trampoline`, into the runtime's generic path) → one object with a `<prefix>__component`
//! descriptor (`crate::emit`).
//!
//! `conventions` tells code generation which imports the graph binds to wasm code.
//! `types` converts interface types and implements the Canonical ABI's flattening, which fixes
//! the core signature of every lowered function.

pub mod conventions;
pub mod inline;
pub mod trampoline;
pub mod translate;
pub mod types;
pub mod wit_names;

use crate::codegen::{CompiledFunction, CompiledModule, ModuleEnv};
use crate::error::{Error, Result};
use crate::frontend::ParsedModule;
use crate::options::Options;
use weld_contract::component::{ComponentInfo, CoreDef};
use weld_contract::info::{ExportKind, IndexType};
use weld_contract::symbols;
use weld_contract::vmctx::VMOffsets;

/// A compiled component, ready to be written as one object.
pub struct CompiledComponent<'a> {
    /// The flattened graph.
    pub info: ComponentInfo,
    /// Every core module: parsed, compiled, and the symbol prefix it gets.
    pub modules: Vec<(ParsedModule<'a>, CompiledModule, String)>,
    /// One trampoline per lowering.
    pub lowerings: Vec<CompiledFunction>,
}

/// Parse, validate and flatten a component.
pub fn flatten(bytes: &[u8]) -> Result<ComponentInfo> {
    let t = translate::translate(bytes, crate::frontend::features())?;
    let (info, _) = inline::Inliner::run(&t)?;
    Ok(info)
}

/// Parse, validate and flatten a component, and build its named graph (for `weld inspect`,
/// `weld check` and policies).
pub fn graph(bytes: &[u8]) -> Result<(ComponentInfo, crate::inspect::graph::Graph)> {
    use crate::inspect::graph::{Graph, Storage};
    let t = translate::translate(bytes, crate::frontend::features())?;
    let (info, _, names) = inline::Inliner::run_with_names(&t)?;
    // A module weld cannot compile still shows in the graph, without storage.
    let storage: Vec<Storage> = t
        .modules
        .iter()
        .zip(&t.module_offsets)
        .map(|(m, at)| {
            crate::frontend::parse_module_at(m, *at, crate::frontend::features())
                .map(|p| Storage::of(&p.info))
                .unwrap_or_default()
        })
        .collect();
    let g = Graph::new(&info, &names, &storage);
    Ok((info, g))
}

/// Where a compilation keeps the bytes of the adapter modules it generates
/// ([`crate::adapter`]): the compiled component borrows them, so they live beside the input.
/// One per compilation.
#[derive(Default)]
pub struct AdapterBytes(std::cell::OnceCell<Vec<Vec<u8>>>);

/// Compile a component's bytes into its parts; `adapters` keeps the generated adapter modules.
pub fn compile<'a>(
    bytes: &'a [u8],
    adapters: &'a AdapterBytes,
    options: &Options,
) -> Result<CompiledComponent<'a>> {
    options.validate()?;
    compile_validated_lazily(bytes, adapters, options).map_err(|e| match e {
        Error::Invalid { .. } => e,
        // Function bodies are validated by code generation, which may stop at something
        // unsupported first: report an invalid component as invalid, whatever else it uses.
        other => match translate::translate(bytes, options.features()) {
            Err(invalid) => options.refine_error(invalid),
            Ok(_) => other,
        },
    })
}

/// Whether `def` names a 32-bit memory; `modules` gives each core instance's module.
fn memory32(modules: &[u32], parsed: &[ParsedModule<'_>], def: &CoreDef) -> bool {
    let CoreDef::Export { instance, name } = def else {
        return false;
    };
    let Some(m) = modules
        .get(*instance as usize)
        .and_then(|m| parsed.get(*m as usize))
    else {
        return false;
    };
    m.info
        .exports
        .iter()
        .find(|e| e.name == *name && e.kind == ExportKind::Memory)
        .and_then(|e| m.info.memories.get(e.index as usize))
        .is_some_and(|t| t.index == IndexType::I32)
}

/// [`compile`], with core function bodies validated as code generation translates them.
fn compile_validated_lazily<'a>(
    bytes: &'a [u8],
    adapters: &'a AdapterBytes,
    options: &Options,
) -> Result<CompiledComponent<'a>> {
    let t = crate::timings::phase("translate", || {
        translate::translate_with(bytes, options.features(), translate::Bodies::LeaveToCodegen)
    })
    .map_err(|e| options.refine_error(e))?;
    let (mut info, _arena) = crate::timings::phase("flatten", || inline::Inliner::run(&t))?;
    let mut parsed = Vec::with_capacity(t.modules.len());
    for (i, m) in t.modules.iter().enumerate() {
        parsed.push(
            crate::frontend::parse_module_at(m, t.module_offsets[i], options.features())
                .map_err(|e| options.refine_error(e))?,
        );
    }
    let generated = crate::timings::phase("adapters", || {
        let modules: Vec<u32> = info.instances.iter().map(|i| i.module).collect();
        let first = parsed.len() as u32;
        let memory32 = |d: &CoreDef| memory32(&modules, &parsed, d);
        crate::adapter::insert(&mut info, first, options.c_host_adapters, &memory32)
    });
    let generated = adapters.0.get_or_init(|| generated);
    for m in generated {
        parsed.push(crate::frontend::parse_module_with(m, options.features())?);
    }
    let known = conventions::wasm_imports(&info, &parsed);
    for (p, known) in parsed.iter_mut().zip(known) {
        p.info.wasm_imports = known;
    }
    let module_options: Vec<Options> = (0..parsed.len())
        .map(|i| {
            let mut o = options.clone();
            o.prefix = symbols::component_module_prefix(&options.prefix, i as u32);
            // Inner modules are reached through the component, never by C hosts directly.
            o.c_entry_points = false;
            o.quick |= options.quick_glue && i > 0;
            o
        })
        .collect();
    // All modules' functions in one pool (the program's, the adapter's, the shims').
    let jobs: Vec<_> = parsed.iter().zip(&module_options).collect();
    let compiled = crate::timings::phase("codegen", || crate::codegen::compile_modules(&jobs))
        .map_err(|e| options.refine_error(e))?;
    let modules = parsed
        .into_iter()
        .zip(compiled)
        .zip(module_options)
        .map(|((p, c), o)| (p, c, o.prefix))
        .collect();
    let isa = crate::codegen::build_isa(options)?;
    let empty = weld_contract::info::ModuleInfo::default();
    let env = ModuleEnv {
        info: &empty,
        offsets: VMOffsets::new(empty.counts()),
        options,
        isa: &*isa,
        exits: crate::codegen::exit::ExitTrampolines::default(),
    };
    let lowerings = crate::timings::phase("lowering trampolines", || {
        (0..info.lowerings.len())
            .map(|i| trampoline::compile_lowering_trampoline(&env, &info, i as u32))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(CompiledComponent {
        info,
        modules,
        lowerings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wat;

    /// The error of compiling `src`, and that of validating it completely first.
    fn both_errors(src: &str) -> (String, String) {
        let bytes = wat(src);
        let options = Options::default();
        let compiled = compile(&bytes, &AdapterBytes::default(), &options)
            .err()
            .expect("compiling fails");
        let validated = translate::translate(&bytes, options.features())
            .err()
            .map_or_else(|| "valid".to_string(), |e| e.to_string());
        (compiled.to_string(), validated)
    }

    #[test]
    fn quick_glue_compiles_every_module_but_the_first_quickly() {
        // The same function in both modules: constant folding (an optimisation) shortens it.
        let bytes = wat(r#"(component
          (core module $program (func (export "f") (result i32)
            i32.const 1 i32.const 2 i32.add i32.const 3 i32.mul))
          (core module $glue (func (export "f") (result i32)
            i32.const 1 i32.const 2 i32.add i32.const 3 i32.mul)))"#);
        let code = |quick_glue: bool| {
            let options = Options {
                quick_glue,
                ..Options::default()
            };
            let adapters = AdapterBytes::default();
            let c = compile(&bytes, &adapters, &options).expect("compiles");
            c.modules
                .iter()
                .map(|(_, m, _)| m.funcs[0].code.clone())
                .collect::<Vec<_>>()
        };
        let (usual, quick) = (code(false), code(true));
        assert_eq!(
            usual[0], usual[1],
            "the same function, compiled the same way"
        );
        assert_eq!(
            quick[0], usual[0],
            "the program's module is compiled as usual"
        );
        assert!(
            quick[1].len() > usual[1].len(),
            "the glue module is not folded: {} vs {} bytes",
            quick[1].len(),
            usual[1].len()
        );
    }

    #[test]
    fn an_invalid_body_in_a_nested_module_is_reported_at_its_offset_in_the_file() {
        let (compiled, validated) = both_errors(
            r#"(component
              (core module $ok (func (export "f") (result i32) i32.const 1))
              (core module $bad
                (func (result i32) i32.const 1)
                (func (result i32) i64.const 0)))"#,
        );
        assert!(compiled.contains("type mismatch"), "{compiled}");
        assert_eq!(compiled, validated);
    }

    #[test]
    fn an_invalid_body_wins_over_something_unsupported_elsewhere() {
        // Module 0 uses exception handling (unsupported); module 1 is invalid.
        let (compiled, validated) = both_errors(
            r#"(component
              (core module $eh (tag))
              (core module $bad (func (result i32) i64.const 0)))"#,
        );
        assert!(compiled.contains("type mismatch"), "{compiled}");
        assert_eq!(compiled, validated);
    }
}
