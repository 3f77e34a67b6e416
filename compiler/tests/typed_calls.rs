//! Typed calls across the host boundary (`ComponentInstance::typed_func`,
//! `HostImports::func_wrap`): the same results and traps as the `Val` path, for every type the
//! typed path covers, with strings both ways, return pointers and post-return; type mismatches
//! refused up front. The component: `tests/components/typed.wat`.

#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use weld_runtime::component::{Caller, TypedError, Val, WasmStr};
use weld_runtime::{ComponentInstance, ComponentModule, HostImports, Library, Store, TrapCode};

struct Loaded {
    _dir: tempfile::TempDir,
    _lib: Library,
    module: ComponentModule,
}

fn load() -> Option<Loaded> {
    if std::process::Command::new("cc")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: no C compiler (cc)");
        return None;
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/components/typed.wat");
    let text = std::fs::read_to_string(path).unwrap();
    let buf = wast::parser::ParseBuffer::new(&text).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let bytes = wat.encode().unwrap();
    let options = weld::Options {
        prefix: "typed".into(),
        c_entry_points: false,
        ..weld::Options::default()
    };
    let obj = weld::compile_component(&bytes, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = common::load_objects(dir.path(), &[("typed", &obj)]);
    let module = lib.component("typed").unwrap();
    Some(Loaded {
        _dir: dir,
        _lib: lib,
        module,
    })
}

/// Typed host functions: `log(s, n)` answers `"<s>/<n>"` and records `s`; `add(a, b)` = a + b.
fn typed_imports(seen: Rc<RefCell<Vec<String>>>) -> HostImports {
    let mut h = HostImports::new();
    h.func_wrap("log", move |(s, n): (String, u32)| {
        let out = format!("{s}/{n}");
        seen.borrow_mut().push(s);
        Ok(out)
    });
    h.func_wrap("add", |(a, b): (i64, f64)| Ok(a as f64 + b));
    h
}

/// `typed_imports` with `log` borrowing its string (`func_wrap_with_caller`); `kept` gets each
/// call's `WasmStr`, to try reading it in a later call.
fn borrowing_imports(
    seen: Rc<RefCell<Vec<String>>>,
    kept: Rc<RefCell<Vec<WasmStr>>>,
) -> HostImports {
    let mut h = typed_imports(seen.clone());
    h.func_wrap_with_caller("log", move |caller: &Caller<'_>, (s, n): (WasmStr, u32)| {
        let text = caller.str(&s)?;
        let out = format!("{text}/{n}");
        seen.borrow_mut().push(text.to_string());
        // A string of an earlier call is not readable through this call's caller.
        for old in kept.borrow().iter() {
            assert!(caller.str(old).is_err(), "read a string of another call");
        }
        kept.borrow_mut().push(s);
        Ok(out)
    });
    h
}

/// The same functions through the `Val` path.
fn val_imports() -> HostImports {
    let mut h = HostImports::new();
    h.insert("log", |args: &[Val]| match args {
        [Val::String(s), Val::U32(n)] => Ok(Some(Val::String(format!("{s}/{n}")))),
        _ => panic!("log: {args:?}"),
    });
    h.insert("add", |args: &[Val]| match args {
        [Val::S64(a), Val::F64(b)] => Ok(Some(Val::F64(*a as f64 + b))),
        _ => panic!("add: {args:?}"),
    });
    h
}

#[test]
fn typed_exports_lift_results_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let u8f = i.typed_func::<(), u8>(&store, "wide-u8").unwrap();
    assert_eq!(u8f.call(&mut store, ()).unwrap(), 0xff);
    assert_eq!(
        i.call(&mut store, "wide-u8", &[]).unwrap(),
        Some(Val::U8(0xff))
    );
    let s8f = i.typed_func::<(), i8>(&store, "wide-s8").unwrap();
    assert_eq!(s8f.call(&mut store, ()).unwrap(), -1);
    let b = i.typed_func::<(), bool>(&store, "two-bool").unwrap();
    assert!(b.call(&mut store, ()).unwrap());

    let mix = i
        .typed_func::<(u16, i32, i64, f32, f64, char), f64>(&store, "mix")
        .unwrap();
    let args = (65535u16, -7i32, -(1i64 << 40), 0.5f32, 1e10f64, '€');
    let typed = mix.call(&mut store, args).unwrap();
    let vals = [
        Val::U16(args.0),
        Val::S32(args.1),
        Val::S64(args.2),
        Val::F32(args.3),
        Val::F64(args.4),
        Val::Char(args.5),
    ];
    assert_eq!(
        i.call(&mut store, "mix", &vals).unwrap(),
        Some(Val::F64(typed))
    );
    let expected = 65535.0 - 7.0 - (1u64 << 40) as f64 + 0.5 + 1e10 + '€' as u32 as f64;
    assert_eq!(typed, expected);
}

#[test]
fn typed_lists_and_fixed_length_lists_cross_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let reverse = i
        .typed_func::<(Vec<String>,), Vec<String>>(&store, "reverse")
        .unwrap();
    let words: Vec<String> = ["one", "two", "three"].map(String::from).into();
    assert_eq!(
        reverse.call(&mut store, (words.clone(),)).unwrap(),
        ["three", "two", "one"].map(String::from)
    );
    let as_vals = |ws: &[String]| Val::List(ws.iter().cloned().map(Val::String).collect());
    let by_val = i.call(&mut store, "reverse", &[as_vals(&words)]).unwrap();
    let mut reversed = words.clone();
    reversed.reverse();
    assert_eq!(by_val, Some(as_vals(&reversed)));
    // A borrowed slice goes in without the host building a Vec.
    let slice = i
        .typed_func::<(&[&str],), Vec<String>>(&store, "reverse")
        .unwrap();
    assert_eq!(slice.call(&mut store, (&["a"][..],)).unwrap(), ["a"]);
    assert!(slice.call(&mut store, (&[][..],)).unwrap().is_empty());

    let sum3 = i.typed_func::<([u16; 3],), u32>(&store, "sum3").unwrap();
    assert_eq!(sum3.call(&mut store, ([1, 2, 65535],)).unwrap(), 65538);
    let triple = i.typed_func::<(u8,), [u8; 3]>(&store, "triple").unwrap();
    assert_eq!(triple.call(&mut store, (7,)).unwrap(), [7, 8, 9]);
    assert_eq!(
        i.call(&mut store, "triple", &[Val::U8(7)]).unwrap(),
        Some(Val::List(vec![Val::U8(7), Val::U8(8), Val::U8(9)]))
    );
    // The wrong length or element type is refused before any call.
    assert!(i.typed_func::<([u16; 2],), u32>(&store, "sum3").is_err());
    assert!(i.typed_func::<([u32; 3],), u32>(&store, "sum3").is_err());
    assert!(i.typed_func::<(Vec<u16>,), u32>(&store, "sum3").is_err());
    assert!(i
        .typed_func::<(Vec<u8>,), Vec<String>>(&store, "reverse")
        .is_err());
}

weld_runtime::component_record! {
    /// `record person { id: u32, full-name: string }` of typed.wat.
    #[derive(Debug, Clone, PartialEq)]
    struct Person {
        id: u32,
        full_name: String,
    }
}

weld_runtime::component_record! {
    /// The same fields under other names: not a `person`.
    struct Renamed {
        id: u32,
        name: String,
    }
}

#[test]
fn typed_records_and_tuples_cross_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let people: Vec<Person> = (0..100)
        .map(|k| Person {
            id: k * 7,
            full_name: format!("person {k}"),
        })
        .collect();
    let f = i
        .typed_func::<(&[Person],), Vec<Person>>(&store, "people")
        .unwrap();
    assert_eq!(f.call(&mut store, (&people[..],)).unwrap(), people);
    let as_val = |p: &Person| {
        Val::Record(vec![
            ("id".into(), Val::U32(p.id)),
            ("full-name".into(), Val::String(p.full_name.clone())),
        ])
    };
    let vals = Val::List(people.iter().map(as_val).collect());
    assert_eq!(
        i.call(&mut store, "people", std::slice::from_ref(&vals))
            .unwrap(),
        Some(vals)
    );
    let swap = i
        .typed_func::<((u8, String),), (String, u8)>(&store, "swap")
        .unwrap();
    assert_eq!(
        swap.call(&mut store, ((9, "nine".into()),)).unwrap(),
        ("nine".to_string(), 9)
    );
    // Field names and tuple shapes are checked before any call.
    assert!(i
        .typed_func::<(Vec<Renamed>,), Vec<Person>>(&store, "people")
        .is_err());
    assert!(i
        .typed_func::<((u8, String, u8),), (String, u8)>(&store, "swap")
        .is_err());
    assert!(i
        .typed_func::<((u8, String),), (u8, String)>(&store, "swap")
        .is_err());
}

#[test]
fn typed_options_and_results_cross_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let double = i
        .typed_func::<(Option<u32>,), Option<u32>>(&store, "maybe-double")
        .unwrap();
    assert_eq!(double.call(&mut store, (Some(21),)).unwrap(), Some(42));
    assert_eq!(double.call(&mut store, (None,)).unwrap(), None);
    let divide = i
        .typed_func::<(u32, u32), Result<u32, String>>(&store, "divide")
        .unwrap();
    assert_eq!(divide.call(&mut store, (7, 2)).unwrap(), Ok(3));
    assert_eq!(divide.call(&mut store, (7, 0)).unwrap(), Err("zero".into()));
    assert_eq!(
        i.call(&mut store, "divide", &[Val::U32(7), Val::U32(0)])
            .unwrap(),
        Some(Val::Result(Err(Some(Box::new(Val::String("zero".into()))))))
    );
    // A result whose error case carries nothing is not this one.
    assert!(i
        .typed_func::<(u32, u32), Result<u32, ()>>(&store, "divide")
        .is_err());
    assert!(i
        .typed_func::<(Option<u64>,), Option<u32>>(&store, "maybe-double")
        .is_err());
    // A discriminant beyond the cases traps, typed or not.
    let bad = i
        .typed_func::<(), Option<u32>>(&store, "bad-option")
        .unwrap();
    let typed = bad.call(&mut store, ()).unwrap_err();
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let by_val = i.call(&mut store, "bad-option", &[]).unwrap_err();
    assert_eq!(typed.to_string(), by_val.to_string());
}

weld_runtime::component_enum! {
    /// `enum color { red, dark-green, blue }` of typed.wat.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Color {
        Red,
        DarkGreen,
        Blue,
    }
}

weld_runtime::component_flags! {
    /// `flags perms { read, write, read-only }` of typed.wat.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    struct Perms {
        read: bool,
        write: bool,
        read_only: bool,
    }
}

weld_runtime::component_variant! {
    /// `variant shape { circle(f32), named(string), empty }` of typed.wat.
    #[derive(Debug, Clone, PartialEq)]
    enum Shape {
        Circle(f32),
        Named(String),
        Empty,
    }
}

#[test]
fn typed_enums_flags_and_variants_cross_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let next = i
        .typed_func::<(Color,), Color>(&store, "next-color")
        .unwrap();
    assert_eq!(
        next.call(&mut store, (Color::Red,)).unwrap(),
        Color::DarkGreen
    );
    assert_eq!(next.call(&mut store, (Color::Blue,)).unwrap(), Color::Red);
    assert_eq!(
        i.call(&mut store, "next-color", &[Val::Enum("dark-green".into())])
            .unwrap(),
        Some(Val::Enum("blue".into()))
    );
    let flip = i.typed_func::<(Perms,), Perms>(&store, "flip").unwrap();
    let p = Perms {
        read: true,
        ..Perms::default()
    };
    // The bit beyond the three flags that the component sets is dropped.
    let flipped = Perms {
        read: false,
        write: true,
        read_only: true,
    };
    assert_eq!(flip.call(&mut store, (p,)).unwrap(), flipped);
    assert_eq!(
        i.call(&mut store, "flip", &[Val::Flags(vec!["read".into()])])
            .unwrap(),
        Some(Val::Flags(vec!["write".into(), "read-only".into()]))
    );
    let echo = i
        .typed_func::<(Shape,), Shape>(&store, "echo-shape")
        .unwrap();
    for s in [
        Shape::Circle(1.5),
        Shape::Named("disc".into()),
        Shape::Empty,
    ] {
        assert_eq!(echo.call(&mut store, (s.clone(),)).unwrap(), s);
    }
    assert_eq!(
        i.call(
            &mut store,
            "echo-shape",
            &[Val::Variant("circle".into(), Some(Box::new(Val::F32(1.5))))]
        )
        .unwrap(),
        Some(Val::Variant("circle".into(), Some(Box::new(Val::F32(1.5)))))
    );
    // Names and payloads are checked before any call.
    weld_runtime::component_enum! {
        enum Hue { Red, Green, Blue }
    }
    weld_runtime::component_variant! {
        enum Outline { Circle(f64), Named(String), Empty }
    }
    assert!(i.typed_func::<(Hue,), Color>(&store, "next-color").is_err());
    assert!(i
        .typed_func::<(Outline,), Shape>(&store, "echo-shape")
        .is_err());
}

#[test]
fn typed_maps_cross_as_the_val_path_does() {
    use std::collections::{BTreeMap, HashMap};
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let m = BTreeMap::from([("one".to_string(), 1u32), ("two".into(), 2)]);
    let echo = i
        .typed_func::<(&BTreeMap<String, u32>,), BTreeMap<String, u32>>(&store, "echo-map")
        .unwrap();
    assert_eq!(echo.call(&mut store, (&m,)).unwrap(), m);
    let hashed = i
        .typed_func::<(HashMap<String, u32>,), HashMap<String, u32>>(&store, "echo-map")
        .unwrap();
    let h: HashMap<String, u32> = m.clone().into_iter().collect();
    assert_eq!(hashed.call(&mut store, (h.clone(),)).unwrap(), h);
    let entry = |k: &str, v| Val::Tuple(vec![Val::String(k.into()), Val::U32(v)]);
    let vals = Val::List(vec![entry("one", 1), entry("two", 2)]);
    assert_eq!(
        i.call(&mut store, "echo-map", std::slice::from_ref(&vals))
            .unwrap(),
        Some(vals)
    );
    // A list of pairs is not a map, nor a map of other types.
    assert!(i
        .typed_func::<(Vec<(String, u32)>,), BTreeMap<String, u32>>(&store, "echo-map")
        .is_err());
    assert!(i
        .typed_func::<(BTreeMap<String, u64>,), BTreeMap<String, u32>>(&store, "echo-map")
        .is_err());
}

#[test]
fn record_layouts_of_typed_values_match_the_contract() {
    use weld_contract::component::abi::Types;
    use weld_contract::component::TypeDef;
    use weld_runtime::component::ComponentType;
    let defs = vec![
        TypeDef::U8,
        TypeDef::String,
        TypeDef::U64,
        TypeDef::U16,
        TypeDef::Tuple(vec![0, 1, 2, 3]),
        TypeDef::U32,
        TypeDef::Record(vec![("id".into(), 5), ("full-name".into(), 1)]),
        TypeDef::Option(2),
        TypeDef::Result {
            ok: Some(0),
            err: Some(4),
        },
        TypeDef::Result {
            ok: None,
            err: Some(3),
        },
        TypeDef::F32,
        TypeDef::Variant(vec![
            ("circle".into(), Some(10)),
            ("named".into(), Some(1)),
            ("empty".into(), None),
        ]),
        TypeDef::Enum(vec!["red".into(), "dark-green".into(), "blue".into()]),
        TypeDef::Flags(vec!["read".into(), "write".into(), "read-only".into()]),
    ];
    let t = Types::new(&defs);
    type T4 = (u8, String, u64, u16);
    assert_eq!((T4::SIZE, T4::ALIGN), (t.size(4), t.align(4)));
    assert_eq!(T4::FLAT, t.flat_count(4));
    assert_eq!((Person::SIZE, Person::ALIGN), (t.size(6), t.align(6)));
    assert!(Person::typecheck(&defs, 6) && T4::typecheck(&defs, 4));
    assert!(!Person::typecheck(&defs, 4));
    for (ty, layout) in [
        (
            7,
            (
                Option::<u64>::SIZE,
                Option::<u64>::ALIGN,
                Option::<u64>::FLAT,
            ),
        ),
        (
            8,
            (
                Result::<u8, T4>::SIZE,
                Result::<u8, T4>::ALIGN,
                Result::<u8, T4>::FLAT,
            ),
        ),
        (
            9,
            (
                Result::<(), u16>::SIZE,
                Result::<(), u16>::ALIGN,
                Result::<(), u16>::FLAT,
            ),
        ),
    ] {
        assert_eq!(
            layout,
            (t.size(ty), t.align(ty), t.flat_count(ty)),
            "type {ty}"
        );
    }
    assert!(Option::<u64>::typecheck(&defs, 7) && Result::<(), u16>::typecheck(&defs, 9));
    assert!(!Result::<u16, ()>::typecheck(&defs, 9));
    for (ty, layout) in [
        (11, (Shape::SIZE, Shape::ALIGN, Shape::FLAT)),
        (12, (Color::SIZE, Color::ALIGN, Color::FLAT)),
        (13, (Perms::SIZE, Perms::ALIGN, Perms::FLAT)),
    ] {
        assert_eq!(
            layout,
            (t.size(ty), t.align(ty), t.flat_count(ty)),
            "type {ty}"
        );
    }
    assert!(Shape::typecheck(&defs, 11) && Color::typecheck(&defs, 12));
    assert!(Perms::typecheck(&defs, 13) && !Perms::typecheck(&defs, 12));
}

#[test]
fn a_typed_list_result_at_an_unaligned_address_traps_as_the_val_path_does() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let f = i.typed_func::<(), Vec<u32>>(&store, "unaligned").unwrap();
    let typed = f.call(&mut store, ()).unwrap_err();
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let by_val = i.call(&mut store, "unaligned", &[]).unwrap_err();
    assert_eq!(typed.to_string(), by_val.to_string());
    assert!(typed.to_string().contains("unaligned"), "{typed}");
}

#[test]
fn typed_string_calls_copy_both_ways_and_run_post_return() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    // Borrowed strings in (no host allocation), an owned one out.
    let concat = i
        .typed_func::<(&str, &str), String>(&store, "concat")
        .unwrap();
    let posts = i.typed_func::<(), u32>(&store, "posts").unwrap();
    let long = "ж".repeat(5000);
    for (a, b) in [("", ""), ("héllo, ", "wörld"), (long.as_str(), "!")] {
        let r = concat.call(&mut store, (a, b)).unwrap();
        assert_eq!(r, format!("{a}{b}"));
    }
    assert_eq!(posts.call(&mut store, ()).unwrap(), 3);
    let owned = i
        .typed_func::<(String, &String), String>(&store, "concat")
        .unwrap();
    let b = String::from("y");
    assert_eq!(owned.call(&mut store, ("x".into(), &b)).unwrap(), "xy");
    assert_eq!(posts.call(&mut store, ()).unwrap(), 4);
    // The Val path runs the same post-return.
    i.call(
        &mut store,
        "concat",
        &[Val::String("a".into()), Val::String("b".into())],
    )
    .unwrap();
    assert_eq!(posts.call(&mut store, ()).unwrap(), 5);
}

#[test]
fn typed_host_functions_serve_imports_with_rust_types() {
    let Some(l) = load() else { return };
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &typed_imports(seen.clone())).unwrap();
    let log = i
        .typed_func::<(String, u32), String>(&store, "call-log")
        .unwrap();
    assert_eq!(log.call(&mut store, ("ünï".into(), 7)).unwrap(), "ünï/7");
    // The Val path of the export reaches the same typed import.
    assert_eq!(
        i.call(
            &mut store,
            "call-log",
            &[Val::String("x".into()), Val::U32(1)]
        )
        .unwrap(),
        Some(Val::String("x/1".into()))
    );
    assert_eq!(*seen.borrow(), ["ünï", "x"]);
    let add = i.typed_func::<(i64, f64), f64>(&store, "call-add").unwrap();
    assert_eq!(add.call(&mut store, (-3, 0.25)).unwrap(), -2.75);
}

#[test]
fn host_functions_read_borrowed_strings_in_place_and_only_during_their_call() {
    let Some(l) = load() else { return };
    let seen = Rc::new(RefCell::new(Vec::new()));
    let kept = Rc::new(RefCell::new(Vec::new()));
    let mut store = Store::new();
    let imports = borrowing_imports(seen.clone(), kept.clone());
    let i = ComponentInstance::new(&mut store, &l.module, &imports).unwrap();
    let log = i
        .typed_func::<(String, u32), String>(&store, "call-log")
        .unwrap();
    let long = "ascii only ".repeat(100);
    assert_eq!(log.call(&mut store, ("ünï".into(), 7)).unwrap(), "ünï/7");
    assert_eq!(
        log.call(&mut store, (long.clone(), 1)).unwrap(),
        format!("{long}/1")
    );
    assert_eq!(log.call(&mut store, (String::new(), 2)).unwrap(), "/2");
    assert_eq!(*seen.borrow(), ["ünï", long.as_str(), ""]);
    assert_eq!(kept.borrow().len(), 3);
    // Invalid UTF-8 traps at lifting, as for a `String`, before the host function runs.
    let i = ComponentInstance::new(&mut store, &l.module, &imports).unwrap();
    let bad = i.typed_func::<(), ()>(&store, "bad-to-host").unwrap();
    let t = bad.call(&mut store, ()).unwrap_err();
    assert_eq!(t.code, TrapCode::InvalidUtf8, "{t}");
    assert_eq!(seen.borrow().len(), 3, "the host ran");
}

#[test]
fn typed_calls_trap_where_the_canonical_abi_says() {
    let Some(l) = load() else { return };
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &typed_imports(seen.clone())).unwrap();
    let bad_char = i.typed_func::<(), char>(&store, "bad-char").unwrap();
    assert_eq!(
        bad_char.call(&mut store, ()).unwrap_err().code,
        TrapCode::InvalidCharBitPattern
    );
    // Invalid UTF-8 sent to a typed host function traps before the host runs.
    let i = ComponentInstance::new(&mut store, &l.module, &typed_imports(seen.clone())).unwrap();
    let bad = i.typed_func::<(), ()>(&store, "bad-to-host").unwrap();
    let t = bad.call(&mut store, ()).unwrap_err();
    assert!(
        seen.borrow().is_empty(),
        "the host ran: {:?}",
        seen.borrow()
    );
    assert_eq!(t.code, TrapCode::InvalidUtf8, "{t}");
    // A trapping export leaves its instance unenterable, typed or not; others work on.
    let i = ComponentInstance::new(&mut store, &l.module, &typed_imports(seen.clone())).unwrap();
    let trap = i.typed_func::<(), ()>(&store, "trap").unwrap();
    assert_eq!(
        trap.call(&mut store, ()).unwrap_err().code,
        TrapCode::Unreachable
    );
    let posts = i.typed_func::<(), u32>(&store, "posts").unwrap();
    assert_eq!(
        posts.call(&mut store, ()).unwrap_err().code,
        TrapCode::CannotEnterComponent
    );
    let fresh = ComponentInstance::new(&mut store, &l.module, &typed_imports(seen)).unwrap();
    let posts = fresh.typed_func::<(), u32>(&store, "posts").unwrap();
    assert_eq!(posts.call(&mut store, ()).unwrap(), 0);
}

#[test]
fn mismatched_types_are_refused_before_any_call() {
    let Some(l) = load() else { return };
    let mut store = Store::new();
    let i = ComponentInstance::new(&mut store, &l.module, &val_imports()).unwrap();
    let e = i
        .typed_func::<(u32,), String>(&store, "concat")
        .unwrap_err();
    assert!(
        matches!(&e, TypedError::TypeMismatch(m) if m.contains("concat") && m.contains("string")),
        "{e}"
    );
    assert!(matches!(
        i.typed_func::<(), ()>(&store, "nope"),
        Err(TypedError::NoSuchExport(_))
    ));
    assert!(i.typed_func::<(), u16>(&store, "wide-u8").is_err());
    assert!(i.typed_func::<(), ()>(&store, "wide-u8").is_err());

    let mut h = val_imports();
    h.func_wrap("add", |(a, b): (i32, f64)| Ok(f64::from(a) + b));
    let e = ComponentInstance::new(&mut store, &l.module, &h).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("add") && msg.contains("s64"), "{msg}");
}
