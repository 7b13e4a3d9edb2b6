//! `capabilities_baseline` (baseline, v1.0): containers may only add
//! capabilities from the container runtime's default set.
//!
//! Field: `securityContext.capabilities.add` of every container. Allowed: unset,
//! empty, or a subset of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
//! MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.
//! The list has not changed since 1.0; NET_RAW is deliberately absent.
//! Overridden under restricted by `capabilities_restricted` from v1.22.

use std::collections::BTreeSet;

use crate::pss::pod::{Pod, containers_phrase, join_quote, obj, strings};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "capabilities_baseline",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: capabilities_baseline_1_0, overrides: &[] }],
};

const ALLOWED_1_0: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities_baseline_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    let mut bad_caps: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        let Some(caps) = c.security_context().and_then(|sc| obj(sc, "capabilities")) else { continue };
        let mut valid = true;
        // Compared exactly, as upstream does: "net_raw" or "CAP_NET_RAW" are not in the list either.
        for cap in strings(caps, "add").filter(|cap| !ALLOWED_1_0.contains(cap)) {
            valid = false;
            bad_caps.insert(cap);
            findings.push(Finding::container(c.name, format!("capabilities.add \"{cap}\"")));
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let caps: Vec<&str> = bad_caps.into_iter().collect();
    Some(Violation {
        reason: "non-default capabilities".into(),
        detail: format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(&caps)
        ),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_set_is_allowed() {
        let spec = json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE"], "drop": ["ALL"]}}}]});
        assert!(capabilities_baseline_1_0(&Pod::new(None, &spec)).is_none());
    }

    #[test]
    fn upstream_wording() {
        let spec = json!({"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN"]}}},
            {"name": "b", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW"]}}},
            {"name": "c", "securityContext": {"capabilities": {"add": ["KILL"]}}}]});
        let v = capabilities_baseline_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "non-default capabilities");
        assert_eq!(
            v.detail,
            r#"containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#
        );
        assert_eq!(v.findings.len(), 3);
    }
}
