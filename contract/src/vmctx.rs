//! The instance layout (`vmctx`): the block of memory every compiled function receives as its
//! first argument.
//!
//! ```text
//! offset                 field                                   size
//! 0                      libcalls: *const [fn; Libcall::ALL]     8
//! 8                      store: *mut VMStoreContext              8
//! 16                     instance: runtime back-pointer          8
//! 24                     gc_heap: *mut VMGcHeap (the store's)    8
//! imported_memories      *mut VMMemory, one per imported memory  8 × n
//! defined_memories       VMMemory, one per defined memory        16 × n
//! imported_tables        *mut VMTable                            8 × n
//! defined_tables         VMTable                                 16 × n
//! imported_globals       *mut VMGlobal                           8 × n
//! defined_globals        VMGlobal                                16 × n
//! type_ids               u32 per type index (canonical id)       4 × n, padded to 8
//! funcrefs               VMFuncRef per funcref slot              24 × n
//! tags                   *const u8 per tag: its identity         8 × n
//! ```
//!
//! Funcref slots: every imported function has one (slot = import index, which is how calls to
//! imports find their target), and so does every defined function that can escape (exported,
//! in an element segment, or named by `ref.func`). Table elements of type funcref are pointers to
//! these slots, or null.
//!
//! Tags (exception handling) are compared by identity: a defined tag's identity is the address
//! of its own slot in the defining instance's vmctx (the slot holds that address), and an
//! imported tag's slot holds the exporter's identity. The runtime matches a thrown exception
//! against a handler by comparing these words.
//!
//! Only 64-bit targets are supported (Cranelift has no 32-bit back end), so pointers are 8 bytes.

/// Pointer size on every supported target.
pub const PTR: u32 = 8;

/// State shared by all instances that can call each other (one store).
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Lowest stack address wasm code may use; the prologue of every function checks it.
    pub stack_limit: usize,
    /// Frame pointer of the wasm function that last called a libcall (written before each
    /// libcall call), where a backtrace of a trap raised by the libcall starts.
    pub exit_fp: usize,
    /// Function index (in its module) of that function.
    pub exit_func: u32,
    /// Frame pointer of the innermost exit trampoline the running activation is inside (0 when
    /// none): its frame record holds the return address into the wasm code that left and that
    /// code's frame pointer, where the collector's walk over wasm frames starts.
    pub exit_frame: usize,
    /// The activations wasm is nested in (wasm → host → wasm), innermost first: each entry
    /// into wasm from a host function links one ([`VMEntryRecord`]); null at the outermost.
    pub entries: *const VMEntryRecord,
}

/// What an entry into wasm keeps of the activation it interrupts, on its own stack.
#[repr(C)]
#[derive(Debug)]
pub struct VMEntryRecord {
    /// The interrupted activation's `exit_frame` (0: it left wasm without an exit trampoline,
    /// or no wasm ran in it).
    pub exit_frame: usize,
    /// Whether the interrupted activation ran wasm code whose frames the collector cannot
    /// walk (it left without an exit trampoline): objects must not move then.
    pub opaque: bool,
    /// The next outer record, or null.
    pub prev: *const VMEntryRecord,
}

/// The GC heap as compiled code sees it: where the next object may start and where the
/// current allocation region ends. The runtime's heap starts with this struct.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMGcHeap {
    /// Address of the next free byte (8-aligned).
    pub next: usize,
    /// End of the region `next` bumps through.
    pub limit: usize,
}

/// A linear memory as compiled code sees it. The base never moves once the memory exists (the
/// runtime reserves the maximum up front), so loads of `base` may be hoisted.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    /// First byte of the memory.
    pub base: *mut u8,
    /// Current length in bytes.
    pub length: u64,
}

/// A table as compiled code sees it: `length` elements of 8 bytes at `base`. Funcref elements
/// are `*const VMFuncRef` (null = `ref.null func`); externref elements are host-defined words
/// (0 = `ref.null extern`). `base` moves when the table grows.
#[repr(C)]
#[derive(Debug)]
pub struct VMTable {
    /// First element.
    pub base: *mut usize,
    /// Number of elements.
    pub length: u64,
}

/// Storage of one global: 16 bytes so any value type (up to v128) fits at offset 0.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    /// The value's bytes in native order, starting at offset 0.
    pub bytes: [u8; 16],
}

/// A callable function: code pointer (`vmctx, params... -> results`), the vmctx to pass, the
/// canonical id of its type for `call_indirect` checks, and which calling convention the code
/// follows ([`FuncAbi`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Native code of the function.
    pub func: *const u8,
    /// The instance (or host context) the function expects as first argument.
    pub vmctx: *mut u8,
    /// Canonical type id (see the runtime's type registry).
    pub type_id: u32,
    /// A [`FuncAbi`] as a number.
    pub abi: u32,
}

/// The calling convention of a [`VMFuncRef`]'s code. Compiled wasm functions use Cranelift's
/// `tail` convention, the only one in which `return_call` can replace the caller's frame; code
/// written elsewhere (C and Rust host functions, the runtime's component built-ins, lowering
/// trampolines that C hosts may call) uses the platform's C convention. Compiled code that calls
/// through a funcref reads this field and uses the matching convention (a tail call into a
/// `Native` function is an ordinary call followed by a return: the host function cannot call
/// back in tail position, so the stack stays bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FuncAbi {
    /// Cranelift's `tail` convention: code compiled from wasm.
    Wasm = 0,
    /// The platform's C convention (System V on x86_64, AAPCS64, the RISC-V psABI).
    Native = 1,
}

/// One value slot of the "array call" convention used between the host and compiled code:
/// `extern "C" fn(vmctx, *mut ValRaw)` reads its arguments from the slots and writes its results
/// back into them. A value is stored in native byte order from offset 0.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValRaw {
    /// The raw bytes.
    pub bytes: [u8; 16],
}

impl ValRaw {
    /// From a 32-bit integer.
    pub fn i32(v: i32) -> ValRaw {
        Self::from_u128(v as u32 as u128)
    }
    /// From a 64-bit integer.
    pub fn i64(v: i64) -> ValRaw {
        Self::from_u128(v as u64 as u128)
    }
    /// From the bits of a 32-bit float.
    pub fn f32(bits: u32) -> ValRaw {
        Self::from_u128(bits as u128)
    }
    /// From the bits of a 64-bit float.
    pub fn f64(bits: u64) -> ValRaw {
        Self::from_u128(bits as u128)
    }
    /// From 128 bits (v128 or any smaller value, zero-extended).
    pub fn from_u128(v: u128) -> ValRaw {
        ValRaw {
            bytes: v.to_ne_bytes(),
        }
    }
    /// As a 32-bit integer.
    pub fn get_i32(&self) -> i32 {
        self.get_u128() as u32 as i32
    }
    /// As a 64-bit integer.
    pub fn get_i64(&self) -> i64 {
        self.get_u128() as u64 as i64
    }
    /// As 32 float bits.
    pub fn get_f32(&self) -> u32 {
        self.get_u128() as u32
    }
    /// As 64 float bits.
    pub fn get_f64(&self) -> u64 {
        self.get_u128() as u64
    }
    /// All 128 bits.
    pub fn get_u128(&self) -> u128 {
        #[cfg(target_endian = "little")]
        {
            u128::from_ne_bytes(self.bytes)
        }
        #[cfg(target_endian = "big")]
        compile_error!("weld supports little-endian targets only")
    }
}

/// Counts that determine a vmctx layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VMCounts {
    /// Imported memories.
    pub imported_memories: u32,
    /// Defined memories.
    pub defined_memories: u32,
    /// Imported tables.
    pub imported_tables: u32,
    /// Defined tables.
    pub defined_tables: u32,
    /// Imported globals.
    pub imported_globals: u32,
    /// Defined globals.
    pub defined_globals: u32,
    /// Function types.
    pub types: u32,
    /// Funcref slots.
    pub funcrefs: u32,
    /// Tags, imported and defined.
    pub tags: u32,
}

/// Byte offsets of everything in a vmctx with the given counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMOffsets {
    /// The counts this layout was made from.
    pub counts: VMCounts,
    /// Start of the imported-memory pointers.
    pub imported_memories: u32,
    /// Start of the defined `VMMemory` structs.
    pub defined_memories: u32,
    /// Start of the imported-table pointers.
    pub imported_tables: u32,
    /// Start of the defined `VMTable` structs.
    pub defined_tables: u32,
    /// Start of the imported-global pointers.
    pub imported_globals: u32,
    /// Start of the defined globals (16-byte aligned).
    pub defined_globals: u32,
    /// Start of the type-id array.
    pub type_ids: u32,
    /// Start of the funcref slots.
    pub funcrefs: u32,
    /// Start of the tag identities.
    pub tags: u32,
    /// Total size in bytes (a multiple of 16).
    pub size: u32,
}

/// Offset of the libcall-table pointer.
pub const VMCTX_LIBCALLS: u32 = 0;
/// Offset of the store-context pointer.
pub const VMCTX_STORE: u32 = 8;
/// Offset of the runtime's back-pointer.
pub const VMCTX_INSTANCE: u32 = 16;
/// Offset of the GC heap pointer ([`VMGcHeap`]).
pub const VMCTX_GC_HEAP: u32 = 24;
/// Size of the fixed header.
pub const VMCTX_HEADER: u32 = 32;

/// Offset of `VMStoreContext::stack_limit`.
pub const STORE_STACK_LIMIT: u32 = 0;
/// Offset of `VMStoreContext::exit_fp`.
pub const STORE_EXIT_FP: u32 = 8;
/// Offset of `VMStoreContext::exit_func`.
pub const STORE_EXIT_FUNC: u32 = 16;
/// Offset of `VMStoreContext::exit_frame`.
pub const STORE_EXIT_FRAME: u32 = 24;
/// Offset of `VMGcHeap::next`.
pub const GC_HEAP_NEXT: u32 = 0;
/// Offset of `VMGcHeap::limit`.
pub const GC_HEAP_LIMIT: u32 = 8;
/// Offset of `VMMemory::base`.
pub const MEMORY_BASE: u32 = 0;
/// Offset of `VMMemory::length`.
pub const MEMORY_LENGTH: u32 = 8;
/// Size of `VMMemory`.
pub const MEMORY_SIZE: u32 = 16;
/// Offset of `VMTable::base`.
pub const TABLE_BASE: u32 = 0;
/// Offset of `VMTable::length`.
pub const TABLE_LENGTH: u32 = 8;
/// Size of `VMTable`.
pub const TABLE_SIZE: u32 = 16;
/// Size of `VMGlobal`.
pub const GLOBAL_SIZE: u32 = 16;
/// Offset of `VMFuncRef::func`.
pub const FUNCREF_FUNC: u32 = 0;
/// Offset of `VMFuncRef::vmctx`.
pub const FUNCREF_VMCTX: u32 = 8;
/// Offset of `VMFuncRef::type_id` (32 bits).
pub const FUNCREF_TYPE_ID: u32 = 16;
/// Offset of `VMFuncRef::abi` (32 bits).
pub const FUNCREF_ABI: u32 = 20;
/// Size of `VMFuncRef`.
pub const FUNCREF_SIZE: u32 = 24;
/// Size of one `ValRaw` slot.
pub const VALRAW_SIZE: u32 = 16;

const fn align(x: u32, a: u32) -> u32 {
    (x + a - 1) & !(a - 1)
}

impl VMOffsets {
    /// Lay out a vmctx. Overflow is impossible for counts the front end accepts (it limits each
    /// count to far below `u32::MAX / 24`).
    pub const fn new(counts: VMCounts) -> VMOffsets {
        let imported_memories = VMCTX_HEADER;
        let defined_memories = imported_memories + PTR * counts.imported_memories;
        let imported_tables = defined_memories + MEMORY_SIZE * counts.defined_memories;
        let defined_tables = imported_tables + PTR * counts.imported_tables;
        let imported_globals = defined_tables + TABLE_SIZE * counts.defined_tables;
        let defined_globals = align(imported_globals + PTR * counts.imported_globals, 16);
        let type_ids = defined_globals + GLOBAL_SIZE * counts.defined_globals;
        let funcrefs = align(type_ids + 4 * counts.types, 8);
        let tags = funcrefs + FUNCREF_SIZE * counts.funcrefs;
        let size = align(tags + PTR * counts.tags, 16);
        VMOffsets {
            counts,
            imported_memories,
            defined_memories,
            imported_tables,
            defined_tables,
            imported_globals,
            defined_globals,
            type_ids,
            funcrefs,
            tags,
            size,
        }
    }

    /// Offset of the pointer to imported memory `i`.
    pub const fn imported_memory(&self, i: u32) -> u32 {
        self.imported_memories + PTR * i
    }
    /// Offset of defined memory `i`'s `VMMemory`.
    pub const fn defined_memory(&self, i: u32) -> u32 {
        self.defined_memories + MEMORY_SIZE * i
    }
    /// Offset of the pointer to imported table `i`.
    pub const fn imported_table(&self, i: u32) -> u32 {
        self.imported_tables + PTR * i
    }
    /// Offset of defined table `i`'s `VMTable`.
    pub const fn defined_table(&self, i: u32) -> u32 {
        self.defined_tables + TABLE_SIZE * i
    }
    /// Offset of the pointer to imported global `i`.
    pub const fn imported_global(&self, i: u32) -> u32 {
        self.imported_globals + PTR * i
    }
    /// Offset of defined global `i`.
    pub const fn defined_global(&self, i: u32) -> u32 {
        self.defined_globals + GLOBAL_SIZE * i
    }
    /// Offset of the canonical id of type `i`.
    pub const fn type_id(&self, i: u32) -> u32 {
        self.type_ids + 4 * i
    }
    /// Offset of funcref slot `i`.
    pub const fn funcref(&self, i: u32) -> u32 {
        self.funcrefs + FUNCREF_SIZE * i
    }
    /// Offset of tag `i`'s identity.
    pub const fn tag(&self, i: u32) -> u32 {
        self.tags + PTR * i
    }
}

/// The head of an exception object (an `exnref` points at it), followed by one [`ValRaw`] slot
/// per payload value at [`EXN_PAYLOAD`]. Compiled code allocates one with the `exn_new` libcall,
/// stores the payload, and hands it to `throw`; handlers read the payload back. The runtime owns
/// the memory: an exception caught by a plain `catch` (never seen as an `exnref`) is freed by
/// `exn_release`, one that escaped as an `exnref` (`catch_ref`, `catch_all_ref`) lives until
/// its store is dropped.
#[repr(C)]
#[derive(Debug)]
pub struct VMException {
    /// The tag's identity (see the module documentation).
    pub tag: *const u8,
    /// Runtime bookkeeping: the owning list's links.
    pub prev: *mut VMException,
    /// Runtime bookkeeping: the owning list's links.
    pub next: *mut VMException,
    /// Runtime bookkeeping: the list that owns this object.
    pub owner: *mut u8,
    /// Non-zero once wasm code has seen this exception as an `exnref`.
    pub escaped: u32,
    /// Number of payload slots.
    pub slots: u32,
    /// Runtime bookkeeping: what the payload slots hold (the tag's function type), for the
    /// collector.
    pub payload: *const u8,
}

/// Offset of `VMException::escaped`.
pub const EXN_ESCAPED: u32 = 32;
/// Offset of the first payload slot (16-byte aligned).
pub const EXN_PAYLOAD: u32 = 48;
/// Offset of payload slot `i` in an exception object.
pub const fn exn_payload_slot(i: u32) -> u32 {
    EXN_PAYLOAD + VALRAW_SIZE * i
}

/// The tag handlers of a call site use when they catch every exception (`catch_all`).
pub const EXN_CATCH_ALL: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn constants_match_the_repr_c_structs() {
        assert_eq!(
            offset_of!(VMStoreContext, stack_limit) as u32,
            STORE_STACK_LIMIT
        );
        assert_eq!(offset_of!(VMStoreContext, exit_fp) as u32, STORE_EXIT_FP);
        assert_eq!(
            offset_of!(VMStoreContext, exit_func) as u32,
            STORE_EXIT_FUNC
        );
        assert_eq!(
            offset_of!(VMStoreContext, exit_frame) as u32,
            STORE_EXIT_FRAME
        );
        assert_eq!(offset_of!(VMGcHeap, next) as u32, GC_HEAP_NEXT);
        assert_eq!(offset_of!(VMGcHeap, limit) as u32, GC_HEAP_LIMIT);
        assert_eq!(offset_of!(VMMemory, base) as u32, MEMORY_BASE);
        assert_eq!(offset_of!(VMMemory, length) as u32, MEMORY_LENGTH);
        assert_eq!(size_of::<VMMemory>() as u32, MEMORY_SIZE);
        assert_eq!(offset_of!(VMTable, base) as u32, TABLE_BASE);
        assert_eq!(offset_of!(VMTable, length) as u32, TABLE_LENGTH);
        assert_eq!(size_of::<VMTable>() as u32, TABLE_SIZE);
        assert_eq!(size_of::<VMGlobal>() as u32, GLOBAL_SIZE);
        assert_eq!(offset_of!(VMFuncRef, func) as u32, FUNCREF_FUNC);
        assert_eq!(offset_of!(VMFuncRef, vmctx) as u32, FUNCREF_VMCTX);
        assert_eq!(offset_of!(VMFuncRef, type_id) as u32, FUNCREF_TYPE_ID);
        assert_eq!(offset_of!(VMFuncRef, abi) as u32, FUNCREF_ABI);
        assert_eq!(size_of::<VMFuncRef>() as u32, FUNCREF_SIZE);
        assert_eq!(size_of::<ValRaw>() as u32, VALRAW_SIZE);
        assert_eq!(size_of::<usize>() as u32, PTR);
        assert_eq!(offset_of!(VMException, escaped) as u32, EXN_ESCAPED);
        assert!(size_of::<VMException>() as u32 <= EXN_PAYLOAD);
        assert_eq!(EXN_PAYLOAD % 16, 0);
    }

    #[test]
    fn layout_places_regions_in_order_without_overlap() {
        let o = VMOffsets::new(VMCounts {
            imported_memories: 1,
            defined_memories: 2,
            imported_tables: 1,
            defined_tables: 1,
            imported_globals: 3,
            defined_globals: 2,
            types: 3,
            funcrefs: 4,
            tags: 2,
        });
        assert_eq!(o.imported_memory(0), VMCTX_HEADER);
        assert_eq!(o.defined_memory(0), VMCTX_HEADER + 8);
        assert_eq!(o.imported_table(0), o.defined_memory(2));
        assert_eq!(o.defined_global(0) % 16, 0);
        assert_eq!(o.funcref(0) % 8, 0);
        assert!(o.type_id(3) <= o.funcref(0));
        assert_eq!(o.tag(0), o.funcref(4));
        assert_eq!(o.size, o.tag(2).next_multiple_of(16));
    }
}
