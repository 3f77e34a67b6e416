//! Where the references into a store's GC heap are: the frames of running wasm code (through
//! the stack maps the compiler wrote), and everything the store keeps outside the heap —
//! globals, tables, passive element segments and live exceptions.
//!
//! In: the store context (`exit_frame`, the chain of interrupted activations) and the holders
//! registered as the store made them. Out: the address of every word that may hold a
//! reference, for the collector to read and rewrite. A wasm frame is found from the frame
//! record of the exit trampoline it left through: the return address there is its pc, whose
//! stack map (looked up in the process-wide code registry) lists the frame-pointer-relative
//! slots holding its live references; each frame's own record leads to its caller, until a
//! pc outside every compiled function (the entry trampoline) ends the activation.

use crate::instance::InstanceData;
use crate::table::TableData;
use alloc::vec::Vec;
use weld_contract::descriptor::{func_at, stack_map_at};
use weld_contract::vmctx::{VMEntryRecord, VMStoreContext};

/// The holders of references a store registered with its heap.
#[derive(Debug, Default)]
pub(crate) struct Roots {
    /// The first word of each global of a GC type.
    pub(crate) globals: Vec<*mut u64>,
    /// Tables of a GC element type.
    pub(crate) tables: Vec<*mut TableData>,
    /// Every instance (passive element segments, exceptions).
    pub(crate) instances: Vec<*mut InstanceData>,
    /// The host's roots ([`crate::gc::GcRoot`]): a word each, `None` once released.
    pub(crate) host: Vec<HostSlot>,
    /// Released host slots, for reuse.
    pub(crate) free: Vec<u32>,
    /// Activations on stacks that do not run now (`fiber`): a suspended fiber's, and the
    /// resumer's of a running fiber, as `(exit_frame, entries)`.
    pub(crate) parked: Vec<Parked>,
}

/// A parked activation: `(exit_frame, entries)` of a stack that does not run.
pub(crate) type Parked = (usize, *const VMEntryRecord);

/// One host root slot.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HostSlot {
    /// The reference word while the root is held.
    pub(crate) word: Option<u64>,
    /// Bumped at each release, so a stale handle finds nothing.
    pub(crate) generation: u32,
}

/// Whether the collector can find every wasm frame of `ctx`'s activations.
///
/// # Safety
/// `ctx` must be a live store context whose entry records are live.
pub(crate) unsafe fn frames_walkable(ctx: *const VMStoreContext, parked: &[Parked]) -> bool {
    // SAFETY: the caller guarantees the chains.
    unsafe {
        chain_walkable(((*ctx).exit_frame, (*ctx).entries))
            && parked.iter().all(|p| chain_walkable(*p))
    }
}

/// Whether every wasm frame of one stack's activations can be found.
///
/// # Safety
/// The entry records must be live.
unsafe fn chain_walkable((exit_frame, entries): Parked) -> bool {
    // Wasm runs (an entry is open) but left without an exit trampoline: its frames are
    // unknown.
    if !entries.is_null() && exit_frame == 0 {
        return false;
    }
    let mut rec = entries;
    while !rec.is_null() {
        // SAFETY: the caller guarantees the chain.
        unsafe {
            if (*rec).opaque {
                return false;
            }
            rec = (*rec).prev;
        }
    }
    true
}

/// Visit the reference slots of every wasm frame of one stack's activations.
///
/// # Safety
/// As for [`Roots::visit`].
unsafe fn visit_chain((exit_frame, entries): Parked, visit: &mut dyn FnMut(*mut u64)) {
    // SAFETY: the caller guarantees every pointer followed here.
    unsafe {
        walk_activation(exit_frame, visit);
        let mut rec = entries;
        while !rec.is_null() {
            walk_activation((*rec).exit_frame, visit);
            rec = (*rec).prev;
        }
    }
}

impl Roots {
    /// Add the activations of a stack that stops running (a fiber's, or its resumer's).
    pub(crate) fn park(&mut self, p: Parked) {
        self.parked.push(p);
    }

    /// Remove them again when that stack runs.
    pub(crate) fn unpark(&mut self, p: Parked) {
        if let Some(i) = self.parked.iter().rposition(|q| *q == p) {
            self.parked.remove(i);
        }
    }

    /// Call `visit` with the address of every word outside the heap that may hold a reference
    /// into it.
    ///
    /// # Safety
    /// Every registered holder must be live, `ctx` live with a walkable chain
    /// ([`frames_walkable`]), and no wasm code running on this store but the frames it records.
    pub(crate) unsafe fn visit(
        &mut self,
        ctx: *const VMStoreContext,
        visit: &mut dyn FnMut(*mut u64),
    ) {
        // SAFETY: the caller guarantees every pointer followed here.
        unsafe {
            visit_chain(((*ctx).exit_frame, (*ctx).entries), visit);
            for p in &self.parked {
                visit_chain(*p, visit);
            }
            for g in &self.globals {
                visit(*g);
            }
            for t in &self.tables {
                for e in (**t).elements_mut() {
                    visit(e as *mut usize as *mut u64);
                }
            }
            for inst in &self.instances {
                let inst = &mut **inst;
                let elems = &inst.module.inner.info.elems;
                for (seg, items) in elems.iter().zip(inst.elems.iter_mut()) {
                    if seg.ty.is_gc_ref() {
                        items
                            .iter_mut()
                            .for_each(|e| visit(e as *mut usize as *mut u64));
                    }
                }
                inst.exceptions.visit_refs(visit);
            }
        }
        for slot in &mut self.host {
            if let Some(w) = slot.word.as_mut() {
                visit(w);
            }
        }
    }
}

/// Visit the reference slots of the wasm frames of one activation, starting at the frame
/// record of the exit trampoline at `exit_frame` (nothing when 0).
///
/// # Safety
/// `exit_frame` must be the frame pointer of a live exit trampoline whose callers up to the
/// activation's entry are compiled wasm functions with frame records.
unsafe fn walk_activation(exit_frame: usize, visit: &mut dyn FnMut(*mut u64)) {
    if exit_frame == 0 {
        return;
    }
    // SAFETY: a frame record is two words: the caller's frame pointer, the return address.
    let (mut fp, mut pc) = unsafe { record(exit_frame) };
    while let Some((start, code)) = crate::registry::code_at(pc) {
        let offset = pc - start;
        if func_at(code.funcs, offset).is_none() {
            break;
        }
        if let Some(m) = stack_map_at(code.stack_maps, offset) {
            let slots = code
                .stack_slots
                .get(m.start as usize..(m.start + m.len) as usize)
                .unwrap_or(&[]);
            for s in slots {
                visit(fp.wrapping_add_signed(*s as isize) as *mut u64);
            }
        }
        // SAFETY: `fp` is the frame pointer of a live compiled wasm frame.
        (fp, pc) = unsafe { record(fp) };
    }
}

/// The caller's frame pointer and the return address a frame record at `fp` holds.
///
/// # Safety
/// `fp` must point at a live frame record.
unsafe fn record(fp: usize) -> (usize, usize) {
    // SAFETY: the caller guarantees the two words.
    unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) }
}
