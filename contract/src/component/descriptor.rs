//! The component descriptor: the data symbol `<prefix>__component` through which the runtime
//! finds a compiled component.
//!
//! ```text
//! VMComponentDescriptor ──► info blob (ComponentInfo::encode)
//!                       ──► modules[i]: &VMModuleDescriptor of core module i
//!                       ──► lowerings[i]: code of lowering i's trampoline
//! ```
//!
//! A lowering trampoline has the lowered core signature in the wasm ABI,
//! `(ctx, core params...) -> core results`, where `ctx` points at a runtime-owned
//! [`VMLoweringContext`]. It stores the parameters into `ValRaw` slots (one per parameter, and
//! at least one per result), calls `ctx.callback(ctx, slots)`, and returns the results read back
//! from the slots starting at index 0. The callback does the Canonical ABI work (or raises a
//! trap through the runtime's unwinder).

/// First bytes of every component descriptor.
pub const COMPONENT_MAGIC: [u8; 8] = *b"weldcmp\0";

/// The Canonical ABI flags of one component instance, shared by the runtime and compiled fused
/// calls: non-zero means "may". The runtime owns them; a lowering's context points at its
/// caller's and callee's.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMComponentFlags {
    /// The instance may be entered (it is not on the stack and did not trap).
    pub may_enter: u32,
    /// The instance may call out (not during post-return or argument lowering).
    pub may_leave: u32,
}

/// Offset of `VMComponentFlags::may_enter`.
pub const FLAGS_MAY_ENTER: u32 = 0;
/// Offset of `VMComponentFlags::may_leave`.
pub const FLAGS_MAY_LEAVE: u32 = 4;

/// Runtime-owned context of one lowered function.
///
/// A generic trampoline reads only `callback`. When the lowering calls a lifted function whose
/// parameters are scalars, records/tuples of scalars and UTF-8 strings (and whose result is a
/// scalar) the compiler emits a *fused* trampoline instead: it checks and updates the two
/// instances' flags, converts the scalars, copies each string into a buffer from the callee's
/// `realloc`, and calls `callee` (and `post_return`) directly; whenever a check fails before
/// anything was changed it falls back to `callback`, which does the full Canonical ABI work and
/// raises the proper trap. The runtime fills `callee`, `post_return` and the flags for
/// lowerings of lifted functions, and the memories and `callee_realloc` when the function moves
/// strings between two distinct memories (all null otherwise; a fused trampoline with strings
/// takes the generic path when `callee_realloc` is null).
#[repr(C)]
#[derive(Debug)]
pub struct VMLoweringContext {
    /// `extern "C" fn(ctx: *mut VMLoweringContext, slots: *mut ValRaw)`.
    pub callback: *const u8,
    /// The callee's core function.
    pub callee: *const crate::vmctx::VMFuncRef,
    /// The callee's post-return function, or null.
    pub post_return: *const crate::vmctx::VMFuncRef,
    /// The calling component instance's flags.
    pub caller_flags: *mut VMComponentFlags,
    /// The called component instance's flags.
    pub callee_flags: *mut VMComponentFlags,
    /// The caller's linear memory (strings are read from it), or null.
    pub caller_memory: *mut crate::vmctx::VMMemory,
    /// The callee's linear memory (strings are copied into it), or null.
    pub callee_memory: *mut crate::vmctx::VMMemory,
    /// The callee's `realloc`, or null.
    pub callee_realloc: *const crate::vmctx::VMFuncRef,
}

/// Offset of `VMLoweringContext::callback`.
pub const LOWERING_CALLBACK: u32 = 0;
/// Offset of `VMLoweringContext::callee`.
pub const LOWERING_CALLEE: u32 = 8;
/// Offset of `VMLoweringContext::post_return`.
pub const LOWERING_POST_RETURN: u32 = 16;
/// Offset of `VMLoweringContext::caller_flags`.
pub const LOWERING_CALLER_FLAGS: u32 = 24;
/// Offset of `VMLoweringContext::callee_flags`.
pub const LOWERING_CALLEE_FLAGS: u32 = 32;
/// Offset of `VMLoweringContext::caller_memory`.
pub const LOWERING_CALLER_MEMORY: u32 = 40;
/// Offset of `VMLoweringContext::callee_memory`.
pub const LOWERING_CALLEE_MEMORY: u32 = 48;
/// Offset of `VMLoweringContext::callee_realloc`.
pub const LOWERING_CALLEE_REALLOC: u32 = 56;

#[cfg(test)]
mod layout_tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn lowering_context_and_flags_offsets_match_the_structs() {
        assert_eq!(
            offset_of!(VMLoweringContext, callback) as u32,
            LOWERING_CALLBACK
        );
        assert_eq!(
            offset_of!(VMLoweringContext, callee) as u32,
            LOWERING_CALLEE
        );
        assert_eq!(
            offset_of!(VMLoweringContext, post_return) as u32,
            LOWERING_POST_RETURN
        );
        assert_eq!(
            offset_of!(VMLoweringContext, caller_flags) as u32,
            LOWERING_CALLER_FLAGS
        );
        assert_eq!(
            offset_of!(VMLoweringContext, callee_flags) as u32,
            LOWERING_CALLEE_FLAGS
        );
        assert_eq!(
            offset_of!(VMLoweringContext, caller_memory) as u32,
            LOWERING_CALLER_MEMORY
        );
        assert_eq!(
            offset_of!(VMLoweringContext, callee_memory) as u32,
            LOWERING_CALLEE_MEMORY
        );
        assert_eq!(
            offset_of!(VMLoweringContext, callee_realloc) as u32,
            LOWERING_CALLEE_REALLOC
        );
        assert_eq!(
            offset_of!(VMComponentFlags, may_enter) as u32,
            FLAGS_MAY_ENTER
        );
        assert_eq!(
            offset_of!(VMComponentFlags, may_leave) as u32,
            FLAGS_MAY_LEAVE
        );
    }
}

/// The descriptor a compiled component exports.
#[repr(C)]
#[derive(Debug)]
pub struct VMComponentDescriptor {
    /// [`COMPONENT_MAGIC`].
    pub magic: [u8; 8],
    /// [`crate::ABI_VERSION`].
    pub abi_version: u32,
    /// Reserved, zero.
    pub flags: u32,
    /// Encoded [`super::ComponentInfo`].
    pub info: *const u8,
    /// Its length.
    pub info_len: usize,
    /// Module descriptors, by module index.
    pub modules: *const *const crate::descriptor::VMModuleDescriptor,
    /// Number of modules.
    pub modules_len: usize,
    /// Trampoline code per lowering.
    pub lowerings: *const *const u8,
    /// Number of lowerings.
    pub lowerings_len: usize,
}

/// Byte offsets of the descriptor's fields, for the compiler writing it.
pub mod offsets {
    use super::VMComponentDescriptor;
    use core::mem::offset_of;
    /// `magic`
    pub const MAGIC: usize = offset_of!(VMComponentDescriptor, magic);
    /// `abi_version`
    pub const ABI_VERSION: usize = offset_of!(VMComponentDescriptor, abi_version);
    /// `info`
    pub const INFO: usize = offset_of!(VMComponentDescriptor, info);
    /// `info_len`
    pub const INFO_LEN: usize = offset_of!(VMComponentDescriptor, info_len);
    /// `modules`
    pub const MODULES: usize = offset_of!(VMComponentDescriptor, modules);
    /// `modules_len`
    pub const MODULES_LEN: usize = offset_of!(VMComponentDescriptor, modules_len);
    /// `lowerings`
    pub const LOWERINGS: usize = offset_of!(VMComponentDescriptor, lowerings);
    /// `lowerings_len`
    pub const LOWERINGS_LEN: usize = offset_of!(VMComponentDescriptor, lowerings_len);
    /// Size of the whole descriptor.
    pub const SIZE: usize = core::mem::size_of::<VMComponentDescriptor>();
}
