//! `hostProbesAndHostLifecycle` (baseline, **v1.34+**): probes and lifecycle
//! hooks may not target another host.
//!
//! Fields: `{liveness,readiness,startup}Probe.{httpGet,tcpSocket}.host` and
//! `lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host` of every container.
//! Allowed: unset or `""`. A `host` lets the kubelet be used to reach arbitrary
//! addresses from the node's network, hence its place in baseline. Policy
//! versions below 1.34 do not have this check at all.

use std::collections::BTreeSet;

use crate::pss::pod::{Obj, Pod, join_quote, obj, pluralize, string};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 34, run: host_probes_and_host_lifecycle_1_34, overrides: &[] }],
};

/// Non-empty `host` values of a probe or handler's `httpGet` and `tcpSocket`, with their paths.
fn bad_hosts<'a>(handler: Option<&'a Obj>, path: &str) -> Vec<(String, &'a str)> {
    let Some(handler) = handler else { return Vec::new() };
    ["httpGet", "tcpSocket"]
        .into_iter()
        .filter_map(|kind| {
            let host = string(obj(handler, kind)?, "host")?;
            (!host.is_empty()).then(|| (format!("{path}.{kind}.host"), host))
        })
        .collect()
}

fn host_probes_and_host_lifecycle_1_34(pod: &Pod<'_>) -> Option<Violation> {
    // Upstream keeps both the containers and the hosts in sorted sets.
    let mut bad_containers: BTreeSet<&str> = BTreeSet::new();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        let lifecycle = obj(c.obj, "lifecycle");
        let handlers = [
            ("livenessProbe", obj(c.obj, "livenessProbe")),
            ("readinessProbe", obj(c.obj, "readinessProbe")),
            ("startupProbe", obj(c.obj, "startupProbe")),
            ("lifecycle.postStart", lifecycle.and_then(|l| obj(l, "postStart"))),
            ("lifecycle.preStop", lifecycle.and_then(|l| obj(l, "preStop"))),
        ];
        for (path, handler) in handlers {
            for (field, host) in bad_hosts(handler, path) {
                bad_containers.insert(c.name);
                hosts.insert(host);
                findings.push(Finding::container(c.name, format!("{field}=\"{host}\"")));
            }
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad_containers.into_iter().collect();
    let hosts: Vec<&str> = hosts.into_iter().collect();
    Some(Violation {
        reason: "probe or lifecycle host".into(),
        detail: format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", names.len()),
            join_quote(&names),
            pluralize("uses", "use", names.len()),
            pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.len()),
            join_quote(&hosts)
        ),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_host_is_allowed() {
        let spec = json!({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "", "port": 80}},
            "lifecycle": {"preStop": {"tcpSocket": {"port": 80}}}}]});
        assert!(host_probes_and_host_lifecycle_1_34(&Pod::new(None, &spec)).is_none());
    }

    #[test]
    fn upstream_wording_sorts_containers_and_hosts() {
        let spec = json!({"containers": [
            {"name": "z", "readinessProbe": {"tcpSocket": {"host": "::1", "port": 8080}}},
            {"name": "a", "lifecycle": {"postStart": {"httpGet": {"host": "1.2.3.4"}}},
             "startupProbe": {"httpGet": {"host": "::1"}}}]});
        let v = host_probes_and_host_lifecycle_1_34(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "probe or lifecycle host");
        assert_eq!(v.detail, r#"containers "a", "z" use probe or lifecycle hosts "1.2.3.4", "::1""#);
        assert_eq!(v.findings[0], Finding::container("z", "readinessProbe.tcpSocket.host=\"::1\""));
        assert_eq!(v.findings.len(), 3);
    }
}
