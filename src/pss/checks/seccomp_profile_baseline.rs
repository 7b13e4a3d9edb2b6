//! `seccompProfile_baseline` (baseline): seccomp, when set, may not be
//! `Unconfined`.
//!
//! * v1.0–v1.18: annotations `seccomp.security.alpha.kubernetes.io/pod` and
//!   `container.seccomp.security.alpha.kubernetes.io/<container>`; allowed
//!   `runtime/default`, `docker/default`, `localhost/*` or absent.
//! * v1.19+: fields `seccompProfile.type` at pod level and in every container;
//!   allowed `RuntimeDefault`, `Localhost` or unset. The annotations are no
//!   longer looked at (the fields replaced them in 1.19).
//!
//! Overridden under restricted by `seccompProfile_restricted` from v1.19.

use std::collections::BTreeSet;

use crate::pss::pod::{Obj, Pod, containers_phrase, go_quote, join_quote, obj, pluralize, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { since: 0, run: seccomp_profile_baseline_1_0, overrides: &[] },
        VersionedCheck { since: 19, run: seccomp_profile_baseline_1_19, overrides: &[] },
    ],
};

const ANNOTATION_POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
const ANNOTATION_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn valid_annotation(v: &str) -> bool {
    v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
}

/// Upstream `validSeccomp`: the only acceptable `seccompProfile.type` values.
pub(crate) fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// The `seccompProfile.type` of a security context whose profile is set; a
/// set profile without a type reads as `""` (Go's zero value), which is invalid.
pub(crate) fn seccomp_type(sc: Option<&Obj>) -> Option<&str> {
    obj(sc?, "seccompProfile").map(|p| string_or_empty(p, "type"))
}

fn seccomp_profile_baseline_1_0(pod: &Pod<'_>) -> Option<Violation> {
    // A sorted set: the pod annotation and each container's, rendered key=%q.
    let mut forbidden: BTreeSet<String> = BTreeSet::new();
    let mut findings = Vec::new();
    if let Some(v) = pod.annotation(ANNOTATION_POD).filter(|v| !valid_annotation(v)) {
        let rendered = format!("{ANNOTATION_POD}={}", go_quote(v));
        findings.push(Finding::pod(format!("annotation {rendered}")));
        forbidden.insert(rendered);
    }
    for c in pod.containers() {
        let key = format!("{ANNOTATION_CONTAINER_PREFIX}{}", c.name);
        if let Some(v) = pod.annotation(&key).filter(|v| !valid_annotation(v)) {
            let rendered = format!("{key}={}", go_quote(v));
            findings.push(Finding::container(c.name, format!("annotation {rendered}")));
            forbidden.insert(rendered);
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let values: Vec<String> = forbidden.into_iter().collect();
    Some(Violation {
        reason: "seccompProfile".into(),
        detail: format!("forbidden {} {}", pluralize("annotation", "annotations", values.len()), values.join(", ")),
        findings,
    })
}

fn seccomp_profile_baseline_1_19(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters: Vec<String> = Vec::new();
    let mut values: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    if let Some(t) = seccomp_type(pod.security_context()).filter(|t| !valid_seccomp(t)) {
        setters.push("pod".into());
        values.insert(t);
        findings.push(Finding::pod(format!("seccompProfile.type={t}")));
    }
    let mut bad = Vec::new();
    for c in pod.containers() {
        if let Some(t) = seccomp_type(c.security_context()).filter(|t| !valid_seccomp(t)) {
            bad.push(c.name);
            values.insert(t);
            findings.push(Finding::container(c.name, format!("seccompProfile.type={t}")));
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(forbidden_types(&setters, values, findings))
}

/// The violation for explicitly set, forbidden seccomp types (worded as
/// upstream; shared with the restricted check).
pub(crate) fn forbidden_types(setters: &[String], values: BTreeSet<&str>, findings: Vec<Finding>) -> Violation {
    let values: Vec<&str> = values.into_iter().collect();
    Violation {
        reason: "seccompProfile".into(),
        detail: format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_before_1_19() {
        let meta = json!({"annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/a": "docker/default",
            "container.seccomp.security.alpha.kubernetes.io/b": "",
            "container.seccomp.security.alpha.kubernetes.io/ghost": "unconfined"}});
        let spec = json!({"containers": [{"name": "a"}, {"name": "b"}]});
        let pod = Pod::new(Some(&meta), &spec);
        let v = seccomp_profile_baseline_1_0(&pod).expect("fails");
        assert_eq!(v.reason, "seccompProfile");
        assert_eq!(
            v.detail,
            r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/b="", seccomp.security.alpha.kubernetes.io/pod="unconfined""#
        );
        // The fields revision ignores annotations.
        assert!(seccomp_profile_baseline_1_19(&pod).is_none());
    }

    #[test]
    fn fields_from_1_19() {
        let spec = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
                           {"name": "b", "securityContext": {"seccompProfile": {}}}]});
        let v = seccomp_profile_baseline_1_19(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(
            v.detail,
            r#"pod and container "b" must not set securityContext.seccompProfile.type to "", "Unconfined""#
        );
        let unset = json!({"containers": [{"name": "a"}]});
        assert!(seccomp_profile_baseline_1_19(&Pod::new(None, &unset)).is_none());
    }
}
