//! Two repairs for programs that own their heap (Emscripten, TinyGo), so that the preview1
//! adapter's state does not live in pages the program's allocator hands out again:
//! [`realloc_via_malloc`] gives the module a `cabi_realloc` that allocates with its `malloc`,
//! and [`defer_run_stack`] keeps the adapter from allocating its stack before `_start` ran.

use super::sections::{leb128_u32, reader_at, rewrite_sections};
use crate::frontend::input_slice;
use std::ops::Range;
use wasmparser::{Parser, Payload};

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
pub(super) fn realloc_via_malloc(bytes: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
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
pub(super) fn defer_run_stack(component: &mut [u8]) -> anyhow::Result<bool> {
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
