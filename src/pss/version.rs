//! Pod Security Standards policy versions (`pod-security.kubernetes.io/*-version`).
//!
//! A policy version is a Kubernetes minor, `v1.<minor>`. Upstream clamps any
//! version newer than its newest registered check revision down to that
//! revision, and `latest` means exactly that newest revision; we do the same
//! with [`Version::LATEST`].

use std::fmt;

/// Kubernetes `1.<minor>`, the version whose Pod Security Standards apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub minor: u32,
}

impl Version {
    /// What to say once when `asked` was newer than harden knows and this
    /// version is used instead.
    pub fn clamped_note(self, asked: &str) -> String {
        format!("PSS version {asked} is newer than harden knows; using {self}")
    }

    /// The newest policy version we know (upstream's `sysctls` gained a 1.37
    /// revision, so `latest` resolves to v1.37).
    pub const LATEST: Version = Version { minor: 37 };

    pub const fn new(minor: u32) -> Self {
        Version { minor }
    }

    /// Parse `latest`, `v1.29`, `1.29`, `1.29.3` or `v1.29.3+k3s1` (anything after a
    /// `+` or `-`, such as a build or distribution suffix, is ignored). A minor
    /// newer than [`Version::LATEST`] is clamped to it and reported with
    /// `clamped = true`, so the caller can say so once.
    pub fn parse(s: &str) -> Result<(Version, bool), String> {
        let text = s.trim();
        if text.eq_ignore_ascii_case("latest") {
            return Ok((Version::LATEST, false));
        }
        let bad = || {
            format!(
                "{} is not a Kubernetes version; expected \"latest\" or a version such as \"v1.29\", \"1.29\" or \"v1.29.3\".",
                quote(s)
            )
        };
        let bare = text.strip_prefix('v').or_else(|| text.strip_prefix('V')).unwrap_or(text);
        // Drop build metadata and distribution suffixes: `1.29.3+k3s1`, `1.29.3-eks-1`, `1.29+`.
        let core = bare.split(['+', '-']).next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        if !(2..=3).contains(&parts.len())
            || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        if parts[0].trim_start_matches('0') != "1" {
            return Err(format!(
                "{} is not a Kubernetes 1.x version; Pod Security Standards are defined for v1.0 to {}.",
                quote(s),
                Version::LATEST
            ));
        }
        let minor: u32 = parts[1].parse().map_err(|_| bad())?;
        if minor > Version::LATEST.minor {
            return Ok((Version::LATEST, true));
        }
        Ok((Version { minor }, false))
    }
}

impl Default for Version {
    fn default() -> Self {
        Version::LATEST
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{}", self.minor)
    }
}

/// Quote user input for an error message without letting control characters through.
fn quote(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (u32, bool) {
        let (v, clamped) = Version::parse(s).expect(s);
        (v.minor, clamped)
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ok("latest"), (37, false));
        assert_eq!(ok("LATEST"), (37, false));
        assert_eq!(ok("v1.29"), (29, false));
        assert_eq!(ok("1.29"), (29, false));
        assert_eq!(ok("1.29.3"), (29, false));
        assert_eq!(ok("v1.29.3+k3s1"), (29, false));
        assert_eq!(ok("v1.30.2-eks-1552ad0"), (30, false));
        assert_eq!(ok(" v1.0 "), (0, false));
        assert_eq!(ok("v1.37"), (37, false));
    }

    #[test]
    fn newer_minors_clamp() {
        assert_eq!(ok("v1.38"), (37, true));
        assert_eq!(ok("1.99.1"), (37, true));
    }

    #[test]
    fn rejects_garbage_with_a_sentence() {
        for s in ["", "v1", "1", "v1.x", "1.2.3.4", "v2.0", "0.9", "1..2", "v1.29.x", "v1.99999999999"] {
            let e = Version::parse(s).expect_err(s);
            assert!(e.ends_with('.'), "{s}: {e}");
            assert!(e.contains(&format!("{s:?}")), "{s}: {e}");
        }
    }

    #[test]
    fn display_and_order() {
        assert_eq!(Version::new(25).to_string(), "v1.25");
        assert!(Version::new(24) < Version::new(25));
        assert_eq!(Version::default(), Version::LATEST);
    }
}
