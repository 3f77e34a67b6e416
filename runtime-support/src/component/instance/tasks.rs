//! Async tasks on one stack: calls of `async`-lifted functions with a `callback`, started by an
//! async or sync lower or by the host, and the event loop that calls them back.
//!
//! In: a lifted function, where its arguments come from and where its results go. Out: the
//! task's first quantum run at once (its core function, up to the packed callback code), then
//! its callbacks run by [`Inner::run_until`] whenever it is ready — its waitable set has an
//! event, or it yielded — and its instance can be entered. A task resolves when it calls
//! `task.return` (or a sync-lifted callee returns); its caller learns it from its result sink.
//! Order is deterministic: the oldest ready task first.
//!
//! Without stack switching, a task that must block while its own caller continues (a
//! stackful lift, a sync-lifted callee that blocks under an async lower) cannot be served and
//! traps with `NeedsStackSwitching`; waits whose callers are waiting for them anyway (a sync
//! lower, a host call, `waitable-set.wait`) run the event loop nested on top of them.

// Without the generic Canonical ABI path (the bare-metal runtime) no task starts (`start`), so
// the bookkeeping below compiles but is never used there.
#![cfg_attr(not(feature = "generic-abi"), allow(unused_imports, dead_code))]

use super::async_builtins::TaskFrame;
use super::{bad, param_types, to_raw, trap, Inner};
use crate::component::abi::{Abi, MAX_FLAT_PARAMS};
use crate::component::concurrency::{Pending, Subtask, Waitable};
use crate::component::module::lifted_core_type;
use crate::component::table::Entry;
use crate::component::types::Types;
use crate::component::val::Val;
use crate::store::Store;
use crate::trap::Trap;
use alloc::vec::Vec;
use weld_contract::component::abi::MAX_FLAT_ASYNC_PARAMS;
use weld_contract::component::concurrency::{
    pack_subtask, unpack_callback_result, CallbackCode, Event, SubtaskState,
};
use weld_contract::component::{Lifted, StringEncoding};
use weld_contract::trap::TrapCode;

/// The borrow scope of task `id` (`Handle::scope`; 0 is the synchronous calls').
fn scope(id: u32) -> u32 {
    id.wrapping_add(1)
}

/// Where a task's arguments come from.
#[derive(Clone, Debug)]
pub(super) enum Args {
    /// Values from the host (or already lifted).
    Vals(Vec<Val>),
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

/// What a task does between quanta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Not started: waiting for backpressure to let it in.
    Starting,
    /// Running a quantum (its code is on the stack).
    Running,
    /// Waiting to be called back: after `YIELD` (`None`) or for an event of a set.
    Waiting(Option<u32>),
    /// Its core function exited.
    Exited,
}

/// One call of an async-lifted function.
#[derive(Clone, Debug)]
pub(super) struct Task {
    /// The function.
    pub f: Lifted,
    /// Its arguments, until it starts.
    pub args: Option<Args>,
    /// Its results' destination.
    pub sink: Sink,
    /// Phase.
    pub phase: Phase,
    /// Whether it returned (or was cancelled).
    pub resolved: bool,
    /// Its `context.get/set` slots, kept between quanta.
    pub context: [u64; weld_contract::component::concurrency::CONTEXT_SLOTS],
    /// The caller's handles lent to it (`borrow` arguments), until it resolves.
    pub loans: Vec<super::Loan>,
    /// When it began to wait (a tick of [`Inner::async_clock`]): the event loop serves the
    /// longest-waiting ready task first, so a task that keeps yielding cannot starve others.
    pub since: u64,
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
        if f.opts.callback.is_none() {
            return Err(trap(TrapCode::NeedsStackSwitching));
        }
        let task = Task {
            f: f.clone(),
            args: Some(args),
            sink,
            phase: Phase::Starting,
            resolved: false,
            context: Default::default(),
            since: self.tick(),
            loans: Vec::new(),
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
        if self.may_start(id)? {
            self.start(id)?;
        }
        Ok(id)
    }

    /// Forget task `id`'s record; its slot serves the next task.
    fn free_task(&self, id: u32) {
        if let Some(slot) = self.async_tasks.borrow_mut().get_mut(id as usize) {
            *slot = None;
            self.async_free.borrow_mut().push(id);
        }
    }

    fn with_task<T>(&self, id: u32, f: impl FnOnce(&mut Task) -> T) -> Result<T, Trap> {
        let mut tasks = self.async_tasks.borrow_mut();
        let t = tasks
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or_else(bad)?;
        Ok(f(t))
    }

    /// Whether a starting task may enter its instance: no backpressure, nothing of it on the
    /// stack.
    fn may_start(&self, id: u32) -> Result<bool, Trap> {
        let inst = self.with_task(id, |t| t.f.opts.instance)?;
        let mut st = self.state()?;
        let s = st.inst(inst)?;
        Ok(s.backpressure == 0 && s.may_enter())
    }

    /// Without the generic Canonical ABI path (the bare-metal runtime) no task can start:
    /// lifting its arguments needs that path until async crossings are compiled (stage 3 of
    /// `docs/async-plan.md`).
    #[cfg(not(feature = "generic-abi"))]
    fn start(&self, _id: u32) -> Result<(), Trap> {
        Err(trap(TrapCode::UnsupportedBuiltin))
    }

    /// Start task `id`: lift its arguments from the caller, lower them into the callee, run
    /// its first quantum.
    #[cfg(feature = "generic-abi")]
    fn start(&self, id: u32) -> Result<(), Trap> {
        let (f, args) = self.with_task(id, |t| (t.f.clone(), t.args.take()))?;
        let info = self.info();
        let types = Types::new(&info.types);
        let ft = info.func_types.get(f.ty as usize).ok_or_else(bad)?;
        // SAFETY: called while wasm of this instance runs or from a host entry.
        let store = unsafe { self.store() };
        let (vals, src) = match args.ok_or_else(bad)? {
            Args::Vals(v) => (v, StringEncoding::Utf8),
            Args::Flat {
                lowering,
                flat,
                async_,
            } => {
                let l = info.lowerings.get(lowering as usize).ok_or_else(bad)?;
                let mut loans = Vec::new();
                let max = if async_ {
                    MAX_FLAT_ASYNC_PARAMS
                } else {
                    MAX_FLAT_PARAMS
                };
                let abi = Abi {
                    types,
                    src: l.opts.encoding,
                };
                let v = {
                    let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
                    abi.lift_values(&mut cx, max, &flat, &param_types(ft))?
                };
                self.with_task(id, |t| t.loans = loans)?;
                (v, l.opts.encoding)
            }
        };
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
        let packed = self.quantum(store, id, callee, |store| {
            let raw = func.call(store, &to_raw(&flat))?;
            raw.first().map(|v| v.get_i32() as u32).ok_or_else(bad)
        })?;
        self.after_quantum(id, packed)
    }

    /// Run one quantum of task `id` in `callee`: the instance entered, the task current.
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
        let context = self.with_task(id, |t| {
            t.phase = Phase::Running;
            t.context
        })?;
        self.tasks.borrow_mut().push(TaskFrame {
            context,
            may_block: true,
            task: Some(id),
        });
        let packed = run(store)?;
        let frame = self.tasks.borrow_mut().pop().ok_or_else(bad)?;
        self.with_task(id, |t| t.context = frame.context)?;
        self.state()?.inst(callee)?.set_may_enter(true);
        Ok(packed)
    }

    /// What a callback code asks for.
    fn after_quantum(&self, id: u32, packed: u32) -> Result<(), Trap> {
        let code = unpack_callback_result(packed).ok_or(trap(TrapCode::UnsupportedCallbackCode))?;
        let phase = match code {
            CallbackCode::Exit => {
                if !self.task_resolved(id) {
                    return Err(trap(TrapCode::TaskNotReturned));
                }
                Phase::Exited
            }
            CallbackCode::Yield => Phase::Waiting(None),
            CallbackCode::Wait(si) => {
                let inst = self.with_task(id, |t| t.f.opts.instance)?;
                // A waiter of the set until called back (dropping the set meanwhile traps).
                self.state()?.set_waiting(inst, si, true)?;
                Phase::Waiting(Some(si))
            }
        };
        let now = self.tick();
        self.with_task(id, |t| {
            t.phase = phase;
            t.since = now;
        })?;
        // An exited task's record goes, unless a waiting caller has yet to take its results.
        let kept = self.with_task(id, |t| matches!(t.sink, Sink::Keep(_)))?;
        if phase == Phase::Exited && !kept {
            self.free_task(id);
        }
        Ok(())
    }

    /// The next tick of the event loop's clock.
    fn tick(&self) -> u64 {
        let t = self.async_clock.get();
        self.async_clock.set(t + 1);
        t
    }

    /// The task that has waited longest among those that can run now, and the event to call
    /// it back with.
    fn next_ready(&self) -> Result<Option<(u32, Option<Event>)>, Trap> {
        let mut order: Vec<(u64, u32)> = self
            .async_tasks
            .borrow()
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (t.since, i as u32)))
            .collect();
        order.sort_unstable();
        for (_, id) in order {
            let Some((inst, phase)) = self
                .async_tasks
                .borrow()
                .get(id as usize)
                .and_then(Option::as_ref)
                .map(|t| (t.f.opts.instance, t.phase))
            else {
                continue;
            };
            let enterable = self.state()?.inst(inst)?.may_enter();
            match phase {
                Phase::Starting if self.may_start(id)? => return Ok(Some((id, None))),
                Phase::Waiting(None) if enterable => return Ok(Some((id, Some(Event::NONE)))),
                Phase::Waiting(Some(si)) if enterable => {
                    let mut st = self.state()?;
                    if let Some(w) = st.set_ready(inst, si)? {
                        return Ok(Some((id, Some(st.deliver(inst, w)?))));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Run ready tasks until `done` holds; a deadlock if nothing can run before then.
    pub(super) fn run_until(&self, done: &dyn Fn(&Inner) -> bool) -> Result<(), Trap> {
        if !done(self) && self.async_lowered_sync.get() > 0 {
            // A sync-lifted callee of an async lower would block: its caller should go on
            // meanwhile, which needs a stack of the callee's own.
            return Err(trap(TrapCode::NeedsStackSwitching));
        }
        while !done(self) {
            let Some((id, event)) = self.next_ready()? else {
                return Err(trap(TrapCode::AsyncDeadlock));
            };
            match event {
                None => self.start(id)?,
                Some(ev) => self.call_back(id, ev)?,
            }
        }
        Ok(())
    }

    /// Call task `id`'s callback with `ev`.
    fn call_back(&self, id: u32, ev: Event) -> Result<(), Trap> {
        let (f, phase) = self.with_task(id, |t| (t.f.clone(), t.phase))?;
        if let Phase::Waiting(Some(si)) = phase {
            self.state()?.set_waiting(f.opts.instance, si, false)?;
        }
        // SAFETY: called while wasm of this instance runs or from a host entry.
        let store = unsafe { self.store() };
        let cb = self.func(store, f.opts.callback.as_ref().ok_or_else(bad)?)?;
        let args = [ev.code as u64, u64::from(ev.p1), u64::from(ev.p2)];
        let packed = self.quantum(store, id, f.opts.instance, |store| {
            let raw = cb.call(store, &to_raw(&args))?;
            raw.first().map(|v| v.get_i32() as u32).ok_or_else(bad)
        })?;
        self.after_quantum(id, packed)
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
        let (sink, loans) = self.with_task(id, |t| {
            t.resolved = true;
            (t.sink.clone(), core::mem::take(&mut t.loans))
        })?;
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
    fn subtask_progress(&self, id: u32, state: SubtaskState) -> Result<(), Trap> {
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

    /// An async lower of callback-lifted `f`: start it; the packed state core wasm gets.
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
            }))?;
        self.with_task(id, |t| {
            if let Sink::Subtask { handle, .. } = &mut t.sink {
                *handle = Some(h);
            }
        })?;
        Ok(pack_subtask(state, Some(h)))
    }

    /// A sync call of callback-lifted `f` (a sync lower, or the host): run it, and the event
    /// loop until it returns; its results.
    pub(super) fn call_and_wait(&self, f: &Lifted, args: Args) -> Result<Vec<Val>, Trap> {
        let id = self.spawn(f, args, Sink::Keep(None))?;
        self.run_until(&|inner| inner.task_resolved(id))?;
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
            // It goes on after returning; nobody waits for its results any more.
            self.with_task(id, |t| t.sink = Sink::Taken)?;
        }
        results.ok_or_else(bad)
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

    /// A nested wait of the current task for an event of set `si` of `inst`.
    pub(super) fn wait_on_set(&self, inst: u32, si: u32) -> Result<Event, Trap> {
        self.state()?.set_waiting(inst, si, true)?;
        let r = self.run_until(&|inner| {
            inner
                .state()
                .ok()
                .and_then(|mut st| st.set_ready(inst, si).ok().flatten())
                .is_some()
        });
        self.state()?.set_waiting(inst, si, false)?;
        r?;
        let mut st = self.state()?;
        let w = st.set_ready(inst, si)?.ok_or_else(bad)?;
        st.deliver(inst, w)
    }
}
