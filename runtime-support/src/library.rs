//! [`Library`]: compiled modules in a shared object, opened with `dlopen`. Libraries are never
//! closed: descriptors, code and trap tables must outlive every module and store that uses them,
//! and the code-range registry never forgets a range.

use crate::module::{LoadError, Module};
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use weld_contract::descriptor::VMModuleDescriptor;

/// An opened shared object holding one or more compiled modules.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    handle: *mut libc::c_void,
}

fn dlerror() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the next dl* call.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            String::from("unknown error")
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

impl Library {
    /// Open the shared object at `path` (`RTLD_NOW | RTLD_LOCAL`). A bare file name means the
    /// file in the current directory, as for every other file: `dlopen` would search the
    /// library path for it instead.
    pub fn open(path: &Path) -> Result<Library, LoadError> {
        let local;
        let path = if path.as_os_str().as_bytes().contains(&b'/') {
            path
        } else {
            local = Path::new(".").join(path);
            local.as_path()
        };
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| LoadError::Open(format!("{}: NUL in path", path.display())))?;
        // SAFETY: `c` is a valid C string. Running the object's initialisers is what loading a
        // library means; weld objects have none beyond the C runtime's.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(LoadError::Open(format!(
                "{}: {}",
                path.display(),
                dlerror()
            )));
        }
        Ok(Library { handle })
    }

    /// The running program itself (`dlopen(NULL)`): for components linked into it statically,
    /// whose descriptors it exports (see `weld_host::build`).
    pub fn this_program() -> Result<Library, LoadError> {
        // SAFETY: dlopen(NULL) returns the main program's handle; nothing is loaded or run.
        let handle = unsafe { libc::dlopen(core::ptr::null(), libc::RTLD_NOW) };
        if handle.is_null() {
            return Err(LoadError::Open(format!(
                "the program itself: {}",
                dlerror()
            )));
        }
        Ok(Library { handle })
    }

    /// The module whose symbols start with `prefix`.
    pub fn module(&self, prefix: &str) -> Result<Module, LoadError> {
        let name = weld_contract::symbols::module_descriptor(prefix);
        let c =
            CString::new(name.as_bytes()).map_err(|_| LoadError::MissingSymbol(name.clone()))?;
        // SAFETY: `handle` is an open library (never closed); `c` is a valid C string.
        let sym = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        if sym.is_null() {
            return Err(LoadError::MissingSymbol(name));
        }
        // SAFETY: a `<prefix>__module` symbol in a weld object is its descriptor; the library
        // stays loaded for the rest of the process, so `'static` holds.
        unsafe {
            let desc = &*(sym as *const VMModuleDescriptor);
            Module::from_descriptor(desc)
        }
    }

    /// The component whose symbols start with `prefix` (its `<prefix>__component` descriptor).
    pub fn component(&self, prefix: &str) -> Result<crate::component::ComponentModule, LoadError> {
        let name = weld_contract::symbols::component_descriptor(prefix);
        let c =
            CString::new(name.as_bytes()).map_err(|_| LoadError::MissingSymbol(name.clone()))?;
        // SAFETY: `handle` is an open library (never closed); `c` is a valid C string.
        let sym = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        if sym.is_null() {
            return Err(LoadError::MissingSymbol(name));
        }
        // SAFETY: a `<prefix>__component` symbol in a weld object is its component descriptor;
        // the library stays loaded for the rest of the process, so `'static` holds.
        unsafe {
            let desc =
                &*(sym as *const weld_contract::component::descriptor::VMComponentDescriptor);
            crate::component::ComponentModule::from_descriptor(desc)
        }
    }
}

/// What a plugin's `weld_plugin_v1` descriptor says (see
/// `weld_contract::component::world`), with its component loaded.
#[derive(Debug)]
pub struct PluginDescriptor {
    /// The target triple the plugin was compiled for.
    pub target: String,
    /// Its world text, as the compiler wrote it.
    pub world: String,
    /// The hash the compiler wrote for it.
    pub world_hash: u64,
    /// The component.
    pub component: crate::component::ComponentModule,
    /// Its descriptor (what the C API's `weld_component_instantiate` takes).
    pub descriptor: &'static weld_contract::component::descriptor::VMComponentDescriptor,
}

/// Longest target or world text a plugin descriptor may claim (a sanity bound on lengths read
/// from the object before anything else is trusted).
const MAX_PLUGIN_TEXT: usize = 64 << 20;

impl Library {
    /// Read the library's plugin descriptor (`weld_plugin_v1`): magic and contract version are
    /// checked before any pointer in it is followed; then the texts and the component.
    pub fn plugin(&self) -> Result<PluginDescriptor, LoadError> {
        use weld_contract::component::world::{VMPluginDescriptor, PLUGIN_MAGIC, PLUGIN_SYMBOL};
        let c = CString::new(PLUGIN_SYMBOL)
            .map_err(|_| LoadError::MissingSymbol(PLUGIN_SYMBOL.into()))?;
        // SAFETY: `handle` is an open library (never closed); `c` is a valid C string.
        let sym = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        if sym.is_null() {
            return Err(LoadError::MissingSymbol(PLUGIN_SYMBOL.into()));
        }
        if !(sym as usize).is_multiple_of(core::mem::align_of::<VMPluginDescriptor>()) {
            return Err(LoadError::Malformed(format!("{PLUGIN_SYMBOL}: misaligned")));
        }
        // From here on every pointer read from the plugin must point into the plugin.
        let _scope = crate::image::Scope::of_object_at(sym as usize).ok_or_else(|| {
            LoadError::Malformed(format!("{PLUGIN_SYMBOL}: not in a loaded object"))
        })?;
        if !crate::image::inside(
            sym as usize,
            core::mem::size_of::<VMPluginDescriptor>(),
            false,
        ) {
            return Err(LoadError::Malformed(format!("{PLUGIN_SYMBOL}: cut off")));
        }
        // SAFETY: the symbol is data of the loaded (never unloaded) library, aligned; its first
        // 16 bytes are read before anything else to check that it is what it claims to be.
        let (magic, abi) = unsafe {
            let d = sym as *const VMPluginDescriptor;
            ((*d).magic, (*d).abi_version)
        };
        if magic != PLUGIN_MAGIC {
            return Err(LoadError::BadMagic);
        }
        if abi != weld_contract::ABI_VERSION {
            return Err(LoadError::AbiVersion { found: abi });
        }
        // SAFETY: a weld plugin descriptor of this contract version: its pointers are valid for
        // their lengths (bounded above) and live as long as the library.
        unsafe {
            let d = &*(sym as *const VMPluginDescriptor);
            let text = |p: *const u8, len: usize, what: &str| -> Result<String, LoadError> {
                if len > MAX_PLUGIN_TEXT || (len > 0 && p.is_null()) {
                    return Err(LoadError::Malformed(format!("{PLUGIN_SYMBOL}: bad {what}")));
                }
                let bytes = crate::module::slice(p, len, what)
                    .map_err(|_| LoadError::Malformed(format!("{PLUGIN_SYMBOL}: bad {what}")))?;
                core::str::from_utf8(bytes).map(String::from).map_err(|_| {
                    LoadError::Malformed(format!("{PLUGIN_SYMBOL}: {what} is not UTF-8"))
                })
            };
            let target = text(d.target, d.target_len, "target")?;
            let world = text(d.world, d.world_len, "world")?;
            let descriptor = crate::module::reference(d.component, "component descriptor")
                .map_err(|_| LoadError::Malformed(format!("{PLUGIN_SYMBOL}: no component")))?;
            let component = crate::component::ComponentModule::from_descriptor(descriptor)?;
            Ok(PluginDescriptor {
                target,
                world,
                world_hash: d.world_hash,
                component,
                descriptor,
            })
        }
    }
}

// SAFETY: a dlopen handle is process-global, and the dl* functions are thread-safe.
unsafe impl Send for Library {}
// SAFETY: as above; `Library` has no interior state.
unsafe impl Sync for Library {}
