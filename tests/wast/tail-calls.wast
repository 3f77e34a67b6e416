;; Tail calls (Wasm 3.0) across the boundaries weld's calling conventions meet: wasm code uses
;; Cranelift's `tail` convention, host functions the C one, and a call through a funcref picks
;; by the funcref's ABI field. Each chain below is far deeper than the 512 KiB wasm stack
;; would allow without frames being replaced.

;; A module whose functions others import, put in their tables and tail-call.
(module $lib
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1))))))
  ;; Seven results: more than the C convention returns in registers.
  (func (export "seven") (param i32) (result i32 i32 i32 i32 i32 i32 i32)
    (local.get 0)
    (i32.add (local.get 0) (i32.const 1))
    (i32.add (local.get 0) (i32.const 2))
    (i32.add (local.get 0) (i32.const 3))
    (i32.add (local.get 0) (i32.const 4))
    (i32.add (local.get 0) (i32.const 5))
    (i32.add (local.get 0) (i32.const 6))))
(register "lib" $lib)

(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "lib" "count" (func $lib_count (param i64) (result i64)))
  (import "lib" "seven" (func $seven (param i32) (result i32 i32 i32 i32 i32 i32 i32)))
  (type $to_i64 (func (param i64) (result i64)))
  (type $i32_to_unit (func (param i32)))
  (type $many (func (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (table $t funcref (elem $even $odd $lib_count $print $many_args $few_args))

  ;; Mutual recursion ten million deep, direct and through the table.
  (func $even (export "even") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (return_call_indirect $t (type $to_i64)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))

  ;; Into an imported wasm function (its slot holds wasm code) and through a funcref to it.
  (func (export "lib-count") (param i64) (result i64)
    (return_call $lib_count (local.get 0)))
  (func (export "lib-count-indirect") (param i64) (result i64)
    (return_call_indirect $t (type $to_i64) (local.get 0) (i32.const 2)))
  (func (export "lib-count-ref") (param i64) (result i64)
    (return_call_ref $to_i64 (local.get 0) (ref.func $lib_count)))
  (elem declare func $lib_count)

  ;; Into a host function: called, then returned from.
  (func (export "print") (param i32)
    (return_call $print (local.get 0)))
  (func (export "print-indirect") (param i32)
    (return_call_indirect $t (type $i32_to_unit) (local.get 0) (i32.const 3)))

  ;; Ten parameters (some on the stack) from a function with one, and back with fewer.
  (func $many_args (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.add (local.get 1) (local.get 9)))
      (else (return_call $few_args (i64.sub (local.get 0) (i64.const 1))
                                   (i64.add (local.get 1) (local.get 9))))))
  (func $few_args (param i64 i64) (result i64)
    (return_call_indirect $t (type $many)
      (local.get 0) (local.get 1) (i64.const 2) (i64.const 3) (i64.const 4)
      (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 1)
      (i32.const 4)))
  (func (export "many") (param i64) (result i64)
    (return_call $few_args (local.get 0) (i64.const 0)))

  ;; Many results through a tail call into another module.
  (func (export "seven") (param i32) (result i32 i32 i32 i32 i32 i32 i32)
    (return_call $seven (local.get 0)))

  ;; A trap in a tail-called function still reports its own message.
  (func $div (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "div") (param i32) (result i32) (return_call $div (local.get 0)))
)

(assert_return (invoke "even" (i64.const 10_000_000)) (i64.const 1))
(assert_return (invoke "even" (i64.const 9_999_999)) (i64.const 0))
(assert_return (invoke "lib-count" (i64.const 10_000_000)) (i64.const 0))
(assert_return (invoke "lib-count-indirect" (i64.const 1_000_000)) (i64.const 0))
(assert_return (invoke "lib-count-ref" (i64.const 1_000_000)) (i64.const 0))
(assert_return (invoke "print" (i32.const 7)))
(assert_return (invoke "print-indirect" (i32.const 8)))
(assert_return (invoke "many" (i64.const 1_000_000)) (i64.const 1_000_001))
(assert_return (invoke "seven" (i32.const 10))
  (i32.const 10) (i32.const 11) (i32.const 12) (i32.const 13) (i32.const 14) (i32.const 15)
  (i32.const 16))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "div" (i32.const 1)) (i32.const 1))
