//! The hostile-input campaign's loop: cases in order, a tally per entry point, and each finding
//! minimised and recorded in `fuzz/divergences/hostile-<case>/` (the files, the command, what
//! happened) so it can be replayed and turned into a test.

use super::{case, mutate, run, Case, Entry, Finding, Seed, Verdict};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Counts per entry point.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Cases run.
    pub cases: u64,
    /// Cases refused cleanly (the rest of those without findings succeeded).
    pub refused: u64,
    /// Cases that gave a finding.
    pub findings: u64,
    /// Cases that could not be judged (code that ran out of time, a case that could not be set
    /// up).
    pub inconclusive: u64,
}

/// Run cases `first..first + n`; the counts per entry point.
pub fn campaign(
    weld: &Path,
    seeds: &[Seed],
    first: u64,
    n: u64,
    out: &Path,
) -> BTreeMap<String, Counts> {
    let work = std::env::temp_dir().join(format!("weld-hostile-{}", std::process::id()));
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let began = Instant::now();
    for i in first..first.saturating_add(n) {
        let Some(c) = case(seeds, i) else { continue };
        let entry = counts.entry(c.entry.name()).or_default();
        entry.cases += 1;
        match run(weld, &work, &c) {
            Verdict::Fine => {}
            Verdict::Refused => entry.refused += 1,
            Verdict::Inconclusive(why) => {
                entry.inconclusive += 1;
                println!("  case {i}: {}: inconclusive: {why}", c.entry.name());
            }
            Verdict::Finding(f) => {
                entry.findings += 1;
                println!("  case {i}: {} on {}: {f}", c.entry.name(), c.damaged.1);
                record(weld, &work, i, &c, &f, out);
            }
        }
        let done = i + 1 - first;
        if done.is_multiple_of(500) || done == n {
            let findings: u64 = counts.values().map(|c| c.findings).sum();
            println!(
                "[hostile] {done}/{n}: {findings} findings ({:.1} cases/s)",
                done as f64 / began.elapsed().as_secs_f64().max(0.001)
            );
            let _ = std::io::stdout().flush();
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    counts
}

/// Minimise the damaged file of a finding (keeping the same class) and write it out.
fn record(weld: &Path, work: &Path, n: u64, c: &Case, f: &Finding, out: &Path) {
    let mut c = c.clone();
    // Hangs cost a full timeout per attempt: record them as they are.
    if !matches!(f, Finding::Hang) {
        if let Some(at) = c.files.iter().position(|(name, _)| *name == c.damaged.0) {
            let original = c.files[at].1.clone();
            let class = f.class();
            let min = mutate::minimise(&original, 150, |candidate| {
                let mut t = c.clone();
                t.files[at].1 = candidate.to_vec();
                matches!(run(weld, work, &t), Verdict::Finding(g) if g.class() == class)
            });
            c.files[at].1 = min;
        }
    }
    let dir = out.join(format!("hostile-{n}"));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    for (name, bytes) in &c.files {
        let _ = std::fs::write(dir.join(name), bytes);
    }
    let args: Vec<String> = c.args.iter().map(|a| shell_quote(a)).collect();
    let _ = std::fs::write(
        dir.join("finding.txt"),
        format!(
            "{f}\nentry: {}\ndamaged: {} from {}\nreplay (in this directory): weld {}\n",
            c.entry.name(),
            c.damaged.0,
            c.damaged.1,
            args.join(" ")
        ),
    );
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The counts as the closing table: one row per entry point, then the total.
pub fn table(counts: &BTreeMap<String, Counts>) -> String {
    let mut s = String::from(
        "| entry point | cases | refused cleanly | findings | inconclusive |\n|---|---|---|---|---|\n",
    );
    let mut total = Counts::default();
    let row = |name: &str, c: &Counts| {
        format!(
            "| {name} | {} | {} | {} | {} |\n",
            c.cases, c.refused, c.findings, c.inconclusive
        )
    };
    for (name, c) in counts {
        s += &row(&format!("`weld {name}`"), c);
        total.cases += c.cases;
        total.refused += c.refused;
        total.findings += c.findings;
        total.inconclusive += c.inconclusive;
    }
    s += &row("total", &total);
    s
}

/// Every entry point appears in a campaign of at least `Entry::ALL.len()` cases.
pub fn covers_every_entry(counts: &BTreeMap<String, Counts>) -> bool {
    Entry::ALL.iter().all(|e| counts.contains_key(&e.name()))
}
