;;! bounds_checks = "guard"
;; memory.grow is a libcall: its address is loaded from the libcall table that the vmctx points
;; to, and it is called with the vmctx, the memory index and the page delta (zero-extended);
;; the i64 result is narrowed back to the i32 that wasm sees.
(module
  (memory 1 10)
  (func (param i32) (result i32)
    local.get 0
    memory.grow))

;; function u0:0(i64 vmctx, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly gv0+8
;;     gv2 = load.i64 notrap aligned gv1
;;     sig0 = (i64, i32, i64) -> i64 system_v
;;     stack_limit = gv2
;; block0(v0: i64, v1: i32):
;;     v8 = get_frame_pointer.i64
;;     v7 = load.i64 notrap aligned readonly can_move v0+8
;;     store notrap aligned v8, v7+8
;;     v4 = iconst.i32 0
;;     store notrap aligned v4, v7+16  ; v4 = 0
;;     v5 = load.i64 notrap aligned readonly can_move v0
;;     v6 = load.i64 notrap aligned readonly can_move v5
;;     v3 = uextend.i64 v1
;;     v10 = call_indirect sig0, v6(v0, v4, v3)  ; v4 = 0
;;     jump block1
;; block1:
;;     v11 = ireduce.i32 v10
;;     return v11
;; }
