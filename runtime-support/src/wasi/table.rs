//! [`WasiState`]: everything the WASI functions share — the context, the exit status, and the
//! table of host resources ([`Obj`]) whose index is the rep the guest's handles carry.
//! [`Registrar`] wraps host functions so they run with the state borrowed.

use super::filesystem::{Descriptor, DirStream};
use super::io::{InputStream, OutputStream, Pollable};
use super::WasiCtx;
use crate::component::{HostImports, Val};
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::ops::Range;
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
    /// State of the insecure generator (xorshift64*) and the insecure seed, drawn from the
    /// operating system when the program first asks (most never do).
    insecure: Option<(u64, (u64, u64))>,
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
        WasiState {
            ctx,
            exit: None,
            objs: Vec::new(),
            free: Vec::new(),
            start: std::time::Instant::now(),
            insecure: None,
        }
    }

    /// The insecure generator's state and seed (seeded on first use).
    pub(crate) fn insecure(&mut self) -> &mut (u64, (u64, u64)) {
        self.insecure.get_or_insert_with(|| {
            let seed = super::clocks::os_random_u64s();
            // xorshift's state must not be zero.
            (seed.0 | 1, seed)
        })
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

/// A WASI host function.
type WasiFunc = dyn Fn(&mut WasiState, &[Val]) -> Result<Option<Val>, Trap>;

/// Registers host functions that run with the [`WasiState`] borrowed.
///
/// Interfaces are named as written in weld's WASI host, which is already normalised
/// (`wasi:cli/stdout@0.2`), so offering a function costs a binary search and nothing more.
pub(crate) struct Registrar<'a> {
    pub(crate) imports: &'a mut HostImports,
    pub(crate) state: Rc<RefCell<WasiState>>,
    /// Only these functions (normalised `interface#function` names, sorted, no duplicates),
    /// when known: registering the ~150 functions of every interface was a third of an
    /// executable's start-up, and every function of the interfaces it imports still a fifth.
    pub(crate) needed: Option<Vec<String>>,
    /// The last interface asked about and the range of `needed` naming its functions and
    /// resources (calls come interface by interface): a whole interface the component does
    /// not import is passed over at once, and a function is looked up among its interface's
    /// names by the short part after `#`.
    pub(crate) last: Option<(&'static str, Range<usize>)>,
}

/// `iface#name`, built without the formatting machinery.
fn key(iface: &str, name: &str) -> String {
    let mut k = String::with_capacity(iface.len() + 1 + name.len());
    k.push_str(iface);
    k.push('#');
    k.push_str(name);
    k
}

/// Whether `n` names something of `iface` (`iface#...`).
fn in_interface(n: &str, iface: &str) -> bool {
    n.as_bytes().get(iface.len()) == Some(&b'#') && n.starts_with(iface)
}

/// `t` compared with `head` followed by `name`, without building the latter.
fn cmp_concat(t: &[u8], head: &[u8], name: &[u8]) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    let k = head.len().min(t.len());
    match t[..k].cmp(&head[..k]) {
        // `t` ends inside `head`: a proper prefix sorts first.
        Ordering::Equal if t.len() < head.len() => Ordering::Less,
        Ordering::Equal => t[head.len()..].cmp(name),
        o => o,
    }
}

/// `n` compared with `iface#name`, without building the latter.
fn cmp_key(n: &str, iface: &str, name: &str) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    let (n, i) = (n.as_bytes(), iface.as_bytes());
    let Some((head, rest)) = n.split_at_checked(i.len()) else {
        // Shorter than the interface: compare what there is; a prefix sorts first.
        return n.cmp(&i[..n.len()]).then(Ordering::Less);
    };
    head.cmp(i).then_with(|| match rest.split_first() {
        None => Ordering::Less,
        Some((c, tail)) => c.cmp(&b'#').then_with(|| tail.cmp(name.as_bytes())),
    })
}

impl Registrar<'_> {
    /// A registrar adding to `imports` the functions of `needed` (import names, in any form
    /// and order), or every function with `None`.
    pub(crate) fn new<'a>(
        imports: &'a mut HostImports,
        state: Rc<RefCell<WasiState>>,
        needed: Option<Vec<String>>,
    ) -> Registrar<'a> {
        let needed = needed.map(|mut v| {
            v.sort_unstable();
            v.dedup();
            v
        });
        Registrar {
            imports,
            state,
            needed,
            last: None,
        }
    }

    /// The range of `needed` (empty without it) holding `iface`'s names: sorted names with a
    /// common prefix are contiguous.
    fn interface_range(&mut self, iface: &'static str) -> Range<usize> {
        debug_assert_eq!(crate::component::names::normalize(iface), iface);
        let Some(needed) = &self.needed else {
            return 0..0;
        };
        match &self.last {
            // The same `&'static str` most of the time: compare addresses before contents.
            Some((last, range)) if core::ptr::eq(*last, iface) || *last == iface => range.clone(),
            _ => {
                let start = needed.partition_point(|n| cmp_key(n, iface, "").is_lt());
                let len = needed[start..].partition_point(|n| in_interface(n, iface));
                let range = start..start + len;
                self.last = Some((iface, range.clone()));
                range
            }
        }
    }

    /// Whether anything of `iface` may be wanted (the interface is imported, or all is wanted).
    pub(crate) fn wants_interface(&mut self, iface: &'static str) -> bool {
        self.needed.is_none() || !self.interface_range(iface).is_empty()
    }

    /// Whether `iface#name` is wanted (a function, or a resource whose drops matter).
    fn wanted(&mut self, iface: &'static str, name: &str) -> bool {
        self.wanted_parts(iface, "", name)
    }

    /// Whether `iface#{head}{name}` is wanted, without building the name.
    #[inline(never)]
    fn wanted_parts(&mut self, iface: &'static str, head: &str, name: &str) -> bool {
        let range = self.interface_range(iface);
        let Some(needed) = &self.needed else {
            return true;
        };
        // Every name in the range is `iface#...`: compare what follows the `#`.
        needed[range]
            .binary_search_by(|n| {
                let tail = n.as_bytes().get(iface.len() + 1..).unwrap_or_default();
                cmp_concat(tail, head.as_bytes(), name.as_bytes())
            })
            .is_ok()
    }

    /// Offer `iface#func`.
    pub(crate) fn func(
        &mut self,
        iface: &'static str,
        func: &str,
        f: impl Fn(&mut WasiState, &[Val]) -> Result<Option<Val>, Trap> + 'static,
    ) {
        if self.wanted(iface, func) {
            // Boxed here (free: the functions capture nothing or little) so that what follows
            // is compiled once, not once for each of the ~150 functions.
            self.add(iface, func, Box::new(f));
        }
    }

    /// Offer `iface#{head}{name}` (a method: `head` is `[method]resource.`), building the name
    /// only when it is wanted (start-up asks about ~150 functions; few are imported).
    pub(crate) fn method(
        &mut self,
        iface: &'static str,
        head: &'static str,
        name: &str,
        f: impl Fn(&mut WasiState, &[Val]) -> Result<Option<Val>, Trap> + 'static,
    ) {
        if self.wanted_parts(iface, head, name) {
            let mut full = String::with_capacity(head.len() + name.len());
            full.push_str(head);
            full.push_str(name);
            self.add(iface, &full, Box::new(f));
        }
    }

    #[inline(never)]
    fn add(&mut self, iface: &str, func: &str, f: Box<WasiFunc>) {
        let state = self.state.clone();
        self.imports.insert_normalized(
            key(iface, func),
            Box::new(move |args| {
                let mut st = state
                    .try_borrow_mut()
                    .map_err(|_| Trap::new(TrapCode::CannotEnterComponent))?;
                f(&mut st, args)
            }),
        );
    }

    /// Free the rep when the guest drops a handle of `iface#resource`.
    pub(crate) fn resource(&mut self, iface: &'static str, resource: &str) {
        if !self.wanted(iface, resource) {
            return;
        }
        let state = self.state.clone();
        self.imports.on_drop_normalized(
            key(iface, resource),
            Box::new(move |rep| {
                if let Ok(mut st) = state.try_borrow_mut() {
                    st.remove(rep);
                }
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{cmp_key, Registrar, WasiState};
    use crate::component::HostImports;
    use alloc::format;
    use alloc::rc::Rc;
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    #[test]
    fn names_in_two_parts_compare_as_if_joined() {
        use super::cmp_concat;
        for t in [
            "", "[m]a", "[m]a.", "[m]a.f", "[m]a.fg", "[m]b", "[", "[m]a.e", "z",
        ] {
            for (head, name) in [("[m]a.", "f"), ("", "[m]a.f"), ("[m]a.f", ""), ("[m]", "a")] {
                let joined = format!("{head}{name}");
                assert_eq!(
                    cmp_concat(t.as_bytes(), head.as_bytes(), name.as_bytes()),
                    t.cmp(joined.as_str()),
                    "{t:?} against {head:?} + {name:?}"
                );
            }
        }
    }

    #[test]
    fn a_method_is_registered_under_its_joined_name_only_when_imported() {
        let mut imports = HostImports::new();
        let state = Rc::new(RefCell::new(WasiState::new(super::super::WasiCtx::new())));
        let needed = ["a#[method]r.f", "a#[method]r."].map(String::from).to_vec();
        let mut reg = Registrar::new(&mut imports, state, Some(needed));
        for name in ["f", "g", "", "ff"] {
            reg.method("a", "[method]r.", name, |_, _| Ok(None));
        }
        let mut names: Vec<&str> = imports.names().collect();
        names.sort_unstable();
        assert_eq!(names, ["a#[method]r.", "a#[method]r.f"]);
    }

    #[test]
    fn every_imported_interface_is_found_whatever_order_the_names_sort_in() {
        let mut imports = HostImports::new();
        let state = Rc::new(RefCell::new(WasiState::new(super::super::WasiCtx::new())));
        // "a!b#g" sorts before "a#f", but interface "a" before "a!b".
        let needed = ["a#f", "a!b#g"].map(String::from).to_vec();
        let mut reg = Registrar::new(&mut imports, state, Some(needed));
        assert!(reg.wants_interface("a"));
        assert!(reg.wants_interface("a!b"));
        assert!(!reg.wants_interface("b"));
    }

    #[test]
    fn only_needed_functions_are_wanted_in_whatever_order_interfaces_are_asked() {
        let mut imports = HostImports::new();
        let state = Rc::new(RefCell::new(WasiState::new(super::super::WasiCtx::new())));
        let needed = ["b#y", "a#f", "a!b#g", "a#h", "ab#f", "a#"]
            .map(String::from)
            .to_vec();
        let mut reg = Registrar::new(&mut imports, state, Some(needed));
        for _ in 0..2 {
            assert!(reg.wanted("a", "f"));
            assert!(reg.wanted("a", "h"));
            assert!(reg.wanted("a", ""));
            assert!(!reg.wanted("a", "g"));
            assert!(!reg.wanted("a", "y"));
            assert!(reg.wanted("a!b", "g"));
            assert!(!reg.wanted("a!b", "f"));
            assert!(reg.wanted("ab", "f"));
            assert!(!reg.wanted("ab", "h"));
            assert!(reg.wanted("b", "y"));
            assert!(!reg.wanted("c", "y"));
            assert!(!reg.wanted("", "a"));
        }
        // Without a list, everything is wanted.
        let mut all = HostImports::new();
        let state = Rc::new(RefCell::new(WasiState::new(super::super::WasiCtx::new())));
        let mut reg = Registrar::new(&mut all, state, None);
        assert!(reg.wanted("any", "thing"));
        assert!(reg.wants_interface("any"));
    }

    #[test]
    fn keys_compare_as_the_joined_interface_and_name_would() {
        let names = [
            "",
            "w",
            "wasi:io/poll@0.2",
            "wasi:io/poll@0.2#",
            "wasi:io/poll@0.2#poll",
            "wasi:io/poll@0.2#pollx",
            "wasi:io/poll@0.2#p",
            "wasi:io/poll@0.2$a",
            "wasi:io/poll@0.3#poll",
            "wasi:io/poll@0.2\"x",
            "wasi:io/poll@0.1#zzz",
            "x",
        ];
        for n in names {
            for (iface, name) in [
                ("wasi:io/poll@0.2", "poll"),
                ("wasi:io/poll@0.2", ""),
                ("w", "a"),
            ] {
                let joined = format!("{iface}#{name}");
                assert_eq!(
                    cmp_key(n, iface, name),
                    n.cmp(joined.as_str()),
                    "{n} vs {joined}"
                );
            }
        }
    }
}
