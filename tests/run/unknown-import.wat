;; A command component that imports an interface no WASI host provides (`example:host/api`).
;; `wasi:cli/run` calls the import; `quiet` does not. Used by the missing-import tests.
(component
  (import "example:host/api" (instance $api (export "ping" (func))))
  (core module $m
    (import "api" "ping" (func $ping))
    (func $run (export "run") (result i32) (call $ping) (i32.const 0))
    (func $quiet (export "quiet") (result i32) (i32.const 7)))
  (core func $ping (canon lower (func $api "ping")))
  (core instance $api_core (export "ping" (func $ping)))
  (core instance $i (instantiate $m (with "api" (instance $api_core))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (func $quiet (result u32) (canon lift (core func $i "quiet")))
  (instance $run_inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run_inst))
  (export "quiet" (func $quiet)))
