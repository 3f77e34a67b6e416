;; Resource handles cannot be forged or reused: dropping, reading or passing a handle index
;; that was never given out, was already dropped, or belongs to another resource type traps,
;; and the traps stay inside the instance that made them.

(component definition $res
  (type $r (resource (rep i32)))
  (type $s (resource (rep i32)))
  (core func $r.new (canon resource.new $r))
  (core func $r.rep (canon resource.rep $r))
  (core func $r.drop (canon resource.drop $r))
  (core func $s.new (canon resource.new $s))
  (core func $s.drop (canon resource.drop $s))
  (core module $m
    (import "" "r.new" (func $r.new (param i32) (result i32)))
    (import "" "r.rep" (func $r.rep (param i32) (result i32)))
    (import "" "r.drop" (func $r.drop (param i32)))
    (import "" "s.new" (func $s.new (param i32) (result i32)))
    (import "" "s.drop" (func $s.drop (param i32)))
    (func (export "round-trip") (result i32)
      (local $h i32) (local $rep i32)
      (local.set $h (call $r.new (i32.const 42)))
      (local.set $rep (call $r.rep (local.get $h)))
      (call $r.drop (local.get $h))
      (local.get $rep))
    (func (export "drop-forged") (call $r.drop (i32.const 77)))
    (func (export "rep-forged") (result i32) (call $r.rep (i32.const 0x7fffffff)))
    (func (export "double-drop")
      (local $h i32)
      (local.set $h (call $r.new (i32.const 1)))
      (call $r.drop (local.get $h))
      (call $r.drop (local.get $h)))
    (func (export "rep-after-drop") (result i32)
      (local $h i32)
      (local.set $h (call $r.new (i32.const 1)))
      (call $r.drop (local.get $h))
      (call $r.rep (local.get $h)))
    (func (export "wrong-type") (result i32)
      (call $r.rep (call $s.new (i32.const 5)))))
  (core instance $i (instantiate $m
    (with "" (instance
      (export "r.new" (func $r.new))
      (export "r.rep" (func $r.rep))
      (export "r.drop" (func $r.drop))
      (export "s.new" (func $s.new))
      (export "s.drop" (func $s.drop))))))
  (func (export "round-trip") (result u32) (canon lift (core func $i "round-trip")))
  (func (export "drop-forged") (canon lift (core func $i "drop-forged")))
  (func (export "rep-forged") (result u32) (canon lift (core func $i "rep-forged")))
  (func (export "double-drop") (canon lift (core func $i "double-drop")))
  (func (export "rep-after-drop") (result u32) (canon lift (core func $i "rep-after-drop")))
  (func (export "wrong-type") (result u32) (canon lift (core func $i "wrong-type"))))

(component instance $a $res)
(assert_return (invoke "round-trip") (u32.const 42))
(assert_trap (invoke "drop-forged") "unknown handle index")
(component instance $b $res)
(assert_trap (invoke "rep-forged") "unknown handle index")
(component instance $c $res)
(assert_trap (invoke "double-drop") "unknown handle index")
(component instance $d $res)
(assert_trap (invoke "rep-after-drop") "unknown handle index")
(component instance $e $res)
(assert_trap (invoke "wrong-type") "used with the wrong type")
(component instance $f $res)
(assert_return (invoke "round-trip") (u32.const 42))

;; A handle index passed to another component as own<R> must be one the caller holds.
(component definition $pass
  (component $owner
    (type $r (resource (rep i32)))
    (core func $r.rep (canon resource.rep $r))
    (core module $m
      (import "" "rep" (func $rep (param i32) (result i32)))
      (func (export "take") (param i32) (result i32) (call $rep (local.get 0))))
    (core instance $i (instantiate $m (with "" (instance (export "rep" (func $r.rep))))))
    (export $r' "r" (type $r))
    (func (export "take") (param "x" (own $r')) (result u32) (canon lift (core func $i "take"))))
  (instance $o (instantiate $owner))
  (component $user
    (import "r" (type $r (sub resource)))
    (import "take" (func $take (param "x" (own $r)) (result u32)))
    (core func $take' (canon lower (func $take)))
    (core module $m
      (import "" "take" (func $take (param i32) (result i32)))
      (func (export "forge") (result i32) (call $take (i32.const 5))))
    (core instance $i (instantiate $m (with "" (instance (export "take" (func $take'))))))
    (func (export "forge") (result u32) (canon lift (core func $i "forge"))))
  (instance $u (instantiate $user
    (with "r" (type $o "r"))
    (with "take" (func $o "take"))))
  (export "forge" (func $u "forge")))

(component instance $p $pass)
(assert_trap (invoke "forge") "unknown handle index")
