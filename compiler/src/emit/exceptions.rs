//! The exception table of a module's descriptor: every call with exception handlers, sorted by
//! return address, and the handlers they point into (`weld_contract::descriptor::VMCallSite`,
//! `VMHandler`).
//!
//! In: each defined function's call sites (offsets in the function) and where the function was
//! placed in the module's code. Out: the two tables' bytes, offsets relative to the module's
//! code, as the runtime's unwinder reads them.

use crate::codegen::CompiledFunction;
use crate::error::{Error, Result};

/// The call-site and handler tables, encoded, with their entry counts.
pub struct ExceptionTable {
    /// `VMCallSite` entries.
    pub sites: Vec<u8>,
    /// Number of call sites.
    pub sites_len: usize,
    /// `VMHandler` entries.
    pub handlers: Vec<u8>,
    /// Number of handlers.
    pub handlers_len: usize,
}

/// Build the table from the defined functions and their offsets in the module's code.
pub fn build(funcs: &[CompiledFunction], placed_at: &[u64]) -> Result<ExceptionTable> {
    let offset = |at: u64, off: u32| {
        u32::try_from(at + u64::from(off)).map_err(|_| Error::Limit {
            message: "a module with more than 4 GiB of code".into(),
        })
    };
    let mut sites = Vec::new();
    let mut handlers = Vec::new();
    for (f, at) in funcs.iter().zip(placed_at) {
        for cs in &f.call_sites {
            let start = handlers.len() as u32;
            for (tag, target) in &cs.handlers {
                handlers.push((*tag, offset(*at, *target)?));
            }
            let fields = [
                offset(*at, cs.ret)?,
                cs.frame_offset,
                cs.vmctx_sp_offset,
                start,
                cs.handlers.len() as u32,
            ];
            sites.push(fields);
        }
    }
    // Functions are placed in order, but sort anyway: the runtime searches by return address.
    sites.sort_unstable_by_key(|s| s[0]);
    let words = |v: &mut Vec<u8>, ws: &[u32]| ws.iter().for_each(|w| v.extend(w.to_le_bytes()));
    let mut table = ExceptionTable {
        sites: Vec::new(),
        sites_len: sites.len(),
        handlers: Vec::new(),
        handlers_len: handlers.len(),
    };
    for s in &sites {
        words(&mut table.sites, s);
    }
    for (tag, target) in &handlers {
        words(&mut table.handlers, &[*tag, *target]);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::CallSite;

    #[test]
    fn call_sites_are_placed_with_their_function_and_handlers_are_numbered_in_order() {
        let f = |ret, tags: &[u32]| CompiledFunction {
            call_sites: vec![CallSite {
                ret,
                frame_offset: 32,
                vmctx_sp_offset: 8,
                handlers: tags.iter().map(|t| (*t, ret + 10)).collect(),
            }],
            ..CompiledFunction::default()
        };
        let t =
            build(&[f(4, &[1, 2]), f(6, &[u32::MAX])], &[0, 64]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.sites_len, t.handlers_len), (2, 3));
        let w = |b: &[u8], i: usize| {
            u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
        };
        assert_eq!((w(&t.sites, 0), w(&t.sites, 3), w(&t.sites, 4)), (4, 0, 2));
        assert_eq!((w(&t.sites, 5), w(&t.sites, 8), w(&t.sites, 9)), (70, 2, 1));
        assert_eq!((w(&t.handlers, 4), w(&t.handlers, 5)), (u32::MAX, 80));
    }
}
