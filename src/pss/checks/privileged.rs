//! `privileged` (baseline, v1.0): no privileged containers.
//!
//! Field: `securityContext.privileged` of every container. Allowed: unset or false.

use crate::pss::pod::{Pod, boolean, containers_phrase};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "privileged",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: privileged_1_0, overrides: &[] }],
};

fn privileged_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let bad: Vec<&str> = pod
        .containers()
        .into_iter()
        .filter(|c| c.security_context().and_then(|sc| boolean(sc, "privileged")) == Some(true))
        .map(|c| c.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "privileged".into(),
        detail: format!("{} must not set securityContext.privileged=true", containers_phrase(&bad)),
        findings: bad.iter().map(|n| Finding::container(n, "privileged=true")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"initContainers": [{"name": "i", "securityContext": {"privileged": true}}],
            "containers": [{"name": "a", "securityContext": {"privileged": false}}, {"name": "b", "securityContext": {"privileged": true}}]});
        let v = privileged_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "privileged");
        assert_eq!(v.detail, r#"containers "i", "b" must not set securityContext.privileged=true"#);
        let one = json!({"containers": [{"name": "app", "securityContext": {"privileged": true}}]});
        let v = privileged_1_0(&Pod::new(None, &one)).expect("fails");
        assert_eq!(v.detail, r#"container "app" must not set securityContext.privileged=true"#);
        assert_eq!(v.findings, [Finding::container("app", "privileged=true")]);
    }
}
