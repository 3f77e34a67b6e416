//! The fibers async tasks run on: a pool per component instance, starting a job on one,
//! blocking the current fiber until a condition holds and resuming it (`crate::fiber` does the
//! switching).
//!
//! In: a task's job (`tasks.rs`), or a condition the running code must wait for. Out: on a
//! fiber, [`Inner::block_until`] suspends it, taking along the task frames it pushed since it
//! was resumed and leaving the component instances those frames entered (the spec leaves an
//! instance whenever its thread blocks); the event loop resumes it once the condition holds and
//! those instances may be entered again. On the stack of a host call, where nothing else could
//! go on meanwhile, it runs the event loop right there until the condition holds.

use super::async_builtins::TaskFrame;
use super::{bad, trap, Inner};
use crate::fiber::{Fiber, Job, Resumed, RUNTIME_MARGIN};
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use weld_contract::trap::TrapCode;

/// A condition a blocked fiber waits for.
pub(super) type Wake = Rc<dyn Fn(&Inner) -> bool>;

/// One fiber of the pool and, while it is blocked, what it waits for.
pub(super) struct FiberSlot {
    fiber: Box<Fiber>,
    /// Set while blocked.
    wake: Option<Wake>,
    /// The task frames it took along when it blocked.
    frames: Vec<TaskFrame>,
    /// When it blocked (a tick of the event loop's clock).
    since: u64,
}

/// The pool, the fiber running now and where its task frames begin.
#[derive(Default)]
pub(super) struct Fibers {
    slots: Vec<FiberSlot>,
    idle: Vec<u32>,
}

impl core::fmt::Debug for Fibers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fibers")
            .field("slots", &self.slots.len())
            .field("idle", &self.idle)
            .finish()
    }
}

impl Inner {
    /// Run `job` on an idle fiber (a new one if none is idle or big enough) until it blocks
    /// or ends.
    pub(super) fn run_new_fiber(&self, job: Job) -> Result<(), Trap> {
        let k = self.idle_fiber()?;
        self.run_fiber(k, Some(job))
    }

    /// An idle fiber with room for the store's wasm stack limit, made if none is idle.
    pub(super) fn idle_fiber(&self) -> Result<u32, Trap> {
        // SAFETY: called while wasm of this instance runs or from a host entry.
        let size = unsafe { self.store() }.max_wasm_stack + RUNTIME_MARGIN;
        let mut fibers = self.fibers.borrow_mut();
        let found = fibers
            .idle
            .iter()
            .rposition(|k| fibers.slots[*k as usize].fiber.size() >= size);
        if let Some(i) = found {
            return Ok(fibers.idle.swap_remove(i));
        }
        let fiber = Fiber::new(size).ok_or(trap(TrapCode::NoStackForTask))?;
        fibers.slots.push(FiberSlot {
            fiber,
            wake: None,
            frames: Vec::new(),
            since: 0,
        });
        Ok((fibers.slots.len() - 1) as u32)
    }

    /// Resume blocked fiber `k` (its condition holds) until it blocks again or its job ends.
    pub(super) fn resume_fiber(&self, k: u32) -> Result<(), Trap> {
        self.run_fiber(k, None)
    }

    fn fiber(&self, k: u32) -> Result<*const Fiber, Trap> {
        let fibers = self.fibers.borrow();
        let slot = fibers.slots.get(k as usize).ok_or_else(bad)?;
        Ok(&*slot.fiber)
    }

    /// Run fiber `k` (starting `job` on it, or resuming it), then every thread handed over to
    /// from there.
    fn run_fiber(&self, k: u32, job: Option<Job>) -> Result<(), Trap> {
        let r = self.run_fiber_once(k, job);
        if r.is_err() {
            self.switch_to.set(None);
            return r;
        }
        self.drain_hand_overs()
    }

    /// Go on with the threads handed over to, one after another at this depth: a chain of
    /// `*-then-resume` between two threads never nests stacks.
    pub(super) fn drain_hand_overs(&self) -> Result<(), Trap> {
        while let Some(o) = self.switch_to.take() {
            if let Some((k, job)) = self.hand_over(o)? {
                if let Err(e) = self.run_fiber_once(k, job) {
                    self.switch_to.set(None);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Check a host entry's store: while jobs are in progress on fibers, their frames hold the
    /// store they started with, which must be this one, at the same address.
    pub(super) fn check_store(&self, store: *mut Store) -> Result<(), Trap> {
        let fibers = self.fibers.borrow();
        let busy = fibers.slots.len() > fibers.idle.len();
        if busy && self.fiber_store.get() != store {
            return Err(trap(TrapCode::StoreMoved));
        }
        Ok(())
    }

    /// Run fiber `k` until it blocks or its job ends.
    fn run_fiber_once(&self, k: u32, job: Option<Job>) -> Result<(), Trap> {
        let fiber = self.fiber(k)?;
        self.fiber_store.set(self.store.get());
        let prev = self.current_fiber.replace(Some(k));
        let base = self.tasks.borrow().len();
        let prev_base = self.fiber_base.replace(base);
        // SAFETY: called while wasm of this instance runs or from a host entry: the store is
        // that entry's. The fiber is boxed in the pool, which only grows while `self` lives.
        let resumed = unsafe {
            let store = self.store();
            match job {
                Some(job) => (*fiber).start(store, job),
                None => (*fiber).resume(store),
            }
        };
        self.current_fiber.set(prev);
        self.fiber_base.set(prev_base);
        if let Resumed::Finished(outcome) = resumed {
            // A trap leaves the frames it unwound.
            self.tasks.borrow_mut().truncate(base);
            self.fibers.borrow_mut().idle.push(k);
            return outcome;
        }
        Ok(())
    }

    /// Block until `wake` holds: on a fiber, suspend it for the event loop to resume; on a
    /// host call's stack, run the event loop here.
    pub(super) fn block_until(&self, wake: Wake) -> Result<(), Trap> {
        let Some(k) = self.current_fiber.get() else {
            return self.block_here(&*wake);
        };
        let fiber = self.fiber(k)?;
        let frames = self.tasks.borrow_mut().split_off(self.fiber_base.get());
        if let Err(e) = self.enter_frames(&frames, false) {
            self.tasks.borrow_mut().extend(frames);
            return Err(e);
        }
        let since = self.tick();
        if let Some(slot) = self.fibers.borrow_mut().slots.get_mut(k as usize) {
            slot.wake = Some(wake);
            slot.frames = frames;
            slot.since = since;
        }
        // SAFETY: this code runs on fiber `k` (`current_fiber`), which is boxed in the pool.
        unsafe { (*fiber).suspend() };
        let frames = match self.fibers.borrow_mut().slots.get_mut(k as usize) {
            Some(slot) => {
                slot.wake = None;
                core::mem::take(&mut slot.frames)
            }
            None => Vec::new(),
        };
        let entered = self.enter_frames(&frames, true);
        self.tasks.borrow_mut().extend(frames);
        entered
    }

    /// Block on a host call's stack: leave the instances its frames entered, go on with a
    /// thread handed over to, run the event loop until `wake` holds, enter them again.
    fn block_here(&self, wake: &dyn Fn(&Inner) -> bool) -> Result<(), Trap> {
        let frames = self.tasks.borrow_mut().split_off(self.fiber_base.get());
        let mut r = self.enter_frames(&frames, false);
        if r.is_ok() {
            r = self.drain_hand_overs().and_then(|()| self.run_until(wake));
        }
        let entered = frames.iter().filter_map(|f| f.entered);
        if r.is_ok() && !entered.clone().all(|i| self.enterable(i)) {
            r = Err(trap(TrapCode::CannotEnterComponent));
        }
        if r.is_ok() {
            r = self.enter_frames(&frames, true);
        }
        self.tasks.borrow_mut().extend(frames);
        r
    }

    /// Enter (or leave) the component instances `frames` entered.
    fn enter_frames(&self, frames: &[TaskFrame], enter: bool) -> Result<(), Trap> {
        let mut st = self.state()?;
        for inst in frames.iter().filter_map(|f| f.entered) {
            st.inst(inst)?.set_may_enter(!enter);
        }
        Ok(())
    }

    /// The blocked fibers, with when each blocked.
    pub(super) fn blocked_fibers(&self) -> Vec<(u64, u32)> {
        let fibers = self.fibers.borrow();
        fibers
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.wake.is_some())
            .map(|(k, s)| (s.since, k as u32))
            .collect()
    }

    /// Whether blocked fiber `k` may go on: its condition holds and every instance its frames
    /// entered may be entered.
    pub(super) fn fiber_ready(&self, k: u32) -> bool {
        let (wake, insts): (Option<Wake>, Vec<u32>) = {
            let fibers = self.fibers.borrow();
            let Some(slot) = fibers.slots.get(k as usize) else {
                return false;
            };
            let insts = slot.frames.iter().filter_map(|f| f.entered).collect();
            (slot.wake.clone(), insts)
        };
        let Some(wake) = wake else {
            return false;
        };
        insts.iter().all(|i| self.enterable(*i)) && wake(self)
    }
}
