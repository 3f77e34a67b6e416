//! Trap codes: why wasm execution stopped. `Display` gives the text the spec's `assert_trap`
//! directives expect, so a trap can be compared with a test expectation as it is.

/// A trap code as carried in trap tables and returned to the embedder (0 means "no trap").
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable = 1,
    /// A load, store or bulk memory operation went outside its linear memory.
    MemoryOutOfBounds = 2,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero = 3,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow = 4,
    /// A float-to-int conversion of NaN.
    BadConversionToInteger = 5,
    /// `call_indirect` found a function of another type.
    IndirectCallTypeMismatch = 6,
    /// `call_indirect` index outside the table.
    UndefinedElement = 7,
    /// `call_indirect` hit a null entry.
    UninitializedElement = 8,
    /// `table.get/set/fill/copy/init` outside the table.
    TableOutOfBounds = 9,
    /// The wasm stack budget ran out.
    StackOverflow = 10,
    /// A null reference was dereferenced.
    NullReference = 11,
    /// A component instance was entered while it may not be (Canonical ABI).
    CannotEnterComponent = 12,
    /// A component instance was used after it trapped.
    InstancePoisoned = 13,
    /// Invalid UTF-8 / UTF-16 / Latin-1 data crossed a component boundary.
    InvalidEncoding = 14,
    /// A variant or enum discriminant out of range.
    InvalidDiscriminant = 15,
    /// A `char` that is not a Unicode scalar value.
    InvalidChar = 16,
    /// A misaligned pointer crossed a component boundary.
    UnalignedPointer = 17,
    /// A bad resource handle.
    UnknownHandle = 18,
    /// A resource was dropped while borrowed.
    ResourceBorrowed = 19,
    /// An import that was declared missing at compile time was called.
    MissingImport = 20,
    /// A bool or flags value out of range, or another malformed value.
    InvalidValue = 21,
    /// `call_ref` of a null reference.
    NullFunctionReference = 22,
    /// A component instance called out (an import, `resource.*`) while it may not leave (during post-return or a realloc made by an adapter).
    CannotLeaveComponent = 23,
    /// A string crossing between components lies outside its memory.
    StringOutOfBounds = 24,
    /// A list crossing a component boundary lies outside its memory.
    ListOutOfBounds = 25,
    /// A string passed to the host lies outside its memory.
    HostStringOutOfBounds = 26,
    /// `realloc` called for the host returned a pointer beyond the end of memory.
    ReallocOutOfBounds = 27,
    /// `realloc` called for the host returned a misaligned pointer.
    ReallocUnaligned = 28,
    /// A string passed to the host is not valid UTF-8.
    InvalidUtf8 = 29,
    /// A string passed to the host ends inside a UTF-8 sequence.
    IncompleteUtf8 = 30,
    /// A resource handle of another resource type.
    HandleWrongType = 31,
    /// An owned resource was moved or dropped while it is lent out.
    OwnedResourceBorrowed = 32,
    /// A call returned while borrow handles it received were not dropped.
    BorrowsRemain = 33,
    /// A variant, enum, option or result discriminant out of range.
    InvalidVariantDiscriminant = 34,
    /// A `char` that is not a Unicode scalar value crossed a component boundary.
    InvalidCharBitPattern = 35,
    /// A canonical built-in weld does not implement was called.
    UnsupportedBuiltin = 36,
    /// `backpressure.inc` beyond 2^16 - 1 or `backpressure.dec` below zero.
    BackpressureOutOfRange = 37,
    /// The program asked to exit (WASI `exit`); not an error. The status is kept by the host
    /// that raised it (`weld_runtime::wasi`), which turns this into an exit status.
    Exit = 38,
    /// A wasm exception reached the entry into wasm (or a component boundary) without a
    /// handler. Not a trap in the core spec: an error value for the embedder.
    UncaughtException = 39,
    /// `throw_ref` of a null `exnref`.
    NullExceptionReference = 40,
    /// A struct instruction on a null reference.
    NullStructReference = 41,
    /// An array instruction on a null reference.
    NullArrayReference = 42,
    /// `i31.get_s`/`i31.get_u` of a null reference.
    NullI31Reference = 43,
    /// `ref.cast` of a value not of the target type.
    CastFailure = 44,
    /// An array element access or range outside the array.
    ArrayOutOfBounds = 45,
    /// An array whose size exceeds what one object may hold.
    AllocationTooLarge = 46,
    /// The GC heap reached its limit and a collection freed too little.
    GcHeapExhausted = 47,
    /// A synchronous task would block (wait, a synchronous copy or call that cannot finish) before it returned.
    SyncTaskBlocked = 48,
    /// A synchronous built-in on a waitable that is in a waitable set.
    WaitableInSet = 49,
    /// A callback returned a code other than EXIT, YIELD or WAIT.
    UnsupportedCallbackCode = 50,
    /// No task can make progress and the call has not returned.
    AsyncDeadlock = 51,
    /// A write to a stream whose readable end was seen to drop.
    StreamWriteAfterDrop = 52,
    /// A read from a stream whose writable end was seen to drop.
    StreamReadAfterDrop = 53,
    /// Passing a stream whose writable end was seen to drop.
    StreamLiftAfterDrop = 54,
    /// A second write to a future, or one after its reader dropped.
    FutureWriteAfterDone = 55,
    /// A second read of a future.
    FutureReadAfterDone = 56,
    /// Passing a future whose value was read.
    FutureLiftAfterDone = 57,
    /// Both ends of a stream or future of non-numeric values used in one component instance.
    IntraComponentCopy = 58,
    /// A read, write or cancel on a stream or future end that is busy (or one not busy, for cancel).
    ConcurrentCopy = 59,
    /// Dropping the writable end of a stream or future while a copy is in progress.
    DropBusyStream = 60,
    /// Dropping or passing the readable end of a stream or future while a copy is in progress.
    RemoveBusyStream = 61,
    /// Dropping a future's writable end before it wrote a value or saw the reader drop.
    FutureDroppedUnwritten = 62,
    /// Passing a stream end that is in a waitable set.
    LiftStreamInSet = 63,
    /// Passing a future end that is in a waitable set.
    LiftFutureInSet = 64,
    /// Dropping a waitable set that has members or waiters.
    WaitableSetBusy = 65,
    /// Dropping a subtask before its resolution was delivered.
    SubtaskNotResolved = 66,
    /// task.return or task.cancel of a task that already returned, or of the wrong kind.
    TaskAlreadyReturned = 67,
    /// task.return with another result type or other options than the task's function.
    TaskReturnMismatch = 68,
    /// An async task ended without calling task.return.
    TaskNotReturned = 69,
    /// A stream or future buffer beyond the end of memory, or longer than 2^28 - 1 elements.
    CopyBufferOutOfBounds = 70,
    /// A handle of another kind (a resource, stream, future, subtask, set) than the built-in works on.
    WrongHandleKind = 71,
    /// No memory was left for the stack an async task runs on.
    NoStackForTask = 72,
    /// A thread built-in named a thread that is not suspended where it must be.
    ThreadNotSuspended = 73,
    /// `task.cancel` of a task that was not told of a cancellation (or is not async-lifted).
    CancelNotDelivered = 74,
    /// `subtask.cancel` of a subtask whose cancellation was already requested.
    CancelRequestedTwice = 75,
    /// The host called into a component instance with another store (or the store moved)
    /// while async tasks of it were suspended.
    StoreMoved = 76,
}

impl TrapCode {
    /// Every code, in numeric order.
    pub const ALL: &'static [TrapCode] = &[
        TrapCode::Unreachable,
        TrapCode::MemoryOutOfBounds,
        TrapCode::IntegerDivisionByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::IndirectCallTypeMismatch,
        TrapCode::UndefinedElement,
        TrapCode::UninitializedElement,
        TrapCode::TableOutOfBounds,
        TrapCode::StackOverflow,
        TrapCode::NullReference,
        TrapCode::CannotEnterComponent,
        TrapCode::InstancePoisoned,
        TrapCode::InvalidEncoding,
        TrapCode::InvalidDiscriminant,
        TrapCode::InvalidChar,
        TrapCode::UnalignedPointer,
        TrapCode::UnknownHandle,
        TrapCode::ResourceBorrowed,
        TrapCode::MissingImport,
        TrapCode::InvalidValue,
        TrapCode::NullFunctionReference,
        TrapCode::CannotLeaveComponent,
        TrapCode::StringOutOfBounds,
        TrapCode::ListOutOfBounds,
        TrapCode::HostStringOutOfBounds,
        TrapCode::ReallocOutOfBounds,
        TrapCode::ReallocUnaligned,
        TrapCode::InvalidUtf8,
        TrapCode::IncompleteUtf8,
        TrapCode::HandleWrongType,
        TrapCode::OwnedResourceBorrowed,
        TrapCode::BorrowsRemain,
        TrapCode::InvalidVariantDiscriminant,
        TrapCode::InvalidCharBitPattern,
        TrapCode::UnsupportedBuiltin,
        TrapCode::BackpressureOutOfRange,
        TrapCode::Exit,
        TrapCode::UncaughtException,
        TrapCode::NullExceptionReference,
        TrapCode::NullStructReference,
        TrapCode::NullArrayReference,
        TrapCode::NullI31Reference,
        TrapCode::CastFailure,
        TrapCode::ArrayOutOfBounds,
        TrapCode::AllocationTooLarge,
        TrapCode::GcHeapExhausted,
        TrapCode::SyncTaskBlocked,
        TrapCode::WaitableInSet,
        TrapCode::UnsupportedCallbackCode,
        TrapCode::AsyncDeadlock,
        TrapCode::StreamWriteAfterDrop,
        TrapCode::StreamReadAfterDrop,
        TrapCode::StreamLiftAfterDrop,
        TrapCode::FutureWriteAfterDone,
        TrapCode::FutureReadAfterDone,
        TrapCode::FutureLiftAfterDone,
        TrapCode::IntraComponentCopy,
        TrapCode::ConcurrentCopy,
        TrapCode::DropBusyStream,
        TrapCode::RemoveBusyStream,
        TrapCode::FutureDroppedUnwritten,
        TrapCode::LiftStreamInSet,
        TrapCode::LiftFutureInSet,
        TrapCode::WaitableSetBusy,
        TrapCode::SubtaskNotResolved,
        TrapCode::TaskAlreadyReturned,
        TrapCode::TaskReturnMismatch,
        TrapCode::TaskNotReturned,
        TrapCode::CopyBufferOutOfBounds,
        TrapCode::WrongHandleKind,
        TrapCode::NoStackForTask,
        TrapCode::ThreadNotSuspended,
        TrapCode::CancelNotDelivered,
        TrapCode::CancelRequestedTwice,
        TrapCode::StoreMoved,
    ];

    /// The code for a raw byte, if it names one.
    pub fn from_u8(byte: u8) -> Option<TrapCode> {
        TrapCode::ALL.iter().copied().find(|c| *c as u8 == byte)
    }

    /// The spec's text for this trap.
    pub const fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::NullReference => "null reference",
            TrapCode::CannotEnterComponent => "cannot enter component instance",
            TrapCode::InstancePoisoned => "instance poisoned by an earlier trap",
            TrapCode::InvalidEncoding => "invalid string encoding",
            TrapCode::InvalidDiscriminant => "invalid discriminant",
            TrapCode::InvalidChar => "invalid char",
            TrapCode::UnalignedPointer => "unaligned pointer",
            TrapCode::UnknownHandle => "unknown handle index",
            TrapCode::ResourceBorrowed => "resource has borrows",
            TrapCode::MissingImport => "call to a missing import",
            TrapCode::InvalidValue => "invalid value",
            TrapCode::NullFunctionReference => "null function reference",
            TrapCode::CannotLeaveComponent => "cannot leave component instance",
            TrapCode::StringOutOfBounds => "string content out-of-bounds",
            TrapCode::ListOutOfBounds => "list content out-of-bounds",
            TrapCode::HostStringOutOfBounds => "string pointer/length out of bounds of memory",
            TrapCode::ReallocOutOfBounds => "realloc return: beyond end of memory",
            TrapCode::ReallocUnaligned => "realloc return: result not aligned",
            TrapCode::InvalidUtf8 => "invalid utf-8",
            TrapCode::IncompleteUtf8 => "incomplete utf-8 byte sequence",
            TrapCode::HandleWrongType => "used with the wrong type",
            TrapCode::OwnedResourceBorrowed => "cannot remove owned resource while borrowed",
            TrapCode::BorrowsRemain => "borrow handles still remain at the end of the call",
            TrapCode::InvalidVariantDiscriminant => "invalid variant discriminant",
            TrapCode::InvalidCharBitPattern => "invalid `char` bit pattern",
            TrapCode::UnsupportedBuiltin => "canonical built-in not supported by weld",
            TrapCode::BackpressureOutOfRange => "backpressure counter out of range",
            TrapCode::Exit => "exit",
            TrapCode::UncaughtException => "uncaught exception",
            TrapCode::NullExceptionReference => "null exception reference",
            TrapCode::NullStructReference => "null structure reference",
            TrapCode::NullArrayReference => "null array reference",
            TrapCode::NullI31Reference => "null i31 reference",
            TrapCode::CastFailure => "cast failure",
            TrapCode::ArrayOutOfBounds => "out of bounds array access",
            TrapCode::AllocationTooLarge => "allocation size too large",
            TrapCode::GcHeapExhausted => "GC heap out of memory",
            TrapCode::SyncTaskBlocked => "cannot block a synchronous task before returning",
            TrapCode::WaitableInSet => {
                "waitable cannot be used synchronously while added to a waitable set"
            }
            TrapCode::UnsupportedCallbackCode => "unsupported callback code",
            TrapCode::AsyncDeadlock => "deadlock detected: event loop cannot make further progress",
            TrapCode::StreamWriteAfterDrop => {
                "cannot write to stream after being notified that the readable end dropped"
            }
            TrapCode::StreamReadAfterDrop => {
                "cannot read from stream after being notified that the writable end dropped"
            }
            TrapCode::StreamLiftAfterDrop => {
                "cannot lift stream after being notified that the writable end dropped"
            }
            TrapCode::FutureWriteAfterDone => {
                "cannot write to future after previous write succeeded or readable end dropped"
            }
            TrapCode::FutureReadAfterDone => {
                "cannot read from future after previous read succeeded"
            }
            TrapCode::FutureLiftAfterDone => "cannot lift future after previous read succeeded",
            TrapCode::IntraComponentCopy => "cannot read from and write to intra-component future",
            TrapCode::ConcurrentCopy => {
                "cannot have concurrent operations active on a future/stream"
            }
            TrapCode::DropBusyStream => "cannot drop busy stream",
            TrapCode::RemoveBusyStream => "cannot remove busy stream",
            TrapCode::FutureDroppedUnwritten => {
                "cannot drop future write end without first writing a value"
            }
            TrapCode::LiftStreamInSet => "cannot lift stream while it's in a waitable set",
            TrapCode::LiftFutureInSet => "cannot lift future while it's in a waitable set",
            TrapCode::WaitableSetBusy => "cannot drop waitable set with waiters",
            TrapCode::SubtaskNotResolved => "cannot drop a subtask which has not yet resolved",
            TrapCode::TaskAlreadyReturned => "task already returned",
            TrapCode::TaskReturnMismatch => {
                "invalid `task.return` signature and/or options for current task"
            }
            TrapCode::TaskNotReturned => "async-lifted export failed to produce a result",
            TrapCode::CopyBufferOutOfBounds => "stream or future buffer out of bounds",
            TrapCode::WrongHandleKind => "handle index used with the wrong type",
            TrapCode::NoStackForTask => "out of memory for an async task's stack",
            TrapCode::ThreadNotSuspended => "thread is not suspended",
            TrapCode::CancelNotDelivered => "task.cancel called without a pending cancellation",
            TrapCode::CancelRequestedTwice => "subtask cancellation already requested",
            TrapCode::StoreMoved => "store moved while async tasks were suspended in it",
        }
    }
}

impl core::fmt::Display for TrapCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_byte() {
        for code in TrapCode::ALL {
            assert_eq!(TrapCode::from_u8(*code as u8), Some(*code));
        }
        assert_eq!(TrapCode::from_u8(0), None);
    }

    #[test]
    fn messages_are_the_spec_texts() {
        assert_eq!(
            TrapCode::MemoryOutOfBounds.message(),
            "out of bounds memory access"
        );
        assert_eq!(
            TrapCode::StackOverflow.to_string_for_test(),
            "call stack exhausted"
        );
    }

    trait ForTest {
        fn to_string_for_test(&self) -> alloc::string::String;
    }
    impl ForTest for TrapCode {
        fn to_string_for_test(&self) -> alloc::string::String {
            alloc::format!("{self}")
        }
    }
}
