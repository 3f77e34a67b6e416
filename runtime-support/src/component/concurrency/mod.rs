//! The Component Model's async ABI in the runtime: the state behind streams, futures, waitable
//! sets, subtasks and error contexts, and the rules of the built-ins that use it
//! (`CanonicalABI.md`; numbers and packings from `weld_contract::component::concurrency`).
//!
//! In: built-in calls, already decoded by `instance/` (handle indices, buffers, options), and
//! the handle tables of every component instance. Out: the values core wasm gets back, the
//! table entries and events those calls leave behind, and [`Transfer`]s — element copies
//! between two instances' memories that `instance/` carries out once the state is consistent
//! (a copy may call `realloc`, i.e. wasm, which may call built-ins again).
//!
//! - [`channel`]: streams and futures: the shared object (a rendezvous of at most one parked
//!   buffer), the two ends, copies, cancellation, drops, passing readable ends.
//! - [`waitable`]: waitables, waitable sets, pending events and their delivery.
//! - [`errors`]: error contexts.
//!
//! Blocking is decided by the caller (`instance/`): an operation here that cannot finish at
//! once reports so ([`Copied::Blocked`]) and never waits.

pub mod channel;
pub mod errors;
pub mod waitable;

pub use channel::{Channel, Copied, End, Transfer};
pub use errors::ErrorContexts;
pub use waitable::{Pending, Subtask, Waitable, WaitableSet};

use alloc::vec::Vec;

/// Store-wide async state: the shared objects that two instances' table entries point at.
#[derive(Clone, Debug, Default)]
pub struct AsyncState {
    /// Streams and futures by id (`None`: freed; ids are reused).
    pub channels: Vec<Option<Channel>>,
    /// Freed channel ids.
    pub free_channels: Vec<u32>,
    /// Error contexts.
    pub errors: ErrorContexts,
}
