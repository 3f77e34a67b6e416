;; Two components composed in one: $lib (strings, lists of records, a record, a trap) and $app,
;; which imports $lib's `greet` (a fused component-to-component call: the string is copied
;; from $app's memory into $lib's and the result back) and the host's `stamp` (a string out
;; and a string back, which the host allocates and weld frees) and `log`.
(component
  (import "log" (func $log (param "msg" string)))
  (import "stamp" (func $stamp (param "msg" string) (result string)))

  (component $lib
    (core module $m
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator: never frees, grows memory when needed.
      (func $realloc (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (block $ok
          (br_if $ok (i32.le_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536))))
          (br_if $ok (i32.ne (memory.grow (i32.add (i32.const 1) (i32.shr_u
              (i32.sub (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
              (i32.const 16)))) (i32.const -1)))
          unreachable)
        (local.get $p))
      (data (i32.const 16) "Hello, ")
      ;; greet(name) = "Hello, " + name + "!"
      (func (export "greet") (param $p i32) (param $n i32) (result i32)
        (local $out i32) (local $ret i32)
        (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
          (i32.add (local.get $n) (i32.const 8))))
        (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
        (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $p) (local.get $n))
        (i32.store8 (i32.add (local.get $out) (i32.add (local.get $n) (i32.const 7))) (i32.const 33))
        (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
        (i32.store (local.get $ret) (local.get $out))
        (i32.store offset=4 (local.get $ret) (i32.add (local.get $n) (i32.const 8)))
        (local.get $ret))
      ;; summarize(items) = {count, total of qty, longest name (the first of the longest)}
      (func (export "summarize") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $e i32) (local $total i32) (local $best i32) (local $bestlen i32)
        (local $ret i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 12))))
          (local.set $total (i32.add (local.get $total) (i32.load offset=8 (local.get $e))))
          (if (i32.gt_u (i32.load offset=4 (local.get $e)) (local.get $bestlen))
            (then
              (local.set $best (i32.load (local.get $e)))
              (local.set $bestlen (i32.load offset=4 (local.get $e)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 16)))
        (i32.store (local.get $ret) (local.get $n))
        (i32.store offset=4 (local.get $ret) (local.get $total))
        (i32.store offset=8 (local.get $ret) (local.get $best))
        (i32.store offset=12 (local.get $ret) (local.get $bestlen))
        (local.get $ret))
      ;; scale(items, factor): every qty multiplied by factor (wrapping)
      (func (export "scale") (param $p i32) (param $n i32) (param $f i32) (result i32)
        (local $i i32) (local $e i32) (local $ret i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 12))))
          (i32.store offset=8 (local.get $e)
            (i32.mul (i32.load offset=8 (local.get $e)) (local.get $f)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.set $ret (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 8)))
        (i32.store (local.get $ret) (local.get $p))
        (i32.store offset=4 (local.get $ret) (local.get $n))
        (local.get $ret))
      ;; divide(n) = 1000 / n: traps for 0
      (func (export "divide") (param $n i32) (result i32)
        (i32.div_u (i32.const 1000) (local.get $n))))
    (core instance $i (instantiate $m))
    (type $item' (record (field "name" string) (field "qty" u32)))
    (export $item "item" (type $item'))
    (type $summary' (record (field "count" u32) (field "total" u32) (field "longest" string)))
    (export $summary "summary" (type $summary'))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $i "greet") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "summarize") (param "items" (list $item)) (result $summary)
      (canon lift (core func $i "summarize") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "scale") (param "items" (list $item)) (param "factor" u32) (result (list $item))
      (canon lift (core func $i "scale") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "divide") (param "n" u32) (result u32)
      (canon lift (core func $i "divide"))))

  (component $app
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "log" (func $log (param "msg" string)))
    (import "stamp" (func $stamp (param "msg" string) (result string)))
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (local.get $p)))
    (core instance $libc (instantiate $libc))
    (core func $greet_lowered (canon lower (func $greet) (memory $libc "mem") (realloc (func $libc "realloc"))))
    (core func $log_lowered (canon lower (func $log) (memory $libc "mem")))
    (core func $stamp_lowered (canon lower (func $stamp) (memory $libc "mem") (realloc (func $libc "realloc"))))
    (core module $main
      (import "host" "greet" (func $greet (param i32 i32 i32)))
      (import "host" "log" (func $log (param i32 i32)))
      (import "host" "stamp" (func $stamp (param i32 i32 i32)))
      (import "libc" "mem" (memory 1))
      ;; welcome(name): log(stamp(greet(name))); returns the stamped greeting's length
      (func (export "welcome") (param $p i32) (param $n i32) (result i32)
        (call $greet (local.get $p) (local.get $n) (i32.const 8))
        (call $stamp (i32.load (i32.const 8)) (i32.load (i32.const 12)) (i32.const 16))
        (call $log (i32.load (i32.const 16)) (i32.load (i32.const 20)))
        (i32.load (i32.const 20))))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "host" (instance (export "greet" (func $greet_lowered)) (export "log" (func $log_lowered))
                             (export "stamp" (func $stamp_lowered))))))
    (func (export "welcome") (param "name" string) (result u32)
      (canon lift (core func $main "welcome") (memory $libc "mem") (realloc (func $libc "realloc")))))

  (instance $lib (instantiate $lib))
  (instance $app (instantiate $app (with "greet" (func $lib "greet")) (with "log" (func $log))
                                   (with "stamp" (func $stamp))))
;; What the host sees: one interface, `example:shop/inventory`, with its named types, as a
  ;; WIT toolchain would export it (the ascribed instance type names `item` and `summary`, which
  ;; become `demo_example_shop_inventory_item_t` and `..._summary_t` in the C header).
  (type $inventory (instance
    (type $item' (record (field "name" string) (field "qty" u32)))
    (export "item" (type $item (eq $item')))
    (type $summary' (record (field "count" u32) (field "total" u32) (field "longest" string)))
    (export "summary" (type $summary (eq $summary')))
    (export "greet" (func (param "name" string) (result string)))
    (export "summarize" (func (param "items" (list $item)) (result $summary)))
    (export "scale" (func (param "items" (list $item)) (param "factor" u32) (result (list $item))))
    (export "divide" (func (param "n" u32) (result u32)))
    (export "welcome" (func (param "name" string) (result u32)))))
  (instance $exports
    (export "item" (type $lib "item"))
    (export "summary" (type $lib "summary"))
    (export "greet" (func $lib "greet"))
    (export "summarize" (func $lib "summarize"))
    (export "scale" (func $lib "scale"))
    (export "divide" (func $lib "divide"))
    (export "welcome" (func $app "welcome")))
  (export "example:shop/inventory" (instance $exports) (instance (type $inventory))))
