;; Fused calls run through generated adapters (`compiler/src/adapter/`): records and tuples of
;; scalars cross flat, each field converted; a NaN crossing becomes the canonical NaN
;; (`canonicalize_nan32/64` when lifting); an invalid char inside a record traps.

(component
  (component $callee
    (core module $m
      (func (export "f32-bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
      (func (export "f64-bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
      ;; point { x: u8, c: char, y: s16 } → x + c + y
      (func (export "point") (param i32 i32 i32) (result i32)
        (i32.add (local.get 0) (i32.add (local.get 1) (local.get 2)))))
    (core instance $i (instantiate $m))
    (type $point (record (field "x" u8) (field "c" char) (field "y" s16)))
    (export $point' "point" (type $point))
    (func (export "f32-bits") (param "x" f32) (result u32) (canon lift (core func $i "f32-bits")))
    (func (export "f64-bits") (param "x" f64) (result u64) (canon lift (core func $i "f64-bits")))
    (func (export "point-sum") (param "p" $point') (result s32)
      (canon lift (core func $i "point"))))
  (instance $callee (instantiate $callee))
  (alias export $callee "point" (type $point))
  (component $caller
    (type $p' (record (field "x" u8) (field "c" char) (field "y" s16)))
    (import "point" (type $p (eq $p')))
    (import "f32-bits" (func $f32 (param "x" f32) (result u32)))
    (import "f64-bits" (func $f64 (param "x" f64) (result u64)))
    (import "point-sum" (func $point (param "p" $p) (result s32)))
    (core func $f32' (canon lower (func $f32)))
    (core func $f64' (canon lower (func $f64)))
    (core func $point' (canon lower (func $point)))
    (core module $m
      (import "" "f32" (func $f32 (param f32) (result i32)))
      (import "" "f64" (func $f64 (param f64) (result i64)))
      (import "" "point" (func $point (param i32 i32 i32) (result i32)))
      (func (export "nan32") (result i32) (call $f32 (f32.reinterpret_i32 (i32.const 0x7fa00001))))
      (func (export "neg-nan32") (result i32) (call $f32 (f32.reinterpret_i32 (i32.const 0xffc00000))))
      (func (export "one32") (result i32) (call $f32 (f32.const 1)))
      (func (export "nan64") (result i64)
        (call $f64 (f64.reinterpret_i64 (i64.const 0x7ff4000000000001))))
      ;; x = 0x1ff narrows to 0xff, y = 0x18000 sign-extends to -32768
      (func (export "point") (result i32) (call $point (i32.const 0x1ff) (i32.const 0x41) (i32.const 0x18000)))
      (func (export "bad-point") (result i32) (call $point (i32.const 1) (i32.const 0xdfff) (i32.const 2))))
    (core instance $i (instantiate $m (with "" (instance
      (export "f32" (func $f32')) (export "f64" (func $f64')) (export "point" (func $point'))))))
    (func (export "nan32") (result u32) (canon lift (core func $i "nan32")))
    (func (export "neg-nan32") (result u32) (canon lift (core func $i "neg-nan32")))
    (func (export "one32") (result u32) (canon lift (core func $i "one32")))
    (func (export "nan64") (result u64) (canon lift (core func $i "nan64")))
    (func (export "point") (result s32) (canon lift (core func $i "point")))
    (func (export "bad-point") (result s32) (canon lift (core func $i "bad-point"))))
  (instance $caller (instantiate $caller
    (with "point" (type $point))
    (with "f32-bits" (func $callee "f32-bits")) (with "f64-bits" (func $callee "f64-bits"))
    (with "point-sum" (func $callee "point-sum"))))
  (export "nan32" (func $caller "nan32"))
  (export "neg-nan32" (func $caller "neg-nan32"))
  (export "one32" (func $caller "one32"))
  (export "nan64" (func $caller "nan64"))
  (export "point" (func $caller "point"))
  (export "bad-point" (func $caller "bad-point")))

(assert_return (invoke "nan32") (u32.const 0x7fc00000))
(assert_return (invoke "neg-nan32") (u32.const 0x7fc00000))
(assert_return (invoke "one32") (u32.const 0x3f800000))
(assert_return (invoke "nan64") (u64.const 0x7ff8000000000000))
(assert_return (invoke "point") (s32.const -32448))
(assert_trap (invoke "bad-point") "invalid `char` bit pattern")
