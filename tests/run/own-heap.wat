;; A WASI preview1 program whose allocator owns all memory up to `memory.size`, like
;; Emscripten's sbrk: malloc hands out [brk, brk + n) and grows memory only past its end. It
;; prints a line (the adapter's first call: it allocates its state), fills 256 KiB of fresh
;; heap with 0xAA and prints another. Both lines must appear: the adapter's state must not
;; sit where the program's heap will be. (The same module with `malloc` exported under
;; another name fails, under weld and under Wasmtime alike: "assertion failed at adapter
;; line 2857"; TinyGo programs fail that way too.)
(module $own_heap
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $brk (mut i32) (i32.const 4096))
  (data (i32.const 16) "hello\n")
  (data (i32.const 32) "bye\n")
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $brk))
    (global.set $brk (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 15))
                              (i32.const -16)))
    (if (i32.gt_u (global.get $brk) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow
                      (i32.add (i32.shr_u (i32.sub (global.get $brk)
                                                   (i32.mul (memory.size) (i32.const 65536)))
                                          (i32.const 16))
                               (i32.const 1)))
                    (i32.const -1))
          (then (return (i32.const 0))))))
    (local.get $p))
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $_start (export "_start")
    (call $print (i32.const 16) (i32.const 6))
    (memory.fill (call $malloc (i32.const 262144)) (i32.const 0xAA) (i32.const 262144))
    (call $print (i32.const 32) (i32.const 4))))
