;;! bounds_checks = "guard"
;; With a guard region (4 GiB reserve + guard) a 32-bit address plus a small static offset
;; cannot leave the reservation: the load is a plain `load` from the heap base, no compare.
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
;;     v6 = load.i64 notrap aligned readonly can_move v5
;;     v3 = uextend.i64 v1
;;     v7 = iadd v6, v3
;;     v8 = load.i32 little v7+4
;;     jump block1
;; block1:
;;     return v8
;; }
