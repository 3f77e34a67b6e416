//! ARCHITECTURE.md names only paths that exist: every backticked path in it (`compiler/src/`,
//! `inline.rs`, `component/abi.rs`...) must be a file or folder of the repository, written from
//! the root or as the tail of one (a file named inside its folder's bullet). Build outputs
//! (`target/...`) are not files of the repository and are left out.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "build" {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            out.push(format!("{rel}/"));
            files(&path, root, out);
        } else {
            out.push(rel);
        }
    }
}

/// Backticked words that look like paths: a `/`, or a file name with a source extension.
fn named_paths(text: &str) -> Vec<String> {
    let exts = [".rs", ".md", ".toml", ".txt", ".c", ".h", ".wat", ".wast"];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains(' ') && !w.contains("::") && !w.contains('<'))
        .filter(|w| w.contains('/') || exts.iter().any(|e| w.ends_with(e)))
        .filter(|w| !w.starts_with('/') && !w.contains('*') && !w.contains(':'))
        // An extension alone (`.wast`), or a build output under `target/`.
        .filter(|w| !w.starts_with('.') && !w.starts_with("target/"))
        .map(String::from)
        .collect()
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut all = Vec::new();
    files(&root, &root, &mut all);
    let named = named_paths(&text);
    assert!(named.len() > 50, "the document names paths: {named:?}");
    let missing: Vec<&String> = named
        .iter()
        .filter(|p| {
            !all.iter()
                .any(|f| f == *p || f.ends_with(&format!("/{p}")) || f.ends_with(&format!("/{p}/")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
