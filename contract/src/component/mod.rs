//! The flattened component graph, as the compiler hands it to the runtime.
//!
//! A component — however deeply nested and composed — is instantiated once at compile time into
//! a flat [`ComponentInfo`]: an ordered list of core instances whose every import is a
//! [`CoreDef`] (another instance's export, a lowered function, or a resource built-in), the
//! lowerings (each a `canon lower` of a lifted function or a host import) and the exported lifted
//! functions. The runtime only replays this list; it never sees nested components, aliases or
//! names to resolve.
//!
//! Types are interned in one arena ([`ComponentInfo::types`]); a value type is an index into it.
//! Encoding follows the same scheme as [`crate::info`] (see [`ComponentInfo::encode`]).

use crate::info::ValType;
use alloc::string::String;
use alloc::vec::Vec;
pub use builtin::{Builtin, ChannelOp};

/// A component value type definition; children are indices into [`ComponentInfo::types`].
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub enum TypeDef {
    /// bool
    Bool,
    /// s8
    S8,
    /// u8
    U8,
    /// s16
    S16,
    /// u16
    U16,
    /// s32
    S32,
    /// u32
    U32,
    /// s64
    S64,
    /// u64
    U64,
    /// f32
    F32,
    /// f64
    F64,
    /// char
    Char,
    /// string
    String,
    /// list<T>
    List(u32),
    /// list<T, N>: `len` (at least 1) elements of `elem`, laid out inline like a record.
    FixedList {
        /// Element type.
        elem: u32,
        /// Number of elements.
        len: u32,
    },
    /// map<K, V>: laid out and passed exactly as `list<tuple<K, V>>` (the spec despecialises
    /// it so); `entry` is that tuple's type. Kept apart from `list` so that inspect, the C
    /// header, WAVE and the Rust host can call it a map.
    Map {
        /// The interned `tuple<K, V>`.
        entry: u32,
    },
    /// record { name: T, ... }
    Record(Vec<(String, u32)>),
    /// tuple<T, ...>
    Tuple(Vec<u32>),
    /// variant { case(T?), ... }
    Variant(Vec<(String, Option<u32>)>),
    /// enum { case, ... }
    Enum(Vec<String>),
    /// option<T>
    Option(u32),
    /// result<T?, E?>
    Result {
        /// Ok payload.
        ok: Option<u32>,
        /// Err payload.
        err: Option<u32>,
    },
    /// flags { name, ... }
    Flags(Vec<String>),
    /// own<R>, R an index into [`ComponentInfo::resources`].
    Own(u32),
    /// borrow<R>.
    Borrow(u32),
    /// stream<T> (`None`: a stream of no values, only counts): a handle to one end.
    Stream(Option<u32>),
    /// future<T> (`None`: a future of no value): a handle to one end.
    Future(Option<u32>),
    /// error-context: a handle to an immutable error value.
    ErrorContext,
}

/// A component function type.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct FuncTy {
    /// Named parameters.
    pub params: Vec<(String, u32)>,
    /// Result type, if any.
    pub result: Option<u32>,
    /// An `async` function type (its callers may continue while it runs).
    pub async_: bool,
}

/// String encodings of `canon` options.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum StringEncoding {
    /// UTF-8 (the default).
    #[default]
    Utf8,
    /// UTF-16 little-endian.
    Utf16,
    /// Latin-1 or UTF-16, tagged per string.
    CompactUtf16,
}

/// Where a core item comes from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CoreDef {
    /// Export `name` of core instance `instance`.
    Export {
        /// Index into [`ComponentInfo::instances`].
        instance: u32,
        /// Export name.
        name: String,
    },
    /// The core function made by lowering `i` ([`ComponentInfo::lowerings`]).
    Lowering(u32),
    /// `resource.new` of resource `r`: `(i32 rep) -> i32 handle`.
    ResourceNew(u32),
    /// `resource.rep` of resource `r`: `(i32 handle) -> i32 rep`.
    ResourceRep(u32),
    /// `resource.drop` of `resource`, called by component instance `instance` (whose handle
    /// table holds the handle): `(i32 handle) -> ()`.
    ResourceDrop {
        /// Resource type.
        resource: u32,
        /// The calling component instance.
        instance: u32,
    },
    /// One flag of component instance `instance`, as a mutable `i32` global (non-zero: may).
    Flag {
        /// The component instance.
        instance: u32,
        /// Which flag.
        flag: ComponentFlag,
    },
    /// The runtime's string transcoder for lowering `lowering` (a fused call), for strings
    /// crossing from the caller to the callee (`results` false) or back: `(ptr: i32, units:
    /// i32) -> i64`, the string loaded from one side as its options say (bounds, encoding) and
    /// stored into a buffer from the other side's `realloc` (the spec's allocation sequence and
    /// checks), returning `ptr | units << 32` (units tagged for Latin-1+UTF-16).
    Transcode {
        /// The lowering whose caller and callee options apply.
        lowering: u32,
        /// The result's direction (callee to caller).
        results: bool,
    },
    /// A handle operation of the fused call of lowering `lowering` on resource type
    /// `resource` (see [`HandleOp`] for each one's signature).
    Handle {
        /// Which operation.
        op: HandleOp,
        /// The lowering whose caller and callee instances it works between.
        lowering: u32,
        /// The resource type (index into [`ComponentInfo::resources`]; unused by the call
        /// bracket operations).
        resource: u32,
    },
    /// The host's address space as a 64-bit memory (base 0): C values of the generated header
    /// are read and written through it by compiled host entries.
    HostMemory,
    /// The C host function serving host import `i` (index into [`ComponentInfo::imports`]):
    /// `(args: i64, ret: i64) -> ()`, `args` the address of one pointer per parameter (each to
    /// the argument in the header's C layout) and `ret` where the host writes the result; a
    /// non-zero return of the host function raises the trap of that code.
    HostCall(u32),
    /// A function the runtime provides to generated adapters.
    Intrinsic {
        /// Which one.
        op: Intrinsic,
        /// The memory it reads, when it reads one: export `name` of core instance `instance`.
        memory: Option<(u32, String)>,
    },
}

/// The Canonical ABI flags of a component instance ([`descriptor::VMComponentFlags`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ComponentFlag {
    /// The instance may be entered.
    MayEnter,
    /// The instance may call out.
    MayLeave,
}

/// The handle operations a fused call with resource handles performs (`CoreDef::Handle`), on
/// the handle tables of its caller and callee, as the runtime's generic path performs them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HandleOp {
    /// `() -> ()`: a call with handles begins (its borrows are lent until `EndCall`).
    BeginCall,
    /// `(handle) -> handle`: move an own handle from the caller's table into the callee's.
    OwnIn,
    /// `(handle) -> handle`: lend one of the caller's handles to the callee as a borrow.
    BorrowIn,
    /// `(handle) -> handle`: move an own handle from the callee's table into the caller's.
    OwnOut,
    /// `() -> ()`: the callee returned: every borrow it received must have been dropped.
    FinishCall,
    /// `() -> ()`: the call is over: its loans end.
    EndCall,
}

impl HandleOp {
    /// Every operation, in encoding order.
    pub const ALL: [HandleOp; 6] = [
        HandleOp::BeginCall,
        HandleOp::OwnIn,
        HandleOp::BorrowIn,
        HandleOp::OwnOut,
        HandleOp::FinishCall,
        HandleOp::EndCall,
    ];

    /// Whether it maps a handle (`(i32) -> i32`); else it is `() -> ()`.
    pub fn maps_handle(self) -> bool {
        matches!(
            self,
            HandleOp::OwnIn | HandleOp::BorrowIn | HandleOp::OwnOut
        )
    }
}

/// The runtime functions generated adapters import (`CoreDef::Intrinsic`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Intrinsic {
    /// `(code: i32) -> ()`: raise the trap whose [`crate::trap::TrapCode`] number is `code`
    /// (an unknown number raises `InvalidValue`); never returns.
    Trap,
    /// `(ptr: i32, len: i32) -> ()`: trap with `InvalidUtf8` or `IncompleteUtf8` unless the
    /// `len` bytes at `ptr` of the memory are UTF-8, and with `StringOutOfBounds` if they are
    /// not all inside it.
    ValidateUtf8,
    /// `(ptr: i64, len: i64) -> ()`: [`Intrinsic::ValidateUtf8`] over host memory
    /// ([`CoreDef::HostMemory`]): trap with `InvalidUtf8` or `IncompleteUtf8` unless the `len`
    /// bytes at address `ptr` are UTF-8.
    HostValidateUtf8,
    /// `(old: i64, old_size: i64, align: i64, size: i64) -> i64`: the host's `realloc` in the
    /// Canonical ABI's form, over the C allocator (`realloc`, or `malloc` of at least one byte
    /// when `old` is 0), so the host frees what it receives with `free`. Out of memory traps.
    HostRealloc,
    /// `(ptr: i64, size: i64, align: i64) -> ()`: free a block the C host allocated for a
    /// result (its strings and lists), after it was copied out.
    HostFree,
    /// `(old: i64, old_size: i64, align: i64, size: i64) -> i64`: allocate in the component
    /// instance's scratch arena, where a host call's C arguments live until it returns (`old`
    /// is always 0). Out of memory traps.
    ScratchAlloc,
    /// `() -> i64`: the scratch arena's current position.
    ScratchMark,
    /// `(mark: i64) -> ()`: give back everything allocated in the scratch arena since `mark`.
    ScratchRelease,
}

impl Intrinsic {
    /// Every intrinsic, in encoding order.
    pub const ALL: [Intrinsic; 8] = [
        Intrinsic::Trap,
        Intrinsic::ValidateUtf8,
        Intrinsic::HostValidateUtf8,
        Intrinsic::HostRealloc,
        Intrinsic::HostFree,
        Intrinsic::ScratchAlloc,
        Intrinsic::ScratchMark,
        Intrinsic::ScratchRelease,
    ];

    /// Its core signature: parameter types and result types.
    pub fn signature(
        self,
    ) -> (
        &'static [crate::info::ValType],
        &'static [crate::info::ValType],
    ) {
        use crate::info::ValType::{I32, I64};
        match self {
            Intrinsic::Trap => (&[I32], &[]),
            Intrinsic::ValidateUtf8 => (&[I32, I32], &[]),
            Intrinsic::HostValidateUtf8 => (&[I64, I64], &[]),
            Intrinsic::HostRealloc | Intrinsic::ScratchAlloc => (&[I64, I64, I64, I64], &[I64]),
            Intrinsic::HostFree => (&[I64, I64, I64], &[]),
            Intrinsic::ScratchMark => (&[], &[I64]),
            Intrinsic::ScratchRelease => (&[I64], &[]),
        }
    }

    /// Whether it reads a memory of the graph (named in its [`CoreDef::Intrinsic`]).
    pub fn reads_memory(self) -> bool {
        self == Intrinsic::ValidateUtf8
    }
}

/// `canon lift` / `canon lower` options.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CanonOpts {
    /// The component instance the function belongs to (index < `component_instances`).
    pub instance: u32,
    /// Linear memory for strings, lists and spilled values.
    pub memory: Option<CoreDef>,
    /// `cabi_realloc`-style allocator: `(old_ptr, old_size, align, new_size) -> ptr`.
    pub realloc: Option<CoreDef>,
    /// Called after a lifted function's results were read.
    pub post_return: Option<CoreDef>,
    /// String encoding.
    pub encoding: StringEncoding,
    /// The `async` option: an async lift or lower, or a built-in that returns `BLOCKED` rather
    /// than waiting.
    pub async_: bool,
    /// The `callback` of an async lift (`(event, p1, p2) -> i32`); `None` for a stackful one.
    pub callback: Option<CoreDef>,
}

/// A lifted function: a core function plus its component type and options.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Lifted {
    /// The core function.
    pub func: CoreDef,
    /// Index into [`ComponentInfo::func_types`].
    pub ty: u32,
    /// Lift options.
    pub opts: CanonOpts,
}

/// What a lowering calls.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LoweringTarget {
    /// A function lifted by (another instance of) the component: a fused call.
    Lifted(Lifted),
    /// Host import `i` ([`ComponentInfo::imports`]).
    Import(u32),
    /// A canonical built-in the runtime serves ([`Builtin`]); its options are the lowering's,
    /// `core_params`/`core_results` its signature, and `ty` means something only for
    /// `task.return` (see [`Builtin::TaskReturn`]).
    Builtin(Builtin),
}

/// One `canon lower`: the core function core instances import.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Lowering {
    /// What it calls.
    pub target: LoweringTarget,
    /// Component function type (index into [`ComponentInfo::func_types`]).
    pub ty: u32,
    /// Lower options (the caller's memory and realloc).
    pub opts: CanonOpts,
    /// Core parameter types of the lowered function (after flattening).
    pub core_params: Vec<ValType>,
    /// Core result types.
    pub core_results: Vec<ValType>,
    /// For a host import: the core instance (a generated adapter) whose export `adapter`, of
    /// the lowered core signature, calls a C host function serving the import with its values
    /// in the generated header's C layout ([`CoreDef::HostCall`]). The runtime binds the
    /// lowering to it when the host gives a C function for the import, and to the lowering's
    /// trampoline otherwise. `None` when the values are not covered (as for
    /// [`ComponentExport::host_entry`]).
    pub host_call: Option<u32>,
}

/// A core instance to create.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CoreInstance {
    /// Index of the core module in the object (its descriptor in the component descriptor).
    pub module: u32,
    /// One definition per import of the module, in import order.
    pub args: Vec<CoreDef>,
}

/// A resource type defined by a component instance.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Resource {
    /// Name, for diagnostics.
    pub name: String,
    /// The component instance that defined it (owns its representations); `u32::MAX` for a
    /// resource type the host provides.
    pub instance: u32,
    /// Destructor `(i32 rep) -> ()`, if any.
    pub dtor: Option<CoreDef>,
}

/// A function the host must provide.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HostImport {
    /// Full name: `wasi:cli/stdout@0.2.0#get-stdout`, or a plain import name.
    pub name: String,
    /// Index into [`ComponentInfo::func_types`].
    pub ty: u32,
}

/// The one function a generated adapter module exports (a fused call's adapter, a host entry
/// or a host call): the compiler names it so, and the runtime finds host entries and host
/// calls by it.
pub const ADAPTER_EXPORT: &str = "adapter";

/// An exported function of the root component.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ComponentExport {
    /// Name: `f` for a function export, `iface#f` for a function of an exported instance.
    pub name: String,
    /// The lifted function.
    pub func: Lifted,
    /// The core instance (a generated adapter) whose export `adapter` calls this function from
    /// a C host: `(args: i64, ret: i64) -> ()`, where `args` is the address of an array of one
    /// pointer per parameter, each to the argument in the C layout of the generated header
    /// (the Canonical ABI over a 64-bit memory), and `ret` the address the result is written
    /// to in that layout, its strings and lists from [`Intrinsic::HostRealloc`]. `None` when
    /// the function's values are not covered by compiled host entries (resources, task-local
    /// context, strings of another encoding than UTF-8): then C calls take the generic path.
    pub host_entry: Option<u32>,
}

/// The whole flattened component.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ComponentInfo {
    /// Value type arena.
    pub types: Vec<TypeDef>,
    /// Function types.
    pub func_types: Vec<FuncTy>,
    /// Number of component instances (the root and every nested instantiation).
    pub component_instances: u32,
    /// Core instances, in instantiation order.
    pub instances: Vec<CoreInstance>,
    /// Lowered functions.
    pub lowerings: Vec<Lowering>,
    /// Resource types.
    pub resources: Vec<Resource>,
    /// Host imports.
    pub imports: Vec<HostImport>,
    /// Exported functions.
    pub exports: Vec<ComponentExport>,
}

pub mod abi;
mod builtin;
pub mod clayout;
pub mod concurrency;
pub mod descriptor;
mod encode;
pub mod world;
