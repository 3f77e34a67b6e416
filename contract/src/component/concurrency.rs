//! The numbers and packings of the Component Model's async ABI (the Canonical ABI's
//! concurrency part: tasks, subtasks, waitable sets, streams, futures), defined once for the
//! adapter generator and the runtime's scheduler.
//!
//! In: nothing (constants and pure functions). Out: the codes core wasm sees — event codes and
//! their two payload words, the `i32` a callback returns, the `i32` an async lower returns, the
//! `i32` a stream or future copy returns, the `i64` of `stream.new`/`future.new` — and the
//! limits the built-ins trap on. Values follow `CanonicalABI.md` / `definitions.py` of the
//! component-model commit the shared test suite was taken from (see `docs/async-plan.md`).

/// Most entries a component instance's handle table holds (the largest index plus one fits in
/// 28 bits, so that an index can be packed above a 4-bit code).
pub const MAX_TABLE_LENGTH: u32 = (1 << 28) - 1;

/// Most elements one stream read or write may name.
pub const MAX_BUFFER_LENGTH: u32 = (1 << 28) - 1;

/// The backpressure counter stays below this; `backpressure.inc` reaching it traps.
pub const BACKPRESSURE_LIMIT: u32 = 1 << 16;

/// Slots of `context.get` / `context.set` per thread.
pub const CONTEXT_SLOTS: usize = 2;

/// What an async built-in returns when the operation did not complete at once.
pub const BLOCKED: u32 = 0xffff_ffff;

/// The event codes `waitable-set.wait`/`.poll` return and a callback receives first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum EventCode {
    /// Nothing happened (a `poll` with nothing pending, a callback resumed after `YIELD`).
    None = 0,
    /// A subtask changed state: payload (subtask index, [`SubtaskState`]).
    Subtask = 1,
    /// A stream read finished: payload (end index, [`pack_copy_result`]).
    StreamRead = 2,
    /// A stream write finished: payload as for reads.
    StreamWrite = 3,
    /// A future read finished: payload (end index, [`CopyResult`]).
    FutureRead = 4,
    /// A future write finished: payload as for reads.
    FutureWrite = 5,
    /// The current task was asked to cancel: payload (0, 0).
    TaskCancelled = 6,
}

/// An event as core wasm sees it: the code, and the two words written at the built-in's
/// pointer (`p1` at offset 0, `p2` at offset 4) or passed to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Which event.
    pub code: EventCode,
    /// The waitable's handle index (0 for `None` and `TaskCancelled`).
    pub p1: u32,
    /// The code-specific payload.
    pub p2: u32,
}

impl Event {
    /// The event that carries nothing.
    pub const NONE: Event = Event {
        code: EventCode::None,
        p1: 0,
        p2: 0,
    };
    /// The event that tells a task its caller cancelled it.
    pub const TASK_CANCELLED: Event = Event {
        code: EventCode::TaskCancelled,
        p1: 0,
        p2: 0,
    };
}

/// The states of a subtask, as an async lower and `SUBTASK` events report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum SubtaskState {
    /// Waiting to start (backpressure): its arguments have not been read.
    Starting = 0,
    /// Started: its arguments have been read, no result yet.
    Started = 1,
    /// Returned: its result has been written.
    Returned = 2,
    /// Cancelled before it started (arguments never read).
    CancelledBeforeStarted = 3,
    /// Cancelled after it started, before it returned (no result written).
    CancelledBeforeReturned = 4,
}

impl SubtaskState {
    /// Whether the subtask is over (returned or cancelled).
    pub fn resolved(self) -> bool {
        matches!(
            self,
            SubtaskState::Returned
                | SubtaskState::CancelledBeforeStarted
                | SubtaskState::CancelledBeforeReturned
        )
    }
}

/// What an async lower returns: [`SubtaskState::Returned`] alone when the callee finished at
/// once (no handle is made), else the state with the new subtask's index above it.
pub fn pack_subtask(state: SubtaskState, index: Option<u32>) -> u32 {
    match index {
        Some(i) => {
            debug_assert!(i <= MAX_TABLE_LENGTH);
            state as u32 | i << 4
        }
        None => state as u32,
    }
}

/// How a stream or future copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum CopyResult {
    /// The buffer was used (fully, for futures; some or all of it, for streams).
    Completed = 0,
    /// The other end was dropped.
    Dropped = 1,
    /// The copy was cancelled.
    Cancelled = 2,
}

/// The payload of a stream copy: the result, and above it how many elements were copied.
pub fn pack_copy_result(result: CopyResult, progress: u32) -> u32 {
    debug_assert!(progress <= MAX_BUFFER_LENGTH);
    result as u32 | progress << 4
}

/// A stream or future end's copy state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CopyState {
    /// No copy in progress.
    Idle = 1,
    /// A read or write is waiting for the other end.
    Copying = 2,
    /// A cancel was requested and has not been delivered yet.
    CancellingCopy = 3,
    /// The other end was dropped (streams), or the one value passed (futures): no more copies.
    Done = 4,
}

/// What `stream.new` / `future.new` return: the readable end's index in the low half, the
/// writable end's in the high half.
pub fn pack_ends(readable: u32, writable: u32) -> u64 {
    u64::from(readable) | u64::from(writable) << 32
}

/// Whether a stream or future of element type `elem` carries plain numbers (or nothing): the
/// spec's `none_or_number_type`. Such elements are copied as bytes, and only such a stream or
/// future may have both ends used inside one component instance.
pub fn none_or_number_type(elem: Option<&super::TypeDef>) -> bool {
    use super::TypeDef as T;
    matches!(
        elem,
        None | Some(
            T::U8 | T::U16 | T::U32 | T::U64 | T::S8 | T::S16 | T::S32 | T::S64 | T::F32 | T::F64
        )
    )
}

/// What a callback (or a callback lift's core function) asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackCode {
    /// The task is done with its work (it must have returned or been cancelled).
    Exit,
    /// Let other tasks run, then call back with [`EventCode::None`].
    Yield,
    /// Wait for an event of this waitable set (its handle index).
    Wait(u32),
}

/// Decode a callback's result: the low 4 bits are the code, the rest the waitable-set index
/// for `WAIT` (ignored otherwise); `None` for a code the ABI does not define (a trap).
pub fn unpack_callback_result(packed: u32) -> Option<CallbackCode> {
    match packed & 0xf {
        0 => Some(CallbackCode::Exit),
        1 => Some(CallbackCode::Yield),
        2 => Some(CallbackCode::Wait(packed >> 4)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_results_unpack_their_code_and_set_and_refuse_unknown_codes() {
        assert_eq!(unpack_callback_result(0), Some(CallbackCode::Exit));
        assert_eq!(
            unpack_callback_result(1 | 0xdead << 4),
            Some(CallbackCode::Yield),
            "the bits above YIELD are ignored"
        );
        assert_eq!(
            unpack_callback_result(2 | 7 << 4),
            Some(CallbackCode::Wait(7))
        );
        let largest = 2 | MAX_TABLE_LENGTH << 4;
        assert_eq!(
            unpack_callback_result(largest),
            Some(CallbackCode::Wait(MAX_TABLE_LENGTH)),
            "every table index fits above the code"
        );
        for code in 3..16 {
            assert_eq!(unpack_callback_result(code | 1 << 4), None, "code {code}");
        }
    }

    #[test]
    fn async_lowers_return_the_state_with_the_subtask_index_above_it() {
        assert_eq!(pack_subtask(SubtaskState::Returned, None), 2);
        assert_eq!(pack_subtask(SubtaskState::Started, Some(3)), 1 | 3 << 4);
        assert_eq!(pack_subtask(SubtaskState::Starting, Some(1)), 0x10);
    }

    #[test]
    fn copy_results_carry_progress_above_the_result() {
        assert_eq!(pack_copy_result(CopyResult::Completed, 5), 0x50);
        assert_eq!(pack_copy_result(CopyResult::Dropped, 0), 1);
        assert_eq!(pack_copy_result(CopyResult::Cancelled, 2), 0x22);
        assert_eq!(
            pack_copy_result(CopyResult::Completed, MAX_BUFFER_LENGTH) >> 4,
            MAX_BUFFER_LENGTH
        );
        assert_ne!(
            pack_copy_result(CopyResult::Cancelled, MAX_BUFFER_LENGTH),
            BLOCKED,
            "no payload reads as BLOCKED"
        );
    }

    #[test]
    fn new_streams_put_the_readable_end_low_and_the_writable_end_high() {
        assert_eq!(pack_ends(1, 2), 0x2_0000_0001);
        assert_eq!(pack_ends(u32::MAX, 0), 0xffff_ffff);
    }
}
