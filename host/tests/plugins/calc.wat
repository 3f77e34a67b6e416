;; A plugin with an import: `div` traps on division by zero; `add-and-log` reports its sum to
;; the host's `log` function before returning it; `throw` throws a wasm exception, caught inside
;; when its argument is 1, escaping to the component boundary (a trap) otherwise.
(component
  (import "log" (func $log (param "x" u32)))
  (core func $log' (canon lower (func $log)))
  (core module $m
    (import "host" "log" (func $log (param i32)))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
    (func (export "add-and-log") (param i32 i32) (result i32)
      (local $s i32)
      (local.set $s (i32.add (local.get 0) (local.get 1)))
      (call $log (local.get $s))
      (local.get $s))
    (tag $e (param i32))
    (func $raise (param i32) (throw $e (local.get 0)))
    (func (export "throw") (param i32) (result i32)
      (block $caught (result i32)
        (try_table (catch $e $caught)
          (if (i32.eq (local.get 0) (i32.const 1)) (then (call $raise (i32.const 10)))))
        (call $raise (local.get 0))
        (unreachable))))
  (core instance $i (instantiate $m (with "host" (instance (export "log" (func $log'))))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "div") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "div")))
  (func (export "add-and-log") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add-and-log")))
  (func (export "throw") (param "x" u32) (result u32) (canon lift (core func $i "throw"))))
