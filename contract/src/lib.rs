//! The contract between code that weld generates and `runtime-support`.
//!
//! In: nothing — this crate is the single definition both sides compile against.
//! Out: the instance (`vmctx`) layout ([`vmctx`]), trap codes with the spec's messages ([`trap`]),
//! the list of runtime library calls and their signatures ([`libcall`]), the module descriptor the
//! object file carries ([`descriptor`], [`info`]) and the symbol-naming scheme ([`symbols`]).
//!
//! Architecture invariant: every number that generated code and the runtime must agree on is
//! defined here exactly once; the compiler reads offsets from these definitions and the runtime
//! proves them with `offset_of!` tests.
#![no_std]
extern crate alloc;

pub mod component;
pub mod cpu;
pub mod descriptor;
pub mod gc;
pub mod info;
pub mod libcall;
pub mod symbols;
pub mod trap;
pub mod vmctx;

/// Version of the contract. Bumped whenever any layout, code or encoding here changes; the runtime
/// refuses objects that carry another version.
pub const ABI_VERSION: u32 = 9;

/// Size in bytes of one WebAssembly page.
pub const WASM_PAGE_SIZE: u64 = 65536;
