//! `weld-host`: load components that `weld compile --emit sharedlib` made into plugins, check them
//! against what the host expects, and call them with Rust types.
//!
//! In: a plugin file (a shared object exporting `weld_plugin_v1`: contract version, target,
//! the component's world as text and its hash, and the component descriptor). Out: [`Plugin`]s
//! (one per file; many per process) and [`Instance`]s of them (many per plugin, each with its own
//! memory and state), whose exports are called with Rust values ([`types`]).
//!
//! Loading is checked in two steps (by [`weld_runtime::plugin`], shared with the C API's
//! `weld_plugin_open`). Before `dlopen`, the file's ELF headers:
//! machine, shared object, nothing truncated, no initialisers and no library dependencies, the
//! descriptor symbol present — so a file that fails runs no code at all. After `dlopen`, the
//! descriptor: magic and contract version first, then the target triple, then the world text
//! against its hash *and* against the text recomputed from the component's own type
//! information, so a tampered descriptor is refused. [`Plugin::check`] then compares the world
//! with the host's [`Expect`]ations: each function by name, parameter types and result type.
//!
//! What cannot be checked: machine code. A plugin file that was altered in its code, or built by
//! someone hostile with a modified compiler, runs with the host's privileges once called. The
//! checks catch corrupt, truncated, mismatched and carelessly altered files; authenticity needs
//! a signature over the file, which is the distributor's job.
//!
//! A trap in a plugin is an `Err` ([`CallError::Trap`]) and leaves the process, the plugin and
//! other instances working; the trapped instance refuses further calls, as the Component Model
//! requires.

pub mod build;
pub mod types;

/// Include the Rust bindings that [`build::Build::bindings`] generated in `build.rs` for the
/// component named `name` (`weld compile --emit rust`): its WIT types as Rust types, a struct
/// for the world whose methods are its exports, and a trait for its imports.
///
/// ```ignore
/// weld_host::bindgen!("text");
/// let mut text = Text::instantiate(&weld_host::Plugin::linked("text")?, MyHost)?;
/// let up: String = text.example_text_transform().upper("wit".into())?;
/// ```
#[macro_export]
macro_rules! bindgen {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, "_bindings.rs"));
    };
}

use std::fmt;
use std::path::{Path, PathBuf};
use types::{WitParams, WitResult};
use weld_contract::component::world::type_text;
/// The runtime's typed-call traits and helpers, for generated bindings.
#[doc(hidden)]
pub use weld_runtime::component as typed;
pub use weld_runtime::component::TypedFunc;
pub use weld_runtime::component::{AsyncCall, CallState};
use weld_runtime::component::{LiftResult, LowerParams, TypedError};
pub use weld_runtime::plugin::PluginError as LoadError;
#[doc(hidden)]
pub use weld_runtime::{
    __component_enum_impl, __component_flags_impl, __component_record_impl,
    __component_variant_impl,
};
use weld_runtime::{ComponentInstance, ComponentModule, Store};
pub use weld_runtime::{HostImports, ResourceHandle, Trap, TrapCode, Val};

/// Why a plugin was refused or does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// Refused when loading (see [`weld_runtime::plugin`]: the checks before and after
    /// `dlopen`).
    Load(LoadError),
    /// The plugin lacks an export the host expects.
    MissingExport(String),
    /// An export has other types than the host expects.
    TypeMismatch {
        /// The export.
        name: String,
        /// What the host expects (`func(string) -> u32`).
        expected: String,
        /// What the plugin has.
        found: String,
    },
    /// Instantiation failed (a missing import, a trap in a start function).
    Instantiate(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Load(e) => e.fmt(f),
            PluginError::MissingExport(name) => write!(f, "the plugin does not export {name}"),
            PluginError::TypeMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "export {name}: expected {expected}, the plugin has {found}"
            ),
            PluginError::Instantiate(why) => write!(f, "cannot instantiate the plugin: {why}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The plugin trapped; the instance refuses further calls.
    Trap(Trap),
    /// No such export, or not with these types.
    Signature(PluginError),
    /// The result had another shape than the Rust type (cannot happen after a signature check,
    /// kept so a mismatch is an error, not a panic).
    Result(Val),
    /// A typed function ([`Instance::typed`]) given to another instance than its own.
    OtherInstance,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Trap(t) => write!(f, "trap: {t}"),
            CallError::Signature(e) => e.fmt(f),
            CallError::Result(v) => write!(f, "unexpected result {v}"),
            CallError::OtherInstance => f.write_str("a typed function of another instance"),
        }
    }
}

impl std::error::Error for CallError {}

/// A loaded plugin: a compiled component, ready to instantiate.
#[derive(Debug, Clone)]
pub struct Plugin {
    path: PathBuf,
    world: String,
    module: ComponentModule,
}

impl Plugin {
    /// Check and load the plugin at `path` (see the crate docs for what is checked, and when).
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, PluginError> {
        let path = path.as_ref();
        let desc = weld_runtime::plugin::open_plugin(path).map_err(PluginError::Load)?;
        Ok(Plugin {
            path: path.to_path_buf(),
            world: desc.world,
            module: desc.component,
        })
    }

    /// The component `name` that `build.rs` compiled into this program with [`build::Build`]
    /// (no file is loaded; its descriptor is checked as for any component).
    pub fn linked(name: &str) -> Result<Plugin, PluginError> {
        let fail = |e: weld_runtime::LoadError| {
            PluginError::Load(LoadError::Load(format!("linked component {name}: {e}")))
        };
        let module = weld_runtime::Library::this_program()
            .and_then(|p| p.component(name))
            .map_err(fail)?;
        Ok(Plugin {
            path: PathBuf::from(format!("<linked {name}>")),
            world: weld_contract::component::world::world_text(module.info()),
            module,
        })
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its world: one `import NAME: func(...)` or `export NAME: func(...)` line each, sorted.
    pub fn world(&self) -> &str {
        &self.world
    }

    /// The names of its exported functions.
    pub fn exports(&self) -> Vec<&str> {
        self.module
            .info()
            .exports
            .iter()
            .map(|e| e.name.as_str())
            .collect()
    }

    /// The parameter and result types of export `name`, as WIT text.
    fn signature(&self, name: &str) -> Option<(Vec<String>, Option<String>)> {
        let info = self.module.info();
        let e = info.exports.iter().find(|e| e.name == name)?;
        let f = info.func_types.get(e.func.ty as usize)?;
        Some((
            f.params.iter().map(|(_, t)| type_text(info, *t)).collect(),
            f.result.map(|t| type_text(info, t)),
        ))
    }

    /// Check that the plugin has every function `expected` lists, with those types.
    pub fn check(&self, expected: &Expect) -> Result<(), PluginError> {
        for (name, params, result) in &expected.funcs {
            self.check_func(name, params, result)?;
        }
        Ok(())
    }

    /// Whether export `name` has exactly these parameter and result types (in the spelling of
    /// `weld_contract::component::world::type_text`): what generated bindings check once before
    /// they instantiate a plugin.
    pub fn check_signature(
        &self,
        name: &str,
        params: &[&str],
        result: Option<&str>,
    ) -> Result<(), PluginError> {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        self.check_func(name, &params, &result.map(String::from))
    }

    fn check_func(
        &self,
        name: &str,
        params: &[String],
        result: &Option<String>,
    ) -> Result<(), PluginError> {
        let (p, r) = self
            .signature(name)
            .ok_or_else(|| PluginError::MissingExport(name.into()))?;
        if p != params || r != *result {
            return Err(PluginError::TypeMismatch {
                name: name.into(),
                expected: signature_text(params, result),
                found: signature_text(&p, &r),
            });
        }
        Ok(())
    }

    /// A new instance with `imports` for the component's imports (a plugin without imports:
    /// `&HostImports::new()`). Each instance has its own memories, globals and handles.
    pub fn instantiate(&self, imports: &HostImports) -> Result<Instance, PluginError> {
        let mut store = Box::new(Store::new());
        let inner = ComponentInstance::new(&mut store, &self.module, imports)
            .map_err(|e| PluginError::Instantiate(e.to_string()))?;
        Ok(Instance {
            plugin: self.clone(),
            store,
            inner,
        })
    }
}

fn signature_text(params: &[String], result: &Option<String>) -> String {
    match result {
        Some(r) => format!("func({}) -> {r}", params.join(", ")),
        None => format!("func({})", params.join(", ")),
    }
}

/// What a host expects of a plugin: functions by name and Rust types.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    funcs: Vec<(String, Vec<String>, Option<String>)>,
}

impl Expect {
    /// Nothing yet.
    pub fn new() -> Expect {
        Expect::default()
    }

    /// An export `name` taking `P` (a tuple) and returning `R` (`()` for nothing).
    pub fn func<P: WitParams, R: WitResult>(mut self, name: &str) -> Expect {
        self.funcs.push((name.into(), P::wit(), R::wit()));
        self
    }
}

/// An instance of a plugin.
pub struct Instance {
    plugin: Plugin,
    // Boxed: async tasks suspended between calls keep the store's address, so moving an
    // `Instance` must not move its store.
    store: Box<Store>,
    inner: ComponentInstance,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("plugin", &self.plugin.path)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// Call export `name` with `params`; its types are checked against `P` and `R` first.
    pub fn call<P: WitParams, R: WitResult>(
        &mut self,
        name: &str,
        params: P,
    ) -> Result<R, CallError> {
        self.plugin
            .check_func(name, &P::wit(), &R::wit())
            .map_err(CallError::Signature)?;
        let out = self
            .inner
            .call(&mut self.store, name, &params.into_vals())
            .map_err(CallError::Trap)?;
        let shown = out.clone();
        R::from_result(out).ok_or_else(|| CallError::Result(shown.unwrap_or(Val::Tuple(vec![]))))
    }

    /// Call export `name` with dynamic values, unchecked on the host side (the runtime still
    /// checks every value against the export's types): what generated bindings call after
    /// [`Plugin::check_signature`].
    pub fn call_vals(&mut self, name: &str, args: &[Val]) -> Result<Option<Val>, CallError> {
        self.inner
            .call(&mut self.store, name, args)
            .map_err(CallError::Trap)
    }

    /// Export `name` as a typed function, for the fast path: parameters and result of the
    /// types [`weld_runtime::component::ComponentType`] covers (bool, integers, floats, char,
    /// strings — `&str` parameters are not copied on the host side), looked up and checked
    /// once; then [`Instance::call_typed`] calls it without building `Val`s (tens of
    /// nanoseconds instead of hundreds). Other types: [`Instance::call`].
    pub fn typed<P: LowerParams, R: LiftResult>(
        &self,
        name: &str,
    ) -> Result<TypedFunc<P, R>, CallError> {
        self.inner
            .typed_func::<P, R>(&self.store, name)
            .map_err(|e| {
                CallError::Signature(match e {
                    TypedError::NoSuchExport(n) => PluginError::MissingExport(n),
                    other => PluginError::TypeMismatch {
                        name: name.to_string(),
                        expected: format!(
                            "{} -> {}",
                            std::any::type_name::<P>(),
                            std::any::type_name::<R>()
                        ),
                        found: other.to_string(),
                    },
                })
            })
    }

    /// Call `f` (from [`Instance::typed`] of this instance) with `params`.
    pub fn call_typed<P: LowerParams, R: LiftResult>(
        &mut self,
        f: &TypedFunc<P, R>,
        params: P,
    ) -> Result<R, CallError> {
        if !f.belongs_to(&self.inner) {
            return Err(CallError::OtherInstance);
        }
        f.call(&mut self.store, params).map_err(CallError::Trap)
    }

    /// Start a call of async export `name` with `args` and return at once (once its task
    /// first blocks): poll it, wait for it or cancel it. [`Instance::call`] is the blocking
    /// form.
    pub fn start_call(&mut self, name: &str, args: &[Val]) -> Result<AsyncCall, CallError> {
        self.inner
            .start_call(&mut self.store, name, args)
            .map_err(CallError::Trap)
    }

    /// Run what can run without blocking, then report `call`'s state (a final state once).
    pub fn poll_call(&mut self, call: &AsyncCall) -> Result<CallState, CallError> {
        self.inner
            .poll_call(&mut self.store, call)
            .map_err(CallError::Trap)
    }

    /// Run until `call` resolves; a call that never can is a deadlock trap.
    pub fn wait_call(&mut self, call: AsyncCall) -> Result<CallState, CallError> {
        self.inner
            .wait_call(&mut self.store, call)
            .map_err(CallError::Trap)
    }

    /// Ask `call`'s task to stop; its state after the request.
    pub fn cancel_call(&mut self, call: &AsyncCall) -> Result<CallState, CallError> {
        self.inner
            .cancel_call(&mut self.store, call)
            .map_err(CallError::Trap)
    }

    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }
}
