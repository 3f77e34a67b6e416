;; A throw → catch round trip across ten frames, a million times: `_start` opens a try_table,
;; calls $f10, which calls down to $f1, which throws the loop counter; the catch adds the
;; payload to a sum. Prints the count and the sum (n(n-1)/2), so a run can be checked.
;; A wasm32-wasip1 command; `bench/wasm3/throw-catch` times it, `compiler/tests/wasm3_programs.rs`
;; checks its output. Built with `wasm-tools parse` (tests/programs/Makefile).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (tag $e (param i32))
  (global $depth_work (mut i32) (i32.const 0))

  (func $f1 (param i32) (throw $e (local.get 0)))
  (func $f2 (param i32) (global.set $depth_work (i32.add (global.get $depth_work) (i32.const 1))) (call $f1 (local.get 0)))
  (func $f3 (param i32) (call $f2 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f4 (param i32) (call $f3 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f5 (param i32) (call $f4 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f6 (param i32) (call $f5 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f7 (param i32) (call $f6 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f8 (param i32) (call $f7 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f9 (param i32) (call $f8 (local.get 0)) (global.set $depth_work (i32.const 0)))
  (func $f10 (param i32) (call $f9 (local.get 0)) (global.set $depth_work (i32.const 0)))

  ;; Write `v` in decimal ending at `end` (exclusive); returns where the digits start.
  (func $utoa (param $v i64) (param $end i32) (result i32)
    (loop $l
      (local.set $end (i32.sub (local.get $end) (i32.const 1)))
      (i64.store8 (local.get $end) (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10))))
      (br_if $l (i64.ne (local.tee $v (i64.div_u (local.get $v) (i64.const 10))) (i64.const 0))))
    (local.get $end))

  ;; Print "<label><v>\n": the label (at 100 or 120) is copied before the digits, built below 300.
  (func $print (param $label i32) (param $len i32) (param $v i64)
    (local $start i32)
    (i32.store8 (i32.const 300) (i32.const 10))
    (local.set $start (call $utoa (local.get $v) (i32.const 300)))
    ;; One buffer (a WASI write may take only the first of several iovecs).
    (local.set $start (i32.sub (local.get $start) (local.get $len)))
    (memory.copy (local.get $start) (local.get $label) (local.get $len))
    (i32.store (i32.const 0) (local.get $start))
    (i32.store (i32.const 4) (i32.sub (i32.const 301) (local.get $start)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))

  (data (i32.const 100) "round trips: ")
  (data (i32.const 120) "payload sum: ")

  (func (export "_start")
    (local $i i32) (local $sum i64)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h) (call $f10 (local.get $i)))
        (unreachable))
      (local.set $sum (i64.add (i64.extend_i32_u) (local.get $sum)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1000000))))
    (call $print (i32.const 100) (i32.const 13) (i64.extend_i32_u (local.get $i)))
    (call $print (i32.const 120) (i32.const 13) (local.get $sum)))
)
