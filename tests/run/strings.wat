(component
  (component $callee
    (core module $m
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p))
      (func (export "len") (param i32 i32) (result i32) local.get 1))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory $i "mem") (realloc (func $i "realloc")))))
  (component $caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $libc (memory (export "mem") 1))
    (core instance $libc (instantiate $libc))
    (core func $len_lowered (canon lower (func $len) (memory $libc "mem")))
    (core module $main
      (import "host" "len" (func $len (param i32 i32) (result i32)))
      (import "host" "mem" (memory 1))
      (data (i32.const 16) "hello world")
      (func (export "run") (result i32) (call $len (i32.const 16) (i32.const 11))))
    (core instance $main (instantiate $main
      (with "host" (instance (export "len" (func $len_lowered)) (export "mem" (memory $libc "mem"))))))
    (func (export "run") (result u32) (canon lift (core func $main "run"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller (with "len" (func $callee "len"))))
  (export "run" (func $caller "run"))
  (export "len" (func $callee "len")))
