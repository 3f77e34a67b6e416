;; `_start` reads past the end of its one-page memory: the program prints
;; "trap: out of bounds memory access" and exits with status 134.
(module
  (memory 1)
  (func (export "_start")
    (drop (i32.load (i32.const 65536)))))
