//! The async ABI's built-ins as a lowering trampoline reaches them: waitable sets, streams,
//! futures and error contexts (`concurrency/` keeps their state and rules; this file decodes
//! the core arguments, reads memory lengths, moves elements between memories and writes
//! events back).
//!
//! In: a built-in lowering and its flat core arguments. Out: its flat results, or the trap.
//! Every built-in checks `may_leave` first; the synchronous variants of those that can block
//! then apply the may-block rule (a task of a synchronous function type may not block before
//! it returns: "cannot block a synchronous task before returning"), checked eagerly as the
//! shared test suite expects. A wait that could only be served by another task's progress
//! reports a deadlock: with no other task able to run on this stack (callback tasks and
//! stack switching come later, see `docs/async-plan.md`), none would ever come.

use super::{bad, trap, Inner, StoreCx};
#[cfg(feature = "generic-abi")]
use crate::component::abi::Abi;
use crate::component::concurrency::channel::{Buffer, CopyCall};
use crate::component::concurrency::waitable::waitable_mut;
use crate::component::concurrency::{Copied, Transfer};
use crate::component::string::{load_string, store_string};
use crate::component::types::Types;
use crate::instance::Extern;
use crate::trap::Trap;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::component::concurrency::{none_or_number_type, Event, BLOCKED};
use weld_contract::component::{Builtin, CanonOpts, ChannelOp, Lowering, TypeDef};
use weld_contract::trap::TrapCode;

/// What one task on the stack may do: its context slots and whether it may block (its
/// function type is async, or it already returned).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TaskFrame {
    /// `context.get/set` slots.
    pub context: [u64; weld_contract::component::concurrency::CONTEXT_SLOTS],
    /// Whether the task may block.
    pub may_block: bool,
    /// The async task it runs code of (`tasks.rs`), if any.
    #[cfg_attr(not(feature = "generic-abi"), allow(dead_code))]
    pub task: Option<u32>,
    /// The component instance it entered (cleared `may_enter` of), if any: left while the
    /// fiber it runs on is blocked (`threads.rs`).
    pub entered: Option<u32>,
    /// The thread it runs (`thread_builtins.rs`; only in graphs that use thread built-ins).
    pub thread: Option<u32>,
}

impl Inner {
    /// Whether the innermost task may block.
    pub(super) fn may_block(&self) -> bool {
        self.tasks.borrow().last().is_some_and(|t| t.may_block)
    }

    /// Whether the innermost task, running in `inst`, may block now: its function type is
    /// async (or it returned), or another thread of the instance is ready to use the stack
    /// meanwhile (`during-sync-call-may-block-if-other-ready-threads.wast`).
    pub(super) fn may_block_in(&self, inst: u32) -> bool {
        self.may_block() || self.others_ready_than_current(inst)
    }

    /// The eager may-block check of a synchronous built-in that can block.
    fn check_may_block(&self, inst: u32, sync: bool) -> Result<(), Trap> {
        if sync && !self.may_block_in(inst) {
            return Err(trap(TrapCode::SyncTaskBlocked));
        }
        Ok(())
    }

    /// A built-in of the async ABI: lowering `index`, `l` (`l.opts.instance` is the caller).
    pub(super) fn run_async_builtin(
        &self,
        index: u32,
        l: &Lowering,
        b: &Builtin,
        args: &[u64],
    ) -> Result<Vec<u64>, Trap> {
        let inst = l.opts.instance;
        if !self.state()?.inst(inst)?.may_leave() {
            return Err(trap(TrapCode::CannotLeaveComponent));
        }
        let a = |i: usize| args.get(i).map(|v| *v as u32).ok_or_else(bad);
        match b {
            Builtin::WaitableSetNew => Ok(vec![u64::from(self.state()?.set_new(inst)?)]),
            Builtin::WaitableSetWait | Builtin::WaitableSetPoll => {
                let wait = *b == Builtin::WaitableSetWait;
                self.check_may_block(inst, wait)?;
                let si = a(0)?;
                let ready = self.state()?.set_ready(inst, si)?;
                let ev = match ready {
                    Some(w) => self.state()?.deliver(inst, w)?,
                    None if wait => self.wait_on_set(inst, si)?,
                    None => Event::NONE,
                };
                self.write_event(l, a(1)?, ev)?;
                Ok(vec![ev.code as u64])
            }
            Builtin::WaitableSetDrop => {
                self.state()?.set_drop(inst, a(0)?)?;
                Ok(Vec::new())
            }
            Builtin::WaitableJoin => {
                self.state()?.join(inst, a(0)?, a(1)?)?;
                Ok(Vec::new())
            }
            Builtin::Channel { ty, op } => self.channel_op(index, l, *ty, *op, args),
            Builtin::ErrorContextNew => {
                let msg = {
                    // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
                    let store = unsafe { self.store() };
                    let mut loans = Vec::new();
                    let cx = self.cx(store, &l.opts, false, &mut loans)?;
                    load_string(&cx, a(0)?, a(1)?)?
                };
                let mut st = self.state()?;
                let id = st.async_.errors.new_context(msg);
                let i = st
                    .inst(inst)?
                    .table
                    .add(crate::component::table::Entry::ErrorContext(id));
                Ok(vec![u64::from(i?)])
            }
            Builtin::ErrorContextDebugMessage => {
                let msg = {
                    let mut st = self.state()?;
                    let id = st.error_context(inst, a(0)?)?;
                    alloc::string::String::from(st.async_.errors.message(id).ok_or_else(bad)?)
                };
                // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
                let store = unsafe { self.store() };
                let mut loans = Vec::new();
                let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
                let (ptr, units) = store_string(&mut cx, &msg, l.opts.encoding)?;
                let at = a(1)?;
                write_u32(&mut cx, at, ptr)?;
                write_u32(&mut cx, at.wrapping_add(4), units)?;
                Ok(Vec::new())
            }
            Builtin::TaskReturn => {
                self.task_return(l, args)?;
                Ok(Vec::new())
            }
            Builtin::SubtaskDrop => {
                self.subtask_drop(inst, a(0)?)?;
                Ok(Vec::new())
            }
            Builtin::SubtaskCancel => {
                let sync = !l.opts.async_;
                self.check_may_block(inst, sync)?;
                Ok(vec![u64::from(self.subtask_cancel(inst, a(0)?, !sync)?)])
            }
            Builtin::TaskCancel => {
                self.task_cancel()?;
                Ok(Vec::new())
            }
            Builtin::Recursive => Err(trap(TrapCode::CannotEnterComponent)),
            b if b.is_thread() => self.run_thread_builtin(l, b, args),
            Builtin::ThreadYield => {
                // On a fiber, others waiting run first; on a host call's stack there is no one
                // to let go first, nor for a task that may not block (never cancelled).
                self.check_may_block(inst, false)?;
                if self.current_fiber.get().is_some() && self.may_block() {
                    self.block_until(alloc::rc::Rc::new(|_: &Inner| true))?;
                }
                Ok(vec![0])
            }
            Builtin::ErrorContextDrop => {
                let mut st = self.state()?;
                let id = st.error_context(inst, a(0)?)?;
                st.inst(inst)?.table.remove(a(0)?)?;
                st.async_.errors.release(id);
                Ok(Vec::new())
            }
            _ => Err(trap(TrapCode::UnsupportedBuiltin)),
        }
    }

    /// `p1`, `p2` of an event into the built-in's memory at `ptr`.
    fn write_event(&self, l: &Lowering, ptr: u32, ev: Event) -> Result<(), Trap> {
        // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
        let store = unsafe { self.store() };
        let mut loans = Vec::new();
        let mut cx = self.cx(store, &l.opts, false, &mut loans)?;
        write_u32(&mut cx, ptr, ev.p1)?;
        write_u32(&mut cx, ptr.wrapping_add(4), ev.p2)
    }

    /// A stream or future built-in.
    fn channel_op(
        &self,
        index: u32,
        l: &Lowering,
        ty: u32,
        op: ChannelOp,
        args: &[u64],
    ) -> Result<Vec<u64>, Trap> {
        let inst = l.opts.instance;
        let info = self.info();
        let types = Types::new(&info.types);
        let (elem, future) = match types.get(ty) {
            TypeDef::Stream(e) => (*e, false),
            TypeDef::Future(e) => (*e, true),
            _ => return Err(bad()),
        };
        let a = |i: usize| args.get(i).map(|v| *v as u32).ok_or_else(bad);
        let sync = !l.opts.async_;
        match op {
            ChannelOp::New => {
                let shape = (
                    elem,
                    elem.map_or(0, |e| types.size(e)),
                    none_or_number_type(elem.map(|e| types.get(e))),
                );
                Ok(vec![self.state()?.channel_new(inst, ty, shape, future)?])
            }
            ChannelOp::Read | ChannelOp::Write => {
                self.check_may_block(inst, sync)?;
                let call = CopyCall {
                    inst,
                    end: a(0)?,
                    ty,
                    read: op == ChannelOp::Read,
                    buf: Buffer {
                        lowering: index,
                        ptr: a(1)?,
                        len: if future { 1 } else { a(2)? },
                    },
                    async_: !sync,
                    mem_len: self.memory_len(l)?,
                    align: elem.map_or(1, |e| types.align(e)),
                };
                let (copied, transfer) = self.state()?.copy(call)?;
                if let Some(t) = transfer {
                    self.transfer(t)?;
                }
                self.copied(copied, sync, inst, call.end)
            }
            ChannelOp::CancelRead | ChannelOp::CancelWrite => {
                self.check_may_block(inst, sync)?;
                let read = op == ChannelOp::CancelRead;
                let copied = self.state()?.cancel_copy(inst, a(0)?, ty, read, !sync)?;
                self.copied(copied, sync, inst, a(0)?)
            }
            ChannelOp::DropReadable | ChannelOp::DropWritable => {
                let readable = op == ChannelOp::DropReadable;
                self.state()?.drop_end(inst, a(0)?, ty, readable)?;
                Ok(Vec::new())
            }
        }
    }

    /// The result of a copy or cancel: the payload, `BLOCKED`, or (sync) a wait for end `i`
    /// of `inst` to get its event.
    fn copied(&self, c: Copied, sync: bool, inst: u32, i: u32) -> Result<Vec<u64>, Trap> {
        match c {
            Copied::Done(p) => Ok(vec![u64::from(p)]),
            Copied::Blocked if sync => {
                self.set_sync_waiter(inst, i, true)?;
                let r = self.block_until(alloc::rc::Rc::new(move |inner: &Inner| {
                    inner.has_pending(inst, i)
                }));
                self.set_sync_waiter(inst, i, false)?;
                r?;
                Ok(vec![u64::from(self.state()?.deliver(inst, i)?.p2)])
            }
            Copied::Blocked => Ok(vec![u64::from(BLOCKED)]),
        }
    }

    /// Whether waitable `i` of `inst` has a pending event.
    fn has_pending(&self, inst: u32, i: u32) -> bool {
        let Ok(mut st) = self.state() else {
            return false;
        };
        let Ok(s) = st.inst(inst) else {
            return false;
        };
        s.table
            .get_mut(i)
            .ok()
            .and_then(waitable_mut)
            .is_some_and(|w| w.pending.is_some())
    }

    fn set_sync_waiter(&self, inst: u32, i: u32, on: bool) -> Result<(), Trap> {
        let mut st = self.state()?;
        let e = st.inst(inst)?.table.get_mut(i)?;
        if let Some(w) = waitable_mut(e) {
            w.sync_waiter = on;
        }
        Ok(())
    }

    /// The byte length of a built-in's memory (0 without one).
    fn memory_len(&self, l: &Lowering) -> Result<u64, Trap> {
        let Some(def) = &l.opts.memory else {
            return Ok(0);
        };
        // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
        let store = unsafe { self.store() };
        match self.export(store, def)? {
            Extern::Memory(m) => Ok(m.data(store).len() as u64),
            _ => Err(bad()),
        }
    }

    /// Move a transfer's elements from the writer's memory to the reader's: bytes for plain
    /// element types, else each value lifted with the writer's options and lowered with the
    /// reader's (strings and lists re-allocated, handles moved).
    fn transfer(&self, t: Transfer) -> Result<(), Trap> {
        let ch = self.state()?.channel(t.channel)?.clone();
        let Some(elem) = ch.elem else {
            return Ok(());
        };
        let info = self.info();
        let opts = |k: u32| {
            info.lowerings
                .get(k as usize)
                .map(|l| &l.opts)
                .ok_or_else(bad)
        };
        let (from, to) = (opts(t.from.0)?, opts(t.to.0)?);
        // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
        let store = unsafe { self.store() };
        let mut loans = Vec::new();
        if ch.plain {
            let bytes = t.n as usize * ch.elem_size as usize;
            let src = {
                let cx = self.cx(store, from, false, &mut loans)?;
                let mem = crate::component::abi::CanonCx::memory(&cx)?;
                let at = t.from.1 as usize;
                mem.get(at..at + bytes).ok_or_else(bad)?.as_ptr()
            };
            let mut cx = self.cx(store, to, false, &mut loans)?;
            let mem = crate::component::abi::CanonCx::memory_mut(&mut cx)?;
            let at = t.to.1 as usize;
            let dst = mem.get_mut(at..at + bytes).ok_or_else(bad)?;
            // SAFETY: `src` points at `bytes` checked bytes of the writer's memory, which
            // nothing resized or freed since (no wasm ran in between); `dst` is the reader's
            // range, borrowed here. `copy` allows both to be one memory.
            unsafe { core::ptr::copy(src, dst.as_mut_ptr(), bytes) };
            return Ok(());
        }
        self.transfer_values(t, elem, from, to, ch.elem_size)
    }

    /// Without the generic path (the bare-metal runtime), only plain elements move.
    #[cfg(not(feature = "generic-abi"))]
    fn transfer_values(
        &self,
        _t: Transfer,
        _elem: u32,
        _from: &CanonOpts,
        _to: &CanonOpts,
        _size: u32,
    ) -> Result<(), Trap> {
        Err(trap(TrapCode::UnsupportedBuiltin))
    }

    /// Elements that are not plain bytes: each lifted with the writer's options and lowered
    /// with the reader's.
    #[cfg(feature = "generic-abi")]
    fn transfer_values(
        &self,
        t: Transfer,
        elem: u32,
        from: &CanonOpts,
        to: &CanonOpts,
        size: u32,
    ) -> Result<(), Trap> {
        let info = self.info();
        let types = Types::new(&info.types);
        // SAFETY: called from a lowering trampoline, while wasm of this instance runs.
        let store = unsafe { self.store() };
        let mut loans = Vec::new();
        for k in 0..t.n {
            let v = {
                let mut cx = self.cx(store, from, false, &mut loans)?;
                Abi {
                    types,
                    src: from.encoding,
                }
                .load(&mut cx, t.from.1 + k * size, elem)?
            };
            let mut cx: StoreCx<'_> = self.cx(store, to, false, &mut loans)?;
            Abi {
                types,
                src: from.encoding,
            }
            .store(&mut cx, &v, elem, t.to.1 + k * size)?;
        }
        Ok(())
    }
}

fn write_u32(cx: &mut StoreCx<'_>, ptr: u32, v: u32) -> Result<(), Trap> {
    let mem = crate::component::abi::CanonCx::memory_mut(cx)?;
    let at = ptr as usize;
    mem.get_mut(at..at + 4)
        .ok_or(trap(TrapCode::MemoryOutOfBounds))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}
