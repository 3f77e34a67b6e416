//! The module descriptor: the one data symbol (`<prefix>__module`) through which the runtime finds
//! everything in a compiled object.
//!
//! ```text
//! VMModuleDescriptor ──► info blob (ModuleInfo::encode)
//!                    ──► data blob (bytes of all data segments)
//!                    ──► funcs[funcref slot - imported funcs]: code of escaping defined functions
//!                    ──► trampolines[export]: array-call entry of each exported function (or null)
//!                    ──► start trampoline (or null)
//!                    ──► code range + trap table (sorted code offsets → TrapCode)
//!                    ──► function ranges (code offset and length of each defined function,
//!                        in function order; for backtraces)
//!                    ──► exception table: call sites inside `try_table` (sorted by return
//!                        address) → their handlers, innermost first
//!                    ──► stack maps: call sites with live GC references (sorted by return
//!                        address) → the frame slots that hold them
//! ```

use crate::trap::TrapCode;

/// First bytes of every descriptor.
pub const MAGIC: [u8; 8] = *b"weldmod\0";

/// Flag: the code was compiled with explicit bounds checks (needs no guard region).
pub const FLAG_EXPLICIT_BOUNDS: u32 = 1;

/// Bytes of address space a memory must reserve past its maximum accessible byte (4 GiB) when the
/// code relies on guard regions: accesses whose static offset is below this need no check.
pub const GUARD_BYTES: u64 = 2 << 30;

/// Address space a 32-bit memory reserves in guard mode: 4 GiB plus the guard region.
pub const GUARDED_RESERVATION: u64 = (4 << 30) + GUARD_BYTES;

/// One trap site.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMTrapEntry {
    /// Offset of the trapping instruction from `code`.
    pub offset: u32,
    /// The [`TrapCode`] as a byte.
    pub code: u32,
}

impl VMTrapEntry {
    /// The decoded code.
    pub fn trap_code(&self) -> Option<TrapCode> {
        u8::try_from(self.code).ok().and_then(TrapCode::from_u8)
    }
}

/// Where one defined function's code is: `start` bytes into the module's code, `len` bytes long.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMFuncRange {
    /// Offset of its first instruction from `code`.
    pub start: u32,
    /// Length of its code in bytes.
    pub len: u32,
}

/// A call inside a `try_table`: where it returns to, how to find its frame's stack pointer and
/// the instance its handlers' tags belong to, and which handlers apply.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMCallSite {
    /// Offset of the call's return address from `code`.
    pub ret: u32,
    /// The caller's frame pointer minus its stack pointer at the call.
    pub frame_offset: u32,
    /// Where the caller's vmctx is saved, as an offset from that stack pointer: handlers' tags
    /// are tag indices of that instance's module.
    pub vmctx_sp_offset: u32,
    /// First handler, an index into the handler table.
    pub handlers_start: u32,
    /// Number of handlers.
    pub handlers_len: u32,
}

/// One handler of a call site.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMHandler {
    /// Tag index in the caller's module, or [`crate::vmctx::EXN_CATCH_ALL`].
    pub tag: u32,
    /// Offset of the handler's code from `code`.
    pub target: u32,
}

/// The GC references live in a wasm frame while it waits at one call: the slots
/// `slots[start..start + len]` of the module's slot table, each an offset from the frame
/// pointer (negative: below it) of a spilled 8-byte reference word.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMStackMap {
    /// Offset of the call's return address from `code`.
    pub ret: u32,
    /// First slot, an index into the slot table.
    pub start: u32,
    /// Number of slots.
    pub len: u32,
}

/// The stack map whose return address is `ret` in a sorted stack-map table.
pub fn stack_map_at(maps: &[VMStackMap], ret: usize) -> Option<&VMStackMap> {
    let ret = u32::try_from(ret).ok()?;
    let i = maps.binary_search_by_key(&ret, |m| m.ret).ok()?;
    maps.get(i)
}

/// The call site whose return address is `ret` in a sorted call-site table.
pub fn call_site_at(sites: &[VMCallSite], ret: usize) -> Option<&VMCallSite> {
    let ret = u32::try_from(ret).ok()?;
    let i = sites.binary_search_by_key(&ret, |s| s.ret).ok()?;
    sites.get(i)
}

/// The index into a function-range table (sorted by start, non-overlapping) of the function
/// whose code holds `offset`.
pub fn func_at(ranges: &[VMFuncRange], offset: usize) -> Option<usize> {
    let offset = u32::try_from(offset).ok()?;
    let i = ranges
        .partition_point(|r| r.start <= offset)
        .checked_sub(1)?;
    let r = ranges.get(i)?;
    (offset - r.start < r.len).then_some(i)
}

/// The descriptor a compiled object exports.
#[repr(C)]
#[derive(Debug)]
pub struct VMModuleDescriptor {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`crate::ABI_VERSION`].
    pub abi_version: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Encoded [`crate::info::ModuleInfo`].
    pub info: *const u8,
    /// Its length.
    pub info_len: usize,
    /// Bytes of all data segments.
    pub data: *const u8,
    /// Its length.
    pub data_len: usize,
    /// Code of each defined funcref slot, in slot order.
    pub funcs: *const *const u8,
    /// Number of entries in `funcs`.
    pub funcs_len: usize,
    /// Array-call trampoline per export (null for non-function exports).
    pub trampolines: *const *const u8,
    /// Number of entries in `trampolines` (= exports).
    pub trampolines_len: usize,
    /// Array-call trampoline of the start function, or null.
    pub start: *const u8,
    /// Start of the module's code.
    pub code: *const u8,
    /// Length of the module's code.
    pub code_len: usize,
    /// Trap sites, sorted by offset.
    pub traps: *const VMTrapEntry,
    /// Number of trap sites.
    pub traps_len: usize,
    /// Code range of each defined function (defined function `i` is function index
    /// `imported_funcs + i`), sorted by start.
    pub func_ranges: *const VMFuncRange,
    /// Number of entries in `func_ranges` (= defined functions).
    pub func_ranges_len: usize,
    /// Call sites with exception handlers, sorted by `ret`.
    pub call_sites: *const VMCallSite,
    /// Number of call sites.
    pub call_sites_len: usize,
    /// Handlers the call sites point into.
    pub handlers: *const VMHandler,
    /// Number of handlers.
    pub handlers_len: usize,
    /// Stack maps, sorted by `ret`.
    pub stack_maps: *const VMStackMap,
    /// Number of stack maps.
    pub stack_maps_len: usize,
    /// Frame-pointer-relative slot offsets the stack maps point into.
    pub stack_slots: *const i32,
    /// Number of slots.
    pub stack_slots_len: usize,
}

/// Byte offsets of the descriptor's fields, for the compiler writing it.
pub mod offsets {
    use super::VMModuleDescriptor;
    use core::mem::offset_of;
    /// `magic`
    pub const MAGIC: usize = offset_of!(VMModuleDescriptor, magic);
    /// `abi_version`
    pub const ABI_VERSION: usize = offset_of!(VMModuleDescriptor, abi_version);
    /// `flags`
    pub const FLAGS: usize = offset_of!(VMModuleDescriptor, flags);
    /// `info`
    pub const INFO: usize = offset_of!(VMModuleDescriptor, info);
    /// `info_len`
    pub const INFO_LEN: usize = offset_of!(VMModuleDescriptor, info_len);
    /// `data`
    pub const DATA: usize = offset_of!(VMModuleDescriptor, data);
    /// `data_len`
    pub const DATA_LEN: usize = offset_of!(VMModuleDescriptor, data_len);
    /// `funcs`
    pub const FUNCS: usize = offset_of!(VMModuleDescriptor, funcs);
    /// `funcs_len`
    pub const FUNCS_LEN: usize = offset_of!(VMModuleDescriptor, funcs_len);
    /// `trampolines`
    pub const TRAMPOLINES: usize = offset_of!(VMModuleDescriptor, trampolines);
    /// `trampolines_len`
    pub const TRAMPOLINES_LEN: usize = offset_of!(VMModuleDescriptor, trampolines_len);
    /// `start`
    pub const START: usize = offset_of!(VMModuleDescriptor, start);
    /// `code`
    pub const CODE: usize = offset_of!(VMModuleDescriptor, code);
    /// `code_len`
    pub const CODE_LEN: usize = offset_of!(VMModuleDescriptor, code_len);
    /// `traps`
    pub const TRAPS: usize = offset_of!(VMModuleDescriptor, traps);
    /// `traps_len`
    pub const TRAPS_LEN: usize = offset_of!(VMModuleDescriptor, traps_len);
    /// `func_ranges`
    pub const FUNC_RANGES: usize = offset_of!(VMModuleDescriptor, func_ranges);
    /// `func_ranges_len`
    pub const FUNC_RANGES_LEN: usize = offset_of!(VMModuleDescriptor, func_ranges_len);
    /// `call_sites`
    pub const CALL_SITES: usize = offset_of!(VMModuleDescriptor, call_sites);
    /// `call_sites_len`
    pub const CALL_SITES_LEN: usize = offset_of!(VMModuleDescriptor, call_sites_len);
    /// `handlers`
    pub const HANDLERS: usize = offset_of!(VMModuleDescriptor, handlers);
    /// `handlers_len`
    pub const HANDLERS_LEN: usize = offset_of!(VMModuleDescriptor, handlers_len);
    /// `stack_maps`
    pub const STACK_MAPS: usize = offset_of!(VMModuleDescriptor, stack_maps);
    /// `stack_maps_len`
    pub const STACK_MAPS_LEN: usize = offset_of!(VMModuleDescriptor, stack_maps_len);
    /// `stack_slots`
    pub const STACK_SLOTS: usize = offset_of!(VMModuleDescriptor, stack_slots);
    /// `stack_slots_len`
    pub const STACK_SLOTS_LEN: usize = offset_of!(VMModuleDescriptor, stack_slots_len);
    /// Size of the whole descriptor.
    pub const SIZE: usize = core::mem::size_of::<VMModuleDescriptor>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn func_at_finds_the_function_holding_an_offset_and_nothing_in_gaps() {
        let ranges = [
            VMFuncRange { start: 0, len: 10 },
            VMFuncRange { start: 16, len: 4 },
            VMFuncRange { start: 32, len: 1 },
        ];
        assert_eq!(func_at(&ranges, 0), Some(0));
        assert_eq!(func_at(&ranges, 9), Some(0));
        assert_eq!(func_at(&ranges, 10), None, "padding between functions");
        assert_eq!(func_at(&ranges, 16), Some(1));
        assert_eq!(func_at(&ranges, 19), Some(1));
        assert_eq!(func_at(&ranges, 32), Some(2));
        assert_eq!(func_at(&ranges, 33), None);
        assert_eq!(func_at(&[], 0), None);
    }
}
