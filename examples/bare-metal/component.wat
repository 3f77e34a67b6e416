;; The component the bare-metal image runs: `fib` (loops), `checksum` (memory), `records`
;; (a list of records with strings passed to another component through a generated adapter)
;; and `div`, which traps on division by zero.
(component
  (type $d-rec (record (field "id" u32) (field "name" string)))
  (export $rec "rec" (type $d-rec))
  ;; `total` sums each record's id and name length.
  (component $names
    (type $d (record (field "id" u32) (field "name" string)))
    (import "rec" (type $rec (eq $d)))
    (core module $m
      (memory (export "mem") 1 1)
      (global $bump (mut i32) (i32.const 16))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (if (i32.gt_u (global.get $bump) (i32.const 65536)) (then unreachable))
        (local.get $p))
      (func (export "total") (param $p i32) (param $n i32) (result i32) (local $s i32)
        (block $w (loop $l
          (br_if $w (i32.eqz (local.get $n)))
          (local.set $s (i32.add (local.get $s)
            (i32.add (i32.load (local.get $p)) (i32.load offset=8 (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 12)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $l)))
        (local.get $s)))
    (core instance $i (instantiate $m))
    (func (export "total") (param "l" (list $rec)) (result u32)
      (canon lift (core func $i "total") (memory $i "mem") (realloc (func $i "realloc")))))
  (instance $names (instantiate $names (with "rec" (type $rec))))
  ;; `records(n)` builds n records {id: i, name: the first 1 + i % 4 bytes of "weld"} and
  ;; passes them to `total`; a sibling of `$names` (a component may not call into its own
  ;; children: that call might be recursive).
  (component $app
    (type $d (record (field "id" u32) (field "name" string)))
    (import "rec" (type $rec (eq $d)))
    (import "total" (func $total-import (param "l" (list $rec)) (result u32)))
    (core module $libc (memory (export "mem") 1 1))
    (core instance $libc (instantiate $libc))
    (core func $total (canon lower (func $total-import) (memory $libc "mem")))
    (core module $caller
      (import "libc" "mem" (memory 1 1))
      (import "" "total" (func $total (param i32 i32) (result i32)))
      (data (i32.const 0) "weld")
      (func (export "records") (param $n i32) (result i32) (local $i i32) (local $at i32)
        (if (i32.gt_u (local.get $n) (i32.const 4000)) (then unreachable))
        (block $w (loop $l
          (br_if $w (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $at (i32.add (i32.const 64) (i32.mul (local.get $i) (i32.const 12))))
          (i32.store (local.get $at) (local.get $i))
          (i32.store offset=4 (local.get $at) (i32.const 0))
          (i32.store offset=8 (local.get $at)
            (i32.add (i32.const 1) (i32.rem_u (local.get $i) (i32.const 4))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (call $total (i32.const 64) (local.get $n))))
    (core instance $caller (instantiate $caller
      (with "libc" (instance $libc))
      (with "" (instance (export "total" (func $total))))))
    (func (export "records") (param "n" u32) (result u32)
      (canon lift (core func $caller "records"))))
  (instance $app (instantiate $app (with "rec" (type $rec)) (with "total" (func $names "total"))))
  (export "records" (func $app "records"))
  (core module $m
    ;; Bare metal has no virtual memory: a memory is allocated at its maximum up front.
    (memory 1 1)
    (func (export "fib") (param i32) (result i64)
      (local $a i64) (local $b i64) (local $t i64)
      (local.set $b (i64.const 1))
      (block $done
        (loop $l
          (br_if $done (i32.eqz (local.get 0)))
          (local.set $t (i64.add (local.get $a) (local.get $b)))
          (local.set $a (local.get $b))
          (local.set $b (local.get $t))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br $l)))
      (local.get $a))
    ;; Fill n bytes with i*7 and sum them back.
    (func (export "checksum") (param $n i32) (result i32)
      (local $i i32) (local $s i32)
      (block $w (loop $l
        (br_if $w (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 7)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.set $i (i32.const 0))
      (block $r (loop $l
        (br_if $r (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.get $s))
    (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "fib") (param "n" u32) (result u64) (canon lift (core func $i "fib")))
  (func (export "checksum") (param "n" u32) (result u32) (canon lift (core func $i "checksum")))
  (func (export "div") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "div"))))
