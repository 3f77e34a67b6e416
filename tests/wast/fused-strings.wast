;; Fused calls with UTF-8 strings and scalars between two components (the runtime's Val-free
;; path): bytes arrive intact in the callee's memory, narrow integers, bools and chars are
;; converted as lifting then lowering says, and what the Canonical ABI rejects traps — invalid
;; or truncated UTF-8 and invalid chars from the caller, before the callee runs.

(component definition $pair
  (component $callee
    (core module $m
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (global $calls (mut i32) (i32.const 0))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      ;; The string's length plus the sum of its bytes, plus each scalar as received.
      (func (export "mix") (param $tag i32) (param $p i32) (param $n i32) (param $flag i32)
                           (param $c i32) (result i64)
        (local $sum i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (local.set $sum (local.get $n))
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (i64.or
          (i64.shl (i64.extend_i32_u (local.get $sum)) (i64.const 32))
          (i64.extend_i32_u
            (i32.add (i32.add (i32.mul (local.get $tag) (i32.const 1000)) (local.get $flag))
                     (local.get $c)))))
      (func (export "calls") (result i32) (global.get $calls)))
    (core instance $i (instantiate $m))
    (func (export "mix") (param "tag" s8) (param "s" string) (param "flag" bool)
                         (param "c" char) (result u64)
      (canon lift (core func $i "mix") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "calls") (result u32) (canon lift (core func $i "calls"))))
  (component $caller
    (import "mix" (func $mix (param "tag" s8) (param "s" string) (param "flag" bool)
                             (param "c" char) (result u64)))
    (import "calls" (func $calls (result u32)))
    (core module $libc (memory (export "mem") 1))
    (core instance $libc (instantiate $libc))
    (core func $mix' (canon lower (func $mix) (memory $libc "mem")))
    (core func $calls' (canon lower (func $calls)))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "mix" (func $mix (param i32 i32 i32 i32 i32) (result i64)))
      (import "" "calls" (func $calls (result i32)))
      (data (i32.const 16) "abc")
      (data (i32.const 32) "h\c3\a9!")
      (data (i32.const 48) "a\ff")
      (data (i32.const 64) "a\e2\82")
      (func (export "ascii") (result i64)
        (call $mix (i32.const 1) (i32.const 16) (i32.const 3) (i32.const 1) (i32.const 65)))
      (func (export "two-byte") (result i64)
        (call $mix (i32.const 2) (i32.const 32) (i32.const 4) (i32.const 0) (i32.const 0x20ac)))
      (func (export "empty") (result i64)
        (call $mix (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
      ;; s8 from 0x1ff: -1; bool from 7: 1.
      (func (export "wide") (result i64)
        (call $mix (i32.const 0x1ff) (i32.const 16) (i32.const 1) (i32.const 7) (i32.const 0)))
      (func (export "invalid") (result i64)
        (call $mix (i32.const 0) (i32.const 48) (i32.const 2) (i32.const 0) (i32.const 0)))
      (func (export "truncated") (result i64)
        (call $mix (i32.const 0) (i32.const 64) (i32.const 3) (i32.const 0) (i32.const 0)))
      (func (export "surrogate") (result i64)
        (call $mix (i32.const 0) (i32.const 16) (i32.const 3) (i32.const 0) (i32.const 0xd800)))
      (func (export "calls") (result i32) (call $calls)))
    (core instance $m (instantiate $m
      (with "libc" (instance $libc))
      (with "" (instance (export "mix" (func $mix')) (export "calls" (func $calls'))))))
    (func (export "ascii") (result u64) (canon lift (core func $m "ascii")))
    (func (export "two-byte") (result u64) (canon lift (core func $m "two-byte")))
    (func (export "empty") (result u64) (canon lift (core func $m "empty")))
    (func (export "wide") (result u64) (canon lift (core func $m "wide")))
    (func (export "invalid") (result u64) (canon lift (core func $m "invalid")))
    (func (export "truncated") (result u64) (canon lift (core func $m "truncated")))
    (func (export "surrogate") (result u64) (canon lift (core func $m "surrogate")))
    (func (export "calls") (result u32) (canon lift (core func $m "calls"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller
    (with "mix" (func $callee "mix")) (with "calls" (func $callee "calls"))))
  (export "ascii" (func $caller "ascii"))
  (export "two-byte" (func $caller "two-byte"))
  (export "empty" (func $caller "empty"))
  (export "wide" (func $caller "wide"))
  (export "invalid" (func $caller "invalid"))
  (export "truncated" (func $caller "truncated"))
  (export "surrogate" (func $caller "surrogate"))
  (export "calls" (func $caller "calls")))

(component instance $ok $pair)
;; "abc": length 3 + 97+98+99 = 297; tag 1, flag 1, 'A' 65: 1066.
(assert_return (invoke "ascii") (u64.const 0x000001290000042a))
;; "hé!": 4 bytes + 104+195+169+33 = 505; tag 2, flag 0, '€' 0x20ac = 8364: 10364.
(assert_return (invoke "two-byte") (u64.const 0x000001f90000287c))
(assert_return (invoke "empty") (u64.const 3000))
;; "a": 1 + 97 = 98; tag -1: -1000 + 1 + 0 = -999 as u32.
(assert_return (invoke "wide") (u64.const 0x00000062fffffc19))
(assert_return (invoke "calls") (u32.const 4))

;; Rejected before the callee runs (each trap leaves the instance unusable: a fresh one each).
(component instance $bad1 $pair)
(assert_trap (invoke "invalid") "invalid utf-8")
(component instance $bad2 $pair)
(assert_trap (invoke "truncated") "incomplete utf-8 byte sequence")
(component instance $bad3 $pair)
(assert_trap (invoke "surrogate") "invalid `char` bit pattern")
(component instance $after $pair)
(assert_return (invoke "calls") (u32.const 0))
