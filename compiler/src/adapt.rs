//! WASI preview1 core modules (what `wasm32-wasip1` toolchains emit today) become components:
//! the module is wrapped with the preview1 adapter (the `wasi-preview1-component-adapter-provider`
//! crate's prebuilt adapter, composed by `wit-component`), and the result is compiled like any
//! other component against WASI 0.2.
//!
//! In: core module bytes. Out: component bytes, or `None` when the module does not import
//! `wasi_snapshot_preview1` (it is compiled as a plain core module then).
//!
//! Besides preview1, a module may import `bench.start` / `bench.end` (`[] -> []`), the
//! Sightglass benchmark protocol: the module gets component metadata for a world importing an
//! interface `bench { start: func(); end: func(); }`, so the component imports `bench#start` /
//! `bench#end` and the host (the benchmark harness) provides them. Any other import module is
//! refused.
//!
//! `proc_exit` is redirected to `wasi:cli/exit@0.2.12#exit-with-code` (the adapter would report
//! every non-zero status as 1), so `exit(42)` exits with 42 as under `wasmtime run`. Statuses
//! 126 and above: wasmtime refuses them (error, status 1); weld exits with the low 8 bits.

use crate::error::{Error, Result};
use crate::frontend::input_slice;
use std::ops::Range;
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wasmparser::{BinaryReader, Parser, Payload};

/// What a core module's imports and exports say about WASI.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preview1Use {
    /// It imports from `wasi_snapshot_preview1`.
    pub imports_preview1: bool,
    /// It exports `_start` (a command).
    pub has_start: bool,
    /// Import modules other than preview1 (the adapter cannot satisfy them).
    pub other_imports: Vec<String>,
}

/// Look at a core module's imports and exports (errors are left to the real front end).
pub fn preview1_use(bytes: &[u8]) -> Preview1Use {
    let mut u = Preview1Use::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            // A component's nested modules may import preview1 (componentize-py's do); the
            // component itself is not a preview1 module.
            Ok(Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            }) => break,
            Ok(Payload::ImportSection(r)) => {
                for i in r.into_imports().flatten() {
                    if i.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME {
                        u.imports_preview1 = true;
                    } else if !u.other_imports.iter().any(|m| m == i.module) {
                        u.other_imports.push(i.module.to_string());
                    }
                }
            }
            Ok(Payload::ExportSection(r)) => {
                u.has_start |= r.into_iter().flatten().any(|e| e.name == "_start");
            }
            Ok(Payload::CodeSectionStart { .. }) | Err(_) => break,
            _ => {}
        }
    }
    u
}

/// Wrap a preview1 core module into a WASI 0.2 component; `Ok(None)` if it does not use preview1.
///
/// Nothing is validated on the way (the component is, completely, by the component front end
/// and code generation): when adapting fails, the module is validated to report an invalid
/// module as invalid, at its own offsets. See also [`invalid_input`].
pub fn adapt_preview1(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    adapt_unvalidated(bytes).map_err(|e| invalid_input(bytes).unwrap_or(e))
}

/// Why a core module is invalid, if it is (offsets in the module's own bytes): for errors
/// found in the component made of a preview1 module, whose offsets would point into the
/// component.
pub fn invalid_input(bytes: &[u8]) -> Option<Error> {
    let mut v = wasmparser::Validator::new_with_features(crate::frontend::features());
    v.validate_all(bytes).err().map(Error::from)
}

fn adapt_unvalidated(bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let u = preview1_use(bytes);
    if !u.imports_preview1 {
        return Ok(None);
    }
    let unsupported: Vec<&str> = u
        .other_imports
        .iter()
        .map(String::as_str)
        .filter(|m| *m != BENCH_MODULE)
        .collect();
    if !unsupported.is_empty() {
        return Err(Error::Unsupported {
            message: format!(
                "the module imports {} besides wasi_snapshot_preview1 (and bench); only preview1 imports can be adapted to WASI 0.2",
                unsupported.join(", ")
            ),
            offset: None,
        });
    }
    let adapter = if u.has_start {
        WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER
    } else {
        WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER
    };
    let fail = |e: anyhow::Error| Error::Unsupported {
        message: format!("adapting the preview1 module to a component: {e:#}"),
        offset: None,
    };
    // proc_exit keeps its status (see `exit_with_code`).
    let mut module = exit_with_code(bytes).map_err(fail)?;
    // The adapter allocates its state through the module's malloc when it has one.
    let mut malloc_realloc = false;
    if let Some(with_realloc) = realloc_via_malloc(&module).map_err(fail)? {
        module = with_realloc;
        malloc_realloc = true;
    }
    if u.other_imports.iter().any(|m| m == BENCH_MODULE) {
        module = embed_bench_world(&module).map_err(fail)?;
    }
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .map_err(fail)?
        .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
        .map_err(fail)?
        .encode()
        .map_err(fail)?;
    let mut component = component;
    if malloc_realloc {
        // A repair, not a requirement: if the component cannot be read for it, it stays as it
        // is (unchanged: the patch is applied only after a complete read), and the component
        // front end reports any real problem with it.
        let _ = defer_run_stack(&mut component);
    }
    Ok(Some(component))
}

/// The interface `proc_exit` is redirected to.
const EXIT_INTERFACE: &str = "wasi:cli/exit@0.2.12";

/// The world of a module whose `proc_exit` import became `exit-with-code` (as in the WASI 0.2.12
/// WIT, where `exit-with-code` is stable; the preview1 adapter imports the same interface).
const EXIT_WIT: &str = "package wasi:cli@0.2.12;

@since(version = 0.2.0)
interface exit {
  @since(version = 0.2.0)
  exit: func(status: result);

  @since(version = 0.2.12)
  exit-with-code: func(status-code: u8);
}

world weld-preview1-exit {
  import exit;
}
";

/// The preview1 adapter turns `proc_exit(n)` into `wasi:cli/exit#exit(ok)` for 0 and
/// `exit(err)` — status 1 — for any other `n`, while `wasmtime run` of the same module exits
/// with `n`. So the module's `wasi_snapshot_preview1.proc_exit` import (`[i32] -> []`) is
/// renamed to `wasi:cli/exit@0.2.12.exit-with-code` (same core signature; lifting a `u8` keeps
/// the low 8 bits, like a POSIX exit status) and described by [`EXIT_WIT`]'s world. A module
/// without that import (or with another signature for it) is returned unchanged.
fn exit_with_code(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (mut out, renamed) = rewrite_sections(bytes, |payload, _| match payload {
        Payload::ImportSection(reader) => rename_proc_exit(bytes, reader.range()),
        _ => Ok(None),
    })?;
    if !renamed {
        return Ok(bytes.to_vec());
    }
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("exit.wit", EXIT_WIT)?;
    let world = resolve.select_world(&[pkg], Some("weld-preview1-exit"))?;
    wit_component::embed_component_metadata(
        &mut out,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    Ok(out)
}

/// The contents of the import section at `range` with `wasi_snapshot_preview1.proc_exit`
/// (a function import) renamed to [`EXIT_INTERFACE`]`.exit-with-code`; `None` if it has none.
fn rename_proc_exit(bytes: &[u8], range: Range<u64>) -> anyhow::Result<Option<Vec<u8>>> {
    let mut r = reader_at(bytes, &range)?;
    let count = r.read_var_u32()?;
    let mut out = Vec::new();
    leb128_u32(&mut out, count);
    let mut found = false;
    for _ in 0..count {
        let module = r.read_string()?;
        let name = r.read_string()?;
        let ty_start = r.original_position();
        let ty: wasmparser::TypeRef = r.read()?;
        let ty_bytes = input_slice(bytes, &(ty_start..r.original_position()))?;
        let (module, name) = match ty {
            wasmparser::TypeRef::Func(_)
                if module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME && name == "proc_exit" =>
            {
                found = true;
                (EXIT_INTERFACE, "exit-with-code")
            }
            _ => (module, name),
        };
        for s in [module, name] {
            leb128_u32(&mut out, s.len() as u32);
            out.extend_from_slice(s.as_bytes());
        }
        out.extend_from_slice(ty_bytes);
    }
    Ok(found.then_some(out))
}

/// The preview1 adapter allocates its state (and its stack) with the main module's
/// `cabi_realloc`; a module without one gets wit-component's fallback, which takes fresh pages
/// with `memory.grow`. Allocators that own all memory up to `memory.size` (Emscripten's
/// `sbrk`, TinyGo's heap) later hand those pages out again and overwrite the adapter's state:
/// the program then dies with "assertion failed at adapter line 2857" (the state's magic
/// check), under Wasmtime as well (wasm-tools PR 2243 discusses the same problem for TinyGo).
/// So a module that exports `malloc: [i32] -> [i32]` but no `cabi_realloc` gets a
/// `cabi_realloc` export that allocates with its malloc (over-allocating to honour the
/// alignment; the adapter never reallocates or frees; a reallocation or a null block traps).
/// That fixes Emscripten programs (`tests/run/own-heap.wat` is one in miniature). TinyGo's
/// malloc returns null until the program's `_start` has set up its heap; the adapter would
/// allocate its stack before that, which [`defer_run_stack`] prevents (`tests/run/late-heap.wat`
/// is TinyGo in miniature). Handing TinyGo fresh pages instead lets it run on a corrupted heap
/// (tried: wrong output). `None` when the module is not such a module.
fn realloc_via_malloc(bytes: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
    use wasmparser::{ExternalKind, TypeRef};
    // First pass: the function types and the index of `malloc`.
    let mut func_types: Vec<u32> = Vec::new();
    let mut types: Vec<Option<wasmparser::FuncType>> = Vec::new();
    let mut malloc = None;
    let mut has_realloc = false;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group?.into_types() {
                        types.push(match sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Func(t) | TypeRef::FuncExact(t) = imp?.ty {
                        func_types.push(t);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    match (e.name, e.kind) {
                        ("malloc", ExternalKind::Func) => malloc = Some(e.index),
                        ("cabi_realloc", _) => has_realloc = true,
                        _ => {}
                    }
                }
            }
            Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    let Some(malloc) = malloc.filter(|_| !has_realloc) else {
        return Ok(None);
    };
    let i32_to_i32 = func_types
        .get(malloc as usize)
        .and_then(|t| types.get(*t as usize)?.as_ref())
        .is_some_and(|f| {
            f.params() == [wasmparser::ValType::I32] && f.results() == [wasmparser::ValType::I32]
        });
    if !i32_to_i32 {
        return Ok(None);
    }
    let new_type = types.len() as u32;
    let new_func = func_types.len() as u32;
    // (old_ptr, old_len, align, new_len) -> ptr
    let type_entry = [0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f];
    let mut type_idx = Vec::new();
    leb128_u32(&mut type_idx, new_type);
    let mut export = Vec::new();
    leb128_u32(&mut export, "cabi_realloc".len() as u32);
    export.extend_from_slice(b"cabi_realloc");
    export.push(0x00); // func
    leb128_u32(&mut export, new_func);
    let mut body = vec![1, 1, 0x7f]; // one local: i32 (the block from malloc)
    body.extend_from_slice(&[0x20, 0, 0x04, 0x40, 0x00, 0x0b]); // old_ptr != 0: unreachable
    body.extend_from_slice(&[0x20, 3, 0x20, 2, 0x6a, 0x10]); // malloc(new_len + align)
    leb128_u32(&mut body, malloc);
    body.extend_from_slice(&[0x22, 4, 0x45, 0x04, 0x40, 0x00, 0x0b]); // null: unreachable
                                                                      // (block + align - 1) & -align
    body.extend_from_slice(&[0x20, 4, 0x20, 2, 0x6a, 0x41, 1, 0x6b]);
    body.extend_from_slice(&[0x41, 0, 0x20, 2, 0x6b, 0x71, 0x0b]);
    let mut code = Vec::new();
    leb128_u32(&mut code, body.len() as u32);
    code.extend_from_slice(&body);

    // Second pass: append one entry to the type, function, export and code sections.
    let (out, _) = rewrite_sections(bytes, |payload, range| {
        let extra: &[u8] = match payload {
            Payload::TypeSection(_) => &type_entry,
            Payload::FunctionSection(_) => &type_idx,
            Payload::ExportSection(_) => &export,
            Payload::CodeSectionStart { .. } => &code,
            _ => return Ok(None),
        };
        let mut r = reader_at(bytes, &range)?;
        let count = r.read_var_u32()?;
        let rest = input_slice(bytes, &(r.original_position()..range.end))?;
        let mut c = Vec::with_capacity(rest.len() + extra.len() + 5);
        leb128_u32(&mut c, count.saturating_add(1));
        c.extend_from_slice(rest);
        c.extend_from_slice(extra);
        Ok(Some(c))
    })?;
    // Not validated here: the component built from it is, completely, before code generation.
    Ok(Some(out))
}

/// The adapter's own shadow stack is allocated (through `cabi_realloc`) on entry to each of its
/// exports, the first time one is called. For a command that first export is
/// `wasi:cli/run#run`, before the module's `_start` has run: too early for an allocator that
/// `_start` sets up (TinyGo's malloc fails until then, and the adapter traps in
/// `allocate_stack`). `run` itself only calls `_start` and uses no stack, so its
/// `call $allocate_stack` is overwritten with `nop`s (in place: no size changes) and the stack
/// comes from the first preview1 call `_start` makes, through the module's initialised malloc.
/// That `run` uses no stack is checked, not assumed: after the call, its body must touch no
/// global (the stack pointer is one), or nothing is changed. One case this cannot cover: a
/// program whose very first preview1 call comes from inside its own `malloc` re-enters that
/// `malloc` to allocate the adapter's stack. `Ok(false)` when the component has no such
/// adapter (nothing changed).
fn defer_run_stack(component: &mut [u8]) -> anyhow::Result<bool> {
    #[derive(Default)]
    struct Module {
        imported_funcs: u32,
        run: Option<u32>,
        allocate_stack: Option<u32>,
        bodies: Vec<Range<u64>>,
    }
    let mut stack: Vec<Option<Module>> = Vec::new();
    let mut patch = None;
    let bytes: &[u8] = component;
    for payload in Parser::new(0).parse_all(bytes) {
        let top = stack.last_mut().and_then(Option::as_mut);
        match (payload?, top) {
            (Payload::Version { encoding, .. }, _) => {
                stack.push((encoding == wasmparser::Encoding::Module).then(Module::default));
            }
            (Payload::ImportSection(r), Some(m)) => {
                for imp in r.into_imports() {
                    if matches!(
                        imp?.ty,
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                    ) {
                        m.imported_funcs += 1;
                    }
                }
            }
            (Payload::ExportSection(r), Some(m)) => {
                for e in r {
                    let e = e?;
                    if e.kind == wasmparser::ExternalKind::Func
                        && e.name.starts_with("wasi:cli/run@")
                        && e.name.ends_with("#run")
                    {
                        m.run = Some(e.index);
                    }
                }
            }
            (Payload::CodeSectionEntry(body), Some(m)) => {
                m.bodies.push(body.range());
            }
            // Only the adapter's names matter (its exports come first); a malformed name
            // section is no reason to refuse a module, which validation does not do either.
            (Payload::CustomSection(c), Some(m)) if m.run.is_some() => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    let functions = names.into_iter().flatten().filter_map(|n| match n {
                        wasmparser::Name::Function(map) => Some(map),
                        _ => None,
                    });
                    for n in functions.flat_map(|map| map.into_iter().flatten()) {
                        if n.name == "allocate_stack" {
                            m.allocate_stack = Some(n.index);
                        }
                    }
                }
            }
            (Payload::End(_), _) => {
                if let Some(Some(m)) = stack.pop() {
                    if let Some(range) = leading_call(bytes, &m)? {
                        patch = Some(range);
                    }
                }
            }
            _ => {}
        }
    }
    fn leading_call(bytes: &[u8], m: &Module) -> anyhow::Result<Option<Range<u64>>> {
        let (Some(run), Some(alloc)) = (m.run, m.allocate_stack) else {
            return Ok(None);
        };
        let Some(body) = run
            .checked_sub(m.imported_funcs)
            .and_then(|i| m.bodies.get(i as usize))
        else {
            return Ok(None);
        };
        let body = wasmparser::FunctionBody::new(reader_at(bytes, body)?);
        let mut r = body.get_binary_reader_for_operators()?;
        let start = r.original_position();
        if r.read_u8()? != 0x10 || r.read_var_u32()? != alloc {
            return Ok(None);
        }
        let call = start..r.original_position();
        // The rest must not use the stack: no global at all.
        let mut ops = wasmparser::OperatorsReader::new(r);
        while !ops.eof() {
            if matches!(
                ops.read()?,
                wasmparser::Operator::GlobalGet { .. } | wasmparser::Operator::GlobalSet { .. }
            ) {
                return Ok(None);
            }
        }
        Ok(Some(call))
    }
    let Some(range) = patch else {
        return Ok(false);
    };
    let (Ok(start), Ok(end)) = (usize::try_from(range.start), usize::try_from(range.end)) else {
        return Ok(false);
    };
    match component.get_mut(start..end) {
        Some(call) => call.fill(0x01), // nop
        None => return Ok(false),
    }
    Ok(true)
}

/// `bytes` (a core module) with the contents of some sections replaced: `replace` sees each
/// section's payload and content range and answers the new contents, or `None` to keep it.
/// Also says whether anything was replaced.
fn rewrite_sections(
    bytes: &[u8],
    mut replace: impl FnMut(&Payload<'_>, Range<u64>) -> anyhow::Result<Option<Vec<u8>>>,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(bytes.len() + 128);
    let mut replaced = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Payload::Version { range, .. } = &payload {
            out.extend_from_slice(input_slice(bytes, &(0..range.end))?);
            continue;
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let original = input_slice(bytes, &range)?;
        let new = replace(&payload, range)?;
        replaced |= new.is_some();
        let contents = new.as_deref().unwrap_or(original);
        out.push(id);
        leb128_u32(&mut out, contents.len() as u32);
        out.extend_from_slice(contents);
    }
    Ok((out, replaced))
}

/// A reader over the bytes of `bytes` at `range`, positioned as they are in `bytes`.
fn reader_at<'a>(bytes: &'a [u8], range: &Range<u64>) -> crate::Result<BinaryReader<'a>> {
    Ok(BinaryReader::new(input_slice(bytes, range)?, range.start))
}

fn leb128_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The import module of the Sightglass benchmark protocol (`bench.start`, `bench.end`).
pub const BENCH_MODULE: &str = "bench";

/// The world a benchmark module's `bench` imports are described by.
const BENCH_WIT: &str = "package weld:bench;

world sightglass {
  import bench: interface {
    start: func();
    end: func();
  }
}
";

/// `bytes` with a `component-type` custom section describing [`BENCH_WIT`]'s world, so the
/// encoder turns the core imports `bench.start` / `bench.end` into the component import
/// `bench` (functions `start`, `end`).
fn embed_bench_world(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("bench.wit", BENCH_WIT)?;
    let world = resolve.select_world(&[pkg], Some("sightglass"))?;
    let mut module = bytes.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wat;

    use super::tests_src::HELLO;

    #[test]
    fn a_preview1_command_becomes_a_component_that_weld_flattens() {
        let component = adapt_preview1(&wat(HELLO))
            .expect("adapts")
            .expect("uses preview1");
        assert!(crate::frontend::is_component(&component));
        let info = crate::component::flatten(&component).expect("flattens");
        assert!(
            info.exports
                .iter()
                .any(|e| e.name.starts_with("wasi:cli/run@0.2")),
            "{:?}",
            info.exports.iter().map(|e| &e.name).collect::<Vec<_>>()
        );
        assert!(info
            .imports
            .iter()
            .any(|i| i.name.contains("wasi:cli/stdout")));
    }

    #[test]
    fn modules_without_preview1_imports_are_left_alone() {
        assert_eq!(adapt_preview1(&wat("(module)")).expect("ok"), None);
    }

    #[test]
    fn a_component_whose_nested_module_imports_preview1_is_left_alone() {
        // componentize-py's components hold core modules importing wasi_snapshot_preview1.
        let c = wat(r#"(component
          (core module
            (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
            (func (export "_start"))))"#);
        assert_eq!(preview1_use(&c), Preview1Use::default());
        assert_eq!(adapt_preview1(&c).expect("ok"), None);
    }

    #[test]
    fn proc_exit_becomes_an_import_of_exit_with_code() {
        let m = wat(r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start") (call 0 (i32.const 42))))"#);
        let renamed = exit_with_code(&m).expect("renames");
        let imports: Vec<(String, String)> = Parser::new(0)
            .parse_all(&renamed)
            .filter_map(|p| match p.expect("parses") {
                Payload::ImportSection(r) => Some(r),
                _ => None,
            })
            .flat_map(|r| r.into_imports().map(|i| i.expect("import")))
            .map(|i| (i.module.to_string(), i.name.to_string()))
            .collect();
        assert_eq!(
            imports,
            [
                (EXIT_INTERFACE.to_string(), "exit-with-code".to_string()),
                ("wasi_snapshot_preview1".to_string(), "fd_write".to_string())
            ]
        );
        let component = adapt_preview1(&m).expect("adapts").expect("preview1");
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&component)
            .expect("valid component");
        // A module without proc_exit is left as it is.
        assert_eq!(exit_with_code(&wat(HELLO)).expect("ok"), wat(HELLO));
    }

    #[test]
    fn a_command_with_malloc_allocates_the_adapter_stack_only_after_start() {
        let m = wat(r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "malloc") (param i32) (result i32) (i32.const 0))
          (func (export "_start")))"#);
        let component = adapt_preview1(&m).expect("adapts").expect("preview1");
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&component)
            .expect("valid component");
        // Deferred already: `run` no longer begins with the call, so nothing is left to patch.
        assert!(!defer_run_stack(&mut component.clone()).expect("parses"));
        // Re-encoded without the deferral, the same module has the call to patch.
        let plain = wit_component::ComponentEncoder::default()
            .module(&realloc_via_malloc(&m).expect("ok").expect("has malloc"))
            .expect("module")
            .adapter(
                WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            )
            .expect("adapter")
            .encode()
            .expect("encodes");
        let mut patched = plain.clone();
        assert!(defer_run_stack(&mut patched).expect("parses"));
        let changed: Vec<usize> = (0..plain.len())
            .filter(|&i| plain[i] != patched[i])
            .collect();
        assert!(
            (2..=6).contains(&changed.len()) && changed.iter().all(|&i| patched[i] == 0x01),
            "one `call` (opcode and index) overwritten with nops: {changed:?}"
        );
        assert_eq!(patched, component);
        // A module with a `cabi_realloc` of its own keeps the adapter as wit-component made it.
        let own = wat(r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "malloc") (param i32) (result i32) (i32.const 0))
          (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0))
          (func (export "_start")))"#);
        let mut kept = adapt_preview1(&own).expect("adapts").expect("preview1");
        assert!(
            defer_run_stack(&mut kept).expect("parses"),
            "`run` still begins with the call"
        );
    }

    /// Issue 23's finding: a preview1 program cut short declares sections longer than what is
    /// left, and the rewriting sliced the input with those ranges and panicked. Every cut (and
    /// a LEB overwritten with `ff ff ff 7f`) must give an error naming an offset instead.
    #[test]
    fn a_damaged_preview1_program_is_an_error_at_an_offset_not_a_panic() {
        let program: &[u8] = include_bytes!("../../examples/wasi-c/hello.wasm");
        let mut damaged: Vec<Vec<u8>> = (9..program.len())
            .step_by(61)
            .map(|n| program[..n].to_vec())
            .collect();
        for at in (9..program.len() - 4).step_by(257) {
            let mut d = program.to_vec();
            d[at..at + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
            damaged.push(d);
        }
        let mut refused = 0;
        for d in &damaged {
            match std::panic::catch_unwind(|| adapt_preview1(d)) {
                Err(_) => panic!("adapting {} damaged bytes panicked", d.len()),
                Ok(Err(e)) => {
                    refused += 1;
                    assert!(e.to_string().contains("offset"), "no offset: {e}");
                }
                Ok(Ok(_)) => {}
            }
        }
        assert!(
            refused > damaged.len() / 2,
            "{refused} of {}",
            damaged.len()
        );
    }

    #[test]
    fn other_imports_cannot_be_adapted() {
        let m = wat(r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "env" "f" (func)))"#);
        assert!(matches!(adapt_preview1(&m), Err(Error::Unsupported { .. })));
    }

    #[test]
    fn sightglass_bench_imports_become_the_component_import_bench() {
        // The Sightglass protocol: `bench.start` / `bench.end` around the measured region.
        let m = wat(r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
          (import "bench" "start" (func $start))
          (import "bench" "end" (func $end))
          (memory (export "memory") 1)
          (func (export "_start") (call $start) (call $end)))"#);
        let component = adapt_preview1(&m).expect("adapts").expect("preview1");
        let info = crate::component::flatten(&component).expect("flattens");
        let names: Vec<&str> = info.imports.iter().map(|i| i.name.as_str()).collect();
        assert!(names.contains(&"bench#start"), "{names:?}");
        assert!(names.contains(&"bench#end"), "{names:?}");
        assert!(
            info.exports
                .iter()
                .any(|e| e.name.starts_with("wasi:cli/run@0.2")),
            "a command"
        );
        crate::compile_component(&component, &crate::Options::default()).expect("compiles");
    }
}

#[cfg(test)]
mod compile_tests {
    #[test]
    fn an_adapted_preview1_command_compiles_to_one_object() {
        let buf = wast::parser::ParseBuffer::new(super::tests_src::HELLO).expect("lex");
        let mut w: wast::Wat = wast::parser::parse(&buf).expect("parse");
        let core = w.encode().expect("encode");
        let component = super::adapt_preview1(&core)
            .expect("adapts")
            .expect("preview1");
        let obj =
            crate::compile_component(&component, &crate::Options::default()).expect("compiles");
        assert!(obj.len() > 1000);
    }
}

#[cfg(test)]
mod tests_src {
    pub const HELLO: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 6))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
}
