//! The canonical built-ins a lowering may stand for ([`super::LoweringTarget::Builtin`]): the
//! task, waitable, stream, future and error-context functions of the Component Model's async
//! ABI, and the few others the runtime serves through a lowering trampoline.
//!
//! In: what `canon` definitions the compiler read. Out: one typed value per built-in, with the
//! immediates the runtime needs (a slot, a stream or future type); the options a built-in takes
//! (memory, realloc, string encoding, `async`) are the lowering's own [`super::CanonOpts`], and
//! `task.return`'s result type is the lowering's function type (its parameters are the values
//! `task.return` lifts). The runtime dispatches on this enum; it never parses names.

use super::CoreDef;
use alloc::string::String;

/// One canonical built-in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Builtin {
    /// `context.get` of slot `slot` (`< CONTEXT_SLOTS`); `() -> i32` (or `i64`).
    ContextGet {
        /// The slot.
        slot: u32,
    },
    /// `context.set` of slot `slot`; `(i32) -> ()` (or `i64`).
    ContextSet {
        /// The slot.
        slot: u32,
    },
    /// `backpressure.inc`: `() -> ()`.
    BackpressureInc,
    /// `backpressure.dec`: `() -> ()`.
    BackpressureDec,
    /// `task.return`: the current task's result, as the lowering's function type's
    /// parameters, lifted from flat values (more than 16 go through one pointer).
    TaskReturn,
    /// `task.cancel`: `() -> ()`.
    TaskCancel,
    /// `thread.yield`: `() -> i32` (cancelled).
    ThreadYield,
    /// `subtask.drop`: `(i32) -> ()`.
    SubtaskDrop,
    /// `subtask.cancel` (`async` in the options): `(i32) -> i32`.
    SubtaskCancel,
    /// `waitable-set.new`: `() -> i32`.
    WaitableSetNew,
    /// `waitable-set.wait` (event payload into the options' memory): `(i32, i32) -> i32`.
    WaitableSetWait,
    /// `waitable-set.poll`: as `wait`, returning `NONE` when nothing is pending.
    WaitableSetPoll,
    /// `waitable-set.drop`: `(i32) -> ()`.
    WaitableSetDrop,
    /// `waitable.join`: `(i32, i32) -> ()`.
    WaitableJoin,
    /// A stream or future operation; `ty` is the `stream<T>` or `future<T>` type (an index
    /// into [`super::ComponentInfo::types`]).
    Channel {
        /// The stream or future type.
        ty: u32,
        /// Which operation.
        op: ChannelOp,
    },
    /// `error-context.new` (the message read with the options): `(i32, i32) -> i32`.
    ErrorContextNew,
    /// `error-context.debug-message` (stored with the options' `realloc`): `(i32, i32) -> ()`.
    ErrorContextDebugMessage,
    /// `error-context.drop`: `(i32) -> ()`.
    ErrorContextDrop,
    /// A built-in weld does not implement, by name: calling it traps (with "cannot leave
    /// component instance" where the caller may not leave, else as unsupported).
    Unsupported(String),
    /// `thread.index`: `() -> i32`, the current thread's index.
    ThreadIndex,
    /// `thread.new-indirect`: `(i32 fi, i32 c) -> i32`, a new suspended thread that will
    /// call element `fi` of `table` with `c`; the element must have type `[i32] -> []`
    /// (`[i64] -> []` with `param64`).
    ThreadNewIndirect {
        /// The core table.
        table: CoreDef,
        /// The generated core function `start(fi: i32, c)` that makes that indirect call
        /// (the adapter stage adds it; the runtime cannot call a table element itself).
        start: Option<CoreDef>,
        /// Whether the start function takes an `i64`.
        param64: bool,
    },
    /// `thread.resume-later`: `(i32) -> ()`.
    ThreadResumeLater,
    /// `thread.suspend`: `() -> i32` (cancelled).
    ThreadSuspend,
    /// `thread.suspend-then-resume`: `(i32) -> i32`.
    ThreadSuspendThenResume,
    /// `thread.yield-then-resume`: `(i32) -> i32`.
    ThreadYieldThenResume,
    /// `thread.suspend-then-promote`: `(i32) -> i32`.
    ThreadSuspendThenPromote,
    /// `thread.yield-then-promote`: `(i32) -> i32`.
    ThreadYieldThenPromote,
    /// Not a built-in: a `canon lower` of a function lifted by the lowering component instance
    /// itself, one of its ancestors or one of its descendants, a call the Canonical ABI
    /// forbids as possibly recursive (`call_might_be_recursive`; the shared suite's
    /// `trap-on-reenter.wast`): calling it traps with "cannot enter component instance" (after
    /// the caller's `may_leave` check). The lowering keeps its function type and signature.
    Recursive,
}

/// The operations of a stream or future type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChannelOp {
    /// `new`: `() -> i64` (`readable | writable << 32`).
    New,
    /// `read` (`async` in the options): stream `(end, ptr, n) -> i32`, future `(end, ptr)`.
    Read,
    /// `write`: as `read`.
    Write,
    /// `cancel-read` (`async` in the options): `(end) -> i32`.
    CancelRead,
    /// `cancel-write`: as `cancel-read`.
    CancelWrite,
    /// `drop-readable`: `(end) -> ()`.
    DropReadable,
    /// `drop-writable`: `(end) -> ()`.
    DropWritable,
}

impl ChannelOp {
    /// Every operation, in encoding order.
    pub const ALL: [ChannelOp; 7] = [
        ChannelOp::New,
        ChannelOp::Read,
        ChannelOp::Write,
        ChannelOp::CancelRead,
        ChannelOp::CancelWrite,
        ChannelOp::DropReadable,
        ChannelOp::DropWritable,
    ];

    /// Whether it works on the readable end (else the writable one; `New` makes both).
    pub fn on_readable(self) -> bool {
        matches!(
            self,
            ChannelOp::Read | ChannelOp::CancelRead | ChannelOp::DropReadable
        )
    }
}

impl Builtin {
    /// Its name in the text format (`stream.read`, `context.get`), for diagnostics.
    pub fn name(&self) -> String {
        use alloc::format;
        let s = match self {
            Builtin::ContextGet { slot } => return format!("context.get {slot}"),
            Builtin::ContextSet { slot } => return format!("context.set {slot}"),
            Builtin::BackpressureInc => "backpressure.inc",
            Builtin::BackpressureDec => "backpressure.dec",
            Builtin::TaskReturn => "task.return",
            Builtin::TaskCancel => "task.cancel",
            Builtin::ThreadYield => "thread.yield",
            Builtin::SubtaskDrop => "subtask.drop",
            Builtin::SubtaskCancel => "subtask.cancel",
            Builtin::WaitableSetNew => "waitable-set.new",
            Builtin::WaitableSetWait => "waitable-set.wait",
            Builtin::WaitableSetPoll => "waitable-set.poll",
            Builtin::WaitableSetDrop => "waitable-set.drop",
            Builtin::WaitableJoin => "waitable.join",
            Builtin::Channel { op, .. } => {
                let op = match op {
                    ChannelOp::New => "new",
                    ChannelOp::Read => "read",
                    ChannelOp::Write => "write",
                    ChannelOp::CancelRead => "cancel-read",
                    ChannelOp::CancelWrite => "cancel-write",
                    ChannelOp::DropReadable => "drop-readable",
                    ChannelOp::DropWritable => "drop-writable",
                };
                return format!("channel.{op}");
            }
            Builtin::ErrorContextNew => "error-context.new",
            Builtin::ErrorContextDebugMessage => "error-context.debug-message",
            Builtin::ErrorContextDrop => "error-context.drop",
            Builtin::Unsupported(name) => return name.clone(),
            Builtin::Recursive => "recursive call",
            Builtin::ThreadIndex => "thread.index",
            Builtin::ThreadNewIndirect { .. } => "thread.new-indirect",
            Builtin::ThreadResumeLater => "thread.resume-later",
            Builtin::ThreadSuspend => "thread.suspend",
            Builtin::ThreadSuspendThenResume => "thread.suspend-then-resume",
            Builtin::ThreadYieldThenResume => "thread.yield-then-resume",
            Builtin::ThreadSuspendThenPromote => "thread.suspend-then-promote",
            Builtin::ThreadYieldThenPromote => "thread.yield-then-promote",
        };
        String::from(s)
    }

    /// Whether it is one of the thread built-ins (other than `thread.yield`, which every task
    /// may use).
    pub fn is_thread(&self) -> bool {
        matches!(
            self,
            Builtin::ThreadIndex
                | Builtin::ThreadNewIndirect { .. }
                | Builtin::ThreadResumeLater
                | Builtin::ThreadSuspend
                | Builtin::ThreadSuspendThenResume
                | Builtin::ThreadYieldThenResume
                | Builtin::ThreadSuspendThenPromote
                | Builtin::ThreadYieldThenPromote
        )
    }

    /// Encoding tag (see `encode.rs`); `Channel`, `ThreadNewIndirect` and the context
    /// built-ins carry immediates.
    pub(crate) fn tag(&self) -> u8 {
        match self {
            Builtin::ContextGet { .. } => 0,
            Builtin::ContextSet { .. } => 1,
            Builtin::BackpressureInc => 2,
            Builtin::BackpressureDec => 3,
            Builtin::TaskReturn => 4,
            Builtin::TaskCancel => 5,
            Builtin::ThreadYield => 6,
            Builtin::SubtaskDrop => 7,
            Builtin::SubtaskCancel => 8,
            Builtin::WaitableSetNew => 9,
            Builtin::WaitableSetWait => 10,
            Builtin::WaitableSetPoll => 11,
            Builtin::WaitableSetDrop => 12,
            Builtin::WaitableJoin => 13,
            Builtin::Channel { .. } => 14,
            Builtin::ErrorContextNew => 15,
            Builtin::ErrorContextDebugMessage => 16,
            Builtin::ErrorContextDrop => 17,
            Builtin::Unsupported(_) => 18,
            Builtin::Recursive => 19,
            Builtin::ThreadIndex => 20,
            Builtin::ThreadNewIndirect { .. } => 21,
            Builtin::ThreadResumeLater => 22,
            Builtin::ThreadSuspend => 23,
            Builtin::ThreadSuspendThenResume => 24,
            Builtin::ThreadYieldThenResume => 25,
            Builtin::ThreadSuspendThenPromote => 26,
            Builtin::ThreadYieldThenPromote => 27,
        }
    }

    /// The built-in of tag `t` without immediates (`None` for those that carry some).
    pub(crate) fn plain(t: u8) -> Option<Builtin> {
        Some(match t {
            2 => Builtin::BackpressureInc,
            3 => Builtin::BackpressureDec,
            4 => Builtin::TaskReturn,
            5 => Builtin::TaskCancel,
            6 => Builtin::ThreadYield,
            7 => Builtin::SubtaskDrop,
            8 => Builtin::SubtaskCancel,
            9 => Builtin::WaitableSetNew,
            10 => Builtin::WaitableSetWait,
            11 => Builtin::WaitableSetPoll,
            12 => Builtin::WaitableSetDrop,
            13 => Builtin::WaitableJoin,
            15 => Builtin::ErrorContextNew,
            16 => Builtin::ErrorContextDebugMessage,
            17 => Builtin::ErrorContextDrop,
            19 => Builtin::Recursive,
            20 => Builtin::ThreadIndex,
            22 => Builtin::ThreadResumeLater,
            23 => Builtin::ThreadSuspend,
            24 => Builtin::ThreadSuspendThenResume,
            25 => Builtin::ThreadYieldThenResume,
            26 => Builtin::ThreadSuspendThenPromote,
            27 => Builtin::ThreadYieldThenPromote,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Builtin;

    #[test]
    fn every_plain_tag_decodes_to_the_builtin_that_has_it() {
        for t in 0..=u8::MAX {
            if let Some(b) = Builtin::plain(t) {
                assert_eq!(b.tag(), t, "{b:?}");
            }
        }
    }
}
