//! `allowPrivilegeEscalation` (restricted): every container must explicitly set
//! `securityContext.allowPrivilegeEscalation: false` (unset counts as true,
//! which is the runtime default).
//!
//! * v1.8: the field exists from Kubernetes 1.8, so the check starts there.
//! * v1.25: pods with `spec.os.name: windows` are exempt; the Pod API rejects
//!   the field on Windows pods, so requiring it would make them impossible.

use crate::pss::pod::{Pod, boolean, containers_phrase};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { since: 8, run: allow_privilege_escalation_1_8, overrides: &[] },
        VersionedCheck { since: 25, run: allow_privilege_escalation_1_25, overrides: &[] },
    ],
};

fn allow_privilege_escalation_1_8(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        match c.security_context().and_then(|sc| boolean(sc, "allowPrivilegeEscalation")) {
            Some(false) => {}
            Some(true) => {
                bad.push(c.name);
                findings.push(Finding::container(c.name, "allowPrivilegeEscalation=true"));
            }
            None => {
                bad.push(c.name);
                findings.push(Finding::container(c.name, "allowPrivilegeEscalation unset"));
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "allowPrivilegeEscalation != false".into(),
        detail: format!("{} must set securityContext.allowPrivilegeEscalation=false", containers_phrase(&bad)),
        findings,
    })
}

fn allow_privilege_escalation_1_25(pod: &Pod<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    allow_privilege_escalation_1_8(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {}},
            {"name": "c", "securityContext": {"allowPrivilegeEscalation": true}},
            {"name": "d", "securityContext": {"allowPrivilegeEscalation": false}}]});
        let v = allow_privilege_escalation_1_25(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "allowPrivilegeEscalation != false");
        assert_eq!(v.detail, r#"containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false"#);
        assert_eq!(v.findings[2], Finding::container("c", "allowPrivilegeEscalation=true"));
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let spec = json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]});
        let pod = Pod::new(None, &spec);
        assert!(allow_privilege_escalation_1_8(&pod).is_some());
        assert!(allow_privilege_escalation_1_25(&pod).is_none());
        let linux = json!({"os": {"name": "linux"}, "containers": [{"name": "a"}]});
        assert!(allow_privilege_escalation_1_25(&Pod::new(None, &linux)).is_some());
    }
}
