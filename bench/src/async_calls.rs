//! Async boundary calls and streams, in this process: an async host → component call (an
//! async-lifted export that returns at once) and an async component → host call (a host
//! function lowered `async`, called in a loop inside the component), ns per call; and 64 MiB
//! through a `stream<u8>` from one component to another, 64 KiB per write, ns per 64 KiB
//! chunk (MB/s in the report).
//! One component (`async_calls.wat`) serves both; weld compiles it and calls it through
//! `ComponentInstance::call`, the `wasmtime` crate 48.0.8 runs the same bytes with its
//! component-model-async support (`TypedFunc::call_async`, driven to completion here).

use crate::calls::{iterations_for, load_weld, measure, wat_to_binary, Case};
use anyhow::{anyhow, Result};
use std::future::Future;
use std::path::Path;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use weld_runtime::component::Val;
use weld_runtime::{ComponentInstance, HostImports, Library, Store};

/// Bytes per write and read of the stream case.
pub const CHUNK: u32 = 65536;
/// Chunks per stream transfer (64 MiB).
const CHUNKS: u32 = 1024;

/// What a case calls.
#[derive(Debug, Clone, Copy)]
enum Call {
    /// `nop`, once per iteration.
    Nop,
    /// `loop-host(iters)`: the component calls the host `iters` times.
    LoopHost,
    /// `pump(CHUNKS)`, once per iteration; timed per chunk.
    Pump,
}

const CASES: &[(&str, &str, Call)] = &[
    ("async host→component nop", "async_call", Call::Nop),
    (
        "async component→host nop",
        "async_host_call",
        Call::LoopHost,
    ),
    (
        "component→component stream<u8> 64 MiB (per 64 KiB chunk)",
        "stream_throughput",
        Call::Pump,
    ),
];

/// The component.
pub fn component_bytes() -> Result<Vec<u8>> {
    wat_to_binary(include_str!("async_calls.wat"))
}

struct WeldSide {
    store: Store,
    inst: ComponentInstance,
    _module: weld_runtime::ComponentModule,
    _lib: Library,
}

impl WeldSide {
    fn new(bytes: &[u8], work: &Path) -> Result<WeldSide> {
        let (lib, module) = load_weld(bytes, work, "async_calls")?;
        let mut store = Store::new();
        let mut imports = HostImports::new();
        // A `Val` host function: typed ones serve synchronous lowerings only.
        imports.insert("host-nop", |_: &[Val]| Ok(None));
        let inst =
            ComponentInstance::new(&mut store, &module, &imports).map_err(|e| anyhow!("{e}"))?;
        Ok(WeldSide {
            store,
            inst,
            _module: module,
            _lib: lib,
        })
    }

    fn time(&mut self, call: Call, iters: u32) -> Result<f64> {
        let (s, i) = (&mut self.store, &self.inst);
        let trap = |e: weld_runtime::trap::Trap| anyhow!("{e}");
        let t = Instant::now();
        match call {
            Call::Nop => {
                for _ in 0..iters {
                    std::hint::black_box(i.call(s, "nop", &[]).map_err(trap)?);
                }
            }
            Call::LoopHost => {
                let f = i
                    .typed_func::<(u32,), ()>(s, "loop-host")
                    .map_err(|e| anyhow!("{e}"))?;
                let t = Instant::now();
                f.call(s, (iters,)).map_err(trap)?;
                return Ok(per(call, t.elapsed().as_nanos() as f64, iters));
            }
            Call::Pump => {
                for _ in 0..iters {
                    let got = i.call(s, "pump", &[Val::U32(CHUNKS)]).map_err(trap)?;
                    check_pumped(got == Some(Val::U32(CHUNKS * CHUNK)))?;
                }
            }
        }
        Ok(per(call, t.elapsed().as_nanos() as f64, iters))
    }
}

/// ns per call, or per chunk for the stream case.
fn per(call: Call, ns: f64, iters: u32) -> f64 {
    match call {
        Call::Nop | Call::LoopHost => ns / f64::from(iters),
        Call::Pump => ns / f64::from(iters) / f64::from(CHUNKS),
    }
}

fn check_pumped(ok: bool) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the consumer did not receive every byte"))
    }
}

/// Run `f` to completion: the futures here wait on nothing outside the store.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

struct WasmtimeSide {
    store: wasmtime::Store<()>,
    nop: wasmtime::component::TypedFunc<(), (u32,)>,
    loop_host: wasmtime::component::TypedFunc<(u32,), ()>,
    pump: wasmtime::component::TypedFunc<(u32,), (u32,)>,
}

fn wt<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(|e| anyhow!("wasmtime: {e:?}"))
}

impl WasmtimeSide {
    fn new(bytes: &[u8]) -> Result<WasmtimeSide> {
        use wasmtime::component::{Component, Linker};
        let mut config = wasmtime::Config::new();
        config.wasm_component_model_async(true);
        config.wasm_component_model_async_stackful(true);
        let engine = wt(wasmtime::Engine::new(&config))?;
        let component = wt(Component::new(&engine, bytes))?;
        let mut linker = Linker::<()>::new(&engine);
        wt(linker
            .root()
            .func_wrap_concurrent("host-nop", |_, (): ()| Box::pin(async { Ok(()) })))?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wt(block_on(linker.instantiate_async(&mut store, &component)))?;
        let nop = wt(instance.get_typed_func(&mut store, "nop"))?;
        let loop_host = wt(instance.get_typed_func(&mut store, "loop-host"))?;
        let pump = wt(instance.get_typed_func(&mut store, "pump"))?;
        Ok(WasmtimeSide {
            store,
            nop,
            loop_host,
            pump,
        })
    }

    fn time(&mut self, call: Call, iters: u32) -> Result<f64> {
        let s = &mut self.store;
        let t = Instant::now();
        match call {
            Call::Nop => {
                for _ in 0..iters {
                    std::hint::black_box(wt(block_on(self.nop.call_async(&mut *s, ())))?);
                }
            }
            Call::LoopHost => {
                wt(block_on(self.loop_host.call_async(&mut *s, (iters,))))?;
            }
            Call::Pump => {
                for _ in 0..iters {
                    let (got,) = wt(block_on(self.pump.call_async(&mut *s, (CHUNKS,))))?;
                    check_pumped(got == CHUNKS * CHUNK)?;
                }
            }
        }
        Ok(per(call, t.elapsed().as_nanos() as f64, iters))
    }
}

/// Every case, `rounds` timed rounds per side after a calibrating one.
pub fn run(work: &Path, rounds: usize) -> Result<Vec<Case>> {
    let bytes = component_bytes()?;
    let mut weld = WeldSide::new(&bytes, work).map_err(|e| e.context("weld side"));
    let mut wasm = WasmtimeSide::new(&bytes).map_err(|e| e.context("wasmtime side"));
    let mut out = Vec::new();
    for &(name, group, call) in CASES {
        // A call of `pump` moves 64 MiB: one to warm up, three per round.
        let (calibration, size): (u32, fn(f64) -> u32) = match call {
            Call::Pump => (1, |_| 3),
            Call::Nop | Call::LoopHost => (1000, |ns| iterations_for(ns, 2e7)),
        };
        out.push(measure(
            (name, group),
            (calibration, rounds),
            (&mut weld, &mut wasm),
            |ns| Ok(size(ns)),
            (
                |w: &mut WeldSide, n| w.time(call, n),
                |w: &mut WasmtimeSide, n| w.time(call, n),
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_async_component_text_is_valid_wat() {
        let bytes = component_bytes().expect("encodes");
        assert!(bytes.starts_with(b"\0asm"));
    }

    #[test]
    fn the_stream_case_is_timed_per_chunk() {
        assert_eq!(per(Call::Pump, 1024.0 * 8.0, 2), 4.0);
        assert_eq!(per(Call::Nop, 10.0, 5), 2.0);
    }
}
