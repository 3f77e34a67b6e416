//! The `weld` command line.

mod cli_progress;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use weld::{BoundsChecks, Options};

#[derive(Parser)]
#[command(
    name = "weld",
    version,
    about = "Ahead-of-time compiler from WebAssembly to native objects"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Emit {
    /// One relocatable object file (with C entry points; see weld.h).
    Obj,
    /// The C header declaring the object's entry points (`<name>.h`).
    Header,
    /// Rust bindings of a component's world for `weld-host` (`<name>_bindings.rs`; see
    /// `weld_host::bindgen!`): its WIT types as Rust types, its exports as methods, its imports
    /// as a trait.
    Rust,
    /// A static library (`.a`) holding the object.
    Staticlib,
    /// A shared library.
    Sharedlib,
    /// An executable (modules with a `_start` or `main` export, no imports), linked with
    /// libweld_runtime.a; a trap exits with status 134 after printing `trap: <message>`. Static,
    /// against musl when its runtime is built (`make runtime-musl`), else glibc;
    /// `WELD_LIBC=glibc|musl` decides.
    Exe,
    /// The component weld compiles, as a `.wasm`: a WASI preview1 module adapted to WASI 0.2
    /// (other inputs unchanged). For inspecting the adaptation or running it elsewhere.
    Component,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum InspectFormat {
    /// Human-readable listing.
    Text,
    /// JSON, schema `weld-inspect/1` (see README, "Seeing the graph").
    Json,
    /// Graphviz DOT.
    Dot,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Bounds {
    /// Guard regions; most checks vanish (64-bit hosted targets).
    Guard,
    /// Explicit comparisons on every access.
    Explicit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OptLevelArg {
    None,
    Speed,
    #[value(name = "speed_and_size")]
    SpeedAndSize,
}

#[derive(clap::Args, Clone)]
struct CodegenArgs {
    /// Target triple.
    #[arg(long, default_value = weld::options::host_triple())]
    target: String,
    /// How memory accesses are kept in bounds.
    #[arg(long, value_enum, default_value = "guard")]
    bounds_checks: Bounds,
    /// Cranelift optimisation level.
    #[arg(long, value_enum, default_value = "speed")]
    opt_level: OptLevelArg,
    /// WebAssembly features to enable or (with `-`) disable, wasm-tools style:
    /// `-f cm-async,-simd`.
    #[arg(long, short = 'f')]
    features: Option<String>,
    /// CPU the code may assume: `baseline` (any CPU of the target; x86-64-v2), `x86-64-v3`,
    /// `x86-64-v4`, or `native` (this machine's features, as Wasmtime compiles). The runtime
    /// refuses to load the code on a CPU without them.
    #[arg(long, value_enum, default_value = "baseline")]
    cpu: CpuArg,
    /// Relaxed-SIMD lowering: `native` (the target's fastest choice of the results the spec
    /// allows) or `deterministic` (the same bits on every target, as Wasmtime's deterministic
    /// mode).
    #[arg(long, value_enum, default_value = "native")]
    relaxed_simd: RelaxedSimdArg,
    /// Debug information: translate the module's DWARF (clang `-g` for wasm) into DWARF for the
    /// native code, so gdb breaks at source lines, names functions and steps; executables keep
    /// it. Without it the output carries none.
    #[arg(short = 'g', long = "debug-info")]
    debug_info: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum RelaxedSimdArg {
    Native,
    Deterministic,
}

#[derive(Clone, Copy, ValueEnum)]
enum CpuArg {
    Baseline,
    #[value(name = "x86-64-v3")]
    X86_64V3,
    #[value(name = "x86-64-v4")]
    X86_64V4,
    Native,
}

impl CodegenArgs {
    fn options(&self, prefix: String) -> Result<Options> {
        let features = match &self.features {
            Some(list) => Some(
                weld::frontend::apply_feature_list(weld::frontend::features(), list)
                    .map_err(|e| anyhow::anyhow!("--features: {e}"))?,
            ),
            None => None,
        };
        Ok(Options {
            target: weld::Target::new(&self.target)?,
            bounds_checks: match self.bounds_checks {
                Bounds::Guard => BoundsChecks::Guard,
                Bounds::Explicit => BoundsChecks::Explicit,
            },
            prefix,
            opt_level: match self.opt_level {
                OptLevelArg::None => weld::OptLevel::None,
                OptLevelArg::Speed => weld::OptLevel::Speed,
                OptLevelArg::SpeedAndSize => weld::OptLevel::SpeedAndSize,
            },
            threads: 0,
            c_entry_points: true,
            features,
            plugin: false,
            cpu: match self.cpu {
                CpuArg::Baseline => weld::Cpu::Baseline,
                CpuArg::X86_64V3 => weld::Cpu::X86_64V3,
                CpuArg::X86_64V4 => weld::Cpu::X86_64V4,
                CpuArg::Native => weld::Cpu::Native,
            },
            relaxed_simd: match self.relaxed_simd {
                RelaxedSimdArg::Native => weld::RelaxedSimd::Native,
                RelaxedSimdArg::Deterministic => weld::RelaxedSimd::Deterministic,
            },
            debug_info: self.debug_info,
            ..Options::default()
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile a WebAssembly module.
    Compile {
        /// Input `.wasm` (or `.wat`) file.
        input: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// What to produce; default: by the output's extension (.o .a .so .h), else an
        /// executable for programs (`wasi:cli/run` components, `_start` modules), else an object.
        #[arg(long, value_enum)]
        emit: Option<Emit>,
        /// Symbol prefix (a C identifier); default: derived from the input file name.
        #[arg(long)]
        name: Option<String>,
        /// Refuse to compile a component whose graph breaks this policy (see README, "Graph
        /// policies").
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Make an executable of a component that imports functions weld's WASI host does not
        /// provide: calling one traps ("call to a missing import"). Without it, such a component
        /// is refused at compile time with the list of missing imports.
        #[arg(long)]
        trap_unknown_imports: bool,
        /// Link an executable against the system's shared C library instead of statically
        /// (host target only; for valgrind and similar tools).
        #[arg(long)]
        dynamic: bool,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// Compile (cached), load and run a module or component: run a command component
    /// (`wasi:cli/run`, or a WASI preview1 module, adapted) with WASI like `wasmtime run`, or
    /// `_start`; or call `--invoke 'f(args)'` (WAVE syntax) and print its result. Options go
    /// before the input; everything after it is the program's arguments.
    Run {
        /// Call this export, e.g. `--invoke 'greet("world")'`.
        #[arg(long)]
        invoke: Option<String>,
        /// Preopen host directory HOST as GUEST (default: HOST as written); repeatable.
        #[arg(long, value_name = "HOST[::GUEST]")]
        dir: Vec<String>,
        /// Set an environment variable (`NAME` alone passes the host's value); repeatable.
        /// The program sees no other environment.
        #[arg(long, value_name = "NAME[=VALUE]")]
        env: Vec<String>,
        /// Run a component that imports functions weld's WASI host does not provide: calling
        /// one traps.
        #[arg(long)]
        trap_unknown_imports: bool,
        #[command(flatten)]
        codegen: CodegenArgs,
        /// Input (`.wasm` or `.wat`).
        input: PathBuf,
        /// The program's arguments (its `argv[0]` is the input's path).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a component's flattened graph: named component instances, core instances and
    /// their wiring, lowerings with their string encodings, resources and exports; or the graph
    /// as JSON, DOT or an SVG picture; or what each instance can reach.
    Inspect {
        /// Input component (`.wasm` or `.wat`).
        input: PathBuf,
        /// Output format (`-o *.svg` draws a picture instead).
        #[arg(long, value_enum, default_value = "text")]
        format: InspectFormat,
        /// Write to this file instead of standard output; a `.svg` name draws the graph.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print, for each component instance, the instances and host interfaces it reaches
        /// directly and transitively.
        #[arg(long)]
        reach: bool,
        /// In the picture, a node per host interface instead of one per family ("WASI 0.2").
        #[arg(long)]
        expand: bool,
    },
    /// Check a component's graph against a policy without compiling it; exits 1 with a
    /// one-line message naming the broken rule and path.
    Check {
        /// Input component (`.wasm` or `.wat`).
        input: PathBuf,
        /// The policy (TOML; see README, "Graph policies").
        #[arg(long)]
        policy: PathBuf,
    },
    /// Run `.wast` scripts through the real pipeline (compile, link, load, run).
    Wast {
        /// Script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File listing reviewed skips (see tests/wast-skips.txt).
        #[arg(long)]
        skips: Option<PathBuf>,
        /// Run the directives through this command instead of in this process (needed for
        /// another --target): its words, then `SCRIPT PLAN [LIBRARY]`. E.g.
        /// "qemu-aarch64 -L /usr/aarch64-linux-gnu target/aarch64-unknown-linux-gnu/release/weld-wast-run".
        #[arg(long)]
        runner: Option<String>,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// List the targets `--target` accepts and whether each is ready to link for: its runtime
    /// archive (found where, or the command that builds it) and its C compiler.
    Targets,
}

/// A C identifier from a file name.
fn default_prefix(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut p: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !p.starts_with(|c: char| c.is_ascii_alphabetic()) {
        p.insert_str(0, "m_");
    }
    p
}

fn read_input(input: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    // Text format.
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("{}: neither a wasm binary nor UTF-8 text", input.display())
    })?;
    let buf = wast::parser::ParseBuffer::new(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", input.display(), one_line(&e.to_string())))?;
    let mut wat: wast::Wat = wast::parser::parse(&buf)
        .map_err(|e| anyhow::anyhow!("{}: {}", input.display(), one_line(&e.to_string())))?;
    wat.encode()
        .map_err(|e| anyhow::anyhow!("{}: {}", input.display(), one_line(&e.to_string())))
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// What `weld compile` produces without `--emit`: what the output's extension says (`.o`, `.a`,
/// `.so`, `.h`); otherwise an executable for programs (a component exporting `wasi:cli/run`, a
/// module exporting `_start`) and an object for everything else.
fn default_emit(bytes: &[u8], output: Option<&Path>) -> Emit {
    match output.and_then(|o| o.extension()).and_then(|e| e.to_str()) {
        Some("o") => return Emit::Obj,
        Some("a") => return Emit::Staticlib,
        Some("so") => return Emit::Sharedlib,
        Some("h") => return Emit::Header,
        Some("rs") => return Emit::Rust,
        _ => {}
    }
    let runnable = if weld::frontend::is_component(bytes) {
        weld::component::flatten(bytes)
            .map(|info| {
                info.exports
                    .iter()
                    .any(|e| e.name.starts_with("wasi:cli/run@"))
            })
            .unwrap_or(false)
    } else {
        weld::preview1::preview1_use(bytes).has_start
    };
    if runnable {
        Emit::Exe
    } else {
        Emit::Obj
    }
}

/// How `weld compile` makes executables.
#[derive(Clone, Copy, Debug)]
struct ExeOptions {
    /// `--trap-unknown-imports`.
    trap_unknown_imports: bool,
    /// `--dynamic`.
    dynamic: bool,
}

impl ExeOptions {
    fn kind(self) -> weld::link::OutputKind {
        if self.dynamic {
            weld::link::OutputKind::DynamicExe
        } else {
            weld::link::OutputKind::Exe
        }
    }
}

fn compile(
    input: &Path,
    output: Option<PathBuf>,
    emit: Option<Emit>,
    name: Option<String>,
    policy: Option<&Path>,
    exe: ExeOptions,
    codegen: &CodegenArgs,
) -> Result<()> {
    let original = read_input(input)?;
    // A WASI preview1 core module is compiled as a WASI 0.2 component.
    let adapted = weld::timings::phase("preview1", || weld::preview1::wrap(&original))
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    // An invalid preview1 module is found invalid in the component made of it: report it at
    // the module's own offsets.
    let in_original = |e: weld::Error| match (&e, &adapted) {
        (weld::Error::Invalid { .. }, Some(_)) => {
            weld::preview1::invalid_input(&original).unwrap_or(e)
        }
        _ => e,
    };
    if emit == Some(Emit::Component) {
        let output = output.unwrap_or_else(|| input.with_extension("component.wasm"));
        let bytes = adapted.as_deref().unwrap_or(&original);
        weld::component::flatten(bytes)
            .map_err(|e| anyhow::anyhow!("{}: {}", input.display(), in_original(e)))?;
        return write_atomic(&output, bytes);
    }
    let bytes = adapted.as_deref().unwrap_or(&original);
    if let Some(policy) = policy {
        check_policy(input, bytes, policy)?;
    }
    let prefix = name.unwrap_or_else(|| default_prefix(input));
    let emit = emit.unwrap_or_else(|| default_emit(bytes, output.as_deref()));
    let options = Options {
        quick_glue: adapted.is_some(),
        c_host_adapters: emit != Emit::Exe,
        ..codegen.options(prefix)?
    };
    let at_input = |e: weld::Error| anyhow::anyhow!("{}: {e}", input.display());
    let output = output.unwrap_or_else(|| match emit {
        Emit::Obj => input.with_extension("o"),
        Emit::Header => input.with_file_name(format!("{}.h", options.prefix)),
        Emit::Rust => input.with_file_name(format!("{}_bindings.rs", options.prefix)),
        Emit::Staticlib => input.with_extension("a"),
        Emit::Sharedlib => input.with_extension("so"),
        Emit::Exe => input.with_extension(""),
        Emit::Component => input.with_extension("component.wasm"),
    });
    if weld::frontend::is_component(bytes) {
        return compile_component(bytes, &output, emit, &options, exe)
            .map_err(|e| at_input(in_original(e)));
    }
    if emit == Emit::Rust {
        anyhow::bail!(
            "{}: --emit rust needs a component (a core module has no WIT world)",
            input.display()
        );
    }
    if emit == Emit::Header {
        options.validate().map_err(at_input)?;
        let info = weld::module_info(bytes).map_err(at_input)?;
        let header = weld::emit::header::write_header(&info, &options.prefix);
        return write_atomic(&output, header.as_bytes());
    }
    // Check the exe entry before spending time on code generation.
    let exe_entry = match emit {
        Emit::Exe => {
            let info = weld::module_info(bytes).map_err(at_input)?;
            Some(weld::emit::header::exe_entry(&info).map_err(at_input)?)
        }
        _ => None,
    };
    let obj = weld::compile_module(bytes, &options).map_err(at_input)?;
    if emit == Emit::Obj {
        return write_atomic(&output, &obj);
    }
    use weld::link::product::{from_objects, Product};
    let main_c = exe_entry.map(|entry| weld::emit::header::exe_main(&options.prefix, &entry));
    let product = match (emit, &main_c) {
        (Emit::Exe, Some(main_c)) => Product::ExeWithMain {
            main_c,
            kind: exe.kind(),
            keep_debug: options.debug_info,
        },
        (Emit::Staticlib, _) => Product::StaticLib,
        _ => Product::SharedLib,
    };
    from_objects(
        &[(&options.prefix, &obj)],
        product,
        &output,
        options.target.as_str(),
    )
    .map_err(at_input)
}

/// `weld compile` of a component: one object, its C header, or a shared library of it.
fn compile_component(
    bytes: &[u8],
    output: &Path,
    emit: Emit,
    options: &Options,
    exe: ExeOptions,
) -> std::result::Result<(), weld::Error> {
    if emit == Emit::Exe && !exe.trap_unknown_imports {
        // Refuse before code generation: every import an executable needs, the WASI host must
        // provide.
        let info = weld::component::flatten(bytes)?;
        let missing = weld_runtime::wasi::unprovided(info.imports.iter().map(|i| i.name.as_str()));
        if !missing.is_empty() {
            return Err(weld::Error::MissingImports(missing));
        }
    }
    if emit == Emit::Rust {
        let info = weld::component::flatten(bytes)?;
        let names = weld::component::wit_names::WitNames::of(bytes, &info);
        let rust = weld::emit::rust_bindings::write_rust_bindings(&info, &names, &options.prefix);
        return write_atomic(output, rust.as_bytes())
            .map_err(|e| weld::Error::Link(format!("{e:#}")));
    }
    if emit == Emit::Header {
        let info = weld::component::flatten(bytes)?;
        let names = weld::component::wit_names::WitNames::of(bytes, &info);
        let header =
            weld::emit::component_header::write_component_header(&info, &names, &options.prefix);
        return write_atomic(output, header.as_bytes())
            .map_err(|e| weld::Error::Link(format!("{e:#}")));
    }
    // A component shared library is a plugin: it carries `weld_plugin_v1`.
    let plugin_options;
    let options = if emit == Emit::Sharedlib {
        plugin_options = Options {
            plugin: true,
            ..options.clone()
        };
        &plugin_options
    } else {
        options
    };
    let obj = if emit == Emit::Exe {
        let flags = if exe.trap_unknown_imports {
            weld_runtime::wasi::main::MAIN_TRAP_UNKNOWN_IMPORTS
        } else {
            0
        };
        // The object carries its own `main`: no C compiler run.
        weld::compile_component_exe(bytes, options, flags)?
    } else {
        weld::compile_component(bytes, options)?
    };
    use weld::link::product::{from_objects, Product};
    let product = match emit {
        Emit::Obj => {
            return write_atomic(output, &obj).map_err(|e| weld::Error::Link(format!("{e:#}")))
        }
        Emit::Staticlib => Product::StaticLib,
        Emit::Sharedlib => Product::SharedLib,
        Emit::Exe => Product::Exe {
            kind: exe.kind(),
            keep_debug: options.debug_info,
        },
        other => {
            return Err(weld::Error::Unsupported {
                message: format!(
                    "--emit {other:?} for components (use obj, header, rust, staticlib, sharedlib or exe)"
                ),
                offset: None,
            })
        }
    };
    from_objects(
        &[(&options.prefix, &obj)],
        product,
        output,
        options.target.as_str(),
    )
}

/// `weld run`.
fn run(input: &Path, config: weld::run::RunConfig, codegen: &CodegenArgs) -> Result<()> {
    let bytes = read_input(input)?;
    let options = codegen.options("weld_run".into())?;
    match weld::run::run(&bytes, &options, &config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?
    {
        weld::run::Outcome::Done => Ok(()),
        weld::run::Outcome::Trapped => std::process::exit(weld::run::TRAP_EXIT),
        weld::run::Outcome::Exit(status) => std::process::exit(status),
    }
}

/// `weld inspect`: print the flattened component graph, or draw it.
fn inspect(
    input: &Path,
    format: InspectFormat,
    output: Option<&Path>,
    reach: bool,
    expand: bool,
) -> Result<()> {
    use weld::inspect::{render as inspect_render, svg as inspect_svg, text as inspect};
    if is_elf(input) {
        return inspect_plugin(input, format, output, reach);
    }
    let bytes = read_input(input)?;
    let at_input = |e: weld::Error| anyhow::anyhow!("{}: {e}", input.display());
    let (info, graph) = weld::component::graph(&bytes).map_err(at_input)?;
    let svg = output.is_some_and(|o| o.extension().is_some_and(|e| e == "svg"));
    let text = if svg {
        inspect_svg::svg(&graph, expand)
    } else if reach {
        inspect_render::reach_text(&graph)
    } else {
        match format {
            InspectFormat::Text => {
                let names = weld::component::wit_names::WitNames::of(&bytes, &info);
                let prefix = default_prefix(input);
                let c = weld::emit::component_header::type_names(&info, &names, &prefix);
                let rust = weld::emit::rust_bindings::type_paths(&info, &names);
                format!(
                    "{}{}{}",
                    inspect_render::instances_text(&graph),
                    inspect::render(&info),
                    inspect::names_text(&info, &names, &c, &rust)
                )
            }
            InspectFormat::Json => inspect_render::json(&graph, &info),
            InspectFormat::Dot => inspect_render::dot(&graph),
        }
    };
    match output {
        Some(o) => write_atomic(o, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Whether `path` starts like an ELF file (a plugin, for `weld inspect`).
fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| magic == *b"\x7fELF")
}

/// `weld inspect plugin.so`: load a plugin as a host would (every check before and after
/// `dlopen`, `weld_runtime::plugin`) and print its target and world.
fn inspect_plugin(
    input: &Path,
    format: InspectFormat,
    output: Option<&Path>,
    reach: bool,
) -> Result<()> {
    if reach
        || format != InspectFormat::Text
        || output.is_some_and(|o| o.extension().is_some_and(|e| e == "svg"))
    {
        anyhow::bail!(
            "{}: a plugin is shown as its target and world text (no --format, --reach or picture)",
            input.display()
        );
    }
    let plugin = weld_runtime::plugin::open_plugin(input)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    let text = format!(
        "plugin for {} (world hash {:016x})\n{}",
        plugin.target,
        plugin.world_hash,
        plugin.world.trim_end()
    );
    let text = format!("{text}\n");
    match output {
        Some(o) => write_atomic(o, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Check a component against a policy file; the error is one line naming the broken rule.
fn check_policy(input: &Path, bytes: &[u8], policy: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(policy).with_context(|| format!("reading {}", policy.display()))?;
    let policy_file = policy.display();
    let rules =
        weld::policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{policy_file}: {e}"))?;
    if !weld::frontend::is_component(bytes) {
        anyhow::bail!(
            "{}: --policy applies to components; this is a core module",
            input.display()
        );
    }
    let (_, graph) =
        weld::component::graph(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    weld::policy::check(&rules, &graph)
        .map_err(|e| anyhow::anyhow!("{}: {e} ({policy_file})", input.display()))
}

/// `weld check`: exit 1 with the broken rule, or print `ok`.
fn check(input: &Path, policy: &Path) -> Result<()> {
    let bytes = read_input(input)?;
    if let Err(e) = check_policy(input, &bytes, policy) {
        eprintln!("error: {}", error_line(&e));
        std::process::exit(1);
    }
    println!("{}: ok ({})", input.display(), policy.display());
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".weld-out-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).context("writing output")?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// An error chain as one line: some messages from libraries span lines (wasmparser prints a
/// bad magic number as a pretty-printed array), and a user gets one line per error. (WAT
/// errors are cut to their first line where they are made, by `one_line`: the rest is a
/// source excerpt.)
fn error_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile {
            input,
            output,
            emit,
            name,
            policy,
            trap_unknown_imports,
            dynamic,
            codegen,
        } => {
            cli_progress::install();
            let r = compile(
                &input,
                output,
                emit,
                name,
                policy.as_deref(),
                ExeOptions {
                    trap_unknown_imports,
                    dynamic,
                },
                &codegen,
            );
            cli_progress::finish();
            r
        }
        Command::Inspect {
            input,
            format,
            output,
            reach,
            expand,
        } => inspect(&input, format, output.as_deref(), reach, expand),
        Command::Check { input, policy } => check(&input, &policy),
        Command::Targets => {
            for (target, what) in weld::link::runtime::TARGETS {
                println!("{}", weld::link::runtime::readiness(target, what));
            }
            Ok(())
        }
        Command::Run {
            invoke,
            dir,
            env,
            trap_unknown_imports,
            codegen,
            input,
            args,
        } => {
            // The program name, as `wasmtime run` passes it.
            let mut argv = vec![input.display().to_string()];
            argv.extend(args);
            let config = weld::run::RunConfig {
                invoke,
                args: argv,
                dirs: dir,
                env,
                trap_unknown_imports,
            };
            run(&input, config, &codegen)
        }
        Command::Wast {
            files,
            skips,
            runner,
            codegen,
        } => codegen.options("m".into()).and_then(|options| {
            let exec = weld::wast::Exec::for_target(&options, runner.as_deref())
                .map_err(anyhow::Error::msg)?;
            weld::wast::main(&files, skips.as_deref(), &options, &exec).map(|ok| {
                if !ok {
                    std::process::exit(1);
                }
            })
        }),
    };
    if let Err(e) = result {
        eprintln!("error: {}", error_line(&e));
        std::process::exit(2);
    }
}
