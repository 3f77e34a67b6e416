//! The `spectest` module the official test suite imports from: `print*` functions (they print
//! nothing), the globals `global_i32/i64/f32/f64` (666 / 666.6), funcref tables `table` and
//! `table64` (10..=20; the second with 64-bit indices) and
//! a `memory` (1..=2 pages, with guard regions so guard-mode and explicit-bounds code can both
//! import it).

use crate::{Extern, Func, Global, Memory, Store, Table};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::info::{FuncType, GlobalType, IndexType, MemoryType, TableType, ValType};
use weld_contract::vmctx::ValRaw;

extern "C" fn print(_: *mut u8) {}
extern "C" fn print_i32(_: *mut u8, _: i32) {}
extern "C" fn print_i64(_: *mut u8, _: i64) {}
extern "C" fn print_f32(_: *mut u8, _: f32) {}
extern "C" fn print_f64(_: *mut u8, _: f64) {}
extern "C" fn print_i32_f32(_: *mut u8, _: i32, _: f32) {}
extern "C" fn print_f64_f64(_: *mut u8, _: f64, _: f64) {}

/// Create the spectest items in `store`; returns them by export name.
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
        // SAFETY: each function above takes the host context and exactly `params`, returns
        // nothing, and ignores the (null) context.
        let f = unsafe { Func::host(store, ty, code, core::ptr::null_mut()) };
        out.push((name.into(), Extern::Func(f)));
    }
    let globals = [
        ("global_i32", I32, ValRaw::i32(666)),
        ("global_i64", I64, ValRaw::i64(666)),
        ("global_f32", F32, ValRaw::f32(666.6f32.to_bits())),
        ("global_f64", F64, ValRaw::f64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let ty = GlobalType {
            ty,
            mutable: false,
            ref_type: None,
        };
        out.push((name.into(), Extern::Global(Global::new(store, ty, value))));
    }
    for (name, index) in [("table", IndexType::I32), ("table64", IndexType::I64)] {
        let table_ty = TableType {
            elem: FuncRef,
            min: 10,
            max: Some(20),
            index,
            ref_type: None,
        };
        if let Some(t) = Table::new(store, table_ty, 0) {
            out.push((name.into(), Extern::Table(t)));
        }
    }
    let memory_ty = MemoryType {
        min: 1,
        max: Some(2),
        index: IndexType::I32,
    };
    if let Some(m) = Memory::new(store, memory_ty, false) {
        out.push(("memory".into(), Extern::Memory(m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectest_provides_the_suite_s_imports() {
        let mut store = Store::new();
        let exports = exports(&mut store);
        let names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
        for want in ["print_i32", "global_f64", "table", "memory"] {
            assert!(names.contains(&want), "{want}");
        }
        let Some((_, Extern::Global(g))) = exports.iter().find(|(n, _)| n == "global_i32") else {
            unreachable!("global_i32")
        };
        assert_eq!(g.get(&store).get_i32(), 666);
    }
}
