;; Another plugin with another world (`greet` takes a number): the host must refuse it.
(component
  (core module $m (func (export "greet") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "greet") (param "n" u32) (result u32) (canon lift (core func $i "greet"))))
