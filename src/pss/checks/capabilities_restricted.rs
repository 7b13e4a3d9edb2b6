//! `capabilities_restricted` (restricted, **v1.22+**): every container must drop
//! ALL capabilities and may add back only NET_BIND_SERVICE.
//!
//! Fields: `securityContext.capabilities.drop` must contain `"ALL"` (an exact,
//! case-sensitive match: `all` does not count); `.add` may only contain
//! `NET_BIND_SERVICE`.
//! * v1.22: introduced; overrides `capabilities_baseline` under restricted.
//! * v1.25: pods with `spec.os.name: windows` are exempt (the Pod API rejects
//!   capabilities on Windows pods).

use std::collections::BTreeSet;

use crate::pss::pod::{Pod, containers_phrase, join_quote, obj, strings};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "capabilities_restricted",
    level: Level::Restricted,
    versions: &[
        VersionedCheck { since: 22, run: capabilities_restricted_1_22, overrides: &["capabilities_baseline"] },
        VersionedCheck { since: 25, run: capabilities_restricted_1_25, overrides: &["capabilities_baseline"] },
    ],
};

const ALL: &str = "ALL";
const NET_BIND_SERVICE: &str = "NET_BIND_SERVICE";

fn capabilities_restricted_1_22(pod: &Pod<'_>) -> Option<Violation> {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden_caps: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        let Some(caps) = c.security_context().and_then(|sc| obj(sc, "capabilities")) else {
            missing_drop_all.push(c.name);
            findings.push(Finding::container(c.name, "capabilities.drop missing \"ALL\""));
            continue;
        };
        if !strings(caps, "drop").any(|d| d == ALL) {
            missing_drop_all.push(c.name);
            findings.push(Finding::container(c.name, "capabilities.drop missing \"ALL\""));
        }
        let mut added_forbidden = false;
        for cap in strings(caps, "add").filter(|cap| *cap != NET_BIND_SERVICE) {
            added_forbidden = true;
            forbidden_caps.insert(cap);
            findings.push(Finding::container(c.name, format!("capabilities.add \"{cap}\"")));
        }
        if added_forbidden {
            adding_forbidden.push(c.name);
        }
    }
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let caps: Vec<&str> = forbidden_caps.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&caps)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(Violation { reason: "unrestricted capabilities".into(), detail: details.join("; "), findings })
}

fn capabilities_restricted_1_25(pod: &Pod<'_>) -> Option<Violation> {
    if pod.is_windows() {
        return None;
    }
    capabilities_restricted_1_22(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"capabilities": {"drop": ["all"]}}},
            {"name": "c", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_TIME"]}}},
            {"name": "d", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}},
            {"name": "e", "securityContext": {"capabilities": {"drop": ["NET_RAW", "ALL"], "add": ["NET_BIND_SERVICE"]}}}]});
        let v = capabilities_restricted_1_22(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "unrestricted capabilities");
        assert_eq!(
            v.detail,
            r#"containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "c", "d" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add"#
        );
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let spec = json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]});
        let pod = Pod::new(None, &spec);
        assert!(capabilities_restricted_1_22(&pod).is_some());
        assert!(capabilities_restricted_1_25(&pod).is_none());
    }
}
