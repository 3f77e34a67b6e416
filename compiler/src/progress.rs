//! Progress of a compilation, for a front end that wants to show it.
//!
//! In: events from the stages (functions compiled out of the total, then linking). Out: calls
//! of the one reporter the program installed with [`set_reporter`]; without one, an event costs
//! one atomic load. The library never prints: the `weld` command installs a reporter that draws
//! a bar on a terminal (`main.rs`), tests and hosts install none.

use std::sync::OnceLock;

/// What the compilation is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `done` of `total` compile jobs (functions, trampolines, entry points) have finished.
    Compiled {
        /// Jobs finished so far.
        done: usize,
        /// Jobs in this compilation.
        total: usize,
    },
    /// The object is written and the linker runs.
    Linking,
}

/// A reporter: called from the compile threads, so it must be `Sync`.
pub type Reporter = Box<dyn Fn(Event) + Send + Sync>;

static REPORTER: OnceLock<Reporter> = OnceLock::new();

/// Install the process's reporter; the first call wins (returns `false` for later ones).
pub fn set_reporter(reporter: Reporter) -> bool {
    REPORTER.set(reporter).is_ok()
}

/// Tell the reporter, if there is one.
pub(crate) fn report(event: Event) {
    if let Some(r) = REPORTER.get() {
        r(event);
    }
}
