//! Constant expressions (global initialisers, segment offsets, element items): a type check run
//! once when a module is loaded, and the evaluator run at instantiation. Supports the MVP
//! constants, `ref.null`, `ref.func`, `global.get`, the extended-const `add`/`sub`/`mul`, and
//! the GC proposal's `ref.i31`, `struct.new*`, `array.new*` and conversions between `any` and
//! `extern`.

use crate::gc::ArrayInit;
use alloc::vec::Vec;
use weld_contract::gc::{FieldType, StorageType};
use weld_contract::info::{ConstOp, ModuleInfo, ValType};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::ValRaw;

/// What evaluating a constant expression needs from the instance being made.
pub trait ConstEnv {
    /// The value of global `g`.
    fn global(&self, g: u32) -> Option<ValRaw>;
    /// The address of function `f`'s `VMFuncRef`.
    fn func_ref(&self, f: u32) -> Option<usize>;
    /// A new struct of type index `t` with `fields`.
    fn new_struct(&mut self, t: u32, fields: &[ValRaw]) -> Result<u64, TrapCode>;
    /// A new array of type index `t` with `len` elements initialised by `init`.
    fn new_array(&mut self, t: u32, len: u32, init: ArrayInit<'_>) -> Result<u64, TrapCode>;
}

/// The type a field's value has on the operand stack.
fn unpacked(f: &FieldType, info: &ModuleInfo) -> ValType {
    match f.storage {
        StorageType::I8 | StorageType::I16 => ValType::I32,
        StorageType::Val(t) => info.type_defs.repr(t),
    }
}

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
            op => match check_gc(&op, info, &mut stack) {
                Some(t) => Some(t),
                None => return false,
            },
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

/// Pop a value of type `ty` (`ref.null` fits any reference type).
fn pop(stack: &mut Vec<Slot>, ty: ValType) -> bool {
    match stack.pop() {
        Some(Some(t)) => t == ty,
        Some(None) => ty.is_ref(),
        None => false,
    }
}

/// The type a GC constant operator pushes after popping its operands; `None` if ill-typed.
fn check_gc(op: &ConstOp, info: &ModuleInfo, stack: &mut Vec<Slot>) -> Option<ValType> {
    let defs = &info.type_defs;
    let ok = match *op {
        ConstOp::RefI31 => pop(stack, ValType::I32),
        ConstOp::StructNew(t) => {
            let fields = defs.struct_fields(t)?;
            fields.iter().rev().all(|f| pop(stack, unpacked(f, info)))
        }
        ConstOp::StructNewDefault(t) => defs.struct_fields(t).is_some(),
        ConstOp::ArrayNew(t) => {
            let f = defs.array_elem(t)?;
            pop(stack, ValType::I32) && pop(stack, unpacked(&f, info))
        }
        ConstOp::ArrayNewDefault(t) => defs.array_elem(t).is_some() && pop(stack, ValType::I32),
        ConstOp::ArrayNewFixed(t, n) => {
            let f = defs.array_elem(t)?;
            (0..n).all(|_| pop(stack, unpacked(&f, info)))
        }
        ConstOp::AnyConvertExtern => {
            return pop(stack, ValType::ExternRef).then_some(ValType::AnyRef)
        }
        ConstOp::ExternConvertAny => {
            return pop(stack, ValType::AnyRef).then_some(ValType::ExternRef)
        }
        _ => false,
    };
    ok.then_some(ValType::AnyRef)
}

fn pop2(stack: &mut Vec<Slot>, ty: ValType) -> bool {
    let b = stack.pop();
    let a = stack.pop();
    a == Some(Some(ty)) && b == Some(Some(ty))
}

/// Evaluate `expr` (checked by [`check`] against `info`). `Err(InvalidValue)` only if the
/// expression is malformed after all; other traps come from allocation.
pub fn eval(
    expr: &[ConstOp],
    info: &ModuleInfo,
    env: &mut dyn ConstEnv,
) -> Result<ValRaw, TrapCode> {
    const BAD: TrapCode = TrapCode::InvalidValue;
    let mut stack: Vec<ValRaw> = Vec::new();
    for op in expr {
        let v = match *op {
            ConstOp::I32(v) => ValRaw::i32(v),
            ConstOp::I64(v) => ValRaw::i64(v),
            ConstOp::F32(v) => ValRaw::f32(v),
            ConstOp::F64(v) => ValRaw::f64(v),
            ConstOp::V128(v) => ValRaw::from_u128(v),
            ConstOp::RefNull => ValRaw::default(),
            ConstOp::RefFunc(f) => ValRaw::i64(env.func_ref(f).ok_or(BAD)? as i64),
            ConstOp::GlobalGet(g) => env.global(g).ok_or(BAD)?,
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().ok_or(BAD)?.get_i32();
                let a = stack.pop().ok_or(BAD)?.get_i32();
                ValRaw::i32(match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().ok_or(BAD)?.get_i64();
                let a = stack.pop().ok_or(BAD)?.get_i64();
                ValRaw::i64(match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                })
            }
            ConstOp::RefI31 => {
                let v = stack.pop().ok_or(BAD)?.get_i32() as u32;
                ValRaw::i64(i64::from((v << 1) | 1))
            }
            ConstOp::AnyConvertExtern | ConstOp::ExternConvertAny => stack.pop().ok_or(BAD)?,
            op => eval_alloc(op, info, env, &mut stack)?,
        };
        stack.push(v);
    }
    match stack.as_slice() {
        [v] => Ok(*v),
        _ => Err(BAD),
    }
}

/// The GC allocations of constant expressions.
fn eval_alloc(
    op: ConstOp,
    info: &ModuleInfo,
    env: &mut dyn ConstEnv,
    stack: &mut Vec<ValRaw>,
) -> Result<ValRaw, TrapCode> {
    const BAD: TrapCode = TrapCode::InvalidValue;
    let mut take = |n: usize| -> Result<Vec<ValRaw>, TrapCode> {
        let at = stack.len().checked_sub(n).ok_or(BAD)?;
        Ok(stack.split_off(at))
    };
    let addr = match op {
        ConstOp::StructNew(t) => {
            let n = info.type_defs.struct_fields(t).ok_or(BAD)?.len();
            let fields = take(n)?;
            env.new_struct(t, &fields)?
        }
        ConstOp::StructNewDefault(t) => {
            let n = info.type_defs.struct_fields(t).ok_or(BAD)?.len();
            env.new_struct(t, &alloc::vec![ValRaw::default(); n])?
        }
        ConstOp::ArrayNew(t) => {
            let v = take(2)?;
            let len = v[1].get_i32() as u32;
            env.new_array(t, len, ArrayInit::Fill(v[0]))?
        }
        ConstOp::ArrayNewDefault(t) => {
            let len = take(1)?[0].get_i32() as u32;
            env.new_array(t, len, ArrayInit::Fill(ValRaw::default()))?
        }
        ConstOp::ArrayNewFixed(t, n) => {
            let v = take(n as usize)?;
            env.new_array(t, n, ArrayInit::Each(&|i| v[i as usize]))?
        }
        _ => return Err(BAD),
    };
    Ok(ValRaw::i64(addr as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use weld_contract::info::GlobalType;

    struct Env;
    impl ConstEnv for Env {
        fn global(&self, _: u32) -> Option<ValRaw> {
            Some(ValRaw::i32(1))
        }
        fn func_ref(&self, _: u32) -> Option<usize> {
            None
        }
        fn new_struct(&mut self, _: u32, _: &[ValRaw]) -> Result<u64, TrapCode> {
            Err(TrapCode::GcHeapExhausted)
        }
        fn new_array(&mut self, _: u32, _: u32, _: ArrayInit<'_>) -> Result<u64, TrapCode> {
            Err(TrapCode::GcHeapExhausted)
        }
    }

    #[test]
    fn extended_constants_evaluate_with_wrapping_arithmetic() {
        let info = ModuleInfo::default();
        let e = [
            ConstOp::I32(i32::MAX),
            ConstOp::GlobalGet(0),
            ConstOp::I32Add,
        ];
        let v = eval(&e, &info, &mut Env).expect("value");
        assert_eq!(v.get_i32(), i32::MIN);
        let e = [ConstOp::I64(-5), ConstOp::I64(7), ConstOp::I64Mul];
        assert_eq!(eval(&e, &info, &mut Env).map(|v| v.get_i64()), Ok(-35));
        let e = [ConstOp::I32(-1), ConstOp::RefI31];
        assert_eq!(
            eval(&e, &info, &mut Env).map(|v| v.get_i64()),
            Ok(0xffff_ffff)
        );
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
