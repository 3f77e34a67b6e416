//! Fixed-width SIMD operators (v128).

use super::func::Translator;
use crate::error::Result;
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// SIMD operators; `Ok(false)` if `op` is not one.
    pub(crate) fn simd(&mut self, _op: &Operator<'_>) -> Result<bool> {
        Ok(false)
    }
}
