//! A component's world as text, and the plugin descriptor that carries it.
//!
//! In: a flattened [`ComponentInfo`]. Out: one canonical line per import and export
//! (`import wasi:cli/stdout@0.2.0#get-stdout: func() -> own<resource 0>`, sorted), their
//! FNV-1a hash, and the layout of `weld_plugin_v1`, the one symbol a plugin (`weld compile
//! --emit sharedlib` of a component) exports for hosts that `dlopen` it. The compiler writes the
//! text and hash; a host recomputes both from the component descriptor it loaded and compares,
//! so the text cannot disagree with the code's real types, and compares the text with the
//! world it expects. Defined here, once, so both sides render types identically.

use super::descriptor::VMComponentDescriptor;
use super::{ComponentInfo, FuncTy, TypeDef};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The plugin descriptor's symbol. The version in the name changes with [`VMPluginDescriptor`].
pub const PLUGIN_SYMBOL: &str = "weld_plugin_v1";

/// First bytes of a [`VMPluginDescriptor`].
pub const PLUGIN_MAGIC: [u8; 8] = *b"weldplug";

/// What a plugin shared object exports as [`PLUGIN_SYMBOL`].
#[repr(C)]
#[derive(Debug)]
pub struct VMPluginDescriptor {
    /// [`PLUGIN_MAGIC`].
    pub magic: [u8; 8],
    /// [`crate::ABI_VERSION`] of the compiler that wrote it.
    pub abi_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// The target triple the code was compiled for (UTF-8, not NUL-terminated).
    pub target: *const u8,
    /// Its length.
    pub target_len: usize,
    /// [`world_text`] of the component (UTF-8).
    pub world: *const u8,
    /// Its length.
    pub world_len: usize,
    /// [`fnv1a64`] of the world text.
    pub world_hash: u64,
    /// The component's descriptor.
    pub component: *const VMComponentDescriptor,
}

/// Byte offsets of [`VMPluginDescriptor`]'s fields, for the compiler writing it.
pub mod offsets {
    use super::VMPluginDescriptor;
    use core::mem::offset_of;
    /// `magic`
    pub const MAGIC: usize = offset_of!(VMPluginDescriptor, magic);
    /// `abi_version`
    pub const ABI_VERSION: usize = offset_of!(VMPluginDescriptor, abi_version);
    /// `target`
    pub const TARGET: usize = offset_of!(VMPluginDescriptor, target);
    /// `target_len`
    pub const TARGET_LEN: usize = offset_of!(VMPluginDescriptor, target_len);
    /// `world`
    pub const WORLD: usize = offset_of!(VMPluginDescriptor, world);
    /// `world_len`
    pub const WORLD_LEN: usize = offset_of!(VMPluginDescriptor, world_len);
    /// `world_hash`
    pub const WORLD_HASH: usize = offset_of!(VMPluginDescriptor, world_hash);
    /// `component`
    pub const COMPONENT: usize = offset_of!(VMPluginDescriptor, component);
    /// Size of the whole descriptor.
    pub const SIZE: usize = core::mem::size_of::<VMPluginDescriptor>();
}

/// 64-bit FNV-1a: small, dependency-free and stable across versions (it detects accidental or
/// naive tampering, it is no signature).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A type of the arena in WIT-like syntax (`list<tuple<u32, string>>`); resources by index.
pub fn type_text(info: &ComponentInfo, t: u32) -> String {
    let n = |t: &u32| type_text(info, *t);
    let join = |v: Vec<String>| v.join(", ");
    match info.types.get(t as usize) {
        None => "?".into(),
        Some(d) => match d {
            TypeDef::Bool => "bool".into(),
            TypeDef::S8 => "s8".into(),
            TypeDef::U8 => "u8".into(),
            TypeDef::S16 => "s16".into(),
            TypeDef::U16 => "u16".into(),
            TypeDef::S32 => "s32".into(),
            TypeDef::U32 => "u32".into(),
            TypeDef::S64 => "s64".into(),
            TypeDef::U64 => "u64".into(),
            TypeDef::F32 => "f32".into(),
            TypeDef::F64 => "f64".into(),
            TypeDef::Char => "char".into(),
            TypeDef::String => "string".into(),
            TypeDef::List(e) => format!("list<{}>", n(e)),
            TypeDef::FixedList { elem, len } => format!("list<{}, {len}>", n(elem)),
            TypeDef::Map { entry } => match info.types.get(*entry as usize) {
                Some(TypeDef::Tuple(kv)) if kv.len() == 2 => {
                    format!("map<{}, {}>", n(&kv[0]), n(&kv[1]))
                }
                _ => "map<?>".into(),
            },
            TypeDef::Record(f) => format!(
                "record {{ {} }}",
                join(f.iter().map(|(k, t)| format!("{k}: {}", n(t))).collect())
            ),
            TypeDef::Tuple(ts) => format!("tuple<{}>", join(ts.iter().map(n).collect())),
            TypeDef::Variant(c) => format!(
                "variant {{ {} }}",
                join(
                    c.iter()
                        .map(|(k, t)| match t {
                            Some(t) => format!("{k}({})", n(t)),
                            None => k.clone(),
                        })
                        .collect()
                )
            ),
            TypeDef::Enum(c) => format!("enum {{ {} }}", c.join(", ")),
            TypeDef::Option(t) => format!("option<{}>", n(t)),
            TypeDef::Result { ok, err } => format!(
                "result<{}, {}>",
                ok.as_ref().map_or("_".into(), n),
                err.as_ref().map_or("_".into(), n)
            ),
            TypeDef::Flags(f) => format!("flags {{ {} }}", f.join(", ")),
            TypeDef::Own(r) => format!("own<resource {r}>"),
            TypeDef::Borrow(r) => format!("borrow<resource {r}>"),
            TypeDef::Stream(t) => t.map_or("stream".into(), |t| format!("stream<{}>", n(&t))),
            TypeDef::Future(t) => t.map_or("future".into(), |t| format!("future<{}>", n(&t))),
            TypeDef::ErrorContext => "error-context".into(),
        },
    }
}

/// A function type: `func(name: string, n: u32) -> list<u8>`.
pub fn func_text(info: &ComponentInfo, f: &FuncTy) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(n, t)| format!("{n}: {}", type_text(info, *t)))
        .collect();
    let kw = if f.async_ { "async func" } else { "func" };
    match f.result {
        Some(r) => format!("{kw}({}) -> {}", params.join(", "), type_text(info, r)),
        None => format!("{kw}({})", params.join(", ")),
    }
}

/// The world: `import NAME: FUNC` and `export NAME: FUNC` lines, sorted, newline-terminated.
pub fn world_text(info: &ComponentInfo) -> String {
    let ty = |i: u32| {
        info.func_types
            .get(i as usize)
            .map_or_else(|| "?".into(), |f| func_text(info, f))
    };
    let mut lines: Vec<String> = info
        .imports
        .iter()
        .map(|i| format!("import {}: {}", i.name, ty(i.ty)))
        .chain(
            info.exports
                .iter()
                .map(|e| format!("export {}: {}", e.name, ty(e.func.ty))),
        )
        .collect();
    lines.sort();
    let mut s = String::new();
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn types_render_in_wit_syntax() {
        let info = ComponentInfo {
            types: alloc::vec![
                TypeDef::U32,
                TypeDef::String,
                TypeDef::List(1),
                TypeDef::Result {
                    ok: Some(2),
                    err: None
                },
                TypeDef::Record(alloc::vec![("a".into(), 0), ("b".into(), 1)]),
            ],
            ..Default::default()
        };
        assert_eq!(type_text(&info, 3), "result<list<string>, _>");
        assert_eq!(type_text(&info, 4), "record { a: u32, b: string }");
        let f = FuncTy {
            params: alloc::vec![("x".into(), 0), ("r".into(), 4)],
            result: Some(2),
            async_: false,
        };
        assert_eq!(
            func_text(&info, &f),
            "func(x: u32, r: record { a: u32, b: string }) -> list<string>"
        );
    }
}
