//! Code generation: core wasm → CLIF → machine code, one function at a time.
//!
//! In: a [`ParsedModule`]. Out: a [`CompiledModule`] — machine code, relocations (only calls
//! between functions of the same module, resolved later by `emit`), trap sites and exception call sites for every
//! defined function, plus one array-call trampoline per exported function and one for the start
//! function, and — unless turned off — the C entry points of [`entry`].
//!
//! This stage knows the vmctx layout (from `weld_contract::vmctx`) but nothing about objects or
//! symbols. Functions are independent, so they compile in parallel; results are placed by index
//! so the output does not depend on scheduling.

mod casts;
pub mod disas;
pub mod entry;
mod exceptions;
pub(crate) mod exit;
mod func;
pub(crate) mod funcref;
mod gc;
pub(crate) mod isa;
mod memory;
mod numeric;
mod pool;
mod simd;
mod table;
mod trampoline;

use crate::error::{Error, Result};
use crate::frontend::ParsedModule;
use crate::options::Options;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{self, Signature};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use weld_contract::info::{FuncType, ModuleInfo, ValType};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::VMOffsets;

pub use isa::build_isa;

/// Where a relocation points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelocTarget {
    /// A defined function, by function index.
    Func(u32),
    /// One of the module's exit trampolines, by index (see `exit`).
    Exit(u32),
    /// A C library or runtime symbol (Cranelift libcalls, the runtime's C API).
    Symbol(String),
    /// The module's own descriptor (`<prefix>__module`).
    Descriptor,
    /// An offset inside the same function: riscv64's `R_RISCV_PCREL_LO12_I` names the `auipc`
    /// that carries the matching high part.
    Label(u32),
}

/// One relocation in a function's code.
#[derive(Clone, Debug)]
pub struct Relocation {
    /// Offset in the function's code.
    pub offset: u32,
    /// Cranelift's relocation kind.
    pub kind: Reloc,
    /// Target.
    pub target: RelocTarget,
    /// Addend.
    pub addend: i64,
}

/// Machine code of one function.
#[derive(Clone, Debug, Default)]
pub struct CompiledFunction {
    /// The code.
    pub code: Vec<u8>,
    /// Required alignment of its start.
    pub alignment: u32,
    /// Relocations to apply.
    pub relocs: Vec<Relocation>,
    /// Trap sites: offset in `code` and the trap.
    pub traps: Vec<(u32, TrapCode)>,
    /// Loops of at most 64 bytes: `(start, end)` offsets in `code` (see `emit::layout`).
    pub small_loops: Vec<(u32, u32)>,
    /// Calls with exception handlers (inside a `try_table`).
    pub call_sites: Vec<CallSite>,
    /// Calls at which GC references are live, and where they are spilled.
    pub stack_maps: Vec<StackMap>,
    /// With [`Options::debug_info`]: which wasm instruction each stretch of code came from,
    /// sorted by code offset.
    pub srclocs: Vec<SrcLoc>,
}

/// A stretch of native code `start..end` (offsets in its function) and the offset of the wasm
/// instruction it was compiled from (in the input's coordinates, as function bodies count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcLoc {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
    /// The wasm instruction's offset.
    pub wasm: u32,
}

/// A call with exception handlers, offsets relative to its function's code (see
/// `weld_contract::descriptor::VMCallSite`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// Offset of the return address.
    pub ret: u32,
    /// Frame pointer minus stack pointer at the call.
    pub frame_offset: u32,
    /// Where the caller's vmctx is saved, from that stack pointer.
    pub vmctx_sp_offset: u32,
    /// Handlers innermost first: tag index (or `EXN_CATCH_ALL`) and handler offset.
    pub handlers: Vec<(u32, u32)>,
}

/// The GC references live in a frame at one call (see
/// `weld_contract::descriptor::VMStackMap`), offsets relative to the function's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackMap {
    /// Offset of the call's return address.
    pub ret: u32,
    /// Offsets of the spilled reference words from the frame pointer.
    pub slots: Vec<i32>,
}

/// The code of a whole module.
#[derive(Debug, Default)]
pub struct CompiledModule {
    /// One per defined function.
    pub funcs: Vec<CompiledFunction>,
    /// One per export: the array-call trampoline of exported functions.
    pub trampolines: Vec<Option<CompiledFunction>>,
    /// Array-call trampoline of the start function.
    pub start: Option<CompiledFunction>,
    /// C entry points (empty unless [`Options::c_entry_points`]).
    pub entries: Vec<entry::EntryPoint>,
    /// Exit trampolines, by index (see `exit`).
    pub exits: Vec<CompiledFunction>,
}

/// What every function of a module shares during translation.
pub struct ModuleEnv<'m> {
    /// The module.
    pub info: &'m ModuleInfo,
    /// Its vmctx layout.
    pub offsets: VMOffsets,
    /// Options.
    pub options: &'m Options,
    /// Target.
    pub isa: &'m dyn TargetIsa,
    /// How its code leaves for native code when it may hold GC references.
    pub exits: exit::ExitTrampolines,
}

impl ModuleEnv<'_> {
    /// The platform's C calling convention: of the runtime's libcalls, of array-call
    /// trampolines, C entry points and lowering trampolines, and of host functions.
    pub fn native_call_conv(&self) -> CallConv {
        self.isa.default_call_conv()
    }

    /// Signature of a compiled wasm function of type `ty` ([`funcref::WASM_CALL_CONV`]):
    /// `(vmctx, params...) -> results`.
    pub fn wasm_signature(&self, ty: &FuncType) -> Signature {
        funcref::signature(funcref::WASM_CALL_CONV, &ty.params, &ty.results)
    }

    /// Type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.info.types[self.info.funcs[index as usize] as usize]
    }
}

/// The Cranelift type that carries a wasm value type.
pub fn clif_type(t: ValType) -> ir::Type {
    match t {
        ValType::I32 => ir::types::I32,
        ValType::I64 => ir::types::I64,
        ValType::F32 => ir::types::F32,
        ValType::F64 => ir::types::F64,
        ValType::V128 => ir::types::I8X16,
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef | ValType::AnyRef => ir::types::I64,
    }
}

/// Map a Cranelift trap code back to ours.
pub fn trap_from_clif(code: ir::TrapCode) -> TrapCode {
    match code {
        ir::TrapCode::STACK_OVERFLOW => TrapCode::StackOverflow,
        ir::TrapCode::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => TrapCode::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivisionByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapCode::BadConversionToInteger,
        other => TrapCode::from_u8(other.as_raw().get()).unwrap_or(TrapCode::Unreachable),
    }
}

/// Our trap code as a Cranelift user trap code.
pub fn clif_trap(code: TrapCode) -> ir::TrapCode {
    match code {
        TrapCode::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        TrapCode::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        TrapCode::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapCode::IntegerDivisionByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapCode::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        // Our codes are small non-zero bytes, far below Cranelift's reserved range.
        other => ir::TrapCode::user(other as u8).unwrap_or(ir::TrapCode::STACK_OVERFLOW),
    }
}

/// Compile every function of a module, in parallel.
pub fn compile_module(parsed: &ParsedModule<'_>, options: &Options) -> Result<CompiledModule> {
    let mut out = compile_modules(&[(parsed, options)])?;
    out.pop().ok_or_else(|| Error::Codegen {
        func: 0,
        message: "no module compiled".into(),
    })
}

/// One unit of work for the [`pool`].
enum Job {
    /// Defined function `i` (counted from the first defined function).
    Func(usize),
    /// The trampoline of export `i` (a function export).
    Trampoline(usize),
    /// The start function's trampoline.
    Start(u32),
    /// The C entry points.
    Entries,
    /// Exit trampoline `i`.
    Exit(u32),
}

/// What a [`Job`] produced.
enum Done {
    Code(CompiledFunction),
    Entries(Vec<entry::EntryPoint>),
}

/// Compile several modules (those of one component) in one parallel [`pool`]: every function
/// of every module, largest first, then their trampolines and entry points. Results are in
/// module order, each like [`compile_module`]'s.
pub fn compile_modules(modules: &[(&ParsedModule<'_>, &Options)]) -> Result<Vec<CompiledModule>> {
    let mut isas = Vec::with_capacity(modules.len());
    for (_, options) in modules {
        options.validate()?;
        isas.push(build_isa(options)?);
    }
    let envs: Vec<ModuleEnv<'_>> = modules
        .iter()
        .zip(&isas)
        .map(|((parsed, options), isa)| ModuleEnv {
            info: &parsed.info,
            offsets: VMOffsets::new(parsed.info.counts()),
            options,
            isa: &**isa,
            exits: exit::ExitTrampolines::plan(&parsed.info),
        })
        .collect();
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    let mut costs = Vec::new();
    for (m, (parsed, options)) in modules.iter().enumerate() {
        for (i, f) in parsed.functions.iter().enumerate() {
            jobs.push((m, Job::Func(i)));
            let r = f.body.range();
            costs.push(usize::try_from(r.end - r.start).unwrap_or(usize::MAX));
        }
        for (i, e) in parsed.info.exports.iter().enumerate() {
            if e.kind == weld_contract::info::ExportKind::Func {
                jobs.push((m, Job::Trampoline(i)));
                costs.push(0);
            }
        }
        if let Some(f) = parsed.info.start {
            jobs.push((m, Job::Start(f)));
            costs.push(0);
        }
        if options.c_entry_points {
            jobs.push((m, Job::Entries));
            costs.push(0);
        }
        for i in 0..envs[m].exits.len() {
            jobs.push((m, Job::Exit(i as u32)));
            costs.push(0);
        }
    }
    let threads = modules.first().map_or(1, |(_, o)| o.threads);
    let done = pool::run(&costs, threads, |ctx, k| {
        let (m, job) = &jobs[k];
        let env = &envs[*m];
        let parsed = modules[*m].0;
        Ok(match job {
            Job::Func(i) => {
                let index = parsed.info.imported_funcs + *i as u32;
                Done::Code(func::compile_function(
                    env,
                    ctx,
                    index,
                    &parsed.functions[*i],
                )?)
            }
            Job::Trampoline(i) => {
                let index = parsed.info.exports[*i].index;
                Done::Code(trampoline::compile_trampoline(env, ctx, index)?)
            }
            Job::Start(f) => Done::Code(trampoline::compile_trampoline(env, ctx, *f)?),
            Job::Entries => Done::Entries(entry::compile_entry_points(env, ctx)?),
            Job::Exit(i) => {
                let key = env.exits.keys().swap_remove(*i as usize);
                Done::Code(exit::compile_exit(env, ctx, *i, &key)?)
            }
        })
    })?;
    let mut out: Vec<CompiledModule> = modules
        .iter()
        .map(|(parsed, _)| CompiledModule {
            funcs: Vec::with_capacity(parsed.functions.len()),
            trampolines: vec![None; parsed.info.exports.len()],
            start: None,
            entries: Vec::new(),
            exits: Vec::new(),
        })
        .collect();
    for ((m, job), d) in jobs.into_iter().zip(done) {
        let module = &mut out[m];
        match (job, d) {
            (Job::Func(_), Done::Code(c)) => module.funcs.push(c),
            (Job::Trampoline(i), Done::Code(c)) => module.trampolines[i] = Some(c),
            (Job::Start(_), Done::Code(c)) => module.start = Some(c),
            (Job::Entries, Done::Entries(e)) => module.entries = e,
            (Job::Exit(_), Done::Code(c)) => module.exits.push(c),
            _ => {
                return Err(Error::Codegen {
                    func: 0,
                    message: "a compile job produced the wrong kind of result".into(),
                })
            }
        }
    }
    Ok(out)
}

/// The `main` of a command-component executable ([`entry::exe_main`]).
pub fn compile_exe_main(options: &Options, flags: u32) -> Result<CompiledFunction> {
    let isa = build_isa(options)?;
    let empty = ModuleInfo::default();
    let env = ModuleEnv {
        info: &empty,
        offsets: VMOffsets::new(empty.counts()),
        options,
        isa: &*isa,
        exits: exit::ExitTrampolines::default(),
    };
    entry::exe_main(&env, &mut func::FuncContext::default(), flags)
}

/// Turn a finished Cranelift context into a [`CompiledFunction`].
pub(crate) fn finish(
    env: &ModuleEnv<'_>,
    ctx: &mut cranelift_codegen::Context,
    func: u32,
) -> Result<CompiledFunction> {
    let isa = env.isa;
    let mut ctrl = cranelift_codegen::control::ControlPlane::default();
    let compiled = ctx.compile(isa, &mut ctrl).map_err(|e| Error::Codegen {
        func,
        message: format!("{:?}", e.inner),
    })?;
    let alignment = compiled
        .buffer
        .alignment
        .max(isa.function_alignment().minimum);
    let code = compiled.buffer.data().to_vec();
    let small_loops = crate::emit::layout::small_loops(
        &compiled.bb_starts,
        &compiled.bb_edges,
        code.len() as u32,
    );
    let raw_relocs = compiled.buffer.relocs().to_vec();
    let traps = compiled
        .buffer
        .traps()
        .iter()
        .map(|t| (t.offset, trap_from_clif(t.code)))
        .collect();
    let call_sites = call_sites(&compiled.buffer, func)?;
    let stack_maps = stack_maps(&compiled.buffer);
    let srclocs = if env.options.debug_info {
        compiled
            .buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| SrcLoc {
                start: s.start,
                end: s.end,
                wasm: s.loc.bits(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut relocs = Vec::new();
    for r in raw_relocs {
        let target = match &r.target {
            cranelift_codegen::FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => {
                let name = &ctx.func.params.user_named_funcs()[*name];
                match name.namespace {
                    entry::RUNTIME_SYMBOL_NAMESPACE => {
                        let symbol = entry::RUNTIME_SYMBOLS.get(name.index as usize);
                        RelocTarget::Symbol(symbol.copied().unwrap_or("").to_string())
                    }
                    entry::DESCRIPTOR_NAMESPACE => RelocTarget::Descriptor,
                    exit::EXIT_NAMESPACE => RelocTarget::Exit(name.index),
                    _ => RelocTarget::Func(name.index),
                }
            }
            cranelift_codegen::FinalizedRelocTarget::ExternalName(ir::ExternalName::LibCall(
                lc,
            )) => RelocTarget::Symbol(libcall_symbol(*lc)?.to_string()),
            cranelift_codegen::FinalizedRelocTarget::Func(offset) => RelocTarget::Label(*offset),
            other => {
                return Err(Error::Codegen {
                    func,
                    message: format!("unexpected relocation target {other:?}"),
                })
            }
        };
        relocs.push(Relocation {
            offset: r.offset,
            kind: r.kind,
            target,
            addend: r.addend,
        });
    }
    Ok(CompiledFunction {
        code,
        alignment,
        relocs,
        traps,
        small_loops,
        call_sites,
        stack_maps,
        srclocs,
    })
}

/// Where a compiled function keeps its live GC references at each call: Cranelift gives
/// offsets from the stack pointer at the call, which is the frame pointer minus the frame's
/// size (`span`), so the runtime finds them from the frame pointer alone.
fn stack_maps(
    buffer: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
) -> Vec<StackMap> {
    buffer
        .user_stack_maps()
        .iter()
        .map(|(ret, span, map)| StackMap {
            ret: *ret,
            slots: map
                .entries()
                .map(|(_, off)| off as i32 - *span as i32)
                .collect(),
        })
        .filter(|m| !m.slots.is_empty())
        .collect()
}

/// The call sites of a compiled function that have exception handlers.
fn call_sites(
    buffer: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
    func: u32,
) -> Result<Vec<CallSite>> {
    use cranelift_codegen::{ExceptionContextLoc, FinalizedMachExceptionHandler as H};
    let unsupported = |what: &str| Error::Codegen {
        func,
        message: format!("exception handlers at a call with {what}"),
    };
    let mut sites = Vec::new();
    for cs in buffer.call_sites() {
        let mut vmctx_sp_offset = None;
        let mut handlers = Vec::new();
        for h in cs.exception_handlers {
            match h {
                H::Tag(tag, at) => handlers.push((tag.as_u32(), *at)),
                H::Default(at) => handlers.push((weld_contract::vmctx::EXN_CATCH_ALL, *at)),
                H::Context(ExceptionContextLoc::SPOffset(o)) => vmctx_sp_offset = Some(*o),
                H::Context(ExceptionContextLoc::GPR(_)) => {
                    return Err(unsupported("its context in a register"))
                }
            }
        }
        if handlers.is_empty() {
            continue;
        }
        sites.push(CallSite {
            ret: cs.ret_addr,
            frame_offset: cs
                .frame_offset
                .ok_or_else(|| unsupported("no frame offset"))?,
            vmctx_sp_offset: vmctx_sp_offset.ok_or_else(|| unsupported("no context"))?,
            handlers,
        });
    }
    Ok(sites)
}

fn libcall_symbol(lc: ir::LibCall) -> Result<&'static str> {
    use ir::LibCall::*;
    Ok(match lc {
        CeilF32 => "ceilf",
        CeilF64 => "ceil",
        FloorF32 => "floorf",
        FloorF64 => "floor",
        TruncF32 => "truncf",
        TruncF64 => "trunc",
        NearestF32 => "nearbyintf",
        NearestF64 => "nearbyint",
        FmaF32 => "fmaf",
        FmaF64 => "fma",
        Memcpy => "memcpy",
        Memset => "memset",
        Memmove => "memmove",
        Memcmp => "memcmp",
        other => {
            return Err(Error::Unsupported {
                message: format!("Cranelift libcall {other:?} on this target"),
                offset: None,
            })
        }
    })
}
