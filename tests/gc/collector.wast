;; References that must survive many collections, held everywhere wasm can hold them:
;; globals, locals of deep frames, tables, struct fields, arrays of references, exception
;; payloads, passive element segments; next to i31 and host values that must come back
;; unchanged. Run with a small heap (WELD_GC_HEAP_LIMIT) so that the garbage forces
;; collections (compiler/tests/gc_collector.rs).
(module
  (type $node (struct (field $val i32) (field $next (ref null $node))))
  (type $refs (array (mut anyref)))
  (type $bytes (array (mut i8)))
  (type $big (array (mut i64)))
  (tag $boxed (param (ref $node)))

  (global $list (mut (ref null $node)) (ref.null $node))
  (global $kept (mut anyref) (ref.null any))
  (table $t 4 anyref)
  (elem $seg declare func)
  (elem $passive anyref (item (struct.new $node (i32.const 77) (ref.null $node))))

  ;; About `n` * 32 bytes of garbage.
  (func $churn (param $n i32)
    (local $i i32) (local $junk anyref)
    (loop $l
      (local.set $junk (struct.new $node (local.get $i) (ref.null $node)))
      (local.set $junk (array.new_default $bytes (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))

  ;; The list n-1 .. 0 in $list.
  (func (export "build") (param $n i32)
    (local $i i32)
    (loop $l
      (global.set $list (struct.new $node (local.get $i) (global.get $list)))
      (call $churn (i32.const 100))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))

  (func (export "sum") (result i32)
    (local $p (ref null $node)) (local $s i32)
    (local.set $p (global.get $list))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (local.get $p)))
        (local.set $s (i32.add (local.get $s) (struct.get $node $val (local.get $p))))
        (local.set $p (struct.get $node $next (local.get $p)))
        (br $l)))
    (local.get $s))

  ;; Each of `depth` frames keeps a node in a local while the frames below churn; back up,
  ;; each checks its own node: the sum of depth-1 .. 0 when every one survived.
  (func $deep (export "deep") (param $depth i32) (result i32)
    (local $mine (ref null $node))
    (if (i32.eqz (local.get $depth)) (then (call $churn (i32.const 20000)) (return (i32.const 0))))
    (local.set $mine (struct.new $node (local.get $depth) (ref.null $node)))
    (call $churn (i32.const 50))
    (i32.add
      (call $deep (i32.sub (local.get $depth) (i32.const 1)))
      (struct.get $node $val (local.get $mine))))

  ;; Table slots, an array of references with an i31 and a host value, a large array.
  (func (export "fill") (param $host externref)
    (local $a (ref $refs))
    (local.set $a (array.new_default $refs (i32.const 4)))
    (array.set $refs (local.get $a) (i32.const 0) (struct.new $node (i32.const 11) (ref.null $node)))
    (array.set $refs (local.get $a) (i32.const 1) (ref.i31 (i32.const 12)))
    (array.set $refs (local.get $a) (i32.const 2) (any.convert_extern (local.get $host)))
    (array.set $refs (local.get $a) (i32.const 3) (array.new $big (i64.const 13) (i32.const 100000)))
    (table.set $t (i32.const 0) (local.get $a))
    (table.set $t (i32.const 1) (struct.new $node (i32.const 14) (ref.null $node)))
    (global.set $kept (array.new $big (i64.const 15) (i32.const 70000)))
    (call $churn (i32.const 100000)))

  (func (export "check") (result i32)
    (local $a (ref $refs))
    (local.set $a (ref.cast (ref $refs) (table.get $t (i32.const 0))))
    (i32.add
      (i32.add
        (struct.get $node $val (ref.cast (ref $node) (array.get $refs (local.get $a) (i32.const 0))))
        (i31.get_u (ref.cast (ref i31) (array.get $refs (local.get $a) (i32.const 1)))))
      (i32.add
        (i32.wrap_i64 (array.get $big
          (ref.cast (ref $big) (array.get $refs (local.get $a) (i32.const 3))) (i32.const 99999)))
        (i32.add
          (struct.get $node $val (ref.cast (ref $node) (table.get $t (i32.const 1))))
          (i32.wrap_i64 (array.get $big (ref.cast (ref $big) (global.get $kept)) (i32.const 69999)))))))

  (func (export "host") (result externref)
    (extern.convert_any
      (array.get $refs (ref.cast (ref $refs) (table.get $t (i32.const 0))) (i32.const 2))))

  ;; A thrown node caught as an exnref, held while garbage piles up, thrown again.
  (func (export "exn") (result i32)
    (local $e exnref)
    (block $caught (result exnref)
      (try_table (catch_all_ref $caught)
        (throw $boxed (struct.new $node (i32.const 21) (ref.null $node))))
      (unreachable))
    (local.set $e)
    (call $churn (i32.const 100000))
    (block $again (result (ref $node))
      (try_table (catch $boxed $again) (throw_ref (local.get $e)))
      (unreachable))
    (struct.get $node $val))

  ;; Beyond the heap's limit (4 MiB in the test), and beyond what one object may be.
  (func (export "huge") (result i32)
    (array.len (array.new_default $big (i32.const 1000000))))
  (func (export "enormous") (result i32)
    (array.len (array.new_default $big (i32.const 0x7fffffff))))

  ;; An array made from the passive segment after collections.
  (func (export "segment") (result i32)
    (call $churn (i32.const 100000))
    (struct.get $node $val (ref.cast (ref $node)
      (array.get $refs (array.new_elem $refs $passive (i32.const 0) (i32.const 1)) (i32.const 0)))))
)

(invoke "build" (i32.const 1000))
(assert_return (invoke "sum") (i32.const 499500))
(assert_trap (invoke "huge") "GC heap out of memory")
(assert_trap (invoke "enormous") "allocation size too large")
(assert_return (invoke "sum") (i32.const 499500))
(assert_return (invoke "deep" (i32.const 300)) (i32.const 45150))
(invoke "fill" (ref.extern 42))
(assert_return (invoke "check") (i32.const 65))
(assert_return (invoke "host") (ref.extern 42))
(assert_return (invoke "exn") (i32.const 21))
(assert_return (invoke "segment") (i32.const 77))
(assert_return (invoke "sum") (i32.const 499500))
