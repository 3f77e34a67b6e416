//! A bounded hostile-input run in the normal test suite: two damaged inputs for every entry
//! point of the `weld` command (the one `cargo build` put beside this test), none of which may
//! panic, hang, leave output behind or fail with anything but one error line naming its input.
//! `make fuzz` runs the same cases over any range (`FUZZ_HOSTILE`, `FUZZ_SEED`).

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::Path;
use weld_fuzz::hostile::{self, campaign, Entry};

#[test]
fn damaged_inputs_at_every_entry_point_are_refused_cleanly() {
    // target/debug/deps/hostile-* → target/debug/weld
    let exe = std::env::current_exe().unwrap();
    let weld = exe.parent().and_then(Path::parent).unwrap().join("weld");
    if !weld.is_file() {
        println!(
            "SKIPPED: {} is not built (cargo build -p weld)",
            weld.display()
        );
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = hostile::collect_seeds(&[repo.clone(), repo.join("../shared")]);
    assert!(seeds.len() > 100, "{} seeds", seeds.len());
    let plugins = hostile::plugin_seeds(&weld, &seeds);
    assert!(plugins.len() >= 4, "{} plugins", plugins.len());
    seeds.extend(plugins);
    let out = tempfile::tempdir().unwrap();
    let n = 2 * Entry::ALL.len() as u64;
    let counts = campaign::campaign(&weld, &seeds, 0, n, out.path());
    println!("{}", campaign::table(&counts));
    assert!(campaign::covers_every_entry(&counts));
    let findings: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path().join("finding.txt");
            std::fs::read_to_string(p).unwrap_or_default()
        })
        .collect();
    assert!(findings.is_empty(), "findings:\n{}", findings.join("\n"));
}
