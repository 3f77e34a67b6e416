;; 64-bit memories and tables (Wasm 3.0's memory64) past the 4 GiB a 32-bit memory can reach:
;; addresses, sizes and growth as i64, bounds checked explicitly in both modes (no guard region
;; covers a 64-bit index), bulk operations across the 4 GiB line, and a 64-bit table.

(module
  (memory $m i64 1 98304)           ;; up to 6 GiB
  (memory $small 1)                 ;; a 32-bit memory beside it
  (table $t i64 2 10 funcref)
  (elem (table $t) (i64.const 1) func $forty_two)
  (type $r (func (result i32)))
  (func $forty_two (result i32) (i32.const 42))

  (func (export "grow") (param i64) (result i64) (memory.grow $m (local.get 0)))
  (func (export "size") (result i64) (memory.size $m))
  (func (export "store") (param i64 i64) (i64.store $m (local.get 0) (local.get 1)))
  (func (export "load") (param i64) (result i64) (i64.load $m (local.get 0)))
  ;; A static offset past 4 GiB.
  (func (export "load-far") (param i64) (result i32)
    (i32.load8_u $m offset=0x100000000 (local.get 0)))
  (func (export "load-max-offset") (param i64) (result i32)
    (i32.load $m offset=0xffffffffffffffff (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy $m $m (local.get 0) (local.get 1) (local.get 2)))
  ;; From the 64-bit memory into the 32-bit one: the length is an i32.
  (func (export "copy-to-small") (param i32 i64 i32) (memory.copy $small $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load-small") (param i32) (result i64) (i64.load $small (local.get 0)))
  (func (export "v128-far") (param i64) (result i64)
    (i64x2.extract_lane 1 (v128.load $m (local.get 0))))

  (func (export "table-size") (result i64) (table.size $t))
  (func (export "table-grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0)))
)

(assert_return (invoke "size") (i64.const 1))
;; To 5 GiB.
(assert_return (invoke "grow" (i64.const 81919)) (i64.const 1))
(assert_return (invoke "size") (i64.const 81920))
(assert_return (invoke "grow" (i64.const 16385)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1000000000000)) (i64.const -1))

;; 4.5 GiB and the last word below 5 GiB.
(assert_return (invoke "store" (i64.const 0x120000000) (i64.const 0x0123456789abcdef)))
(assert_return (invoke "load" (i64.const 0x120000000)) (i64.const 0x0123456789abcdef))
(assert_return (invoke "store" (i64.const 0x13ffffff8) (i64.const -2)))
(assert_return (invoke "load" (i64.const 0x13ffffff8)) (i64.const -2))
(assert_trap (invoke "load" (i64.const 0x13ffffff9)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const 0x140000000)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const -8)) "out of bounds memory access")
(assert_trap (invoke "load" (i64.const -1)) "out of bounds memory access")
(assert_return (invoke "load-far" (i64.const 0x20000000)) (i32.const 0xef))
(assert_trap (invoke "load-far" (i64.const 0x40000000)) "out of bounds memory access")
(assert_trap (invoke "load-max-offset" (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "load-max-offset" (i64.const 1)) "out of bounds memory access")

;; Bulk operations across the 4 GiB line.
(assert_return (invoke "fill" (i64.const 0xfffffff0) (i32.const 0x5a) (i64.const 32)))
(assert_return (invoke "load" (i64.const 0x100000008)) (i64.const 0x5a5a5a5a5a5a5a5a))
(assert_return (invoke "copy" (i64.const 0x130000000) (i64.const 0xfffffff8) (i64.const 16)))
(assert_return (invoke "load" (i64.const 0x130000008)) (i64.const 0x5a5a5a5a5a5a5a5a))
(assert_return (invoke "v128-far" (i64.const 0x130000000)) (i64.const 0x5a5a5a5a5a5a5a5a))
(assert_trap (invoke "fill" (i64.const 0x13ffffff0) (i32.const 0) (i64.const 17)) "out of bounds memory access")
(assert_trap (invoke "copy" (i64.const 0) (i64.const -1) (i64.const 2)) "out of bounds memory access")
(assert_return (invoke "copy-to-small" (i32.const 8) (i64.const 0x120000000) (i32.const 8)))
(assert_return (invoke "load-small" (i32.const 8)) (i64.const 0x0123456789abcdef))

;; The 64-bit table.
(assert_return (invoke "call" (i64.const 1)) (i32.const 42))
(assert_trap (invoke "call" (i64.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i64.const 0x100000001)) "undefined element")
(assert_return (invoke "table-grow" (i64.const 3)) (i64.const 2))
(assert_return (invoke "table-size") (i64.const 5))
(assert_return (invoke "table-grow" (i64.const 6)) (i64.const -1))

;; A 64-bit memory and a 32-bit one do not link to each other's imports.
(module $exporter (memory (export "m64") i64 1) (memory (export "m32") 1))
(register "exporter" $exporter)
(assert_unlinkable
  (module (import "exporter" "m64" (memory 1)))
  "incompatible import type")
(assert_unlinkable
  (module (import "exporter" "m32" (memory i64 1)))
  "incompatible import type")
(module (import "exporter" "m64" (memory i64 1)))
