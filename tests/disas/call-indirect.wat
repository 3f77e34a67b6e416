;;! bounds_checks = "guard"
;; call_indirect: the index is checked against the table's length (user7, "undefined element"),
;; the entry against null (user8, "uninitialized element") and the callee's type id against the
;; module's id for $t (user6, "indirect call type mismatch"); then the code pointer and callee
;; vmctx are loaded from the funcref.
(module
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (func (param i32 i32) (result i32)
    local.get 0
    local.get 1
    call_indirect (type $t)))

;; function u0:0(i64 vmctx, i32, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly gv0+8
;;     gv2 = load.i64 notrap aligned gv1
;;     sig0 = (i64 vmctx, i32) -> i32 tail
;;     sig1 = (i64 vmctx, i32) -> i32 system_v
;;     stack_limit = gv2
;; block0(v0: i64, v1: i32, v2: i32):
;;     v4 = iconst.i64 32
;;     v5 = iadd v0, v4  ; v4 = 32
;;     v6 = load.i64 notrap aligned v5
;;     v7 = load.i64 notrap aligned v5+8
;;     v8 = uextend.i64 v2
;;     v9 = icmp uge v8, v7
;;     trapnz v9, user7
;;     v10 = iconst.i64 3
;;     v11 = ishl v8, v10  ; v10 = 3
;;     v12 = iadd v6, v11
;;     v13 = load.i64 notrap aligned v12
;;     trapz v13, user8
;;     v14 = load.i32 notrap aligned v13+16
;;     v15 = load.i32 notrap aligned readonly can_move v0+48
;;     v16 = icmp ne v14, v15
;;     trapnz v16, user6
;;     v17 = load.i64 notrap aligned v13
;;     v18 = load.i64 notrap aligned v13+8
;;     v19 = load.i32 notrap aligned v13+20
;;     brif v19, block4, block3
;; block3:
;;     v21 = call_indirect.i64 sig0, v17(v18, v1)
;;     jump block2(v21)
;; block4:
;;     v22 = call_indirect.i64 sig1, v17(v18, v1)
;;     jump block2(v22)
;; block2(v20: i32):
;;     jump block1(v20)
;; block1(v3: i32):
;;     return v3
;; }
