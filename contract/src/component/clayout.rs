//! The C layout of component value types: how the C types of a generated component header
//! (`weld compile app.wasm --emit header`) are laid out in memory. Defined once, here: the
//! header generator writes C declarations that have exactly this layout, and the runtime's C API
//! (`weld_component_call`) reads arguments and writes results by these offsets. A test compiles
//! a generated header and compares its `sizeof`/`offsetof` with this computation.
//!
//! The C types (wit-bindgen's conventions), for a pointer size `P`:
//!
//! | type | C | size, align |
//! |------|---|-------------|
//! | bool, s8, u8 | `bool`, `int8_t`, `uint8_t` | 1, 1 |
//! | s16, u16 | `int16_t`, `uint16_t` | 2, 2 |
//! | s32, u32, f32, char, own, borrow | `int32_t`, `uint32_t`, `float` | 4, 4 |
//! | s64, u64, f64 | `int64_t`, `uint64_t`, `double` | 8, 8 |
//! | string, list<T> | `struct { T *ptr; size_t len; }` | 2P, P |
//! | map<K, V> | list of `struct { K key; V value; }` | 2P, P |
//! | list<T, N> | `struct { T elems[N]; }` | N × sizeof(T), alignof(T) |
//! | record, tuple | `struct { fields in order }` (empty: one `uint8_t`) | C struct rules |
//! | variant | `struct { uintN_t tag; union { payloads } val; }` | tag: 1, 2 or 4 bytes |
//! | option<T> | `struct { bool is_some; T val; }` | |
//! | result<T, E> | `struct { bool is_err; union { T ok; E err; } val; }` | |
//! | enum | `uint8_t`/`uint16_t`/`uint32_t` by case count | |
//! | flags | `uint8_t`/`uint16_t`/`uint32_t` up to 32 flags, else `struct { uint32_t bits[N]; }` | |
//!
//! A union without members is left out (its struct has only the tag). C struct rules: each
//! member at the next multiple of its alignment, the struct's alignment the largest member
//! alignment, its size rounded up to that. This assumes natural alignment of 8-byte scalars
//! (true on every 64-bit target weld supports).
//!
//! The arena is assumed acyclic (the runtime checks it when loading); a bad index or a cycle
//! reads as a one-byte type instead of panicking or recursing forever.

use super::TypeDef;
use alloc::vec;
use alloc::vec::Vec;

/// Size and alignment of a C type, in bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CLayout {
    /// `sizeof`.
    pub size: u32,
    /// `_Alignof`.
    pub align: u32,
}

const BYTE: CLayout = CLayout { size: 1, align: 1 };

/// The layout of a variant-like struct (variant, option, result): a tag, then a union.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VariantLayout {
    /// Size of the tag at offset 0: 1 (`bool`/`uint8_t`), 2 or 4.
    pub tag_size: u32,
    /// Offset of the payload union (`val`); every payload starts there.
    pub payload_offset: u32,
    /// The whole struct.
    pub layout: CLayout,
}

pub use super::abi::align_to;

/// Bytes of a variant tag or enum value for `n` cases: the Canonical ABI's discriminant size.
pub fn tag_size(n: usize) -> u32 {
    super::abi::discriminant_size(n)
}

/// The C representation of a flags type with `n` labels: an integer of 1, 2 or 4 bytes, or
/// `words` 32-bit words for more than 32 labels.
pub fn flags_layout(n: usize) -> CLayout {
    match n {
        0..=8 => BYTE,
        9..=16 => CLayout { size: 2, align: 2 },
        17..=32 => CLayout { size: 4, align: 4 },
        _ => CLayout {
            size: u32::try_from(n.div_ceil(32)).unwrap_or(u32::MAX / 4) * 4,
            align: 4,
        },
    }
}

/// Layout of a C struct with members of the given layouts: each member's offset and the struct.
pub fn struct_layout(members: &[CLayout]) -> (Vec<u32>, CLayout) {
    if members.is_empty() {
        return (Vec::new(), BYTE);
    }
    let mut offsets = Vec::with_capacity(members.len());
    let (mut off, mut align) = (0u32, 1u32);
    for m in members {
        off = align_to(off, m.align);
        offsets.push(off);
        off = off.saturating_add(m.size);
        align = align.max(m.align);
    }
    (
        offsets,
        CLayout {
            size: align_to(off, align),
            align,
        },
    )
}

/// Layout of `struct { uintN_t tag; union { payloads } val; }` (no union when `payloads` is
/// empty).
pub fn variant_layout(tag_size: u32, payloads: &[CLayout]) -> VariantLayout {
    let ualign = payloads.iter().map(|p| p.align).max().unwrap_or(1);
    let usize_ = align_to(payloads.iter().map(|p| p.size).max().unwrap_or(0), ualign);
    let align = tag_size.max(ualign);
    let payload_offset = align_to(tag_size, ualign);
    VariantLayout {
        tag_size,
        payload_offset,
        layout: CLayout {
            size: align_to(payload_offset.saturating_add(usize_), align),
            align,
        },
    }
}

/// The C layouts of every type of an arena, for one pointer size.
#[derive(Clone, Debug)]
pub struct CLayouts<'a> {
    types: &'a [TypeDef],
    ptr: u32,
    table: Vec<CLayout>,
}

impl<'a> CLayouts<'a> {
    /// Compute the layouts of `types` for pointers of `ptr_size` bytes (4 or 8).
    pub fn new(types: &'a [TypeDef], ptr_size: u32) -> CLayouts<'a> {
        let mut l = CLayouts {
            types,
            ptr: ptr_size,
            table: Vec::new(),
        };
        // `None` = not computed, `Some(None)` = in progress (a cycle reads as one byte).
        let mut memo: Vec<Option<Option<CLayout>>> = vec![None; types.len()];
        for t in 0..types.len() {
            let _ = l.compute(t as u32, &mut memo);
        }
        l.table = memo
            .into_iter()
            .map(|m| m.flatten().unwrap_or(BYTE))
            .collect();
        l
    }

    /// The layouts for the host this code runs on.
    pub fn native(types: &'a [TypeDef]) -> CLayouts<'a> {
        CLayouts::new(types, core::mem::size_of::<usize>() as u32)
    }

    /// Pointer size these layouts assume.
    pub fn ptr_size(&self) -> u32 {
        self.ptr
    }

    /// Size and alignment of type `t`.
    pub fn get(&self, t: u32) -> CLayout {
        self.table.get(t as usize).copied().unwrap_or(BYTE)
    }

    /// Member offsets of a record or tuple (empty for other types).
    pub fn field_offsets(&self, t: u32) -> Vec<u32> {
        let members: Vec<CLayout> = match self.types.get(t as usize) {
            Some(TypeDef::Record(fields)) => fields.iter().map(|(_, f)| self.get(*f)).collect(),
            Some(TypeDef::Tuple(ts)) => ts.iter().map(|f| self.get(*f)).collect(),
            _ => Vec::new(),
        };
        struct_layout(&members).0
    }

    /// The tag-and-union layout of a variant, option or result; `None` for other types.
    pub fn variant(&self, t: u32) -> Option<VariantLayout> {
        let (tag, payloads) = self.variant_parts(t, &|p| self.get(p))?;
        Some(variant_layout(tag, &payloads))
    }

    fn variant_parts(&self, t: u32, get: &dyn Fn(u32) -> CLayout) -> Option<(u32, Vec<CLayout>)> {
        Some(match self.types.get(t as usize)? {
            TypeDef::Variant(cases) => (
                tag_size(cases.len()),
                cases.iter().filter_map(|(_, p)| p.map(get)).collect(),
            ),
            TypeDef::Option(p) => (1, vec![get(*p)]),
            TypeDef::Result { ok, err } => {
                (1, [ok, err].iter().filter_map(|p| p.map(get)).collect())
            }
            _ => return None,
        })
    }

    fn compute(&self, t: u32, memo: &mut Vec<Option<Option<CLayout>>>) -> CLayout {
        let Some(def) = self.types.get(t as usize) else {
            return BYTE;
        };
        match memo.get(t as usize) {
            Some(Some(Some(l))) => return *l,
            Some(Some(None)) => return BYTE,
            _ => {}
        }
        if let Some(m) = memo.get_mut(t as usize) {
            *m = Some(None);
        }
        let scalar = |n: u32| CLayout { size: n, align: n };
        let l = match def {
            TypeDef::Bool | TypeDef::S8 | TypeDef::U8 => BYTE,
            TypeDef::S16 | TypeDef::U16 => scalar(2),
            TypeDef::S32
            | TypeDef::U32
            | TypeDef::F32
            | TypeDef::Char
            | TypeDef::Own(_)
            | TypeDef::Borrow(_)
            | TypeDef::Stream(_)
            | TypeDef::Future(_)
            | TypeDef::ErrorContext => scalar(4),
            TypeDef::S64 | TypeDef::U64 | TypeDef::F64 => scalar(8),
            TypeDef::String | TypeDef::List(_) | TypeDef::Map { .. } => CLayout {
                size: 2 * self.ptr,
                align: self.ptr,
            },
            TypeDef::FixedList { elem, len } => {
                let e = self.compute(*elem, memo);
                CLayout {
                    size: e.size.saturating_mul(*len),
                    align: e.align,
                }
            }
            TypeDef::Record(fields) => {
                let ms: Vec<CLayout> = fields.iter().map(|(_, f)| self.compute(*f, memo)).collect();
                struct_layout(&ms).1
            }
            TypeDef::Tuple(ts) => {
                let ms: Vec<CLayout> = ts.iter().map(|f| self.compute(*f, memo)).collect();
                struct_layout(&ms).1
            }
            TypeDef::Enum(cases) => scalar(tag_size(cases.len())),
            TypeDef::Flags(names) => flags_layout(names.len()),
            TypeDef::Variant(_) | TypeDef::Option(_) | TypeDef::Result { .. } => {
                let children: Vec<u32> = match def {
                    TypeDef::Variant(cases) => cases.iter().filter_map(|(_, p)| *p).collect(),
                    TypeDef::Option(p) => vec![*p],
                    TypeDef::Result { ok, err } => ok.iter().chain(err).copied().collect(),
                    _ => Vec::new(),
                };
                let payloads: Vec<CLayout> =
                    children.iter().map(|c| self.compute(*c, memo)).collect();
                let tag = match def {
                    TypeDef::Variant(cases) => tag_size(cases.len()),
                    _ => 1,
                };
                variant_layout(tag, &payloads).layout
            }
        };
        if let Some(m) = memo.get_mut(t as usize) {
            *m = Some(Some(l));
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn records_follow_c_struct_rules() {
        let types = vec![
            TypeDef::U8,
            TypeDef::U64,
            TypeDef::String,
            TypeDef::Record(vec![
                (String::from("a"), 0),
                (String::from("b"), 1),
                (String::from("c"), 2),
                (String::from("d"), 0),
            ]),
        ];
        let l = CLayouts::new(&types, 8);
        assert_eq!(l.field_offsets(3), vec![0, 8, 16, 32]);
        assert_eq!(l.get(3), CLayout { size: 40, align: 8 });
        let l32 = CLayouts::new(&types, 4);
        assert_eq!(l32.field_offsets(3), vec![0, 8, 16, 24]);
        assert_eq!(l32.get(3), CLayout { size: 32, align: 8 });
    }

    #[test]
    fn variants_put_the_union_after_the_tag() {
        let types = vec![
            TypeDef::U32,
            TypeDef::String,
            TypeDef::Option(0),
            TypeDef::Result {
                ok: Some(1),
                err: None,
            },
            TypeDef::Variant(vec![(String::from("a"), None), (String::from("b"), None)]),
        ];
        let l = CLayouts::new(&types, 8);
        let opt = l.variant(2).unwrap();
        assert_eq!((opt.payload_offset, opt.layout.size), (4, 8));
        let res = l.variant(3).unwrap();
        assert_eq!((res.payload_offset, res.layout.size), (8, 24));
        assert_eq!(l.get(4), CLayout { size: 1, align: 1 });
    }

    #[test]
    fn cycles_and_bad_indices_read_as_one_byte() {
        let types = vec![
            TypeDef::List(1),
            TypeDef::Record(vec![(String::from("x"), 1)]),
        ];
        let l = CLayouts::new(&types, 8);
        assert_eq!(l.get(1), BYTE);
        assert_eq!(l.get(99), BYTE);
        assert_eq!(flags_layout(33), CLayout { size: 8, align: 4 });
    }

    #[test]
    fn fixed_lists_are_arrays_and_maps_are_lists_of_entries() {
        let types = vec![
            TypeDef::U16,
            TypeDef::FixedList { elem: 0, len: 3 },
            TypeDef::Record(vec![(String::from("a"), 1), (String::from("b"), 0)]),
            TypeDef::String,
            TypeDef::Tuple(vec![3, 0]),
            TypeDef::Map { entry: 4 },
        ];
        let l = CLayouts::new(&types, 8);
        assert_eq!(l.get(1), CLayout { size: 6, align: 2 });
        assert_eq!(l.field_offsets(2), vec![0, 6]);
        assert_eq!(l.get(5), CLayout { size: 16, align: 8 });
    }
}
