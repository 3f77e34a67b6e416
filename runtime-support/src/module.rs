//! [`Module`]: a compiled module's descriptor, checked and decoded. Loading validates every count
//! and index of the info blob against itself and the descriptor, so instantiation and libcalls can
//! index without panicking, and registers the code range for trap lookup.

use crate::constexpr;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use weld_contract::descriptor::{
    VMFuncRange, VMModuleDescriptor, VMStackMap, VMTrapEntry, FLAG_EXPLICIT_BOUNDS, MAGIC,
};
use weld_contract::info::{ImportKind, ModuleInfo, SegmentMode};
use weld_contract::ABI_VERSION;

/// Why a module could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The descriptor does not start with the magic bytes.
    BadMagic,
    /// The object was compiled for another contract version.
    AbiVersion {
        /// The version the object carries.
        found: u32,
    },
    /// The descriptor or its info blob is inconsistent.
    Malformed(String),
    /// The shared library could not be opened.
    Open(String),
    /// The descriptor symbol is missing.
    MissingSymbol(String),
    /// The code was compiled for CPU features (`weld compile --cpu`) this CPU lacks; their
    /// names.
    CpuFeatures(Vec<&'static str>),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::BadMagic => f.write_str("not a weld module descriptor (bad magic)"),
            LoadError::AbiVersion { found } => write!(
                f,
                "module compiled for contract version {found}, runtime speaks {ABI_VERSION}"
            ),
            LoadError::Malformed(why) => write!(f, "malformed module descriptor: {why}"),
            LoadError::Open(why) => write!(f, "cannot open library: {why}"),
            LoadError::MissingSymbol(s) => write!(f, "symbol `{s}` not found"),
            LoadError::CpuFeatures(names) => write!(
                f,
                "compiled for CPU features this machine lacks: {} (recompile with a lower --cpu)",
                names.join(", ")
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for LoadError {}

/// Refuse code that needs CPU features (descriptor flag bits, `weld_contract::cpu`) this CPU
/// lacks. Without `std` (bare metal, never x86-64 here) nothing can be detected: any feature
/// bit is refused.
fn check_cpu(flags: u32) -> Result<(), LoadError> {
    check_cpu_with(flags, cpu_has)
}

fn check_cpu_with(flags: u32, has: impl Fn(&str) -> bool) -> Result<(), LoadError> {
    let missing: Vec<&'static str> = weld_contract::cpu::features_in(flags)
        .filter(|f| !has(f.name))
        .map(|f| f.name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LoadError::CpuFeatures(missing))
    }
}

/// Whether this CPU has x86 feature `name` (a `weld_contract::cpu` name; `false` where it
/// cannot be detected).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub fn cpu_has(name: &str) -> bool {
    match name {
        "avx" => std::is_x86_feature_detected!("avx"),
        "avx2" => std::is_x86_feature_detected!("avx2"),
        "fma" => std::is_x86_feature_detected!("fma"),
        "bmi1" => std::is_x86_feature_detected!("bmi1"),
        "bmi2" => std::is_x86_feature_detected!("bmi2"),
        "lzcnt" => std::is_x86_feature_detected!("lzcnt"),
        "avx512f" => std::is_x86_feature_detected!("avx512f"),
        "avx512vl" => std::is_x86_feature_detected!("avx512vl"),
        "avx512dq" => std::is_x86_feature_detected!("avx512dq"),
        "avx512bitalg" => std::is_x86_feature_detected!("avx512bitalg"),
        "avx512vbmi" => std::is_x86_feature_detected!("avx512vbmi"),
        _ => false,
    }
}

/// Whether this CPU has x86 feature `name`: never detectable here.
#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
pub fn cpu_has(_: &str) -> bool {
    false
}

/// The loaded parts of a module.
#[derive(Debug)]
pub(crate) struct ModuleInner {
    pub(crate) info: ModuleInfo,
    pub(crate) explicit_bounds: bool,
    /// Canonical id of each type index.
    pub(crate) type_ids: Vec<u32>,
    /// Code of each defined funcref slot.
    pub(crate) funcs: &'static [*const u8],
    /// Array-call trampoline per export.
    pub(crate) trampolines: &'static [*const u8],
    /// Start trampoline.
    pub(crate) start: *const u8,
    /// All data segments' bytes.
    pub(crate) data: &'static [u8],
    /// Address of the module's code.
    pub(crate) code: usize,
    /// Code range of each defined function, relative to `code`.
    pub(crate) func_ranges: &'static [VMFuncRange],
}

// SAFETY: everything a `ModuleInner` points at is immutable static data of a loaded object.
unsafe impl Send for ModuleInner {}
// SAFETY: as above; nothing is ever written through these pointers.
unsafe impl Sync for ModuleInner {}

/// A loaded module, cheap to clone.
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) fn bad(why: impl Into<String>) -> LoadError {
    LoadError::Malformed(why.into())
}

/// A slice from a descriptor's pointer and length; empty when the length is 0.
///
/// # Safety
/// If `len > 0`, `ptr` must point at `len` valid `T`s that live forever.
pub(crate) unsafe fn slice<T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'static [T], LoadError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() || !ptr.is_aligned() {
        return Err(bad(format!("{what}: null or misaligned pointer")));
    }
    let bytes = len.checked_mul(core::mem::size_of::<T>());
    if !bytes.is_some_and(|b| inside_image(ptr as usize, b, false)) {
        return Err(bad(format!("{what}: points outside the loaded object")));
    }
    // SAFETY: non-null and aligned; the caller guarantees the rest.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// The `T` a descriptor points at, checked as [`slice`] checks.
///
/// # Safety
/// As for [`slice`] with a length of 1.
pub(crate) unsafe fn reference<T>(ptr: *const T, what: &str) -> Result<&'static T, LoadError> {
    // SAFETY: the caller's guarantee.
    let s = unsafe { slice(ptr, 1, what)? };
    s.first().ok_or_else(|| bad(format!("{what}: empty")))
}

/// Whether `len` bytes at `addr` are inside the object whose descriptors are being loaded (see
/// `image`: only plugins are checked; a linked-in descriptor is weld's own).
pub(crate) fn inside_image(addr: usize, len: usize, exec: bool) -> bool {
    #[cfg(feature = "std")]
    return crate::image::inside(addr, len, exec);
    #[cfg(not(feature = "std"))]
    {
        let _ = (addr, len, exec);
        true
    }
}

/// How much of a descriptor a load checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checks {
    /// The header (magic, ABI version, CPU features, pointers) and every table against the
    /// others: descriptors that come from outside (plugins, the C and Rust host APIs).
    All,
    /// The header only: see [`Checks::linked`].
    HeaderOnly,
}

impl Checks {
    /// For the executable's own descriptor, which weld linked in beside the code it describes
    /// (the code trusts those tables anyway, as Wasmtime trusts a `.cwasm` it deserializes):
    /// the header only, which spares start-up the table scans (11% of a hello world's
    /// instructions). Debug builds check everything all the same.
    pub(crate) fn linked() -> Checks {
        if cfg!(debug_assertions) {
            Checks::All
        } else {
            Checks::HeaderOnly
        }
    }

    /// Whether the tables are checked.
    pub(crate) fn tables(self) -> bool {
        self == Checks::All
    }
}

impl Module {
    /// Load the module a descriptor describes.
    ///
    /// # Safety
    /// `desc` must be a descriptor written by weld (its pointers valid for the given lengths, the
    /// code really compiled against this contract) that lives for the rest of the process.
    pub unsafe fn from_descriptor(desc: &'static VMModuleDescriptor) -> Result<Module, LoadError> {
        // SAFETY: the caller's guarantee.
        unsafe { Self::load(desc, Checks::All) }
    }

    /// [`Self::from_descriptor`], checking as much as `checks` says.
    ///
    /// # Safety
    /// As for [`Self::from_descriptor`].
    pub(crate) unsafe fn load(
        desc: &'static VMModuleDescriptor,
        checks: Checks,
    ) -> Result<Module, LoadError> {
        if desc.magic != MAGIC {
            return Err(LoadError::BadMagic);
        }
        if desc.abi_version != ABI_VERSION {
            return Err(LoadError::AbiVersion {
                found: desc.abi_version,
            });
        }
        check_cpu(desc.flags)?;
        // SAFETY: the caller vouches for the descriptor's pointers and lengths.
        let (info_bytes, data, funcs, trampolines, traps, ranges) = unsafe {
            (
                slice(desc.info, desc.info_len, "info")?,
                slice(desc.data, desc.data_len, "data")?,
                slice(desc.funcs, desc.funcs_len, "funcs")?,
                slice(desc.trampolines, desc.trampolines_len, "trampolines")?,
                slice(desc.traps, desc.traps_len, "traps")?,
                slice(desc.func_ranges, desc.func_ranges_len, "func_ranges")?,
            )
        };
        // SAFETY: as above.
        let (call_sites, handlers, stack_maps, stack_slots) = unsafe {
            (
                slice(desc.call_sites, desc.call_sites_len, "call_sites")?,
                slice(desc.handlers, desc.handlers_len, "handlers")?,
                slice(desc.stack_maps, desc.stack_maps_len, "stack_maps")?,
                slice(desc.stack_slots, desc.stack_slots_len, "stack_slots")?,
            )
        };
        let info = ModuleInfo::decode_without_names(info_bytes)
            .ok_or_else(|| bad("undecodable info blob"))?;
        if checks.tables() {
            validate(&info, data.len(), funcs, trampolines, !desc.start.is_null())?;
            check_traps(traps)?;
            check_ranges(
                ranges,
                info.funcs
                    .len()
                    .saturating_sub(info.imported_funcs as usize),
                desc.code_len,
            )?;
            crate::exception::check_table(call_sites, handlers, &info, desc.code_len)
                .map_err(bad)?;
            check_stack_maps(stack_maps, stack_slots, desc.code_len)?;
        }
        if desc.code_len > 0 && desc.code.is_null() {
            return Err(bad("code: null pointer"));
        }
        // Code pointers: the code inside an executable segment, every function pointer inside
        // the code.
        let code = desc.code as usize;
        if desc.code_len > 0 && !inside_image(code, desc.code_len, true) {
            return Err(bad("code: outside the loaded object's code"));
        }
        let in_code = |p: *const u8| {
            p.is_null() || ((p as usize) >= code && (p as usize) < code + desc.code_len)
        };
        let pointers = funcs.iter().chain(trampolines).chain([&desc.start]);
        if checks.tables() && !pointers.copied().all(in_code) {
            return Err(bad("a function pointer outside the module's code"));
        }
        crate::registry::register(
            desc.code as usize,
            desc.code_len,
            crate::registry::CodeInfo {
                traps,
                funcs: ranges,
                info: info_bytes,
                call_sites,
                handlers,
                stack_maps,
                stack_slots,
            },
        );
        let type_ids = crate::types::register(&info.type_defs);
        Ok(Module {
            inner: Arc::new(ModuleInner {
                info,
                explicit_bounds: desc.flags & FLAG_EXPLICIT_BOUNDS != 0,
                type_ids,
                funcs,
                trampolines,
                start: desc.start,
                data,
                code: desc.code as usize,
                func_ranges: ranges,
            }),
        })
    }

    /// What the module declares.
    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    /// Whether the code checks memory bounds itself (no guard regions needed).
    pub fn explicit_bounds(&self) -> bool {
        self.inner.explicit_bounds
    }
}

/// Stack maps sorted by return address inside the code, each naming slots of the table; every
/// slot an 8-aligned offset below the frame pointer (the collector writes through them).
fn check_stack_maps(maps: &[VMStackMap], slots: &[i32], code_len: usize) -> Result<(), LoadError> {
    if maps.windows(2).any(|w| w[0].ret >= w[1].ret) {
        return Err(bad("stack maps not sorted"));
    }
    let fits = |m: &VMStackMap| {
        (m.ret as usize) < code_len
            && (m.start as usize)
                .checked_add(m.len as usize)
                .is_some_and(|end| end <= slots.len())
    };
    if !maps.iter().all(fits) {
        return Err(bad("a stack map outside its tables"));
    }
    if !slots.iter().all(|s| *s < 0 && s % 8 == 0) {
        return Err(bad("a stack slot that is not an aligned frame slot"));
    }
    Ok(())
}

fn check_traps(traps: &[VMTrapEntry]) -> Result<(), LoadError> {
    if traps.windows(2).any(|w| w[0].offset >= w[1].offset) {
        return Err(bad("trap table not sorted"));
    }
    Ok(())
}

fn check_ranges(ranges: &[VMFuncRange], defined: usize, code_len: usize) -> Result<(), LoadError> {
    if ranges.len() != defined {
        return Err(bad("function ranges do not match the defined functions"));
    }
    let sorted = ranges
        .windows(2)
        .all(|w| u64::from(w[0].start) + u64::from(w[0].len) <= u64::from(w[1].start));
    let inside = ranges
        .last()
        .is_none_or(|r| u64::from(r.start) + u64::from(r.len) <= code_len as u64);
    if !sorted || !inside {
        return Err(bad("function ranges overlap or leave the code"));
    }
    Ok(())
}

/// Largest count of any index space we accept (keeps every vmctx offset far inside `u32`).
const MAX_COUNT: usize = 1 << 20;

/// Check the info blob against itself and the descriptor.
pub(crate) fn validate(
    info: &ModuleInfo,
    data_len: usize,
    funcs: &[*const u8],
    trampolines: &[*const u8],
    has_start: bool,
) -> Result<(), LoadError> {
    let m = info;
    let counts = [
        m.types.len(),
        m.funcs.len(),
        m.memories.len(),
        m.table_types.len(),
        m.global_types.len(),
        m.funcref_funcs.len(),
        m.tags.len(),
    ];
    if counts.iter().any(|c| *c > MAX_COUNT) {
        return Err(bad("too many items"));
    }
    let ntypes = m.types.len() as u32;
    if m.funcs.iter().any(|t| *t >= ntypes) {
        return Err(bad("function type index out of range"));
    }
    // A tag's type has no results: its parameters are the payload.
    if m.tags.iter().any(|t| {
        m.types
            .get(*t as usize)
            .is_none_or(|ty| !ty.results.is_empty())
    }) {
        return Err(bad("tag type"));
    }
    // Imports: counts per kind and types agree with the index spaces.
    let (mut nf, mut nm, mut nt, mut ng, mut ntag) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for import in &m.imports {
        let ok = match &import.kind {
            ImportKind::Func(t) => {
                nf += 1;
                m.funcs.get(nf - 1) == Some(t)
            }
            ImportKind::Memory(ty) => {
                nm += 1;
                m.memories.get(nm - 1) == Some(ty)
            }
            ImportKind::Table(ty) => {
                nt += 1;
                m.table_types.get(nt - 1) == Some(ty)
            }
            ImportKind::Global(ty) => {
                ng += 1;
                m.global_types.get(ng - 1) == Some(ty)
            }
            ImportKind::Tag(t) => {
                ntag += 1;
                m.tags.get(ntag - 1) == Some(t)
            }
        };
        if !ok {
            return Err(bad(format!(
                "import {}::{} disagrees with its index space",
                import.module, import.name
            )));
        }
    }
    if (nf, nm, nt, ng, ntag)
        != (
            m.imported_funcs as usize,
            m.imported_memories as usize,
            m.imported_tables as usize,
            m.imported_globals as usize,
            m.imported_tags as usize,
        )
    {
        return Err(bad("import counts disagree"));
    }
    // Code calls these imports as wasm code without looking: instantiation checks each one, by
    // binary search, so they must be sorted imported functions.
    if !m.wasm_imports.windows(2).all(|w| w[0] < w[1])
        || m.wasm_imports
            .last()
            .is_some_and(|i| *i >= m.imported_funcs)
    {
        return Err(bad("wasm-convention imports out of order or range"));
    }
    let refs_fit = m
        .table_types
        .iter()
        .map(|t| (t.elem, t.ref_type))
        .chain(m.global_types.iter().map(|g| (g.ty, g.ref_type)))
        .all(|(t, r)| r.is_none_or(|r| r.fits(t, &m.type_defs)));
    if !refs_fit {
        return Err(bad("a reference type disagrees with its representation"));
    }
    if m.tables.len() != m.table_types.len() - nt || m.globals.len() != m.global_types.len() - ng {
        return Err(bad("defined table/global counts disagree"));
    }
    for (i, t) in m.tables.iter().enumerate() {
        let elem_ok = t.ty.elem.is_ref();
        if !elem_ok
            || m.table_types.get(nt + i) != Some(&t.ty)
            || !constexpr::check(&t.init, m, m.global_types.len(), Some(t.ty.elem))
        {
            return Err(bad(format!("defined table {i}")));
        }
    }
    if m.table_types[..nt].iter().any(|t| !t.elem.is_ref()) {
        return Err(bad("imported table of a non-reference type"));
    }
    for (i, g) in m.globals.iter().enumerate() {
        if m.global_types.get(ng + i) != Some(&g.ty)
            || !constexpr::check(&g.init, m, ng + i, Some(g.ty.ty))
        {
            return Err(bad(format!("defined global {i}")));
        }
    }
    // Funcref slots: imports first (slot i = import i), then defined functions, ascending.
    let nfuncs = m.funcs.len();
    let slots = &m.funcref_funcs;
    if slots.len() < nf
        || (0..nf).any(|i| slots[i] as usize != i)
        || slots[nf..]
            .iter()
            .any(|f| (*f as usize) < nf || *f as usize >= nfuncs)
        || slots[nf..].windows(2).any(|w| w[0] >= w[1])
    {
        return Err(bad("funcref slots"));
    }
    if funcs.len() != slots.len() - nf || funcs.iter().any(|f| f.is_null()) {
        return Err(bad("funcs table disagrees with funcref slots"));
    }
    // Exports.
    if trampolines.len() != m.exports.len() {
        return Err(bad("one trampoline per export expected"));
    }
    for (e, tramp) in m.exports.iter().zip(trampolines) {
        use weld_contract::info::ExportKind;
        let ok = match e.kind {
            ExportKind::Func => {
                (e.index as usize) < nfuncs && m.funcref_slot(e.index).is_some() && !tramp.is_null()
            }
            ExportKind::Memory => (e.index as usize) < m.memories.len(),
            ExportKind::Table => (e.index as usize) < m.table_types.len(),
            ExportKind::Global => (e.index as usize) < m.global_types.len(),
            ExportKind::Tag => (e.index as usize) < m.tags.len(),
        };
        if !ok {
            return Err(bad(format!("export {:?}", e.name)));
        }
    }
    match m.start {
        Some(f) if (f as usize) < nfuncs && has_start => {}
        None if !has_start => {}
        _ => return Err(bad("start function")),
    }
    // Segments.
    let nglobals = m.global_types.len();
    for (i, e) in m.elems.iter().enumerate() {
        let mut ok = e.ty.is_ref()
            && e.items.len() <= u32::MAX as usize
            && e.items
                .iter()
                .all(|item| constexpr::check(item, m, nglobals, Some(e.ty)));
        if let SegmentMode::Active { index, offset } = &e.mode {
            ok &= m.table_types.get(*index as usize).map(|t| t.elem) == Some(e.ty)
                && constexpr::check(offset, m, nglobals, None);
        }
        if !ok {
            return Err(bad(format!("element segment {i}")));
        }
    }
    for (i, d) in m.datas.iter().enumerate() {
        let mut ok = (d.offset as usize)
            .checked_add(d.len as usize)
            .is_some_and(|end| end <= data_len);
        match &d.mode {
            SegmentMode::Active { index, offset } => {
                ok &= (*index as usize) < m.memories.len()
                    && constexpr::check(offset, m, nglobals, None);
            }
            SegmentMode::Passive => {}
            SegmentMode::Declared => ok = false,
        }
        if !ok {
            return Err(bad(format!("data segment {i}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use weld_contract::info::{DataSegment, Export, ExportKind, FuncType, MemoryType};

    fn small() -> ModuleInfo {
        ModuleInfo {
            type_defs: weld_contract::gc::TypeDefs::from_signatures(&[FuncType::default()]),
            types: vec![FuncType::default()],
            funcs: vec![0],
            memories: vec![MemoryType {
                min: 1,
                max: None,
                index: weld_contract::info::IndexType::I32,
            }],
            exports: vec![Export {
                name: "f".into(),
                kind: ExportKind::Func,
                index: 0,
            }],
            funcref_funcs: vec![0],
            datas: vec![DataSegment {
                mode: SegmentMode::Passive,
                offset: 2,
                len: 3,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_consistent_module_validates() {
        let code = [0u8; 1];
        let f = [code.as_ptr()];
        assert_eq!(validate(&small(), 5, &f, &f, false), Ok(()));
    }

    #[test]
    fn wasm_convention_imports_and_reference_types_must_fit_the_module() {
        let code = [0u8; 1];
        let f = [code.as_ptr()];
        let import = weld_contract::info::Import {
            module: "m".into(),
            name: "g".into(),
            kind: ImportKind::Func(0),
        };
        let with = |wasm_imports: alloc::vec::Vec<u32>| ModuleInfo {
            imports: vec![import.clone()],
            funcs: vec![0, 0],
            imported_funcs: 1,
            exports: Vec::new(),
            funcref_funcs: vec![0, 1],
            wasm_imports,
            ..small()
        };
        assert_eq!(validate(&with(vec![0]), 5, &f, &[], false), Ok(()));
        assert!(
            validate(&with(vec![1]), 5, &f, &[], false).is_err(),
            "a defined function"
        );
        assert!(
            validate(&with(vec![0, 0]), 5, &f, &[], false).is_err(),
            "not ascending"
        );
        let global = |ty, heap| weld_contract::info::GlobalType {
            ty,
            mutable: false,
            ref_type: Some(weld_contract::info::RefType {
                nullable: true,
                heap,
            }),
        };
        let imports_global = |g| ModuleInfo {
            imports: vec![weld_contract::info::Import {
                module: "m".into(),
                name: "g".into(),
                kind: ImportKind::Global(g),
            }],
            global_types: vec![g],
            imported_globals: 1,
            ..small()
        };
        use weld_contract::info::{HeapType, ValType};
        let ok = imports_global(global(ValType::FuncRef, HeapType::Concrete(0)));
        assert_eq!(validate(&ok, 5, &f, &f, false), Ok(()));
        let far = imports_global(global(ValType::FuncRef, HeapType::Concrete(1)));
        assert!(validate(&far, 5, &f, &f, false).is_err(), "no type 1");
        let other = imports_global(global(ValType::FuncRef, HeapType::Extern));
        assert!(
            validate(&other, 5, &f, &f, false).is_err(),
            "extern as funcref"
        );
    }

    #[test]
    fn inconsistent_modules_are_errors_not_panics() {
        let code = [0u8; 1];
        let f = [code.as_ptr()];
        assert!(
            validate(&small(), 4, &f, &f, false).is_err(),
            "data past blob"
        );
        assert!(
            validate(&small(), 5, &[], &f, false).is_err(),
            "missing code"
        );
        assert!(
            validate(&small(), 5, &f, &[], false).is_err(),
            "missing trampoline"
        );
        assert!(
            validate(&small(), 5, &f, &f, true).is_err(),
            "start without index"
        );
        let mut m = small();
        m.imported_memories = 2;
        assert!(validate(&m, 5, &f, &f, false).is_err());
        let mut m = small();
        m.funcs = vec![7];
        assert!(validate(&m, 5, &f, &f, false).is_err());
        let mut m = small();
        m.exports[0].index = 9;
        assert!(validate(&m, 5, &f, &f, false).is_err());
    }

    fn leaked(magic: [u8; 8], abi_version: u32) -> &'static VMModuleDescriptor {
        alloc::boxed::Box::leak(alloc::boxed::Box::new(VMModuleDescriptor {
            magic,
            abi_version,
            flags: 0,
            info: core::ptr::null(),
            info_len: 0,
            data: core::ptr::null(),
            data_len: 0,
            funcs: core::ptr::null(),
            funcs_len: 0,
            trampolines: core::ptr::null(),
            trampolines_len: 0,
            start: core::ptr::null(),
            code: core::ptr::null(),
            code_len: 0,
            traps: core::ptr::null(),
            traps_len: 0,
            func_ranges: core::ptr::null(),
            func_ranges_len: 0,
            call_sites: core::ptr::null(),
            call_sites_len: 0,
            handlers: core::ptr::null(),
            handlers_len: 0,
            stack_maps: core::ptr::null(),
            stack_maps_len: 0,
            stack_slots: core::ptr::null(),
            stack_slots_len: 0,
        }))
    }

    #[test]
    fn descriptors_with_the_wrong_magic_or_version_are_refused() {
        // SAFETY: the descriptors are well formed (empty) and leaked.
        unsafe {
            let r = Module::from_descriptor(leaked(*b"notweld\0", ABI_VERSION));
            assert_eq!(r.err(), Some(LoadError::BadMagic));
            let r = Module::from_descriptor(leaked(MAGIC, ABI_VERSION + 1));
            assert!(matches!(r, Err(LoadError::AbiVersion { .. })));
            let r = Module::from_descriptor(leaked(MAGIC, ABI_VERSION));
            assert!(matches!(r, Err(LoadError::Malformed(_))), "no info blob");
        }
    }

    #[test]
    fn a_linked_descriptor_still_has_its_header_checked() {
        // SAFETY: as above.
        unsafe {
            let r = Module::load(leaked(*b"notweld\0", ABI_VERSION), Checks::HeaderOnly);
            assert_eq!(r.err(), Some(LoadError::BadMagic));
            let r = Module::load(leaked(MAGIC, ABI_VERSION + 1), Checks::HeaderOnly);
            assert!(matches!(r, Err(LoadError::AbiVersion { .. })));
        }
        assert!(Checks::All.tables() && !Checks::HeaderOnly.tables());
        assert_eq!(Checks::linked().tables(), cfg!(debug_assertions));
    }

    #[test]
    fn code_for_cpu_features_this_cpu_lacks_is_refused_by_name() {
        use weld_contract::cpu::by_name;
        let flags = FLAG_EXPLICIT_BOUNDS
            | by_name("avx2").map_or(0, |f| f.flag)
            | by_name("avx512f").map_or(0, |f| f.flag);
        assert!(check_cpu_with(flags, |_| true).is_ok());
        assert!(check_cpu_with(FLAG_EXPLICIT_BOUNDS, |_| false).is_ok());
        match check_cpu_with(flags, |n| n == "avx2") {
            Err(e @ LoadError::CpuFeatures(_)) => {
                let text = alloc::format!("{e}");
                assert!(
                    text.contains("avx512f") && !text.contains("avx2,"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
