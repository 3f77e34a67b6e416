//! Plugins end to end: two different plugins and three instances of one in one process, typed
//! calls, host imports, a trap that leaves everything else working, and refusals — mismatched
//! expectations, truncated, tampered and wrong-target files, and a shared object with an
//! initialiser, which must not run.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use weld_host::{
    CallError, CallState, Expect, HostImports, LoadError, Plugin, PluginError, TrapCode, Val,
};

fn have_cc() -> bool {
    Command::new("cc").arg("--version").output().is_ok()
}

macro_rules! require_cc {
    () => {
        if !have_cc() {
            println!("SKIPPED: no C compiler (cc) to link plugins with");
            return;
        }
    };
}

/// Compile `tests/plugins/<name>.wat` into `<dir>/<name>.so` the way `weld compile --emit
/// sharedlib` does.
fn build(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plugins")
        .join(format!("{name}.wat"));
    let text = std::fs::read_to_string(&src).unwrap();
    let buf = wast::parser::ParseBuffer::new(&text).unwrap();
    let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
    let bytes = wat.encode().unwrap();
    let options = weld::Options {
        plugin: true,
        prefix: name.replace('-', "_"),
        c_entry_points: false,
        ..weld::Options::default()
    };
    let obj = weld::compile_component(&bytes, &options).unwrap();
    let obj_path = dir.join(format!("{name}.o"));
    std::fs::write(&obj_path, obj).unwrap();
    let so = dir.join(format!("{name}.so"));
    weld::link::link(
        &[obj_path],
        &so,
        weld::link::OutputKind::SharedLib,
        options.target.as_str(),
        &[],
    )
    .unwrap();
    so
}

fn greeter_expect() -> Expect {
    Expect::new()
        .func::<(String,), String>("greet")
        .func::<(), u32>("count")
}

#[test]
fn two_plugins_and_three_instances_of_one_work_side_by_side_and_survive_a_trap() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let greeter = Plugin::load(build(dir.path(), "greeter")).unwrap();
    let calc = Plugin::load(build(dir.path(), "calc")).unwrap();
    greeter.check(&greeter_expect()).unwrap();
    calc.check(
        &Expect::new()
            .func::<(u32, u32), u32>("add")
            .func::<(u32, u32), u32>("div"),
    )
    .unwrap();
    assert_eq!(
        greeter.world(),
        "export count: func() -> u32\nexport greet: func(name: string) -> string\n"
    );

    // Three greeters, each with its own state.
    let mut g: Vec<_> = (0..3)
        .map(|_| greeter.instantiate(&HostImports::new()).unwrap())
        .collect();
    for (i, inst) in g.iter_mut().enumerate() {
        for _ in 0..=i {
            let s: String = inst.call("greet", (format!("plugin {i}"),)).unwrap();
            assert_eq!(s, format!("hello, plugin {i}!"));
        }
    }
    let counts: Vec<u32> = g.iter_mut().map(|i| i.call("count", ()).unwrap()).collect();
    assert_eq!(counts, [1, 2, 3]);
    // The typed fast path gives the same answers and shares the instance's state; a typed
    // function works only with its own instance; wrong types are refused up front.
    let greet = g[2].typed::<(&str,), String>("greet").unwrap();
    assert_eq!(g[2].call_typed(&greet, ("fast",)).unwrap(), "hello, fast!");
    assert_eq!(g[2].call::<(), u32>("count", ()).unwrap(), 4);
    assert_eq!(
        g[1].call_typed(&greet, ("elsewhere",)),
        Err(CallError::OtherInstance)
    );
    assert!(matches!(
        g[2].typed::<(u32,), String>("greet"),
        Err(CallError::Signature(PluginError::TypeMismatch { .. }))
    ));
    assert!(matches!(
        g[2].typed::<(), ()>("nope"),
        Err(CallError::Signature(PluginError::MissingExport(_)))
    ));

    // The calculator's import is a host function; its calls arrive in order.
    let logged = Rc::new(RefCell::new(Vec::new()));
    let mut imports = HostImports::new();
    let sink = logged.clone();
    imports.insert("log", move |args: &[Val]| {
        sink.borrow_mut().push(args.to_vec());
        Ok(None)
    });
    let mut c1 = calc.instantiate(&imports).unwrap();
    let mut c2 = calc.instantiate(&imports).unwrap();
    assert_eq!(c1.call::<(u32, u32), u32>("add-and-log", (40, 2)), Ok(42));
    assert_eq!(c2.call::<(u32, u32), u32>("add-and-log", (1, 2)), Ok(3));
    assert_eq!(*logged.borrow(), [vec![Val::U32(42)], vec![Val::U32(3)]]);

    // A trap is an error value; the trapped instance refuses further calls, every other
    // instance and plugin goes on working.
    assert_eq!(c1.call::<(u32, u32), u32>("div", (84, 2)), Ok(42));
    match c1.call::<(u32, u32), u32>("div", (1, 0)) {
        Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::IntegerDivisionByZero),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(matches!(
        c1.call::<(u32, u32), u32>("add", (1, 1)),
        Err(CallError::Trap(_))
    ));
    assert_eq!(c2.call::<(u32, u32), u32>("div", (9, 3)), Ok(3));
    // An exception caught inside is a value; one that reaches the component boundary traps.
    assert_eq!(c2.call::<(u32,), u32>("throw", (1,)), Ok(10));
    match c2.call::<(u32,), u32>("throw", (7,)) {
        Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::UncaughtException),
        other => panic!("expected an uncaught-exception trap, got {other:?}"),
    }
    let s: String = g[0].call("greet", ("again".to_string(),)).unwrap();
    assert_eq!(s, "hello, again!");
    let mut fresh = calc.instantiate(&imports).unwrap();
    assert_eq!(fresh.call::<(u32, u32), u32>("add", (2, 2)), Ok(4));
}

/// An async plugin: calls the host starts, polls and cancels, tasks that stay suspended on
/// their fibers while the instances holding them move (their stores do not), and a call that
/// can never finish returned to the host as a deadlock.
#[test]
fn async_calls_are_started_polled_and_cancelled_and_instances_move_freely() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let plugin = Plugin::load(build(dir.path(), "async-tasks")).unwrap();
    let mut first = plugin.instantiate(&HostImports::new()).unwrap();
    // A task that goes on after returning stays suspended in this instance...
    assert_eq!(first.call::<(), u32>("linger", ()).unwrap(), 7);
    let waiting = first.start_call("patient", &[]).unwrap();
    assert_eq!(first.poll_call(&waiting).unwrap(), CallState::Pending);
    // ...which then moves (into an array, beside another), and still serves calls.
    let mut all = [plugin.instantiate(&HostImports::new()).unwrap(), first];
    let moved = &mut all[1];
    assert_eq!(moved.call::<(), u32>("count", ()).unwrap(), 1);
    assert_eq!(moved.cancel_call(&waiting).unwrap(), CallState::Cancelled);
    let call = moved.start_call("linger", &[]).unwrap();
    assert_eq!(
        moved.wait_call(call).unwrap(),
        CallState::Returned(Some(Val::U32(7)))
    );
    let stuck = all[0].start_call("stuck", &[]).unwrap();
    match all[0].wait_call(stuck) {
        Err(CallError::Trap(t)) => assert_eq!(t.code, TrapCode::AsyncDeadlock),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_plugin_that_does_not_match_the_expected_world_is_refused_with_the_difference() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let greeter = Plugin::load(build(dir.path(), "greeter")).unwrap();
    assert_eq!(
        greeter.check(&Expect::new().func::<(u32,), String>("greet")),
        Err(PluginError::TypeMismatch {
            name: "greet".into(),
            expected: "func(u32) -> string".into(),
            found: "func(string) -> string".into(),
        })
    );
    assert_eq!(
        greeter.check(&greeter_expect().func::<(), ()>("reset")),
        Err(PluginError::MissingExport("reset".into()))
    );
    // A call with other types is refused before anything runs.
    let mut inst = greeter.instantiate(&HostImports::new()).unwrap();
    assert!(matches!(
        inst.call::<(String,), u32>("greet", ("x".into(),)),
        Err(CallError::Signature(PluginError::TypeMismatch { .. }))
    ));
    assert_eq!(inst.call::<(), u32>("count", ()), Ok(0));
    // A plugin whose imports the host does not supply cannot be instantiated.
    let calc = Plugin::load(build(dir.path(), "calc")).unwrap();
    let err = calc.instantiate(&HostImports::new()).unwrap_err();
    assert!(err.to_string().contains("missing import log"), "{err}");
}

/// Write `bytes` as a new file in `dir` and try to load it.
fn load_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<Plugin, LoadError> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    Plugin::load(&p).map_err(|e| match e {
        PluginError::Load(e) => e,
        other => panic!("{name}: refused for another reason: {other}"),
    })
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

#[test]
fn truncated_tampered_and_foreign_files_are_refused() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(build(dir.path(), "greeter")).unwrap();

    for cut in [10, 100, good.len() / 2, good.len() - 1] {
        let err = load_bytes(dir.path(), &format!("cut{cut}.so"), &good[..cut]).unwrap_err();
        assert!(
            matches!(err, LoadError::Truncated(_) | LoadError::NotAPlugin(_)),
            "cut at {cut}: {err}"
        );
    }

    // Another machine (e_machine = AArch64): refused from the headers, before dlopen.
    let mut arm = good.clone();
    arm[18..20].copy_from_slice(&183u16.to_le_bytes());
    assert_eq!(
        load_bytes(dir.path(), "arm.so", &arm).unwrap_err(),
        LoadError::WrongTarget {
            expected: "x86_64".into(),
            found: "aarch64".into()
        }
    );

    // The world text edited in the file: its hash no longer matches.
    let mut edited = good.clone();
    let at = find(&edited, b"export greet: func(name: string)");
    edited[at + "export greet: func(".len()] = b'N';
    let err = load_bytes(dir.path(), "edited.so", &edited).unwrap_err();
    assert!(matches!(err, LoadError::Tampered(_)), "{err}");

    // World text and hash both rewritten consistently: still refused, the component's own
    // types say otherwise.
    let mut forged = good.clone();
    let text = "export count: func() -> u32\nexport greet: func(name: string) -> string\n";
    let forged_text = text.replace("name: string", "nAme: string");
    let at = find(&forged, text.as_bytes());
    forged[at..at + text.len()].copy_from_slice(forged_text.as_bytes());
    let old_hash = weld_contract::component::world::fnv1a64(text.as_bytes()).to_le_bytes();
    let new_hash = weld_contract::component::world::fnv1a64(forged_text.as_bytes()).to_le_bytes();
    let at = find(&forged, &old_hash);
    forged[at..at + 8].copy_from_slice(&new_hash);
    let err = load_bytes(dir.path(), "forged.so", &forged).unwrap_err();
    assert_eq!(
        err,
        LoadError::Tampered("the world text does not match the component's types".into())
    );

    // Another contract version.
    let mut old = good.clone();
    let at = find(&old, b"weldplug") + 8;
    old[at..at + 4].copy_from_slice(&1u32.to_le_bytes());
    assert!(matches!(
        load_bytes(dir.path(), "old.so", &old),
        Err(LoadError::AbiVersion { found: 1, .. })
    ));

    // Not ELF at all.
    assert!(matches!(
        load_bytes(
            dir.path(),
            "text.so",
            b"definitely not a shared object, just text"
        ),
        Err(LoadError::NotAPlugin(_))
    ));
}

#[test]
fn a_shared_object_with_an_initialiser_is_refused_before_it_runs() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let c = dir.path().join("evil.c");
    std::fs::write(
        &c,
        format!(
            "#include <stdio.h>\n\
             const char weld_plugin_v1[64] = \"weldplug\";\n\
             __attribute__((constructor)) static void run(void) {{\n\
               FILE *f = fopen(\"{}\", \"w\"); if (f) fclose(f);\n\
             }}\n",
            marker.display()
        ),
    )
    .unwrap();
    let so = dir.path().join("evil.so");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = Plugin::load(&so).unwrap_err();
    assert!(
        matches!(&err, PluginError::Load(LoadError::NotAPlugin(why)) if why.contains("initialisers")),
        "{err}"
    );
    assert!(!marker.exists(), "the initialiser ran");
}

#[test]
fn the_header_check_never_panics_on_mutated_plugin_headers() {
    require_cc!();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(build(dir.path(), "greeter")).unwrap();
    assert_eq!(weld_runtime::plugin::precheck(&good), Ok(()));
    // A simple xorshift: deterministic, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut refused = 0;
    let headers = 4096.min(good.len());
    for _ in 0..20_000 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % headers as u64) as usize;
            bytes[at] = next() as u8;
        }
        if next() % 8 == 0 {
            bytes.truncate((next() % good.len() as u64) as usize);
        }
        // Only the check: loading a mutated file is what the check is there to prevent.
        if weld_runtime::plugin::precheck(&bytes).is_err() {
            refused += 1;
        }
    }
    assert!(refused > 1000, "only {refused} of 20000 mutations refused");
}
