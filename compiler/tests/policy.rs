//! Build-time policies (`weld check`, `weld compile --policy`): a graph that keeps the rules
//! builds, one that breaks them does not, with one line naming the rule and the path — on the
//! three-component example of `examples/policy/` and on the nesting/forwarding graph of
//! `tests/inspect/nested.wat`.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example(name: &str) -> String {
    root()
        .join("examples/policy")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn weld(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weld"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `weld check` of `input` against policy text; returns the output.
fn check_with(input: &str, policy: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policy.toml");
    std::fs::write(&p, policy).unwrap();
    weld(&["check", input, "--policy", p.to_str().unwrap()])
}

/// The one error line of a failed check (asserting there is exactly one and exit code 1).
fn refused(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn the_example_app_keeps_its_policy_and_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.o");
    let o = weld(&[
        "check",
        &example("app.wat"),
        "--policy",
        &example("policy.toml"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = weld(&[
        "compile",
        &example("app.wat"),
        "--policy",
        &example("policy.toml"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.exists());
}

#[test]
fn the_leaky_app_is_refused_naming_the_logic_to_pii_store_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.o");
    let o = weld(&[
        "compile",
        &example("app-leaky.wat"),
        "--policy",
        &example("policy.toml"),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("rule 1 (component \"logic\") denies reaching \"pii-store\", but logic -[example:pii/store#lookup]-> pii-store"),
        "{err}"
    );
    assert!(!out.exists(), "no object may be written");
    let o = weld(&[
        "check",
        &example("app-leaky.wat"),
        "--policy",
        &example("policy.toml"),
    ]);
    refused(&o);
}

#[test]
fn a_host_interface_reached_only_through_forwarding_components_breaks_a_deny_host_rule() {
    let nested = root().join("tests/inspect/nested.wat");
    let o = check_with(
        nested.to_str().unwrap(),
        "[[rule]]\ncomponent = \"top\"\ndeny-host = [\"wasi:sockets/*\"]\n",
    );
    let err = refused(&o);
    assert!(
        err.contains("denies host \"wasi:sockets/*\", but top -[fetch]-> mid -[dial]-> net/dialer#2 -[connect]-> host wasi:sockets/tcp@0.2.0"),
        "{err}"
    );
}

#[test]
fn a_rule_on_a_component_covers_the_instances_nested_inside_it() {
    let nested = root().join("tests/inspect/nested.wat");
    let o = check_with(
        nested.to_str().unwrap(),
        "[[rule]]\ncomponent = \"net\"\nallow-host = [\"wasi:cli/*\"]\n",
    );
    let err = refused(&o);
    assert!(
        err.contains("net/dialer -[connect]-> host wasi:sockets/tcp@0.2.0"),
        "{err}"
    );
}

#[test]
fn deny_reach_covers_instances_nested_inside_the_target() {
    let nested = root().join("tests/inspect/nested.wat");
    let o = check_with(
        nested.to_str().unwrap(),
        "[[rule]]\ncomponent = \"top\"\ndeny-reach = [\"net\"]\n",
    );
    let err = refused(&o);
    assert!(
        err.contains("top -[fetch]-> mid -[dial]-> net/dialer#2"),
        "{err}"
    );
}

#[test]
fn components_can_be_selected_by_exported_interface() {
    let o = check_with(
        &example("app-leaky.wat"),
        "[[rule]]\ncomponent = \"exports:example:logic/*\"\ndeny-reach = [\"exports:example:pii/store\"]\n",
    );
    let err = refused(&o);
    assert!(
        err.contains("logic -[example:pii/store#lookup]-> pii-store"),
        "{err}"
    );
}

#[test]
fn allow_lists_pass_when_every_reach_is_listed() {
    let nested = root().join("tests/inspect/nested.wat");
    let o = check_with(
        nested.to_str().unwrap(),
        "[[rule]]\ncomponent = \"top\"\nallow-reach = [\"mid\", \"net\"]\n\
         allow-host = [\"wasi:cli/stdout\", \"wasi:sockets/tcp\"]\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_misspelt_component_name_is_an_error_not_a_pass() {
    let o = check_with(
        &example("app.wat"),
        "[[rule]]\ncomponent = \"lgoic\"\ndeny-reach = [\"pii-store\"]\n",
    );
    let err = refused(&o);
    assert!(
        err.contains(
            "\"lgoic\" matches no component instance (instances: (root), pii-store, logic, app)"
        ),
        "{err}"
    );
}

#[test]
fn a_malformed_policy_file_is_one_error_line() {
    let o = check_with(&example("app.wat"), "[[rule]\ncomponent = 1\n");
    refused(&o);
    let o = check_with(
        &example("app.wat"),
        "[[rule]]\ncomponent = 1\ndeny-reach = []\n",
    );
    assert!(refused(&o).contains("`component` must be a string"));
}

#[test]
fn a_policy_on_a_core_module_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.wat");
    std::fs::write(&m, "(module)").unwrap();
    let o = check_with(
        m.to_str().unwrap(),
        "[[rule]]\ncomponent = \"a\"\ndeny-reach = []\n",
    );
    assert!(refused(&o).contains("applies to components"));
}

#[test]
fn a_policy_can_forbid_a_gc_heap_or_linear_memory_and_names_the_instance_that_has_one() {
    let kotlin = root()
        .join("tests/programs/kotlin/gcdemo.component.wasm")
        .to_string_lossy()
        .into_owned();
    let e = refused(&check_with(
        &kotlin,
        "[[rule]]\ncomponent = \"*\"\ngc-heap = false\n",
    ));
    assert!(
        e.contains("forbids a GC heap") && e.contains("(root)"),
        "{e}"
    );
    let e = refused(&check_with(
        &kotlin,
        "[[rule]]\ncomponent = \"*\"\nlinear-memory = false\n",
    ));
    assert!(e.contains("forbids linear memory"), "{e}");
    // The example's components keep their data in linear memory only.
    let o = check_with(
        &example("app.wat"),
        "[[rule]]\ncomponent = \"*\"\ngc-heap = false\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = refused(&check_with(
        &example("app.wat"),
        "[[rule]]\ncomponent = \"*\"\ngc-heap = true\n",
    ));
    assert!(e.contains("constrains nothing"), "{e}");
}
