//! The `spectest` host module that the WebAssembly spec's `.wast` scripts import: print
//! functions (which print nothing: tests only check that calls link and run), globals of every
//! numeric type with value 666, a funcref table of 10..20 and a memory of 1..2 pages.

use crate::{Extern, Func, Global, Memory, Store, Table};
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::info::{FuncType, GlobalType, MemoryType, TableType, ValType};
use weld_contract::vmctx::ValRaw;

extern "C" fn print(_: *mut u8) {}
extern "C" fn print_i32(_: *mut u8, _: i32) {}
extern "C" fn print_i64(_: *mut u8, _: i64) {}
extern "C" fn print_f32(_: *mut u8, _: f32) {}
extern "C" fn print_f64(_: *mut u8, _: f64) {}
extern "C" fn print_i32_f32(_: *mut u8, _: i32, _: f32) {}
extern "C" fn print_f64_f64(_: *mut u8, _: f64, _: f64) {}

/// Create the spectest exports in `store`.
pub fn exports(store: &mut Store) -> Vec<(String, Extern)> {
    use ValType::*;
    let funcs: [(&str, Vec<ValType>, *const u8); 7] = [
        ("print", vec![], print as *const u8),
        ("print_i32", vec![I32], print_i32 as *const u8),
        ("print_i64", vec![I64], print_i64 as *const u8),
        ("print_f32", vec![F32], print_f32 as *const u8),
        ("print_f64", vec![F64], print_f64 as *const u8),
        ("print_i32_f32", vec![I32, F32], print_i32_f32 as *const u8),
        ("print_f64_f64", vec![F64, F64], print_f64_f64 as *const u8),
    ];
    let mut out = Vec::new();
    for (name, params, code) in funcs {
        let ty = FuncType {
            params,
            results: vec![],
        };
        // SAFETY: each `code` above is an `extern "C" fn(ctx, params...)` with exactly the
        // parameters of `ty` and no result, and ignores its (null) context.
        let f = unsafe { Func::host(store, ty, code, core::ptr::null_mut()) };
        out.push((name.to_string(), Extern::Func(f)));
    }
    let globals = [
        ("global_i32", I32, ValRaw::i32(666)),
        ("global_i64", I64, ValRaw::i64(666)),
        ("global_f32", F32, ValRaw::f32(666.6f32.to_bits())),
        ("global_f64", F64, ValRaw::f64(666.6f64.to_bits())),
    ];
    for (name, ty, v) in globals {
        let g = Global::new(store, GlobalType { ty, mutable: false }, v);
        out.push((name.to_string(), Extern::Global(g)));
    }
    if let Some(t) = Table::new(
        store,
        TableType {
            elem: FuncRef,
            min: 10,
            max: Some(20),
        },
        0,
    ) {
        out.push(("table".to_string(), Extern::Table(t)));
    }
    if let Some(m) = Memory::new(
        store,
        MemoryType {
            min: 1,
            max: Some(2),
        },
        false,
    ) {
        out.push(("memory".to_string(), Extern::Memory(m)));
    }
    out
}
