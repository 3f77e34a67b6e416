//! Build-time policies: rules about which component instance may reach which other instance
//! and which host interfaces, checked against the flattened graph (`weld check`,
//! `weld compile --policy`).
//!
//! In: a `policy.toml` (format below, also in the README) and a component's
//! [`Graph`](crate::inspect::graph::Graph). Out: `Ok` or an
//! [`Error::Policy`](crate::error::Error::Policy) whose one line names the rule and the path
//! that breaks it.
//!
//! ```toml
//! [[rule]]
//! component = "logic"                      # whom the rule is about (a selector, below)
//! deny-reach = ["pii-store"]               # must not reach these, directly or transitively
//! deny-host = ["wasi:sockets/*", "wasi:filesystem/*"]   # nor these host interfaces
//!
//! [[rule]]
//! component = "app"
//! allow-reach = ["logic"]                  # may reach only these instances (deny wins)
//! allow-host = ["wasi:cli/*"]              # and only these host interfaces
//!
//! [[rule]]
//! component = "kotlin-*"
//! linear-memory = false                    # its core instances define no linear memory
//! gc-heap = false                          # nor allocate GC structs or arrays
//! ```
//!
//! A *selector* is a glob (`*` any run of characters, `?` one) matched against an instance's
//! path (`app/inner`), its name in its parent, or the name of its component definition;
//! `exports:<glob>` selects the instances exporting a matching name or interface, and
//! `imports:<glob>` those importing one. A selected instance stands for itself and every
//! instance nested inside it. A host pattern is a glob matched against a host interface with
//! and without its `@version` (`wasi:sockets/tcp@0.2.0`, `wasi:sockets/tcp`). A rule whose
//! `component` or `*-reach` selector matches no instance is itself an error, so a misspelt
//! name cannot pass silently.

mod check;

pub use check::check;

use crate::error::{Error, Result};

/// One `[[rule]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// Whom the rule constrains (a selector).
    pub component: String,
    /// Instances it must not reach (selectors).
    pub deny_reach: Vec<String>,
    /// If set, the only instances it may reach (selectors).
    pub allow_reach: Option<Vec<String>>,
    /// Host interfaces it must not reach (globs).
    pub deny_host: Vec<String>,
    /// If set, the only host interfaces it may reach (globs).
    pub allow_host: Option<Vec<String>>,
    /// `Some(false)`: the selected instances must define no linear memory.
    pub linear_memory: Option<bool>,
    /// `Some(false)`: the selected instances must not allocate in a GC heap.
    pub gc_heap: Option<bool>,
}

/// A parsed policy file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// The rules, in file order (numbered from 1 in messages).
    pub rules: Vec<Rule>,
}

fn strings(v: &toml::Value, what: &str) -> Result<Vec<String>> {
    let bad = || Error::Policy(format!("{what} must be a list of strings"));
    v.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|s| s.as_str().map(str::to_string).ok_or_else(bad))
        .collect()
}

impl Policy {
    /// Parse a policy from TOML text. Unknown keys are errors (a typo must not weaken a rule).
    pub fn parse(text: &str) -> Result<Policy> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::Policy(one_line(&e.to_string())))?;
        let mut rules = Vec::new();
        for (key, value) in &table {
            if key != "rule" {
                return Err(Error::Policy(format!(
                    "unknown key {key:?} (expected [[rule]] tables)"
                )));
            }
            let list = value.as_array().ok_or_else(|| {
                Error::Policy("`rule` must be an array of tables ([[rule]])".into())
            })?;
            for (n, r) in list.iter().enumerate() {
                rules.push(Self::rule(n + 1, r)?);
            }
        }
        Ok(Policy { rules })
    }

    fn rule(n: usize, v: &toml::Value) -> Result<Rule> {
        let t = v
            .as_table()
            .ok_or_else(|| Error::Policy(format!("rule {n} must be a table")))?;
        let mut rule = Rule::default();
        let mut has_constraint = false;
        for (key, value) in t {
            let what = format!("rule {n}: `{key}`");
            match key.as_str() {
                "component" => {
                    rule.component = value
                        .as_str()
                        .ok_or_else(|| Error::Policy(format!("{what} must be a string")))?
                        .to_string()
                }
                "deny-reach" => rule.deny_reach = strings(value, &what)?,
                "allow-reach" => rule.allow_reach = Some(strings(value, &what)?),
                "deny-host" => rule.deny_host = strings(value, &what)?,
                "allow-host" => rule.allow_host = Some(strings(value, &what)?),
                "linear-memory" => rule.linear_memory = Some(flag(value, &what)?),
                "gc-heap" => rule.gc_heap = Some(flag(value, &what)?),
                _ => {
                    return Err(Error::Policy(format!(
                        "rule {n}: unknown key {key:?} (expected component, deny-reach, \
                         allow-reach, deny-host, allow-host, linear-memory, gc-heap)"
                    )))
                }
            }
            has_constraint |= key != "component";
        }
        if rule.component.is_empty() {
            return Err(Error::Policy(format!("rule {n}: missing `component`")));
        }
        if !has_constraint {
            return Err(Error::Policy(format!(
                "rule {n}: no constraint (give deny-reach, allow-reach, deny-host, allow-host, \
                 linear-memory or gc-heap)"
            )));
        }
        Ok(rule)
    }
}

/// A storage constraint: only `false` (must not have it) means anything.
fn flag(v: &toml::Value, what: &str) -> Result<bool> {
    match v.as_bool() {
        Some(false) => Ok(false),
        Some(true) => Err(Error::Policy(format!(
            "{what} = true constrains nothing (write false to forbid it)"
        ))),
        None => Err(Error::Policy(format!("{what} must be false"))),
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` matches `pattern`: `*` matches any run of characters, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear-ish, never recursive.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_interfaces_with_stars_and_question_marks() {
        assert!(glob("wasi:sockets/*", "wasi:sockets/tcp@0.2.0"));
        assert!(glob("*store", "pii-store"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("wasi:sockets/*", "wasi:socketsx/tcp"));
        assert!(!glob("logic", "logic2"));
        assert!(glob("*", ""));
    }

    #[test]
    fn a_policy_with_an_unknown_key_is_refused() {
        let e = Policy::parse("[[rule]]\ncomponent = \"a\"\ndeny-reahc = [\"b\"]\n");
        assert!(matches!(e, Err(Error::Policy(m)) if m.contains("deny-reahc")));
    }

    #[test]
    fn a_rule_without_a_constraint_is_refused() {
        let e = Policy::parse("[[rule]]\ncomponent = \"a\"\n");
        assert!(matches!(e, Err(Error::Policy(m)) if m.contains("no constraint")));
    }

    #[test]
    fn malformed_toml_is_one_line_error() {
        match Policy::parse("[[rule]\n") {
            Err(Error::Policy(m)) => assert!(!m.contains('\n'), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
