//! Symbol naming: one deterministic, injective scheme for every symbol weld puts in an object.
//!
//! Every symbol of a compiled module starts with its *prefix*, a C identifier chosen by the user
//! (`--name`) or derived from the input file name with [`mangle`]. Then:
//!
//! | symbol                       | what                                                       |
//! |------------------------------|------------------------------------------------------------|
//! | `<prefix>__module`           | the [`crate::descriptor::VMModuleDescriptor`]              |
//! | `<prefix>__instantiate`      | C: `weld_instance *f(const weld_import *, size_t)`         |
//! | `<prefix>__free`             | C: `void f(weld_instance *)`                                |
//! | `<prefix>__component`        | a component's `VMComponentDescriptor`                      |
//! | `<prefix>__m<N>__module`     | core module N of a component (its own descriptor)          |
//! | `<prefix>_<mangle(export)>`  | C entry point for an exported function                      |
//! | `<prefix>__func<N>`          | local symbol: defined function N (wasm ABI), for debuggers  |
//! | `<module>!<function>`        | local symbol at the same place: [`wasm_function_name`]     |
//!
//! `mangle` keeps ASCII letters and digits, writes `_` as `__` and every other byte as `_` plus
//! two uppercase hex digits. Decoding reads `__` as `_` and `_XY` as byte 0xXY, so the mapping is
//! injective; and because a mangled name can never begin with `_` followed by a lowercase letter,
//! the `<prefix>__name` symbols cannot collide with any export. (That is why the instantiate/free
//! pair has two underscores: modules compiled from C routinely export `malloc` and `free`.)

use alloc::string::String;

/// Mangle an arbitrary name (UTF-8 bytes) into a C identifier fragment.
pub fn mangle(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => out.push(b as char),
            b'_' => out.push_str("__"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('_');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// Inverse of [`mangle`]; `None` if `s` is not a mangled name.
pub fn demangle(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = alloc::vec::Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => {
                if b.get(i + 1) == Some(&b'_') {
                    out.push(b'_');
                    i += 2;
                } else {
                    let hex = |c: u8| match c {
                        b'0'..=b'9' => Some(c - b'0'),
                        b'A'..=b'F' => Some(c - b'A' + 10),
                        _ => None,
                    };
                    let hi = hex(*b.get(i + 1)?)?;
                    let lo = hex(*b.get(i + 2)?)?;
                    out.push(hi << 4 | lo);
                    i += 3;
                }
            }
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// A prefix must be a C identifier: starts with a letter, then letters, digits or `_`.
pub fn is_valid_prefix(prefix: &str) -> bool {
    let mut chars = prefix.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Symbol of a module's descriptor.
pub fn module_descriptor(prefix: &str) -> String {
    alloc::format!("{prefix}__module")
}

/// Symbol of a component's descriptor.
pub fn component_descriptor(prefix: &str) -> String {
    alloc::format!("{prefix}__component")
}

/// Prefix of core module `index` inside component `prefix`.
pub fn component_module_prefix(prefix: &str, index: u32) -> String {
    alloc::format!("{prefix}__m{index}")
}

/// Symbol of a module's C instantiate function.
pub fn instantiate(prefix: &str) -> String {
    alloc::format!("{prefix}__instantiate")
}

/// Symbol of a module's C free function.
pub fn free(prefix: &str) -> String {
    alloc::format!("{prefix}__free")
}

/// Symbol of the C entry point of an exported function.
pub fn export_function(prefix: &str, export: &str) -> String {
    alloc::format!("{prefix}_{}", mangle(export))
}

/// Local symbol of a defined function.
pub fn defined_function(prefix: &str, index: u32) -> String {
    alloc::format!("{prefix}__func{index}")
}

/// What people see for a compiled wasm function: in trap backtraces, and as a second local
/// symbol beside [`defined_function`] so that gdb, perf, valgrind and addr2line show it too.
/// `<module>!<name>`, with the name section's names; `<module>!<wasm function N>` without a
/// function name; `<unknown>` for a module without any name. Not injective (two modules may
/// share a name): nothing links against it.
pub fn wasm_function_name(
    module: Option<&str>,
    func_index: u32,
    func_name: Option<&str>,
) -> String {
    let module = module.unwrap_or("<unknown>");
    match func_name {
        Some(name) => alloc::format!("{module}!{name}"),
        None => alloc::format!("{module}!<wasm function {func_index}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangling_round_trips_awkward_names() {
        for name in [
            "", "a", "_", "__", "a_b", "f-32", "héllo", "_module", "x y", "\0",
        ] {
            assert_eq!(demangle(&mangle(name)).as_deref(), Some(name), "{name:?}");
        }
    }

    #[test]
    fn distinct_names_mangle_to_distinct_symbols() {
        let names = ["a_b", "a-b", "a__b", "a_5Fb", "a__5Fb", "A", "a"];
        for (i, x) in names.iter().enumerate() {
            for y in &names[i + 1..] {
                assert_ne!(mangle(x), mangle(y), "{x} vs {y}");
            }
        }
    }

    #[test]
    fn no_export_symbol_collides_with_the_descriptor() {
        // `<prefix>__module` would need an export mangling to `_module`, which is not a valid
        // mangled name.
        assert_eq!(demangle("_module"), None);
        assert_ne!(export_function("p", "_module"), module_descriptor("p"));
        for name in ["instantiate", "free", "_instantiate", "_free"] {
            assert_ne!(export_function("p", name), instantiate("p"));
            assert_ne!(export_function("p", name), free("p"));
        }
    }
}
