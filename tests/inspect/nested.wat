;; Nesting and forwarding: `net` instantiates two unnamed `dialer`s inside it (named after their
;; definition, the second one `dialer#2`), which call the host's wasi:sockets; `mid` forwards
;; `top`'s calls to `net`. So `top` reaches wasi:sockets only transitively, through `mid`.
(component
  (import "wasi:sockets/tcp@0.2.0" (instance $tcp (export "connect" (func (param "port" u32) (result u32)))))
  (import "wasi:cli/stdout@0.2.0" (instance $out (export "print" (func (param "s" string)))))

  (component $net
    (import "wasi:sockets/tcp@0.2.0" (instance $tcp (export "connect" (func (param "port" u32) (result u32)))))
    (component $dialer
      (import "connect" (func $c (param "port" u32) (result u32)))
      (core func $c' (canon lower (func $c)))
      (core module $m
        (import "" "c" (func $c (param i32) (result i32)))
        (func (export "dial") (param i32) (result i32) (call $c (local.get 0))))
      (core instance $i (instantiate $m (with "" (instance (export "c" (func $c'))))))
      (func (export "dial") (param "port" u32) (result u32) (canon lift (core func $i "dial"))))
    (alias export $tcp "connect" (func $connect))
    (instance (instantiate $dialer (with "connect" (func $connect))))
    (instance (instantiate $dialer (with "connect" (func $connect))))
    (alias export 2 "dial" (func $dial))
    (export "dial" (func $dial)))

  (component $mid
    (import "dial" (func $d (param "port" u32) (result u32)))
    (core func $d' (canon lower (func $d)))
    (core module $m
      (import "" "d" (func $d (param i32) (result i32)))
      (func (export "fetch") (result i32) (call $d (i32.const 80))))
    (core instance $i (instantiate $m (with "" (instance (export "d" (func $d'))))))
    (func (export "fetch") (result u32) (canon lift (core func $i "fetch"))))

  (component $top
    (import "fetch" (func $f (result u32)))
    (import "print" (func $p (param "s" string)))
    (core module $libc (memory (export "mem") 1))
    (core instance $libc (instantiate $libc))
    (core func $f' (canon lower (func $f)))
    (core func $p' (canon lower (func $p) (memory $libc "mem") string-encoding=utf16))
    (core module $m
      (import "" "f" (func $f (result i32)))
      (import "" "p" (func $p (param i32 i32)))
      (func (export "run") (result i32) (call $p (i32.const 0) (i32.const 0)) (call $f)))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f')) (export "p" (func $p'))))))
    (func (export "run") (result u32) (canon lift (core func $i "run"))))

  (instance $net (instantiate $net (with "wasi:sockets/tcp@0.2.0" (instance $tcp))))
  (instance $mid (instantiate $mid (with "dial" (func $net "dial"))))
  (alias export $out "print" (func $print))
  (instance $top (instantiate $top (with "fetch" (func $mid "fetch")) (with "print" (func $print))))
  (export "run" (func $top "run")))
