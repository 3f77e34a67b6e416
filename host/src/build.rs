//! For `build.rs`: compile a component into the crate's own binary, the way the `cc` crate
//! builds C.
//!
//! ```no_run
//! // build.rs
//! weld_host::build::Build::new("plugins/greeter.wasm")
//!     .name("greeter")
//!     .compile()
//!     .expect("weld compile");
//! // src/main.rs: let greeter = weld_host::Plugin::linked("greeter")?;
//! ```
//!
//! In: a component (`.wasm` or `.wat`) and the `weld` compiler (the `WELD` environment
//! variable, else `weld` on `PATH`). Out: `$OUT_DIR/lib<name>.a` (`weld compile --emit
//! staticlib`), linked whole into the crate's binaries, with the component's descriptor
//! `<name>__component` exported so that [`crate::Plugin::linked`] finds it at run time; and the
//! `cargo:` lines that make Cargo rebuild when the component or `WELD` changes. No file is
//! loaded at run time: the code is part of the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A component to compile into the crate.
#[derive(Debug, Clone)]
pub struct Build {
    input: PathBuf,
    name: Option<String>,
    weld: Option<PathBuf>,
    args: Vec<String>,
    bindings: bool,
}

impl Build {
    /// Compile `input` (relative paths are relative to the crate, as in `build.rs`).
    pub fn new(input: impl AsRef<Path>) -> Build {
        Build {
            input: input.as_ref().to_path_buf(),
            name: None,
            weld: None,
            args: Vec::new(),
            bindings: false,
        }
    }

    /// The symbol prefix and library name (a C identifier); default: the file name.
    pub fn name(mut self, name: &str) -> Build {
        self.name = Some(name.into());
        self
    }

    /// The `weld` executable to run (default: `$WELD`, else `weld` on `PATH`).
    pub fn weld(mut self, path: impl AsRef<Path>) -> Build {
        self.weld = Some(path.as_ref().to_path_buf());
        self
    }

    /// One more `weld compile` option (`--bounds-checks=explicit`, `--opt-level=none`, ...).
    pub fn arg(mut self, arg: &str) -> Build {
        self.args.push(arg.into());
        self
    }

    /// Also generate the component's Rust bindings (`weld compile --emit rust`) into
    /// `$OUT_DIR/<name>_bindings.rs`, for [`crate::bindgen!`]`("<name>")`.
    pub fn bindings(mut self) -> Build {
        self.bindings = true;
        self
    }

    /// The name the component is compiled under.
    fn prefix(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let stem = self
                .input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            stem.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        })
    }

    /// Compile, and print the `cargo:` lines that link the result (see the module docs).
    pub fn compile(self) -> Result<(), String> {
        let out_dir = std::env::var_os("OUT_DIR")
            .map(PathBuf::from)
            .ok_or("OUT_DIR is not set: call this from a build script")?;
        let name = self.prefix();
        let weld = self
            .weld
            .clone()
            .or_else(|| std::env::var_os("WELD").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("weld"));
        let lib = out_dir.join(format!("lib{name}.a"));
        let mut outputs = vec![("staticlib", lib)];
        if self.bindings {
            outputs.push(("rust", out_dir.join(format!("{name}_bindings.rs"))));
        }
        for (emit, path) in outputs {
            let out = Command::new(&weld)
                .arg("compile")
                .arg(&self.input)
                .args(["--emit", emit, "--name", &name])
                .args(&self.args)
                .arg("-o")
                .arg(&path)
                .output()
                .map_err(|e| format!("cannot run {} ({e}); set WELD", weld.display()))?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
            }
        }
        let descriptor = weld_contract::symbols::component_descriptor(&name);
        println!("cargo:rerun-if-changed={}", self.input.display());
        println!("cargo:rerun-if-env-changed=WELD");
        if weld.is_file() {
            // A new compiler may compile (and generate bindings) differently.
            println!("cargo:rerun-if-changed={}", weld.display());
        }
        println!("cargo:rustc-link-search=native={}", out_dir.display());
        // Whole: nothing refers to the descriptor at link time, only Plugin::linked at run time.
        println!("cargo:rustc-link-lib=static:+whole-archive={name}");
        println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol={descriptor}");
        Ok(())
    }
}
