//! `hostNamespaces` (baseline, v1.0): the pod may not share the host's network,
//! PID or IPC namespace.
//!
//! Fields: `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC`. Allowed: unset or false.

use crate::pss::pod::Pod;
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "hostNamespaces",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: host_namespaces_1_0, overrides: &[] }],
};

fn host_namespaces_1_0(pod: &Pod<'_>) -> Option<Violation> {
    // Already in the sorted order upstream's string set produces.
    let set: Vec<&str> = ["hostIPC", "hostNetwork", "hostPID"].into_iter().filter(|f| pod.spec_flag(f)).collect();
    if set.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "host namespaces".into(),
        detail: set.join(", "),
        findings: set.iter().map(|f| Finding::pod(format!("{f}=true"))).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"hostPID": true, "hostNetwork": true, "hostIPC": false});
        let v = host_namespaces_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!((v.reason.as_str(), v.detail.as_str()), ("host namespaces", "hostNetwork, hostPID"));
        assert_eq!(v.findings[0], Finding::pod("hostNetwork=true"));
        let off = json!({"hostNetwork": false, "hostPID": "true"});
        assert!(host_namespaces_1_0(&Pod::new(None, &off)).is_none());
    }
}
