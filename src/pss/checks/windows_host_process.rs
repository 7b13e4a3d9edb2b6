//! `windowsHostProcess` (baseline, v1.0): no Windows HostProcess containers,
//! which run directly on the node with host access.
//!
//! Field: `securityContext.windowsOptions.hostProcess` at pod level and in
//! every container. Allowed: unset or false.

use crate::pss::pod::{Obj, Pod, boolean, containers_phrase, obj};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "windowsHostProcess",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: windows_host_process_1_0, overrides: &[] }],
};

fn host_process(sc: Option<&Obj>) -> bool {
    sc.and_then(|sc| obj(sc, "windowsOptions")).and_then(|w| boolean(w, "hostProcess")) == Some(true)
}

fn windows_host_process_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let bad: Vec<&str> =
        pod.containers().into_iter().filter(|c| host_process(c.security_context())).map(|c| c.name).collect();
    let mut setters: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    if host_process(pod.security_context()) {
        setters.push("pod".into());
        findings.push(Finding::pod("windowsOptions.hostProcess=true"));
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
        findings.extend(bad.iter().map(|n| Finding::container(n, "windowsOptions.hostProcess=true")));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "hostProcess".into(),
        detail: format!("{} must not set securityContext.windowsOptions.hostProcess=true", setters.join(" and ")),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"securityContext": {"windowsOptions": {"hostProcess": true}},
            "containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}},
                           {"name": "b", "securityContext": {"windowsOptions": {"hostProcess": false}}}]});
        let v = windows_host_process_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "hostProcess");
        assert_eq!(v.detail, r#"pod and container "a" must not set securityContext.windowsOptions.hostProcess=true"#);
    }
}
