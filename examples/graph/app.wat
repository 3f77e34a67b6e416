;; Three components composed into one graph, as a C program split into libraries would be: an
;; app, a text library and a character classifier. app calls textlib and chars, textlib calls
;; chars (passing strings: UTF-8 in the callers, UTF-16 in chars), and all three import WASI 0.2
;; interfaces from the host. `weld inspect app.wat -o graph.svg` draws it (README, "Seeing and
;; checking the component graph"); compiler/tests/inspect_golden.rs checks the picture.
(component
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (export "now" (func (result u64)))
    (export "resolution" (func (result u64)))))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:random/insecure@0.2.0" (instance $insecure
    (export "get-insecure-random-u64" (func (result u64)))))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))

  ;; Classifies characters; its strings are UTF-16.
  (component $chars
    (import "wasi:random/random@0.2.0" (instance $random
      (export "get-random-u64" (func (result u64)))))
    (alias export $random "get-random-u64" (func $rnd))
    (core func $rnd' (canon lower (func $rnd)))
    (core module $m
      (import "wasi" "rnd" (func (result i64)))
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p))
      (func (export "is-letter") (param i32) (result i32)
        (i32.lt_u (i32.sub (i32.or (local.get 0) (i32.const 32)) (i32.const 97)) (i32.const 26)))
      (func (export "count-letters") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m (with "wasi" (instance (export "rnd" (func $rnd'))))))
    (func $is-letter (param "c" char) (result bool) (canon lift (core func $i "is-letter")))
    (func $count (param "s" string) (result u32)
      (canon lift (core func $i "count-letters") (memory $i "mem") (realloc (func $i "realloc"))
        string-encoding=utf16))
    (instance $classify (export "is-letter" (func $is-letter)) (export "count-letters" (func $count)))
    (export "example:chars/classify" (instance $classify)))

  ;; Text operations, built on the classifier.
  (component $textlib
    (import "example:chars/classify" (instance $classify
      (export "is-letter" (func (param "c" char) (result bool)))
      (export "count-letters" (func (param "s" string) (result u32)))))
    (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
      (export "now" (func (result u64)))))
    (alias export $classify "is-letter" (func $is-letter))
    (alias export $classify "count-letters" (func $count))
    (alias export $clock "now" (func $now))
    (core module $libc (memory (export "mem") 1))
    (core instance $libc (instantiate $libc))
    (core func $is-letter' (canon lower (func $is-letter)))
    (core func $count' (canon lower (func $count) (memory $libc "mem")))
    (core func $now' (canon lower (func $now)))
    (core module $m
      (import "" "is-letter" (func $is-letter (param i32) (result i32)))
      (import "" "count" (func $count (param i32 i32) (result i32)))
      (import "" "now" (func (result i64)))
      (func (export "word-count") (param i32) (result i32)
        (call $is-letter (local.get 0)))
      (func (export "letters") (param i32) (result i32)
        (call $count (i32.const 0) (local.get 0))))
    (core instance $i (instantiate $m (with "" (instance
      (export "is-letter" (func $is-letter')) (export "count" (func $count'))
      (export "now" (func $now'))))))
    (func $word-count (param "n" u32) (result u32) (canon lift (core func $i "word-count")))
    (func $letters (param "n" u32) (result u32) (canon lift (core func $i "letters")))
    (instance $transform (export "word-count" (func $word-count)) (export "letters" (func $letters)))
    (export "example:text/transform" (instance $transform)))

  ;; The program: uses both libraries, the clocks, randomness and exit.
  (component $app
    (import "example:text/transform" (instance $transform
      (export "word-count" (func (param "n" u32) (result u32)))
      (export "letters" (func (param "n" u32) (result u32)))))
    (import "example:chars/classify" (instance $classify
      (export "is-letter" (func (param "c" char) (result bool)))))
    (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
      (export "now" (func (result u64)))
      (export "resolution" (func (result u64)))))
    (import "wasi:random/insecure@0.2.0" (instance $insecure
      (export "get-insecure-random-u64" (func (result u64)))))
    (import "wasi:cli/exit@0.2.0" (instance $exit
      (export "exit" (func (param "status" (result))))))
    (alias export $transform "word-count" (func $wc))
    (alias export $transform "letters" (func $letters))
    (alias export $classify "is-letter" (func $is-letter))
    (alias export $clock "now" (func $now))
    (alias export $clock "resolution" (func $res))
    (alias export $insecure "get-insecure-random-u64" (func $rnd))
    (alias export $exit "exit" (func $exit-f))
    (core func $wc' (canon lower (func $wc)))
    (core func $letters' (canon lower (func $letters)))
    (core func $is-letter' (canon lower (func $is-letter)))
    (core func $now' (canon lower (func $now)))
    (core func $res' (canon lower (func $res)))
    (core func $rnd' (canon lower (func $rnd)))
    (core func $exit' (canon lower (func $exit-f)))
    (core module $m
      (import "" "wc" (func $wc (param i32) (result i32)))
      (import "" "letters" (func (param i32) (result i32)))
      (import "" "is-letter" (func (param i32) (result i32)))
      (import "" "now" (func (result i64)))
      (import "" "res" (func (result i64)))
      (import "" "rnd" (func (result i64)))
      (import "" "exit" (func (param i32)))
      (func (export "run") (result i32) (call $wc (i32.const 3))))
    (core instance $i (instantiate $m (with "" (instance
      (export "wc" (func $wc')) (export "letters" (func $letters'))
      (export "is-letter" (func $is-letter')) (export "now" (func $now'))
      (export "res" (func $res')) (export "rnd" (func $rnd')) (export "exit" (func $exit'))))))
    (func (export "run") (result u32) (canon lift (core func $i "run"))))

  (instance $chars (instantiate $chars (with "wasi:random/random@0.2.0" (instance $random))))
  (alias export $chars "example:chars/classify" (instance $classify))
  (instance $textlib (instantiate $textlib
    (with "example:chars/classify" (instance $classify))
    (with "wasi:clocks/monotonic-clock@0.2.0" (instance $clock))))
  (alias export $textlib "example:text/transform" (instance $transform))
  (instance $app (instantiate $app
    (with "example:text/transform" (instance $transform))
    (with "example:chars/classify" (instance $classify))
    (with "wasi:clocks/monotonic-clock@0.2.0" (instance $clock))
    (with "wasi:random/insecure@0.2.0" (instance $insecure))
    (with "wasi:cli/exit@0.2.0" (instance $exit))))
  (alias export $app "run" (func $run))
  (export "run" (func $run)))
