//! Phase timings for `weld compile`: with `WELD_TIMINGS=1` in the environment, each phase of
//! the data flow (adapt, translate, codegen, emit, link, ...) prints its wall time to stderr
//! as `weld: time <phase> <ms> ms`. For finding where compile time goes without a profiler;
//! off by default, and then a phase costs one relaxed load.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WELD_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty()))
}

/// Run `f`, printing its wall time under `name` when timings are on.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let r = f();
    eprintln!(
        "weld: time {name} {:.2} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_returns_what_its_closure_returns() {
        assert_eq!(phase("test", || 41 + 1), 42);
    }
}
