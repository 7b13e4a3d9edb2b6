//! `seccompProfile_restricted` (restricted, **v1.19+**): a seccomp profile must
//! be in force for every container.
//!
//! Fields: `spec.securityContext.seccompProfile.type` and each container's
//! `securityContext.seccompProfile.type`. Allowed: `RuntimeDefault` or
//! `Localhost` at pod level (containers unset or allowed), or on every
//! container. An explicit `Unconfined` anywhere fails.
//! * v1.19: introduced with the fields; overrides `seccompProfile_baseline`.
//! * v1.25: pods with `spec.os.name: windows` are exempt (the Pod API rejects
//!   seccomp on Windows pods).

use std::collections::BTreeSet;

use super::seccomp_profile_baseline::{forbidden_types, seccomp_type, valid_seccomp};
use crate::pss::pod::{Pod, containers_phrase};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { since: 19, run: seccomp_profile_restricted_1_19, overrides: &["seccompProfile_baseline"] },
        VersionedCheck { since: 25, run: seccomp_profile_restricted_1_25, overrides: &["seccompProfile_baseline"] },
    ],
};

fn seccomp_profile_restricted_1_19(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters: Vec<String> = Vec::new();
    let mut values: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    let mut pod_set = false;
    match seccomp_type(pod.security_context()) {
        Some(t) if valid_seccomp(t) => pod_set = true,
        Some(t) => {
            setters.push("pod".into());
            values.insert(t);
            findings.push(Finding::pod(format!("seccompProfile.type={t}")));
        }
        None => {}
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in pod.containers() {
        match seccomp_type(c.security_context()) {
            Some(t) if valid_seccomp(t) => {}
            Some(t) => {
                explicitly_bad.push(c.name);
                values.insert(t);
                findings.push(Finding::container(c.name, format!("seccompProfile.type={t}")));
            }
            // Unset: fine only if a valid pod-level profile covers it.
            None if pod_set => {}
            None => implicitly_bad.push(c.name),
        }
    }
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    if !setters.is_empty() {
        return Some(forbidden_types(&setters, values, findings));
    }
    if implicitly_bad.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "seccompProfile".into(),
        detail: format!(
            r#"pod or {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            containers_phrase(&implicitly_bad)
        ),
        findings: implicitly_bad.iter().map(|n| Finding::container(n, "seccompProfile unset")).collect(),
    })
}

fn seccomp_profile_restricted_1_25(pod: &Pod<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    seccomp_profile_restricted_1_19(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(spec: serde_json::Value) -> Option<Violation> {
        seccomp_profile_restricted_1_25(&Pod::new(None, &spec))
    }

    #[test]
    fn pod_level_covers_unset_containers() {
        assert!(run(json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]})).is_none());
        assert!(run(json!({"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}}]})).is_none());
    }

    #[test]
    fn upstream_wording() {
        let v = run(json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [
            {"name": "a"}, {"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}))
        .expect("fails");
        assert_eq!(v.reason, "seccompProfile");
        assert_eq!(
            v.detail,
            r#"pod and container "b" must not set securityContext.seccompProfile.type to "Unconfined""#
        );

        let v = run(json!({"containers": [{"name": "a"}, {"name": "b"}]})).expect("fails");
        assert_eq!(
            v.detail,
            r#"pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
        );
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let spec = json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]});
        assert!(seccomp_profile_restricted_1_19(&Pod::new(None, &spec)).is_some());
        assert!(run(spec).is_none());
    }
}
