//! Threads (the spec's 🧵 built-ins): every task has an implicit thread, `thread.new-indirect`
//! adds more, and a thread can suspend, yield, make another ready (`resume-later`) or hand
//! over to another directly (`*-then-resume`, `*-then-promote`).
//!
//! In: the thread built-ins' core arguments. Out: thread records (`Inner::threads`, indexed by
//! the instance's own thread table, `InstanceState::threads`) and blocks through
//! [`Inner::block_until`]: a thread blocks on whatever stack runs it (its fiber, or a host
//! call's stack), and a direct hand-over is left in `Inner::switch_to` for the code that
//! regains control to honour (`threads.rs`). A new thread runs on a fiber of its own, calling
//! its start function through the trampoline the adapter stage generated. Threads exist only in
//! graphs that use the thread built-ins (`Inner::uses_threads`): elsewhere no call pays for them.

use super::async_builtins::TaskFrame;
use super::{bad, to_raw, trap, Inner};
use crate::component::table::Entry;
use crate::fiber::Job;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::component::{Builtin, CoreDef, Lowering};
use weld_contract::trap::TrapCode;

/// Where a thread is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ThreadState {
    /// It runs (or waits for something other than a resume: a set's event, a subtask).
    Running,
    /// Suspended: only an explicit resume goes on with it. New threads start so.
    Suspended,
    /// Ready to go on whenever the event loop gets to it (`resume-later`, a yield).
    Ready,
}

/// One thread.
#[derive(Debug)]
pub(super) struct ThreadRec {
    /// Its component instance.
    pub inst: u32,
    /// Its index in the instance's thread table.
    pub index: u32,
    /// Its async task (none for a synchronous call's implicit thread).
    pub task: Option<u32>,
    /// State.
    pub state: ThreadState,
    /// The fiber it blocked on (none while it runs, on a host call's stack, or unstarted).
    pub fiber: Option<u32>,
    /// Not started yet: its start function (the generated trampoline) and the arguments.
    pub start: Option<(CoreDef, [u64; 2])>,
    /// Whether it may block (copied from the frame that created it).
    pub may_block: bool,
    /// When it became ready (a tick of the event loop's clock).
    pub since: u64,
}

impl Inner {
    /// A new thread of `task` in `inst`, registered in the instance's thread table.
    pub(super) fn new_thread(
        &self,
        inst: u32,
        task: Option<u32>,
        state: ThreadState,
    ) -> Result<u32, Trap> {
        let id = {
            let mut threads = self.threads.borrow_mut();
            match threads.iter().position(Option::is_none) {
                Some(i) => i as u32,
                None => {
                    threads.push(None);
                    (threads.len() - 1) as u32
                }
            }
        };
        let index = self.state()?.inst(inst)?.threads.add(Entry::Thread(id))?;
        self.threads.borrow_mut()[id as usize] = Some(ThreadRec {
            inst,
            index,
            task,
            state,
            fiber: None,
            start: None,
            may_block: true,
            since: 0,
        });
        Ok(id)
    }

    /// Thread `t` ended: out of its instance's table; its task learns it.
    pub(super) fn end_thread(&self, t: u32) -> Result<(), Trap> {
        let rec = self
            .threads
            .borrow_mut()
            .get_mut(t as usize)
            .and_then(Option::take)
            .ok_or_else(bad)?;
        self.state()?.inst(rec.inst)?.threads.remove(rec.index)?;
        match rec.task {
            Some(id) => self.thread_exited(id),
            None => Ok(()),
        }
    }

    fn with_thread<T>(&self, t: u32, f: impl FnOnce(&mut ThreadRec) -> T) -> Result<T, Trap> {
        let mut threads = self.threads.borrow_mut();
        let rec = threads
            .get_mut(t as usize)
            .and_then(Option::as_mut)
            .ok_or_else(bad)?;
        Ok(f(rec))
    }

    /// The thread running now (the innermost task frame's).
    fn current_thread(&self) -> Result<u32, Trap> {
        self.tasks
            .borrow()
            .last()
            .and_then(|f| f.thread)
            .ok_or_else(bad)
    }

    /// The thread at index `i` of `inst`'s thread table.
    fn thread_at(&self, inst: u32, i: u32) -> Result<u32, Trap> {
        match self.state()?.inst(inst)?.threads.get(i)? {
            Entry::Thread(t) => Ok(*t),
            _ => Err(bad()),
        }
    }

    /// Whether thread `t` is ready to go on.
    fn thread_ready(&self, t: u32) -> bool {
        self.with_thread(t, |r| r.state == ThreadState::Ready)
            .unwrap_or(false)
    }

    /// A thread built-in (`l.opts.instance` is the caller, whose `may_leave` was checked).
    pub(super) fn run_thread_builtin(
        &self,
        l: &Lowering,
        b: &Builtin,
        args: &[u64],
    ) -> Result<Vec<u64>, Trap> {
        let inst = l.opts.instance;
        let a = |i: usize| args.get(i).map(|v| *v as u32).ok_or_else(bad);
        match b {
            Builtin::ThreadIndex => {
                let t = self.current_thread()?;
                Ok(vec![u64::from(self.with_thread(t, |r| r.index)?)])
            }
            Builtin::ThreadNewIndirect { start, .. } => {
                let start = start.clone().ok_or(trap(TrapCode::UnsupportedBuiltin))?;
                let (task, may_block) = {
                    let tasks = self.tasks.borrow();
                    let f = tasks.last().ok_or_else(bad)?;
                    (f.task, f.may_block)
                };
                let t = self.new_thread(inst, task, ThreadState::Suspended)?;
                let c = args.get(1).copied().ok_or_else(bad)?;
                self.with_thread(t, |r| {
                    r.start = Some((start, [u64::from(a(0).unwrap_or(0)), c]));
                    r.may_block = may_block;
                })?;
                if let Some(id) = task {
                    self.with_task_threads(id, 1)?;
                }
                Ok(vec![u64::from(self.with_thread(t, |r| r.index)?)])
            }
            Builtin::ThreadResumeLater => {
                let t = self.thread_at(inst, a(0)?)?;
                self.resume_later(t)?;
                Ok(Vec::new())
            }
            Builtin::ThreadSuspend => self.thread_block(inst, false, None),
            Builtin::ThreadSuspendThenResume | Builtin::ThreadYieldThenResume => {
                let other = self.thread_at(inst, a(0)?)?;
                if self.with_thread(other, |r| r.state)? != ThreadState::Suspended {
                    return Err(trap(TrapCode::ThreadNotSuspended));
                }
                let ready = *b == Builtin::ThreadYieldThenResume;
                self.thread_block(inst, ready, Some(other))
            }
            Builtin::ThreadSuspendThenPromote | Builtin::ThreadYieldThenPromote => {
                let other = self.thread_at(inst, a(0)?)?;
                let ready = *b == Builtin::ThreadYieldThenPromote;
                let switch = self.thread_ready(other).then_some(other);
                self.thread_block(inst, ready, switch)
            }
            _ => Err(trap(TrapCode::UnsupportedBuiltin)),
        }
    }

    /// `thread.resume-later` of thread `t`: it must be suspended; it becomes ready.
    fn resume_later(&self, t: u32) -> Result<(), Trap> {
        self.with_thread(t, |r| {
            if r.state != ThreadState::Suspended {
                return Err(trap(TrapCode::ThreadNotSuspended));
            }
            r.state = ThreadState::Ready;
            Ok(())
        })??;
        let now = self.tick();
        self.with_thread(t, |r| r.since = now)
    }

    /// Threads that never ran and are ready, with when they became so (for the event loop).
    pub(super) fn ready_unstarted(&self) -> Vec<(u64, u32)> {
        self.threads
            .borrow()
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let r = r.as_ref()?;
                let ready = r.start.is_some() && r.state == ThreadState::Ready;
                ready.then_some((r.since, i as u32))
            })
            .collect()
    }

    /// Whether unstarted thread `t` can start now (its instance may be entered).
    pub(super) fn may_start_thread(&self, t: u32) -> bool {
        self.with_thread(t, |r| r.inst)
            .is_ok_and(|inst| self.enterable(inst))
    }

    /// Block the current thread (of `inst`): suspended, or ready (a yield); with `switch`,
    /// hand over to that thread first. Returns the cancelled flag (never set: nothing cancels
    /// threads yet).
    fn thread_block(&self, inst: u32, ready: bool, switch: Option<u32>) -> Result<Vec<u64>, Trap> {
        let t = self.current_thread()?;
        let may_block = self.may_block();
        if !may_block && switch.is_none() && !ready && !self.others_ready(inst, t) {
            // A synchronous task may block only while another thread of its instance can go on.
            return Err(trap(TrapCode::SyncTaskBlocked));
        }
        let state = if ready {
            ThreadState::Ready
        } else {
            ThreadState::Suspended
        };
        self.with_thread(t, |r| {
            r.state = state;
            r.fiber = self.current_fiber.get();
        })?;
        if let Some(o) = switch {
            let now = self.tick();
            self.with_thread(o, |r| {
                r.state = ThreadState::Ready;
                r.since = now;
            })?;
            self.switch_to.set(Some(o));
        }
        let r = self.block_until(Rc::new(move |i: &Inner| i.thread_ready(t)));
        self.with_thread(t, |r| {
            r.state = ThreadState::Running;
            r.fiber = None;
        })?;
        r?;
        Ok(vec![0])
    }

    /// Whether a thread of `inst` other than the current one is ready.
    pub(super) fn others_ready_than_current(&self, inst: u32) -> bool {
        match self.current_thread() {
            Ok(t) => self.others_ready(inst, t),
            Err(_) => false,
        }
    }

    /// Whether a thread of `inst` other than `t` is ready.
    fn others_ready(&self, inst: u32, t: u32) -> bool {
        self.threads.borrow().iter().enumerate().any(|(i, r)| {
            r.as_ref()
                .is_some_and(|r| i as u32 != t && r.inst == inst && r.state == ThreadState::Ready)
        })
    }

    /// What to run for thread `o`, which was made ready for a direct hand-over: a fiber and
    /// the job to start on it (a thread that never ran), or the fiber it blocked on. Nothing
    /// when it cannot go on now (its instance is busy: the event loop gets to it) or it runs
    /// on a host call's stack (that stack's event loop sees it ready).
    pub(super) fn hand_over(&self, o: u32) -> Result<Option<(u32, Option<Job>)>, Trap> {
        let (start, fiber) = self.with_thread(o, |r| (r.start.is_some(), r.fiber))?;
        if start {
            if !self.may_start_thread(o) {
                return Ok(None);
            }
            return Ok(Some((self.idle_fiber()?, Some(self.thread_job(o)))));
        }
        Ok(fiber.filter(|k| self.fiber_ready(*k)).map(|k| (k, None)))
    }

    /// The job of thread `t`'s fiber.
    fn thread_job(&self, t: u32) -> Job {
        let me: *const Inner = self;
        Box::new(move || {
            // SAFETY: `Inner` owns its fibers, so it outlives every job they run.
            let inner = unsafe { &*me };
            inner.thread_main(t)
        })
    }

    /// Start thread `t` now, on a fiber of its own.
    pub(super) fn start_thread(&self, t: u32) -> Result<(), Trap> {
        self.run_new_fiber(self.thread_job(t))
    }

    /// A new thread's life: enter its instance, call its start function, end.
    fn thread_main(&self, t: u32) -> Result<(), Trap> {
        let (inst, task, may_block, start) = self.with_thread(t, |r| {
            r.state = ThreadState::Running;
            (r.inst, r.task, r.may_block, r.start.take())
        })?;
        let (start, args) = start.ok_or_else(bad)?;
        {
            let mut st = self.state()?;
            let s = st.inst(inst)?;
            if !s.may_enter() {
                return Err(trap(TrapCode::CannotEnterComponent));
            }
            s.set_may_enter(false);
        }
        self.tasks.borrow_mut().push(TaskFrame {
            may_block,
            task,
            entered: Some(inst),
            thread: Some(t),
            ..TaskFrame::default()
        });
        // SAFETY: called on the thread's fiber, while the host entry that resumed it is live.
        let store = unsafe { self.store() };
        let f = self.func(store, &start)?;
        f.call(store, &to_raw(&args))?;
        self.tasks.borrow_mut().pop();
        self.state()?.inst(inst)?.set_may_enter(true);
        self.end_thread(t)
    }
}
