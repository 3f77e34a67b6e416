//! End-to-end tests of the runtime without the compiler: a tiny "compiled module" written by hand
//! in x86_64 assembly (array-call trampolines that load from memory, execute `ud2`, and call the
//! `memory.fill` libcall), wrapped in a descriptor built at run time. They exercise loading,
//! instantiation, segments, exports, calls, and traps from signals and from libcalls.

use crate::instance::InstantiateError;
use crate::{Extern, Instance, Memory, Module, Store, Table, Trap, TrapCode, ValRaw};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::descriptor::{
    VMFuncRange, VMModuleDescriptor, VMTrapEntry, FLAG_EXPLICIT_BOUNDS, MAGIC,
};
use weld_contract::info::*;
use weld_contract::vmctx::VMOffsets;
use weld_contract::ABI_VERSION;

core::arch::global_asm!(
    ".text",
    ".globl weld_test_code_start",
    ".globl weld_test_load",
    ".globl weld_test_ud2_site",
    ".globl weld_test_fill",
    ".globl weld_test_code_end",
    ".globl weld_test_call_import",
    "weld_test_code_start:",
    // load: vals[0] = *(u32*)(memory0.base + vals[0])
    "weld_test_load:",
    "mov rax, [rdi + 32]",
    "mov ecx, dword ptr [rsi]",
    "mov eax, dword ptr [rax + rcx]",
    "mov dword ptr [rsi], eax",
    "ret",
    // unreachable
    "weld_test_ud2_site:",
    "ud2",
    // fill: memory.fill(memory 0, dst = vals[0], 0xab, len = vals[1]) through the libcall table
    "weld_test_fill:",
    "sub rsp, 8",
    "mov rax, [rdi]",
    "mov rax, [rax + 8]",
    "mov edx, dword ptr [rsi]",
    "mov r8d, dword ptr [rsi + 16]",
    "xor esi, esi",
    "mov ecx, 0xab",
    "call rax",
    "add rsp, 8",
    "ret",
    // call_import: vals[0] = import0(vals[0], vals[1]), funcref slot 0 at vmctx + 40
    "weld_test_call_import:",
    "push rbx",
    "mov rbx, rsi",
    "mov rax, [rdi + 40]",
    "mov rdi, [rdi + 48]",
    "mov esi, dword ptr [rbx]",
    "mov edx, dword ptr [rbx + 16]",
    "call rax",
    "mov dword ptr [rbx], eax",
    "pop rbx",
    "ret",
    "weld_test_code_end:",
);

extern "C" {
    fn weld_test_code_start();
    fn weld_test_load();
    fn weld_test_ud2_site();
    fn weld_test_fill();
    fn weld_test_code_end();
    fn weld_test_call_import();
}

fn leak<T: 'static>(v: Vec<T>) -> (*const T, usize) {
    let s: &'static [T] = Vec::leak(v);
    (s.as_ptr(), s.len())
}

fn i32_ty() -> FuncType {
    FuncType {
        params: vec![ValType::I32, ValType::I32],
        results: vec![ValType::I32],
    }
}

/// The info of the hand-written module: one memory (1..=2 pages) with "hi" at 0, a funcref
/// table of 2 with a passive segment, exports `load`, `unreachable`, `fill`, `memory`, `table`.
fn info() -> ModuleInfo {
    let func = |name: &str, index| Export {
        name: name.into(),
        kind: ExportKind::Func,
        index,
    };
    ModuleInfo {
        type_defs: weld_contract::gc::TypeDefs::from_signatures(&[i32_ty()]),
        types: vec![i32_ty()],
        funcs: vec![0, 0, 0],
        memories: vec![MemoryType {
            min: 1,
            max: Some(2),
            index: IndexType::I32,
        }],
        table_types: vec![TableType {
            elem: ValType::FuncRef,
            min: 2,
            max: None,
            index: IndexType::I32,
            ref_type: None,
        }],
        tables: vec![weld_contract::info::Table {
            ty: TableType {
                elem: ValType::FuncRef,
                min: 2,
                max: None,
                index: IndexType::I32,
                ref_type: None,
            },
            init: vec![ConstOp::RefNull],
        }],
        exports: vec![
            func("load", 0),
            func("unreachable", 1),
            func("fill", 2),
            Export {
                name: "memory".into(),
                kind: ExportKind::Memory,
                index: 0,
            },
            Export {
                name: "table".into(),
                kind: ExportKind::Table,
                index: 0,
            },
        ],
        elems: vec![ElemSegment {
            mode: SegmentMode::Passive,
            ty: ValType::FuncRef,
            items: vec![vec![ConstOp::RefFunc(2)], vec![ConstOp::RefNull]],
        }],
        datas: vec![
            DataSegment {
                mode: SegmentMode::Active {
                    index: 0,
                    offset: vec![ConstOp::I32(0)],
                },
                offset: 0,
                len: 2,
            },
            DataSegment {
                mode: SegmentMode::Passive,
                offset: 2,
                len: 3,
            },
        ],
        funcref_funcs: vec![0, 1, 2],
        ..Default::default()
    }
}

/// A descriptor for `info` over the hand-written code.
fn module(info: &ModuleInfo, flags: u32) -> Module {
    let code = [
        weld_test_load as *const u8,
        weld_test_ud2_site as *const u8,
        weld_test_fill as *const u8,
    ];
    module_with(info, flags, &code)
}

/// A descriptor for `info` whose defined function `i` (escaping, in order) is `code[i]`.
fn module_with(info: &ModuleInfo, flags: u32, code: &[*const u8]) -> Module {
    module_checked(info, flags, code, crate::module::Checks::All)
}

/// [`module_with`], loaded with `checks`.
fn module_checked(
    info: &ModuleInfo,
    flags: u32,
    code: &[*const u8],
    checks: crate::module::Checks,
) -> Module {
    let start = weld_test_code_start as *const u8 as usize;
    let nf = info.imported_funcs as usize;
    let traps = vec![VMTrapEntry {
        offset: (weld_test_ud2_site as *const u8 as usize - start) as u32,
        code: TrapCode::Unreachable as u32,
    }];
    let tramps: Vec<*const u8> = info
        .exports
        .iter()
        .map(|e| match e.kind {
            ExportKind::Func => code[e.index as usize - nf],
            _ => core::ptr::null(),
        })
        .collect();
    let (info_ptr, info_len) = leak(info.encode());
    let (data, data_len) = leak(b"hiabc".to_vec());
    let (funcs, funcs_len) = leak(code[..info.funcref_funcs.len() - nf].to_vec());
    let (trampolines, trampolines_len) = leak(tramps);
    let (traps, traps_len) = leak(traps);
    // Empty ranges: these hand-written functions are not named in backtraces.
    let defined = info.funcs.len() - nf;
    let (func_ranges, func_ranges_len) = leak(
        (0..defined as u32)
            .map(|i| VMFuncRange { start: i, len: 0 })
            .collect(),
    );
    let desc = Box::leak(Box::new(VMModuleDescriptor {
        magic: MAGIC,
        abi_version: ABI_VERSION,
        flags,
        info: info_ptr,
        info_len,
        data,
        data_len,
        funcs,
        funcs_len,
        trampolines,
        trampolines_len,
        start: core::ptr::null(),
        code: start as *const u8,
        code_len: weld_test_code_end as *const u8 as usize - start,
        traps,
        traps_len,
        func_ranges,
        func_ranges_len,
        call_sites: core::ptr::null(),
        call_sites_len: 0,
        handlers: core::ptr::null(),
        handlers_len: 0,
        stack_maps: core::ptr::null(),
        stack_maps_len: 0,
        stack_slots: core::ptr::null(),
        stack_slots_len: 0,
    }));
    // SAFETY: the descriptor is well formed and leaked.
    unsafe { Module::load(desc, checks) }.expect("module loads")
}

fn func(store: &Store, inst: Instance, name: &str) -> crate::Func {
    match inst.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => unreachable!("{name}: {other:?}"),
    }
}

fn call(store: &mut Store, inst: Instance, name: &str, a: i32, b: i32) -> Result<i32, Trap> {
    let f = func(store, inst, name);
    let r = f.call(store, &[ValRaw::i32(a), ValRaw::i32(b)])?;
    Ok(r[0].get_i32())
}

#[test]
fn the_vmctx_layout_matches_what_the_assembly_assumes() {
    let o = VMOffsets::new(info().counts());
    assert_eq!(o.defined_memory(0), 32);
}

#[test]
fn a_module_whose_tables_go_unchecked_runs_as_a_checked_one_does() {
    // What an executable's own descriptor gets in release builds (`Checks::linked`).
    let code = [
        weld_test_load as *const u8,
        weld_test_ud2_site as *const u8,
        weld_test_fill as *const u8,
    ];
    let m = module_checked(&info(), 0, &code, crate::module::Checks::HeaderOnly);
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &m, &[]).expect("instance");
    assert_eq!(call(&mut store, inst, "load", 0, 0), Ok(0x6968));
}

#[test]
fn instantiation_applies_active_data_and_exports_the_memory() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    let Some(Extern::Memory(mem)) = inst.export(&store, "memory") else {
        unreachable!("memory export")
    };
    assert_eq!(&mem.data(&store)[..3], b"hi\0");
    assert_eq!(call(&mut store, inst, "load", 0, 0), Ok(0x6968));
}

#[test]
fn accesses_past_a_guarded_memory_trap_as_out_of_bounds() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    for addr in [65536, 0x7fff_ffff, -1] {
        let r = call(&mut store, inst, "load", addr, 0);
        assert_eq!(r, Err(Trap::new(TrapCode::MemoryOutOfBounds)), "{addr}");
    }
    assert_eq!(
        call(&mut store, inst, "load", 65532, 0),
        Ok(0),
        "still callable"
    );
}

#[test]
fn a_ud2_at_a_trap_site_becomes_its_trap_code() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    let r = call(&mut store, inst, "unreachable", 0, 0);
    assert_eq!(r, Err(Trap::new(TrapCode::Unreachable)));
    assert_eq!(
        r.map_err(|t| alloc::format!("{t}")),
        Err("unreachable".into())
    );
}

#[test]
fn a_libcall_out_of_bounds_unwinds_to_the_caller_as_a_trap() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    assert_eq!(call(&mut store, inst, "fill", 10, 4), Ok(10));
    let r = call(&mut store, inst, "fill", 65530, 7);
    assert_eq!(r, Err(Trap::new(TrapCode::MemoryOutOfBounds)));
    let Some(Extern::Memory(mem)) = inst.export(&store, "memory") else {
        unreachable!("memory export")
    };
    assert_eq!(&mem.data(&store)[9..15], &[0, 0xab, 0xab, 0xab, 0xab, 0]);
    assert_eq!(
        mem.data(&store)[65530],
        0,
        "nothing written by the failed fill"
    );
    // SAFETY: the store context is valid; no wasm runs.
    assert_eq!(
        unsafe { (*store.ctx_ptr()).stack_limit },
        0,
        "limit restored"
    );
}

#[test]
fn calls_with_the_wrong_number_of_arguments_are_refused() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    let f = func(&store, inst, "load");
    assert!(f.call(&mut store, &[ValRaw::i32(0)]).is_err());
    assert_eq!(f.ty(&store), i32_ty());
}

#[test]
fn bulk_memory_and_table_libcalls_check_their_bounds() {
    let mut store = Store::new();
    let inst = Instance::new(&mut store, &module(&info(), 0), &[]).expect("instance");
    let data = store.instances.get_mut(inst.0);
    let oob = Err(TrapCode::MemoryOutOfBounds);
    assert_eq!(data.memory_init(0, 1, 100, 0, 3), Ok(()));
    assert_eq!(data.memory_init(0, 1, 100, 1, 3), oob, "past the segment");
    assert_eq!(data.memory_init(0, 1, 65534, 0, 3), oob, "past the memory");
    assert_eq!(
        data.memory_init(0, 1, 65536, 0, 0),
        Ok(()),
        "empty at the end"
    );
    assert_eq!(
        data.memory_init(0, 0, 0, 0, 1),
        oob,
        "active segments are dropped"
    );
    data.data_drop(1);
    assert_eq!(data.memory_init(0, 1, 100, 0, 1), oob);
    assert_eq!(data.memory_init(0, 1, 100, 0, 0), Ok(()));
    assert_eq!(data.memory_init(0, 9, 100, 0, 0), oob, "no such segment");
    assert_eq!(data.memory_copy(0, 0, 1, 100, 3), Ok(()));
    assert_eq!(data.memory_copy(0, 0, 65535, 0, 2), oob);
    assert_eq!(data.memory_grow(0, 1), 1);
    assert_eq!(data.memory_grow(0, 1), u64::MAX, "maximum is 2 pages");
    assert_eq!(data.memory_fill(0, 131071, 1, 1), Ok(()));

    let toob = Err(TrapCode::TableOutOfBounds);
    assert_eq!(data.table_init(0, 0, 1, 0, 2), toob);
    assert_eq!(data.table_init(0, 0, 0, 0, 2), Ok(()));
    assert_eq!(data.table_copy(0, 0, 1, 0, 1), Ok(()));
    assert_eq!(data.table_fill(0, 1, 0, 2), toob);
    assert_eq!(data.table_grow(0, 3, 0), 2);
    data.elem_drop(0);
    assert_eq!(data.table_init(0, 0, 0, 0, 1), toob);
    let Some(Extern::Table(table)) = inst.export(&store, "table") else {
        unreachable!("table export")
    };
    let load = func(&store, inst, "fill").funcref(&store);
    assert_eq!(
        table.get(&store, 0),
        Some(load),
        "ref.func 2 is the fill export's slot"
    );
    assert_eq!(table.get(&store, 1), Some(load), "copied by table.copy");
    assert_eq!(table.size(&store), 5);
}

#[test]
fn an_out_of_bounds_active_segment_traps_after_earlier_segments_are_written() {
    let mut info = info();
    info.elems[0].mode = SegmentMode::Active {
        index: 0,
        offset: vec![ConstOp::I32(1)],
    };
    let mut store = Store::new();
    let table_ty = TableType {
        elem: ValType::FuncRef,
        min: 2,
        max: None,
        index: IndexType::I32,
        ref_type: None,
    };
    let r = Instance::new(&mut store, &module(&info, 0), &[]);
    assert_eq!(
        r,
        Err(InstantiateError::Trap(Trap::new(
            TrapCode::TableOutOfBounds
        )))
    );
    // The same module with the table imported: the segment fits, the data is written.
    info.imports.push(Import {
        module: "m".into(),
        name: "t".into(),
        kind: ImportKind::Table(table_ty),
    });
    info.imported_tables = 1;
    info.tables.clear();
    let table = Table::new(&mut store, table_ty, 0).expect("table");
    assert!(table.grow(&mut store, 1, 0).is_some());
    let inst = Instance::new(&mut store, &module(&info, 0), &[Extern::Table(table)]);
    assert!(inst.is_ok());
    assert_ne!(table.get(&store, 1), Some(0));
}

#[test]
fn imports_are_type_checked() {
    let mut info = info();
    let want = MemoryType {
        min: 1,
        max: Some(2),
        index: IndexType::I32,
    };
    info.imports.push(Import {
        module: "m".into(),
        name: "mem".into(),
        kind: ImportKind::Memory(want),
    });
    info.imported_memories = 1;
    let guarded = module(&info, 0);
    let explicit = module(&info, FLAG_EXPLICIT_BOUNDS);
    let mut store = Store::new();
    let mut mem = |ty: MemoryType, explicit_bounds| {
        Extern::Memory(Memory::new(&mut store, ty, explicit_bounds).expect("memory"))
    };
    let unbounded = mem(
        MemoryType {
            min: 1,
            max: None,
            index: IndexType::I32,
        },
        false,
    );
    let fits = mem(want, false);
    let no_guard = mem(want, true);
    let too_small = mem(
        MemoryType {
            min: 0,
            max: Some(2),
            index: IndexType::I32,
        },
        false,
    );
    let incompatible = |r: Result<Instance, InstantiateError>| match r {
        Err(InstantiateError::Link(m)) => m.starts_with("incompatible import type"),
        _ => false,
    };
    assert!(incompatible(Instance::new(
        &mut store,
        &guarded,
        &[unbounded]
    )));
    assert!(incompatible(Instance::new(
        &mut store,
        &guarded,
        &[too_small]
    )));
    assert!(incompatible(Instance::new(
        &mut store,
        &guarded,
        &[no_guard]
    )));
    assert!(Instance::new(&mut store, &explicit, &[no_guard]).is_ok());
    let inst = Instance::new(&mut store, &guarded, &[fits]).expect("instance");
    assert_eq!(inst.export(&store, "memory"), Some(fits));
    assert!(
        Instance::new(&mut store, &guarded, &[]).is_err(),
        "missing import"
    );
}

/// State of the host function of the nesting test.
struct Host {
    store: *mut Store,
    outer: crate::Func,
    trapper: crate::Func,
    limits: Vec<usize>,
    inner_trap: Option<Trap>,
}

extern "C" fn host_add(ctx: *mut u8, a: i32, b: i32) -> i32 {
    // SAFETY: `ctx` is the test's `Host`; the store outlives the call and the outer `call`
    // does not touch it while wasm runs.
    let host = unsafe { &mut *(ctx as *mut Host) };
    let store = unsafe { &mut *host.store };
    // SAFETY: the store context is valid while the store lives.
    host.limits.push(unsafe { (*store.ctx_ptr()).stack_limit });
    if a == 0 {
        host.inner_trap = host
            .trapper
            .call(store, &[ValRaw::i32(0), ValRaw::i32(0)])
            .err();
        return b;
    }
    let r = host
        .outer
        .call(store, &[ValRaw::i32(a - 1), ValRaw::i32(b + 1)]);
    r.map_or(-1, |v| v[0].get_i32())
}

#[test]
fn host_functions_can_reenter_wasm_and_inner_traps_stay_inner() {
    let ty = i32_ty();
    let info = ModuleInfo {
        type_defs: weld_contract::gc::TypeDefs::from_signatures(core::slice::from_ref(&ty)),
        types: vec![ty.clone()],
        imports: vec![Import {
            module: "host".into(),
            name: "add".into(),
            kind: ImportKind::Func(0),
        }],
        funcs: vec![0, 0],
        imported_funcs: 1,
        exports: vec![Export {
            name: "call_import".into(),
            kind: ExportKind::Func,
            index: 1,
        }],
        funcref_funcs: vec![0, 1],
        ..Default::default()
    };
    assert_eq!(VMOffsets::new(info.counts()).funcref(0), 40);
    let module = module_with(&info, 0, &[weld_test_call_import as *const u8]);
    let mut store = Box::new(Store::new());
    store.set_max_wasm_stack(64 * 1024);
    let other = Instance::new(&mut store, &self::module(&self::info(), 0), &[]).expect("other");
    let trapper = func(&store, other, "unreachable");
    let mut host = Box::new(Host {
        store: &mut *store,
        outer: trapper,
        trapper,
        limits: Vec::new(),
        inner_trap: None,
    });
    // SAFETY: `host_add` has the wasm ABI of `(i32, i32) -> i32` with a host context first.
    let add = unsafe {
        crate::Func::host(
            &mut store,
            ty,
            host_add as *const u8,
            &mut *host as *mut Host as *mut u8,
        )
    };
    let inst = Instance::new(&mut store, &module, &[Extern::Func(add)]).expect("instance");
    host.outer = func(&store, inst, "call_import");
    let r = host
        .outer
        .call(&mut store, &[ValRaw::i32(3), ValRaw::i32(10)]);
    assert_eq!(r.map(|v| v[0].get_i32()), Ok(13));
    assert_eq!(host.inner_trap, Some(Trap::new(TrapCode::Unreachable)));
    assert_eq!(host.limits.len(), 4);
    assert!(
        host.limits.iter().all(|l| *l == host.limits[0] && *l != 0),
        "{:?}",
        host.limits
    );
    let here = 0u8;
    let sp = core::ptr::addr_of!(here) as usize;
    assert!(host.limits[0] < sp && sp - host.limits[0] < 64 * 1024 + 4096);
    // SAFETY: the store context is valid; no wasm runs.
    assert_eq!(unsafe { (*store.ctx_ptr()).stack_limit }, 0);
    assert!(add
        .call(&mut store, &[ValRaw::i32(0), ValRaw::i32(0)])
        .is_err());
}

#[test]
fn the_libcall_table_follows_the_contract_order() {
    use weld_contract::libcall::Libcall;
    let names: Vec<&str> = Libcall::ALL.iter().map(|l| l.name()).collect();
    assert_eq!(
        names,
        [
            "memory_grow",
            "memory_fill",
            "memory_copy",
            "memory_init",
            "data_drop",
            "table_grow",
            "table_fill",
            "table_copy",
            "table_init",
            "elem_drop",
            "trap",
            "exn_new",
            "throw",
            "exn_release",
            "gc_alloc",
            "gc_is_subtype",
            "array_new_data",
            "array_new_elem",
            "array_init_data",
            "array_init_elem",
            "array_copy"
        ]
    );
    assert_eq!(
        core::mem::size_of::<crate::libcalls::LibcallTable>(),
        8 * Libcall::ALL.len()
    );
    let t = &crate::libcalls::LIBCALLS;
    let addrs = [
        t.memory_grow as usize,
        t.memory_fill as usize,
        t.trap as usize,
        t.exn_new as usize,
        t.array_copy as usize,
    ];
    // SAFETY: the table is `repr(C)` with pointer-sized fields.
    let words =
        unsafe { core::slice::from_raw_parts(t as *const _ as *const usize, Libcall::ALL.len()) };
    assert_eq!([words[0], words[1], words[10], words[11], words[20]], addrs);
}

#[test]
fn an_import_compiled_as_wasm_code_refuses_a_host_function() {
    let ty = i32_ty();
    let info = |wasm_imports: Vec<u32>| ModuleInfo {
        type_defs: weld_contract::gc::TypeDefs::from_signatures(core::slice::from_ref(&ty)),
        types: vec![ty.clone()],
        imports: vec![Import {
            module: "host".into(),
            name: "add".into(),
            kind: ImportKind::Func(0),
        }],
        funcs: vec![0, 0],
        imported_funcs: 1,
        funcref_funcs: vec![0, 1],
        wasm_imports,
        ..Default::default()
    };
    let mut store = Store::new();
    // SAFETY: never called: instantiation is all this test does.
    let add = unsafe {
        crate::Func::host(
            &mut store,
            ty.clone(),
            host_add as *const u8,
            core::ptr::null_mut(),
        )
    };
    let code = [weld_test_call_import as *const u8];
    let plain = module_with(&info(Vec::new()), 0, &code);
    assert!(Instance::new(&mut store, &plain, &[Extern::Func(add)]).is_ok());
    let as_wasm = module_with(&info(vec![0]), 0, &code);
    let r = Instance::new(&mut store, &as_wasm, &[Extern::Func(add)]);
    assert!(
        matches!(&r, Err(InstantiateError::Link(m)) if m.starts_with("incompatible import type")),
        "{:?}",
        r.err()
    );
}
