;; An async plugin (host/tests/plugins.rs): `linger` returns at once and then waits on an
;; empty waitable set; `stuck` waits without returning; `patient` waits likewise but answers a
;; cancellation with `task.cancel`; `count` counts its calls.
(component
  (core module $m
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "waitable-set.new" (func $ws.new (result i32)))
    (import "" "task.cancel" (func $task.cancel))
    (global $calls (mut i32) (i32.const 0))
    (func (export "linger") (result i32)
      (call $task.return (i32.const 7))
      (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws.new) (i32.const 4))))
    (func (export "stuck") (result i32)
      (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws.new) (i32.const 4))))
    (func (export "never-cb") (param i32 i32 i32) (result i32) unreachable)
    (func (export "patient-cb") (param $code i32) (param i32 i32) (result i32)
      ;; TASK_CANCELLED (6) is the only event this task can get
      (if (i32.ne (local.get $code) (i32.const 6)) (then unreachable))
      (call $task.cancel)
      (i32.const 0 (; EXIT ;)))
    (func (export "count") (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (global.get $calls)))
  (core func $task.return (canon task.return (result u32)))
  (core func $ws.new (canon waitable-set.new))
  (core func $task.cancel (canon task.cancel))
  (core instance $i (instantiate $m (with "" (instance
    (export "task.return" (func $task.return))
    (export "waitable-set.new" (func $ws.new))
    (export "task.cancel" (func $task.cancel))))))
  (func (export "linger") async (result u32)
    (canon lift (core func $i "linger") async (callback (func $i "never-cb"))))
  (func (export "stuck") async (result u32)
    (canon lift (core func $i "stuck") async (callback (func $i "never-cb"))))
  (func (export "patient") async (result u32)
    (canon lift (core func $i "stuck") async (callback (func $i "patient-cb"))))
  (func (export "count") (result u32) (canon lift (core func $i "count"))))
