//! The compile pool: every function of every module of a compilation — and the small
//! trampolines and entry points beside them — as one list of jobs shared by the worker threads.
//!
//! In: the jobs and a cost estimate for each. Out: every job's result, in job order.
//!
//! Why one pool for all modules, biggest first: a component holds several modules (the
//! program, the preview1 adapter, small shims); compiling them one after another leaves a
//! thread idle at the end of each module while the other finishes its last function. Taking
//! the costliest jobs first (by body size) keeps the end of the whole compilation short.
//!
//! Errors are deterministic: the reported error is the failing job with the lowest index,
//! whatever the scheduling — every job below the lowest failure seen so far still runs, jobs
//! above it are skipped.

use super::func::FuncContext;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Run `job(ctx, i)` for every `i < costs.len()` on `threads` threads (0 = one per CPU), the
/// costliest first; the results in job order, or the error of the lowest failing job.
pub fn run<T: Send>(
    costs: &[usize],
    threads: usize,
    job: impl Fn(&mut FuncContext, usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let n = costs.len();
    let mut order: Vec<usize> = (0..n).collect();
    // Stable: equal costs keep their index order.
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let slots: Mutex<Vec<Option<Result<T>>>> = Mutex::new((0..n).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let lowest_failure = AtomicUsize::new(usize::MAX);
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
    .min(n.max(1));
    let work = || {
        let mut ctx = FuncContext::default();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            if i > lowest_failure.load(Ordering::Relaxed) {
                continue;
            }
            let r = job(&mut ctx, i);
            if r.is_err() {
                lowest_failure.fetch_min(i, Ordering::Relaxed);
                // A job that failed half-way may leave its builder state behind.
                ctx = FuncContext::default();
            }
            if let Ok(mut slots) = slots.lock() {
                slots[i] = Some(r);
                // Reported under the lock, so the counts reach the reporter in order.
                crate::progress::report(crate::progress::Event::Compiled {
                    done: finished.fetch_add(1, Ordering::Relaxed) + 1,
                    total: n,
                });
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    let slots = slots.into_inner().map_err(|_| Error::Codegen {
        func: 0,
        message: "a compile thread panicked".into(),
    })?;
    let mut out = Vec::with_capacity(n);
    for slot in slots {
        match slot {
            Some(r) => out.push(r?),
            // Skipped after a failure of a lower job, which the loop returns first.
            None => break,
        }
    }
    if out.len() != n {
        return Err(Error::Codegen {
            func: 0,
            message: "compilation stopped early".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(i: usize) -> Error {
        Error::Codegen {
            func: i as u32,
            message: format!("job {i}"),
        }
    }

    #[test]
    fn results_come_back_in_job_order_whatever_the_costs() {
        let costs = [1, 50, 3, 50, 0, 7];
        for threads in [1, 2, 4] {
            let out = run(&costs, threads, |_, i| Ok(i * 10)).expect("no job fails");
            assert_eq!(out, vec![0, 10, 20, 30, 40, 50]);
        }
    }

    #[test]
    fn the_lowest_failing_job_is_the_one_reported() {
        // Job 5 is the costliest, so it runs first; job 2 fails later but is reported.
        let costs = [1, 1, 1, 1, 1, 100, 1, 1];
        for threads in [1, 2, 3] {
            let err = run(&costs, threads, |_, i| {
                if i == 2 || i == 5 {
                    Err(fail(i))
                } else {
                    Ok(())
                }
            })
            .expect_err("two jobs fail");
            assert_eq!(err.to_string(), fail(2).to_string(), "{threads} threads");
        }
    }

    #[test]
    fn an_empty_job_list_gives_an_empty_result() {
        let out = run(&[], 2, |_, _| Ok(())).expect("nothing to fail");
        assert!(out.is_empty());
    }
}
