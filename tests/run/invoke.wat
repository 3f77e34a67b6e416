;; The component of compiler/tests/run_cli.rs's `--invoke` naming and printing tests, also run
;; through `wasmtime run --invoke` where it is installed: an interface with a record, a string
;; full of characters WAVE escapes and a function without results; a second interface sharing
;; the function name `count` (so a bare `count` is ambiguous); a function of the component
;; itself.
(component
  (component $api
    (core module $m
      (memory (export "mem") 1)
      ;; it's "q" <LF> <TAB> é e+U+0301 <ESC> \ (17 bytes)
      (data (i32.const 64) "it's \"q\"\n\t\c3\a9e\cc\81\1b\\")
      (func (export "quote") (result i32)
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 17))
        (i32.const 0))
      ;; point(x) = {x, label: none}: x at 16, the option's discriminant at 20.
      (func (export "point") (param $x i32) (result i32)
        (i32.store (i32.const 16) (local.get $x))
        (i32.store8 (i32.const 20) (i32.const 0))
        (i32.const 16))
      (func (export "nothing"))
      (func (export "count") (result i32) (i32.const 7)))
    (core instance $i (instantiate $m))
    (type $point' (record (field "x" s32) (field "label" (option string))))
    (export $point "point" (type $point'))
    (func (export "quote") (result string)
      (canon lift (core func $i "quote") (memory $i "mem")))
    (func (export "make-point") (param "x" s32) (result $point)
      (canon lift (core func $i "point") (memory $i "mem")))
    (func (export "nothing") (canon lift (core func $i "nothing")))
    (func (export "count") (result u32) (canon lift (core func $i "count"))))
  (component $other
    (core module $m (func (export "count") (result i32) (i32.const 9)))
    (core instance $i (instantiate $m))
    (func (export "count") (result u32) (canon lift (core func $i "count"))))
  (core module $top
    (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
  (core instance $top (instantiate $top))
  (instance $api (instantiate $api))
  (instance $other (instantiate $other))
  (export "example:demo/api@0.1.0" (instance $api))
  (export "example:demo/other" (instance $other))
  (func (export "twice") (param "n" u32) (result u32) (canon lift (core func $top "twice"))))
