//! Components: from a component's bytes to one object with every wiring resolved.
//!
//! The stages, each in its own file:
//! `translate` (parse + validate; per component definition, its items in order) →
//! `inline` (run the instantiation at compile time into a flat [`ComponentInfo`]) →
//! core modules compiled as usual, one lowering trampoline per `canon lower` (`trampoline`) →
//! one object with a `<prefix>__component` descriptor (`crate::emit`).
//!
//! `types` converts interface types and implements the Canonical ABI's flattening, which fixes
//! the core signature of every lowered function.

pub mod inline;
pub mod inspect;
pub mod inspect_graph;
pub mod inspect_render;
pub mod inspect_svg;
pub mod trampoline;
pub mod translate;
pub mod types;

use crate::codegen::{CompiledFunction, CompiledModule, ModuleEnv};
use crate::error::Result;
use crate::frontend::ParsedModule;
use crate::options::Options;
use weld_contract::component::ComponentInfo;
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
pub fn graph(bytes: &[u8]) -> Result<(ComponentInfo, inspect_graph::Graph)> {
    let t = translate::translate(bytes, crate::frontend::features())?;
    let (info, _, names) = inline::Inliner::run_with_names(&t)?;
    let g = inspect_graph::Graph::new(&info, &names);
    Ok((info, g))
}

/// Compile a component's bytes into its parts.
pub fn compile<'a>(bytes: &'a [u8], options: &Options) -> Result<CompiledComponent<'a>> {
    options.validate()?;
    let t = translate::translate(bytes, options.features()).map_err(|e| options.refine_error(e))?;
    let (info, _arena) = inline::Inliner::run(&t)?;
    let mut modules = Vec::new();
    for (i, m) in t.modules.iter().enumerate() {
        let prefix = symbols::component_module_prefix(&options.prefix, i as u32);
        let mut o = options.clone();
        o.prefix = prefix.clone();
        // Inner modules are reached through the component, never by C hosts directly.
        o.c_entry_points = false;
        let parsed = crate::frontend::parse_module_with(m, options.features())
            .map_err(|e| options.refine_error(e))?;
        let compiled =
            crate::codegen::compile_module(&parsed, &o).map_err(|e| options.refine_error(e))?;
        modules.push((parsed, compiled, prefix));
    }
    let isa = crate::codegen::build_isa(options)?;
    let empty = weld_contract::info::ModuleInfo::default();
    let env = ModuleEnv {
        info: &empty,
        offsets: VMOffsets::new(empty.counts()),
        options,
        isa: &*isa,
    };
    let mut lowerings = Vec::new();
    for i in 0..info.lowerings.len() {
        lowerings.push(trampoline::compile_lowering_trampoline(
            &env, &info, i as u32,
        )?);
    }
    Ok(CompiledComponent {
        info,
        modules,
        lowerings,
    })
}
