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
    /// Open the shared object at `path` (`RTLD_NOW | RTLD_LOCAL`).
    pub fn open(path: &Path) -> Result<Library, LoadError> {
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

// SAFETY: a dlopen handle is process-global, and the dl* functions are thread-safe.
unsafe impl Send for Library {}
// SAFETY: as above; `Library` has no interior state.
unsafe impl Sync for Library {}
