;;! bounds_checks = "guard"
;; br_table to blocks and a loop that take parameters: the targets receive the value as a block
;; argument (the loop header also the SSA value of local 1); $inner's parameter, which only
;; ever receives one value, is folded away by the mid-end.
(module
  (func (param i32 i32) (result i32)
    local.get 0
    (block $outer (param i32) (result i32)
      (loop $l (param i32) (result i32)
        (block $inner (param i32) (result i32)
          i32.const 1
          i32.add
          local.get 1
          i32.const 1
          i32.sub
          local.tee 1
          br_table $inner $l $outer $outer)
        i32.const 7
        i32.mul))))

;; function u0:0(i64 vmctx, i32, i32) -> i32 tail {
;;     gv0 = vmctx
;;     gv1 = load.i64 notrap aligned readonly gv0+8
;;     gv2 = load.i64 notrap aligned gv1
;;     stack_limit = gv2
;; block0(v0: i64, v1: i32, v2: i32):
;;     v8 = iconst.i32 1
;;     jump block3(v1, v2)
;; block3(v5: i32, v10: i32):
;;     v15 = iconst.i32 1
;;     v16 = isub v10, v15  ; v15 = 1
;;     v17 = iadd v5, v15  ; v15 = 1
;;     br_table v16, block2(v17), [block5, block3(v17, v16), block2(v17)]
;; block5:
;;     jump block4
;; block4:
;;     v13 = iconst.i32 7
;;     v14 = imul.i32 v17, v13  ; v13 = 7
;;     jump block2(v14)
;; block2(v4: i32):
;;     jump block1(v4)
;; block1(v3: i32):
;;     return v3
;; }
