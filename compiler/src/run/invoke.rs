//! Which export `weld run --invoke NAME(...)` calls, found as `wasmtime run --invoke` finds it.
//!
//! In: the name as written and the component's exported function names as weld flattens them
//! (`f` for a function of the component itself, `ns:pkg/iface@1.0.0#f` for one of an exported
//! interface). Out: the export to call, or Wasmtime's error text. Accepted, first match wins:
//! - the flattened name itself;
//! - Wasmtime's spelling of an interface function, `[ns:pkg/]iface.f[@version]`;
//! - a bare `f` naming exactly one function of the exported interfaces (one level deep, as
//!   Wasmtime searches); two or more are ambiguous, and the error lists the spellings that
//!   are not.

/// The flattened export name `wanted` refers to among `exports`.
pub fn resolve(exports: &[&str], wanted: &str) -> Result<String, String> {
    if exports.contains(&wanted) {
        return Ok(wanted.to_string());
    }
    let not_found = || format!("No exported func named `{wanted}` in component.");
    if let Some(flat) = flattened(wanted) {
        return match exports.iter().find(|e| **e == flat) {
            Some(e) => Ok(e.to_string()),
            None => Err(not_found()),
        };
    }
    if wanted.contains(['#', '/', ':', '@']) {
        return Err(not_found());
    }
    let found: Vec<&str> = exports
        .iter()
        .copied()
        .filter(|e| e.split_once('#').is_some_and(|(_, f)| f == wanted))
        .collect();
    match found.as_slice() {
        [] => Err(not_found()),
        [one] => Ok(one.to_string()),
        many => {
            let spelled: Vec<String> = many
                .iter()
                .map(|e| format!("`{}`", wasmtime_spelling(e)))
                .collect();
            Err(format!(
                "Multiple instances contained funcs named `{wanted}`, retry with a more specific name: {}",
                spelled.join(", ")
            ))
        }
    }
}

/// `[ns:pkg/]iface.f[@version]` as weld flattens it: `[ns:pkg/]iface[@version]#f`. `None` for a
/// name without an interface part, such as `f` or a resource function `[method]r.m` (an
/// interface name never starts with `[`).
fn flattened(wanted: &str) -> Option<String> {
    if wanted.starts_with('[') {
        return None;
    }
    let (path, version) = match wanted.rsplit_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (wanted, None),
    };
    let (iface, func) = path.split_once('.')?;
    if iface.is_empty() || func.is_empty() {
        return None;
    }
    Some(match version {
        Some(v) => format!("{iface}@{v}#{func}"),
        None => format!("{iface}#{func}"),
    })
}

/// A flattened export name in Wasmtime's `ns:pkg/iface.f@version` spelling.
fn wasmtime_spelling(flat: &str) -> String {
    let Some((iface, func)) = flat.split_once('#') else {
        return flat.to_string();
    };
    match iface.split_once('@') {
        Some((path, version)) => format!("{path}.{func}@{version}"),
        None => format!("{iface}.{func}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORTS: &[&str] = &[
        "run",
        "example:text/transform@0.1.0#upper",
        "example:text/transform@0.1.0#[method]builder.append",
        "example:text/classify@0.1.0#count",
        "other:pkg/counts#count",
        "local#lower",
    ];

    #[test]
    fn a_flattened_name_is_taken_as_it_is() {
        for e in EXPORTS {
            assert_eq!(resolve(EXPORTS, e).as_deref(), Ok(*e));
        }
    }

    #[test]
    fn a_bare_name_finds_the_one_interface_function_of_that_name() {
        assert_eq!(
            resolve(EXPORTS, "upper").as_deref(),
            Ok("example:text/transform@0.1.0#upper")
        );
        assert_eq!(resolve(EXPORTS, "lower").as_deref(), Ok("local#lower"));
        assert_eq!(
            resolve(EXPORTS, "[method]builder.append").as_deref(),
            Ok("example:text/transform@0.1.0#[method]builder.append")
        );
    }

    #[test]
    fn wasmtimes_interface_spelling_is_understood() {
        assert_eq!(
            resolve(EXPORTS, "example:text/transform.upper@0.1.0").as_deref(),
            Ok("example:text/transform@0.1.0#upper")
        );
        assert_eq!(
            resolve(EXPORTS, "local.lower").as_deref(),
            Ok("local#lower")
        );
        assert_eq!(
            resolve(EXPORTS, "other:pkg/counts.count").as_deref(),
            Ok("other:pkg/counts#count")
        );
    }

    #[test]
    fn an_ambiguous_bare_name_lists_the_specific_spellings() {
        assert_eq!(
            resolve(EXPORTS, "count"),
            Err(
                "Multiple instances contained funcs named `count`, retry with a more specific \
                 name: `example:text/classify.count@0.1.0`, `other:pkg/counts.count`"
                    .to_string()
            )
        );
    }

    #[test]
    fn an_unknown_name_is_not_found_whatever_its_spelling() {
        for name in [
            "nope",
            "transform.nope@0.1.0",
            "example:text/transform.upper@9.9.9",
            "a#b",
        ] {
            assert_eq!(
                resolve(EXPORTS, name),
                Err(format!("No exported func named `{name}` in component."))
            );
        }
    }
}
