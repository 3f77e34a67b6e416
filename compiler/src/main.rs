//! The `weld` command line.

use anyhow::{bail, Context, Result};
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
    /// One relocatable object file.
    Obj,
    /// A shared library.
    Sharedlib,
    /// An executable (modules with a `_start` or `main` export).
    Exe,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Bounds {
    /// Guard regions; most checks vanish (64-bit hosted targets).
    Guard,
    /// Explicit comparisons on every access.
    Explicit,
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
    #[arg(long, default_value = "speed", value_parser = ["none", "speed", "speed_and_size"])]
    opt_level: String,
}

impl CodegenArgs {
    fn options(&self, prefix: String) -> Options {
        Options {
            target: self.target.clone(),
            bounds_checks: match self.bounds_checks {
                Bounds::Guard => BoundsChecks::Guard,
                Bounds::Explicit => BoundsChecks::Explicit,
            },
            prefix,
            opt_level: self.opt_level.clone(),
            threads: 0,
        }
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
        /// What to produce.
        #[arg(long, value_enum, default_value = "obj")]
        emit: Emit,
        /// Symbol prefix (a C identifier); default: derived from the input file name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
    /// Run `.wast` scripts through the real pipeline (compile, link, load, run).
    Wast {
        /// Script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File listing reviewed skips (see tests/wast-skips.txt).
        #[arg(long)]
        skips: Option<PathBuf>,
        #[command(flatten)]
        codegen: CodegenArgs,
    },
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

fn compile(
    input: &Path,
    output: Option<PathBuf>,
    emit: Emit,
    name: Option<String>,
    codegen: &CodegenArgs,
) -> Result<()> {
    let bytes = read_input(input)?;
    let prefix = name.unwrap_or_else(|| default_prefix(input));
    let options = codegen.options(prefix);
    let obj = weld::compile_module(&bytes, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    let output = output.unwrap_or_else(|| {
        let ext = match emit {
            Emit::Obj => "o",
            Emit::Sharedlib => "so",
            Emit::Exe => "",
        };
        input.with_extension(ext)
    });
    match emit {
        Emit::Obj => write_atomic(&output, &obj)?,
        Emit::Sharedlib | Emit::Exe => {
            let dir = tempfile::tempdir().context("creating a temporary directory")?;
            let obj_path = dir.path().join("module.o");
            std::fs::write(&obj_path, &obj).context("writing a temporary object")?;
            let kind = if emit == Emit::Exe {
                bail!(
                    "{}: --emit exe needs the runtime archive, which is not built yet",
                    input.display()
                );
            } else {
                weld::link::OutputKind::SharedLib
            };
            weld::link::link(&[obj_path], &output, kind, &options.target, &[])
                .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
        }
    }
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

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile {
            input,
            output,
            emit,
            name,
            codegen,
        } => compile(&input, output, emit, name, &codegen),
        Command::Wast {
            files,
            skips,
            codegen,
        } => weld::wast::main(&files, skips.as_deref(), &codegen.options("m".into())).map(|ok| {
            if !ok {
                std::process::exit(1);
            }
        }),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
