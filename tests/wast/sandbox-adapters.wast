;; The sandbox at component boundaries: an adapter given pointers and lengths that leave the
;; caller's memory, overflow 32 bits, or are only valid in the callee's (bigger) memory must
;; trap, as must a callee whose realloc answers out of bounds or misaligned. After the traps a
;; fresh instance of the same component works.

(component definition $pair
  (component $callee
    (core module $m
      (memory (export "mem") 4)
      (global $next (mut i32) (i32.const 1024))
      (global $mode (mut i32) (i32.const 0))
      ;; mode 0: bump allocator; 1: out of bounds; 2: misaligned.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 0x3fffc))))
        (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 1027))))
        (local.set $p (global.get $next))
        (global.set $next (i32.add (local.get $p) (i32.add (local.get 3) (i32.const 8))))
        (i32.and (i32.add (local.get $p) (i32.const 7)) (i32.const -8)))
      (func (export "set-mode") (param i32) (global.set $mode (local.get 0)))
      (func (export "len") (param i32 i32) (result i32) (local.get 1))
      (func (export "sum") (param $p i32) (param $n i32) (result i32)
        (local $s i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
        (local.get $s)))
    (core instance $i (instantiate $m))
    (func (export "set-mode") (param "m" u32) (canon lift (core func $i "set-mode")))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "sum") (param "l" (list u32)) (result u32)
      (canon lift (core func $i "sum") (memory $i "mem") (realloc (func $i "realloc")))))
  (component $caller
    (import "set-mode" (func $set-mode (param "m" u32)))
    (import "len" (func $len (param "s" string) (result u32)))
    (import "sum" (func $sum (param "l" (list u32)) (result u32)))
    (core module $libc (memory (export "mem") 1))
    (core instance $libc (instantiate $libc))
    (core func $set-mode' (canon lower (func $set-mode)))
    (core func $len' (canon lower (func $len) (memory $libc "mem")))
    (core func $sum' (canon lower (func $sum) (memory $libc "mem")))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "set-mode" (func $set-mode (param i32)))
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (import "" "sum" (func $sum (param i32 i32) (result i32)))
      (data (i32.const 16) "hello")
      (data (i32.const 32) "\01\00\00\00\02\00\00\00\03\00\00\00")
      (func (export "ok-len") (result i32) (call $len (i32.const 16) (i32.const 5)))
      (func (export "ok-sum") (result i32) (call $sum (i32.const 32) (i32.const 3)))
      ;; Past the end of the caller's one page.
      (func (export "len-past-end") (result i32) (call $len (i32.const 65530) (i32.const 16)))
      ;; ptr + len wraps around 2^32.
      (func (export "len-wraps") (result i32) (call $len (i32.const -16) (i32.const 32)))
      ;; Valid only in the callee's four pages: the caller cannot reach them.
      (func (export "len-in-callee-memory") (result i32) (call $len (i32.const 131072) (i32.const 4)))
      ;; len * 4 overflows 32 bits (and would wrap to 4 bytes).
      (func (export "sum-overflows") (result i32) (call $sum (i32.const 32) (i32.const 0x40000001)))
      (func (export "sum-past-end") (result i32) (call $sum (i32.const 65532) (i32.const 2)))
      (func (export "sum-with-mode") (param i32) (result i32)
        (call $set-mode (local.get 0))
        (call $sum (i32.const 32) (i32.const 3))))
    (core instance $i (instantiate $m
      (with "libc" (instance $libc))
      (with "" (instance
        (export "set-mode" (func $set-mode'))
        (export "len" (func $len'))
        (export "sum" (func $sum'))))))
    (func (export "ok-len") (result u32) (canon lift (core func $i "ok-len")))
    (func (export "ok-sum") (result u32) (canon lift (core func $i "ok-sum")))
    (func (export "len-past-end") (result u32) (canon lift (core func $i "len-past-end")))
    (func (export "len-wraps") (result u32) (canon lift (core func $i "len-wraps")))
    (func (export "len-in-callee-memory") (result u32)
      (canon lift (core func $i "len-in-callee-memory")))
    (func (export "sum-overflows") (result u32) (canon lift (core func $i "sum-overflows")))
    (func (export "sum-past-end") (result u32) (canon lift (core func $i "sum-past-end")))
    (func (export "sum-with-mode") (param "m" u32) (result u32)
      (canon lift (core func $i "sum-with-mode"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller
    (with "set-mode" (func $callee "set-mode"))
    (with "len" (func $callee "len"))
    (with "sum" (func $callee "sum"))))
  (export "ok-len" (func $caller "ok-len"))
  (export "ok-sum" (func $caller "ok-sum"))
  (export "len-past-end" (func $caller "len-past-end"))
  (export "len-wraps" (func $caller "len-wraps"))
  (export "len-in-callee-memory" (func $caller "len-in-callee-memory"))
  (export "sum-overflows" (func $caller "sum-overflows"))
  (export "sum-past-end" (func $caller "sum-past-end"))
  (export "sum-with-mode" (func $caller "sum-with-mode")))

(component instance $a $pair)
(assert_return (invoke "ok-len") (u32.const 5))
(assert_return (invoke "ok-sum") (u32.const 6))
(assert_trap (invoke "len-past-end") "string content out-of-bounds")

(component instance $b $pair)
(assert_trap (invoke "len-wraps") "string content out-of-bounds")

(component instance $c $pair)
(assert_trap (invoke "len-in-callee-memory") "string content out-of-bounds")

(component instance $d $pair)
(assert_trap (invoke "sum-overflows") "list content out-of-bounds")

(component instance $e $pair)
(assert_trap (invoke "sum-past-end") "list content out-of-bounds")

(component instance $f $pair)
(assert_trap (invoke "sum-with-mode" (u32.const 1)) "list content out-of-bounds")

(component instance $g $pair)
(assert_trap (invoke "sum-with-mode" (u32.const 2)) "unaligned pointer")

;; Each trap left its own instance behind; a fresh one works.
(component instance $h $pair)
(assert_return (invoke "sum-with-mode" (u32.const 0)) (u32.const 6))
(assert_return (invoke "ok-len") (u32.const 5))
