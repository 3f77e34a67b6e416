//! The component runtime: instantiating a compiled component's flattened graph and crossing
//! its boundaries with the Canonical ABI (synchronous subset).
//!
//! - [`types`]: layout (alignment, size) and flattening of interface types.
//! - [`val`]: [`Val`], host-side component values (WAVE `Display`, type checks).
//! - [`abi`]: lift/lower (`load`/`store`, flat lift/lower) over a [`CanonCx`] — one side's
//!   memory, realloc, encoding and handle table; `string`: strings and transcoding.
//! - [`resources`]: per-instance handle tables, loans and borrow scopes, may-enter/leave flags.
//! - [`module`]: [`ComponentModule`], a loaded and checked component descriptor.
//! - [`instance`]: [`ComponentInstance`]: instantiation, exports, lowering callbacks, builtins.

pub mod abi;
#[cfg(feature = "std")]
pub mod c_values;
pub mod concurrency;
pub mod instance;
pub mod module;
pub mod names;
pub mod resources;
mod string;
pub mod table;
/// The Canonical ABI's layout rules, from the contract (defined once, shared with the compiler).
pub use weld_contract::component::abi as types;
pub mod val;

#[cfg(test)]
mod tests;

pub use abi::CanonCx;
pub use instance::borrowed::{Caller, WasmStr};
pub use instance::typed::{TypedError, TypedFunc};
pub use instance::typed_values::{
    ComponentParams, ComponentResult, ComponentType, Lift, LiftParams, LiftResult, Lower,
    LowerParams, LowerResult,
};
pub use instance::{typed_cases, typed_records, typed_variants};
pub use instance::{AsyncCall, CAdapter, CHostFunc, CallState, ComponentInstance, HostImports};
pub use module::ComponentModule;
pub use val::{ResourceHandle, Val};
pub use weld_contract::component::TypeDef;
pub use weld_contract::vmctx::ValRaw;
