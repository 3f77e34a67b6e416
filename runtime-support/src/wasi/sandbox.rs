//! Path resolution inside a preopened directory, component by component.
//!
//! A guest path is resolved relative to a directory descriptor, which is a position inside a
//! preopen's root (a list of plain names, never `..` or a symlink). The rules:
//! - an absolute path is refused (`not-permitted`), as is an empty one (`no-entry`) and one
//!   with a NUL byte (`invalid`);
//! - `.` is skipped; `..` goes up one name, and going above the root is refused
//!   (`not-permitted`) — even if the path comes back down (`../root/x`);
//! - each name that is a symlink (every name but the last, and the last too when the operation
//!   follows symlinks) is replaced by its target's names, which then follow the same rules: a
//!   relative target may not climb out of the root, an absolute target is refused
//!   (`not-permitted`); more than [`MAX_SYMLINKS`] expansions give `loop`.
//!
//! The result is a list of names under the root with no symlink before the last one, so the
//! host path `root/names...` cannot leave the root — unless the host changes the tree between
//! resolution and use (a race this path-based design accepts).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Most symlink expansions in one resolution.
pub const MAX_SYMLINKS: u32 = 40;

/// Why a path cannot be resolved: a `wasi:filesystem` `error-code` case name.
pub type Refusal = &'static str;

/// `root/names...`.
pub fn host_path(root: &Path, names: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(names);
    p
}

/// Resolve guest `path` against directory `base` (names under `root`); `follow_last` says
/// whether a symlink in the last position is followed. The names of the result under `root`.
pub fn resolve(
    root: &Path,
    base: &[OsString],
    path: &str,
    follow_last: bool,
) -> Result<Vec<OsString>, Refusal> {
    if path.is_empty() {
        return Err("no-entry");
    }
    if path.contains('\0') {
        return Err("invalid");
    }
    if path.starts_with('/') {
        return Err("not-permitted");
    }
    let mut queue: VecDeque<String> = split(path);
    let mut names: Vec<OsString> = base.to_vec();
    let mut expansions = 0;
    while let Some(name) = queue.pop_front() {
        if name == ".." {
            names.pop().ok_or("not-permitted")?;
            continue;
        }
        let last = queue.is_empty();
        names.push(OsString::from(&name));
        if last && !follow_last {
            break;
        }
        let here = host_path(root, &names);
        let is_link = std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            continue;
        }
        expansions += 1;
        if expansions > MAX_SYMLINKS {
            return Err("loop");
        }
        let target = std::fs::read_link(&here).map_err(|_| "io")?;
        let target = target.to_str().ok_or("illegal-byte-sequence")?;
        if target.starts_with('/') {
            return Err("not-permitted");
        }
        names.pop();
        for (i, n) in split(target).into_iter().enumerate() {
            queue.insert(i, n);
        }
    }
    Ok(names)
}

/// The names of a relative path, without empty names and `.`.
fn split(path: &str) -> VecDeque<String> {
    path.split('/')
        .filter(|n| !n.is_empty() && *n != ".")
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use std::ffi::OsString;
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    /// A fresh directory under the system's temporary directory, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> TempDir {
            use core::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(alloc::format!("weld-wasi-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `outside/secret`, `outside/root/{a/b/file, link-up -> ../.., link-abs -> /,
    /// link-in -> a/b, link-loop -> link-loop}`; the root is `outside/root`.
    fn tree() -> (TempDir, PathBuf) {
        let t = TempDir::new("sandbox");
        let root = t.0.join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/file"), "x").unwrap();
        std::fs::write(t.0.join("secret"), "s").unwrap();
        symlink("../..", root.join("a/link-up")).unwrap();
        symlink("/", root.join("link-abs")).unwrap();
        symlink(t.0.join("secret"), root.join("link-secret")).unwrap();
        symlink("a/b", root.join("link-in")).unwrap();
        symlink("link-loop", root.join("link-loop")).unwrap();
        symlink("../secret", root.join("link-out")).unwrap();
        (t, root)
    }

    fn names(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn ok(root: &std::path::Path, path: &str) -> Vec<String> {
        resolve(root, &[], path, true)
            .unwrap()
            .iter()
            .map(|n| n.to_str().unwrap().to_string())
            .collect()
    }

    use alloc::string::String;

    #[test]
    fn nested_paths_and_inner_dot_dots_stay_allowed() {
        let (_t, root) = tree();
        assert_eq!(ok(&root, "a/b/file"), ["a", "b", "file"]);
        assert_eq!(ok(&root, "./a//b/../b/./file"), ["a", "b", "file"]);
        assert_eq!(ok(&root, "a/.."), Vec::<String>::new());
        assert_eq!(ok(&root, "link-in/file"), ["a", "b", "file"]);
        let from_b = resolve(&root, &names(&["a", "b"]), "../../a", true).unwrap();
        assert_eq!(from_b, names(&["a"]));
        // Names that do not exist yet resolve too (for creating them).
        assert_eq!(ok(&root, "a/new"), ["a", "new"]);
    }

    #[test]
    fn dot_dot_above_the_root_is_refused_even_when_it_comes_back() {
        let (_t, root) = tree();
        for p in ["..", "../secret", "a/../../secret", "../root/a"] {
            assert_eq!(resolve(&root, &[], p, true), Err("not-permitted"), "{p}");
        }
        let from_a = resolve(&root, &names(&["a"]), "../..", true);
        assert_eq!(from_a, Err("not-permitted"));
    }

    #[test]
    fn absolute_paths_are_refused() {
        let (_t, root) = tree();
        let abs = root.join("a").to_str().unwrap().to_string();
        assert_eq!(resolve(&root, &[], &abs, true), Err("not-permitted"));
        assert_eq!(
            resolve(&root, &[], "/etc/passwd", true),
            Err("not-permitted")
        );
    }

    #[test]
    fn symlinks_that_leave_the_root_are_refused() {
        let (_t, root) = tree();
        for p in [
            "a/link-up",
            "a/link-up/secret",
            "link-abs/etc",
            "link-secret",
            "link-out",
        ] {
            assert_eq!(resolve(&root, &[], p, true), Err("not-permitted"), "{p}");
        }
        // Not following the last name leaves the link itself, which is inside.
        assert_eq!(
            resolve(&root, &[], "link-out", false),
            Ok(names(&["link-out"]))
        );
        // But a link in the middle is always followed.
        assert_eq!(
            resolve(&root, &[], "a/link-up/x", false),
            Err("not-permitted")
        );
        assert_eq!(resolve(&root, &[], "link-loop", true), Err("loop"));
    }

    #[test]
    fn empty_and_nul_paths_are_refused() {
        let (_t, root) = tree();
        assert_eq!(resolve(&root, &[], "", true), Err("no-entry"));
        assert_eq!(resolve(&root, &[], "a\0b", true), Err("invalid"));
    }
}
