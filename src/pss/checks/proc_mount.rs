//! `procMount` (baseline): containers must keep the default `/proc` masks.
//!
//! Field: `securityContext.procMount` of every container. Allowed: unset or
//! `Default`.
//! * v1.0: enforced unconditionally.
//! * v1.35: any value is allowed when the pod runs in a user namespace
//!   (`spec.hostUsers: false`), where an unmasked `/proc` cannot reach the
//!   host. Restricted re-tightens this with `procMount_restricted`.

use std::collections::BTreeSet;

use crate::pss::pod::{Pod, containers_phrase, join_quote, string};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "procMount",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { since: 0, run: proc_mount_1_0, overrides: &[] },
        VersionedCheck { since: 35, run: proc_mount_1_35_baseline, overrides: &[] },
    ],
};

/// Upstream `procMount_1_0`; `procMount_restricted` runs it too.
pub(crate) fn proc_mount_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        let Some(pm) = c.security_context().and_then(|sc| string(sc, "procMount")) else { continue };
        if pm != "Default" {
            bad.push(c.name);
            types.insert(pm);
            findings.push(Finding::container(c.name, format!("procMount={pm}")));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Violation {
        reason: "procMount".into(),
        detail: format!("{} must not set securityContext.procMount to {}", containers_phrase(&bad), join_quote(&types)),
        findings,
    })
}

fn proc_mount_1_35_baseline(pod: &Pod<'_>) -> Option<Violation> {
    if pod.in_user_namespace() {
        return None;
    }
    proc_mount_1_0(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"containers": [
            {"name": "a", "securityContext": {"procMount": "Unmasked"}},
            {"name": "b", "securityContext": {"procMount": "Default"}},
            {"name": "c", "securityContext": {"procMount": "Other"}}]});
        let v = proc_mount_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "procMount");
        assert_eq!(v.detail, r#"containers "a", "c" must not set securityContext.procMount to "Other", "Unmasked""#);
    }

    #[test]
    fn user_namespace_relaxes_from_1_35() {
        let spec =
            json!({"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]});
        let pod = Pod::new(None, &spec);
        assert!(proc_mount_1_0(&pod).is_some());
        assert!(proc_mount_1_35_baseline(&pod).is_none());
        let host =
            json!({"hostUsers": true, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]});
        assert!(proc_mount_1_35_baseline(&Pod::new(None, &host)).is_some());
    }
}
