;; Exception handling beyond the spec suite: payloads of every value type, throws across
;; modules, tables and call_ref, deep stacks, exnrefs kept in globals and tables and thrown
;; again, values live across a catch, and what a `return_call` inside a `try_table` means.

(module $lib
  (tag $e (export "e") (param i32 i64 f32 f64 v128 externref funcref))
  (tag $n (export "n") (param i32))
  (func $thrower (export "throw-n") (param i32)
    (throw $n (local.get 0)))
  (func (export "throw-e")
    (throw $e (i32.const -1) (i64.const 0x7fff_ffff_ffff_ffff) (f32.const 1.5) (f64.const -2.25)
      (v128.const i32x4 1 2 3 4) (ref.null extern) (ref.func $thrower)))
  ;; Recursion `depth` deep, then a throw.
  (func $deep (export "deep") (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $n (i32.const 7))))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (elem declare func $thrower)
)
(register "lib" $lib)

(module
  (import "lib" "e" (tag $e (param i32 i64 f32 f64 v128 externref funcref)))
  (import "lib" "n" (tag $n (param i32)))
  (import "lib" "throw-n" (func $throw-n (param i32)))
  (import "lib" "throw-e" (func $throw-e))
  (import "lib" "deep" (func $deep (param i32)))
  (tag $local (param i64))
  (type $v_i (func (param i32)))
  (table $t 2 funcref)
  (table $exns 4 exnref)
  (global $kept (mut exnref) (ref.null exn))
  (elem (table $t) (i32.const 0) func $throw-n $throw-local)
  (func $throw-local (param i32) (throw $local (i64.extend_i32_u (local.get 0))))

  ;; Every payload type arrives intact from another module.
  (func (export "payload") (result i32 i64 f32 f64 i32 i32 i32)
    (local $f funcref) (local $x externref) (local $v v128)
    (block $h (result i32 i64 f32 f64 v128 externref funcref)
      (try_table (catch $e $h) (call $throw-e))
      (unreachable))
    (local.set $f)
    (local.set $x)
    (local.set $v)
    (i32x4.extract_lane 0 (local.get $v))
    (ref.is_null (local.get $x))
    (ref.is_null (local.get $f)))

  ;; Through a table (call_indirect) and through call_ref: the right tag's clause runs.
  (func (export "indirect") (param i32) (result i64)
    (block $hl (result i64)
      (block $hn (result i32)
        (try_table (catch $n $hn) (catch $local $hl)
          (call_indirect (type $v_i) (i32.const 5) (local.get 0)))
        (return (i64.const -1)))
      (i64.extend_i32_u))
    )
  (func (export "via-call-ref") (result i32)
    (block $h (result i32)
      (try_table (catch $n $h)
        (call_ref $v_i (i32.const 11) (ref.func $throw-n)))
      (i32.const -1)))

  ;; A throw 2,000 frames deep is caught at the bottom.
  (func (export "deep") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $n $h) (call $deep (local.get 0)))
      (i32.const -1)))

  ;; Locals live across the catch keep their values.
  (func (export "locals-survive") (param i32) (result i32)
    (local $a i32) (local $b i64) (local $c f64)
    (local.set $a (i32.add (local.get 0) (i32.const 1)))
    (local.set $b (i64.const 1000))
    (local.set $c (f64.const 0.5))
    (block $h (result i32)
      (try_table (catch $n $h) (call $throw-n (local.get 0)))
      (i32.const -1))
    (i32.add (local.get $a))
    (i32.add (i32.wrap_i64 (local.get $b)))
    (i32.add (i32.trunc_f64_s (f64.mul (local.get $c) (f64.const 4)))))

  ;; An exnref kept in a global and a table, thrown again later, still carries its payload.
  (func (export "keep") (param i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $n $h) (call $throw-n (local.get 0)))
      (unreachable))
    (local.set 0 (i32.const 0))
    (global.set $kept)
    (drop)
    (table.set $exns (i32.const 3) (global.get $kept)))
  (func (export "rethrow-kept") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $n $h)
        (if (local.get 0)
          (then (throw_ref (global.get $kept)))
          (else (throw_ref (table.get $exns (i32.const 3))))))
      (i32.const -1)))

  ;; Inner clauses that do not match pass the exception outwards; a catch_all_ref handler
  ;; that throws again reaches the outer try_table.
  (func (export "nested") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (catch $n $outer)
        (block $inner (result exnref)
          (block $other (result i64)
            (try_table (catch $local $other) (catch_all_ref $inner)
              (call $throw-n (local.get 0)))
            (return (i32.const -2)))
          (return (i32.const -3)))
        (throw_ref))
      (i32.const -1)))

  ;; A million throws and catches in a loop (plain catches free what they catch).
  (func (export "loop") (param i32) (result i32)
    (local $sum i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $n $h) (call $throw-n (i32.const 1)))
        (i32.const 0))
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get $sum))

  ;; `return_call` leaves the frame: its try_table no longer applies.
  (func (export "return-call-escapes") (result i32)
    (block $h
      (try_table (catch_all $h) (return_call $throws-i32 (i32.const 3))))
    (i32.const 99))
  (func $throws-i32 (param i32) (result i32) (call $throw-n (local.get 0)) (i32.const 0))

  ;; Uncaught throws reach the host; the instance stays usable.
  (func (export "uncaught") (call $throw-n (i32.const 1)))
)

(assert_return (invoke "payload") (i32.const -1) (i64.const 0x7fff_ffff_ffff_ffff) (f32.const 1.5) (f64.const -2.25) (i32.const 1) (i32.const 1) (i32.const 0))
(assert_return (invoke "indirect" (i32.const 0)) (i64.const 5))
(assert_return (invoke "indirect" (i32.const 1)) (i64.const 5))
(assert_trap (invoke "indirect" (i32.const 2)) "undefined element")
(assert_return (invoke "via-call-ref") (i32.const 11))
(assert_return (invoke "deep" (i32.const 2000)) (i32.const 7))
(assert_return (invoke "locals-survive" (i32.const 5)) (i32.const 1013))
(assert_return (invoke "keep" (i32.const 21)))
(assert_return (invoke "rethrow-kept" (i32.const 1)) (i32.const 21))
(assert_return (invoke "rethrow-kept" (i32.const 0)) (i32.const 21))
(assert_return (invoke "nested" (i32.const 4)) (i32.const 4))
(assert_return (invoke "loop" (i32.const 1000000)) (i32.const 1000000))
(assert_exception (invoke "return-call-escapes"))
(assert_exception (invoke "uncaught"))
(assert_return (invoke "nested" (i32.const 9)) (i32.const 9))

;; A throw of a null exnref traps.
(module
  (func (export "null") (throw_ref (ref.null exn)))
)
(assert_trap (invoke "null") "null exception reference")

;; A tag import of the wrong type does not link.
(assert_unlinkable
  (module (import "lib" "n" (tag (param i64))))
  "incompatible import type")
