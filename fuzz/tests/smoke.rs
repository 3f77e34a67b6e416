//! A bounded differential run in the normal test suite: a fixed range of seeds of generated core
//! modules and round-trip components runs in weld and in Wasmtime, and the two agree. `make
//! fuzz` runs the same generators and oracles over any range (`FUZZ_CASES`, `FUZZ_SEED`).

#![allow(clippy::panic, clippy::unwrap_used)]

use weld_fuzz::campaign::{run_component_batch, run_core_batch, CaseResult, Tally};

/// Core seeds of the smoke run (batches of 100, like `make fuzz`'s one-library-per-batch).
const CORE_SEEDS: std::ops::Range<u64> = 0..500;
/// Component seeds of the smoke run.
const COMPONENT_SEEDS: std::ops::Range<u64> = 0..100;

fn run(kind: &str, seeds: std::ops::Range<u64>, batch: usize) -> (Tally, Vec<String>) {
    let engine = weld_fuzz::core::wasmtime_engine();
    let seeds: Vec<u64> = seeds.collect();
    let mut tally = Tally::default();
    let mut bad = Vec::new();
    for chunk in seeds.chunks(batch) {
        let mut each = |s: u64, r: CaseResult| {
            if matches!(r, CaseResult::Diverged(_) | CaseResult::Crash(_)) {
                bad.push(format!("{kind} seed {s}: {}: {}", r.kind(), r.detail()));
            }
            tally.add(&r);
        };
        match kind {
            "core" => run_core_batch(chunk, &engine, &mut |_| {}, &mut each),
            _ => run_component_batch(chunk, &engine, &mut |_| {}, &mut each),
        }
    }
    (tally, bad)
}

#[test]
fn generated_modules_behave_the_same_in_weld_and_wasmtime() {
    if !weld_fuzz::have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let (tally, bad) = run("core", CORE_SEEDS, 100);
    println!("core: {tally}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(tally.cases, CORE_SEEDS.end - CORE_SEEDS.start);
    let compared = tally.cases - tally.skipped - tally.unsupported - tally.inconclusive;
    assert!(
        compared * 10 >= tally.cases * 8,
        "too few cases were compared: {tally}"
    );
}

#[test]
fn generated_components_round_trip_the_same_in_weld_and_wasmtime() {
    if !weld_fuzz::have_cc() {
        println!("SKIPPED: no C compiler");
        return;
    }
    let (tally, bad) = run("component", COMPONENT_SEEDS, 100);
    println!("component: {tally}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(tally.cases, COMPONENT_SEEDS.end - COMPONENT_SEEDS.start);
    assert_eq!(tally.unsupported, 0, "{tally}");
}

/// The generator really exercises the Wasm 3.0 features the fuzzer turns on: among the smoke
/// run's seeds some modules make tail calls, declare a 64-bit memory and use relaxed SIMD.
#[test]
fn generated_modules_include_tail_calls_64_bit_memories_relaxed_simd_and_exceptions() {
    use wasmparser::{Operator, Parser, Payload};
    let (mut tail, mut mem64, mut relaxed, mut exn) = (0, 0, 0, 0);
    for seed in CORE_SEEDS {
        let Some(case) = weld_fuzz::core::gen_case(seed) else {
            continue;
        };
        let (mut t, mut m, mut r, mut e) = (false, false, false, false);
        for payload in Parser::new(0).parse_all(&case.bytes) {
            match payload.unwrap() {
                Payload::MemorySection(s) => m |= s.into_iter().any(|x| x.unwrap().memory64),
                Payload::CodeSectionEntry(body) => {
                    let mut ops = body.get_operators_reader().unwrap();
                    while !ops.eof() {
                        let op = ops.read().unwrap();
                        t |= matches!(
                            op,
                            Operator::ReturnCall { .. }
                                | Operator::ReturnCallIndirect { .. }
                                | Operator::ReturnCallRef { .. }
                        );
                        r |= format!("{op:?}").contains("Relaxed");
                        e |= matches!(op, Operator::TryTable { .. } | Operator::Throw { .. });
                    }
                }
                _ => {}
            }
        }
        tail += usize::from(t);
        mem64 += usize::from(m);
        relaxed += usize::from(r);
        exn += usize::from(e);
    }
    println!(
        "of {} seeds: {tail} tail-calling, {mem64} with a 64-bit memory, {relaxed} with relaxed \
         SIMD, {exn} throwing or catching",
        CORE_SEEDS.end
    );
    assert!(
        tail > 0 && mem64 > 0 && relaxed > 0 && exn > 0,
        "{tail} {mem64} {relaxed} {exn}"
    );
}
