//! Fused calls with strings, without `Val`s.
//!
//! In: a lowering whose target is another component instance's lifted function, called by
//! its trampoline with the caller's flat arguments. Out: the callee's flat result, with the same
//! checks and traps as the generic path (lift everything from the caller, enter the callee,
//! lower into it, call, lift the result, post-return), but values go straight from slot to slot
//! and string bytes straight from the caller's memory to the callee's — no `Val` tree, no host
//! allocation. It covers exactly the calls of the contract's plan
//! ([`weld_contract::component::plan`]), which the compiled fused trampolines are built from,
//! with the same conversions; so it runs when one of their checks fails
//! (to raise the proper trap) or when the runtime cannot back their string copies (it then
//! leaves `callee_realloc` null: see [`Inner::compiled_string_targets`]). Anything else (other
//! encodings, lists, records, spilled or memory-returned results) stays generic.

use super::{bad, trap, Inner};
use crate::component::abi::{f32_canon, f64_canon, MAX_FLAT_PARAMS};
use crate::component::string::MAX_STRING_BYTE_LENGTH;
use crate::func::Func;
use crate::instance::Extern;
use crate::memory::Memory;
use crate::store::Store;
use crate::trap::Trap;
use weld_contract::component::plan::{fused_plan, FlatConv, FusedPlan};
use weld_contract::component::{CanonOpts, LoweringTarget};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{VMFuncRef, VMMemory, ValRaw};

/// Lift one flat value from one side and lower it into the other, as the plan says.
fn convert(c: FlatConv, v: ValRaw) -> Result<ValRaw, Trap> {
    let i = v.get_i32();
    Ok(match c {
        FlatConv::Bool => ValRaw::i32(i32::from(i != 0)),
        FlatConv::U8 => ValRaw::i32(i & 0xff),
        FlatConv::S8 => ValRaw::i32(i32::from(i as i8)),
        FlatConv::U16 => ValRaw::i32(i & 0xffff),
        FlatConv::S16 => ValRaw::i32(i32::from(i as i16)),
        FlatConv::Same | FlatConv::StrPtr | FlatConv::StrLen => v,
        FlatConv::F32 => ValRaw::f32(f32_canon(v.get_f32()).to_bits()),
        FlatConv::F64 => ValRaw::f64(f64_canon(v.get_f64()).to_bits()),
        FlatConv::Char => {
            if char::from_u32(i as u32).is_none() {
                return Err(trap(TrapCode::InvalidCharBitPattern));
            }
            v
        }
    })
}

/// A fused call of one lowering: the contract's plan and what it needs, resolved on its first
/// call.
#[derive(Debug)]
pub(super) struct FusedCall {
    plan: FusedPlan,
    func: Func,
    /// Core results of the callee (the post-return's parameters).
    results: usize,
    post_return: Option<Func>,
    caller_memory: Option<Memory>,
    callee_memory: Option<Memory>,
    callee_realloc: Option<Func>,
}

impl Inner {
    /// The fused call of lowering `index`, if the plan covers it (resolved once).
    pub(super) fn fused_call(&self, store: &Store, index: u32) -> Option<&FusedCall> {
        let slot = self.fused_plans.get(index as usize)?;
        if let Some(p) = slot.get() {
            return p.as_ref();
        }
        let plan = self.make_fused_call(store, index);
        let _ = slot.set(plan);
        slot.get()?.as_ref()
    }

    /// What a compiled fused trampoline of lowering `index` needs to move strings itself: the
    /// caller's and callee's memories and the callee's realloc, when this path covers the
    /// lowering and it has strings (checked as for the runtime's own fused calls: two distinct
    /// memories, a realloc of the right arity). Resolves the plan the runtime's own path then
    /// reuses when a compiled check fails.
    pub(super) fn compiled_string_targets(
        &self,
        store: &Store,
        index: u32,
    ) -> Option<(*mut VMMemory, *mut VMMemory, *const VMFuncRef)> {
        let plan = self.fused_call(store, index)?;
        if !plan.plan.has_strings() {
            return None;
        }
        let (from, to, realloc) = (
            plan.caller_memory?,
            plan.callee_memory?,
            plan.callee_realloc?,
        );
        Some((
            store.memories.get(from.0).vm(),
            store.memories.get(to.0).vm(),
            realloc.funcref(store) as *const VMFuncRef,
        ))
    }

    fn make_fused_call(&self, store: &Store, index: u32) -> Option<FusedCall> {
        let info = self.info();
        let l = info.lowerings.get(index as usize)?;
        let LoweringTarget::Lifted(f) = &l.target else {
            return None;
        };
        let plan = fused_plan(info, index)?;
        let memory = |opts: &CanonOpts| match &opts.memory {
            Some(d) => match self.export(store, d) {
                Ok(Extern::Memory(m)) => Ok(Some(m)),
                _ => Err(()),
            },
            None => Ok(None),
        };
        let caller_memory = memory(&l.opts).ok()?;
        let callee_memory = memory(&f.opts).ok()?;
        if caller_memory.is_some() && caller_memory == callee_memory {
            return None;
        }
        let callee_realloc = match &f.opts.realloc {
            Some(d) => Some(self.func(store, d).ok()?),
            None => None,
        };
        if callee_realloc.is_some_and(|r| r.arity(store) != (4, 1)) {
            return None;
        }
        let post_return = match &f.opts.post_return {
            Some(d) => Some(self.func(store, d).ok()?),
            None => None,
        };
        let func = self.func(store, &f.func).ok()?;
        let (nparams, results) = func.arity(store);
        if nparams != plan.params.len() || results != usize::from(plan.result.is_some()) {
            return None;
        }
        Some(FusedCall {
            plan,
            func,
            results,
            post_return,
            caller_memory,
            callee_memory,
            callee_realloc,
        })
    }

    /// Run lowering `index` (the fused call `plan`) on the trampoline's `slots`.
    pub(super) fn run_fused(
        &self,
        index: u32,
        plan: &FusedCall,
        slots: &mut [ValRaw],
    ) -> Result<(), Trap> {
        let info = self.info();
        let l = info.lowerings.get(index as usize).ok_or_else(bad)?;
        let LoweringTarget::Lifted(f) = &l.target else {
            return Err(bad());
        };
        let (caller, callee) = (l.opts.instance, f.opts.instance);
        if !self.state()?.inst(caller)?.may_leave() {
            return Err(trap(TrapCode::CannotLeaveComponent));
        }
        // SAFETY: called from a lowering trampoline, i.e. while wasm of this instance runs.
        let store = unsafe { self.store() };

        // Lift everything from the caller: convert scalars, check strings (bounds, UTF-8).
        let mut args = [ValRaw::default(); MAX_FLAT_PARAMS];
        let convs = &plan.plan.params;
        for (at, c) in convs.iter().enumerate() {
            let v = *slots.get(at).ok_or_else(bad)?;
            *args.get_mut(at).ok_or_else(bad)? = convert(*c, v)?;
            if *c != FlatConv::StrPtr {
                continue;
            }
            let ptr = v.get_i32() as u32;
            let len = slots.get(at + 1).ok_or_else(bad)?.get_i32() as u32;
            let mem = plan.caller_memory.ok_or_else(bad)?.data(store);
            let end = u64::from(ptr) + u64::from(len);
            if end > mem.len() as u64 {
                return Err(trap(TrapCode::StringOutOfBounds));
            }
            let bytes = &mem[ptr as usize..end as usize];
            // ASCII first: a vectorised scan, several times faster than full UTF-8
            // validation, and most strings crossing components are ASCII.
            if bytes.is_ascii() {
            } else if let Err(e) = core::str::from_utf8(bytes) {
                return Err(trap(if e.error_len().is_none() {
                    TrapCode::IncompleteUtf8
                } else {
                    TrapCode::InvalidUtf8
                }));
            }
        }

        self.enter_lifted(callee)?;

        // Lower into the callee: each string gets a buffer from its realloc and the bytes.
        // Wasm is entered with `call_nested`: this frame and the lowering callback's own nothing
        // to drop and hold no borrow whenever wasm runs, so a trap may skip them.
        for (at, c) in convs.iter().enumerate() {
            if *c != FlatConv::StrPtr {
                continue;
            }
            // Plans with strings have both (checked when the plan was made).
            let (realloc, callee_memory) = (
                plan.callee_realloc.ok_or_else(bad)?,
                plan.callee_memory.ok_or_else(bad)?,
            );
            let (src, len) = (args[at].get_i32() as u32, args[at + 1].get_i32() as u32);
            if u64::from(len) > MAX_STRING_BYTE_LENGTH {
                return Err(trap(TrapCode::StringOutOfBounds));
            }
            let mut call = [0, 0, 1, len].map(|v| ValRaw::i32(v as i32));
            // SAFETY: see above.
            unsafe { realloc.call_nested(store, &mut call)? };
            let dst = call[0].get_i32() as u32;
            // Alignment 1 always holds; the buffer must fit the callee's memory.
            if u64::from(dst) + u64::from(len) > callee_memory.data(store).len() as u64 {
                return Err(trap(TrapCode::StringOutOfBounds));
            }
            copy_between(store, plan, src, dst, len)?;
            args[at] = ValRaw::i32(dst as i32);
        }

        self.set_flags(callee, None, Some(true))?;
        // SAFETY: see above.
        unsafe { plan.func.call_nested(store, &mut args)? };
        self.state()?.finish_call(callee)?;
        let result = match plan.plan.result {
            Some(c) => Some(convert(c, args[0])?),
            None => None,
        };
        if let Some(r) = result {
            *slots.first_mut().ok_or_else(bad)? = r;
        }
        if let Some(pr) = plan.post_return {
            self.set_flags(callee, None, Some(false))?;
            // SAFETY: see above.
            unsafe { pr.call_nested(store, &mut args[..plan.results.max(1)])? };
            self.set_flags(callee, None, Some(true))?;
        }
        self.tasks.borrow_mut().pop();
        self.set_flags(callee, Some(true), None)
    }
}

/// Copy `len` bytes at `src` of the caller's memory to `dst` of the callee's (both already
/// checked to be in bounds; checked again here).
fn copy_between(
    store: &mut Store,
    plan: &FusedCall,
    src: u32,
    dst: u32,
    len: u32,
) -> Result<(), Trap> {
    let (from, to) = (
        plan.caller_memory.ok_or_else(bad)?,
        plan.callee_memory.ok_or_else(bad)?,
    );
    let len = len as usize;
    let source = from
        .data(store)
        .get(src as usize..src as usize + len)
        .ok_or_else(bad)?
        .as_ptr();
    let target = to
        .data_mut(store)
        .get_mut(dst as usize..dst as usize + len)
        .ok_or_else(bad)?;
    // SAFETY: `source` points at `len` bytes of the caller's memory, `target` is `len` bytes of
    // the callee's; the plan holds two different memories (checked when it was made), each its
    // own allocation, so they do not overlap, and nothing resizes either between the two
    // borrows above and this copy.
    unsafe { core::ptr::copy_nonoverlapping(source, target.as_mut_ptr(), len) };
    Ok(())
}
