;; A WASI preview1 program whose heap exists only once `_start` has set it up, like TinyGo's:
;; `malloc` returns null before that, and afterwards owns all memory up to the `memory.size`
;; that `_start` saw. The preview1 adapter allocates its stack and state through `malloc`, so it
;; must not do so before `_start` runs (it used to, on entering `wasi:cli/run#run`, and trapped
;; in `allocate_stack`). The program prints a line (the adapter's first call), fills 256 KiB of
;; fresh heap with 0xAA and prints another: both lines must appear.
(module $late_heap
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $brk (mut i32) (i32.const 0))
  (global $end (mut i32) (i32.const 0))
  (data (i32.const 16) "hello\n")
  (data (i32.const 32) "bye\n")
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (if (i32.eqz (global.get $end)) (then (return (i32.const 0))))
    (local.set $p (global.get $brk))
    (global.set $brk (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 15))
                              (i32.const -16)))
    (if (i32.gt_u (global.get $brk) (global.get $end))
      (then
        (if (i32.eq (memory.grow
                      (i32.add (i32.shr_u (i32.sub (global.get $brk) (global.get $end))
                                          (i32.const 16))
                               (i32.const 1)))
                    (i32.const -1))
          (then (return (i32.const 0))))
        (global.set $end (i32.mul (memory.size) (i32.const 65536)))))
    (local.get $p))
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $_start (export "_start")
    ;; The heap: from 4096 to the end of memory as it is now.
    (global.set $brk (i32.const 4096))
    (global.set $end (i32.mul (memory.size) (i32.const 65536)))
    (call $print (i32.const 16) (i32.const 6))
    (memory.fill (call $malloc (i32.const 262144)) (i32.const 0xAA) (i32.const 262144))
    (call $print (i32.const 32) (i32.const 4))))
