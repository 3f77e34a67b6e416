//! Wasm backtraces: which wasm functions were active when a trap happened.
//!
//! In: the machine state at a trap (the faulting PC and frame pointer from the signal context,
//! or the frame pointer where the runtime raised a trap) and the stack pointer of the innermost
//! entry into wasm. Out: a list of return addresses in wasm code, recorded per thread, and — when
//! the embedder asks for it with [`take`] — a [`Backtrace`] naming each frame's module and
//! function (from the name section, kept in the module's info blob).
//!
//! Compiled code keeps frame pointers (`preserve_frame_pointers`), so each wasm frame starts
//! with the record `[fp] = caller's fp, [fp + 8] = return address` on every supported
//! architecture. Recording runs inside the signal handler, so it allocates nothing and reads
//! only the live stack between the trap's stack pointer and the entry's: every frame pointer is
//! checked against those bounds before it is read, so a chain broken by runtime frames built
//! without frame pointers ends the walk early instead of reading elsewhere. Naming happens later,
//! outside the handler.
//!
//! The record is cleared when a thread enters wasm from the host (the outermost entry); a trap
//! that unwinds through host code and is raised again (wasm → host → wasm) appends the outer
//! frames to the inner ones, so the backtrace covers the whole chain.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use weld_contract::info::ModuleInfo;

/// Most frames recorded per trap chain; deeper stacks keep their innermost frames.
pub const MAX_FRAMES: usize = 64;

#[derive(Clone, Copy)]
struct Raw {
    pcs: [usize; MAX_FRAMES],
    len: usize,
}

impl Raw {
    const EMPTY: Raw = Raw {
        pcs: [0; MAX_FRAMES],
        len: 0,
    };

    fn push(&mut self, pc: usize) {
        if let Some(slot) = self.pcs.get_mut(self.len) {
            *slot = pc;
            self.len += 1;
        }
    }
}

#[cfg(feature = "std")]
std::thread_local! {
    static LAST: core::cell::RefCell<Raw> = const { core::cell::RefCell::new(Raw::EMPTY) };
}

/// Without `std` there is one thread: a plain static.
#[cfg(not(feature = "std"))]
static LAST: crate::sync::SpinLock<Raw> = crate::sync::SpinLock::new(Raw::EMPTY);

/// Run `f` on this thread's record, unless it is in use (then do nothing: a trap inside the
/// runtime's own use of it cannot happen, and waiting in a fault handler must not).
fn with_last<R>(f: impl FnOnce(&mut Raw) -> R) -> Option<R> {
    #[cfg(feature = "std")]
    {
        LAST.with(|l| l.try_borrow_mut().ok().map(|mut raw| f(&mut raw)))
    }
    #[cfg(not(feature = "std"))]
    {
        LAST.try_lock().map(|mut raw| f(&mut raw))
    }
}

/// Forget the frames of earlier traps on this thread (a new call from the host begins).
pub(crate) fn clear() {
    with_last(|raw| raw.len = 0);
}

/// Record the wasm frames of a trap: `pc` is the trapping instruction (when the trap is in wasm
/// code itself), `fp` the frame pointer there, `lo` the stack pointer there and `hi` the stack
/// pointer of the innermost entry into wasm. Async-signal-safe.
///
/// # Safety
/// `[lo, hi)` must be live, readable stack of this thread.
pub(crate) unsafe fn record(pc: Option<usize>, fp: usize, lo: usize, hi: usize) {
    with_last(|raw| {
        if let Some(pc) = pc.filter(|pc| crate::registry::is_wasm(*pc)) {
            raw.push(pc);
        }
        // SAFETY: the caller guarantees `[lo, hi)` is readable; `walk` reads only inside it.
        unsafe { walk(fp, lo, hi, |ra| raw.push(ra)) };
    });
}

/// Follow the frame-pointer chain from `fp` while it stays inside `[lo, hi)` and moves towards
/// `hi`, giving `each` every return address (less one, so it points into the call instruction)
/// that lies in wasm code.
///
/// # Safety
/// `[lo, hi)` must be readable memory.
unsafe fn walk(mut fp: usize, lo: usize, hi: usize, mut each: impl FnMut(usize)) {
    const WORD: usize = core::mem::size_of::<usize>();
    let mut steps = 0;
    while fp >= lo && fp.is_multiple_of(WORD) && fp.checked_add(2 * WORD).is_some_and(|e| e <= hi) {
        // SAFETY: both words lie inside `[lo, hi)`, which the caller guarantees readable.
        let (next, ra) = unsafe { (*(fp as *const usize), *((fp + WORD) as *const usize)) };
        if crate::registry::is_wasm(ra) {
            each(ra - 1);
        }
        steps += 1;
        if next <= fp || steps > 100_000 {
            break;
        }
        fp = next;
    }
}

/// One frame of a [`Backtrace`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The module's name (its name section's, or the one weld gave it).
    pub module: Option<String>,
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name from the name section.
    pub func_name: Option<String>,
    /// Byte offset of the trapping or calling instruction in the function's native code.
    pub native_offset: usize,
}

/// The wasm functions active at a trap, innermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backtrace {
    /// The frames, innermost (where the trap happened) first.
    pub frames: Vec<Frame>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&weld_contract::symbols::wasm_function_name(
            self.module.as_deref(),
            self.func_index,
            self.func_name.as_deref(),
        ))
    }
}

impl fmt::Display for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            write!(f, "\n    {i:>2}: {frame}")?;
        }
        Ok(())
    }
}

/// The backtrace of the last trap on this thread (since it last entered wasm from the host),
/// named; clears the record. `None` when no trap recorded frames.
pub fn take() -> Option<Backtrace> {
    let raw = with_last(|raw| {
        let taken = *raw;
        raw.len = 0;
        taken
    })?;
    let bt = symbolize(&raw.pcs[..raw.len]);
    (!bt.frames.is_empty()).then_some(bt)
}

/// Name each PC that lies in a defined function of registered code.
fn symbolize(pcs: &[usize]) -> Backtrace {
    let mut infos: BTreeMap<usize, Option<ModuleInfo>> = BTreeMap::new();
    let mut frames = Vec::new();
    for &pc in pcs {
        let Some((code, Some((defined, native_offset)))) = crate::registry::locate(pc) else {
            continue;
        };
        let info = infos
            .entry(code.info.as_ptr() as usize)
            .or_insert_with(|| ModuleInfo::decode(code.info));
        let (func_index, module, func_name) = match info {
            Some(info) => {
                let index = info.imported_funcs + defined as u32;
                let name = info
                    .func_names
                    .binary_search_by_key(&index, |(i, _)| *i)
                    .ok()
                    .map(|i| info.func_names[i].1.clone());
                (index, info.module_name.clone(), name)
            }
            None => (defined as u32, None, None),
        };
        frames.push(Frame {
            module,
            func_index,
            func_name,
            native_offset,
        });
    }
    Backtrace { frames }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_follows_frame_records_inside_the_bounds_and_stops_at_a_broken_link() {
        // Fake wasm code (registered, never executed) and a fake stack of frame records
        // `[next fp, return address]`.
        static NO_TRAPS: [weld_contract::descriptor::VMTrapEntry; 0] = [];
        static FUNCS: [weld_contract::descriptor::VMFuncRange; 1] =
            [weld_contract::descriptor::VMFuncRange { start: 0, len: 64 }];
        let code = 0x7100_0000_0000usize;
        crate::registry::register(
            code,
            64,
            crate::registry::CodeInfo {
                traps: &NO_TRAPS,
                funcs: &FUNCS,
                info: &[],
                call_sites: &[],
                handlers: &[],
                stack_maps: &[],
                stack_slots: &[],
            },
        );
        let mut stack = [0usize; 8];
        let base = stack.as_ptr() as usize;
        let w = core::mem::size_of::<usize>();
        stack[0] = base + 2 * w; // frame 0 → frame 1
        stack[1] = code + 10;
        stack[2] = base + 6 * w; // frame 1 → frame 2
        stack[3] = 0x1234; // a host return address: skipped
        stack[6] = base; // frame 2 → backwards: the walk stops here
        stack[7] = code + 20;
        let hi = base + stack.len() * w;
        let mut seen = alloc::vec::Vec::new();
        // SAFETY: the bounds are the fake stack itself.
        unsafe { walk(base, base, hi, |ra| seen.push(ra)) };
        assert_eq!(seen, [code + 9, code + 19]);
        // A chain that leaves the bounds ends there.
        stack[2] = hi;
        core::hint::black_box(&stack);
        seen.clear();
        // SAFETY: as above.
        unsafe { walk(base, base, hi, |ra| seen.push(ra)) };
        assert_eq!(seen, [code + 9]);
        // Frame pointers outside the bounds or misaligned are never read.
        // SAFETY: nothing is read: the start is out of bounds or misaligned.
        unsafe { walk(hi, base, hi, |_| panic!("read outside the stack")) };
        // SAFETY: as above.
        unsafe {
            walk(base + 1, base, hi, |_| {
                panic!("misaligned frame pointer read")
            })
        };
    }

    #[test]
    fn a_backtrace_prints_module_and_function_names_or_indices() {
        let bt = Backtrace {
            frames: alloc::vec![
                Frame {
                    module: Some("app".into()),
                    func_index: 3,
                    func_name: Some("crash".into()),
                    native_offset: 12,
                },
                Frame {
                    module: None,
                    func_index: 7,
                    func_name: None,
                    native_offset: 0,
                },
            ],
        };
        assert_eq!(
            alloc::format!("{bt}"),
            "wasm backtrace:\n     0: app!crash\n     1: <unknown>!<wasm function 7>"
        );
    }
}
