//! Which lowerings get fused trampolines, and with which conversions.

use super::*;
use crate::options::Options;
use crate::wat;
use weld_contract::component::plan::FlatConv as Conv;

/// The fused plans of every lowering of a caller that imports `f` from a callee lifting it
/// with `callee_opts`, lowered with `caller_opts`.
fn plans(ty: &str, callee_opts: &str, caller_opts: &str) -> Vec<Option<FusedPlan>> {
    plans_lowered_as(
        ty,
        callee_opts,
        caller_opts,
        "(param i32 i32 i32) (result i32)",
    )
}

/// [`plans`], with the caller's core import of `f` typed `core`.
fn plans_lowered_as(
    ty: &str,
    callee_opts: &str,
    caller_opts: &str,
    core: &str,
) -> Vec<Option<FusedPlan>> {
    let bytes = wat(&format!(
        r#"(component
          (component $callee
            (core module $m
              (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
              (func (export "f") (param i32 i32 i32) (result i32) i32.const 0))
            (core instance $i (instantiate $m))
            (func (export "f") {ty}
              (canon lift (core func $i "f") {callee_opts})))
          (instance $callee (instantiate $callee))
          (component $caller
            (import "f" (func $f {ty}))
            (core module $libc
              (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
            (core instance $libc (instantiate $libc))
            (core func $f' (canon lower (func $f) {caller_opts}))
            (core module $main (import "" "f" (func {core})))
            (core instance (instantiate $main (with "" (instance (export "f" (func $f')))))))
          (instance (instantiate $caller (with "f" (func $callee "f")))))"#
    ));
    let options = Options::default();
    let t = super::super::translate::translate(&bytes, options.features()).expect("valid");
    let (info, _arena) = super::super::inline::Inliner::run(&t).expect("flattens");
    (0..info.lowerings.len())
        .map(|i| fused_plan(&info, i as u32))
        .collect()
}

const STR_U8: &str = r#"(param "s" string) (param "b" u8) (result u32)"#;
const BOTH_MEMORIES: &str = r#"(memory $i "mem") (realloc (func $i "realloc"))"#;

#[test]
fn a_utf8_string_between_two_memories_is_fused_as_pointer_and_length() {
    let plans = plans(STR_U8, BOTH_MEMORIES, r#"(memory $libc "mem")"#);
    assert_eq!(
        plans,
        [Some(FusedPlan {
            params: vec![Conv::StrPtr, Conv::StrLen, Conv::U8],
            result: Some(Conv::Same)
        })]
    );
}

#[test]
fn strings_in_other_encodings_take_the_generic_path() {
    let callee = format!(r#"{BOTH_MEMORIES} string-encoding=utf16"#);
    assert_eq!(plans(STR_U8, &callee, r#"(memory $libc "mem")"#), [None]);
    let caller = r#"(memory $libc "mem") string-encoding=latin1+utf16"#;
    assert_eq!(plans(STR_U8, BOTH_MEMORIES, caller), [None]);
}

#[test]
fn scalars_alone_are_fused_without_any_memory() {
    let plans = plans(
        r#"(param "a" u32) (param "b" u32) (param "c" bool) (result u32)"#,
        "",
        "",
    );
    assert_eq!(
        plans,
        [Some(FusedPlan {
            params: vec![Conv::Same, Conv::Same, Conv::Bool],
            result: Some(Conv::Same)
        })]
    );
}

#[test]
fn a_string_result_takes_the_generic_path() {
    let ty = r#"(param "a" u32) (param "b" u32) (param "c" u32) (result string)"#;
    let callee = r#"(memory $i "mem") (realloc (func $i "realloc"))"#;
    let caller = r#"(memory $libc "mem") (realloc (func $libc "realloc"))"#;
    let plans = plans_lowered_as(ty, callee, caller, "(param i32 i32 i32 i32)");
    assert_eq!(plans, [None]);
}
