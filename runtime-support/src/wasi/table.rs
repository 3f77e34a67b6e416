//! [`WasiState`]: everything the WASI functions share — the context, the exit status, and the
//! table of host resources ([`Obj`]) whose index is the rep the guest's handles carry.
//! [`Registrar`] wraps host functions so they run with the state borrowed.

use super::filesystem::{Descriptor, DirStream};
use super::io::{InputStream, OutputStream, Pollable};
use super::WasiCtx;
use crate::component::{HostImports, Val};
use crate::trap::Trap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use weld_contract::trap::TrapCode;

/// One host resource.
#[derive(Debug)]
pub enum Obj {
    /// `wasi:io/streams#input-stream`.
    Input(InputStream),
    /// `wasi:io/streams#output-stream`.
    Output(OutputStream),
    /// `wasi:io/poll#pollable`.
    Pollable(Pollable),
    /// `wasi:io/error#error`: a message and, for filesystem errors, the error code.
    Error {
        /// `to-debug-string`.
        message: String,
        /// `filesystem-error-code`.
        code: Option<&'static str>,
    },
    /// `wasi:filesystem/types#descriptor`.
    Descriptor(Descriptor),
    /// `wasi:filesystem/types#directory-entry-stream`.
    DirStream(DirStream),
    /// `wasi:cli/terminal-*` and `wasi:sockets/network#network`: no state.
    Unit,
}

/// The state behind every WASI function of one instance.
pub struct WasiState {
    /// The context the program was given.
    pub ctx: WasiCtx,
    /// Set by `exit`/`exit-with-code` before they raise [`TrapCode::Exit`].
    pub exit: Option<i32>,
    objs: Vec<Option<Obj>>,
    free: Vec<u32>,
    /// Origin of the monotonic clock.
    pub(crate) start: std::time::Instant,
    /// State of the insecure generator (xorshift64*), and the insecure seed.
    pub(crate) insecure: (u64, (u64, u64)),
}

impl core::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiState")
            .field("ctx", &self.ctx)
            .field("exit", &self.exit)
            .field("live", &self.live())
            .finish_non_exhaustive()
    }
}

/// A trap for a rep that names no resource of the expected kind.
pub(crate) fn bad_handle() -> Trap {
    Trap::new(TrapCode::UnknownHandle)
}

/// A trap for arguments that do not have the WIT types.
pub(crate) fn bad_args() -> Trap {
    Trap::new(TrapCode::InvalidValue)
}

impl WasiState {
    /// A fresh state for `ctx`.
    pub fn new(ctx: WasiCtx) -> WasiState {
        let seed = super::clocks::os_random_u64s();
        WasiState {
            ctx,
            exit: None,
            objs: Vec::new(),
            free: Vec::new(),
            start: std::time::Instant::now(),
            insecure: (seed.0 | 1, seed),
        }
    }

    /// Store `o`; its rep.
    pub fn push(&mut self, o: Obj) -> u32 {
        if let Some(i) = self.free.pop() {
            self.objs[i as usize] = Some(o);
            return i;
        }
        self.objs.push(Some(o));
        (self.objs.len() - 1) as u32
    }

    /// The resource at `rep`.
    pub fn get(&self, rep: u32) -> Result<&Obj, Trap> {
        self.objs
            .get(rep as usize)
            .and_then(Option::as_ref)
            .ok_or_else(bad_handle)
    }

    /// The resource at `rep`, mutably.
    pub fn get_mut(&mut self, rep: u32) -> Result<&mut Obj, Trap> {
        self.objs
            .get_mut(rep as usize)
            .and_then(Option::as_mut)
            .ok_or_else(bad_handle)
    }

    /// Remove the resource at `rep` (the guest dropped it); unknown reps are ignored.
    pub fn remove(&mut self, rep: u32) -> Option<Obj> {
        let o = self.objs.get_mut(rep as usize)?.take()?;
        self.free.push(rep);
        Some(o)
    }

    /// Live resources.
    pub fn live(&self) -> usize {
        self.objs.iter().flatten().count()
    }

    /// Store an `error` resource; its rep.
    pub(crate) fn error(&mut self, message: String, code: Option<&'static str>) -> u32 {
        self.push(Obj::Error { message, code })
    }
}

/// Registers host functions that run with the [`WasiState`] borrowed.
pub(crate) struct Registrar<'a> {
    pub(crate) imports: &'a mut HostImports,
    pub(crate) state: Rc<RefCell<WasiState>>,
    /// Only these functions (normalised `interface#function` names), when known: registering
    /// the ~150 functions of every interface was a third of an executable's start-up, and every
    /// function of the interfaces it imports still a fifth.
    pub(crate) needed: Option<alloc::collections::BTreeSet<String>>,
    /// The normalised interfaces of `needed`: a whole interface the component does not import
    /// is passed over without building one key per function.
    pub(crate) needed_interfaces: alloc::collections::BTreeSet<String>,
    /// The last interface asked about, its normalised name, and whether it is needed (calls
    /// come interface by interface).
    pub(crate) last: Option<(String, String, bool)>,
    /// Scratch space for `interface#function` keys.
    pub(crate) key: String,
}

impl Registrar<'_> {
    /// Whether anything of `iface` may be wanted (the interface is imported, or all is wanted).
    pub(crate) fn wants_interface(&mut self, iface: &str) -> bool {
        if self.needed.is_none() {
            return true;
        }
        if self.last.as_ref().is_none_or(|(last, ..)| last != iface) {
            let normalized = String::from(crate::component::names::normalize(iface).as_ref());
            let needed = self.needed_interfaces.contains(normalized.as_str());
            self.last = Some((String::from(iface), normalized, needed));
        }
        self.last.as_ref().is_some_and(|(.., needed)| *needed)
    }

    /// Whether `iface#name` is wanted (a function, or a resource whose drops matter).
    fn wanted(&mut self, iface: &str, name: &str) -> bool {
        if !self.wants_interface(iface) {
            return false;
        }
        let Some(needed) = &self.needed else {
            return true;
        };
        let normalized = self.last.as_ref().map_or("", |(_, n, _)| n.as_str());
        self.key.clear();
        self.key.push_str(normalized);
        self.key.push('#');
        self.key.push_str(name);
        needed.contains(self.key.as_str())
    }

    /// Offer `iface#func`.
    pub(crate) fn func(
        &mut self,
        iface: &str,
        func: &str,
        f: impl Fn(&mut WasiState, &[Val]) -> Result<Option<Val>, Trap> + 'static,
    ) {
        if !self.wanted(iface, func) {
            return;
        }
        let state = self.state.clone();
        self.imports.insert(format!("{iface}#{func}"), move |args| {
            let mut st = state
                .try_borrow_mut()
                .map_err(|_| Trap::new(TrapCode::CannotEnterComponent))?;
            f(&mut st, args)
        });
    }

    /// Free the rep when the guest drops a handle of `iface#resource`.
    pub(crate) fn resource(&mut self, iface: &str, resource: &str) {
        if !self.wanted(iface, resource) {
            return;
        }
        let state = self.state.clone();
        self.imports
            .on_drop(format!("{iface}#{resource}"), move |rep| {
                if let Ok(mut st) = state.try_borrow_mut() {
                    st.remove(rep);
                }
            });
    }
}
