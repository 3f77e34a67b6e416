//! The start trampoline of `thread.new-indirect`: a new thread calls element `fi` of a core
//! table with one argument, an indirect call only compiled code can make (the element may be a
//! function no instance exports).
//!
//! In: a `thread.new-indirect` lowering (its table, whether the argument is an `i64`). Out: a
//! core module that imports the table and exports `start(fi: i32, c)`, which is
//! `call_indirect` of type `[c] -> []` on it; the runtime calls that export when the thread
//! first runs. A missing element or one of another type traps as the spec's indirect call
//! does.

use super::module::{AdapterModule, EXPORT};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    Instruction as I, Module, RefType, TableType, TypeSection, ValType,
};
use weld_contract::component::CoreDef;

/// The trampoline for `table` whose start functions take an `i64` (`param64`) or an `i32`.
pub(super) fn build(table: &CoreDef, param64: bool) -> AdapterModule {
    let arg = if param64 { ValType::I64 } else { ValType::I32 };
    let mut types = TypeSection::new();
    types.ty().function([arg], []);
    types.ty().function([ValType::I32, arg], []);
    let mut imports = ImportSection::new();
    let table_ty = TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 0,
        maximum: None,
        shared: false,
    };
    imports.import("", "table", EntityType::Table(table_ty));
    let mut funcs = FunctionSection::new();
    funcs.function(1);
    let mut exports = ExportSection::new();
    exports.export(EXPORT, ExportKind::Func, 0);
    let mut body = Function::new([]);
    body.instruction(&I::LocalGet(1));
    body.instruction(&I::LocalGet(0));
    body.instruction(&I::CallIndirect {
        type_index: 0,
        table_index: 0,
    });
    body.instruction(&I::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut m = Module::new();
    m.section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    AdapterModule {
        bytes: m.finish(),
        args: vec![table.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(bytes: &[u8]) -> Result<(), String> {
        wasmparser::Validator::new()
            .validate_all(bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_start_trampoline_is_a_valid_module_for_both_argument_types() {
        let table = CoreDef::Export {
            instance: 3,
            name: "__indirect_function_table".into(),
        };
        for param64 in [false, true] {
            let m = build(&table, param64);
            validate(&m.bytes).unwrap();
            assert_eq!(m.args, vec![table.clone()]);
        }
    }

    #[test]
    fn the_start_trampoline_calls_the_table_element_of_the_argument_type() {
        let m = build(
            &CoreDef::Export {
                instance: 0,
                name: "t".into(),
            },
            true,
        );
        let mut types = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&m.bytes) {
            if let Ok(wasmparser::Payload::TypeSection(r)) = payload {
                for ty in r.into_iter_err_on_gc_types() {
                    let ty = ty.unwrap();
                    types.push((ty.params().to_vec(), ty.results().to_vec()));
                }
            }
        }
        use wasmparser::ValType::{I32, I64};
        assert_eq!(types, vec![(vec![I64], vec![]), (vec![I32, I64], vec![])]);
    }
}
