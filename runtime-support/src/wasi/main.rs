//! `weld_main`: the `main` of executables made by `weld compile --emit exe`, and its
//! command-line convention.
//!
//! ```text
//! app [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... [--] [ARGS...]
//! ```
//!
//! Options are read from the start of the command line only, up to `--` (which is dropped) or
//! the first argument that is not one of them; everything after goes to the program, whose
//! `argv[0]` is the executable's. Like `wasmtime run`:
//! - `--dir HOST[::GUEST]` (or `--dir=...`) preopens host directory HOST as GUEST (default: HOST
//!   as written); repeatable.
//! - `--env NAME=VALUE` sets a variable; `--env NAME` passes the host's value (if set).
//!   Nothing else of the host environment is visible.
//!
//! Exit status: the program's; 134 with `trap: <message>` and a wasm backtrace (module and
//! function names from the name sections, innermost frame first) on stderr when it traps; 2 with a
//! message for a bad option; 1 when the component cannot be loaded or instantiated.

use super::{run_command, RunError, WasiCtx};
use crate::component::ComponentModule;
use crate::store::Store;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use std::path::PathBuf;
use weld_contract::component::descriptor::VMComponentDescriptor;

/// `weld_main_flags` bit: imports the WASI host does not provide trap when called (the
/// executable was compiled with `--trap-unknown-imports`).
pub const MAIN_TRAP_UNKNOWN_IMPORTS: u32 = 1;

/// Exit status of a trapped program.
pub const TRAP_STATUS: i32 = 134;

/// A command line split into the sandbox options and the program's arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--dir`: host path and guest name.
    pub dirs: Vec<(PathBuf, String)>,
    /// `--env`.
    pub env: Vec<(String, String)>,
    /// The program's arguments, `argv[0]` first.
    pub args: Vec<String>,
}

/// The host's value of an environment variable (for `--env NAME`).
pub type HostEnv<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Split `argv` (the executable's, `argv[0]` first); `host_env` answers `--env NAME`.
pub fn parse_args(argv: &[String], host_env: HostEnv<'_>) -> Result<Options, String> {
    let mut o = Options::default();
    o.args.extend(argv.first().cloned());
    let mut rest = argv.iter().skip(1).peekable();
    while let Some(a) = rest.peek() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f == "--dir" || f == "--env" => (f, Some(String::from(v))),
            _ => (a.as_str(), None),
        };
        if flag == "--" {
            rest.next();
            break;
        }
        if flag != "--dir" && flag != "--env" {
            break;
        }
        let flag = String::from(flag);
        rest.next();
        let value = match inline {
            Some(v) => v,
            None => rest
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        if flag == "--dir" {
            let (host, guest) = value.split_once("::").unwrap_or((&value, &value));
            if host.is_empty() || guest.is_empty() {
                return Err(format!("--dir {value}: empty path"));
            }
            o.dirs.push((PathBuf::from(host), String::from(guest)));
        } else if let Some((k, v)) = value.split_once('=') {
            o.env.push((k.into(), v.into()));
        } else if let Some(v) = host_env(&value) {
            o.env.push((value, v));
        }
    }
    o.args.extend(rest.cloned());
    Ok(o)
}

/// Run `module` as a command with the process's stdio and the sandbox `argv` asks for; the
/// exit status (messages on stderr as the module docs say). Leaks the store and everything in
/// it: the caller, an executable's `main`, exits right after.
pub fn main_with_args(
    module: &ComponentModule,
    argv: &[String],
    host_env: HostEnv<'_>,
    flags: u32,
) -> i32 {
    let o = match parse_args(argv, host_env) {
        Ok(o) => o,
        Err(e) => {
            std::eprintln!("error: {e}");
            return 2;
        }
    };
    let mut ctx = WasiCtx::new().inherit_stdio();
    ctx.args = o.args;
    ctx.env = o.env;
    ctx.preopens = o.dirs;
    ctx.trap_unknown_imports = flags & MAIN_TRAP_UNKNOWN_IMPORTS != 0;
    let mut store = Store::new();
    let result = run_command(&mut store, module, ctx);
    store.gc.report();
    // The process exits right after (only an executable's `main` comes here): returning the
    // store's memories and instances to the allocator one by one would only cost time.
    core::mem::forget(store);
    match result {
        Ok(status) => status,
        Err(RunError::Trap(t)) => {
            std::eprintln!("trap: {t}");
            if let Some(bt) = crate::backtrace::take() {
                std::eprintln!("{bt}");
            }
            TRAP_STATUS
        }
        Err(e) => {
            std::eprintln!("error: {e}");
            1
        }
    }
}

/// The first `n` strings of a C string array (fewer at a NULL), lossily decoded.
///
/// # Safety
/// `p` is NULL or points at `n` pointers, each NULL or a C string.
unsafe fn c_strings(p: *const *const libc::c_char, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    if p.is_null() {
        return out;
    }
    for i in 0..n {
        // SAFETY: within the array the caller describes.
        let s = unsafe { *p.add(i) };
        if s.is_null() {
            break;
        }
        // SAFETY: the caller guarantees NUL-terminated strings.
        let c = unsafe { core::ffi::CStr::from_ptr(s) };
        out.push(String::from(c.to_string_lossy()));
    }
    out
}

/// The value of `name` in the C environment `envp`, lossily decoded. Looked up only when an
/// `--env NAME` asks: copying the whole environment took a tenth of hello-world's start-up.
///
/// # Safety
/// `envp` is NULL or a NULL-terminated array of C strings.
unsafe fn c_env(envp: *const *const libc::c_char, name: &str) -> Option<String> {
    if envp.is_null() {
        return None;
    }
    let mut i = 0;
    loop {
        // SAFETY: before the terminating NULL of the array the caller describes.
        let s = unsafe { *envp.add(i) };
        if s.is_null() {
            return None;
        }
        // SAFETY: the caller guarantees NUL-terminated strings.
        let kv = unsafe { core::ffi::CStr::from_ptr(s) }.to_bytes();
        if let Some(v) = kv
            .strip_prefix(name.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
        {
            return Some(String::from(String::from_utf8_lossy(v)));
        }
        i += 1;
    }
}

/// The `main` of a weld executable: load the linked component `desc` and run it as a command
/// with `argc`/`argv` (see the module docs for options); `envp` (NULL-terminated, may be NULL)
/// is only consulted by `--env NAME`.
///
/// # Safety
/// `desc` must be a weld component descriptor that lives for the rest of the process (the one
/// linked into the executable: release builds check only its header, see
/// `ComponentModule::from_linked_descriptor`); `argv` must hold `argc` C strings and `envp` be
/// NULL or a NULL-terminated array of C strings.
#[no_mangle]
pub unsafe extern "C" fn weld_main(
    desc: *const VMComponentDescriptor,
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> libc::c_int {
    // SAFETY: the caller's guarantees, passed on.
    unsafe { weld_main_flags(desc, 0, argc, argv, envp) }
}

/// [`weld_main`] with `MAIN_*` flags.
///
/// # Safety
/// As for [`weld_main`].
#[no_mangle]
pub unsafe extern "C" fn weld_main_flags(
    desc: *const VMComponentDescriptor,
    flags: u32,
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> libc::c_int {
    // Start-up allocations come from a bump arena until the program runs (see `arena`).
    crate::arena::begin();
    // SAFETY: the caller's guarantee for argv.
    let argv = unsafe { c_strings(argv, usize::try_from(argc).unwrap_or(0)) };
    // SAFETY: the caller's guarantee for envp.
    let host_env = |name: &str| unsafe { c_env(envp, name) };
    if desc.is_null() {
        std::eprintln!("error: NULL component descriptor");
        return 1;
    }
    // SAFETY: the caller (the executable's generated `main`) passes the descriptor weld linked in
    // beside this code; it lives forever.
    let module = match unsafe { ComponentModule::from_linked_descriptor(&*desc) } {
        Ok(m) => m,
        Err(e) => {
            std::eprintln!("error: cannot load the component: {e}");
            return 1;
        }
    };
    let status = main_with_args(&module, &argv, &host_env, flags);
    // As for the store in `main_with_args`: the process is about to exit.
    core::mem::forget((module, argv));
    status
}

#[cfg(test)]
mod tests {
    use super::{parse_args, Options};
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;
    use std::path::PathBuf;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn leading_dir_and_env_options_configure_the_sandbox_and_the_rest_are_arguments() {
        let host = |k: &str| (k == "HOME").then(|| String::from("/home/u"));
        let o = parse_args(
            &argv(&[
                "app",
                "--dir",
                "data::/d",
                "--dir=.",
                "--env",
                "A=1",
                "--env=HOME",
                "--env",
                "UNSET",
                "x",
                "--dir",
                "y",
            ]),
            &host,
        )
        .unwrap();
        assert_eq!(
            o,
            Options {
                dirs: vec![
                    (PathBuf::from("data"), String::from("/d")),
                    (PathBuf::from("."), String::from(".")),
                ],
                env: vec![
                    (String::from("A"), String::from("1")),
                    (String::from("HOME"), String::from("/home/u")),
                ],
                args: argv(&["app", "x", "--dir", "y"]),
            }
        );
    }

    #[test]
    fn a_double_dash_ends_the_options_and_is_dropped() {
        let o = parse_args(
            &argv(&["app", "--env", "A=1", "--", "--dir", "--"]),
            &|_| None,
        )
        .unwrap();
        assert_eq!(o.args, argv(&["app", "--dir", "--"]));
        let o = parse_args(&argv(&["app", "a", "--", "b"]), &|_| None).unwrap();
        assert_eq!(o.args, argv(&["app", "a", "--", "b"]));
        assert!(o.dirs.is_empty() && o.env.is_empty());
    }

    #[test]
    fn an_option_without_its_value_is_an_error() {
        assert!(parse_args(&argv(&["app", "--dir"]), &|_| None).is_err());
        assert!(parse_args(&argv(&["app", "--dir", "::g"]), &|_| None).is_err());
    }
}
