//! Resource handles in each component instance's handle table ([`super::table`]), with the
//! Canonical ABI's rules
//! (`HandleTable`, `lift_own`/`lift_borrow`/`lower_own`/`lower_borrow`, `resource.new/rep/drop`):
//!
//! - index 0 is never a valid handle; freed slots are reused last-freed first;
//! - an own handle lent to a call (`lift_borrow`) cannot be moved or dropped until the call
//!   returns ("cannot remove owned resource while borrowed");
//! - a borrow handle given to a call counts against that call, which must drop it before it
//!   returns ("borrow handles still remain at the end of the call");
//! - lowering a borrow into the instance that defines the resource passes the rep itself.
//!
//! The per-instance `may_enter` / `may_leave` flags live here too: they are the other half of
//! the per-instance state the Canonical ABI keeps.

use crate::trap::Trap;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::component::concurrency::BACKPRESSURE_LIMIT;
use weld_contract::trap::TrapCode;

use super::table::Entry;
pub use super::table::{Handle, HandleTable};

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

/// One flag in a cell shaped like a `VMGlobal` (the value at offset 0 of 16 bytes), so that
/// generated adapters import it as a mutable `i32` global.
#[repr(C, align(16))]
#[derive(Debug)]
struct FlagCell {
    value: core::cell::Cell<u32>,
    _rest: [u32; 3],
}

impl FlagCell {
    fn new() -> FlagCell {
        FlagCell {
            value: core::cell::Cell::new(1),
            _rest: [0; 3],
        }
    }
}

/// `may_enter`/`may_leave` at a stable heap address: generated adapters read and write them
/// as imported globals (layout: `weld_contract::component::descriptor::VMComponentFlags`).
#[repr(C)]
#[derive(Debug)]
pub struct Flags {
    may_enter: FlagCell,
    may_leave: FlagCell,
}

/// The Canonical ABI state of one component instance.
#[derive(Debug)]
pub struct InstanceState {
    /// `may_enter` (not already on the stack, not poisoned) and `may_leave` (false during
    /// post-return and adapter reallocs).
    flags: alloc::boxed::Box<Flags>,
    /// Its handles.
    pub table: HandleTable,
    /// Its threads (`thread.index` values): `Entry::Thread` only.
    pub threads: HandleTable,
    /// Borrow handles received by its current call and not dropped yet.
    pub borrows: u32,
    /// The `backpressure.inc/dec` counter (no effect on synchronous calls).
    pub backpressure: u32,
    /// The async task holding the instance's exclusive lock (`exclusive_thread` in the spec):
    /// a sync-lifted or callback-lifted task of an async type from its start to its exit,
    /// except while a callback task waits between callbacks.
    pub exclusive: Option<u32>,
}

impl InstanceState {
    /// Whether the instance may be entered.
    pub fn may_enter(&self) -> bool {
        self.flags.may_enter.value.get() != 0
    }
    /// Set `may_enter`.
    pub fn set_may_enter(&self, v: bool) {
        self.flags.may_enter.value.set(v as u32);
    }
    /// Whether the instance may call out.
    pub fn may_leave(&self) -> bool {
        self.flags.may_leave.value.get() != 0
    }
    /// Set `may_leave`.
    pub fn set_may_leave(&self, v: bool) {
        self.flags.may_leave.value.set(v as u32);
    }
    /// The storage of one flag, for the global an adapter imports (valid as long as this
    /// state lives; compiled code writes it through this pointer).
    pub fn flag_ptr(&self, flag: weld_contract::component::ComponentFlag) -> *mut u8 {
        let cell = match flag {
            weld_contract::component::ComponentFlag::MayEnter => &self.flags.may_enter,
            weld_contract::component::ComponentFlag::MayLeave => &self.flags.may_leave,
        };
        cell.value.as_ptr() as *mut u8
    }
}

impl Clone for InstanceState {
    /// A copy with flags of its own.
    fn clone(&self) -> Self {
        let s = InstanceState {
            table: self.table.clone(),
            threads: self.threads.clone(),
            borrows: self.borrows,
            backpressure: self.backpressure,
            exclusive: self.exclusive,
            ..InstanceState::default()
        };
        s.set_may_enter(self.may_enter());
        s.set_may_leave(self.may_leave());
        s
    }
}

impl Default for InstanceState {
    fn default() -> Self {
        InstanceState {
            flags: alloc::boxed::Box::new(Flags {
                may_enter: FlagCell::new(),
                may_leave: FlagCell::new(),
            }),
            table: HandleTable::default(),
            threads: HandleTable::default(),
            borrows: 0,
            backpressure: 0,
            exclusive: None,
        }
    }
}

/// Handle tables and flags of every component instance, plus which instance defines each
/// resource type.
#[derive(Clone, Debug, Default)]
pub struct ResourceState {
    /// Per component instance.
    pub instances: Vec<InstanceState>,
    /// Defining instance per resource type.
    pub defined_by: Vec<u32>,
    /// Streams, futures and error contexts (what table entries of several instances share).
    pub async_: super::concurrency::AsyncState,
    /// Live borrow handles per async task scope (`Handle::scope`).
    pub scoped_borrows: alloc::collections::BTreeMap<u32, u32>,
}

/// An own handle lent for the duration of a call: `(instance, handle index)`.
pub type Loan = (u32, u32);

impl ResourceState {
    /// State for `instances` component instances and resources defined by `defined_by`.
    pub fn new(instances: u32, defined_by: Vec<u32>) -> ResourceState {
        ResourceState {
            instances: vec![InstanceState::default(); instances as usize],
            defined_by,
            async_: Default::default(),
            scoped_borrows: Default::default(),
        }
    }

    /// Instance `i`.
    pub fn inst(&mut self, i: u32) -> Result<&mut InstanceState, Trap> {
        self.instances
            .get_mut(i as usize)
            .ok_or(trap(TrapCode::InvalidValue))
    }

    fn check_leave(&mut self, inst: u32) -> Result<&mut InstanceState, Trap> {
        let st = self.inst(inst)?;
        if !st.may_leave() {
            return Err(trap(TrapCode::CannotLeaveComponent));
        }
        Ok(st)
    }

    /// `canon resource.new`.
    pub fn resource_new(&mut self, inst: u32, resource: u32, rep: u32) -> Result<u32, Trap> {
        let h = Handle {
            resource,
            rep,
            own: true,
            lends: 0,
            scope: 0,
        };
        self.check_leave(inst)?.table.add(Entry::Resource(h))
    }

    /// `canon resource.rep`.
    pub fn resource_rep(&mut self, inst: u32, resource: u32, i: u32) -> Result<u32, Trap> {
        Ok(self.inst(inst)?.table.resource(i, resource)?.rep)
    }

    /// `canon resource.drop`: the rep whose destructor must run (for an own handle), if any.
    pub fn resource_drop(&mut self, inst: u32, resource: u32, i: u32) -> Result<Option<u32>, Trap> {
        let st = self.check_leave(inst)?;
        let h = st.table.remove_resource(i, resource)?;
        if h.own {
            return Ok(Some(h.rep));
        }
        if h.scope == 0 {
            st.borrows = st.borrows.saturating_sub(1);
        } else if let Some(n) = self.scoped_borrows.get_mut(&h.scope) {
            *n = n.saturating_sub(1);
        }
        Ok(None)
    }

    /// `lift_own`: move own handle `i` out of `inst`'s table.
    pub fn lift_own(&mut self, inst: u32, resource: u32, i: u32) -> Result<u32, Trap> {
        let table = &mut self.inst(inst)?.table;
        let h = table.resource(i, resource)?;
        if h.lends != 0 {
            return Err(trap(TrapCode::OwnedResourceBorrowed));
        }
        if !h.own {
            return Err(trap(TrapCode::UnknownHandle));
        }
        table.remove_resource(i, resource)?;
        Ok(h.rep)
    }

    /// `lift_borrow`: lend handle `i` for the current call (own handles only are counted).
    pub fn lift_borrow(
        &mut self,
        inst: u32,
        resource: u32,
        i: u32,
        loans: &mut Vec<Loan>,
    ) -> Result<u32, Trap> {
        let table = &mut self.inst(inst)?.table;
        let h = table.resource(i, resource)?;
        if h.own {
            table.resource_mut(i)?.lends += 1;
            loans.push((inst, i));
        }
        Ok(h.rep)
    }

    /// `lower_own`: a new own handle in `inst`.
    pub fn lower_own(&mut self, inst: u32, resource: u32, rep: u32) -> Result<u32, Trap> {
        let h = Handle {
            resource,
            rep,
            own: true,
            lends: 0,
            scope: 0,
        };
        self.inst(inst)?.table.add(Entry::Resource(h))
    }

    /// `lower_borrow`: the rep itself in the defining instance, else a borrow handle scoped to
    /// `inst`'s current synchronous call.
    pub fn lower_borrow(&mut self, inst: u32, resource: u32, rep: u32) -> Result<u32, Trap> {
        self.lower_borrow_in(inst, resource, rep, 0)
    }

    /// `lower_borrow` for the call `scope` (0: `inst`'s current synchronous call; else an
    /// async task's, see [`ResourceState::finish_scope`]).
    pub fn lower_borrow_in(
        &mut self,
        inst: u32,
        resource: u32,
        rep: u32,
        scope: u32,
    ) -> Result<u32, Trap> {
        if self.defined_by.get(resource as usize) == Some(&inst) {
            return Ok(rep);
        }
        let st = self.inst(inst)?;
        let i = st.table.add(Entry::Resource(Handle {
            resource,
            rep,
            own: false,
            lends: 0,
            scope,
        }))?;
        if scope == 0 {
            st.borrows += 1;
        } else {
            *self.scoped_borrows.entry(scope).or_insert(0) += 1;
        }
        Ok(i)
    }

    /// At the end of an async task's call `scope`: every borrow it received must have been
    /// dropped.
    pub fn finish_scope(&mut self, scope: u32) -> Result<(), Trap> {
        match self.scoped_borrows.remove(&scope) {
            Some(n) if n > 0 => Err(trap(TrapCode::BorrowsRemain)),
            _ => Ok(()),
        }
    }

    /// End the loans of a finished call.
    pub fn end_loans(&mut self, loans: &[Loan]) {
        for (inst, i) in loans {
            if let Some(h) = self
                .instances
                .get_mut(*inst as usize)
                .and_then(|st| st.table.resource_mut(*i).ok())
            {
                h.lends = h.lends.saturating_sub(1);
            }
        }
    }

    /// `canon backpressure.inc` (`up`) or `.dec`: the counter stays below
    /// [`BACKPRESSURE_LIMIT`] and at or above 0.
    pub fn backpressure(&mut self, inst: u32, up: bool) -> Result<(), Trap> {
        let st = self.inst(inst)?;
        let n = if up {
            st.backpressure
                .checked_add(1)
                .filter(|n| *n < BACKPRESSURE_LIMIT)
        } else {
            st.backpressure.checked_sub(1)
        };
        st.backpressure = n.ok_or(trap(TrapCode::BackpressureOutOfRange))?;
        Ok(())
    }

    /// At the end of a call into `inst`: every borrow it received must have been dropped.
    pub fn finish_call(&mut self, inst: u32) -> Result<(), Trap> {
        let st = self.inst(inst)?;
        if st.borrows != 0 {
            return Err(trap(TrapCode::BorrowsRemain));
        }
        Ok(())
    }
}

#[cfg(test)]
mod layout_tests {
    use super::{FlagCell, Flags};
    use core::mem::{align_of, offset_of, size_of};
    use weld_contract::component::descriptor::{
        VMComponentFlags, FLAGS_MAY_ENTER, FLAGS_MAY_LEAVE,
    };
    use weld_contract::vmctx::VMGlobal;

    #[test]
    fn flag_cells_have_the_layout_adapters_import_as_globals() {
        assert_eq!(size_of::<Flags>(), size_of::<VMComponentFlags>());
        assert_eq!(offset_of!(Flags, may_enter) as u32, FLAGS_MAY_ENTER);
        assert_eq!(offset_of!(Flags, may_leave) as u32, FLAGS_MAY_LEAVE);
        assert_eq!(align_of::<FlagCell>(), align_of::<VMGlobal>());
        assert_eq!(size_of::<FlagCell>(), size_of::<VMGlobal>());
    }
}
