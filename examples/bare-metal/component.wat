;; The component the bare-metal image runs: `fib` (loops), `checksum` (memory) and `div`, which
;; traps on division by zero.
(component
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
