//! `runAsNonRoot` (restricted): containers must be required to run as non-root.
//!
//! Fields: `spec.securityContext.runAsNonRoot` and each container's
//! `securityContext.runAsNonRoot`. Allowed: `true` at pod level (containers
//! unset or `true`), or `true` on every container. An explicit `false` anywhere
//! fails.
//! * v1.0: always enforced.
//! * v1.35: skipped entirely for pods in a user namespace (`spec.hostUsers:
//!   false`), where UID 0 in the container is not root on the node (KEP-127).

use crate::pss::pod::{Pod, boolean, containers_phrase};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "runAsNonRoot",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { since: 0, run: run_as_non_root_1_0, overrides: &[] },
        VersionedCheck { since: 35, run: run_as_non_root_1_35, overrides: &[] },
    ],
};

fn run_as_non_root_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    let pod_value = pod.security_context().and_then(|sc| boolean(sc, "runAsNonRoot"));
    if pod_value == Some(false) {
        setters.push("pod".into());
        findings.push(Finding::pod("runAsNonRoot=false"));
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in pod.containers() {
        match c.security_context().and_then(|sc| boolean(sc, "runAsNonRoot")) {
            Some(true) => {}
            Some(false) => explicitly_bad.push(c.name),
            // Unset: fine only if the pod level says true.
            None if pod_value == Some(true) => {}
            None => implicitly_bad.push(c.name),
        }
    }
    findings.extend(explicitly_bad.iter().map(|n| Finding::container(n, "runAsNonRoot=false")));
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    // Explicit false wins: upstream reports only that when both kinds are present.
    if !setters.is_empty() {
        return Some(Violation {
            reason: "runAsNonRoot != true".into(),
            detail: format!("{} must not set securityContext.runAsNonRoot=false", setters.join(" and ")),
            findings,
        });
    }
    if implicitly_bad.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "runAsNonRoot != true".into(),
        detail: format!("pod or {} must set securityContext.runAsNonRoot=true", containers_phrase(&implicitly_bad)),
        findings: implicitly_bad.iter().map(|n| Finding::container(n, "runAsNonRoot unset")).collect(),
    })
}

fn run_as_non_root_1_35(pod: &Pod<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_non_root_1_0(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(spec: serde_json::Value) -> Option<Violation> {
        run_as_non_root_1_35(&Pod::new(None, &spec))
    }

    #[test]
    fn pod_level_true_covers_unset_containers() {
        assert!(run(json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": true}}]})).is_none());
        assert!(run(json!({"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]})).is_none());
    }

    #[test]
    fn upstream_wording() {
        let v = run(json!({"securityContext": {"runAsNonRoot": false}, "containers": [
            {"name": "a"}, {"name": "c", "securityContext": {"runAsNonRoot": false}},
            {"name": "d", "securityContext": {"runAsNonRoot": false}}]}))
        .expect("fails");
        assert_eq!(v.reason, "runAsNonRoot != true");
        assert_eq!(v.detail, r#"pod and containers "c", "d" must not set securityContext.runAsNonRoot=false"#);

        let v = run(json!({"containers": [{"name": "a"}, {"name": "b", "securityContext": {}},
            {"name": "e", "securityContext": {"runAsNonRoot": true}}]}))
        .expect("fails");
        assert_eq!(v.detail, r#"pod or containers "a", "b" must set securityContext.runAsNonRoot=true"#);
    }

    #[test]
    fn user_namespace_relaxes_from_1_35() {
        let spec = json!({"hostUsers": false, "containers": [{"name": "a"}]});
        assert!(run_as_non_root_1_0(&Pod::new(None, &spec)).is_some());
        assert!(run(spec).is_none());
    }
}
