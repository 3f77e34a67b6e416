//! Async tasks: calls of `async`-lifted functions (callback or stackful), and of sync-lifted
//! functions of an async type under an async lower, each running on a fiber of its own
//! (`threads.rs`), and the event loop that starts and resumes them.
//!
//! In: a lifted function, where its arguments come from and where its results go. Out: the
//! task started at once when its instance lets it in (else once backpressure allows), its code
//! run on its fiber until it blocks. A callback task's fiber runs the spec's callback loop:
//! wait for an event of its set (or a yield), call back, until `EXIT`. The event loop
//! ([`Inner::run_until`]) serves the longest-waiting runnable task or fiber first, so order is
//! deterministic. A task resolves when it calls `task.return` (or a sync-lifted callee
//! returns); its caller learns it from its result sink.

// Without the generic Canonical ABI path (the bare-metal runtime) no task starts (`start`), so
// the bookkeeping below compiles but is never used there.
#![cfg_attr(not(feature = "generic-abi"), allow(unused_imports, dead_code))]

use super::async_builtins::TaskFrame;
use super::thread_builtins::ThreadState;
use super::{bad, param_types, to_raw, trap, Inner};
use crate::component::abi::{Abi, MAX_FLAT_PARAMS};
use crate::component::concurrency::{Pending, Subtask, Waitable};
use crate::component::module::lifted_core_type;
use crate::component::table::Entry;
use crate::component::types::Types;
use crate::component::val::Val;
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use weld_contract::component::abi::MAX_FLAT_ASYNC_PARAMS;
use weld_contract::component::concurrency::{
    pack_subtask, unpack_callback_result, CallbackCode, Event, SubtaskState,
};
use weld_contract::component::{Lifted, StringEncoding};
use weld_contract::trap::TrapCode;

/// The borrow scope of task `id` (`Handle::scope`; 0 is the synchronous calls').
pub(super) fn scope(id: u32) -> u32 {
    id.wrapping_add(1)
}

/// Where a task's arguments come from.
#[derive(Clone, Debug)]
pub(super) enum Args {
    /// Values already lifted, from a side using this string encoding.
    Vals(Vec<Val>, StringEncoding),
    /// The flat core arguments of lowering `lowering` (lifted when the task starts).
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    Flat {
        /// The lowering.
        lowering: u32,
        /// Its core arguments (without an async lower's result pointer).
        flat: Vec<u64>,
        /// Its async variant (at most 4 flat values).
        async_: bool,
    },
}

/// Where a task's results go.
#[derive(Clone, Debug)]
pub(super) enum Sink {
    /// Kept for a waiting caller (the host, or a sync lower) to take.
    Keep(Option<Vec<Val>>),
    /// An async lower's caller: results stored at `retptr` of its memory, its subtask (a
    /// handle in its table once it has one) told.
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    Subtask {
        /// The lowering.
        lowering: u32,
        /// Where results go.
        retptr: Option<u32>,
        /// The subtask's handle in the caller's table.
        handle: Option<u32>,
    },
    /// A waiting caller took the results; the task goes on after returning.
    Taken,
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Not started: waiting for backpressure to let it in.
    Starting,
    /// Started: its fiber runs it (or is blocked in it).
    Running,
    /// Its code exited.
    Exited,
}

/// One async task.
#[derive(Debug)]
pub(super) struct Task {
    /// The function (shared: the task's code paths take it many times per call).
    pub f: Rc<Lifted>,
    /// Its arguments, until it starts.
    pub args: Option<Args>,
    /// Its results' destination.
    pub sink: Sink,
    /// Phase.
    pub phase: Phase,
    /// Whether it returned (or was cancelled).
    pub resolved: bool,
    /// Its `context.get/set` slots, kept between callbacks.
    pub context: [u64; weld_contract::component::concurrency::CONTEXT_SLOTS],
    /// The caller's handles lent to it (`borrow` arguments), until it resolves.
    pub loans: Vec<super::Loan>,
    /// When it began to wait to start (a tick of [`Inner::async_clock`]).
    pub since: u64,
    /// Its implicit thread, in graphs that use thread built-ins (`thread_builtins.rs`).
    pub thread: Option<u32>,
    /// Its threads that have not ended (the implicit one included).
    pub threads: u32,
    /// Where its caller's cancellation request is (`cancel.rs`).
    pub cancel: super::cancel::Cancel,
    /// The fiber its callback loop waits on, while it waits there (cancellably).
    pub loop_fiber: Option<u32>,
    /// Whether it resolved by cancellation (no result).
    pub cancelled: bool,
    /// Which call it is: the event loop's clock when it was made (task ids are reused).
    pub serial: u64,
}

/// What the event loop runs next.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// Start a task backpressure held back.
    Start(u32),
    /// Resume a blocked fiber.
    Resume(u32),
    /// Start a thread made ready before it ever ran.
    StartThread(u32),
}

impl Inner {
    /// Whether task `id` resolved.
    /// (A task's record goes when it exits, which it may only do once resolved.)
    pub(super) fn task_resolved(&self, id: u32) -> bool {
        self.async_tasks
            .borrow()
            .get(id as usize)
            .is_some_and(|t| t.as_ref().is_none_or(|t| t.resolved))
    }

    /// Make a task for `f` and start it if its instance lets it in now.
    pub(super) fn spawn(&self, f: &Lifted, args: Args, sink: Sink) -> Result<u32, Trap> {
        let task = Task {
            f: Rc::new(f.clone()),
            args: Some(args),
            sink,
            phase: Phase::Starting,
            resolved: false,
            context: Default::default(),
            since: self.tick(),
            loans: Vec::new(),
            thread: None,
            threads: 1,
            cancel: super::cancel::Cancel::None,
            loop_fiber: None,
            cancelled: false,
            serial: self.async_clock.get(),
        };
        let id = {
            let mut tasks = self.async_tasks.borrow_mut();
            match self.async_free.borrow_mut().pop() {
                Some(id) => {
                    tasks[id as usize] = Some(task);
                    id
                }
                None => {
                    tasks.push(Some(task));
                    (tasks.len() - 1) as u32
                }
            }
        };
        // Others already waiting to enter go first (the spec's residual backpressure).
        if self.may_start(id)? && !self.others_queued(id)? {
            self.launch(id)?;
        }
        Ok(id)
    }

    /// Whether tasks other than `id` wait at its instance's backpressure gate.
    fn others_queued(&self, id: u32) -> Result<bool, Trap> {
        let (inst, gated, _) = self.gate(id)?;
        let tasks = self.async_tasks.borrow();
        Ok(gated
            && tasks.iter().enumerate().any(|(i, t)| {
                t.as_ref().is_some_and(|t| {
                    i as u32 != id && t.phase == Phase::Starting && t.f.opts.instance == inst
                })
            }))
    }

    /// Run task `id` on a fiber until it blocks or exits.
    fn launch(&self, id: u32) -> Result<(), Trap> {
        self.with_task(id, |t| t.phase = Phase::Running)?;
        let (inst, _, exclusive) = self.gate(id)?;
        if exclusive {
            self.hold_exclusive(inst, id, true)?;
        }
        // A sync lift's thread is its call's (`enter_lifted`).
        let async_lift = self.with_task(id, |t| t.f.opts.async_)?;
        if self.uses_threads && async_lift {
            let t = self.new_thread(inst, Some(id), ThreadState::Running)?;
            self.with_task(id, |task| task.thread = Some(t))?;
        }
        let me: *const Inner = self;
        self.run_new_fiber(Box::new(move || {
            // SAFETY: `Inner` owns its fibers, so it outlives every job they run.
            let inner = unsafe { &*me };
            inner.task_main(id)
        }))
    }

    /// A task's life on its fiber.
    fn task_main(&self, id: u32) -> Result<(), Trap> {
        let f = self.with_task(id, |t| t.f.clone())?;
        if !f.opts.async_ {
            return self.run_sync_lifted(id, &f);
        }
        if let Some(mut packed) = self.start(id)? {
            let inst = f.opts.instance;
            loop {
                let code = unpack_callback_result(packed)
                    .ok_or(trap(TrapCode::UnsupportedCallbackCode))?;
                let set = match code {
                    CallbackCode::Exit => break,
                    CallbackCode::Yield => None,
                    CallbackCode::Wait(si) => Some(si),
                };
                // The lock is free while the task waits to be called back.
                self.hold_exclusive(inst, id, false)?;
                let ev = self.loop_wait(id, inst, set)?;
                if !self.task_resolved(id) {
                    self.hold_exclusive(inst, id, true)?;
                }
                packed = self.call_back(id, &f, ev)?;
            }
        }
        self.exit(id)
    }

    /// Task `id`'s implicit thread ended.
    fn exit(&self, id: u32) -> Result<(), Trap> {
        let inst = self.with_task(id, |t| t.f.opts.instance)?;
        self.hold_exclusive(inst, id, false)?;
        match self.with_task(id, |t| t.thread.take())? {
            Some(t) => self.end_thread(t),
            None => self.thread_exited(id),
        }
    }

    /// Add `n` threads to task `id`'s count.
    pub(super) fn with_task_threads(&self, id: u32, n: u32) -> Result<(), Trap> {
        self.with_task(id, |t| t.threads += n)
    }

    /// A thread of task `id` ended; after its last one, the task must have resolved.
    pub(super) fn thread_exited(&self, id: u32) -> Result<(), Trap> {
        let left = self.with_task(id, |t| {
            t.threads = t.threads.saturating_sub(1);
            t.threads
        })?;
        if left > 0 {
            return Ok(());
        }
        if !self.task_resolved(id) {
            return Err(trap(TrapCode::TaskNotReturned));
        }
        // An exited task's record goes, unless a waiting caller has yet to take its results.
        let kept = self.with_task(id, |t| {
            t.phase = Phase::Exited;
            matches!(t.sink, Sink::Keep(_))
        })?;
        if !kept {
            self.free_task(id);
        }
        Ok(())
    }

    /// Forget task `id`'s record; its slot serves the next task.
    pub(super) fn free_task(&self, id: u32) {
        if let Some(slot) = self.async_tasks.borrow_mut().get_mut(id as usize) {
            *slot = None;
            self.async_free.borrow_mut().push(id);
        }
    }

    pub(super) fn with_task<T>(&self, id: u32, f: impl FnOnce(&mut Task) -> T) -> Result<T, Trap> {
        let mut tasks = self.async_tasks.borrow_mut();
        let t = tasks
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or_else(bad)?;
        Ok(f(t))
    }

    /// Whether component instance `inst` may be entered now (nothing of it runs).
    pub(super) fn enterable(&self, inst: u32) -> bool {
        self.state()
            .ok()
            .and_then(|mut st| st.inst(inst).ok().map(|s| s.may_enter()))
            .unwrap_or(false)
    }

    /// Whether a starting task may enter its instance: nothing of it runs and, for an async
    /// function type, no backpressure and (unless it is stackful) nobody holds the exclusive
    /// lock (the spec's `enter_implicit_thread`; sync types barge in).
    fn may_start(&self, id: u32) -> Result<bool, Trap> {
        let (inst, gated, exclusive) = self.gate(id)?;
        let mut st = self.state()?;
        let s = st.inst(inst)?;
        let held = exclusive && s.exclusive.is_some();
        Ok(s.may_enter() && !(gated && (s.backpressure > 0 || held)))
    }

    /// Task `id`'s instance, whether its function type is async (it passes the backpressure
    /// gate), and whether it takes the exclusive lock (sync and callback lifts of an async
    /// type do).
    ///
    /// A task gives the lock back when it resolves, not only when it exits or (a callback
    /// task) waits between callbacks: a callback task blocked in the middle of a callback
    /// after `task.return` (a synchronous `stream.write`) does not keep new tasks out, as
    /// `sync-streams.wast` expects, where the spec would hold `exclusive_thread` until the
    /// callback returns.
    fn gate(&self, id: u32) -> Result<(u32, bool, bool), Trap> {
        let f = self.with_task(id, |t| t.f.clone())?;
        let ft = self.info().func_types.get(f.ty as usize).ok_or_else(bad)?;
        let exclusive = ft.async_ && (!f.opts.async_ || f.opts.callback.is_some());
        Ok((f.opts.instance, ft.async_, exclusive))
    }

    /// Take (or give back) `inst`'s exclusive lock for task `id`.
    pub(super) fn hold_exclusive(&self, inst: u32, id: u32, hold: bool) -> Result<(), Trap> {
        let mut st = self.state()?;
        let s = st.inst(inst)?;
        if hold {
            debug_assert!(
                s.exclusive.is_none_or(|h| h == id),
                "the lock is someone else's"
            );
            s.exclusive = Some(id);
        } else if s.exclusive == Some(id) {
            s.exclusive = None;
        }
        Ok(())
    }

    /// Whether `inst` may run a callback of a task now: enterable, nobody holds the lock.
    pub(super) fn may_call_back(&self, inst: u32) -> bool {
        self.state()
            .ok()
            .and_then(|mut st| {
                st.inst(inst)
                    .ok()
                    .map(|s| s.may_enter() && s.exclusive.is_none())
            })
            .unwrap_or(false)
    }

    /// Without the generic Canonical ABI path (the bare-metal runtime) no task can start:
    /// lifting its arguments needs that path until async crossings are compiled (stage 3 of
    /// `docs/async-plan.md`).
    #[cfg(not(feature = "generic-abi"))]
    fn start(&self, _id: u32) -> Result<Option<u32>, Trap> {
        Err(trap(TrapCode::UnsupportedBuiltin))
    }

    #[cfg(not(feature = "generic-abi"))]
    fn run_sync_lifted(&self, _id: u32, _f: &Lifted) -> Result<(), Trap> {
        Err(trap(TrapCode::UnsupportedBuiltin))
    }

    /// Start async-lifted task `id`: lift its arguments from the caller, lower them into the
    /// callee, run its core function; the packed callback code it returned (none when it is
    /// stackful: then it has run to its end).
    #[cfg(feature = "generic-abi")]
    fn start(&self, id: u32) -> Result<Option<u32>, Trap> {
        let (f, args) = self.with_task(id, |t| (t.f.clone(), t.args.take()))?;
        let info = self.info();
        let types = Types::new(&info.types);
        let ft = info.func_types.get(f.ty as usize).ok_or_else(bad)?;
        // SAFETY: called while wasm of this instance runs or from a host entry.
        let store = unsafe { self.store() };
        let (vals, src) = self.take_args(id, args.ok_or_else(bad)?)?;
        self.subtask_progress(id, SubtaskState::Started)?;
        let callee = f.opts.instance;
        let flat = {
            let mut loans = Vec::new();
            let mut cx = self.cx(store, &f.opts, false, &mut loans)?;
            cx.scope = scope(id);
            Abi { types, src }.lower_values(
                &mut cx,
                MAX_FLAT_PARAMS,
                &vals,
                &param_types(ft),
                None,
            )?
        };
        let func = self.func(store, &f.func)?;
        if func.ty(store) != lifted_core_type(info, &f) {
            return Err(bad());
        }
        let stackful = f.opts.callback.is_none();
        let packed = self.quantum(store, id, callee, |store| {
            let raw = func.call(store, &to_raw(&flat))?;
            if stackful {
                return Ok(0);
            }
            raw.first().map(|v| v.get_i32() as u32).ok_or_else(bad)
        })?;
        Ok((!stackful).then_some(packed))
    }

    /// A task's arguments as values: lifted from the caller's memory now if they are flat.
    #[cfg(feature = "generic-abi")]
    fn take_args(&self, id: u32, args: Args) -> Result<(Vec<Val>, StringEncoding), Trap> {
        let Args::Flat {
            lowering,
            flat,
            async_,
        } = args
        else {
            let Args::Vals(v, src) = args else {
                return Err(bad());
            };
            return Ok((v, src));
        };
        let info = self.info();
        let l = info.lowerings.get(lowering as usize).ok_or_else(bad)?;
        let ft = info.func_types.get(l.ty as usize).ok_or_else(bad)?;
        // SAFETY: called while wasm of this instance runs or from a host entry.
        let store = unsafe { self.store() };
        let mut loans = Vec::new();
        let max = if async_ {
            MAX_FLAT_ASYNC_PARAMS
        } else {
            MAX_FLAT_PARAMS
        };
        let abi = Abi {
            types: Types::new(&info.types),
            src: l.opts.encoding,
        };
        let v = {
            let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
            abi.lift_values(&mut cx, max, &flat, &param_types(ft))?
        };
        self.with_task(id, |t| t.loans = loans)?;
        Ok((v, l.opts.encoding))
    }

    /// A sync-lifted function of an async type called by an async lower: call it on the task's
    /// fiber (it may block), then hand its results to the caller and run its post-return.
    #[cfg(feature = "generic-abi")]
    fn run_sync_lifted(&self, id: u32, f: &Lifted) -> Result<(), Trap> {
        let args = self.with_task(id, |t| t.args.take())?.ok_or_else(bad)?;
        let (vals, src) = self.take_args(id, args)?;
        self.subtask_progress(id, SubtaskState::Started)?;
        // SAFETY: called on the task's fiber, while the host entry that resumed it is live.
        let store = unsafe { self.store() };
        let (results, flat) = self.call_lifted(store, f, &vals, src, false)?;
        crate::component::val::release(vals);
        self.state()?.finish_scope(scope(id))?;
        self.resolve(id, results, f.opts.encoding)?;
        self.finish_lifted(store, f, &flat)?;
        self.exit(id)
    }

    /// Run code of task `id` in `callee`: the instance entered, the task current.
    fn quantum(
        &self,
        store: &mut Store,
        id: u32,
        callee: u32,
        run: impl FnOnce(&mut Store) -> Result<u32, Trap>,
    ) -> Result<u32, Trap> {
        {
            let mut st = self.state()?;
            let s = st.inst(callee)?;
            if !s.may_enter() {
                return Err(trap(TrapCode::CannotEnterComponent));
            }
            s.set_may_enter(false);
        }
        let (context, thread) = self.with_task(id, |t| (t.context, t.thread))?;
        self.tasks.borrow_mut().push(TaskFrame {
            context,
            may_block: true,
            task: Some(id),
            entered: Some(callee),
            thread,
        });
        let packed = run(store)?;
        let frame = self.tasks.borrow_mut().pop().ok_or_else(bad)?;
        self.with_task(id, |t| t.context = frame.context)?;
        self.state()?.inst(callee)?.set_may_enter(true);
        Ok(packed)
    }

    /// The next tick of the event loop's clock.
    pub(super) fn tick(&self) -> u64 {
        let t = self.async_clock.get();
        self.async_clock.set(t + 1);
        t
    }

    /// What has waited longest among the tasks that can start now and the fibers that can go
    /// on now.
    fn next_ready(&self) -> Result<Option<Next>, Trap> {
        let mut order: Vec<(u64, Next)> = self
            .async_tasks
            .borrow()
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let t = t.as_ref()?;
                (t.phase == Phase::Starting).then_some((t.since, Next::Start(i as u32)))
            })
            .collect();
        order.extend(
            self.blocked_fibers()
                .into_iter()
                .map(|(since, k)| (since, Next::Resume(k))),
        );
        order.extend(
            self.ready_unstarted()
                .into_iter()
                .map(|(since, t)| (since, Next::StartThread(t))),
        );
        order.sort_unstable_by_key(|(since, _)| *since);
        for (_, next) in order {
            let ready = match next {
                Next::Start(id) => self.may_start(id)?,
                Next::Resume(k) => self.fiber_ready(k),
                Next::StartThread(t) => self.may_start_thread(t),
            };
            if ready {
                return Ok(Some(next));
            }
        }
        Ok(None)
    }

    /// Run ready tasks and fibers until `done` holds; a deadlock if nothing can run before.
    pub(super) fn run_until(&self, done: &dyn Fn(&Inner) -> bool) -> Result<(), Trap> {
        if self.run_ready(done)? {
            Ok(())
        } else {
            Err(trap(TrapCode::AsyncDeadlock))
        }
    }

    /// Call task `id`'s callback with `ev`; the packed code it returns.
    fn call_back(&self, id: u32, f: &Lifted, ev: Event) -> Result<u32, Trap> {
        // SAFETY: called on the task's fiber, while the host entry that resumed it is live.
        let store = unsafe { self.store() };
        let cb = self.func(store, f.opts.callback.as_ref().ok_or_else(bad)?)?;
        let args = [ev.code as u64, u64::from(ev.p1), u64::from(ev.p2)];
        self.quantum(store, id, f.opts.instance, |store| {
            let raw = cb.call(store, &to_raw(&args))?;
            raw.first().map(|v| v.get_i32() as u32).ok_or_else(bad)
        })
    }

    /// `task.return` without the generic path: there is no task (see `start`).
    #[cfg(not(feature = "generic-abi"))]
    pub(super) fn task_return(
        &self,
        _l: &weld_contract::component::Lowering,
        _flat: &[u64],
    ) -> Result<(), Trap> {
        Err(trap(TrapCode::UnsupportedBuiltin))
    }

    /// `task.return` of the current task with its flat arguments (lowering `l`).
    #[cfg(feature = "generic-abi")]
    pub(super) fn task_return(
        &self,
        l: &weld_contract::component::Lowering,
        flat: &[u64],
    ) -> Result<(), Trap> {
        let id = self
            .tasks
            .borrow()
            .last()
            .and_then(|t| t.task)
            .ok_or(trap(TrapCode::TaskAlreadyReturned))?;
        let (f, resolved) = self.with_task(id, |t| (t.f.clone(), t.resolved))?;
        if resolved {
            return Err(trap(TrapCode::TaskAlreadyReturned));
        }
        let info = self.info();
        let ft = info.func_types.get(f.ty as usize).ok_or_else(bad)?;
        let ret = info.func_types.get(l.ty as usize).ok_or_else(bad)?;
        let expected: Vec<u32> = ft.result.into_iter().collect();
        // The spec compares both options; the shared suite (and Wasmtime) let a `task.return`
        // without a memory serve a lift with one (`cross-abi-calls.wast`, 17 parameters).
        let memory_ok = l.opts.memory.is_none() || l.opts.memory == f.opts.memory;
        let same_opts = memory_ok && l.opts.encoding == f.opts.encoding;
        if param_types(ret) != expected || !same_opts {
            return Err(trap(TrapCode::TaskReturnMismatch));
        }
        let types = Types::new(&info.types);
        // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
        let store = unsafe { self.store() };
        let vals = {
            let mut loans = Vec::new();
            let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
            let abi = Abi {
                types,
                src: l.opts.encoding,
            };
            abi.lift_values(&mut cx, MAX_FLAT_PARAMS, flat, &expected)?
        };
        self.state()?.finish_scope(scope(id))?;
        self.resolve(id, vals, f.opts.encoding)
    }

    /// Task `id` returned `vals`: hand them to its sink.
    #[cfg(feature = "generic-abi")]
    fn resolve(&self, id: u32, vals: Vec<Val>, src: StringEncoding) -> Result<(), Trap> {
        let (sink, loans, inst) = self.with_task(id, |t| {
            t.resolved = true;
            (
                t.sink.clone(),
                core::mem::take(&mut t.loans),
                t.f.opts.instance,
            )
        })?;
        self.hold_exclusive(inst, id, false)?;
        self.state()?.end_loans(&loans);
        match sink {
            Sink::Keep(_) => self.with_task(id, |t| t.sink = Sink::Keep(Some(vals))),
            Sink::Taken => Err(trap(TrapCode::TaskAlreadyReturned)),
            Sink::Subtask {
                lowering, retptr, ..
            } => {
                let info = self.info();
                let l = info.lowerings.get(lowering as usize).ok_or_else(bad)?;
                let ft = info.func_types.get(l.ty as usize).ok_or_else(bad)?;
                if let Some(ptr) = retptr {
                    // SAFETY: called while wasm of this instance runs.
                    let store = unsafe { self.store() };
                    let mut loans = Vec::new();
                    let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
                    let abi = Abi {
                        types: Types::new(&info.types),
                        src,
                    };
                    abi.lower_values(&mut cx, 0, &vals, ft.result.as_slice(), Some(ptr))?;
                }
                self.subtask_progress(id, SubtaskState::Returned)
            }
        }
    }

    /// The component instance that makes the calls of lowering `lowering`.
    fn caller_of(&self, lowering: u32) -> Result<u32, Trap> {
        let l = self
            .info()
            .lowerings
            .get(lowering as usize)
            .ok_or_else(bad)?;
        Ok(l.opts.instance)
    }

    /// Tell an async lower's caller that task `id` reached `state`.
    pub(super) fn subtask_progress(&self, id: u32, state: SubtaskState) -> Result<(), Trap> {
        let Sink::Subtask {
            lowering,
            handle: Some(h),
            ..
        } = self.with_task(id, |t| t.sink.clone())?
        else {
            return Ok(());
        };
        let caller = self.caller_of(lowering)?;
        let mut st = self.state()?;
        if let Entry::Subtask(s) = st.inst(caller)?.table.get_mut(h)? {
            s.state = state;
            s.waitable.pending = Some(Pending::Subtask);
        }
        Ok(())
    }

    /// An async lower of `f` (async-lifted, or sync-lifted of an async type): start it; the
    /// packed state core wasm gets.
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    pub(super) fn async_call(
        &self,
        lowering: u32,
        f: &Lifted,
        flat: Vec<u64>,
        retptr: Option<u32>,
    ) -> Result<u32, Trap> {
        let args = Args::Flat {
            lowering,
            flat,
            async_: true,
        };
        let sink = Sink::Subtask {
            lowering,
            retptr,
            handle: None,
        };
        let id = self.spawn(f, args, sink)?;
        if self.task_resolved(id) {
            return Ok(pack_subtask(SubtaskState::Returned, None));
        }
        let started = self.with_task(id, |t| t.phase != Phase::Starting)?;
        let state = if started {
            SubtaskState::Started
        } else {
            SubtaskState::Starting
        };
        let caller = self.caller_of(lowering)?;
        let h = self
            .state()?
            .inst(caller)?
            .table
            .add(Entry::Subtask(Subtask {
                state,
                delivered: false,
                waitable: Waitable::default(),
                task: id,
                cancel_requested: false,
            }))?;
        self.with_task(id, |t| {
            if let Sink::Subtask { handle, .. } = &mut t.sink {
                *handle = Some(h);
            }
        })?;
        Ok(pack_subtask(state, Some(h)))
    }

    /// A sync call of async-lifted `f` (a sync lower, or the host): start it, and wait until
    /// it returns; its results.
    pub(super) fn call_and_wait(&self, f: &Lifted, args: Args) -> Result<Vec<Val>, Trap> {
        let id = self.spawn(f, args, Sink::Keep(None))?;
        if !self.task_resolved(id) {
            self.block_until(Rc::new(move |inner: &Inner| inner.task_resolved(id)))?;
        }
        self.take_kept(id)?.ok_or_else(bad)
    }

    /// The results a resolved task kept for its waiting caller (none if it was cancelled);
    /// its record goes once it exited, else it goes on with nobody waiting for it.
    pub(super) fn take_kept(&self, id: u32) -> Result<Option<Vec<Val>>, Trap> {
        let (results, exited) = self.with_task(id, |t| {
            let r = match &mut t.sink {
                Sink::Keep(v) => v.take(),
                Sink::Subtask { .. } | Sink::Taken => None,
            };
            (r, t.phase == Phase::Exited)
        })?;
        if exited {
            self.free_task(id);
        } else {
            self.with_task(id, |t| t.sink = Sink::Taken)?;
        }
        Ok(results)
    }

    /// Run ready tasks and fibers until `done` holds or nothing can run; whether `done` holds.
    pub(super) fn run_ready(&self, done: &dyn Fn(&Inner) -> bool) -> Result<bool, Trap> {
        while !done(self) {
            match self.next_ready()? {
                None => return Ok(false),
                Some(Next::Start(id)) => self.launch(id)?,
                Some(Next::Resume(k)) => self.resume_fiber(k)?,
                Some(Next::StartThread(t)) => self.start_thread(t)?,
            }
        }
        Ok(true)
    }

    /// `subtask.drop`.
    pub(super) fn subtask_drop(&self, inst: u32, i: u32) -> Result<(), Trap> {
        let mut st = self.state()?;
        let set = match st.inst(inst)?.table.get(i)? {
            Entry::Subtask(s) if s.delivered => s.waitable.set,
            Entry::Subtask(_) => return Err(trap(TrapCode::SubtaskNotResolved)),
            _ => return Err(trap(TrapCode::WrongHandleKind)),
        };
        st.inst(inst)?.table.remove(i)?;
        st.leave_set(inst, i, set);
        Ok(())
    }

    /// `waitable-set.wait` of the current task: wait for an event of set `si` of `inst` and
    /// take it.
    pub(super) fn wait_on_set(&self, inst: u32, si: u32) -> Result<Event, Trap> {
        self.state()?.set_waiting(inst, si, true)?;
        let r = self.block_until(Rc::new(move |i: &Inner| i.set_has_event(inst, si)));
        self.state()?.set_waiting(inst, si, false)?;
        r?;
        let mut st = self.state()?;
        let w = st.set_ready(inst, si)?.ok_or_else(bad)?;
        st.deliver(inst, w)
    }
}
