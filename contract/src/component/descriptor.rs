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

/// The Canonical ABI flags of one component instance, shared by the runtime and the generated
/// adapters: non-zero means "may". The runtime owns them. Each flag is shaped like a
/// [`crate::vmctx::VMGlobal`] (an `i32` at offset 0 of a 16-byte cell), so that an adapter
/// imports it as a mutable `i32` global ([`super::CoreDef::Flag`]) and compiled code reads and
/// writes it like any other imported global.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMComponentFlags {
    /// The instance may be entered (it is not on the stack and did not trap).
    pub may_enter: crate::vmctx::VMGlobal,
    /// The instance may call out (not during post-return or argument lowering).
    pub may_leave: crate::vmctx::VMGlobal,
}

/// Offset of `VMComponentFlags::may_enter`.
pub const FLAGS_MAY_ENTER: u32 = 0;
/// Offset of `VMComponentFlags::may_leave`.
pub const FLAGS_MAY_LEAVE: u32 = 16;

/// Runtime-owned context of one lowered function that no generated adapter covers (a host
/// import, a built-in, or a fused call of a shape the adapter stage leaves to the runtime).
///
/// Its trampoline stores the parameters into `ValRaw` slots, calls `callback(ctx, slots)`,
/// which does the Canonical ABI work (or raises a trap), and returns the results read back
/// from the slots.
#[repr(C)]
#[derive(Debug)]
pub struct VMLoweringContext {
    /// `extern "C" fn(ctx: *mut VMLoweringContext, slots: *mut ValRaw)`.
    pub callback: *const u8,
}

/// Offset of `VMLoweringContext::callback`.
pub const LOWERING_CALLBACK: u32 = 0;

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
