//! Waitables (stream and future ends, subtasks), waitable sets and events.
//!
//! In: `waitable.join`, `waitable-set.new/poll/wait/drop` on one instance's table. Out: events
//! as core wasm sees them. A waitable holds at most one pending event, computed when it is
//! delivered (a stream's progress keeps growing until its owner looks) and then cleared; it is
//! in at most one set. A set delivers the pending event of its first member in join order:
//! the spec lets an implementation pick any, and weld picks deterministically.

use super::channel;
use crate::component::resources::ResourceState;
use crate::component::table::Entry;
use crate::trap::Trap;
use alloc::vec::Vec;
use weld_contract::component::concurrency::{CopyResult, Event, EventCode, SubtaskState};
use weld_contract::trap::TrapCode;

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

/// What a waitable's pending event will report when delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// A stream or future copy finished with `result`; `reclaim`: the end's buffer is still
    /// the one parked in the shared object, and delivery takes it back.
    Copy {
        /// How it finished.
        result: CopyResult,
        /// Whether delivery un-parks the buffer.
        reclaim: bool,
    },
    /// A subtask progressed (its state is read at delivery).
    Subtask,
}

/// The waitable part of a table entry.
#[derive(Clone, Debug, Default)]
pub struct Waitable {
    /// The set it is in (a handle index of the same table).
    pub set: Option<u32>,
    /// Its pending event.
    pub pending: Option<Pending>,
    /// A synchronous built-in is waiting on it.
    pub sync_waiter: bool,
}

/// A waitable set.
#[derive(Clone, Debug, Default)]
pub struct WaitableSet {
    /// Members, in join order.
    pub members: Vec<u32>,
    /// Threads waiting on it.
    pub waiters: u32,
}

/// A call made with `canon lower async` that did not finish at once.
#[derive(Clone, Debug)]
pub struct Subtask {
    /// Its state as the caller last saw it.
    pub state: SubtaskState,
    /// Whether its resolution was delivered to the caller.
    pub delivered: bool,
    /// The waitable part.
    pub waitable: Waitable,
    /// The callee's task (the runtime's id, meaningful until the subtask resolves).
    pub task: u32,
    /// Whether the caller asked to cancel it (`subtask.cancel`; once only).
    pub cancel_requested: bool,
}

/// The waitable part of entry `e`, if it is a waitable.
pub fn waitable_mut(e: &mut Entry) -> Option<&mut Waitable> {
    match e {
        Entry::End(end) => Some(&mut end.waitable),
        Entry::Subtask(s) => Some(&mut s.waitable),
        _ => None,
    }
}

fn waitable_of(e: &Entry) -> Option<&Waitable> {
    match e {
        Entry::End(end) => Some(&end.waitable),
        Entry::Subtask(s) => Some(&s.waitable),
        _ => None,
    }
}

impl ResourceState {
    /// `waitable-set.new`.
    pub fn set_new(&mut self, inst: u32) -> Result<u32, Trap> {
        self.inst(inst)?
            .table
            .add(Entry::Set(WaitableSet::default()))
    }

    fn set_mut(&mut self, inst: u32, si: u32) -> Result<&mut WaitableSet, Trap> {
        match self.inst(inst)?.table.get_mut(si)? {
            Entry::Set(s) => Ok(s),
            _ => Err(trap(TrapCode::WrongHandleKind)),
        }
    }

    /// `waitable.join(wi, si)`: move waitable `wi` into set `si`, or out of any set for 0.
    pub fn join(&mut self, inst: u32, wi: u32, si: u32) -> Result<(), Trap> {
        let old = {
            let table = &mut self.inst(inst)?.table;
            let w = waitable_mut(table.get_mut(wi)?).ok_or(trap(TrapCode::WrongHandleKind))?;
            if w.sync_waiter {
                return Err(trap(TrapCode::WaitableInSet));
            }
            w.set
        };
        if si != 0 {
            self.set_mut(inst, si)?;
        }
        if let Some(old) = old {
            if let Ok(s) = self.set_mut(inst, old) {
                s.members.retain(|m| *m != wi);
            }
        }
        if si != 0 {
            self.set_mut(inst, si)?.members.push(wi);
        }
        let table = &mut self.inst(inst)?.table;
        if let Some(w) = waitable_mut(table.get_mut(wi)?) {
            w.set = (si != 0).then_some(si);
        }
        Ok(())
    }

    /// The first member of set `si` with a pending event, if any.
    pub fn set_ready(&mut self, inst: u32, si: u32) -> Result<Option<u32>, Trap> {
        let members = self.set_mut(inst, si)?.members.clone();
        let table = &self.inst(inst)?.table;
        Ok(members.into_iter().find(|m| {
            table
                .get(*m)
                .ok()
                .and_then(waitable_of)
                .is_some_and(|w| w.pending.is_some())
        }))
    }

    /// `waitable-set.poll` without cancellation: the next event, or `NONE`.
    pub fn set_poll(&mut self, inst: u32, si: u32) -> Result<Event, Trap> {
        match self.set_ready(inst, si)? {
            Some(w) => self.deliver(inst, w),
            None => Ok(Event::NONE),
        }
    }

    /// Count a waiter on set `si` in (`up`) or out.
    pub fn set_waiting(&mut self, inst: u32, si: u32, up: bool) -> Result<(), Trap> {
        let s = self.set_mut(inst, si)?;
        s.waiters = if up {
            s.waiters.saturating_add(1)
        } else {
            s.waiters.saturating_sub(1)
        };
        Ok(())
    }

    /// `waitable-set.drop`.
    pub fn set_drop(&mut self, inst: u32, si: u32) -> Result<(), Trap> {
        let s = self.set_mut(inst, si)?;
        if !s.members.is_empty() || s.waiters > 0 {
            return Err(trap(TrapCode::WaitableSetBusy));
        }
        self.inst(inst)?.table.remove(si)?;
        Ok(())
    }

    /// Deliver waitable `wi`'s pending event: compute it, apply its state change, clear it.
    pub fn deliver(&mut self, inst: u32, wi: u32) -> Result<Event, Trap> {
        let pending = {
            let table = &mut self.inst(inst)?.table;
            let w = waitable_mut(table.get_mut(wi)?).ok_or(trap(TrapCode::WrongHandleKind))?;
            w.pending.take()
        };
        match pending {
            None => Ok(Event::NONE),
            Some(Pending::Copy { result, reclaim }) => {
                channel::deliver_copy(self, inst, wi, result, reclaim)
            }
            Some(Pending::Subtask) => {
                let table = &mut self.inst(inst)?.table;
                match table.get_mut(wi)? {
                    Entry::Subtask(s) => {
                        if s.state.resolved() {
                            s.delivered = true;
                        }
                        Ok(Event {
                            code: EventCode::Subtask,
                            p1: wi,
                            p2: s.state as u32,
                        })
                    }
                    _ => Err(trap(TrapCode::WrongHandleKind)),
                }
            }
        }
    }

    /// Take waitable `wi` out of its set (when it is dropped).
    pub fn leave_set(&mut self, inst: u32, wi: u32, set: Option<u32>) {
        if let Some(si) = set {
            if let Ok(s) = self.set_mut(inst, si) {
                s.members.retain(|m| *m != wi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_delivers_each_pending_event_once_and_cannot_be_dropped_with_members() {
        let mut st = ResourceState::new(1, Vec::new());
        let packed = st.channel_new(0, 3, (None, 0, true), false).unwrap();
        let (r, w) = (packed as u32, (packed >> 32) as u32);
        let set = st.set_new(0).unwrap();
        assert_eq!(set, 3, "the set takes the next index after both ends");
        st.join(0, r, set).unwrap();
        assert_eq!(st.set_poll(0, set).unwrap(), Event::NONE);
        // A read parks; a write of nothing completes it (a stream of no values counts).
        let call = |end, read| super::super::channel::CopyCall {
            inst: 0,
            end,
            ty: 3,
            read,
            buf: super::super::channel::Buffer {
                lowering: 0,
                ptr: 0,
                len: 2,
            },
            async_: true,
            mem_len: 0,
            align: 1,
        };
        st.copy(call(r, true)).unwrap();
        st.copy(call(w, false)).unwrap();
        let ev = st.set_poll(0, set).unwrap();
        assert_eq!((ev.code, ev.p1, ev.p2), (EventCode::StreamRead, r, 0x20));
        assert_eq!(st.set_poll(0, set).unwrap(), Event::NONE, "delivered once");
        assert_eq!(
            st.set_drop(0, set).unwrap_err().code,
            TrapCode::WaitableSetBusy
        );
        st.join(0, r, 0).unwrap();
        st.set_waiting(0, set, true).unwrap();
        assert_eq!(
            st.set_drop(0, set).unwrap_err().code,
            TrapCode::WaitableSetBusy,
            "a waiter keeps it too"
        );
        st.set_waiting(0, set, false).unwrap();
        st.set_drop(0, set).unwrap();
    }
}
