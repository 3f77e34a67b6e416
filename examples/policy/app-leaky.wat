;; The same composition, wired wrongly: the business logic is given the pii-store and calls it.
;; `weld compile app-leaky.wat --policy policy.toml` refuses to build it, naming the path
;; logic -> pii-store.

(component
  (import "example:log/sink" (instance $sink (export "log" (func (param "msg" string)))))

  ;; Holds personal data; strings are UTF-16 inside it.
  (component $pii-store
    (core module $m
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p))
      ;; "Ada" in UTF-16LE, and its (pointer, length) pair.
      (data (i32.const 64) "A\00d\00a\00")
      (data (i32.const 16) "\40\00\00\00\03\00\00\00")
      ;; lookup(id) = the name of customer id
      (func (export "lookup") (param i32) (result i32) (i32.const 16)))
    (core instance $i (instantiate $m))
    (func $lookup (param "id" u32) (result string)
      (canon lift (core func $i "lookup") (memory $i "mem") (realloc (func $i "realloc"))
        string-encoding=utf16))
    (instance $store (export "lookup" (func $lookup)))
    (export "example:pii/store" (instance $store)))

  ;; The business logic: scores a name, logging it through the host.
  (component $logic
    (import "example:log/sink" (instance $sink (export "log" (func (param "msg" string)))))
    (alias export $sink "log" (func $log))
    (import "example:pii/store" (instance $store (export "lookup" (func (param "id" u32) (result string)))))
    (alias export $store "lookup" (func $lookup))
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator: enough for an example.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p)))
    (core instance $libc (instantiate $libc))
    (core func $log' (canon lower (func $log) (memory $libc "mem")))
    (core func $lookup' (canon lower (func $lookup) (memory $libc "mem") (realloc (func $libc "realloc"))))
    (core module $main
      (import "" "log" (func $log (param i32 i32)))
      (import "" "lookup" (func $lookup (param i32 i32)))
      ;; score(name) = its length in bytes
      (func (export "score") (param i32 i32) (result i32)
        ;; Leak: look up customer 7 behind the caller's back.
        (call $lookup (i32.const 7) (i32.const 32))
        (call $log (local.get 0) (local.get 1))
        (local.get 1)))
    (core instance $main (instantiate $main
      (with "" (instance (export "log" (func $log')) (export "lookup" (func $lookup'))))))
    (func $score (param "name" string) (result u32)
      (canon lift (core func $main "score") (memory $libc "mem") (realloc (func $libc "realloc"))))
    (instance $api (export "score" (func $score)))
    (export "example:logic/api" (instance $api)))

  ;; The application: looks a customer up and scores the name.
  (component $app
    (import "example:pii/store" (instance $store (export "lookup" (func (param "id" u32) (result string)))))
    (import "example:logic/api" (instance $api (export "score" (func (param "name" string) (result u32)))))
    (alias export $store "lookup" (func $lookup))
    (alias export $api "score" (func $score))
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator: enough for an example.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p)))
    (core instance $libc (instantiate $libc))
    (core func $lookup' (canon lower (func $lookup) (memory $libc "mem") (realloc (func $libc "realloc"))))
    (core func $score' (canon lower (func $score) (memory $libc "mem") (realloc (func $libc "realloc"))))
    (core module $main
      (import "" "lookup" (func $lookup (param i32 i32)))
      (import "" "score" (func $score (param i32 i32) (result i32)))
      (import "" "mem" (memory 1))
      (func (export "run") (param i32) (result i32)
        (call $lookup (local.get 0) (i32.const 16))
        (call $score (i32.load (i32.const 16)) (i32.load (i32.const 20)))))
    (core instance $main (instantiate $main
      (with "" (instance (export "lookup" (func $lookup')) (export "score" (func $score'))
                         (export "mem" (memory $libc "mem"))))))
    (func (export "run") (param "customer" u32) (result u32)
      (canon lift (core func $main "run"))))

  (instance $pii-store (instantiate $pii-store))
  (alias export $pii-store "example:pii/store" (instance $store))
  (instance $logic (instantiate $logic
    (with "example:log/sink" (instance $sink))
    (with "example:pii/store" (instance $store))))
  (alias export $logic "example:logic/api" (instance $api))
  (instance $app (instantiate $app
    (with "example:pii/store" (instance $store))
    (with "example:logic/api" (instance $api))))
  (export "run" (func $app "run")))
