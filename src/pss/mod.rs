//! Pod Security Standards verifier: the `baseline` and `restricted` checks of
//! upstream Pod Security Admission (kubernetes/pod-security-admission,
//! `policy/check_*.go`), with their version history from v1.0 to v1.37.
//!
//! This is the oracle `harden` verifies its output against, so it follows the
//! upstream code rather than the published documentation wherever they differ:
//!
//! * each check is registered with one or more revisions, each with a minimum
//!   policy version; the newest revision at or below the requested version runs;
//! * `restricted` runs every `baseline` check except those that an active
//!   restricted revision overrides (e.g. `restrictedVolumes` replaces
//!   `hostPathVolumes`), then the restricted checks;
//! * results come out in upstream order: baseline check IDs sorted, then
//!   restricted check IDs sorted (`registry.go` sorts the IDs "to maintain
//!   consistent error messages");
//! * reasons and details are upstream's `ForbiddenReason`/`ForbiddenDetail`
//!   strings, byte for byte, so users can match them against real API server
//!   rejections.

mod checks;
mod pod;
mod version;

pub use version::Version;

use pod::Pod;
use serde_json::Value;
use std::fmt;

/// A Pod Security Standards level. `privileged` has no checks, so it is not here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Baseline,
    Restricted,
}

impl Level {
    /// The label value: `baseline` or `restricted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One offending field, for per-container reporting.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The container the field belongs to; `None` for pod-level fields.
    pub container: Option<String>,
    /// Short description of the field and value, e.g. `privileged=true`.
    pub what: String,
}

impl Finding {
    pub(crate) fn pod(what: impl Into<String>) -> Self {
        Finding { container: None, what: what.into() }
    }

    pub(crate) fn container(name: &str, what: impl Into<String>) -> Self {
        Finding { container: Some(name.to_owned()), what: what.into() }
    }
}

/// A failed check.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    /// Upstream check ID, e.g. `runAsNonRoot`, `capabilities_restricted`.
    pub check: &'static str,
    /// The level the check belongs to.
    pub level: Level,
    /// Upstream `ForbiddenReason`.
    pub reason: String,
    /// Upstream `ForbiddenDetail`.
    pub detail: String,
    /// One entry per offending container or field.
    pub findings: Vec<Finding>,
}

/// What a check function reports when the pod fails it; the registry adds the ID and level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    pub reason: String,
    pub detail: String,
    pub findings: Vec<Finding>,
}

/// Upstream `CheckPodFn`: `None` means allowed.
pub(crate) type CheckFn = fn(&Pod<'_>) -> Option<Violation>;

/// Upstream `VersionedCheck`: one revision of a check.
pub(crate) struct VersionedCheck {
    /// The first policy minor this revision applies to.
    pub since: u32,
    pub run: CheckFn,
    /// Baseline check IDs this (restricted) revision replaces.
    pub overrides: &'static [&'static str],
}

/// Upstream `Check`: an ID, a level and its revisions in increasing version order.
pub(crate) struct Check {
    pub id: &'static str,
    pub level: Level,
    pub versions: &'static [VersionedCheck],
}

impl Check {
    /// The revision in force at `version`, if the check exists yet.
    fn at(&self, version: Version) -> Option<&VersionedCheck> {
        self.versions.iter().rev().find(|v| v.since <= version.minor)
    }
}

/// The checks that run for `level` at `version`, in upstream order.
fn plan(level: Level, version: Version) -> Vec<(&'static Check, &'static VersionedCheck)> {
    let active: Vec<_> = checks::ALL
        .iter()
        .copied()
        .filter(|c| level == Level::Restricted || c.level == Level::Baseline)
        .filter_map(|c| c.at(version).map(|v| (c, v)))
        .collect();
    let overridden: Vec<&str> = active
        .iter()
        .filter(|(c, _)| c.level == Level::Restricted)
        .flat_map(|(_, v)| v.overrides.iter().copied())
        .collect();
    active.into_iter().filter(|(c, _)| !overridden.contains(&c.id)).collect()
}

/// The IDs of the checks evaluated for `level` at `version`, in upstream order.
pub fn active_checks(level: Level, version: Version) -> Vec<&'static str> {
    plan(level, version).into_iter().map(|(c, _)| c.id).collect()
}

/// Evaluate one pod against all checks of `level` (restricted includes
/// baseline, with overrides) as they stand at `version`.
///
/// `pod_metadata` is the pod (template) metadata object, if any: its
/// annotations matter for AppArmor and, before v1.19, seccomp. `pod_spec` is
/// the PodSpec. Returns only failing checks, in upstream order. Missing or
/// odd-typed fields are treated as absent; this never panics.
pub fn check_pod(pod_metadata: Option<&Value>, pod_spec: &Value, level: Level, version: Version) -> Vec<CheckResult> {
    let pod = Pod::new(pod_metadata, pod_spec);
    plan(level, version)
        .into_iter()
        .filter_map(|(check, rev)| {
            (rev.run)(&pod).map(|v| CheckResult {
                check: check.id,
                level: check.level,
                reason: v.reason,
                detail: v.detail,
                findings: v.findings,
            })
        })
        .collect()
}

/// Upstream-style one-line summary, as in an API server rejection:
/// `reason (detail), reason (detail)`. An empty detail prints the reason alone.
pub fn summarize(results: &[CheckResult]) -> String {
    results
        .iter()
        .map(|r| if r.detail.is_empty() { r.reason.clone() } else { format!("{} ({})", r.reason, r.detail) })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
