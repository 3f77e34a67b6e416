//! Streams and futures: the shared object between two ends, and the ends' built-ins.
//!
//! In: `stream.*`/`future.*` calls on one instance's table, and readable ends passed as
//! values. Out: payloads (`result | progress << 4`, or `BLOCKED`), pending events, and at most
//! one [`Transfer`] per call. The shared object is a rendezvous: the first side to arrive
//! parks its buffer; the second copies as much as both have room for and completes at once,
//! while the parked side is told by a pending event whose delivery un-parks it — so several
//! writes may fill one parked read before its owner looks (partial copies). A future moves
//! exactly one value. Once an end is dropped, the other side's later copies report `DROPPED`.

use super::waitable::{Pending, Waitable};
use crate::component::resources::ResourceState;
use crate::component::table::Entry;
use crate::trap::Trap;
use weld_contract::component::concurrency::{
    pack_copy_result, pack_ends, CopyResult, CopyState, Event, EventCode, MAX_BUFFER_LENGTH,
};
use weld_contract::trap::TrapCode;

fn trap(code: TrapCode) -> Trap {
    Trap::new(code)
}

/// A stream or future: what both ends share.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Element type (`None`: no values, only counts).
    pub elem: Option<u32>,
    /// Bytes per element in memory (0 without an element type).
    pub elem_size: u32,
    /// Whether elements are plain bytes to copy (`none_or_number_type` of the spec).
    pub plain: bool,
    /// A future (one value) rather than a stream.
    pub future: bool,
    /// One end was dropped.
    pub dropped: bool,
    /// The end whose buffer waits for the other side: (component instance, handle index).
    pub parked: Option<(u32, u32)>,
    /// Live ends (the channel is freed at 0).
    pub ends: u8,
}

/// A buffer of one read or write: its options (a lowering's), address and capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// The built-in lowering whose options (memory, realloc, encoding) apply.
    pub lowering: u32,
    /// Address of element 0.
    pub ptr: u32,
    /// Capacity in elements.
    pub len: u32,
}

/// One end of a stream or future, as a table entry.
#[derive(Clone, Debug)]
pub struct End {
    /// The channel's id.
    pub channel: u32,
    /// The `stream<T>` / `future<T>` type.
    pub ty: u32,
    /// The readable end (else the writable one).
    pub readable: bool,
    /// Copy state.
    pub state: CopyState,
    /// The current copy's buffer.
    pub buf: Option<Buffer>,
    /// Elements the current copy has moved.
    pub progress: u32,
    /// The waitable part.
    pub waitable: Waitable,
}

/// Elements to move from a writer's buffer to a reader's, between component instances'
/// memories: `instance/` performs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The channel (its element type says how to copy).
    pub channel: u32,
    /// The writer's buffer lowering and the address of its first element to move.
    pub from: (u32, u32),
    /// The reader's buffer lowering and the address to move it to.
    pub to: (u32, u32),
    /// Elements.
    pub n: u32,
}

/// How a copy or cancel call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copied {
    /// Finished: the payload core wasm gets.
    Done(u32),
    /// Not finished: `BLOCKED` for the async variant; the sync one must wait.
    Blocked,
}

/// A read or write call, decoded.
#[derive(Clone, Copy, Debug)]
pub struct CopyCall {
    /// The calling component instance.
    pub inst: u32,
    /// The end's handle index.
    pub end: u32,
    /// The built-in's stream or future type.
    pub ty: u32,
    /// Read (else write).
    pub read: bool,
    /// The buffer.
    pub buf: Buffer,
    /// The `async` variant.
    pub async_: bool,
    /// The length of the buffer's memory in bytes.
    pub mem_len: u64,
    /// The element alignment.
    pub align: u32,
}

fn end_mut(
    st: &mut ResourceState,
    inst: u32,
    i: u32,
    ty: u32,
    readable: bool,
) -> Result<&mut End, Trap> {
    match st.inst(inst)?.table.get_mut(i)? {
        Entry::End(e) if e.readable == readable => {
            if e.ty == ty {
                Ok(e)
            } else {
                Err(trap(TrapCode::HandleWrongType))
            }
        }
        _ => Err(trap(TrapCode::WrongHandleKind)),
    }
}

fn channel_mut(st: &mut ResourceState, id: u32) -> Result<&mut Channel, Trap> {
    st.async_
        .channels
        .get_mut(id as usize)
        .and_then(Option::as_mut)
        .ok_or(trap(TrapCode::InvalidValue))
}

fn any_end(st: &mut ResourceState, inst: u32, i: u32) -> Result<&mut End, Trap> {
    match st.inst(inst)?.table.get_mut(i)? {
        Entry::End(e) => Ok(e),
        _ => Err(trap(TrapCode::InvalidValue)),
    }
}

/// The trap for a read or write on an end in state `s` (not idle).
fn busy_or_done(s: CopyState, future: bool, read: bool) -> TrapCode {
    match (s, future, read) {
        (CopyState::Done, false, false) => TrapCode::StreamWriteAfterDrop,
        (CopyState::Done, false, true) => TrapCode::StreamReadAfterDrop,
        (CopyState::Done, true, false) => TrapCode::FutureWriteAfterDone,
        (CopyState::Done, true, true) => TrapCode::FutureReadAfterDone,
        _ => TrapCode::ConcurrentCopy,
    }
}

impl ResourceState {
    /// `stream.new` / `future.new` of type `ty` in `inst`: the packed end indices.
    pub fn channel_new(
        &mut self,
        inst: u32,
        ty: u32,
        shape: (Option<u32>, u32, bool),
        future: bool,
    ) -> Result<u64, Trap> {
        let (elem, elem_size, plain) = shape;
        let ch = Channel {
            elem,
            elem_size,
            plain,
            future,
            dropped: false,
            parked: None,
            ends: 2,
        };
        let id = match self.async_.free_channels.pop() {
            Some(id) => {
                self.async_.channels[id as usize] = Some(ch);
                id
            }
            None => {
                self.async_.channels.push(Some(ch));
                (self.async_.channels.len() - 1) as u32
            }
        };
        let end = |readable| {
            Entry::End(End {
                channel: id,
                ty,
                readable,
                state: CopyState::Idle,
                buf: None,
                progress: 0,
                waitable: Waitable::default(),
            })
        };
        let table = &mut self.inst(inst)?.table;
        let r = table.add(end(true))?;
        let w = table.add(end(false))?;
        Ok(pack_ends(r, w))
    }

    /// `stream.read/write`, `future.read/write`: start a copy; with the other side parked,
    /// finish it (returning the elements to move).
    pub fn copy(&mut self, c: CopyCall) -> Result<(Copied, Option<Transfer>), Trap> {
        let e = end_mut(self, c.inst, c.end, c.ty, c.read)?;
        let (id, state, in_set) = (e.channel, e.state, e.waitable.set.is_some());
        let ch = channel_mut(self, id)?.clone();
        if state != CopyState::Idle {
            return Err(trap(busy_or_done(state, ch.future, c.read)));
        }
        if in_set && !c.async_ {
            return Err(trap(TrapCode::WaitableInSet));
        }
        let len = if ch.future { 1 } else { c.buf.len };
        if len > MAX_BUFFER_LENGTH {
            return Err(trap(TrapCode::CopyBufferOutOfBounds));
        }
        if ch.elem.is_some() && len > 0 {
            if !c.buf.ptr.is_multiple_of(c.align.max(1)) {
                return Err(trap(TrapCode::UnalignedPointer));
            }
            let end = u64::from(c.buf.ptr) + u64::from(len) * u64::from(ch.elem_size);
            if end > c.mem_len {
                return Err(trap(TrapCode::CopyBufferOutOfBounds));
            }
        }
        let e = any_end(self, c.inst, c.end)?;
        e.state = CopyState::Copying;
        e.progress = 0;
        e.buf = Some(Buffer { len, ..c.buf });
        let transfer = self.rendezvous(&c, id, &ch, len)?;
        let pending = any_end(self, c.inst, c.end)?.waitable.pending.is_some();
        if pending {
            let ev = self.deliver(c.inst, c.end)?;
            return Ok((Copied::Done(ev.p2), transfer));
        }
        Ok((Copied::Blocked, transfer))
    }

    /// The shared object's part of a copy: park, or meet the parked side.
    fn rendezvous(
        &mut self,
        c: &CopyCall,
        id: u32,
        ch: &Channel,
        len: u32,
    ) -> Result<Option<Transfer>, Trap> {
        let me = (c.inst, c.end);
        if ch.dropped {
            self.notify(me, CopyResult::Dropped, false)?;
            return Ok(None);
        }
        let Some(other) = ch.parked else {
            channel_mut(self, id)?.parked = Some(me);
            return Ok(None);
        };
        if other.0 == c.inst && !ch.plain {
            return Err(trap(TrapCode::IntraComponentCopy));
        }
        let (obuf, oprogress) = {
            let o = any_end(self, other.0, other.1)?;
            (o.buf.ok_or(trap(TrapCode::InvalidValue))?, o.progress)
        };
        let oremain = obuf.len - oprogress;
        let mut transfer = None;
        if oremain > 0 {
            let n = len.min(oremain);
            if n > 0 {
                let at = |b: &Buffer, p: u32| (b.lowering, b.ptr + p * ch.elem_size);
                let (mine, theirs) = (at(&c.buf, 0), at(&obuf, oprogress));
                let (from, to) = if c.read {
                    (theirs, mine)
                } else {
                    (mine, theirs)
                };
                transfer = Some(Transfer {
                    channel: id,
                    from,
                    to,
                    n,
                });
                any_end(self, other.0, other.1)?.progress += n;
                any_end(self, c.inst, c.end)?.progress += n;
                if ch.future {
                    channel_mut(self, id)?.parked = None;
                    self.notify(other, CopyResult::Completed, false)?;
                } else {
                    self.notify(other, CopyResult::Completed, true)?;
                }
            }
            self.notify(me, CopyResult::Completed, false)?;
        } else if !c.read && len == 0 && obuf.len == 0 {
            // A zero-length write meeting a zero-length read completes only the write.
            self.notify(me, CopyResult::Completed, false)?;
        } else {
            self.notify(other, CopyResult::Completed, false)?;
            channel_mut(self, id)?.parked = Some(me);
        }
        Ok(transfer)
    }

    /// Give end `(inst, i)` a pending copy event (replacing any earlier one).
    fn notify(&mut self, end: (u32, u32), result: CopyResult, reclaim: bool) -> Result<(), Trap> {
        any_end(self, end.0, end.1)?.waitable.pending = Some(Pending::Copy { result, reclaim });
        Ok(())
    }

    /// `{stream,future}.cancel-{read,write}`.
    pub fn cancel_copy(
        &mut self,
        inst: u32,
        i: u32,
        ty: u32,
        read: bool,
        async_: bool,
    ) -> Result<Copied, Trap> {
        let e = end_mut(self, inst, i, ty, read)?;
        if e.state != CopyState::Copying || e.waitable.sync_waiter {
            return Err(trap(TrapCode::ConcurrentCopy));
        }
        if e.waitable.set.is_some() && !async_ {
            return Err(trap(TrapCode::WaitableInSet));
        }
        e.state = CopyState::CancellingCopy;
        // A buffer still parked — nothing moved yet, or a partial copy not yet delivered (its
        // pending event would reclaim it) — is taken back and reports `CANCELLED` with its
        // progress, as the shared suite expects (`cancel-stream.wast`: `CANCELLED | 4 << 4`
        // after 4 of 100 elements); a copy that already ended keeps its result.
        let parked_here = match e.waitable.pending {
            None => true,
            Some(Pending::Copy { reclaim, .. }) => reclaim,
            Some(Pending::Subtask) => false,
        };
        if parked_here {
            let id = e.channel;
            let ch = channel_mut(self, id)?;
            if ch.parked == Some((inst, i)) {
                ch.parked = None;
            }
            self.notify((inst, i), CopyResult::Cancelled, false)?;
        }
        if any_end(self, inst, i)?.waitable.pending.is_none() {
            return Ok(Copied::Blocked);
        }
        Ok(Copied::Done(self.deliver(inst, i)?.p2))
    }

    /// `{stream,future}.drop-{readable,writable}`.
    pub fn drop_end(&mut self, inst: u32, i: u32, ty: u32, readable: bool) -> Result<(), Trap> {
        let e = end_mut(self, inst, i, ty, readable)?;
        if matches!(e.state, CopyState::Copying | CopyState::CancellingCopy) {
            return Err(trap(if readable {
                TrapCode::RemoveBusyStream
            } else {
                TrapCode::DropBusyStream
            }));
        }
        let (id, state, set) = (e.channel, e.state, e.waitable.set);
        if !readable && state != CopyState::Done && channel_mut(self, id)?.future {
            return Err(trap(TrapCode::FutureDroppedUnwritten));
        }
        self.inst(inst)?.table.remove(i)?;
        self.leave_set(inst, i, set);
        self.release_end(id)
    }

    /// One end of channel `id` is gone: tell a parked other side, free the channel at the last.
    fn release_end(&mut self, id: u32) -> Result<(), Trap> {
        let ch = channel_mut(self, id)?;
        ch.ends = ch.ends.saturating_sub(1);
        let parked = if ch.dropped {
            None
        } else {
            ch.dropped = true;
            ch.parked.take()
        };
        let last = ch.ends == 0;
        if let Some(p) = parked {
            self.notify(p, CopyResult::Dropped, false)?;
        }
        if last {
            self.async_.channels[id as usize] = None;
            self.async_.free_channels.push(id);
        }
        Ok(())
    }

    /// `lift_stream` / `lift_future`: take readable end `i` of type `ty` out of `inst`'s table
    /// to pass it on; the channel id.
    pub fn lift_end(&mut self, inst: u32, i: u32, ty: u32) -> Result<u32, Trap> {
        let e = end_mut(self, inst, i, ty, true)?;
        let (id, state, in_set) = (e.channel, e.state, e.waitable.set.is_some());
        let future = channel_mut(self, id)?.future;
        match state {
            CopyState::Idle => {}
            CopyState::Done if future => return Err(trap(TrapCode::FutureLiftAfterDone)),
            CopyState::Done => return Err(trap(TrapCode::StreamLiftAfterDrop)),
            _ => return Err(trap(TrapCode::RemoveBusyStream)),
        }
        if in_set {
            return Err(trap(if future {
                TrapCode::LiftFutureInSet
            } else {
                TrapCode::LiftStreamInSet
            }));
        }
        self.inst(inst)?.table.remove(i)?;
        Ok(id)
    }

    /// Lower a readable end of channel `id` (type `ty`) into `inst`'s table.
    pub fn lower_end(&mut self, inst: u32, id: u32, ty: u32) -> Result<u32, Trap> {
        channel_mut(self, id)?;
        self.inst(inst)?.table.add(Entry::End(End {
            channel: id,
            ty,
            readable: true,
            state: CopyState::Idle,
            buf: None,
            progress: 0,
            waitable: Waitable::default(),
        }))
    }

    /// The channel of a [`Transfer`].
    pub fn channel(&mut self, id: u32) -> Result<&Channel, Trap> {
        Ok(&*channel_mut(self, id)?)
    }
}

/// Deliver a copy event to end `wi` of `inst`: un-park its buffer if asked, move its state on,
/// and report the payload.
pub(super) fn deliver_copy(
    st: &mut ResourceState,
    inst: u32,
    wi: u32,
    result: CopyResult,
    reclaim: bool,
) -> Result<Event, Trap> {
    let e = any_end(st, inst, wi)?;
    let (id, readable, progress) = (e.channel, e.readable, e.progress);
    let ch = channel_mut(st, id)?;
    let future = ch.future;
    if reclaim && ch.parked == Some((inst, wi)) {
        ch.parked = None;
    }
    let e = any_end(st, inst, wi)?;
    e.buf = None;
    let done = match result {
        CopyResult::Dropped => true,
        CopyResult::Completed => future,
        CopyResult::Cancelled => false,
    };
    e.state = if done {
        CopyState::Done
    } else {
        CopyState::Idle
    };
    let (code, p2) = match (future, readable) {
        (false, true) => (EventCode::StreamRead, pack_copy_result(result, progress)),
        (false, false) => (EventCode::StreamWrite, pack_copy_result(result, progress)),
        (true, true) => (EventCode::FutureRead, result as u32),
        (true, false) => (EventCode::FutureWrite, result as u32),
    };
    Ok(Event { code, p1: wi, p2 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weld_contract::component::concurrency::BLOCKED;

    const STREAM: u32 = 7;

    fn state() -> ResourceState {
        ResourceState::new(2, alloc::vec::Vec::new())
    }

    /// A `stream<u8>` (plain bytes) or a stream of non-numeric values.
    fn new(st: &mut ResourceState, inst: u32, plain: bool, future: bool) -> (u32, u32) {
        let packed = st
            .channel_new(inst, STREAM, (Some(0), 1, plain), future)
            .unwrap();
        (packed as u32, (packed >> 32) as u32)
    }

    fn call(inst: u32, end: u32, read: bool, ptr: u32, len: u32) -> CopyCall {
        CopyCall {
            inst,
            end,
            ty: STREAM,
            read,
            buf: Buffer {
                lowering: inst,
                ptr,
                len,
            },
            async_: true,
            mem_len: 1 << 16,
            align: 1,
        }
    }

    fn payload(c: Copied) -> u32 {
        match c {
            Copied::Done(p) => p,
            Copied::Blocked => BLOCKED,
        }
    }

    #[test]
    fn several_writes_fill_one_parked_read_before_its_owner_looks() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, true, false);
        let w = st.lift_end(0, r, STREAM).map(|id| (id, w)).unwrap();
        let r = st.lower_end(1, w.0, STREAM).unwrap();
        let w = w.1;
        assert_eq!(
            payload(st.copy(call(1, r, true, 100, 10)).unwrap().0),
            BLOCKED
        );
        let (c, t) = st.copy(call(0, w, false, 0, 4)).unwrap();
        assert_eq!(
            payload(c),
            0x40,
            "the writer completes at once with 4 moved"
        );
        assert_eq!(t.map(|t| (t.from.1, t.to.1, t.n)), Some((0, 100, 4)));
        let (c, t) = st.copy(call(0, w, false, 50, 3)).unwrap();
        assert_eq!(payload(c), 0x30);
        assert_eq!(
            t.map(|t| (t.from.1, t.to.1, t.n)),
            Some((50, 104, 3)),
            "the second write continues where the first stopped"
        );
        let ev = st.deliver(1, r).unwrap();
        assert_eq!((ev.code, ev.p2), (EventCode::StreamRead, 0x70));
        assert_eq!(
            payload(st.copy(call(0, w, false, 0, 1)).unwrap().0),
            BLOCKED,
            "after delivery the read's buffer is gone: the next write parks"
        );
    }

    #[test]
    fn cancelling_a_partly_filled_read_reports_cancelled_with_its_progress() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, true, false);
        let id = st.lift_end(0, r, STREAM).unwrap();
        let r = st.lower_end(1, id, STREAM).unwrap();
        st.copy(call(1, r, true, 0, 100)).unwrap();
        st.copy(call(0, w, false, 0, 4)).unwrap();
        let c = st.cancel_copy(1, r, STREAM, true, true).unwrap();
        assert_eq!(payload(c), 0x42);
    }

    #[test]
    fn a_zero_length_write_to_a_zero_length_read_completes_only_the_write() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, true, false);
        assert_eq!(payload(st.copy(call(0, r, true, 0, 0)).unwrap().0), BLOCKED);
        assert_eq!(payload(st.copy(call(0, w, false, 0, 0)).unwrap().0), 0);
        let c = st.cancel_copy(0, r, STREAM, true, true).unwrap();
        assert_eq!(payload(c), 2, "the read was still parked");
    }

    #[test]
    fn after_the_writer_drops_a_parked_read_sees_dropped_and_then_may_not_read_again() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, true, false);
        st.copy(call(0, r, true, 0, 8)).unwrap();
        st.drop_end(0, w, STREAM, false).unwrap();
        let ev = st.deliver(0, r).unwrap();
        assert_eq!(ev.p2, 1, "DROPPED with nothing moved");
        let err = st.copy(call(0, r, true, 0, 8)).unwrap_err();
        assert_eq!(err.code, TrapCode::StreamReadAfterDrop);
    }

    #[test]
    fn a_busy_end_cannot_be_dropped_passed_or_used_again() {
        let mut st = state();
        let (_, w) = new(&mut st, 0, true, false);
        st.copy(call(0, w, false, 0, 8)).unwrap();
        let code = |r: Result<(), Trap>| r.unwrap_err().code;
        assert_eq!(
            code(st.drop_end(0, w, STREAM, false)),
            TrapCode::DropBusyStream
        );
        let again = st.copy(call(0, w, false, 0, 8)).map(|_| ());
        assert_eq!(code(again), TrapCode::ConcurrentCopy);
        let (r, _) = new(&mut st, 0, true, false);
        st.copy(call(0, r, true, 0, 8)).unwrap();
        assert_eq!(
            code(st.copy(call(0, r, true, 0, 8)).map(|_| ())),
            TrapCode::ConcurrentCopy
        );
        assert_eq!(
            code(st.lift_end(0, r, STREAM).map(|_| ())),
            TrapCode::RemoveBusyStream
        );
    }

    #[test]
    fn non_numeric_values_may_not_cross_within_one_instance() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, false, false);
        st.copy(call(0, r, true, 0, 1)).unwrap();
        let err = st.copy(call(0, w, false, 0, 1)).unwrap_err();
        assert_eq!(err.code, TrapCode::IntraComponentCopy);
    }

    #[test]
    fn a_future_moves_one_value_and_its_writer_must_write_before_dropping() {
        let mut st = state();
        let (r, w) = new(&mut st, 0, true, true);
        let err = st.drop_end(0, w, STREAM, false).unwrap_err();
        assert_eq!(err.code, TrapCode::FutureDroppedUnwritten);
        st.copy(call(0, r, true, 0, 1)).unwrap();
        let (c, t) = st.copy(call(0, w, false, 8, 1)).unwrap();
        assert_eq!((payload(c), t.map(|t| t.n)), (0, Some(1)));
        let err = st.copy(call(0, w, false, 8, 1)).unwrap_err();
        assert_eq!(err.code, TrapCode::FutureWriteAfterDone);
        st.drop_end(0, w, STREAM, false).unwrap();
    }

    #[test]
    fn a_buffer_past_the_end_of_memory_traps() {
        let mut st = state();
        let (r, _) = new(&mut st, 0, true, false);
        let mut c = call(0, r, true, 0xfff0, 0x20);
        c.mem_len = 0x10000;
        assert_eq!(
            st.copy(c).unwrap_err().code,
            TrapCode::CopyBufferOutOfBounds
        );
    }
}
