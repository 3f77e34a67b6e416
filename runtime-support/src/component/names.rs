//! Import and export names up to semver compatibility: `wasi:cli/stdout@0.2.6#get-stdout` and
//! `wasi:cli/stdout@0.2.0#get-stdout` name the same function, as they do for Wasmtime.
//!
//! [`normalize`] rewrites the version of a name's interface to the part that semver says must
//! match: `@0.MINOR` for `0.x` versions, `@MAJOR` from `1.0` on. Pre-release and build versions
//! (`0.2.0-rc-2023-11-10`) are kept exactly: they promise no compatibility. Host import lookup,
//! host resource drop callbacks and the command runner's export lookup all go through it.

use alloc::borrow::Cow;
use alloc::string::String;

/// `name` with its `@version` (which ends at `#` or at the end) cut to its compatible prefix.
pub fn normalize(name: &str) -> Cow<'_, str> {
    let Some(at) = name.find('@') else {
        return Cow::Borrowed(name);
    };
    let end = name[at..].find('#').map_or(name.len(), |i| at + i);
    let version = &name[at + 1..end];
    let mut parts = version.split('.');
    let (Some(major), Some(minor), Some(patch), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Cow::Borrowed(name);
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(numeric(major) && numeric(minor) && numeric(patch)) {
        // Pre-release, build metadata or not semver at all: exact match only.
        return Cow::Borrowed(name);
    }
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    if zero(major) && zero(minor) {
        // 0.0.x: every patch is a breaking change.
        return Cow::Borrowed(name);
    }
    // Built by hand, not with `format!`: this runs for every host function at start-up.
    let mut out = String::with_capacity(name.len());
    out.push_str(&name[..=at]);
    out.push_str(major);
    if zero(major) {
        out.push('.');
        out.push_str(minor);
    }
    out.push_str(&name[end..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn every_0_2_patch_version_normalises_to_0_2() {
        for v in ["0.2.0", "0.2.6", "0.2.12", "0.2.100"] {
            let name = alloc::format!("wasi:cli/stdout@{v}#get-stdout");
            assert_eq!(normalize(&name), "wasi:cli/stdout@0.2#get-stdout");
        }
        assert_eq!(normalize("wasi:cli/run@0.2.3#run"), "wasi:cli/run@0.2#run");
        assert_eq!(normalize("wasi:io/streams@0.2.1"), "wasi:io/streams@0.2");
    }

    #[test]
    fn registered_short_versions_and_unversioned_names_stay_as_they_are() {
        assert_eq!(
            normalize("wasi:cli/stdout@0.2#get-stdout"),
            "wasi:cli/stdout@0.2#get-stdout"
        );
        assert_eq!(normalize("f"), "f");
        assert_eq!(normalize("a:b/c#[method]r.m"), "a:b/c#[method]r.m");
    }

    #[test]
    fn other_minor_and_major_versions_stay_distinct() {
        assert_eq!(normalize("wasi:x/y@0.3.1#f"), "wasi:x/y@0.3#f");
        assert_eq!(normalize("a:b/c@1.4.2#f"), "a:b/c@1#f");
        assert_eq!(normalize("a:b/c@0.0.3#f"), "a:b/c@0.0.3#f");
    }

    #[test]
    fn prerelease_versions_match_only_exactly() {
        let rc = "wasi:cli/stdout@0.2.0-rc-2023-11-10#get-stdout";
        assert_eq!(normalize(rc), rc);
    }
}
