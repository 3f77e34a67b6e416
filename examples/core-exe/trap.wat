;; `_start` calls a function that reads past the end of its one-page memory: the program
;; prints "trap: out of bounds memory access" and a wasm backtrace naming both functions, and
;; exits with status 134.
(module $trap
  (memory 1)
  (func $read_past_end
    (drop (i32.load (i32.const 65536))))
  (func $_start (export "_start")
    (call $read_past_end)))
