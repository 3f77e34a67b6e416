//! weld: an ahead-of-time compiler from WebAssembly to one native object.
//!
//! The data flow, one module per stage:
//! `frontend` (parse + validate) → `codegen` (wasm → CLIF → machine code) → `emit` (one object
//! file with the module descriptor and C entry points; or its C header) → `link` (the system
//! `cc` into a shared library or executable, `ar` into a static library). `wast` drives `.wast`
//! scripts through the same pipeline.

pub mod adapter;
pub mod codegen;
pub mod component;
pub mod emit;
pub mod error;
pub mod frontend;
pub mod inspect;
pub mod link;
pub mod options;
pub mod policy;
pub mod preview1;
pub mod progress;
pub mod run;
pub mod timings;
pub mod wast;

pub use error::{Error, Result};

/// For unit tests: the binary of a module or component in the text format.
#[cfg(test)]
pub(crate) fn wat(src: &str) -> Vec<u8> {
    let buf = ::wast::parser::ParseBuffer::new(src).expect("lex");
    let mut w: ::wast::Wat = ::wast::parser::parse(&buf).expect("parse");
    w.encode().expect("encode")
}
pub use options::{Arch, BoundsChecks, Cpu, OptLevel, Options, RelaxedSimd, Target};

/// Compile `bytes`, a core module or a component, to the bytes of one relocatable object file.
pub fn compile(bytes: &[u8], options: &Options) -> Result<Vec<u8>> {
    if frontend::is_component(bytes) {
        compile_component(bytes, options)
    } else {
        compile_module(bytes, options)
    }
}

/// Compile a component's bytes to the bytes of one relocatable object file.
pub fn compile_component(bytes: &[u8], options: &Options) -> Result<Vec<u8>> {
    let adapters = component::AdapterBytes::default();
    let compiled = component::compile(bytes, &adapters, options)?;
    timings::phase("emit", || {
        emit::component::write_component(&compiled, options)
    })
}

/// [`compile_component`] for an executable: the object also defines `main`, which runs the
/// command component through the runtime's `weld_main_flags` with `flags`
/// (`weld_runtime::wasi::main::MAIN_*`).
pub fn compile_component_exe(bytes: &[u8], options: &Options, flags: u32) -> Result<Vec<u8>> {
    let adapters = component::AdapterBytes::default();
    let compiled = component::compile(bytes, &adapters, options)?;
    let main = codegen::compile_exe_main(options, flags)?;
    timings::phase("emit", || {
        emit::component::write_component_with_main(&compiled, options, Some(&main))
    })
}

/// Compile a core module's bytes to the bytes of one relocatable object file.
pub fn compile_module(bytes: &[u8], options: &Options) -> Result<Vec<u8>> {
    let parsed = frontend::parse_module_with(bytes, options.features())
        .map_err(|e| options.refine_error(e))?;
    // Function bodies are validated while they are compiled.
    let compiled =
        codegen::compile_module(&parsed, options).map_err(|e| options.refine_error(e))?;
    emit::write_object(&parsed, &compiled, options)
}

/// Parse and validate a core module, for what only its description needs (`--emit header`, the
/// entry of `--emit exe`).
pub fn module_info(bytes: &[u8]) -> Result<weld_contract::info::ModuleInfo> {
    Ok(frontend::parse_module(bytes)?.info)
}
