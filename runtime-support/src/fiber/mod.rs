//! Fibers: code that runs on a stack of its own and can stop in the middle (suspend) and go on
//! later (resume), for async tasks that block while their caller continues (stackful lifts,
//! sync-lifted callees of async lowers; see `component/instance/tasks.rs`).
//!
//! In: a job (a closure returning the trap it ended with, if any) and the store it runs wasm
//! of. Out: each [`Fiber::resume`] returns when the job suspends or finishes. A fiber runs one
//! job at a time and then waits for the next, so finished fibers are reused (allocating a
//! stack costs system calls).
//!
//! What the runtime keeps per stack follows the stack on every switch ([`Context`]): the
//! innermost entry into wasm (a trap unwinds to an entry on its own stack), the stack limit
//! compiled code checks, the exit frame and entry records the collector walks, the store's
//! entry depth. While a fiber is suspended, and while its resumer waits for it, their
//! activations are *parked* with the collector (`gc::roots`), which walks them as well.
//!
//! Frames left on a fiber's stack when its owner drops it suspended are never unwound: a job
//! may only suspend in frames that own nothing that needs dropping for soundness (leaking is
//! allowed).

pub(crate) mod stack;
mod switch;

use crate::arch::JmpBuf;
use crate::store::Store;
use crate::trap::Trap;
use alloc::boxed::Box;
use core::cell::Cell;
use stack::Stack;
use weld_contract::vmctx::VMEntryRecord;

/// Bytes a fiber's stack keeps below the stack limit, for the runtime code compiled code calls
/// (libcalls, built-ins, the Canonical ABI's generic path) when it is near the limit.
pub(crate) const RUNTIME_MARGIN: usize = 256 * 1024;

/// A fiber's work: runs to the end on the fiber, suspending as often as it likes.
pub(crate) type Job = Box<dyn FnOnce() -> Result<(), Trap>>;

/// The runtime state that belongs to one stack.
#[derive(Clone, Copy, Debug)]
struct Context {
    entry: *mut JmpBuf,
    stack_limit: usize,
    exit_fp: usize,
    exit_func: u32,
    exit_frame: usize,
    entries: *const VMEntryRecord,
    depth: u32,
}

impl Context {
    /// A new job's: no entry yet, compiled code limited to `max_wasm` bytes of the fiber's
    /// stack, and never closer than the runtime's margin to its end.
    fn fresh(stack: &Stack, max_wasm: usize) -> Context {
        let margin = RUNTIME_MARGIN.min((stack.top() - stack.low()) / 2);
        Context {
            entry: core::ptr::null_mut(),
            stack_limit: (stack.low() + margin).max(stack.top().saturating_sub(max_wasm)),
            exit_fp: 0,
            exit_func: 0,
            exit_frame: 0,
            entries: core::ptr::null(),
            // As if nested in an entry: the first call keeps the limit above, instead of
            // deriving one from the stack pointer and the store's maximum.
            depth: 1,
        }
    }

    /// The running stack's.
    fn live(store: &Store) -> Context {
        let ctx = store.ctx_ptr();
        // SAFETY: the store context lives as long as the store.
        unsafe {
            Context {
                entry: crate::entry::current(),
                stack_limit: (*ctx).stack_limit,
                exit_fp: (*ctx).exit_fp,
                exit_func: (*ctx).exit_func,
                exit_frame: (*ctx).exit_frame,
                entries: (*ctx).entries,
                depth: store.depth,
            }
        }
    }

    /// Make this the running stack's.
    fn install(&self, store: &mut Store) {
        let ctx = store.ctx_ptr();
        crate::entry::set_current(self.entry);
        // SAFETY: as in `live`.
        unsafe {
            (*ctx).stack_limit = self.stack_limit;
            (*ctx).exit_fp = self.exit_fp;
            (*ctx).exit_func = self.exit_func;
            (*ctx).exit_frame = self.exit_frame;
            (*ctx).entries = self.entries;
        }
        store.depth = self.depth;
    }

    fn parked(&self) -> (usize, *const VMEntryRecord) {
        (self.exit_frame, self.entries)
    }
}

/// How a resume ended.
#[derive(Debug)]
pub(crate) enum Resumed {
    /// The job suspended; resume the fiber to go on.
    Suspended,
    /// The job ended, with the trap it ended with if any; the fiber is free for another.
    Finished(Result<(), Trap>),
}

/// One stack and the job running on it.
pub(crate) struct Fiber {
    stack: Stack,
    /// The fiber's stack pointer while it does not run.
    sp: Cell<usize>,
    /// Its resumer's stack pointer while it runs.
    back: Cell<usize>,
    job: Cell<Option<Job>>,
    outcome: Cell<Option<Result<(), Trap>>>,
    /// The fiber's runtime state while it does not run.
    context: Cell<Context>,
    running: Cell<bool>,
    /// Whether a job has started and not finished.
    busy: Cell<bool>,
}

impl core::fmt::Debug for Fiber {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fiber")
            .field("stack", &self.stack)
            .field("busy", &self.busy.get())
            .finish()
    }
}

/// Whether a switch back came from a finished job.
const FINISHED: usize = 1;

impl Fiber {
    /// A fiber with `size` bytes of stack; `None` when no memory is left for one.
    pub(crate) fn new(size: usize) -> Option<Box<Fiber>> {
        let stack = Stack::new(size)?;
        let context = Context::fresh(&stack, size);
        let fiber = Box::new(Fiber {
            stack,
            sp: Cell::new(0),
            back: Cell::new(0),
            job: Cell::new(None),
            outcome: Cell::new(None),
            context: Cell::new(context),
            running: Cell::new(false),
            busy: Cell::new(false),
        });
        let me = &*fiber as *const Fiber as usize;
        // SAFETY: the frame goes at the top of the fresh stack, which nothing runs on.
        fiber
            .sp
            .set(unsafe { switch::initial_frame(fiber.stack.top(), me) });
        Some(fiber)
    }

    /// Usable stack bytes.
    pub(crate) fn size(&self) -> usize {
        self.stack.top() - self.stack.low()
    }

    /// Whether a job is in progress (started, not finished).
    #[cfg(test)]
    pub(crate) fn busy(&self) -> bool {
        self.busy.get()
    }

    /// Start `job` on this idle fiber and run it until it suspends or finishes.
    pub(crate) fn start(&self, store: &mut Store, job: Job) -> Resumed {
        debug_assert!(!self.busy.get());
        self.busy.set(true);
        self.job.set(Some(job));
        self.context
            .set(Context::fresh(&self.stack, store.max_wasm_stack));
        self.switch_in(store)
    }

    /// Go on with a suspended job until it suspends again or finishes.
    pub(crate) fn resume(&self, store: &mut Store) -> Resumed {
        debug_assert!(self.busy.get() && !self.running.get());
        let mine = self.context.get().parked();
        store.gc.roots.unpark(mine);
        self.switch_in(store)
    }

    fn switch_in(&self, store: &mut Store) -> Resumed {
        let resumer = Context::live(store);
        store.gc.roots.park(resumer.parked());
        self.context.get().install(store);
        self.running.set(true);
        // The job reaches the store through pointers of its own: handing the switch this one
        // tells the compiler that the store may change across it (nothing about it may be kept
        // in registers or assumed unchanged).
        let sp: *mut Store = store;
        // SAFETY: `sp` is this fiber's saved stack pointer (its initial frame, or where it
        // suspended); it switches back to `back` when it suspends or finishes.
        let how =
            unsafe { switch::weld_rt_fiber_switch(self.back.as_ptr(), self.sp.get(), sp as usize) };
        // SAFETY: `sp` came from the `&mut Store` this function holds; the job is not running.
        let store = unsafe { &mut *sp };
        self.running.set(false);
        self.context.set(Context::live(store));
        resumer.install(store);
        store.gc.roots.unpark(resumer.parked());
        if how == FINISHED {
            self.busy.set(false);
            let outcome = self.outcome.take().unwrap_or(Ok(()));
            return Resumed::Finished(outcome);
        }
        store.gc.roots.park(self.context.get().parked());
        Resumed::Suspended
    }

    /// Called by the job, on this fiber: stop here until the next [`Fiber::resume`].
    pub(crate) fn suspend(&self) {
        debug_assert!(self.running.get());
        // SAFETY: the fiber runs, so `back` is its resumer's saved stack pointer, waiting in
        // `switch_in`.
        unsafe { switch::weld_rt_fiber_switch(self.sp.as_ptr(), self.back.get(), 0) };
    }
}

/// The main function of every fiber: run its job, report back, wait for the next.
///
/// # Safety
/// Only the start routine of a fiber's initial frame calls it, with that fiber.
unsafe extern "C" fn weld_rt_fiber_main(fiber: *const Fiber) -> ! {
    loop {
        // SAFETY: the fiber owns the stack this runs on, so it outlives this frame.
        let f = unsafe { &*fiber };
        let outcome = match f.job.take() {
            Some(job) => job(),
            None => Ok(()),
        };
        f.outcome.set(Some(outcome));
        // SAFETY: as in `Fiber::suspend`; `start` switches back here with the next job.
        unsafe { switch::weld_rt_fiber_switch(f.sp.as_ptr(), f.back.get(), FINISHED) };
    }
}

#[cfg(test)]
mod tests;
