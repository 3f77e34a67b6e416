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
///
/// One pass over the bytes, allocating only when the name changes: it runs for every import of
/// a component and every host function offered at start-up (`str::find` and `split` made it a
/// sixth of an executable's start-up instructions).
pub fn normalize(name: &str) -> Cow<'_, str> {
    let b = name.as_bytes();
    let Some(at) = b.iter().position(|&c| c == b'@') else {
        return Cow::Borrowed(name);
    };
    let end = b[at..]
        .iter()
        .position(|&c| c == b'#')
        .map_or(b.len(), |i| at + i);
    let version = &b[at + 1..end];
    // MAJOR.MINOR.PATCH, each a non-empty run of digits; anything else (pre-release, build
    // metadata, not semver at all) matches exactly only.
    let mut dots = [0usize; 2];
    let mut n = 0;
    for (i, &c) in version.iter().enumerate() {
        if c == b'.' {
            if n == 2 {
                return Cow::Borrowed(name);
            }
            dots[n] = i;
            n += 1;
        } else if !c.is_ascii_digit() {
            return Cow::Borrowed(name);
        }
    }
    let [d1, d2] = dots;
    if n != 2 || d1 == 0 || d2 == d1 + 1 || d2 + 1 == version.len() {
        return Cow::Borrowed(name);
    }
    let zero = |s: &[u8]| s.iter().all(|&c| c == b'0');
    let (major, minor) = (&name[at + 1..at + 1 + d1], &name[at + 2 + d1..at + 1 + d2]);
    if zero(major.as_bytes()) && zero(minor.as_bytes()) {
        // 0.0.x: every patch is a breaking change.
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    out.push_str(&name[..=at]);
    out.push_str(major);
    if zero(major.as_bytes()) {
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

    #[test]
    fn malformed_versions_match_only_exactly() {
        for v in [
            "1..2", ".1.2", "1.2.", "1.2", "1.2.3.4", "1.x.3", "", "1.2.3+b",
        ] {
            let name = alloc::format!("a:b/c@{v}#f");
            assert_eq!(normalize(&name), name.as_str(), "{v}");
        }
    }

    #[test]
    fn names_that_are_already_normal_are_borrowed_not_copied() {
        for n in [
            "wasi:cli/stdout@0.2#get-stdout",
            "a:b/c@1#f",
            "f",
            "a:b/c@0.0.3#f",
        ] {
            assert!(
                matches!(normalize(n), alloc::borrow::Cow::Borrowed(_)),
                "{n}"
            );
        }
        assert!(matches!(
            normalize("wasi:cli/stdout@0.2.6#get-stdout"),
            alloc::borrow::Cow::Owned(_)
        ));
    }
}
