//! GC objects in compiled code: `struct.*`, `array.*`, `ref.i31`, `i31.get_*`, `ref.eq` and the
//! conversions between `any` and `extern`.
//!
//! In: the operators, with the module's type section for field layouts. Out: inline loads and
//! stores at the offsets `weld_contract::gc` defines, allocation through the `gc_alloc`
//! libcall (objects arrive zeroed, header written), and the array built-ins that read
//! segments or move many elements through their libcalls. Null objects and out-of-range
//! indices trap with the spec's texts; casts are in `casts.rs`.

use super::clif_type;
use super::func::Translator;
use crate::error::Result;
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, MemFlagsData, Value};
use wasmparser::Operator;
use weld_contract::gc::{
    struct_header, struct_layout, FieldType, StorageType, ARRAY_LENGTH, LARGE_OBJECT,
    MAX_OBJECT_SIZE, OBJECT_ALIGN, OBJECT_HEADER,
};
use weld_contract::info::ValType;
use weld_contract::libcall::Libcall;
use weld_contract::trap::TrapCode;
use weld_contract::vmctx;

/// How a packed field is read: sign- or zero-extended (`None` for unpacked fields).
type Extend = Option<bool>;

impl Translator<'_, '_> {
    /// GC object operators; `Ok(false)` if `op` is not one.
    pub(crate) fn gc(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator::*;
        match *op {
            StructNew {
                struct_type_index: t,
            } => self.struct_new(t, false),
            StructNewDefault {
                struct_type_index: t,
            } => self.struct_new(t, true),
            StructGet {
                struct_type_index: t,
                field_index: f,
            } => self.struct_get(t, f, None),
            StructGetS {
                struct_type_index: t,
                field_index: f,
            } => self.struct_get(t, f, Some(true)),
            StructGetU {
                struct_type_index: t,
                field_index: f,
            } => self.struct_get(t, f, Some(false)),
            StructSet {
                struct_type_index: t,
                field_index: f,
            } => self.struct_set(t, f),
            ArrayNew {
                array_type_index: t,
            } => self.array_new(t, true),
            ArrayNewDefault {
                array_type_index: t,
            } => self.array_new(t, false),
            ArrayNewFixed {
                array_type_index: t,
                array_size: n,
            } => self.array_new_fixed(t, n),
            ArrayNewData {
                array_type_index: t,
                array_data_index: d,
            } => self.array_new_segment(Libcall::ArrayNewData, t, d),
            ArrayNewElem {
                array_type_index: t,
                array_elem_index: e,
            } => self.array_new_segment(Libcall::ArrayNewElem, t, e),
            ArrayGet {
                array_type_index: t,
            } => self.array_get(t, None),
            ArrayGetS {
                array_type_index: t,
            } => self.array_get(t, Some(true)),
            ArrayGetU {
                array_type_index: t,
            } => self.array_get(t, Some(false)),
            ArraySet {
                array_type_index: t,
            } => self.array_set(t),
            ArrayLen => {
                let a = self.pop();
                let len = self.array_len(a);
                self.push(len);
            }
            ArrayFill {
                array_type_index: t,
            } => self.array_fill(t),
            ArrayCopy {
                array_type_index_dst: d,
                array_type_index_src: _,
            } => self.array_copy(d),
            ArrayInitData {
                array_type_index: t,
                array_data_index: d,
            } => self.array_init(Libcall::ArrayInitData, t, d),
            ArrayInitElem {
                array_type_index: t,
                array_elem_index: e,
            } => self.array_init(Libcall::ArrayInitElem, t, e),
            RefI31 => {
                let x = self.pop();
                let shifted = self.b.ins().ishl_imm_s(x, 1);
                let tagged = self.b.ins().bor_imm_s(shifted, 1);
                let w = self.b.ins().uextend(types::I64, tagged);
                self.push(w);
            }
            I31GetS | I31GetU => {
                let w = self.pop();
                self.trapz(w, TrapCode::NullI31Reference);
                let low = self.b.ins().ireduce(types::I32, w);
                let v = match op {
                    I31GetS => self.b.ins().sshr_imm_s(low, 1),
                    _ => self.b.ins().ushr_imm_s(low, 1),
                };
                self.push(v);
            }
            RefEq => {
                let (a, b) = self.pop2();
                let c = self.b.ins().icmp(IntCC::Equal, a, b);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            // The hierarchies share one word encoding: the conversions change nothing.
            AnyConvertExtern | ExternConvertAny => {}
            _ => return self.casts(op),
        }
        Ok(true)
    }

    /// The canonical id of type `t`, read from the vmctx.
    pub(crate) fn canonical_type_id(&mut self, t: u32) -> Value {
        let off = self.env.offsets.type_id(t);
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b.ins().load(types::I32, flags, self.vmctx, off as i32)
    }

    fn struct_fields(&self, t: u32) -> Vec<FieldType> {
        let fields = self.env.info.type_defs.struct_fields(t);
        fields.map(<[_]>::to_vec).unwrap_or_default()
    }

    fn array_field(&self, t: u32) -> FieldType {
        let elem = self.env.info.type_defs.array_elem(t);
        elem.unwrap_or(FieldType {
            storage: StorageType::I8,
            mutable: false,
        })
    }

    /// The Cranelift type a field is stored as.
    fn storage_clif(&self, s: StorageType) -> ir::Type {
        match s {
            StorageType::I8 => types::I8,
            StorageType::I16 => types::I16,
            StorageType::Val(t) => clif_type(self.env.info.type_defs.repr(t)),
        }
    }

    fn object_flags(s: StorageType) -> MemFlagsData {
        // Objects are 8-aligned: a v128 field may not be 16-aligned.
        match s.size() {
            16 => MemFlagsData::new().with_notrap(),
            _ => MemFlagsData::trusted(),
        }
    }

    /// Load a field of storage `s` at `addr + off`; packed fields extended to i32.
    fn load_field(&mut self, s: StorageType, addr: Value, off: i32, ext: Extend) -> Value {
        let ty = self.storage_clif(s);
        let v = self.b.ins().load(ty, Self::object_flags(s), addr, off);
        if let StorageType::Val(t) = s {
            let t = self.env.info.type_defs.repr(t);
            self.declare_ref(v, t);
        }
        match (s, ext) {
            (StorageType::I8 | StorageType::I16, Some(true)) => self.b.ins().sextend(types::I32, v),
            (StorageType::I8 | StorageType::I16, _) => self.b.ins().uextend(types::I32, v),
            _ => v,
        }
    }

    /// Store `v` (an operand) into a field of storage `s` at `addr + off`.
    fn store_field(&mut self, s: StorageType, addr: Value, off: i32, v: Value) {
        let v = match s {
            StorageType::I8 => self.b.ins().ireduce(types::I8, v),
            StorageType::I16 => self.b.ins().ireduce(types::I16, v),
            _ => self.canonicalize(v),
        };
        self.b.ins().store(Self::object_flags(s), v, addr, off);
    }

    /// An object of `size` bytes (a multiple of 8) with `header` and nothing else written
    /// (callers initialise every field or element): bumped inline through
    /// the heap's current region when it fits and is not large, else `gc_alloc` (which may
    /// collect, or gives a large object a region of its own).
    fn alloc(&mut self, header: Value, size: Value) -> Value {
        let flags = MemFlagsData::trusted();
        let heap = self.load_vmctx_ro(vmctx::VMCTX_GC_HEAP);
        let next = self
            .b
            .ins()
            .load(types::I64, flags, heap, vmctx::GC_HEAP_NEXT as i32);
        let limit = self
            .b
            .ins()
            .load(types::I64, flags, heap, vmctx::GC_HEAP_LIMIT as i32);
        let end = self.b.ins().iadd(next, size);
        let room = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, end, limit);
        let small = self.b.ins().icmp_imm_s(
            IntCC::UnsignedLessThanOrEqual,
            size,
            i64::from(LARGE_OBJECT),
        );
        let fast_ok = self.b.ins().band(room, small);
        let (fast, slow) = (self.b.create_block(), self.b.create_block());
        let done = self.b.create_block();
        let obj = self.b.append_block_param(done, types::I64);
        self.declare_ref(obj, ValType::AnyRef);
        self.b.ins().brif(fast_ok, fast, &[], slow, &[]);
        self.b.seal_block(fast);
        self.b.seal_block(slow);
        self.b.switch_to_block(fast);
        self.b
            .ins()
            .store(flags, end, heap, vmctx::GC_HEAP_NEXT as i32);
        self.b.ins().store(flags, header, next, 0);
        self.b.ins().jump(done, &[next.into()]);
        self.b.switch_to_block(slow);
        let r = self.libcall(Libcall::GcAlloc, &[header, size])[0];
        self.b.ins().jump(done, &[r.into()]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        obj
    }

    fn struct_new(&mut self, t: u32, default: bool) {
        let fields = self.struct_fields(t);
        let layout = struct_layout(&fields);
        let vals = if default {
            vec![]
        } else {
            let at = self.stack.len().saturating_sub(fields.len());
            self.stack.split_off(at)
        };
        let id = self.canonical_type_id(t);
        let id = self.b.ins().uextend(types::I64, id);
        // The header's high half holds a struct's size (`weld_contract::gc::struct_header`).
        let high = (struct_header(0, layout.size)) as i64;
        let header = self.b.ins().bor_imm_s(id, high);
        let size = self.b.ins().iconst(types::I64, i64::from(layout.size));
        let obj = self.alloc(header, size);
        if default {
            // Objects arrive uninitialised: the defaults are zeros.
            for (f, off) in fields.iter().zip(&layout.offsets) {
                let zero = self.zero_of(f.storage);
                self.store_field(f.storage, obj, *off as i32, zero);
            }
        }
        for ((f, off), v) in fields.iter().zip(&layout.offsets).zip(vals) {
            self.store_field(f.storage, obj, *off as i32, v);
        }
        self.push(obj);
    }

    /// The zero a field of storage `s` defaults to, as an operand.
    fn zero_of(&mut self, s: StorageType) -> Value {
        match s {
            StorageType::I8 | StorageType::I16 => self.b.ins().iconst(types::I32, 0),
            StorageType::Val(t) => {
                let t = self.env.info.type_defs.repr(t);
                self.zero(t)
            }
        }
    }

    fn struct_get(&mut self, t: u32, field: u32, ext: Extend) {
        let fields = self.struct_fields(t);
        let layout = struct_layout(&fields);
        let obj = self.pop();
        self.trapz(obj, TrapCode::NullStructReference);
        let (f, off) = (fields[field as usize], layout.offsets[field as usize]);
        let v = self.load_field(f.storage, obj, off as i32, ext);
        self.push(v);
    }

    fn struct_set(&mut self, t: u32, field: u32) {
        let fields = self.struct_fields(t);
        let layout = struct_layout(&fields);
        let (obj, v) = self.pop2();
        self.trapz(obj, TrapCode::NullStructReference);
        let (f, off) = (fields[field as usize], layout.offsets[field as usize]);
        self.store_field(f.storage, obj, off as i32, v);
    }

    /// Allocate an array of type `t` with `len` (i32) elements, trapping when it would exceed
    /// the object size limit.
    fn alloc_array(&mut self, t: u32, len: Value) -> Value {
        let esize = u64::from(self.array_field(t).storage.size());
        let max_len = (MAX_OBJECT_SIZE - u64::from(OBJECT_HEADER)) / esize;
        let len64 = self.b.ins().uextend(types::I64, len);
        if max_len < u64::from(u32::MAX) {
            let big = self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, len64, max_len as i64);
            self.trapnz(big, TrapCode::AllocationTooLarge);
        }
        let align = u64::from(OBJECT_ALIGN);
        let bytes = self.b.ins().imul_imm_s(len64, esize as i64);
        let padded = self
            .b
            .ins()
            .iadd_imm_s(bytes, (u64::from(OBJECT_HEADER) + align - 1) as i64);
        let size = self.b.ins().band_imm_s(padded, !(align as i64 - 1));
        let id = self.canonical_type_id(t);
        let id = self.b.ins().uextend(types::I64, id);
        let high = self.b.ins().ishl_imm_s(len64, 32);
        let header = self.b.ins().bor(id, high);
        self.alloc(header, size)
    }

    fn array_new(&mut self, t: u32, with_value: bool) {
        let len = self.pop();
        let value = with_value.then(|| self.pop());
        let obj = self.alloc_array(t, len);
        match value {
            Some(v) => {
                let start = self.b.ins().iconst(types::I32, 0);
                self.fill(t, obj, start, len, v);
            }
            None => {
                // Objects arrive uninitialised: the elements are zeroed here, a word at a
                // time up to the object's end (its size is a multiple of 8).
                let esize = i64::from(self.array_field(t).storage.size());
                let len = self.b.ins().uextend(types::I64, len);
                let bytes = self.b.ins().imul_imm_s(len, esize);
                let padded = self.b.ins().iadd_imm_s(bytes, i64::from(OBJECT_ALIGN) - 1);
                let words = self.b.ins().band_imm_s(padded, -i64::from(OBJECT_ALIGN));
                let first = self.b.ins().iadd_imm_s(obj, i64::from(OBJECT_HEADER));
                let end = self.b.ins().iadd(first, words);
                self.zero_words(first, end);
            }
        }
        self.push(obj);
    }

    fn array_new_fixed(&mut self, t: u32, n: u32) {
        let at = self.stack.len().saturating_sub(n as usize);
        let vals = self.stack.split_off(at);
        let len = self.b.ins().iconst(types::I32, i64::from(n));
        let obj = self.alloc_array(t, len);
        let s = self.array_field(t).storage;
        for (i, v) in vals.into_iter().enumerate() {
            let off = OBJECT_HEADER as usize + i * s.size() as usize;
            match i32::try_from(off) {
                Ok(off) => self.store_field(s, obj, off, v),
                Err(_) => {
                    let addr = self.b.ins().iadd_imm_s(obj, off as i64);
                    self.store_field(s, addr, 0, v);
                }
            }
        }
        self.push(obj);
    }

    fn array_new_segment(&mut self, lc: Libcall, t: u32, seg: u32) {
        let (offset, len) = self.pop2();
        let t = self.b.ins().iconst(types::I32, i64::from(t));
        let seg = self.b.ins().iconst(types::I32, i64::from(seg));
        let obj = self.libcall(lc, &[t, seg, offset, len])[0];
        self.declare_ref(obj, ValType::AnyRef);
        self.push(obj);
    }

    /// The length (i32) of array `a`, trapping on null.
    fn array_len(&mut self, a: Value) -> Value {
        self.trapz(a, TrapCode::NullArrayReference);
        self.b
            .ins()
            .load(types::I32, MemFlagsData::trusted(), a, ARRAY_LENGTH as i32)
    }

    /// Address of element `i` (i32) of non-null array `a` of type `t`, trapping when out of
    /// bounds.
    fn array_elem_addr(&mut self, t: u32, a: Value, i: Value) -> Value {
        let len = self.array_len(a);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len);
        self.trapnz(oob, TrapCode::ArrayOutOfBounds);
        self.elem_addr(t, a, i)
    }

    /// Address of element `i` (i32) of array `a`, unchecked.
    fn elem_addr(&mut self, t: u32, a: Value, i: Value) -> Value {
        let esize = u64::from(self.array_field(t).storage.size());
        let i = self.b.ins().uextend(types::I64, i);
        let off = self.b.ins().imul_imm_s(i, esize as i64);
        let base = self.b.ins().iadd(a, off);
        self.b.ins().iadd_imm_s(base, i64::from(OBJECT_HEADER))
    }

    fn array_get(&mut self, t: u32, ext: Extend) {
        let (a, i) = self.pop2();
        let addr = self.array_elem_addr(t, a, i);
        let s = self.array_field(t).storage;
        let v = self.load_field(s, addr, 0, ext);
        self.push(v);
    }

    fn array_set(&mut self, t: u32) {
        let (a, i, v) = self.pop3();
        let addr = self.array_elem_addr(t, a, i);
        let s = self.array_field(t).storage;
        self.store_field(s, addr, 0, v);
    }

    /// Trap unless `start + n` (i32s) is within array `a`'s length.
    fn check_range(&mut self, a: Value, start: Value, n: Value) {
        let len = self.array_len(a);
        let len = self.b.ins().uextend(types::I64, len);
        let start = self.b.ins().uextend(types::I64, start);
        let n = self.b.ins().uextend(types::I64, n);
        let end = self.b.ins().iadd(start, n);
        let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
        self.trapnz(oob, TrapCode::ArrayOutOfBounds);
    }

    fn array_fill(&mut self, t: u32) {
        let n = self.pop();
        let (a, start, v) = self.pop3();
        self.check_range(a, start, n);
        self.fill(t, a, start, n, v);
    }

    /// Store zero words from `first` up to `end` (both 8-aligned).
    fn zero_words(&mut self, first: Value, end: Value) {
        self.store_loop(first, end, 8, |me, p| {
            let zero = me.b.ins().iconst(types::I64, 0);
            me.b.ins().store(MemFlagsData::trusted(), zero, p, 0);
        });
    }

    /// Store `v` into elements `start..start + n` of array `a` (already checked).
    fn fill(&mut self, t: u32, a: Value, start: Value, n: Value, v: Value) {
        let s = self.array_field(t).storage;
        let esize = i64::from(s.size());
        let first = self.elem_addr(t, a, start);
        let n = self.b.ins().uextend(types::I64, n);
        let bytes = self.b.ins().imul_imm_s(n, esize);
        let end = self.b.ins().iadd(first, bytes);
        self.store_loop(first, end, esize, |me, p| me.store_field(s, p, 0, v));
    }

    /// A loop over the addresses `first, first + step, ...` below `end`, `store` at each: no
    /// call inside, so the addresses may be derived from an object.
    fn store_loop(
        &mut self,
        first: Value,
        end: Value,
        step: i64,
        store: impl Fn(&mut Self, Value),
    ) {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let p = self.b.append_block_param(header, types::I64);
        self.b.ins().jump(header, &[first.into()]);
        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, p, end);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        store(self, p);
        let next = self.b.ins().iadd_imm_s(p, step);
        self.b.ins().jump(header, &[next.into()]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    fn array_copy(&mut self, t: u32) {
        let (src, si, n) = self.pop3();
        let (dst, di) = self.pop2();
        self.trapz(dst, TrapCode::NullArrayReference);
        self.trapz(src, TrapCode::NullArrayReference);
        let esize = self.array_field(t).storage.size();
        let esize = self.b.ins().iconst(types::I32, i64::from(esize));
        self.libcall(Libcall::ArrayCopy, &[dst, di, src, si, n, esize]);
    }

    fn array_init(&mut self, lc: Libcall, t: u32, seg: u32) {
        let (d, s, n) = self.pop3();
        let a = self.pop();
        self.trapz(a, TrapCode::NullArrayReference);
        let t = self.b.ins().iconst(types::I32, i64::from(t));
        let seg = self.b.ins().iconst(types::I32, i64::from(seg));
        self.libcall(lc, &[a, t, seg, d, s, n]);
    }
}
