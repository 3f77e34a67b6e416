//! Which imported functions of a component's core modules are known, from the flattened graph,
//! to be wasm code.
//!
//! In: the flattened graph and every core module (the component's and the generated adapters).
//! Out: per module, the imported functions (by function index) every instance of the module
//! binds to a function another core instance defines, for the descriptor's
//! `ModuleInfo::wasm_imports`. Code generation calls such an import in the wasm calling
//! convention straight away; any other import (a lowering trampoline, a runtime intrinsic, a
//! function re-exported from an import, or a module with no instance) keeps the call that
//! reads the convention from the funcref and branches on it.
//!
//! The component runtime binds imports exactly as the graph says, and the runtime refuses to
//! instantiate a module with anything but wasm code for these imports (a host could load an
//! inner module's descriptor on its own), so what holds here holds at run time.

use crate::frontend::ParsedModule;
use weld_contract::component::{ComponentInfo, CoreDef};
use weld_contract::info::{ExportKind, ImportKind};

/// For each module of `parsed`, the function indices of its imports known to be wasm code.
pub fn wasm_imports(info: &ComponentInfo, parsed: &[ParsedModule<'_>]) -> Vec<Vec<u32>> {
    flags(info, parsed)
        .into_iter()
        .map(|known| {
            (0u32..)
                .zip(known)
                .filter(|(_, k)| *k)
                .map(|(i, _)| i)
                .collect()
        })
        .collect()
}

/// For each module, one flag per imported function: known to be wasm code.
fn flags(info: &ComponentInfo, parsed: &[ParsedModule<'_>]) -> Vec<Vec<bool>> {
    let mut out: Vec<Option<Vec<bool>>> = vec![None; parsed.len()];
    for inst in &info.instances {
        let Some(m) = parsed.get(inst.module as usize) else {
            continue;
        };
        let here: Vec<bool> = m
            .info
            .imports
            .iter()
            .zip(inst.args.iter().map(Some).chain(std::iter::repeat(None)))
            .filter(|(import, _)| matches!(import.kind, ImportKind::Func(_)))
            .map(|(_, arg)| arg.is_some_and(|d| defines_function(info, parsed, d)))
            .collect();
        let slot = &mut out[inst.module as usize];
        *slot = Some(match slot.take() {
            None => here,
            Some(before) => before.iter().zip(&here).map(|(a, b)| *a && *b).collect(),
        });
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

/// Whether `def` is an export of a core instance whose module defines that function.
fn defines_function(info: &ComponentInfo, parsed: &[ParsedModule<'_>], def: &CoreDef) -> bool {
    let CoreDef::Export { instance, name } = def else {
        return false;
    };
    let Some(m) = info
        .instances
        .get(*instance as usize)
        .and_then(|i| parsed.get(i.module as usize))
    else {
        return false;
    };
    m.info.exports.iter().any(|e| {
        e.name == *name
            && e.kind == ExportKind::Func
            && e.index >= m.info.imported_funcs
            && (e.index as usize) < m.info.funcs.len()
    })
}

#[cfg(test)]
mod tests {
    use crate::component::{compile, AdapterBytes};
    use crate::options::Options;

    #[test]
    fn only_imports_bound_to_functions_a_module_defines_are_known_to_be_wasm() {
        let bytes = crate::wat(
            r#"(component
              (import "host" (func $host))
              (core func $host' (canon lower (func $host)))
              (core module $lib
                (import "" "f" (func $f))
                (func (export "g"))
                (export "f-again" (func $f)))
              (core instance $lib (instantiate $lib
                (with "" (instance (export "f" (func $host'))))))
              (core module $main
                (import "" "g" (func))
                (import "" "f-again" (func))
                (import "" "host" (func)))
              (core instance (instantiate $main (with "" (instance
                (export "g" (func $lib "g"))
                (export "f-again" (func $lib "f-again"))
                (export "host" (func $host')))))))"#,
        );
        let adapters = AdapterBytes::default();
        let c = compile(&bytes, &adapters, &Options::default()).expect("compiles");
        let known: Vec<&[u32]> = c
            .modules
            .iter()
            .map(|m| &m.0.info.wasm_imports[..])
            .collect();
        // $lib's import is a lowering trampoline; $main's a defined function, one
        // re-exported import and a trampoline; the host import's compiled host call (the
        // third module) imports only the runtime's functions.
        assert_eq!(known, [&[][..], &[0][..], &[][..]]);
    }

    #[test]
    fn a_module_instantiated_twice_keeps_only_what_both_instances_agree_on() {
        let bytes = crate::wat(
            r#"(component
              (import "host" (func $host))
              (core func $host' (canon lower (func $host)))
              (core module $lib (func (export "g")))
              (core instance $lib (instantiate $lib))
              (core module $main (import "" "a" (func)) (import "" "b" (func)))
              (core instance (instantiate $main (with "" (instance
                (export "a" (func $lib "g")) (export "b" (func $lib "g"))))))
              (core instance (instantiate $main (with "" (instance
                (export "a" (func $lib "g")) (export "b" (func $host')))))))"#,
        );
        let adapters = AdapterBytes::default();
        let c = compile(&bytes, &adapters, &Options::default()).expect("compiles");
        assert_eq!(c.modules[1].0.info.wasm_imports, [0]);
    }
}
