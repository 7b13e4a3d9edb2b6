//! `runAsUser` (restricted, **v1.23+**): nothing may set `runAsUser: 0`.
//!
//! Fields: `spec.securityContext.runAsUser` and each container's
//! `securityContext.runAsUser`. Allowed: unset or any non-zero UID. (There is no
//! UID threshold: 1 is as acceptable as 10000.)
//! * v1.23: introduced.
//! * v1.35: skipped entirely for pods in a user namespace (`spec.hostUsers: false`).

use crate::pss::pod::{Pod, containers_phrase, is_zero};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "runAsUser",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { since: 23, run: run_as_user_1_23, overrides: &[] },
        VersionedCheck { since: 35, run: run_as_user_1_35, overrides: &[] },
    ],
};

fn run_as_user_1_23(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    if pod.security_context().is_some_and(|sc| is_zero(sc, "runAsUser")) {
        setters.push("pod".into());
        findings.push(Finding::pod("runAsUser=0"));
    }
    let bad: Vec<&str> = pod
        .containers()
        .into_iter()
        .filter(|c| c.security_context().is_some_and(|sc| is_zero(sc, "runAsUser")))
        .map(|c| c.name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
        findings.extend(bad.iter().map(|n| Finding::container(n, "runAsUser=0")));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "runAsUser=0".into(),
        detail: format!("{} must not set runAsUser=0", setters.join(" and ")),
        findings,
    })
}

fn run_as_user_1_35(pod: &Pod<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_user_1_23(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"securityContext": {"runAsUser": 0}, "containers": [
            {"name": "a", "securityContext": {"runAsUser": 0}}, {"name": "b", "securityContext": {"runAsUser": 1}},
            {"name": "c"}]});
        let v = run_as_user_1_35(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "runAsUser=0");
        assert_eq!(v.detail, r#"pod and container "a" must not set runAsUser=0"#);
        assert!(run_as_user_1_35(&Pod::new(None, &json!({"securityContext": {"runAsUser": 1000}}))).is_none());
    }

    #[test]
    fn user_namespace_relaxes_from_1_35() {
        let spec = json!({"hostUsers": false, "securityContext": {"runAsUser": 0}});
        assert!(run_as_user_1_23(&Pod::new(None, &spec)).is_some());
        assert!(run_as_user_1_35(&Pod::new(None, &spec)).is_none());
    }
}
