;; A command component that exits with status 42 through `wasi:cli/exit#exit-with-code`, the
;; only way to report a status other than 0 or 1 (preview1's proc_exit, and so every wasi-libc
;; program adapted with the preview1 adapter, can only say success or failure).
;; Under wasmtime, exit-with-code is an unstable interface: `wasmtime run -S cli-exit-with-code`.
(component
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (core func $exit_with_code (canon lower (func $exit "exit-with-code")))
  (core module $m
    (import "wasi" "exit-with-code" (func $exit_with_code (param i32)))
    (func (export "run") (result i32)
      (call $exit_with_code (i32.const 42))
      unreachable))
  (core instance $i (instantiate $m
    (with "wasi" (instance (export "exit-with-code" (func $exit_with_code))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run_instance (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run_instance)))
