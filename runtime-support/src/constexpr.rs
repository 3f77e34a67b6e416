//! Constant expressions (global initialisers, segment offsets, element items): a type check run
//! once when a module is loaded, and the evaluator run at instantiation. Supports the MVP
//! constants, `ref.null`, `ref.func`, `global.get` and the extended-const `add`/`sub`/`mul`.

use alloc::vec::Vec;
use weld_contract::info::{ConstOp, ModuleInfo, ValType};
use weld_contract::vmctx::ValRaw;

/// Type of a stack slot during checking: `None` stands for `ref.null` (either reference type).
type Slot = Option<ValType>;

/// Check that `expr` is well formed for `info` and produces a value of type `expected` (for
/// offsets pass `None` to accept i32 or i64). `visible_globals` is how many globals `global.get`
/// may name.
pub fn check(
    expr: &[ConstOp],
    info: &ModuleInfo,
    visible_globals: usize,
    expected: Option<ValType>,
) -> bool {
    let mut stack: Vec<Slot> = Vec::new();
    for op in expr {
        let pushed = match *op {
            ConstOp::I32(_) => Some(ValType::I32),
            ConstOp::I64(_) => Some(ValType::I64),
            ConstOp::F32(_) => Some(ValType::F32),
            ConstOp::F64(_) => Some(ValType::F64),
            ConstOp::V128(_) => Some(ValType::V128),
            ConstOp::RefNull => None,
            ConstOp::RefFunc(f) => {
                if (f as usize) >= info.funcs.len() || info.funcref_slot(f).is_none() {
                    return false;
                }
                Some(ValType::FuncRef)
            }
            ConstOp::GlobalGet(g) => {
                if g as usize >= visible_globals {
                    return false;
                }
                match info.global_types.get(g as usize) {
                    Some(t) => Some(t.ty),
                    None => return false,
                }
            }
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                if !pop2(&mut stack, ValType::I32) {
                    return false;
                }
                Some(ValType::I32)
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                if !pop2(&mut stack, ValType::I64) {
                    return false;
                }
                Some(ValType::I64)
            }
        };
        stack.push(pushed);
    }
    match (stack.as_slice(), expected) {
        ([Some(t)], Some(e)) => *t == e,
        ([None], Some(e)) => e.is_ref(),
        ([Some(t)], None) => matches!(t, ValType::I32 | ValType::I64),
        _ => false,
    }
}

fn pop2(stack: &mut Vec<Slot>, ty: ValType) -> bool {
    let b = stack.pop();
    let a = stack.pop();
    a == Some(Some(ty)) && b == Some(Some(ty))
}

/// Evaluate `expr` (checked by [`check`]). `global` gives the value of a global, `func_ref` the
/// address of a function's `VMFuncRef`. `None` only if the expression is malformed after all.
pub fn eval(
    expr: &[ConstOp],
    global: impl Fn(u32) -> Option<ValRaw>,
    func_ref: impl Fn(u32) -> Option<usize>,
) -> Option<ValRaw> {
    let mut stack: Vec<ValRaw> = Vec::new();
    for op in expr {
        let v = match *op {
            ConstOp::I32(v) => ValRaw::i32(v),
            ConstOp::I64(v) => ValRaw::i64(v),
            ConstOp::F32(v) => ValRaw::f32(v),
            ConstOp::F64(v) => ValRaw::f64(v),
            ConstOp::V128(v) => ValRaw::from_u128(v),
            ConstOp::RefNull => ValRaw::default(),
            ConstOp::RefFunc(f) => ValRaw::i64(func_ref(f)? as i64),
            ConstOp::GlobalGet(g) => global(g)?,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop()?.get_i32();
                let a = stack.pop()?.get_i32();
                ValRaw::i32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop()?.get_i64();
                let a = stack.pop()?.get_i64();
                ValRaw::i64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
        };
        stack.push(v);
    }
    if stack.len() == 1 {
        stack.pop()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use weld_contract::info::GlobalType;

    #[test]
    fn extended_constants_evaluate_with_wrapping_arithmetic() {
        let e = [
            ConstOp::I32(i32::MAX),
            ConstOp::GlobalGet(0),
            ConstOp::I32Add,
        ];
        let v = eval(&e, |_| Some(ValRaw::i32(1)), |_| None).expect("value");
        assert_eq!(v.get_i32(), i32::MIN);
        let e = [ConstOp::I64(-5), ConstOp::I64(7), ConstOp::I64Mul];
        assert_eq!(eval(&e, |_| None, |_| None).map(|v| v.get_i64()), Some(-35));
    }

    #[test]
    fn ill_typed_or_unbalanced_expressions_fail_the_check() {
        let info = ModuleInfo {
            global_types: vec![GlobalType {
                ty: ValType::I64,
                mutable: false,
                ref_type: None,
            }],
            ..Default::default()
        };
        let ok = [ConstOp::GlobalGet(0), ConstOp::I64(1), ConstOp::I64Sub];
        assert!(check(&ok, &info, 1, Some(ValType::I64)));
        assert!(
            !check(&ok, &info, 0, Some(ValType::I64)),
            "global not visible"
        );
        assert!(!check(&ok, &info, 1, Some(ValType::I32)));
        assert!(!check(&[ConstOp::I32Add], &info, 1, Some(ValType::I32)));
        assert!(!check(&[ConstOp::I32(1), ConstOp::I32(2)], &info, 1, None));
        assert!(!check(
            &[ConstOp::RefFunc(0)],
            &info,
            1,
            Some(ValType::FuncRef)
        ));
        assert!(check(
            &[ConstOp::RefNull],
            &info,
            1,
            Some(ValType::ExternRef)
        ));
        assert!(!check(&[], &info, 1, None));
    }
}
