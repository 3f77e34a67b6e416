//! Fibers switch stacks and back, keep their own runtime state, report traps and are reused.

use super::*;
use crate::arch::{weld_rt_unwind, ArrayCall};
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

fn fiber() -> Box<Fiber> {
    Fiber::new(64 * 1024).expect("a fiber stack")
}

/// A raw handle a job can use to suspend its own fiber.
fn me(f: &Fiber) -> usize {
    f as *const Fiber as usize
}

fn suspend(f: usize) {
    // SAFETY: the tests keep every fiber alive while its job runs.
    unsafe { (*(f as *const Fiber)).suspend() }
}

#[test]
fn a_job_runs_until_it_suspends_and_goes_on_when_resumed() {
    let mut store = Store::new();
    let f = fiber();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l, fp) = (log.clone(), me(&f));
    let job: Job = Box::new(move || {
        for i in 0..3 {
            l.borrow_mut().push(i);
            suspend(fp);
        }
        Ok(())
    });
    assert!(matches!(f.start(&mut store, job), Resumed::Suspended));
    assert_eq!(*log.borrow(), [0]);
    assert!(matches!(f.resume(&mut store), Resumed::Suspended));
    assert!(matches!(f.resume(&mut store), Resumed::Suspended));
    assert_eq!(*log.borrow(), [0, 1, 2]);
    assert!(matches!(f.resume(&mut store), Resumed::Finished(Ok(()))));
    assert!(!f.busy());
}

#[test]
fn a_finished_fiber_runs_the_next_job_on_the_same_stack() {
    let mut store = Store::new();
    let f = fiber();
    for round in 0..3u32 {
        let seen = Rc::new(Cell::new(0));
        let (s, fp) = (seen.clone(), me(&f));
        let job: Job = Box::new(move || {
            suspend(fp);
            s.set(round + 1);
            Err(Trap::new(TrapCode::Unreachable))
        });
        assert!(matches!(f.start(&mut store, job), Resumed::Suspended));
        match f.resume(&mut store) {
            Resumed::Finished(Err(t)) => assert_eq!(t.code, TrapCode::Unreachable),
            other => panic!("{other:?}"),
        }
        assert_eq!(seen.get(), round + 1);
    }
    assert!(store.gc.roots.parked.is_empty());
}

unsafe extern "C" fn unwinds_with_three(vmctx: *mut u8, _vals: *mut ValRaw) {
    // SAFETY: the test passes the current entry's JmpBuf as `vmctx`; this frame has no
    // destructors.
    unsafe { weld_rt_unwind(vmctx as *const JmpBuf, 3) }
}

#[test]
fn an_unwind_on_a_fiber_stays_on_that_fiber() {
    let mut store = Store::new();
    let f = fiber();
    let code = Rc::new(Cell::new(0u32));
    let (c, fp) = (code.clone(), me(&f));
    let job: Job = Box::new(move || {
        suspend(fp);
        let mut buf = JmpBuf::default();
        let bufp: *mut JmpBuf = &mut buf;
        let mut val = ValRaw::default();
        let g: ArrayCall = unwinds_with_three;
        // SAFETY: the callee unwinds to this entry, skipping only its own frame.
        c.set(unsafe { crate::arch::weld_rt_enter(bufp, g, bufp as *mut u8, &mut val) });
        Ok(())
    });
    let outer = crate::entry::current();
    assert!(matches!(f.start(&mut store, job), Resumed::Suspended));
    assert!(matches!(f.resume(&mut store), Resumed::Finished(Ok(()))));
    assert_eq!(code.get(), 3);
    assert_eq!(crate::entry::current(), outer);
}

#[test]
fn the_stack_limit_and_entry_depth_follow_the_stack() {
    let mut store = Store::new();
    let ctx = store.ctx_ptr();
    // SAFETY: the store context lives as long as the store.
    unsafe { (*ctx).stack_limit = 1234 };
    store.depth = 7;
    let f = fiber();
    let inside = Rc::new(Cell::new((0usize, 0u32)));
    let (i, fp, sp) = (inside.clone(), me(&f), &mut store as *mut Store);
    let job: Job = Box::new(move || {
        // SAFETY: the store outlives the job; nothing else uses it while the job runs.
        let s = unsafe { &mut *sp };
        // SAFETY: as above.
        i.set((unsafe { (*s.ctx_ptr()).stack_limit }, s.depth));
        unsafe { (*s.ctx_ptr()).stack_limit = 99 };
        suspend(fp);
        // SAFETY: as above.
        i.set((unsafe { (*s.ctx_ptr()).stack_limit }, s.depth));
        Ok(())
    });
    assert!(matches!(f.start(&mut store, job), Resumed::Suspended));
    let (limit, depth) = inside.get();
    assert!(limit > f.stack.low() && limit < f.stack.top());
    assert_eq!(depth, 1);
    // SAFETY: as above.
    assert_eq!(unsafe { (*ctx).stack_limit }, 1234);
    assert_eq!(store.depth, 7);
    assert_eq!(store.gc.roots.parked.len(), 1);
    assert!(matches!(f.resume(&mut store), Resumed::Finished(Ok(()))));
    assert_eq!(inside.get(), (99, 1));
    assert!(store.gc.roots.parked.is_empty());
}

#[test]
fn a_fiber_can_start_another_and_each_returns_to_its_resumer() {
    let mut store = Store::new();
    let (outer, inner) = (fiber(), fiber());
    let log = Rc::new(RefCell::new(Vec::new()));
    let sp = &mut store as *mut Store;
    let (l, ip) = (log.clone(), me(&inner));
    let inner_job: Job = Box::new(move || {
        l.borrow_mut().push("inner 1");
        suspend(ip);
        l.borrow_mut().push("inner 2");
        Ok(())
    });
    let (l, op, inner_ptr) = (log.clone(), me(&outer), me(&inner));
    let outer_job: Job = Box::new(move || {
        // SAFETY: the store and both fibers outlive the jobs.
        let (s, inner) = unsafe { (&mut *sp, &*(inner_ptr as *const Fiber)) };
        l.borrow_mut().push("outer 1");
        assert!(matches!(inner.start(s, inner_job), Resumed::Suspended));
        l.borrow_mut().push("outer 2");
        suspend(op);
        assert!(matches!(inner.resume(s), Resumed::Finished(Ok(()))));
        l.borrow_mut().push("outer 3");
        Ok(())
    });
    assert!(matches!(
        outer.start(&mut store, outer_job),
        Resumed::Suspended
    ));
    assert!(matches!(
        outer.resume(&mut store),
        Resumed::Finished(Ok(()))
    ));
    assert_eq!(
        *log.borrow(),
        ["outer 1", "inner 1", "outer 2", "inner 2", "outer 3"]
    );
}
