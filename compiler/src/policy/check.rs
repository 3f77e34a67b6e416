//! Checking a [`Policy`] against a component graph: resolve every selector to instances, then
//! test each constrained instance's reachability. The first broken rule (in rule order, then
//! instance order, then target order) is reported with the path that breaks it.

use super::{glob, Policy, Rule};
use crate::error::{Error, Result};
use crate::inspect::graph::{interface_of, Graph, Target};

/// The instances a selector names directly (before taking nested instances in).
fn select(g: &Graph, selector: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, n) in g.instances.iter().enumerate() {
        let m = &n.names;
        let names_match = |pat: &str, names: &[String]| {
            names
                .iter()
                .any(|x| glob(pat, x) || glob(pat, interface_of(x)) || glob(pat, unversioned(x)))
        };
        let hit = if let Some(pat) = selector.strip_prefix("exports:") {
            names_match(pat, &m.exports)
        } else if let Some(pat) = selector.strip_prefix("imports:") {
            names_match(pat, &m.imports)
        } else {
            glob(selector, &n.path)
                || glob(selector, &m.name)
                || m.definition.as_deref().is_some_and(|d| glob(selector, d))
        };
        if hit {
            out.push(i as u32);
        }
    }
    out
}

/// `wasi:sockets/tcp` of `wasi:sockets/tcp@0.2.0` (and of `wasi:sockets/tcp@0.2.0#connect`).
fn unversioned(name: &str) -> &str {
    let iface = interface_of(name);
    iface.split_once('@').map_or(iface, |(i, _)| i)
}

/// Whether instance `i` is one of `roots` or nested inside one.
fn within(g: &Graph, i: u32, roots: &[u32]) -> bool {
    roots.iter().any(|r| g.is_within(i, *r))
}

/// Resolve a selector, refusing one that selects nothing.
fn resolve(g: &Graph, n: usize, selector: &str) -> Result<Vec<u32>> {
    let found = select(g, selector);
    if found.is_empty() {
        let known: Vec<&str> = g.instances.iter().map(|x| x.path.as_str()).collect();
        return Err(Error::Policy(format!(
            "rule {n}: {selector:?} matches no component instance (instances: {})",
            known.join(", ")
        )));
    }
    Ok(found)
}

fn host_matches(patterns: &[String], iface: &str) -> Option<String> {
    patterns
        .iter()
        .find(|p| glob(p, iface) || glob(p, unversioned(iface)))
        .cloned()
}

/// Check `policy` against `g`; the error names the first broken rule and its path.
pub fn check(policy: &Policy, g: &Graph) -> Result<()> {
    for (k, rule) in policy.rules.iter().enumerate() {
        check_rule(g, k + 1, rule)?;
    }
    Ok(())
}

fn check_rule(g: &Graph, n: usize, rule: &Rule) -> Result<()> {
    let subjects = resolve(g, n, &rule.component)?;
    let mut denied = Vec::new();
    for s in &rule.deny_reach {
        denied.push((s, resolve(g, n, s)?));
    }
    let mut allowed = Vec::new();
    for s in rule.allow_reach.iter().flatten() {
        allowed.extend(resolve(g, n, s)?);
    }
    let head = format!("rule {n} (component {:?})", rule.component);
    for i in 0..g.instances.len() as u32 {
        if !within(g, i, &subjects) {
            continue;
        }
        let inst = &g.instances[i as usize];
        if rule.linear_memory == Some(false) && inst.storage.linear_memories > 0 {
            return Err(Error::Policy(format!(
                "{head} forbids linear memory, but {} defines {}",
                inst.path, inst.storage.linear_memories
            )));
        }
        if rule.gc_heap == Some(false) && inst.storage.gc_heap {
            return Err(Error::Policy(format!(
                "{head} forbids a GC heap, but {} allocates GC objects",
                inst.path
            )));
        }
        for (target, hops) in &g.reach(i).targets {
            let path = g.describe(hops);
            match target {
                Target::Instance(t) => {
                    if let Some((sel, _)) = denied.iter().find(|(_, set)| within(g, *t, set)) {
                        return Err(Error::Policy(format!(
                            "{head} denies reaching {sel:?}, but {path}"
                        )));
                    }
                    let own = within(g, *t, &subjects);
                    if rule.allow_reach.is_some() && !own && !within(g, *t, &allowed) {
                        return Err(Error::Policy(format!(
                            "{head} allows reaching only {:?}, but {path}",
                            rule.allow_reach.as_deref().unwrap_or_default()
                        )));
                    }
                }
                Target::Host(iface) => {
                    if let Some(p) = host_matches(&rule.deny_host, iface) {
                        return Err(Error::Policy(format!(
                            "{head} denies host {p:?}, but {path}"
                        )));
                    }
                    if let Some(allow) = &rule.allow_host {
                        if host_matches(allow, iface).is_none() {
                            return Err(Error::Policy(format!(
                                "{head} allows only host {allow:?}, but {path}"
                            )));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
