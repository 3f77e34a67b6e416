//! Unit tests of the Canonical ABI against hand-computed layouts, over a `Vec<u8>` memory with a
//! recording bump `realloc` ([`VecCx`]), and of the handle-table rules.

use super::abi::{Abi, CanonCx, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use super::instance::builtin_table;
use super::resources::{Loan, ResourceState};
use super::string::UTF16_TAG;
use super::types::{align_to, flatten_functype, Flat, Types};
use super::val::{ResourceHandle, Val};
use crate::trap::Trap;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use weld_contract::component::{StringEncoding, TypeDef};
use weld_contract::trap::TrapCode;

/// A side of a crossing over a plain buffer.
struct VecCx {
    mem: Vec<u8>,
    next: u32,
    enc: StringEncoding,
    host: bool,
    calls: Vec<(u32, u32, u32, u32)>,
    /// Make realloc return this pointer.
    bad_realloc: Option<u32>,
    res: ResourceState,
    inst: u32,
    loans: Vec<Loan>,
}

impl VecCx {
    fn new(enc: StringEncoding) -> VecCx {
        VecCx {
            mem: vec![0; 4096],
            next: 16,
            enc,
            host: false,
            calls: Vec::new(),
            bad_realloc: None,
            res: ResourceState::new(2, vec![0]),
            inst: 1,
            loans: Vec::new(),
        }
    }
}

impl CanonCx for VecCx {
    fn encoding(&self) -> StringEncoding {
        self.enc
    }
    fn host_side(&self) -> bool {
        self.host
    }
    fn memory(&self) -> Result<&[u8], Trap> {
        Ok(&self.mem)
    }
    fn memory_mut(&mut self) -> Result<&mut [u8], Trap> {
        Ok(&mut self.mem)
    }
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Trap> {
        self.calls.push((old_ptr, old_size, align, new_size));
        if let Some(p) = self.bad_realloc {
            return Ok(p);
        }
        if old_ptr != 0 && new_size <= old_size {
            return Ok(old_ptr);
        }
        let p = align_to(self.next, align);
        self.next = p + new_size;
        if old_ptr != 0 {
            let (o, n) = (old_ptr as usize, p as usize);
            self.mem.copy_within(o..o + old_size as usize, n);
        }
        Ok(p)
    }
    fn lift_own(&mut self, resource: u32, index: u32) -> Result<u32, Trap> {
        self.res.lift_own(self.inst, resource, index)
    }
    fn lift_borrow(&mut self, resource: u32, index: u32) -> Result<u32, Trap> {
        self.res
            .lift_borrow(self.inst, resource, index, &mut self.loans)
    }
    fn lower_own(&mut self, resource: u32, rep: u32) -> Result<u32, Trap> {
        self.res.lower_own(self.inst, resource, rep)
    }
    fn lower_borrow(&mut self, resource: u32, rep: u32) -> Result<u32, Trap> {
        self.res.lower_borrow(self.inst, resource, rep)
    }
}

/// A small arena: indices are named by the constants below.
fn arena() -> Vec<TypeDef> {
    let s = String::from;
    vec![
        TypeDef::U8,                                                                  // 0
        TypeDef::U32,                                                                 // 1
        TypeDef::U16,                                                                 // 2
        TypeDef::Record(vec![(s("a"), 0), (s("b"), 1), (s("c"), 2)]),                 // 3
        TypeDef::U64,                                                                 // 4
        TypeDef::Variant(vec![(s("x"), Some(0)), (s("y"), Some(4)), (s("z"), None)]), // 5
        TypeDef::Flags((0..8).map(|i| i.to_string()).collect()),                      // 6
        TypeDef::Flags((0..9).map(|i| i.to_string()).collect()),                      // 7
        TypeDef::Flags((0..40).map(|i| alloc::format!("f{i}")).collect()),            // 8
        TypeDef::S32,                                                                 // 9
        TypeDef::F32,                                                                 // 10
        TypeDef::S64,                                                                 // 11
        TypeDef::Variant(vec![
            (s("i"), Some(9)),
            (s("f"), Some(10)),
            (s("l"), Some(11)),
        ]), // 12
        TypeDef::Variant(vec![(s("f"), Some(10)), (s("u"), Some(1))]),                // 13
        TypeDef::String,                                                              // 14
        TypeDef::Char,                                                                // 15
        TypeDef::Option(14),                                                          // 16
        TypeDef::Result {
            ok: Some(14),
            err: None,
        },    // 17
        TypeDef::List(3),                                                             // 18
        TypeDef::S8,                                                                  // 19
        TypeDef::Enum(vec![s("red"), s("green")]),                                    // 20
        TypeDef::Tuple(vec![19, 15, 16]),                                             // 21
        TypeDef::Record(vec![
            (s("rs"), 18),
            (s("v"), 12),
            (s("fl"), 8),
            (s("t"), 21),
            (s("r"), 17),
            (s("e"), 20),
        ]), // 22
        TypeDef::Own(0),                                                              // 23
        TypeDef::Borrow(0),                                                           // 24
        TypeDef::F64,                                                                 // 25
        TypeDef::Result {
            ok: Some(10),
            err: Some(25),
        }, // 26
    ]
}

#[test]
fn layouts_match_hand_computed_values() {
    let defs = arena();
    let t = Types::new(&defs);
    // record { a: u8, b: u32, c: u16 }: a@0, b@4, c@8, size 10 -> 12.
    assert_eq!((t.align(3), t.size(3)), (4, 12));
    assert_eq!(t.field_offsets(&[0, 1, 2]), vec![0, 4, 8]);
    // variant { x(u8), y(u64), z }: 1-byte discriminant, payload at 8, size 16.
    assert_eq!((t.align(5), t.size(5)), (8, 16));
    // flags: 8 -> 1 byte, 9 -> 2 bytes, 40 -> two i32 words.
    assert_eq!((t.align(6), t.size(6)), (1, 1));
    assert_eq!((t.align(7), t.size(7)), (2, 2));
    assert_eq!((t.align(8), t.size(8)), (4, 8));
    assert_eq!(t.flat_count(8), 2);
    // enum of 2 -> u8; option<string> -> disc + (ptr, len) at 4.
    assert_eq!((t.align(20), t.size(20)), (1, 1));
    assert_eq!((t.align(16), t.size(16)), (4, 12));
    // tuple<s8, char, option<string>>: 0, 4, 8 -> size 20.
    assert_eq!((t.align(21), t.size(21)), (4, 20));
}

#[test]
fn variant_flattening_joins_payloads() {
    let defs = arena();
    let t = Types::new(&defs);
    let mut out = Vec::new();
    t.flatten(12, &mut out); // s32 | f32 | s64
    assert_eq!(out, vec![Flat::I32, Flat::I64]);
    out.clear();
    t.flatten(13, &mut out); // f32 | u32
    assert_eq!(out, vec![Flat::I32, Flat::I32]);
    out.clear();
    t.flatten(26, &mut out); // result<f32, f64>
    assert_eq!(out, vec![Flat::I32, Flat::I64]);
    out.clear();
    t.flatten(16, &mut out); // option<string>
    assert_eq!(out, vec![Flat::I32; 3]);
}

#[test]
fn function_types_spill_beyond_the_flat_limits() {
    let defs = arena();
    let t = Types::new(&defs);
    let (p, r) = flatten_functype(t, &[1; 17], None, false);
    assert_eq!((p, r), (vec![Flat::I32], vec![]));
    let (p, r) = flatten_functype(t, &[1; 16], None, false);
    assert_eq!((p.len(), r.len()), (16, 0));
    // A string result: lifted returns a pointer, lowered takes an out pointer.
    let (p, r) = flatten_functype(t, &[1], Some(14), false);
    assert_eq!((p, r), (vec![Flat::I32], vec![Flat::I32]));
    let (p, r) = flatten_functype(t, &[1], Some(14), true);
    assert_eq!((p, r), (vec![Flat::I32, Flat::I32], vec![]));
}

fn sample() -> Val {
    let s = String::from;
    let b = |v: Val| Some(Box::new(v));
    let rec = |a: u8, bb: u32, c: u16| {
        Val::Record(vec![
            (s("a"), Val::U8(a)),
            (s("b"), Val::U32(bb)),
            (s("c"), Val::U16(c)),
        ])
    };
    Val::Record(vec![
        (
            s("rs"),
            Val::List(vec![rec(1, 70000, 3), rec(255, 0, 65535)]),
        ),
        (s("v"), Val::Variant(s("f"), b(Val::F32(1.5)))),
        (
            s("fl"),
            Val::Flags(vec![s("f0"), s("f31"), s("f32"), s("f39")]),
        ),
        (
            s("t"),
            Val::Tuple(vec![
                Val::S8(-5),
                Val::Char('😀'),
                Val::Option(b(Val::String(s("hé")))),
            ]),
        ),
        (s("r"), Val::Result(Ok(b(Val::String(s("ok")))))),
        (s("e"), Val::Enum(s("green"))),
    ])
}

#[test]
fn values_round_trip_through_memory_and_flat() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let v = sample();
    assert!(v.check(abi.types, 22).is_ok());
    let mut cx = VecCx::new(StringEncoding::Utf8);
    abi.store(&mut cx, &v, 22, 1024).unwrap();
    assert_eq!(abi.load(&mut cx, 1024, 22).unwrap(), v);
    let mut flat = Vec::new();
    abi.lower_flat(&mut cx, &v, 22, &mut flat).unwrap();
    assert_eq!(flat.len(), Types::new(&defs).flat_count(22));
    let lifted = abi.lift_values(&mut cx, usize::MAX, &flat, &[22]).unwrap();
    assert_eq!(lifted, vec![v]);
    // The f32 payload sits in the joined i64 slot as its bits.
    assert_eq!(flat[2], 1);
    assert_eq!(flat[3], u64::from(1.5f32.to_bits()));
}

#[test]
fn spilled_values_go_through_realloc_or_the_out_pointer() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let mut cx = VecCx::new(StringEncoding::Utf8);
    let vals: Vec<Val> = (0..17).map(Val::U32).collect();
    let tys = [1u32; 17];
    let flat = abi
        .lower_values(&mut cx, MAX_FLAT_PARAMS, &vals, &tys, None)
        .unwrap();
    assert_eq!(cx.calls, vec![(0, 0, 4, 68)]);
    assert_eq!(
        abi.lift_values(&mut cx, MAX_FLAT_PARAMS, &flat, &tys)
            .unwrap(),
        vals
    );
    // A spilled result goes to the out pointer, which must be aligned; the lowered function
    // then has no core results.
    let s = [Val::String("x".into())];
    let out = abi
        .lower_values(&mut cx, MAX_FLAT_RESULTS, &s, &[14], Some(512))
        .unwrap();
    assert_eq!(out, Vec::<u64>::new());
    assert_eq!(
        abi.lift_values(&mut cx, MAX_FLAT_RESULTS, &[512], &[14])
            .unwrap(),
        s
    );
    let err = abi.lower_values(&mut cx, MAX_FLAT_RESULTS, &s, &[14], Some(513));
    assert_eq!(err.unwrap_err().code, TrapCode::UnalignedPointer);
}

const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];

#[test]
fn strings_round_trip_between_every_pair_of_encodings() {
    let defs = arena();
    for text in ["", "hi", "héllo", "héllo 世界 😀", "ÿ\u{100}"] {
        for src in ENCODINGS {
            for dst in ENCODINGS {
                let abi = Abi {
                    types: Types::new(&defs),
                    src,
                };
                let mut cx = VecCx::new(dst);
                let mut flat = Vec::new();
                abi.lower_flat(&mut cx, &Val::String(text.into()), 14, &mut flat)
                    .unwrap();
                let back = abi.lift_values(&mut cx, 16, &flat, &[14]).unwrap();
                assert_eq!(back, vec![Val::String(text.into())], "{src:?} -> {dst:?}");
                let latin1 = text.chars().all(|c| (c as u32) < 256);
                if dst == StringEncoding::CompactUtf16 {
                    assert_eq!(flat[1] as u32 & UTF16_TAG == 0, latin1, "{text:?}");
                }
            }
        }
    }
}

#[test]
fn transcoding_calls_realloc_as_the_spec_does() {
    let defs = arena();
    let lower = |src, dst, text: &str| {
        let abi = Abi {
            types: Types::new(&defs),
            src,
        };
        let mut cx = VecCx::new(dst);
        let mut flat = Vec::new();
        abi.lower_flat(&mut cx, &Val::String(text.into()), 14, &mut flat)
            .unwrap();
        (cx.calls, flat)
    };
    // utf16 -> utf8 of "é": 1 byte first, grow to 3 (worst case), shrink to 2.
    let (calls, flat) = lower(StringEncoding::Utf16, StringEncoding::Utf8, "é");
    assert_eq!(calls, vec![(0, 0, 1, 1), (16, 1, 1, 3), (17, 3, 1, 2)]);
    assert_eq!(flat[1], 2);
    // utf8 -> utf16 of "é" (2 bytes): worst case 4 bytes, shrink to 2.
    let (calls, flat) = lower(StringEncoding::Utf8, StringEncoding::Utf16, "é");
    assert_eq!(calls, vec![(0, 0, 2, 4), (16, 4, 2, 2)]);
    assert_eq!(flat[1], 1);
    // utf8 -> latin1+utf16 of "é" (2 utf8 bytes): allocate 2, shrink to 1 latin1 byte.
    let (calls, flat) = lower(StringEncoding::Utf8, StringEncoding::CompactUtf16, "é");
    assert_eq!(calls, vec![(0, 0, 2, 2), (16, 2, 2, 1)]);
    assert_eq!(flat[1], 1);
    // utf8 -> latin1+utf16 of "a世" (4 bytes): grow to 8, shrink to 4, tagged 2 units.
    let (calls, flat) = lower(StringEncoding::Utf8, StringEncoding::CompactUtf16, "a世");
    assert_eq!(calls, vec![(0, 0, 2, 4), (16, 4, 2, 8), (20, 8, 2, 4)]);
    assert_eq!(flat[1] as u32, 2 | UTF16_TAG);
    // Same encoding: one exact copy.
    let (calls, _) = lower(StringEncoding::Utf8, StringEncoding::Utf8, "héllo");
    assert_eq!(calls, vec![(0, 0, 1, 6)]);
}

fn lift_string(
    enc: StringEncoding,
    host: bool,
    bytes: &[u8],
    ptr: u32,
    units: u32,
) -> Result<Val, Trap> {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: enc,
    };
    let mut cx = VecCx::new(enc);
    cx.host = host;
    cx.mem[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
    abi.lift_values(&mut cx, 16, &[u64::from(ptr), u64::from(units)], &[14])
        .map(|mut v| v.remove(0))
}

#[test]
fn invalid_strings_trap() {
    use StringEncoding::*;
    let code = |r: Result<Val, Trap>| r.unwrap_err().code;
    assert_eq!(
        code(lift_string(Utf8, true, &[0x61, 0xff], 64, 2)),
        TrapCode::InvalidUtf8
    );
    assert_eq!(
        code(lift_string(Utf8, true, &[0xe4, 0xb8], 64, 2)),
        TrapCode::IncompleteUtf8
    );
    assert_eq!(
        code(lift_string(Utf16, false, &[0x00, 0xd8], 64, 1)),
        TrapCode::InvalidEncoding
    );
    assert_eq!(
        code(lift_string(Utf16, false, &[], 65, 0)),
        TrapCode::UnalignedPointer
    );
    assert_eq!(
        code(lift_string(CompactUtf16, false, &[], 65, 0)),
        TrapCode::UnalignedPointer
    );
    assert_eq!(
        code(lift_string(Utf8, false, &[], 4000, 200)),
        TrapCode::StringOutOfBounds
    );
    assert_eq!(
        code(lift_string(Utf8, true, &[], 4000, 200)),
        TrapCode::HostStringOutOfBounds
    );
    // A huge utf16 length does not overflow.
    assert_eq!(
        code(lift_string(Utf16, false, &[], 0, u32::MAX)),
        TrapCode::StringOutOfBounds
    );
    // latin1 (untagged) and utf16 (tagged) content.
    assert_eq!(
        lift_string(CompactUtf16, false, &[0xe9], 64, 1).unwrap(),
        Val::String("é".into())
    );
    let tagged = lift_string(CompactUtf16, false, &[0x16, 0x4e], 64, 1 | UTF16_TAG);
    assert_eq!(tagged.unwrap(), Val::String("世".into()));
}

#[test]
fn realloc_results_are_checked() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let list = Val::List(vec![Val::Record(vec![
        ("a".into(), Val::U8(1)),
        ("b".into(), Val::U32(2)),
        ("c".into(), Val::U16(3)),
    ])]);
    let run = |host: bool, ptr: u32, v: &Val| {
        let mut cx = VecCx::new(StringEncoding::Utf8);
        cx.host = host;
        cx.bad_realloc = Some(ptr);
        let mut flat = Vec::new();
        abi.lower_flat(&mut cx, v, 18, &mut flat).unwrap_err().code
    };
    assert_eq!(run(false, 2, &list), TrapCode::UnalignedPointer);
    assert_eq!(run(true, 2, &list), TrapCode::ReallocUnaligned);
    assert_eq!(run(false, 4092, &list), TrapCode::ListOutOfBounds);
    assert_eq!(run(true, 4092, &list), TrapCode::ReallocOutOfBounds);
    // Alignment is checked before bounds; an empty list still checks its pointer.
    assert_eq!(run(true, u32::MAX, &list), TrapCode::ReallocUnaligned);
    assert_eq!(
        run(true, 8192, &Val::List(vec![])),
        TrapCode::ReallocOutOfBounds
    );
}

#[test]
fn bad_discriminants_chars_and_lists_trap() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let mut cx = VecCx::new(StringEncoding::Utf8);
    let code = |r: Result<Vec<Val>, Trap>| r.unwrap_err().code;
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[3, 0], &[5])),
        TrapCode::InvalidVariantDiscriminant
    );
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[2], &[20])),
        TrapCode::InvalidVariantDiscriminant
    );
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[0xd800], &[15])),
        TrapCode::InvalidCharBitPattern
    );
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[0x110000], &[15])),
        TrapCode::InvalidCharBitPattern
    );
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[2, 1], &[18])),
        TrapCode::UnalignedPointer
    );
    assert_eq!(
        code(abi.lift_values(&mut cx, 16, &[4000, 10], &[18])),
        TrapCode::ListOutOfBounds
    );
    cx.mem[104] = 7;
    assert_eq!(
        code(abi.lift_values(&mut cx, 0, &[104], &[5])),
        TrapCode::InvalidVariantDiscriminant
    );
    // bool: any non-zero is true; s8 wraps.
    let v = abi.lift_values(&mut cx, 16, &[0x1ff], &[19]).unwrap();
    assert_eq!(v, vec![Val::S8(-1)]);
}

#[test]
fn handle_tables_follow_the_canonical_abi() {
    let mut st = ResourceState::new(3, vec![0, 0]);
    // Handles start at 1 and freed slots are reused.
    assert_eq!(st.resource_new(0, 0, 100), Ok(1));
    assert_eq!(st.resource_new(0, 0, 101), Ok(2));
    assert_eq!(st.resource_rep(0, 0, 2), Ok(101));
    assert_eq!(st.resource_drop(0, 0, 1), Ok(Some(100)));
    assert_eq!(st.resource_new(0, 0, 102), Ok(1));
    let code = |r: Result<u32, Trap>| r.unwrap_err().code;
    assert_eq!(code(st.resource_rep(0, 0, 0)), TrapCode::UnknownHandle);
    assert_eq!(code(st.resource_rep(0, 0, 9)), TrapCode::UnknownHandle);
    assert_eq!(code(st.resource_rep(0, 1, 1)), TrapCode::HandleWrongType);
    // Moving an own handle to instance 1, then lending it to a call into instance 2.
    let rep = st.lift_own(0, 0, 1).unwrap();
    assert_eq!(code(st.resource_rep(0, 0, 1)), TrapCode::UnknownHandle);
    let h = st.lower_own(1, 0, rep).unwrap();
    let mut loans = Vec::new();
    assert_eq!(st.lift_borrow(1, 0, h, &mut loans), Ok(102));
    assert_eq!(
        st.resource_drop(1, 0, h).unwrap_err().code,
        TrapCode::OwnedResourceBorrowed
    );
    assert_eq!(code(st.lift_own(1, 0, h)), TrapCode::OwnedResourceBorrowed);
    let b = st.lower_borrow(2, 0, rep).unwrap();
    assert_eq!(code(st.lift_own(2, 0, b)), TrapCode::UnknownHandle);
    assert_eq!(st.finish_call(2).unwrap_err().code, TrapCode::BorrowsRemain);
    assert_eq!(st.resource_drop(2, 0, b), Ok(None));
    assert_eq!(st.finish_call(2), Ok(()));
    st.end_loans(&loans);
    assert_eq!(st.resource_drop(1, 0, h), Ok(Some(102)));
    // The defining instance gets the rep itself for a borrow.
    assert_eq!(st.lower_borrow(0, 0, 55), Ok(55));
    assert_eq!(st.finish_call(0), Ok(()));
    // No leaving during post-return.
    st.inst(0).unwrap().set_may_leave(false);
    assert_eq!(
        code(st.resource_new(0, 0, 1)),
        TrapCode::CannotLeaveComponent
    );
    assert_eq!(
        st.resource_drop(0, 0, 2).unwrap_err().code,
        TrapCode::CannotLeaveComponent
    );
}

#[test]
fn resources_cross_through_lift_and_lower() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let mut cx = VecCx::new(StringEncoding::Utf8);
    let own = Val::Own(ResourceHandle {
        resource: 0,
        rep: 7,
    });
    let flat = abi
        .lower_values(&mut cx, 16, core::slice::from_ref(&own), &[23], None)
        .unwrap();
    assert_eq!(flat, vec![1]);
    let back = abi.lift_values(&mut cx, 16, &flat, &[24]).unwrap();
    assert_eq!(
        back,
        vec![Val::Borrow(ResourceHandle {
            resource: 0,
            rep: 7
        })]
    );
    assert_eq!(cx.loans, vec![(1, 1)]);
    let err = abi.lift_values(&mut cx, 16, &flat, &[23]).unwrap_err();
    assert_eq!(err.code, TrapCode::OwnedResourceBorrowed);
    cx.res.end_loans(&cx.loans.clone());
    assert_eq!(
        abi.lift_values(&mut cx, 16, &flat, &[23]).unwrap(),
        vec![own]
    );
}

#[test]
fn values_print_as_wave() {
    let s = String::from;
    let b = |v: Val| Some(Box::new(v));
    let cases: Vec<(Val, &str)> = vec![
        (Val::String(s("hi\n\"")), r#""hi\n\"""#),
        (Val::List(vec![Val::U32(1), Val::U32(2)]), "[1, 2]"),
        (Val::Record(vec![(s("a"), Val::S8(-1))]), "{a: -1}"),
        (Val::Option(b(Val::U8(1))), "some(1)"),
        (Val::Option(None), "none"),
        (Val::Result(Ok(b(Val::String(s("x"))))), r#"ok("x")"#),
        (Val::Result(Err(None)), "err"),
        (Val::Flags(vec![s("read"), s("write")]), "{read, write}"),
        (Val::Flags(vec![]), "{}"),
        (
            Val::Tuple(vec![Val::Char('\''), Val::Bool(true)]),
            r"('\'', true)",
        ),
        (Val::Variant(s("none"), None), "%none"),
        (Val::Enum(s("red")), "red"),
        (Val::F64(f64::NAN), "nan"),
        (Val::F32(f32::NEG_INFINITY), "-inf"),
        (Val::F64(1.5), "1.5"),
    ];
    for (v, text) in cases {
        assert_eq!(v.to_string(), text);
    }
}

#[test]
fn values_are_type_checked() {
    let defs = arena();
    let t = Types::new(&defs);
    assert!(Val::U8(1).check(t, 0).is_ok());
    assert!(Val::U32(1).check(t, 0).is_err());
    assert!(Val::Enum("blue".into()).check(t, 20).is_err());
    assert!(Val::Variant("z".into(), Some(Box::new(Val::U8(1))))
        .check(t, 5)
        .is_err());
    assert!(Val::Flags(vec!["f40".into()]).check(t, 8).is_err());
    assert!(sample().check(t, 22).is_ok());
}

#[test]
fn resource_drop_uses_the_callers_handle_table_not_the_defining_instances() {
    use weld_contract::component::{ComponentInfo, CoreDef, Resource};
    let info = ComponentInfo {
        component_instances: 2,
        resources: vec![Resource {
            name: "r".into(),
            instance: 0,
            dtor: None,
        }],
        ..ComponentInfo::default()
    };
    let drop = CoreDef::ResourceDrop {
        resource: 0,
        instance: 1,
    };
    assert_eq!(builtin_table(&info, &drop), Some(1));
    assert_eq!(builtin_table(&info, &CoreDef::ResourceNew(0)), Some(0));
    assert_eq!(builtin_table(&info, &CoreDef::ResourceRep(0)), Some(0));
    // The handle lives in the caller's table: dropping it there finds it.
    let mut st = ResourceState::new(2, vec![0]);
    let h = st.lower_own(1, 0, 42).unwrap();
    assert_eq!(st.resource_drop(1, 0, h), Ok(Some(42)));
}

#[test]
fn borrows_held_by_async_tasks_are_counted_per_task_not_per_instance() {
    let mut st = ResourceState::new(2, vec![0]);
    // Two tasks of instance 1 and a synchronous call of it each receive a borrow.
    let a = st.lower_borrow_in(1, 0, 7, 1).unwrap();
    let b = st.lower_borrow_in(1, 0, 8, 2).unwrap();
    let c = st.lower_borrow(1, 0, 9).unwrap();
    assert_eq!(st.resource_drop(1, 0, c), Ok(None));
    assert_eq!(
        st.finish_call(1),
        Ok(()),
        "the tasks' borrows are not the sync call's"
    );
    assert_eq!(st.resource_drop(1, 0, a), Ok(None), "any task may drop it");
    assert_eq!(st.finish_scope(1), Ok(()));
    assert_eq!(
        st.finish_scope(2).unwrap_err().code,
        TrapCode::BorrowsRemain
    );
    let _ = b;
}

#[test]
fn the_backpressure_counter_traps_below_zero_and_at_two_to_the_sixteen() {
    let mut st = ResourceState::new(1, vec![]);
    assert_eq!(
        st.backpressure(0, false).unwrap_err().code,
        TrapCode::BackpressureOutOfRange
    );
    for _ in 0..(1 << 16) - 1 {
        st.backpressure(0, true).unwrap();
    }
    assert_eq!(
        st.backpressure(0, true).unwrap_err().code,
        TrapCode::BackpressureOutOfRange
    );
    assert_eq!(st.backpressure(0, false), Ok(()));
}

#[test]
fn host_returned_handles_take_the_resource_type_their_result_type_names() {
    use weld_contract::component::TypeDef as T;
    // 0: own<0> (host-defined), 1: own<1> (guest-defined), 2: result<own<0>, u32>,
    // 3: list<tuple<own<0>, string>>, 4: tuple<own<0>, string>, 5: u32, 6: string
    let arena = vec![
        T::Own(0),
        T::Own(1),
        T::Result {
            ok: Some(0),
            err: Some(5),
        },
        T::List(4),
        T::Tuple(vec![0, 6]),
        T::U32,
        T::String,
    ];
    let types = Types::new(&arena);
    let host_defined = |r: u32| r == 0;
    let mut v = Val::Result(Ok(Some(Box::new(Val::Own(ResourceHandle::host(9))))));
    v.resolve_host_resources(types, 2, &host_defined);
    assert_eq!(
        v,
        Val::Result(Ok(Some(Box::new(Val::Own(ResourceHandle {
            resource: 0,
            rep: 9
        })))))
    );
    assert!(v.check(types, 2).is_ok());
    let mut l = Val::List(vec![Val::Tuple(vec![
        Val::Own(ResourceHandle::host(3)),
        Val::String("/".into()),
    ])]);
    l.resolve_host_resources(types, 3, &host_defined);
    assert!(l.check(types, 3).is_ok());
    // A guest-defined type is never filled in: the value stays ill-typed.
    let mut g = Val::Own(ResourceHandle::host(1));
    g.resolve_host_resources(types, 1, &host_defined);
    assert!(g.check(types, 1).is_err());
}

#[test]
fn host_imports_match_any_compatible_version_and_run_drop_callbacks() {
    use super::instance::HostImports;
    let mut h = HostImports::new();
    h.insert("wasi:cli/stdout@0.2#get-stdout", |_| Ok(Some(Val::U32(1))));
    assert!(h.contains("wasi:cli/stdout@0.2.0#get-stdout"));
    assert!(h.contains("wasi:cli/stdout@0.2.12#get-stdout"));
    assert!(!h.contains("wasi:cli/stdout@0.3.0#get-stdout"));
    assert_eq!(
        h.call("wasi:cli/stdout@0.2.6#get-stdout", &[]),
        Ok(Some(Val::U32(1)))
    );
    let dropped = alloc::rc::Rc::new(core::cell::Cell::new(0));
    let d = dropped.clone();
    h.on_drop("wasi:io/streams@0.2.1#output-stream", move |rep| d.set(rep));
    assert!(h.drop_resource("wasi:io/streams@0.2.6#output-stream", 5));
    assert_eq!(dropped.get(), 5);
    assert!(!h.drop_resource("wasi:io/streams@0.2.6#input-stream", 5));
}

#[test]
fn byte_lists_are_stored_and_loaded_whole_and_other_values_still_refused() {
    let defs = arena();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let mut cx = VecCx::new(StringEncoding::Utf8);
    // u8 (type 0) and s8 (type 19) lists.
    let bytes: Vec<Val> = (0..3000u32).map(|i| Val::U8((i * 7) as u8)).collect();
    let (ptr, len) = abi.store_list(&mut cx, &bytes, 0).unwrap();
    assert_eq!(len, 3000);
    assert_eq!(cx.memory().unwrap()[ptr as usize + 3], 21);
    assert_eq!(abi.load_list(&mut cx, ptr, len, 0).unwrap(), bytes);
    let signed: Vec<Val> = [-128i8, -1, 0, 127].into_iter().map(Val::S8).collect();
    let (ptr, len) = abi.store_list(&mut cx, &signed, 19).unwrap();
    assert_eq!(abi.load_list(&mut cx, ptr, len, 19).unwrap(), signed);
    // A value of another type in a byte list is refused as before (not as out of bounds).
    let mut bad = bytes.clone();
    bad[2000] = Val::U32(1);
    let mut fresh = VecCx::new(StringEncoding::Utf8);
    let err = abi.store_list(&mut fresh, &bad, 0).unwrap_err();
    assert_ne!(err.code, TrapCode::ListOutOfBounds);
    // Past the end of memory: the list trap.
    let end = cx.memory().unwrap().len() as u32;
    assert_eq!(
        abi.load_list(&mut cx, end - 2, 3, 0).unwrap_err().code,
        TrapCode::ListOutOfBounds
    );
}

#[test]
fn a_list_of_scalars_is_checked_whole_and_a_stray_element_still_found() {
    let defs = [
        TypeDef::U8,
        TypeDef::List(0),
        TypeDef::String,
        TypeDef::List(2),
    ];
    let t = Types::new(&defs);
    let mut bytes: Vec<Val> = (0..5000u32).map(|i| Val::U8(i as u8)).collect();
    assert!(Val::List(bytes.clone()).check(t, 1).is_ok());
    assert!(Val::List(Vec::new()).check(t, 1).is_ok());
    bytes[4321] = Val::S8(1);
    let err = Val::List(bytes).check(t, 1).unwrap_err();
    assert!(err.contains("does not have type U8"), "{err}");
    let strings = Val::List(vec![Val::String("a".into()), Val::String("b".into())]);
    assert!(strings.check(t, 3).is_ok());
    assert!(strings.check(t, 1).is_err());
}

#[test]
fn host_handles_inside_lists_are_resolved_but_byte_lists_left_alone() {
    let defs = [
        TypeDef::Own(0),
        TypeDef::List(0),
        TypeDef::U8,
        TypeDef::List(2),
    ];
    let t = Types::new(&defs);
    let mut handles = Val::List(vec![Val::Own(ResourceHandle::host(7))]);
    handles.resolve_host_resources(t, 1, &|_| true);
    assert!(handles.check(t, 1).is_ok(), "{handles}");
    let mut bytes = Val::List(vec![Val::U8(1), Val::U8(2)]);
    bytes.resolve_host_resources(t, 3, &|_| true);
    assert_eq!(bytes, Val::List(vec![Val::U8(1), Val::U8(2)]));
}

#[test]
fn releasing_values_frees_byte_lists_whole_and_everything_else_as_usual() {
    // Nested byte lists, lists holding strings and records: all released without a leak or a
    // double free (the allocator would abort on the latter).
    let bytes = || Val::List((0..1000u32).map(|i| Val::U8(i as u8)).collect());
    let values = vec![
        Val::Result(Ok(Some(Box::new(bytes())))),
        Val::List(vec![Val::String("kept".into()), Val::U8(1)]),
        Val::Record(vec![
            ("a".into(), bytes()),
            ("b".into(), Val::String("x".into())),
        ]),
        Val::Tuple(vec![Val::Char('x'), Val::F64(1.0)]),
        Val::Option(Some(Box::new(Val::List(vec![bytes(), bytes()])))),
        sample(),
    ];
    super::val::release(values);
}

/// `list<u16, 3>`, `list<tuple<u8, string>, 2>` and `map<string, u32>` after the [`arena`].
fn arena_with_fixed_lists_and_maps() -> (Vec<TypeDef>, [u32; 3]) {
    let mut defs = arena();
    let base = defs.len() as u32;
    defs.push(TypeDef::U16); // base
    defs.push(TypeDef::FixedList { elem: base, len: 3 }); // base + 1
    defs.push(TypeDef::U8); // base + 2
    defs.push(TypeDef::String); // base + 3
    defs.push(TypeDef::Tuple(vec![base + 2, base + 3])); // base + 4
    defs.push(TypeDef::FixedList {
        elem: base + 4,
        len: 2,
    }); // base + 5
    defs.push(TypeDef::U32); // base + 6
    defs.push(TypeDef::Tuple(vec![base + 3, base + 6])); // base + 7
    defs.push(TypeDef::Map { entry: base + 7 }); // base + 8
    (defs, [base + 1, base + 5, base + 8])
}

#[test]
fn fixed_length_lists_are_laid_out_inline_and_maps_as_lists_of_entries() {
    let (defs, [shorts, pairs, map]) = arena_with_fixed_lists_and_maps();
    let t = Types::new(&defs);
    assert_eq!((t.align(shorts), t.size(shorts)), (2, 6));
    assert_eq!(t.flat_count(shorts), 3);
    // tuple<u8, string> is 12 bytes, aligned to 4.
    assert_eq!((t.align(pairs), t.size(pairs)), (4, 24));
    assert_eq!(t.flat_count(pairs), 6);
    assert_eq!((t.align(map), t.size(map)), (4, 8));
    assert_eq!(t.flat_count(map), 2);
}

#[test]
fn fixed_length_lists_and_maps_round_trip_and_wrong_lengths_are_refused() {
    let (defs, [shorts, pairs, map]) = arena_with_fixed_lists_and_maps();
    let abi = Abi {
        types: Types::new(&defs),
        src: StringEncoding::Utf8,
    };
    let s = String::from;
    let values = [
        (
            shorts,
            Val::List(vec![Val::U16(1), Val::U16(2), Val::U16(65535)]),
        ),
        (
            pairs,
            Val::List(vec![
                Val::Tuple(vec![Val::U8(7), Val::String(s("seven"))]),
                Val::Tuple(vec![Val::U8(8), Val::String(s("é"))]),
            ]),
        ),
        (
            map,
            Val::List(vec![
                Val::Tuple(vec![Val::String(s("a")), Val::U32(1)]),
                Val::Tuple(vec![Val::String(s("b")), Val::U32(2)]),
            ]),
        ),
    ];
    for (t, v) in values {
        assert!(v.check(abi.types, t).is_ok());
        let mut cx = VecCx::new(StringEncoding::Utf8);
        abi.store(&mut cx, &v, t, 1024).unwrap();
        assert_eq!(abi.load(&mut cx, 1024, t).unwrap(), v);
        let mut flat = Vec::new();
        abi.lower_flat(&mut cx, &v, t, &mut flat).unwrap();
        assert_eq!(flat.len(), abi.types.flat_count(t));
        assert_eq!(
            abi.lift_values(&mut cx, usize::MAX, &flat, &[t]).unwrap(),
            vec![v]
        );
    }
    // The first u16 at offset 0, the third at 4: inline, no pointer.
    let mut cx = VecCx::new(StringEncoding::Utf8);
    let v = Val::List(vec![Val::U16(1), Val::U16(2), Val::U16(3)]);
    abi.store(&mut cx, &v, shorts, 1024).unwrap();
    assert_eq!(cx.mem[1024..1030], [1, 0, 2, 0, 3, 0]);
    let short = Val::List(vec![Val::U16(1), Val::U16(2)]);
    assert!(short.check(abi.types, shorts).is_err());
    assert!(abi.store(&mut cx, &short, shorts, 1024).is_err());
    assert!(abi
        .lower_flat(&mut cx, &short, shorts, &mut Vec::new())
        .is_err());
}

#[test]
fn flattening_a_huge_fixed_length_list_stops_past_the_flat_limit() {
    let defs = vec![
        TypeDef::U8,
        TypeDef::FixedList {
            elem: 0,
            len: (1 << 28) - 1,
        },
    ];
    let t = Types::new(&defs);
    let n = t.flat_count(1);
    assert!(n > MAX_FLAT_PARAMS && n < 1000, "{n}");
    let (p, r) = flatten_functype(t, &[1], Some(1), false);
    assert_eq!((p, r), (vec![Flat::I32], vec![Flat::I32]));
}
