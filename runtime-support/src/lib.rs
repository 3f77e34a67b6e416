//! `weld-runtime`: the support runtime that weld-compiled code links against.
//!
//! In: a compiled object's [`VMModuleDescriptor`](weld_contract::descriptor::VMModuleDescriptor)
//! (found with [`Library`] or linked in statically). Out: running instances, through a small
//! embedder API: [`Store`], [`Module`], [`Instance`], [`Extern`] and its [`Func`], [`Memory`],
//! [`Table`], [`Global`].
//!
//! The pieces, following a call into wasm:
//!
//! ```text
//! Func::call ─► entry::enter ─► weld_rt_enter (asm: save callee-saved regs + sp)
//!                                 └─► array trampoline ─► compiled code
//!                                        ├─► libcalls (table at vmctx+0) ── trap ─┐
//!                                        └─► ud2 / guard-page fault ─► signals ───┤
//!                                                                                 ▼
//!               Err(Trap) ◄── weld_rt_enter returns the code ◄── weld_rt_unwind (asm)
//! ```
//!
//! - [`arch`]: `weld_rt_enter` / `weld_rt_unwind` in assembly (x86_64, aarch64, riscv64).
//! - [`entry`]: the per-thread "current entry" pointer, raising traps, entering wasm.
//! - [`registry`]: process-wide list of code ranges and their trap tables (signal-safe lookup).
//! - `signals` (std): SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers and per-thread alternate stacks.
//! - [`types`]: the process-wide function-type interner (canonical type ids).
//! - `sys`: address-space reservations (mmap when hosted, the heap otherwise).
//! - [`memory`], [`table`], [`global`], [`func`]: the store-owned objects and their handles.
//! - [`module`], `library` (std): loading and validating descriptors.
//! - [`instance`], [`constexpr`]: instantiation; [`libcalls`]: the libcall table.
//! - [`spectest`]: the host module the official test suite imports.
//! - `capi` (std): the C API for C hosts and the objects' C entry points (`include/weld.h`).
//! - `capi_component` (std): the C API for components (`weld_component_*`), values in C layout.
//!
//! Ownership: a [`Store`] owns everything created in it; handles are indices valid while the
//! store lives. Nothing is freed before the store is dropped, so pointers that compiled code keeps
//! (funcref slots in tables, imported memories) never dangle while it can run.
//!
//! Architecture invariant: this crate is the only one in the workspace with `unsafe` code; every
//! `unsafe` block says why it is sound, and data from a loaded object never causes a panic.
#![no_std]
#![allow(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arch;
#[cfg(feature = "std")]
pub mod arena;
pub mod backtrace;
#[cfg(feature = "std")]
pub mod capi;
#[cfg(feature = "std")]
pub mod capi_component;
pub mod component;
pub mod constexpr;
pub mod entry;
pub mod exception;
mod fiber;
pub mod func;
pub mod gc;
pub mod global;
#[cfg(feature = "std")]
mod image;
pub mod instance;
pub mod libcalls;
#[cfg(feature = "std")]
mod library;
pub mod memory;
pub mod module;
#[cfg(all(
    feature = "std",
    any(target_env = "musl", all(test, target_os = "linux"))
))]
pub mod musl;
#[cfg(not(feature = "std"))]
pub mod platform;
#[cfg(feature = "std")]
pub mod plugin;
mod reftypes;
pub mod registry;
#[cfg(feature = "std")]
mod signals;
pub mod spectest;
pub mod store;
mod sync;
mod sys;
pub mod table;
pub mod tag;
pub mod trap;
pub mod types;
#[cfg(feature = "std")]
pub mod wasi;

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests;

pub use component::{ComponentInstance, ComponentModule, HostImports, ResourceHandle, Val};
pub use func::Func;
pub use global::Global;
pub use instance::{Extern, Instance, InstantiateError};
#[cfg(feature = "std")]
pub use library::{Library, PluginDescriptor};
pub use memory::Memory;
pub use module::{LoadError, Module};
pub use store::Store;
pub use table::Table;
pub use tag::Tag;
pub use trap::Trap;
pub use weld_contract::info::{FuncType, GlobalType, MemoryType, TableType, ValType};
pub use weld_contract::trap::TrapCode;
pub use weld_contract::vmctx::ValRaw;
