;;! bounds_checks = "explicit"
;; Explicit mode: the end of the access (address + offset + 4) is compared with the memory's
;; current length and out-of-bounds traps (`heap_oob`) before the load.
(module
  (memory 1)
  (func (param i32) (result i32)
    local.get 0
    i32.load offset=4))

;; function u0:0(i64 vmctx, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly gv0+8
;;     gv2 = load.i64 notrap aligned gv1
;;     stack_limit = gv2
;; block0(v0: i64, v1: i32):
;;     v4 = iconst.i64 32
;;     v5 = iadd v0, v4  ; v4 = 32
;;     v9 = load.i64 notrap aligned v5+8
;;     v3 = uextend.i64 v1
;;     v10 = iconst.i64 8
;;     v11 = iadd v3, v10  ; v10 = 8
;;     v12 = icmp ugt v11, v9
;;     trapnz v12, heap_oob
;;     v6 = load.i64 notrap aligned readonly can_move v5
;;     v13 = iadd v6, v3
;;     v14 = load.i32 little v13+4
;;     jump block1
;; block1:
;;     return v14
;; }
