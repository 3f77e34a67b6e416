//! Loading plugins: shared objects made by `weld compile --emit sharedlib` from components.
//!
//! In: a path. Out: the checked [`PluginDescriptor`] (its component loaded), or why the file was
//! refused. Used by the Rust host crate (`weld-host`) and by the C API (`weld_plugin_open`).
//!
//! Before `dlopen` — so that a file that fails runs no code — [`precheck`] reads the ELF headers
//! (a small bounds-checked reader of its own: all three targets are little-endian ELF64):
//! machine, shared object, every segment and section inside the file, no initialisers
//! (`DT_INIT`, `DT_INIT_ARRAY`, `DT_PREINIT_ARRAY`; weld links plugins without C start files) and
//! no `DT_NEEDED` (other libraries' initialisers would run), and the descriptor symbol in the
//! dynamic symbol table. After `dlopen`, [`crate::Library::plugin`] checks magic and contract
//! version before following any pointer; then this module compares the target triple, the world
//! text with its hash, and the text with the one recomputed from the component's own types.
//!
//! Not checkable: machine code. An altered function body passes every check; authenticity of a
//! plugin file needs a signature, which is the distributor's business.

mod dynamic;

use crate::library::{Library, PluginDescriptor};
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use std::path::Path;
use weld_contract::component::world::{fnv1a64, world_text, PLUGIN_SYMBOL};

/// Why a plugin was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The file could not be read.
    Io(String),
    /// Not a weld plugin (not an ELF shared object, has initialisers, no descriptor, ...).
    NotAPlugin(String),
    /// The file is cut short or its headers point outside it.
    Truncated(String),
    /// Compiled for another machine or target.
    WrongTarget {
        /// This host's.
        expected: String,
        /// The plugin's.
        found: String,
    },
    /// Compiled against another version of the weld contract.
    AbiVersion {
        /// The plugin's.
        found: u32,
        /// This runtime's.
        expected: u32,
    },
    /// The descriptor disagrees with itself or with the component it describes.
    Tampered(String),
    /// The loader refused the file.
    Load(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Io(e) => write!(f, "cannot read the plugin: {e}"),
            PluginError::NotAPlugin(why) => write!(f, "not a weld plugin: {why}"),
            PluginError::Truncated(why) => write!(f, "truncated or corrupt plugin: {why}"),
            PluginError::WrongTarget { expected, found } => {
                write!(f, "plugin built for {found}, this host is {expected}")
            }
            PluginError::AbiVersion { found, expected } => write!(
                f,
                "plugin built for weld contract version {found}, this host speaks {expected}"
            ),
            PluginError::Tampered(why) => write!(f, "plugin descriptor does not check out: {why}"),
            PluginError::Load(why) => write!(f, "cannot load the plugin: {why}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// The target triple of this runtime, in the spelling `weld compile --target` uses.
pub fn host_target() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    return "x86_64-unknown-linux-gnu";
    #[cfg(target_arch = "aarch64")]
    return "aarch64-unknown-linux-gnu";
    #[cfg(target_arch = "riscv64")]
    return "riscv64gc-unknown-linux-gnu";
}

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_RISCV: u16 = 243;
const ET_DYN: u16 = 3;
const PT_DYNAMIC: u32 = 2;
const PT_GNU_RELRO: u32 = 0x6474_e552;
const SHT_NOBITS: u32 = 8;
const SHT_DYNSYM: u32 = 11;
const DT_NEEDED: u64 = 1;
const DT_INIT: u64 = 12;
const DT_INIT_ARRAY: u64 = 25;
const DT_PREINIT_ARRAY: u64 = 32;

fn host_machine() -> u16 {
    #[cfg(target_arch = "x86_64")]
    return EM_X86_64;
    #[cfg(target_arch = "aarch64")]
    return EM_AARCH64;
    #[cfg(target_arch = "riscv64")]
    return EM_RISCV;
}

fn machine_name(m: u16) -> String {
    match m {
        EM_X86_64 => "x86_64".into(),
        EM_AARCH64 => "aarch64".into(),
        EM_RISCV => "riscv64".into(),
        3 => "i386".into(),
        40 => "arm".into(),
        other => format!("ELF machine {other}"),
    }
}

/// Little-endian reads that fail instead of reading past the end.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn get<const N: usize>(&self, at: u64) -> Result<[u8; N], PluginError> {
        usize::try_from(at)
            .ok()
            .and_then(|at| self.0.get(at..at.checked_add(N)?))
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| PluginError::Truncated(format!("a header at byte {at} is cut off")))
    }
    fn u16(&self, at: u64) -> Result<u16, PluginError> {
        Ok(u16::from_le_bytes(self.get(at)?))
    }
    fn u32(&self, at: u64) -> Result<u32, PluginError> {
        Ok(u32::from_le_bytes(self.get(at)?))
    }
    fn u64(&self, at: u64) -> Result<u64, PluginError> {
        Ok(u64::from_le_bytes(self.get(at)?))
    }
    /// `[start, start + len)` as a range of the file, if it lies inside it.
    fn range(&self, start: u64, len: u64, what: &str) -> Result<(u64, u64), PluginError> {
        match start.checked_add(len) {
            Some(end) if end <= self.0.len() as u64 => Ok((start, end)),
            _ => Err(PluginError::Truncated(format!(
                "{what} ends past the end of the {}-byte file",
                self.0.len()
            ))),
        }
    }
}

/// Check a plugin file's bytes before it is loaded (see the module docs).
pub fn precheck(bytes: &[u8]) -> Result<(), PluginError> {
    let not = |why: &str| PluginError::NotAPlugin(why.into());
    if !bytes.starts_with(b"\x7fELF") {
        return Err(not("not an ELF file"));
    }
    let b = Bytes(bytes);
    let ident: [u8; 16] = b.get(0)?;
    if ident[4] != 2 || ident[5] != 1 {
        return Err(not("not a little-endian 64-bit ELF file"));
    }
    let machine = b.u16(18)?;
    if machine != host_machine() {
        return Err(PluginError::WrongTarget {
            expected: machine_name(host_machine()),
            found: machine_name(machine),
        });
    }
    if b.u16(16)? != ET_DYN {
        return Err(not("not a shared object"));
    }
    let (phoff, phentsize, phnum) = (b.u64(32)?, u64::from(b.u16(54)?), u64::from(b.u16(56)?));
    let (shoff, shentsize, shnum) = (b.u64(40)?, u64::from(b.u16(58)?), u64::from(b.u16(60)?));
    if (phnum > 0 && phentsize < 56) || (shnum > 0 && shentsize < 64) {
        return Err(PluginError::Truncated("header entries too small".into()));
    }
    b.range(phoff, phentsize * phnum, "the program header table")?;
    b.range(shoff, shentsize * shnum, "the section header table")?;
    let segments = dynamic::Segments::read(&b, phoff, phentsize, phnum)?;
    let mut dynamic = None;
    let mut tags = alloc::vec::Vec::new();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (offset, filesz) = (b.u64(ph + 8)?, b.u64(ph + 32)?);
        let (start, end) = b.range(offset, filesz, "a segment")?;
        if b.u32(ph)? == PT_GNU_RELRO {
            segments.check_relro(b.u64(ph + 16)?, b.u64(ph + 40)?)?;
        }
        if b.u32(ph)? == PT_DYNAMIC {
            if b.u32(ph + 4)? & 2 != 0 && !segments.writable(b.u64(ph + 16)?, filesz) {
                return Err(PluginError::Truncated(
                    "a writable dynamic section in a read-only segment".into(),
                ));
            }
            dynamic = Some(((start, end), b.u64(ph + 16)?));
            let mut at = start;
            while at + 16 <= end {
                tags.push(b.u64(at)?);
                at += 16;
            }
        }
    }
    if tags
        .iter()
        .any(|t| [DT_INIT, DT_INIT_ARRAY, DT_PREINIT_ARRAY].contains(t))
    {
        return Err(not(
            "it has initialisers (code that would run when it is loaded); weld plugins have none",
        ));
    }
    if tags.contains(&DT_NEEDED) {
        return Err(not(
            "it depends on other libraries (whose initialisers would run); weld plugins do not",
        ));
    }
    // The rest of what the loader follows, once the plain reasons to refuse are told.
    if let Some((range, vaddr)) = dynamic {
        dynamic::check(&b, &segments, range, vaddr)?;
    }
    // Every section inside the file; the dynamic symbol table names the descriptor.
    let mut found = false;
    for i in 0..shnum {
        let sh = shoff + i * shentsize;
        let (ty, offset, size) = (b.u32(sh + 4)?, b.u64(sh + 24)?, b.u64(sh + 32)?);
        if ty == SHT_NOBITS {
            continue;
        }
        let (start, end) = b.range(offset, size, "a section")?;
        if ty != SHT_DYNSYM {
            continue;
        }
        let link = u64::from(b.u32(sh + 40)?);
        if link >= shnum {
            return Err(PluginError::Truncated("bad string table index".into()));
        }
        let strtab = shoff + link * shentsize;
        let (str_start, str_end) =
            b.range(b.u64(strtab + 24)?, b.u64(strtab + 32)?, "a section")?;
        let mut at = start;
        while at + 24 <= end {
            let name = str_start + u64::from(b.u32(at)?);
            let want = PLUGIN_SYMBOL.as_bytes();
            if name + (want.len() as u64) < str_end {
                let n = name as usize;
                if bytes.get(n..n + want.len()) == Some(want)
                    && bytes.get(n + want.len()) == Some(&0)
                {
                    found = true;
                }
            }
            at += 24;
        }
    }
    if !found {
        return Err(not(&format!(
            "no {PLUGIN_SYMBOL} symbol (compile it with `weld compile --emit sharedlib`)"
        )));
    }
    Ok(())
}

/// Check, load and check again the plugin at `path` (see the module docs).
pub fn open_plugin(path: &Path) -> Result<PluginDescriptor, PluginError> {
    let bytes =
        std::fs::read(path).map_err(|e| PluginError::Io(format!("{}: {e}", path.display())))?;
    precheck(&bytes)?;
    let lib = Library::open(path).map_err(|e| PluginError::Load(e.to_string()))?;
    let desc = lib.plugin().map_err(|e| match e {
        crate::LoadError::AbiVersion { found } => PluginError::AbiVersion {
            found,
            expected: weld_contract::ABI_VERSION,
        },
        crate::LoadError::BadMagic => {
            PluginError::Tampered(format!("bad magic in {PLUGIN_SYMBOL}"))
        }
        other => PluginError::Tampered(other.to_string()),
    })?;
    if desc.target != host_target() {
        return Err(PluginError::WrongTarget {
            expected: host_target().into(),
            found: desc.target,
        });
    }
    if fnv1a64(desc.world.as_bytes()) != desc.world_hash {
        return Err(PluginError::Tampered(
            "the world text does not match its hash".into(),
        ));
    }
    if world_text(desc.component.info()) != desc.world {
        return Err(PluginError::Tampered(
            "the world text does not match the component's types".into(),
        ));
    }
    Ok(desc)
}
