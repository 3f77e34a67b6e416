;; A composed graph: a UTF-16 caller component and a Latin-1+UTF-16 caller component both call
;; into a UTF-8 callee component. Strings and a list of records cross between the two linear
;; memories through fused adapters, transcoded in both directions; each side allocates with its
;; own realloc.

(component
  (component $callee
    (core module $m
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator that is a real realloc: shrinking keeps the block, growing copies.
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
          (then (return (local.get $old))))
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (if (i32.ne (local.get $old) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
        (local.get $p))
      ;; echo(s) = s
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1))
        (i32.const 16))
      ;; oldest(people) = the person with the greatest age (12-byte records: name ptr, len, age)
      (func (export "oldest") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $best i32) (local $e i32)
        (local.set $best (local.get $p))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $e (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 12))))
            (if (i32.gt_u (i32.load offset=8 (local.get $e)) (i32.load offset=8 (local.get $best)))
              (then (local.set $best (local.get $e))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
        (memory.copy (i32.const 32) (local.get $best) (i32.const 12))
        (i32.const 32)))
    (core instance $i (instantiate $m))
    (type $person (record (field "name" string) (field "age" u32)))
    (export $person' "person" (type $person))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") (memory $i "mem") (realloc (func $i "realloc"))))
    (func (export "oldest") (param "people" (list $person')) (result $person')
      (canon lift (core func $i "oldest") (memory $i "mem") (realloc (func $i "realloc")))))

  (component $utf16-caller
    (type $p0 (record (field "name" string) (field "age" u32)))
    (import "person" (type $p (eq $p0)))
    (import "echo" (func $echo (param "s" string) (result string)))
    (import "oldest" (func $oldest (param "people" (list $p)) (result $p)))
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator that is a real realloc: shrinking keeps the block, growing copies.
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
          (then (return (local.get $old))))
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (if (i32.ne (local.get $old) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
        (local.get $p))
      ;; Three people, names in UTF-16LE: "Bob" 30, "Ada" 36, "Zoë" 25.
      (data (i32.const 100) "\c8\00\00\00\03\00\00\00\1e\00\00\00"
                            "\d0\00\00\00\03\00\00\00\24\00\00\00"
                            "\d8\00\00\00\03\00\00\00\19\00\00\00")
      (data (i32.const 200) "B\00o\00b\00\00\00A\00d\00a\00\00\00Z\00o\00\eb\00"))
    (core instance $libc (instantiate $libc))
    (core func $echo' (canon lower (func $echo) (memory $libc "mem") (realloc (func $libc "realloc"))
      string-encoding=utf16))
    (core func $oldest' (canon lower (func $oldest) (memory $libc "mem") (realloc (func $libc "realloc"))
      string-encoding=utf16))
    (core module $main
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (import "" "oldest" (func $oldest (param i32 i32 i32)))
      (import "" "mem" (memory 1))
      (func (export "run-echo") (param i32 i32) (result i32)
        (call $echo (local.get 0) (local.get 1) (i32.const 80))
        (i32.const 80))
      (func (export "run-oldest") (result i32)
        (call $oldest (i32.const 100) (i32.const 3) (i32.const 64))
        (i32.const 64))
      (func (export "run-oldest-age") (result i32)
        (call $oldest (i32.const 100) (i32.const 3) (i32.const 64))
        (i32.load (i32.const 72))))
    (core instance $main (instantiate $main
      (with "" (instance (export "echo" (func $echo')) (export "oldest" (func $oldest'))
                         (export "mem" (memory $libc "mem"))))))
    (func (export "run-echo") (param "s" string) (result string)
      (canon lift (core func $main "run-echo") (memory $libc "mem") (realloc (func $libc "realloc"))
        string-encoding=utf16))
    (func (export "run-oldest") (result string)
      (canon lift (core func $main "run-oldest") (memory $libc "mem") string-encoding=utf16))
    (func (export "run-oldest-age") (result u32)
      (canon lift (core func $main "run-oldest-age"))))

  (component $compact-caller
    (import "echo" (func $echo (param "s" string) (result string)))
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      ;; A bump allocator that is a real realloc: shrinking keeps the block, growing copies.
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $size) (local.get $old_size)))
          (then (return (local.get $old))))
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $bump (i32.add (local.get $p) (local.get $size)))
        (if (i32.ne (local.get $old) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
        (local.get $p)))
    (core instance $libc (instantiate $libc))
    (core func $echo' (canon lower (func $echo) (memory $libc "mem") (realloc (func $libc "realloc"))
      string-encoding=latin1+utf16))
    (core module $main
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (func (export "run-echo") (param i32 i32) (result i32)
        (call $echo (local.get 0) (local.get 1) (i32.const 80))
        (i32.const 80)))
    (core instance $main (instantiate $main (with "" (instance (export "echo" (func $echo'))))))
    (func (export "run-echo") (param "s" string) (result string)
      (canon lift (core func $main "run-echo") (memory $libc "mem") (realloc (func $libc "realloc"))
        string-encoding=latin1+utf16)))

  (instance $callee (instantiate $callee))
  (instance $a (instantiate $utf16-caller
    (with "person" (type $callee "person"))
    (with "echo" (func $callee "echo"))
    (with "oldest" (func $callee "oldest"))))
  (instance $b (instantiate $compact-caller (with "echo" (func $callee "echo"))))
  (export "utf16-echo" (func $a "run-echo"))
  (export "utf16-oldest" (func $a "run-oldest"))
  (export "utf16-oldest-age" (func $a "run-oldest-age"))
  (export "compact-echo" (func $b "run-echo")))

(assert_return (invoke "utf16-echo" (str.const "hello")) (str.const "hello"))
(assert_return (invoke "utf16-echo" (str.const "☃ snow, ö, ツ, 𝄞")) (str.const "☃ snow, ö, ツ, 𝄞"))
(assert_return (invoke "utf16-echo" (str.const "")) (str.const ""))
(assert_return (invoke "utf16-oldest") (str.const "Ada"))
(assert_return (invoke "utf16-oldest-age") (u32.const 36))
(assert_return (invoke "compact-echo" (str.const "latin-1 only: café")) (str.const "latin-1 only: café"))
(assert_return (invoke "compact-echo" (str.const "needs utf-16: ☃")) (str.const "needs utf-16: ☃"))
