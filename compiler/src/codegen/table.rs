//! Table and reference operators: `table.*`, `elem.drop`, `ref.null/is_null/func`, and the table
//! lookup `call_indirect` uses. Table elements are 8-byte words (see `weld_contract::vmctx`).
//! Indices and sizes of 64-bit tables (memory64) are i64 operands; the runtime's table libcalls
//! take 64-bit ones for every table.

use super::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::Operator;
use weld_contract::info::IndexType;
use weld_contract::libcall::Libcall;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx;

impl Translator<'_, '_> {
    /// Address of table `t`'s `VMTable`.
    fn vmtable(&mut self, t: u32) -> Value {
        let imported = self.env.info.imported_tables;
        if t < imported {
            let off = self.env.offsets.imported_table(t);
            self.load_vmctx_ro(off)
        } else {
            let off = self.env.offsets.defined_table(t - imported);
            self.b.ins().iadd_imm_s(self.vmctx, off as i64)
        }
    }

    /// Current base and length (in elements, as i64) of table `t`.
    pub(crate) fn table_base_len(&mut self, t: u32) -> (Value, Value) {
        let vt = self.vmtable(t);
        let base = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            vt,
            vmctx::TABLE_BASE as i32,
        );
        let len = self.b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            vt,
            vmctx::TABLE_LENGTH as i32,
        );
        (base, len)
    }

    /// The index type of table `t`.
    fn table_index_type(&self, t: u32) -> IndexType {
        self.env
            .info
            .table_types
            .get(t as usize)
            .map_or(IndexType::I32, |t| t.index)
    }

    /// Address of element `index` (i32 or i64) of table `t`, trapping when out of bounds.
    fn table_elem_addr(&mut self, t: u32, index: Value) -> Value {
        let (base, len) = self.table_base_len(t);
        let index = self.widen_index(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.trapnz(oob, TrapCode::TableOutOfBounds);
        let off = self.b.ins().ishl_imm_s(index, 3);
        self.b.ins().iadd(base, off)
    }

    /// Table and reference operators; `Ok(false)` if `op` is not one.
    pub(crate) fn table(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{I32, I64};
        use Operator::*;
        match *op {
            RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            RefIsNull => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
                let v = self.b.ins().uextend(I32, c);
                self.push(v);
            }
            RefFunc { function_index } => {
                let Some(slot) = self.env.info.funcref_slot(function_index) else {
                    return Err(self.unsupported("ref.func of an undeclared function"));
                };
                let off = self.env.offsets.funcref(slot);
                let v = self.b.ins().iadd_imm_s(self.vmctx, off as i64);
                self.push(v);
            }
            TableGet { table } => {
                let index = self.pop();
                let addr = self.table_elem_addr(table, index);
                let v = self.b.ins().load(I64, MemFlagsData::trusted(), addr, 0);
                let elem = self.env.info.table_types[table as usize].elem;
                self.declare_ref(v, elem);
                self.push(v);
            }
            TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_elem_addr(table, index);
                self.b.ins().store(MemFlagsData::trusted(), value, addr, 0);
            }
            TableSize { table } => {
                let (_, len) = self.table_base_len(table);
                let v = self.narrow_index(len, self.table_index_type(table));
                self.push(v);
            }
            TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.widen_index(delta);
                let t = self.b.ins().iconst(I32, table as i64);
                let r = self.libcall(Libcall::TableGrow, &[t, delta, init]);
                let r = self.narrow_index(r[0], self.table_index_type(table));
                self.push(r);
            }
            TableFill { table } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.widen_index(dst), self.widen_index(len));
                let t = self.b.ins().iconst(I32, table as i64);
                self.libcall(Libcall::TableFill, &[t, dst, val, len]);
            }
            TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (
                    self.widen_index(dst),
                    self.widen_index(src),
                    self.widen_index(len),
                );
                let d = self.b.ins().iconst(I32, dst_table as i64);
                let s = self.b.ins().iconst(I32, src_table as i64);
                self.libcall(Libcall::TableCopy, &[d, s, dst, src, len]);
            }
            TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_index(dst);
                let t = self.b.ins().iconst(I32, table as i64);
                let e = self.b.ins().iconst(I32, elem_index as i64);
                self.libcall(Libcall::TableInit, &[t, e, dst, src, len]);
            }
            ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(I32, elem_index as i64);
                self.libcall(Libcall::ElemDrop, &[e]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
