//! Every component of the shared component-model suites is flattened: the pass must never panic,
//! and a valid component either flattens or is refused as unsupported with a message.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wast::{QuoteWat, WastDirective};

fn testsuite() -> PathBuf {
    match std::env::var_os("WELD_TESTSUITE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite"),
    }
}

fn wast_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            wast_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "wast") {
            out.push(p);
        }
    }
}

#[test]
fn every_valid_component_in_the_suites_flattens_or_is_refused_cleanly() {
    let mut files = Vec::new();
    wast_files(&testsuite().join("component-model"), &mut files);
    assert!(
        !files.is_empty(),
        "component-model suite missing; set WELD_TESTSUITE"
    );
    files.sort();
    let (mut ok, mut refused, mut invalid) = (0, 0, 0);
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lexer = wast::lexer::Lexer::new(&text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(mut script) = wast::parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for d in script.directives.iter_mut() {
            let q: &mut QuoteWat = match d {
                WastDirective::Module(q) | WastDirective::ModuleDefinition(q) => q,
                _ => continue,
            };
            if !matches!(
                q,
                QuoteWat::Wat(wast::Wat::Component(_)) | QuoteWat::QuoteComponent(..)
            ) {
                continue;
            }
            let Ok(bytes) = q.encode() else { continue };
            let r = std::panic::catch_unwind(|| weld::component::flatten(&bytes));
            match r {
                Err(_) => panic!("flattening panicked on a component in {}", file.display()),
                Ok(Ok(_)) => ok += 1,
                Ok(Err(weld::Error::Invalid { .. })) => invalid += 1,
                Ok(Err(e)) => {
                    refused += 1;
                    let msg = e.to_string();
                    let key: String = msg.chars().take(90).collect();
                    *reasons.entry(key).or_default() += 1;
                }
            }
        }
    }
    eprintln!("flattened {ok}, refused {refused}, invalid {invalid}");
    for (r, n) in &reasons {
        eprintln!("  {n:4} {r}");
    }
    assert!(ok > 100, "too few components flattened: {ok}");
}
