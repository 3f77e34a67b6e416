//! Calls into a component from a C host through its compiled host entries.
//!
//! In: an export index and the C host's argument pointers and result pointer, in the C layout
//! of the generated header. Out: the result written in that layout, or the trap. The work is
//! all in the export's generated adapter (`ComponentExport::host_entry`): it reads each
//! argument through the host's address space (`CoreDef::HostMemory`), lowers it into the
//! component, calls, and lifts the result straight into the host's memory, with the same
//! checks, flags and post-return as a fused call. The runtime only finds the adapter and
//! enters it; no [`super::Val`] is made.

use super::{bad, ComponentInstance, Inner};
use crate::func::Func;
use crate::store::Store;
use crate::trap::Trap;
use weld_contract::component::CoreDef;
use weld_contract::info::{FuncType, ValType};
use weld_contract::vmctx::ValRaw;

impl ComponentInstance {
    /// Whether export `index` has a compiled host entry ([`Self::call_host_entry`]).
    pub fn has_host_entry(&self, index: usize) -> bool {
        let info = self.inner.info();
        info.exports
            .get(index)
            .is_some_and(|e| e.host_entry.is_some())
    }

    /// Call export `index` through its compiled host entry: `args` is the address of an array
    /// of one pointer per parameter (each to the argument in the header's C layout), `ret` the
    /// address the result is written to (strings and lists `malloc`ed for the caller to free).
    /// `Ok(false)` when the export has no host entry.
    ///
    /// # Safety
    /// `args` must point at one pointer per parameter, each to a valid C value of that
    /// parameter's type; `ret` must be writable for the result's C type when there is one.
    /// None of them may be used by anything else during the call. The header's C layout must
    /// be this host's (8-byte pointers).
    pub unsafe fn call_host_entry(
        &self,
        store: &mut Store,
        index: usize,
        args: *const *const u8,
        ret: *mut u8,
    ) -> Result<bool, Trap> {
        let inner = &*self.inner;
        let Some(func) = inner.host_entry_func(store, index)? else {
            return Ok(false);
        };
        let mut slots = [
            ValRaw::i64(args.expose_provenance() as i64),
            ValRaw::i64(ret.expose_provenance() as i64),
        ];
        inner.check_store(store)?;
        let saved = inner.store.replace(store);
        let result = inner.with_scratch_reset(|| func.call_in_place(store, &mut slots));
        inner.store.set(saved);
        result.map(|()| true)
    }
}

impl Inner {
    /// Export `index`'s host entry, if it has one: found and type-checked on the first call,
    /// then kept.
    fn host_entry_func(&self, store: &Store, index: usize) -> Result<Option<Func>, Trap> {
        if let Some(Some(f)) = self.host_entry_funcs.borrow().get(index) {
            return Ok(Some(*f));
        }
        let Some(instance) = self.info().exports.get(index).and_then(|e| e.host_entry) else {
            return Ok(None);
        };
        let def = CoreDef::Export {
            instance,
            name: weld_contract::component::ADAPTER_EXPORT.into(),
        };
        let func = self.func(store, &def)?;
        let want = FuncType {
            params: alloc::vec![ValType::I64; 2],
            results: alloc::vec![],
        };
        if core::mem::size_of::<usize>() != 8 || func.ty(store) != want {
            return Err(bad());
        }
        if let Some(slot) = self.host_entry_funcs.borrow_mut().get_mut(index) {
            *slot = Some(func);
        }
        Ok(Some(func))
    }
}
