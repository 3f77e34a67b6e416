//! Instantiation, following the spec: type-check the imports, build the vmctx (header, imported
//! items, type ids, funcref slots), create defined globals, tables and memories, apply element
//! then data segments in order (a trapping segment leaves the earlier ones written), run the start
//! function. The instance joins the store before any segment is applied, so whatever escaped into
//! imported tables stays valid even if instantiation then traps.
//!
//! ```text
//! vmctx ─► [libcalls | store ctx | &InstanceData | ... VMOffsets layout ...]
//!                                      │
//!                InstanceData ◄────────┘  (what libcalls need: memories, tables,
//!                                          passive segments, the module)
//! ```

use crate::constexpr;
use crate::func::{Func, FuncData};
use crate::global::{Global, GlobalData};
use crate::memory::{Memory, MemoryData};
use crate::module::Module;
use crate::reftypes;
use crate::store::Store;
use crate::table::{Table, TableData};
use crate::tag::{Tag, TagData};
use crate::trap::Trap;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use weld_contract::info::{
    ExportKind, HeapType, ImportKind, IndexType, ModuleInfo, RefType, SegmentMode,
};
use weld_contract::trap::TrapCode;
use weld_contract::vmctx::{
    VMFuncRef, VMGlobal, VMMemory, VMOffsets, VMTable, ValRaw, VMCTX_GC_HEAP, VMCTX_INSTANCE,
    VMCTX_LIBCALLS, VMCTX_STORE,
};

/// Something an instance imports or exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A linear memory.
    Memory(Memory),
    /// A table.
    Table(Table),
    /// A global.
    Global(Global),
    /// A tag (exception handling).
    Tag(Tag),
}

/// Why instantiation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstantiateError {
    /// The imports do not fit the module (or a resource could not be allocated).
    Link(String),
    /// A segment was out of bounds or the start function trapped.
    Trap(Trap),
}

impl core::fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InstantiateError::Link(why) => f.write_str(why),
            InstantiateError::Trap(t) => write!(f, "{t}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for InstantiateError {}

/// A handle to an instance of a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance(pub(crate) usize);

/// An instance's runtime state; `vmctx + VMCTX_INSTANCE` points here.
#[derive(Debug)]
pub(crate) struct InstanceData {
    pub(crate) vmctx: *mut u8,
    layout: Layout,
    pub(crate) module: Module,
    pub(crate) offsets: VMOffsets,
    /// Every memory by index, imported first.
    pub(crate) memories: Vec<*mut MemoryData>,
    /// Every table by index, imported first.
    pub(crate) tables: Vec<*mut TableData>,
    /// Items of each element segment still available to `table.init` (empty once dropped).
    pub(crate) elems: Vec<Vec<usize>>,
    /// Whether each data segment was dropped.
    pub(crate) data_dropped: Vec<bool>,
    memory_handles: Vec<Memory>,
    table_handles: Vec<Table>,
    global_handles: Vec<Global>,
    tag_handles: Vec<Tag>,
    /// Exceptions this instance's code threw that are still alive.
    pub(crate) exceptions: crate::exception::ExnList,
    /// One per export of the module.
    exports: Vec<Extern>,
}

impl Drop for InstanceData {
    fn drop(&mut self) {
        // SAFETY: allocated in `Instance::new` with this layout.
        unsafe { alloc::alloc::dealloc(self.vmctx, self.layout) };
    }
}

fn link(why: impl Into<String>) -> InstantiateError {
    InstantiateError::Link(why.into())
}

fn limits_fit(min: u64, max: Option<u64>, want_min: u64, want_max: Option<u64>) -> bool {
    min >= want_min && want_max.is_none_or(|w| max.is_some_and(|m| m <= w))
}

/// Check each import against what the module declares.
fn check_imports(
    store: &Store,
    module: &Module,
    imports: &[Extern],
) -> Result<(), InstantiateError> {
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(link(format!(
            "expected {} imports, got {}",
            info.imports.len(),
            imports.len()
        )));
    }
    let mut func_index = 0u32;
    let canon = |i: u32| module.inner.type_ids.get(i as usize).copied();
    for (import, ext) in info.imports.iter().zip(imports) {
        let ok = match (&import.kind, ext) {
            (ImportKind::Func(t), Extern::Func(f)) => {
                let data = store.funcs.get(f.0);
                // Code calls these as wasm code without looking (`ModuleInfo::wasm_imports`).
                let as_wasm = info.wasm_imports.binary_search(&func_index).is_ok();
                func_index += 1;
                canon(*t).is_some_and(|t| crate::types::is_subtype(data.type_id(), t))
                    && (data.is_wasm() || !as_wasm)
            }
            (ImportKind::Memory(want), Extern::Memory(m)) => {
                let mem = store.memories.get(m.0);
                let ty = mem.ty();
                // Code checks 64-bit memories explicitly in either mode.
                let needs_guard = !module.explicit_bounds() && want.index == IndexType::I32;
                if mem.explicit_bounds() && needs_guard {
                    return Err(link(format!(
                        "incompatible import type for {}::{}: memory has no guard region",
                        import.module, import.name
                    )));
                }
                ty.index == want.index && limits_fit(ty.min, ty.max, want.min, want.max)
            }
            (ImportKind::Table(want), Extern::Table(t)) => {
                let data = store.tables.get(t.0);
                let ty = data.ty();
                let have = reftypes::resolve(ty.elem, ty.ref_type, |_| data.concrete());
                let wanted = reftypes::resolve(want.elem, want.ref_type, canon);
                have.zip(wanted)
                    .is_some_and(|(h, w)| reftypes::same(&h, &w))
                    && ty.index == want.index
                    && limits_fit(ty.min, ty.max, want.min, want.max)
            }
            (ImportKind::Global(want), Extern::Global(g)) => {
                let data = store.globals.get(g.0);
                let ty = data.ty();
                let have = reftypes::resolve(ty.ty, ty.ref_type, |_| data.concrete());
                let wanted = reftypes::resolve(want.ty, want.ref_type, canon);
                // A constant global may be of a subtype; a mutable one must be of the type.
                let fits = match (have, wanted) {
                    (Some(h), Some(w)) if want.mutable => reftypes::same(&h, &w),
                    (Some(h), Some(w)) => reftypes::is_subtype(&h, &w),
                    (None, None) => ty.ty == want.ty,
                    _ => false,
                };
                fits && ty.mutable == want.mutable
            }
            (ImportKind::Tag(t), Extern::Tag(tag)) => {
                canon(*t) == Some(store.tags.get(tag.0).type_id)
            }
            _ => false,
        };
        if !ok {
            return Err(link(format!(
                "incompatible import type for {}::{}",
                import.module, import.name
            )));
        }
    }
    Ok(())
}

/// The canonical id of the type a concrete reference type of a module with `type_ids` names.
fn concrete_type(type_ids: &[u32], r: Option<RefType>) -> Option<u32> {
    match r?.heap {
        HeapType::Concrete(i) => type_ids.get(i as usize).copied(),
        _ => None,
    }
}

/// `vmctx + offset` as a `*mut T`.
///
/// # Safety
/// `offset` must lie inside the vmctx of `vmctx` with room for a `T`.
unsafe fn at<T>(vmctx: *mut u8, offset: u32) -> *mut T {
    // SAFETY: the caller guarantees the offset is in bounds.
    unsafe { vmctx.add(offset as usize) as *mut T }
}

impl Instance {
    /// Instantiate `module` in `store` with `imports` given in `module.info().imports` order.
    pub fn new(
        store: &mut Store,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, InstantiateError> {
        check_imports(store, module, imports)?;
        let info: &ModuleInfo = module.info();
        let offsets = VMOffsets::new(info.counts());
        let layout = Layout::from_size_align(offsets.size.max(16) as usize, 16)
            .map_err(|_| link("vmctx too large"))?;
        // SAFETY: the layout has a non-zero size.
        let vmctx = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if vmctx.is_null() {
            return Err(link("out of memory for the instance"));
        }
        let data = InstanceData {
            vmctx,
            layout,
            module: module.clone(),
            offsets,
            memories: Vec::new(),
            tables: Vec::new(),
            elems: vec![Vec::new(); info.elems.len()],
            data_dropped: vec![true; info.datas.len()],
            memory_handles: Vec::new(),
            table_handles: Vec::new(),
            global_handles: Vec::new(),
            tag_handles: Vec::new(),
            exceptions: crate::exception::ExnList::default(),
            exports: Vec::new(),
        };
        let (index, inst) = store.instances.push(data);
        store.gc.roots.instances.push(inst);
        // SAFETY: `inst` lives in the store's arena until the store is dropped; the vmctx
        // offsets below all come from `offsets`, the layout the vmctx was allocated with.
        unsafe {
            *at::<usize>(vmctx, VMCTX_LIBCALLS) = &crate::libcalls::LIBCALLS as *const _ as usize;
            *at::<usize>(vmctx, VMCTX_STORE) = store.ctx_ptr() as usize;
            *at::<usize>(vmctx, VMCTX_INSTANCE) = inst as usize;
            *at::<usize>(vmctx, VMCTX_GC_HEAP) = &mut *store.gc as *mut _ as usize;
            build(store, &mut *inst, imports)?;
            initialize(&mut *inst)?;
        }
        Ok(Instance(index))
    }

    /// The export called `name`.
    pub fn export(&self, store: &Store, name: &str) -> Option<Extern> {
        let inst = store.instances.get(self.0);
        let i = inst
            .module
            .info()
            .exports
            .iter()
            .position(|e| e.name == name)?;
        inst.exports.get(i).copied()
    }

    /// Every export with its name, in module order.
    pub fn exports(&self, store: &Store) -> Vec<(String, Extern)> {
        let inst = store.instances.get(self.0);
        let names = inst.module.info().exports.iter().map(|e| e.name.clone());
        names.zip(inst.exports.iter().copied()).collect()
    }

    /// The instance's vmctx (for hosts calling the object's C entry points directly).
    pub fn vmctx(&self, store: &Store) -> *mut u8 {
        store.instances.get(self.0).vmctx
    }
}

/// Fill the vmctx and create the defined items.
///
/// # Safety
/// `inst` must be a freshly pushed instance of `store` whose vmctx has the header written.
unsafe fn build(
    store: &mut Store,
    inst: &mut InstanceData,
    imports: &[Extern],
) -> Result<(), InstantiateError> {
    let module = inst.module.clone();
    let m = &module.inner;
    let info = &m.info;
    let (o, vmctx) = (inst.offsets, inst.vmctx);
    // SAFETY (whole function): every offset comes from `o`, the vmctx's own layout, with an
    // index below the count it was made from; stored pointers refer to store-owned items.
    unsafe {
        for (i, id) in m.type_ids.iter().enumerate() {
            *at::<u32>(vmctx, o.type_id(i as u32)) = *id;
        }
        let mut funcs = 0u32;
        for ext in imports {
            match *ext {
                Extern::Func(f) => {
                    *at::<VMFuncRef>(vmctx, o.funcref(funcs)) = store.funcs.get(f.0).funcref();
                    funcs += 1;
                }
                Extern::Memory(h) => {
                    let i = inst.memories.len() as u32;
                    *at::<*mut VMMemory>(vmctx, o.imported_memory(i)) =
                        store.memories.get(h.0).vm();
                    inst.memories.push(store.memories.ptr(h.0));
                    inst.memory_handles.push(h);
                }
                Extern::Table(h) => {
                    let i = inst.tables.len() as u32;
                    *at::<*mut VMTable>(vmctx, o.imported_table(i)) = store.tables.get(h.0).vm();
                    inst.tables.push(store.tables.ptr(h.0));
                    inst.table_handles.push(h);
                }
                Extern::Global(h) => {
                    let i = inst.global_handles.len() as u32;
                    *at::<*mut VMGlobal>(vmctx, o.imported_global(i)) = store.globals.get(h.0).vm();
                    inst.global_handles.push(h);
                }
                Extern::Tag(h) => {
                    let i = inst.tag_handles.len() as u32;
                    *at::<*const u8>(vmctx, o.tag(i)) = store.tags.get(h.0).identity;
                    inst.tag_handles.push(h);
                }
            }
        }
        let nf = info.imported_funcs as usize;
        for (slot, code) in m.funcs.iter().enumerate() {
            let slot = nf + slot;
            let func = info.funcref_funcs[slot] as usize;
            let ty = info.funcs[func] as usize;
            *at::<VMFuncRef>(vmctx, o.funcref(slot as u32)) = VMFuncRef {
                func: *code,
                vmctx,
                type_id: m.type_ids[ty],
                abi: weld_contract::vmctx::FuncAbi::Wasm as u32,
            };
        }
        for i in info.imported_tags..info.tags.len() as u32 {
            // A defined tag's identity is the address of its own slot.
            let slot = at::<*const u8>(vmctx, o.tag(i));
            *slot = slot as *const u8;
            let ty = info.types[info.tags[i as usize] as usize].clone();
            let (h, _) = store.tags.push(TagData {
                identity: slot as *const u8,
                ty,
                type_id: m.type_ids[info.tags[i as usize] as usize],
            });
            inst.tag_handles.push(Tag(h));
        }
        for (i, g) in info.globals.iter().enumerate() {
            let value = eval_const(inst, &g.init)?;
            let ptr = at::<VMGlobal>(vmctx, o.defined_global(i as u32));
            let concrete = concrete_type(&m.type_ids, g.ty.ref_type);
            let data = GlobalData::new(g.ty, value, Some(ptr)).with_concrete(concrete);
            if g.ty.ty.is_gc_ref() {
                store.gc.roots.globals.push(ptr as *mut u64);
            }
            let (h, _) = store.globals.push(data);
            inst.global_handles.push(Global(h));
        }
        for (i, t) in info.tables.iter().enumerate() {
            let init = eval_word(inst, &t.init)?;
            let ptr = at::<VMTable>(vmctx, o.defined_table(i as u32));
            let data = TableData::new(t.ty, init, Some(ptr))
                .ok_or_else(|| link("table too large"))?
                .with_concrete(concrete_type(&m.type_ids, t.ty.ref_type));
            let (h, p) = store.tables.push(data);
            if t.ty.elem.is_gc_ref() {
                store.gc.roots.tables.push(p);
            }
            inst.tables.push(p);
            inst.table_handles.push(Table(h));
        }
        for (i, ty) in info.memories[info.imported_memories as usize..]
            .iter()
            .enumerate()
        {
            let ptr = at::<VMMemory>(vmctx, o.defined_memory(i as u32));
            let data = MemoryData::new(*ty, module.explicit_bounds(), Some(ptr))
                .ok_or_else(|| link("cannot allocate memory"))?;
            let (h, p) = store.memories.push(data);
            inst.memories.push(p);
            inst.memory_handles.push(Memory(h));
        }
        for (e, tramp) in info.exports.iter().zip(m.trampolines) {
            let i = e.index as usize;
            let ext = match e.kind {
                ExportKind::Func => {
                    let slot = info.funcref_slot(e.index).unwrap_or(0);
                    let ty = info.types[info.funcs[i] as usize].clone();
                    // Validated non-null for function exports at load.
                    let tramp: crate::arch::ArrayCall = core::mem::transmute(*tramp);
                    let funcref = at::<VMFuncRef>(vmctx, o.funcref(slot));
                    let (h, _) = store
                        .funcs
                        .push(FuncData::export(funcref, ty, tramp, vmctx));
                    Extern::Func(Func(h))
                }
                ExportKind::Memory => Extern::Memory(inst.memory_handles[i]),
                ExportKind::Table => Extern::Table(inst.table_handles[i]),
                ExportKind::Global => Extern::Global(inst.global_handles[i]),
                ExportKind::Tag => Extern::Tag(inst.tag_handles[i]),
            };
            inst.exports.push(ext);
        }
    }
    Ok(())
}

/// Apply the segments and run the start function.
///
/// # Safety
/// `inst` must have been completed by [`build`].
unsafe fn initialize(inst: &mut InstanceData) -> Result<(), InstantiateError> {
    let module = inst.module.clone();
    let m = &module.inner;
    let trap = |code| InstantiateError::Trap(Trap::new(code));
    for (i, seg) in m.info.elems.iter().enumerate() {
        // The items made so far are held here, where the collector cannot see them, until
        // they are in a table or the passive segment: nothing moves until then (each item's
        // own evaluation pins the heap too; this keeps it pinned between them).
        let _pinned = PinnedHeap::new(inst.vmctx);
        let mut items = Vec::with_capacity(seg.items.len());
        for item in &seg.items {
            items.push(eval_word(inst, item)?);
        }
        match &seg.mode {
            SegmentMode::Active { index, offset } => {
                let dst = eval_word(inst, offset)? as u64;
                // SAFETY: tables of the instance live as long as the store.
                let table = unsafe { &mut *inst.tables[*index as usize] };
                let r = crate::libcalls::bounds(dst, items.len() as u64, table.elements().len());
                let (start, end) = r.map_err(|_| trap(TrapCode::TableOutOfBounds))?;
                table.elements_mut()[start..end].copy_from_slice(&items);
            }
            SegmentMode::Passive => inst.elems[i] = items,
            SegmentMode::Declared => {}
        }
    }
    for (i, d) in m.info.datas.iter().enumerate() {
        let bytes = &m.data[d.offset as usize..d.offset as usize + d.len as usize];
        match &d.mode {
            SegmentMode::Active { index, offset } => {
                let dst = eval_word(inst, offset)? as u64;
                // SAFETY: memories of the instance live as long as the store; no wasm runs.
                let mem = unsafe { (*inst.memories[*index as usize]).bytes_mut() };
                let r = crate::libcalls::bounds(dst, bytes.len() as u64, mem.len());
                let (start, end) = r.map_err(|_| trap(TrapCode::MemoryOutOfBounds))?;
                mem[start..end].copy_from_slice(bytes);
            }
            _ => inst.data_dropped[i] = false,
        }
    }
    if !m.start.is_null() {
        // SAFETY: validated at load: `start` is the array trampoline of the start function,
        // which takes and returns nothing.
        let result = unsafe {
            let f: crate::arch::ArrayCall = core::mem::transmute(m.start);
            let mut slot = ValRaw::default();
            crate::entry::enter(f, inst.vmctx, &mut slot)
        };
        result.map_err(trap)?;
    }
    Ok(())
}

/// What constant expressions of an instance read and allocate: its globals through the vmctx
/// (so a defined global sees the ones defined before it), its funcref slots, the store's heap.
struct InstanceEnv<'a>(&'a InstanceData);

impl constexpr::ConstEnv for InstanceEnv<'_> {
    fn global(&self, g: u32) -> Option<ValRaw> {
        let (inst, info) = (self.0, self.0.module.info());
        let o = inst.offsets;
        let ptr = if g < info.imported_globals {
            // SAFETY: the slot holds the imported global's address, set in `build`.
            unsafe { *at::<*const VMGlobal>(inst.vmctx, o.imported_global(g)) }
        } else {
            // SAFETY: `g` is a defined global (checked at load), inside the vmctx.
            unsafe { at::<VMGlobal>(inst.vmctx, o.defined_global(g - info.imported_globals)) }
        };
        // SAFETY: globals live as long as the store.
        Some(ValRaw {
            bytes: unsafe { (*ptr).bytes },
        })
    }

    fn func_ref(&self, f: u32) -> Option<usize> {
        let slot = self.0.module.info().funcref_slot(f)?;
        Some(self.0.vmctx as usize + self.0.offsets.funcref(slot) as usize)
    }

    fn new_struct(&mut self, t: u32, fields: &[ValRaw]) -> Result<u64, TrapCode> {
        let (heap, id) = self.heap_and_id(t)?;
        crate::gc::new_struct(heap, id, fields)
    }

    fn new_array(
        &mut self,
        t: u32,
        len: u32,
        init: crate::gc::ArrayInit<'_>,
    ) -> Result<u64, TrapCode> {
        let (heap, id) = self.heap_and_id(t)?;
        crate::gc::new_array(heap, id, len, init)
    }
}

impl InstanceEnv<'_> {
    /// The store's heap and the canonical id of type index `t`.
    fn heap_and_id(&mut self, t: u32) -> Result<(&mut crate::gc::heap::GcHeap, u32), TrapCode> {
        let ids = &self.0.module.inner.type_ids;
        let id = *ids.get(t as usize).ok_or(TrapCode::InvalidValue)?;
        // SAFETY: the vmctx's heap pointer was set in `Instance::new`; no wasm runs, and
        // nothing else uses the heap while a constant expression is evaluated.
        Ok((unsafe { crate::gc::heap_of(self.0.vmctx) }, id))
    }
}

/// While it lives, the GC heap of an instance being made does not collect (a collection due
/// is postponed and the heap grows instead), so references held outside the roots stay valid.
struct PinnedHeap(*mut u8);

impl PinnedHeap {
    fn new(vmctx: *mut u8) -> PinnedHeap {
        // SAFETY: the vmctx's heap pointer was set in `Instance::new`; no wasm runs, and no
        // other reference to the heap is in use.
        unsafe { crate::gc::heap_of(vmctx) }.pinned += 1;
        PinnedHeap(vmctx)
    }
}

impl Drop for PinnedHeap {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe { crate::gc::heap_of(self.0) }.pinned -= 1;
    }
}

/// Evaluate a (load-checked) constant expression. Objects do not move meanwhile: the
/// evaluator's stack holds references the collector cannot see.
fn eval_const(
    inst: &InstanceData,
    expr: &[weld_contract::info::ConstOp],
) -> Result<ValRaw, InstantiateError> {
    let pinned = PinnedHeap::new(inst.vmctx);
    let r = constexpr::eval(expr, inst.module.info(), &mut InstanceEnv(inst));
    drop(pinned);
    r.map_err(|code| match code {
        TrapCode::InvalidValue => link("bad constant expression"),
        code => InstantiateError::Trap(Trap::new(code)),
    })
}

/// Evaluate an offset, reference or table initialiser as a machine word (i32 values are
/// zero-extended).
fn eval_word(
    inst: &InstanceData,
    expr: &[weld_contract::info::ConstOp],
) -> Result<usize, InstantiateError> {
    Ok(eval_const(inst, expr)?.get_u128() as u64 as usize)
}
