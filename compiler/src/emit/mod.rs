//! Object emission (stub).
use crate::codegen::CompiledModule;
use crate::error::Result;
use crate::frontend::ParsedModule;
use crate::options::Options;
/// Write the object.
pub fn write_object(_p: &ParsedModule<'_>, _c: &CompiledModule, _o: &Options) -> Result<Vec<u8>> {
    Ok(vec![])
}
