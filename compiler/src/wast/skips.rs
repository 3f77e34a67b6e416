//! The reviewed skip list.
//!
//! One entry per line: `PATH[:LINE] -- reason`. `PATH` is matched against the end of a script's
//! path (e.g. `core/simd/simd_lane.wast`), or, when it ends with `/`, names a whole folder; with
//! `:LINE` the entry covers the directive that starts on that line, without it the whole file.
//! Lines starting with `#` are comments.
//!
//! Rules that keep the list honest: a directive covered by a line entry that *passes* is a
//! failure ("stale skip"); a whole-file entry under which every directive passes is reported as
//! stale at the end of the run; an entry that never matches a script that was run is ignored
//! (so running a subset of the suite works).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
struct Entry {
    reason: String,
    /// Directives under this entry that still failed (and were skipped).
    failing: u64,
    /// Whether a script this entry names was run.
    seen: bool,
}

/// Entries by (path, line).
type Entries = BTreeMap<(String, Option<u32>), Entry>;

/// The loaded list; cheap to share between threads.
#[derive(Debug, Default, Clone)]
pub struct SkipList {
    entries: Arc<Mutex<Entries>>,
}

/// What the list says about one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not listed.
    Run,
    /// Listed by line: must fail.
    LineSkip(String),
    /// Inside a listed file.
    FileSkip(String),
}

impl SkipList {
    /// Read a list.
    pub fn load(path: &Path) -> anyhow::Result<SkipList> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading skip list {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parse the text of a list.
    pub fn parse(text: &str) -> anyhow::Result<SkipList> {
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (what, reason) = line.split_once(" -- ").ok_or_else(|| {
                anyhow::anyhow!("line {}: expected `PATH[:LINE] -- reason`", n + 1)
            })?;
            let what = what.trim();
            let (path, lineno) =
                match what.rsplit_once(':') {
                    Some((p, l)) => (
                        p.to_string(),
                        Some(l.parse::<u32>().map_err(|_| {
                            anyhow::anyhow!("line {}: bad line number {l:?}", n + 1)
                        })?),
                    ),
                    None => (what.to_string(), None),
                };
            entries.insert(
                (path, lineno),
                Entry {
                    reason: reason.trim().to_string(),
                    failing: 0,
                    seen: false,
                },
            );
        }
        Ok(SkipList {
            entries: Arc::new(Mutex::new(entries)),
        })
    }

    /// A handle to the same list.
    pub fn clone_handle(&self) -> SkipList {
        self.clone()
    }

    fn key_for(&self, file: &Path, line: Option<u32>) -> Option<(String, Option<u32>)> {
        let file = file.to_string_lossy().replace('\\', "/");
        let entries = self.entries.lock().ok()?;
        entries
            .keys()
            .find(|(p, l)| {
                *l == line
                    && (file == *p
                        || file.ends_with(&format!("/{p}"))
                        || (p.ends_with('/')
                            && (file.starts_with(p.as_str()) || file.contains(&format!("/{p}")))))
            })
            .cloned()
    }

    /// What to do with the directive starting at `line` (1-based) of `file`.
    pub fn verdict(&self, file: &Path, line: u32) -> Verdict {
        if let Some(k) = self.key_for(file, Some(line)) {
            if let Ok(mut e) = self.entries.lock() {
                if let Some(entry) = e.get_mut(&k) {
                    entry.seen = true;
                    return Verdict::LineSkip(entry.reason.clone());
                }
            }
        }
        if let Some(k) = self.key_for(file, None) {
            if let Ok(mut e) = self.entries.lock() {
                if let Some(entry) = e.get_mut(&k) {
                    entry.seen = true;
                    return Verdict::FileSkip(entry.reason.clone());
                }
            }
        }
        Verdict::Run
    }

    /// Record that a skipped directive still fails.
    pub fn record_failure(&self, file: &Path, line: u32) {
        let key = self
            .key_for(file, Some(line))
            .or_else(|| self.key_for(file, None));
        if let (Some(k), Ok(mut e)) = (key, self.entries.lock()) {
            if let Some(entry) = e.get_mut(&k) {
                entry.failing += 1;
            }
        }
    }

    /// Whole-file entries whose scripts ran without any failing directive.
    pub fn unused_entries(&self) -> Vec<String> {
        let Ok(e) = self.entries.lock() else {
            return vec![];
        };
        e.iter()
            .filter(|((_, line), entry)| line.is_none() && entry.seen && entry.failing == 0)
            .map(|((p, _), _)| p.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_entries_take_precedence_over_file_entries() {
        let l = SkipList::parse("core/a.wast -- gc\ncore/a.wast:7 -- tail calls\n").expect("parse");
        let f = Path::new("/x/testsuite/core/a.wast");
        assert_eq!(l.verdict(f, 7), Verdict::LineSkip("tail calls".into()));
        assert_eq!(l.verdict(f, 8), Verdict::FileSkip("gc".into()));
        assert_eq!(l.verdict(Path::new("/x/core/b.wast"), 7), Verdict::Run);
    }

    #[test]
    fn a_listed_file_where_nothing_fails_is_reported_stale() {
        let l = SkipList::parse("core/a.wast -- gc\n").expect("parse");
        let f = Path::new("core/a.wast");
        let _ = l.verdict(f, 1);
        assert_eq!(l.unused_entries(), vec!["core/a.wast".to_string()]);
        l.record_failure(f, 1);
        assert!(l.unused_entries().is_empty());
    }

    #[test]
    fn malformed_lines_are_rejected() {
        assert!(SkipList::parse("core/a.wast no reason\n").is_err());
        assert!(SkipList::parse("core/a.wast:x -- r\n").is_err());
    }
}
