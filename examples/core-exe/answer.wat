;; `main` returns the process exit status: the sum 1 + 2 + ... + 8 = 36, plus 6.
(module
  (func (export "main") (result i32)
    (local $i i32) (local $sum i32)
    (local.set $i (i32.const 8))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $sum (i32.add (local.get $sum) (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.add (local.get $sum) (i32.const 6))))
