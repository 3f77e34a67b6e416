;; Two threads of one task hand over to each other 100000 times with thread.suspend-then-resume
;; (compiler/tests/run_cli.rs): the hand-overs run one after another, so the stacks do not grow
;; with their number. `run` returns the number of round trips.
(component
  (core module $Table (table (export "t") 1 funcref))
  (core instance $table (instantiate $Table))
  (core module $m
    (import "" "t" (table 1 funcref))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "thread.index" (func $index (result i32)))
    (import "" "thread.new-indirect" (func $new (param i32 i32) (result i32)))
    (import "" "thread.suspend-then-resume" (func $switch (param i32) (result i32)))
    (global $main (mut i32) (i32.const 0))
    (global $trips (mut i32) (i32.const 0))
    (func $other (param i32)
      (loop $l
        (global.set $trips (i32.add (global.get $trips) (i32.const 1)))
        (drop (call $switch (global.get $main)))
        (br $l)))
    (elem (table 0) (i32.const 0) func $other)
    (func (export "run")
      (local $x i32) (local $n i32)
      (global.set $main (call $index))
      (local.set $x (call $new (i32.const 0) (i32.const 0)))
      (local.set $n (i32.const 100000))
      (loop $l
        (drop (call $switch (local.get $x)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (call $task.return (global.get $trips))))
  (core func $task.return (canon task.return (result u32)))
  (core func $index (canon thread.index))
  (core type $start (func (param i32)))
  (core func $new (canon thread.new-indirect $start (table $table "t")))
  (core func $switch (canon thread.suspend-then-resume))
  (core instance $i (instantiate $m (with "" (instance
    (export "t" (table $table "t"))
    (export "task.return" (func $task.return))
    (export "thread.index" (func $index))
    (export "thread.new-indirect" (func $new))
    (export "thread.suspend-then-resume" (func $switch))))))
  (func (export "run") async (result u32) (canon lift (core func $i "run") async)))
