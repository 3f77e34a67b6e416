//! Cancellation: `subtask.cancel` asks a callee task to stop; the task learns it at a
//! cancellable wait (its callback loop's `WAIT` or `YIELD`) as a `TASK_CANCELLED` event and
//! answers with `task.cancel` (or returns anyway).
//!
//! In: the caller's subtask handle, or the current task. Out: a task that never started is
//! resolved as cancelled at once (its arguments never read); one waiting in its callback loop
//! is resumed right away with the event (when its instance can be entered); any other keeps
//! the request pending until its next cancellable wait. `subtask.cancel` then reports the
//! subtask's final state, `BLOCKED` (async) or waits for it (sync).

use super::tasks::Phase;
use super::{bad, trap, Inner};
use crate::component::table::Entry;
use crate::trap::Trap;
use alloc::rc::Rc;
use weld_contract::component::concurrency::{Event, SubtaskState, BLOCKED};
use weld_contract::trap::TrapCode;

/// Where a task's cancellation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cancel {
    /// Not requested.
    None,
    /// Requested, to be delivered at the task's next cancellable wait.
    Pending,
    /// Requested while the task waited cancellably: its wait ends with the event.
    Delivering,
    /// The task was told: it may `task.cancel`.
    Delivered,
}

impl Inner {
    /// `subtask.cancel` (`async_` from its options) of subtask `i` of `inst`.
    pub(super) fn subtask_cancel(&self, inst: u32, i: u32, async_: bool) -> Result<u32, Trap> {
        let (resolved, task) = {
            let mut st = self.state()?;
            let s = match st.inst(inst)?.table.get_mut(i)? {
                Entry::Subtask(s) => s,
                _ => return Err(trap(TrapCode::WrongHandleKind)),
            };
            if s.delivered {
                return Err(trap(TrapCode::TaskAlreadyReturned));
            }
            if s.cancel_requested {
                return Err(trap(TrapCode::CancelRequestedTwice));
            }
            if s.waitable.set.is_some() && !async_ {
                return Err(trap(TrapCode::WaitableInSet));
            }
            s.cancel_requested = true;
            (s.state.resolved(), s.task)
        };
        if !resolved {
            self.request_cancellation(task)?;
        }
        if !self.subtask_resolved(inst, i)? {
            if async_ {
                return Ok(BLOCKED);
            }
            self.block_until(Rc::new(move |inner: &Inner| {
                inner.subtask_resolved(inst, i).unwrap_or(true)
            }))?;
        }
        Ok(self.state()?.deliver(inst, i)?.p2)
    }

    fn subtask_resolved(&self, inst: u32, i: u32) -> Result<bool, Trap> {
        match self.state()?.inst(inst)?.table.get(i)? {
            Entry::Subtask(s) => Ok(s.state.resolved()),
            _ => Err(bad()),
        }
    }

    /// Ask task `id` to stop (the spec's `Task.request_cancellation`).
    pub(super) fn request_cancellation(&self, id: u32) -> Result<(), Trap> {
        let (phase, fiber) = self.with_task(id, |t| (t.phase, t.loop_fiber))?;
        match (phase, fiber) {
            (Phase::Starting, _) => self.cancel_unstarted(id),
            (Phase::Exited, _) => Ok(()),
            (Phase::Running, Some(k)) => {
                self.with_task(id, |t| t.cancel = Cancel::Delivering)?;
                if self.fiber_ready(k) {
                    self.resume_fiber(k)?;
                }
                Ok(())
            }
            (Phase::Running, None) => self.with_task(id, |t| t.cancel = Cancel::Pending),
        }
    }

    /// A task backpressure kept from starting resolves as cancelled: none of its code ran and
    /// its arguments were never read.
    fn cancel_unstarted(&self, id: u32) -> Result<(), Trap> {
        let loans = self.with_task(id, |t| {
            t.resolved = true;
            t.phase = Phase::Exited;
            t.args = None;
            core::mem::take(&mut t.loans)
        })?;
        self.state()?.end_loans(&loans);
        self.subtask_progress(id, SubtaskState::CancelledBeforeStarted)?;
        // A host's call keeps its record until the host learns the outcome.
        if self.with_task(id, |t| {
            t.cancelled = true;
            !matches!(t.sink, super::tasks::Sink::Keep(_))
        })? {
            self.free_task(id);
        }
        Ok(())
    }

    /// Whether task `id`'s cancellable wait should end with the cancellation now.
    pub(super) fn cancel_now(&self, id: u32) -> bool {
        self.with_task(id, |t| t.cancel == Cancel::Delivering)
            .unwrap_or(false)
    }

    /// At a cancellable wait of task `id`: whether a cancellation is to be delivered (it then
    /// counts as delivered).
    pub(super) fn take_cancel(&self, id: u32) -> Result<bool, Trap> {
        self.with_task(id, |t| {
            let due = matches!(t.cancel, Cancel::Pending | Cancel::Delivering);
            if due {
                t.cancel = Cancel::Delivered;
            }
            due
        })
    }

    /// `task.cancel`: the current task, told of its cancellation, resolves without a value.
    pub(super) fn task_cancel(&self) -> Result<(), Trap> {
        let id = self
            .tasks
            .borrow()
            .last()
            .and_then(|t| t.task)
            .ok_or(trap(TrapCode::CancelNotDelivered))?;
        let (async_lift, cancel, resolved, inst) = self.with_task(id, |t| {
            (t.f.opts.async_, t.cancel, t.resolved, t.f.opts.instance)
        })?;
        if !async_lift || cancel != Cancel::Delivered {
            return Err(trap(TrapCode::CancelNotDelivered));
        }
        if resolved {
            return Err(trap(TrapCode::TaskAlreadyReturned));
        }
        self.state()?.finish_scope(super::tasks::scope(id))?;
        let loans = self.with_task(id, |t| {
            t.resolved = true;
            t.cancelled = true;
            core::mem::take(&mut t.loans)
        })?;
        self.hold_exclusive(inst, id, false)?;
        self.state()?.end_loans(&loans);
        self.subtask_progress(id, SubtaskState::CancelledBeforeReturned)
    }

    /// One wait of task `id`'s callback loop (cancellable): for an event of set `set`, or a
    /// yield; the event to call back with.
    pub(super) fn loop_wait(&self, id: u32, inst: u32, set: Option<u32>) -> Result<Event, Trap> {
        if self.take_cancel(id)? {
            return Ok(Event::TASK_CANCELLED);
        }
        if let Some(si) = set {
            self.state()?.set_waiting(inst, si, true)?;
        }
        let fiber = self.current_fiber.get();
        self.with_task(id, |t| t.loop_fiber = fiber)?;
        let r = self.block_until(Rc::new(move |i: &Inner| {
            // Told of a cancellation or not, the task is called back only while nobody holds
            // its instance's lock.
            i.may_call_back(inst)
                && (i.cancel_now(id) || set.is_none_or(|si| i.set_has_event(inst, si)))
        }));
        self.with_task(id, |t| t.loop_fiber = None)?;
        if let Some(si) = set {
            self.state()?.set_waiting(inst, si, false)?;
        }
        r?;
        if self.take_cancel(id)? {
            return Ok(Event::TASK_CANCELLED);
        }
        let Some(si) = set else {
            return Ok(Event::NONE);
        };
        let mut st = self.state()?;
        let w = st.set_ready(inst, si)?.ok_or_else(bad)?;
        st.deliver(inst, w)
    }

    /// Whether set `si` of `inst` has an event to deliver.
    pub(super) fn set_has_event(&self, inst: u32, si: u32) -> bool {
        self.state()
            .ok()
            .and_then(|mut st| st.set_ready(inst, si).ok().flatten())
            .is_some()
    }
}
