//! `hostPorts` (baseline, v1.0): containers may not bind host ports.
//!
//! Field: `ports[*].hostPort` of every container. Allowed: unset or 0. Upstream
//! implements no "known list" of allowed ports, whatever the docs say.

use std::collections::BTreeSet;

use crate::pss::pod::{Pod, array, containers_phrase, is_zero, pluralize};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "hostPorts",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: host_ports_1_0, overrides: &[] }],
};

fn host_ports_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad_containers = Vec::new();
    // Upstream collects the ports as strings in a sorted string set, so "10000" sorts before "80".
    let mut ports: BTreeSet<String> = BTreeSet::new();
    let mut findings = Vec::new();
    for c in pod.containers() {
        let mut valid = true;
        for port in array(c.obj, "ports").iter().filter_map(serde_json::Value::as_object) {
            match port.get("hostPort") {
                Some(serde_json::Value::Number(n)) if !is_zero(port, "hostPort") => {
                    valid = false;
                    ports.insert(n.to_string());
                    findings.push(Finding::container(c.name, format!("hostPort {n}")));
                }
                _ => {}
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Some(Violation {
        reason: "hostPort".into(),
        detail: format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"containers": [
            {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}, {"hostPort": 10000}]},
            {"name": "b", "ports": [{"containerPort": 80, "hostPort": 0}]}]});
        let v = host_ports_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "hostPort");
        assert_eq!(v.detail, r#"container "a" uses hostPorts 10000, 80"#);
        let two = json!({"containers": [{"name": "a", "ports": [{"hostPort": 8080}]}, {"name": "b", "ports": [{"hostPort": 8080}]}]});
        let v = host_ports_1_0(&Pod::new(None, &two)).expect("fails");
        assert_eq!(v.detail, r#"containers "a", "b" use hostPort 8080"#);
    }
}
