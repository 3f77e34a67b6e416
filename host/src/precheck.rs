//! Checks on a plugin file before it is loaded: nothing in it runs until these pass.
//!
//! In: the bytes of a shared object. Out: `Ok` if it is an ELF shared object for this machine,
//! whole (every segment and section inside the file), with no initialisers (`DT_INIT`,
//! `DT_INIT_ARRAY`, `DT_PREINIT_ARRAY`: weld links plugins without C start files, so any code
//! that would run at `dlopen` is foreign), needing no other library (`DT_NEEDED`: their
//! initialisers would run too), and exporting `weld_plugin_v1`. What cannot be checked here: the
//! code itself (a tampered function body looks like any other), which is why a plugin is only as
//! trustworthy as its source — see the crate documentation.

use crate::PluginError;
use object::elf;
use object::read::elf::{Dyn, ElfFile64, FileHeader, ProgramHeader};
use object::{Object, ObjectKind, ObjectSection, ObjectSegment, ObjectSymbol};
use weld_contract::component::world::PLUGIN_SYMBOL;

/// The ELF machine of the host this crate runs on.
pub(crate) fn host_machine() -> (u16, &'static str) {
    #[cfg(target_arch = "x86_64")]
    return (elf::EM_X86_64, "x86_64");
    #[cfg(target_arch = "aarch64")]
    return (elf::EM_AARCH64, "aarch64");
    #[cfg(target_arch = "riscv64")]
    return (elf::EM_RISCV, "riscv64");
}

fn machine_name(m: u16) -> String {
    match m {
        elf::EM_X86_64 => "x86_64".into(),
        elf::EM_AARCH64 => "aarch64".into(),
        elf::EM_RISCV => "riscv64".into(),
        elf::EM_386 => "i386".into(),
        elf::EM_ARM => "arm".into(),
        other => format!("ELF machine {other}"),
    }
}

/// Check `bytes` (see the module docs).
pub fn check(bytes: &[u8]) -> Result<(), PluginError> {
    let bad = |why: String| PluginError::NotAPlugin(why);
    if bytes.len() < 64 || !bytes.starts_with(b"\x7fELF") {
        return Err(bad("not an ELF file".into()));
    }
    if bytes[4] != elf::ELFCLASS64 {
        return Err(bad("not a 64-bit ELF file".into()));
    }
    let file = ElfFile64::<object::Endianness>::parse(bytes)
        .map_err(|e| PluginError::Truncated(e.to_string()))?;
    let endian = file.endian();
    let header = file.elf_header();
    let (want, want_name) = host_machine();
    let machine = header.e_machine(endian);
    if machine != want {
        return Err(PluginError::WrongTarget {
            expected: want_name.into(),
            found: machine_name(machine),
        });
    }
    if file.kind() != ObjectKind::Dynamic {
        return Err(bad("not a shared object".into()));
    }
    let len = bytes.len() as u64;
    for seg in file.segments() {
        let (start, size) = seg.file_range();
        if start.checked_add(size).is_none_or(|end| end > len) {
            return Err(PluginError::Truncated(format!(
                "a segment ends at byte {} of a {len}-byte file",
                start.saturating_add(size)
            )));
        }
    }
    for section in file.sections() {
        if let Some((start, size)) = section.file_range() {
            if start.checked_add(size).is_none_or(|end| end > len) {
                return Err(PluginError::Truncated(format!(
                    "section {} ends past the end of the file",
                    section.name().unwrap_or("?")
                )));
            }
        }
    }
    // The dynamic section, from the program headers (what the loader itself reads).
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_DYNAMIC {
            continue;
        }
        let entries = ph
            .dynamic(endian, bytes)
            .map_err(|e| PluginError::Truncated(e.to_string()))?
            .unwrap_or(&[]);
        let tags: Vec<i64> = entries.iter().map(|d| d.d_tag(endian)).collect();
        let any = |wanted: &[i64]| tags.iter().any(|t| wanted.contains(t));
        if any(&[elf::DT_INIT, elf::DT_INIT_ARRAY, elf::DT_PREINIT_ARRAY]) {
            return Err(bad(
                "it has initialisers (code that would run when it is loaded); weld plugins have none"
                    .into(),
            ));
        }
        if any(&[elf::DT_NEEDED]) {
            return Err(bad(
                "it depends on other libraries (whose initialisers would run); weld plugins do not"
                    .into(),
            ));
        }
    }
    if !file
        .dynamic_symbols()
        .any(|s| s.name() == Ok(PLUGIN_SYMBOL))
    {
        return Err(bad(format!(
            "no {PLUGIN_SYMBOL} symbol (compile it with `weld compile --emit sharedlib`)"
        )));
    }
    Ok(())
}
