//! Runtime library calls: operations too large or too rare to inline (memory.grow, bulk memory,
//! table operations, raising a trap from a libcall, the string checks and copies of fused
//! component calls).
//!
//! Generated code never links against these by symbol: the vmctx header holds a pointer to a
//! table of function pointers ([`Libcall`] order), filled by the runtime at instantiation. So a
//! compiled object has no undefined symbols and can be loaded by any runtime that speaks this
//! contract. Every libcall takes the caller's vmctx first and uses the platform's C ABI.

/// Abstract parameter/result types of libcalls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LibcallType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// Pointer-sized integer.
    Ptr,
}

macro_rules! libcalls {
    ($( $(#[$doc:meta])* $name:ident = $sym:literal ( $($p:ident),* ) -> ( $($r:ident),* ); )*) => {
        /// One runtime library call; the discriminant is its slot in the libcall table.
        #[repr(u32)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub enum Libcall { $( $(#[$doc])* $name, )* }

        impl Libcall {
            /// Every libcall in table order.
            pub const ALL: &'static [Libcall] = &[ $( Libcall::$name, )* ];

            /// A stable name, for diagnostics and symbol tables.
            pub const fn name(self) -> &'static str {
                match self { $( Libcall::$name => $sym, )* }
            }

            /// Parameter types after the leading vmctx pointer.
            pub const fn params(self) -> &'static [LibcallType] {
                match self { $( Libcall::$name => &[ $( LibcallType::$p ),* ], )* }
            }

            /// Result types.
            pub const fn results(self) -> &'static [LibcallType] {
                match self { $( Libcall::$name => &[ $( LibcallType::$r ),* ], )* }
            }
        }
    };
}

libcalls! {
    /// `memory.grow`: (memory, delta pages) -> old size in pages, or -1.
    MemoryGrow = "memory_grow" (I32, I64) -> (I64);
    /// `memory.fill`: (memory, dst, byte, len); traps when out of bounds.
    MemoryFill = "memory_fill" (I32, I64, I32, I64) -> ();
    /// `memory.copy`: (dst memory, src memory, dst, src, len).
    MemoryCopy = "memory_copy" (I32, I32, I64, I64, I64) -> ();
    /// `memory.init`: (memory, data segment, dst, src offset, len).
    MemoryInit = "memory_init" (I32, I32, I64, I32, I32) -> ();
    /// `data.drop`: (data segment).
    DataDrop = "data_drop" (I32) -> ();
    /// `table.grow`: (table, delta, init value) -> old size, or -1. Indices and sizes are 64
    /// bits wide for every table (a 32-bit table's are zero-extended).
    TableGrow = "table_grow" (I32, I64, Ptr) -> (I64);
    /// `table.fill`: (table, dst, value, len).
    TableFill = "table_fill" (I32, I64, Ptr, I64) -> ();
    /// `table.copy`: (dst table, src table, dst, src, len).
    TableCopy = "table_copy" (I32, I32, I64, I64, I64) -> ();
    /// `table.init`: (table, elem segment, dst, src offset, len).
    TableInit = "table_init" (I32, I32, I64, I32, I32) -> ();
    /// `elem.drop`: (elem segment).
    ElemDrop = "elem_drop" (I32) -> ();
    /// Raise a trap with a [`crate::trap::TrapCode`]; never returns.
    Trap = "trap" (I32) -> ();
    /// A new exception of tag `tag` (a tag index of the caller's module) with room for the
    /// tag's payload: (tag) -> exception (see `vmctx::VMException`).
    ExnNew = "exn_new" (I32) -> (Ptr);
    /// Throw an exception: unwind to the innermost handler that catches it, or raise
    /// "uncaught exception" at the entry into wasm. Never returns. Its code captures the
    /// caller's return address and frame pointer, where the handler search starts.
    Throw = "throw" (Ptr) -> ();
    /// A plain `catch` has read the exception's payload: free it unless it escaped as an exnref.
    ExnRelease = "exn_release" (Ptr) -> ();
    /// A GC object of `size` bytes (a multiple of 8, at most `gc::MAX_OBJECT_SIZE`) whose
    /// header is `header` (canonical type id, and an array's length in the high half), the
    /// rest for the caller to initialise: (header, size) -> address. Traps when the heap is
    /// exhausted.
    GcAlloc = "gc_alloc" (I64, I64) -> (Ptr);
    /// Whether canonical type id `a` is a subtype of `b`: (a, b) -> 0 or 1.
    GcIsSubtype = "gc_is_subtype" (I32, I32) -> (I32);
    /// `array.new_data`: (type index, data segment, byte offset, length) -> array.
    ArrayNewData = "array_new_data" (I32, I32, I32, I32) -> (Ptr);
    /// `array.new_elem`: (type index, elem segment, offset, length) -> array.
    ArrayNewElem = "array_new_elem" (I32, I32, I32, I32) -> (Ptr);
    /// `array.init_data`: (array, type index, data segment, dst index, byte offset, length);
    /// the array is not null.
    ArrayInitData = "array_init_data" (Ptr, I32, I32, I32, I32, I32) -> ();
    /// `array.init_elem`: (array, type index, elem segment, dst index, offset, length).
    ArrayInitElem = "array_init_elem" (Ptr, I32, I32, I32, I32, I32) -> ();
    /// `array.copy`: (dst array, dst index, src array, src index, length, element size);
    /// neither array is null.
    ArrayCopy = "array_copy" (Ptr, I32, Ptr, I32, I32, I32) -> ();
}
