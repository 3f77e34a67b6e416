//! The host's calls of async exports that it does not wait for: [`ComponentInstance::start_call`]
//! starts one and hands back an [`AsyncCall`]; the host polls it (runs whatever can run, then
//! looks), waits for it (runs until it resolves) or cancels it. [`ComponentInstance::call`]
//! remains the blocking convenience: start and wait.
//!
//! In: an async export's name and argument values. Out: the call's state; its result once it
//! returned. A call that can never resolve is a deadlock trap from `wait` (`poll` just reports it
//! pending), and the host may cancel it instead: a task that has not started resolves as
//! cancelled at once; one waiting in its callback loop is told at once; any other at its next
//! cancellable wait (`cancel.rs`).

use super::tasks::Args;
use super::{bad, ComponentInstance, Inner};
use crate::component::val::Val;
use crate::store::Store;
use crate::trap::Trap;
use weld_contract::component::StringEncoding;

/// A call of an async export in progress (from [`ComponentInstance::start_call`]).
#[derive(Debug)]
pub struct AsyncCall {
    task: u32,
    serial: u64,
}

/// Where an [`AsyncCall`] is.
#[derive(Debug, Clone, PartialEq)]
pub enum CallState {
    /// Not resolved yet.
    Pending,
    /// It returned this result (`None` for a function without one).
    Returned(Option<Val>),
    /// It was cancelled before it returned.
    Cancelled,
}

impl ComponentInstance {
    /// Start a call of async export `name` with `args`: its task runs until it first blocks (or
    /// waits, under backpressure, to start). Arguments of the wrong type, or an export that is
    /// not async-lifted, trap with `InvalidValue`.
    pub fn start_call(
        &self,
        store: &mut Store,
        name: &str,
        args: &[Val],
    ) -> Result<AsyncCall, Trap> {
        let inner = &*self.inner;
        let e = inner.export_for(name, args)?;
        if !e.func.opts.async_ {
            return Err(bad());
        }
        let args = Args::Vals(args.to_vec(), StringEncoding::Utf8);
        let task = inner.in_host_call(store, |inner| {
            inner.spawn(&e.func, args, super::tasks::Sink::Keep(None))
        })?;
        let serial = inner.with_task(task, |t| t.serial)?;
        Ok(AsyncCall { task, serial })
    }

    /// Run what can run (without blocking the host), then report `call`'s state. A final
    /// state is reported once; the call is over after it.
    pub fn poll_call(&self, store: &mut Store, call: &AsyncCall) -> Result<CallState, Trap> {
        let inner = &*self.inner;
        inner.check_call(call)?;
        let id = call.task;
        inner.in_host_call(store, |inner| {
            inner.run_ready(&|i: &Inner| i.task_resolved(id))?;
            inner.call_state(id)
        })
    }

    /// Run until `call` resolves: its final state (never [`CallState::Pending`]). A call that
    /// can never resolve traps with `AsyncDeadlock`.
    pub fn wait_call(&self, store: &mut Store, call: AsyncCall) -> Result<CallState, Trap> {
        let inner = &*self.inner;
        inner.check_call(&call)?;
        let id = call.task;
        inner.in_host_call(store, |inner| {
            inner.run_until(&|i: &Inner| i.task_resolved(id))?;
            inner.call_state(id)
        })
    }

    /// Ask `call`'s task to stop; its state after the request (still pending when the task
    /// learns of it only at its next cancellable wait: poll or wait for it then).
    pub fn cancel_call(&self, store: &mut Store, call: &AsyncCall) -> Result<CallState, Trap> {
        let inner = &*self.inner;
        inner.check_call(call)?;
        let id = call.task;
        inner.in_host_call(store, |inner| {
            if !inner.task_resolved(id) {
                inner.request_cancellation(id)?;
            }
            inner.call_state(id)
        })
    }
}

impl Inner {
    /// Run `f` as an entry from the host with `store`.
    fn in_host_call<T>(
        &self,
        store: &mut Store,
        f: impl FnOnce(&Inner) -> Result<T, Trap>,
    ) -> Result<T, Trap> {
        self.check_store(store)?;
        let saved = self.store.replace(store);
        let depth = self.depth();
        let r = f(self);
        self.store.set(saved);
        self.unwind_to(depth);
        r
    }

    /// `call` still names the task it started (task ids are reused once a call is over).
    fn check_call(&self, call: &AsyncCall) -> Result<(), Trap> {
        let same = self
            .with_task(call.task, |t| t.serial == call.serial)
            .unwrap_or(false);
        if same {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Task `id`'s state for its host caller; a final state ends the call.
    fn call_state(&self, id: u32) -> Result<CallState, Trap> {
        if !self.task_resolved(id) {
            return Ok(CallState::Pending);
        }
        let cancelled = self.with_task(id, |t| t.cancelled)?;
        let results = self.take_kept(id)?;
        Ok(match (cancelled, results) {
            (true, _) => CallState::Cancelled,
            (false, Some(r)) => CallState::Returned(r.into_iter().next()),
            (false, None) => return Err(bad()),
        })
    }
}
