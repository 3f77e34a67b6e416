//! The handle operations of generated adapters ([`HandleOp`]) for fused calls that pass
//! resource handles.
//!
//! In: an operation, the lowering it serves (whose options name the caller and callee
//! component instances) and the resource type. Out: a host function the adapter imports. Each
//! runs the same [`ResourceState`](crate::component::resources::ResourceState) steps as the
//! generic path — an own handle leaves one table and enters the other, a borrow is lent for the
//! call and counted in the callee, whose borrows must all be dropped when it returns — with the
//! same traps. Loans of the calls in progress are kept as a stack of frames, one per call
//! (`BeginCall` … `EndCall`); a trap leaves its frames behind, and the host entry that caught
//! it drops them ([`Inner::unwind_to`]).

use super::{bad, raise_on_err, Inner, Loan};
use crate::func::Func;
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::vec::Vec;
use weld_contract::component::{HandleOp, LoweringTarget};
use weld_contract::info::{FuncType, ValType};

/// The context of one handle operation.
#[derive(Debug)]
pub(super) struct HandleCtx {
    inner: *const Inner,
    op: HandleOp,
    lowering: u32,
    resource: u32,
}

/// The contexts of an instance's handle operations. Boxed: compiled code keeps their addresses.
pub(super) type HandleCtxs = Vec<Box<HandleCtx>>;

/// The loans of each fused call with handles in progress, innermost last.
pub(super) type LoanFrames = Vec<Vec<Loan>>;

impl Inner {
    /// The host function behind handle operation `op` of lowering `lowering` on `resource`.
    pub(super) fn handle_func(
        &self,
        store: &mut Store,
        op: HandleOp,
        lowering: u32,
        resource: u32,
    ) -> Func {
        let mut ctx = Box::new(HandleCtx {
            inner: self,
            op,
            lowering,
            resource,
        });
        let ptr = &mut *ctx as *mut HandleCtx as *mut u8;
        self.handle_ctxs.borrow_mut().push(ctx);
        let n = usize::from(op.maps_handle());
        let ty = FuncType {
            params: alloc::vec![ValType::I32; n],
            results: alloc::vec![ValType::I32; n],
        };
        let code = if op.maps_handle() {
            map_handle as *const u8
        } else {
            bracket as *const u8
        };
        // SAFETY: `code` is `extern "C" fn(ctx, i32) -> i32` for the mapping operations and
        // `extern "C" fn(ctx)` for the others, matching `ty`; `ptr` is a `HandleCtx` living as
        // long as the (leaked) shared state.
        unsafe { Func::host(store, ty, code, ptr) }
    }

    /// Run operation `op` (see [`HandleOp`]); the new handle for the mapping ones, else 0.
    fn handle_op(&self, op: HandleOp, lowering: u32, resource: u32, h: u32) -> Result<u32, Trap> {
        let l = self
            .info()
            .lowerings
            .get(lowering as usize)
            .ok_or_else(bad)?;
        let LoweringTarget::Lifted(f) = &l.target else {
            return Err(bad());
        };
        let (caller, callee) = (l.opts.instance, f.opts.instance);
        match op {
            HandleOp::BeginCall => self.loan_frames.borrow_mut().push(Vec::new()),
            HandleOp::OwnIn | HandleOp::OwnOut => {
                let (from, to) = if op == HandleOp::OwnIn {
                    (caller, callee)
                } else {
                    (callee, caller)
                };
                let mut st = self.state()?;
                let rep = st.lift_own(from, resource, h)?;
                return st.lower_own(to, resource, rep);
            }
            HandleOp::BorrowIn => {
                let mut st = self.state()?;
                let mut frames = self.loan_frames.borrow_mut();
                let loans = frames.last_mut().ok_or_else(bad)?;
                let rep = st.lift_borrow(caller, resource, h, loans)?;
                return st.lower_borrow(callee, resource, rep);
            }
            HandleOp::FinishCall => self.state()?.finish_call(callee)?,
            HandleOp::EndCall => {
                let loans = self.loan_frames.borrow_mut().pop().unwrap_or_default();
                self.state()?.end_loans(&loans);
            }
        }
        Ok(0)
    }

    /// How deep the per-call stacks are, for [`Inner::unwind_to`].
    pub(super) fn depth(&self) -> (usize, usize) {
        (self.tasks.borrow().len(), self.loan_frames.borrow().len())
    }

    /// Drop what calls unwound by a trap left on the per-call stacks.
    pub(super) fn unwind_to(&self, depth: (usize, usize)) {
        self.tasks.borrow_mut().truncate(depth.0);
        self.loan_frames.borrow_mut().truncate(depth.1);
    }
}

/// # Safety
/// `ctx` must be a registered `HandleCtx`.
unsafe fn context(ctx: *mut u8) -> (&'static Inner, HandleOp, u32, u32) {
    // SAFETY: the caller passes a live `HandleCtx`, whose `inner` is leaked.
    unsafe {
        let c = &*(ctx as *const HandleCtx);
        (&*c.inner, c.op, c.lowering, c.resource)
    }
}

/// `OwnIn`, `BorrowIn`, `OwnOut`.
extern "C" fn map_handle(ctx: *mut u8, h: i32) -> i32 {
    // SAFETY: registered with a `HandleCtx` in `handle_func`.
    let (inner, op, lowering, resource) = unsafe { context(ctx) };
    raise_on_err(inner.handle_op(op, lowering, resource, h as u32)) as i32
}

/// `BeginCall`, `FinishCall`, `EndCall`.
extern "C" fn bracket(ctx: *mut u8) {
    // SAFETY: registered with a `HandleCtx` in `handle_func`.
    let (inner, op, lowering, resource) = unsafe { context(ctx) };
    raise_on_err(inner.handle_op(op, lowering, resource, 0).map(|_| ()))
}
