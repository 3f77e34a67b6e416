;; Fused calls that pass resource handles, through generated adapters: an own handle made by
;; the callee arrives in the caller's table; lent back as a borrow, the defining callee sees
;; its representation, and the loan ends with the call; given back as an own handle, it leaves
;; the caller's table, so using it again traps.

(component definition $handles
  (component $callee
    (type $r' (resource (rep i32)))
    (export $r "r" (type $r'))
    (core func $new (canon resource.new $r))
    (core func $rep (canon resource.rep $r))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      ;; A borrow of its own resource arrives as the representation itself.
      (func (export "peek") (param i32) (result i32) (local.get 0))
      (func (export "take") (param i32) (result i32) (call $rep (local.get 0))))
    (core instance $i (instantiate $m
      (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))))))
    (func (export "make") (param "x" u32) (result (own $r))
      (canon lift (core func $i "make")))
    (func (export "peek") (param "h" (borrow $r)) (result u32)
      (canon lift (core func $i "peek")))
    (func (export "take") (param "h" (own $r)) (result u32)
      (canon lift (core func $i "take"))))
  (instance $callee (instantiate $callee))
  (component $caller
    (import "r" (type $r (sub resource)))
    (import "make" (func $make (param "x" u32) (result (own $r))))
    (import "peek" (func $peek (param "h" (borrow $r)) (result u32)))
    (import "take" (func $take (param "h" (own $r)) (result u32)))
    (core func $make' (canon lower (func $make)))
    (core func $peek' (canon lower (func $peek)))
    (core func $take' (canon lower (func $take)))
    (core func $drop (canon resource.drop $r))
    (core module $m
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "peek" (func $peek (param i32) (result i32)))
      (import "" "take" (func $take (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "run") (result i32) (local $h i32) (local $sum i32)
        (local.set $h (call $make (i32.const 42)))
        (local.set $sum (i32.add (call $peek (local.get $h)) (call $peek (local.get $h))))
        (i32.add (local.get $sum) (call $take (local.get $h))))
      (func (export "reuse") (result i32) (local $h i32)
        (local.set $h (call $make (i32.const 7)))
        (drop (call $take (local.get $h)))
        (call $peek (local.get $h)))
      (func (export "drop-then-peek") (result i32) (local $h i32)
        (local.set $h (call $make (i32.const 9)))
        (call $drop (local.get $h))
        (call $peek (local.get $h))))
    (core instance $i (instantiate $m (with "" (instance
      (export "make" (func $make')) (export "peek" (func $peek'))
      (export "take" (func $take')) (export "drop" (func $drop))))))
    (func (export "run") (result u32) (canon lift (core func $i "run")))
    (func (export "reuse") (result u32) (canon lift (core func $i "reuse")))
    (func (export "drop-then-peek") (result u32) (canon lift (core func $i "drop-then-peek"))))
  (instance $caller (instantiate $caller
    (with "r" (type $callee "r"))
    (with "make" (func $callee "make"))
    (with "peek" (func $callee "peek"))
    (with "take" (func $callee "take"))))
  (export "run" (func $caller "run"))
  (export "reuse" (func $caller "reuse"))
  (export "drop-then-peek" (func $caller "drop-then-peek")))

(component instance $i $handles)
(assert_return (invoke "run") (u32.const 126))
(component instance $i $handles)
(assert_trap (invoke "reuse") "unknown handle index")
(component instance $i $handles)
(assert_trap (invoke "drop-then-peek") "unknown handle index")
