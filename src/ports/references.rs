//! Everything that points at a moved port, inside the pod and elsewhere in
//! the stream: probes and hooks, `prometheus.io/port`, Service `targetPort`,
//! NetworkPolicy ports, PodMonitor/ServiceMonitor `targetPort`. References
//! by name stay as they are: the port keeps its name, so they still resolve.
//! Ingress backends and Service `port` address the Service, not the pod,
//! and stay too.

use super::PortPlan;
use super::change;
use super::index::{Index, PodEntry, PolicyEntry, ServiceEntry};
use super::labels::Labels;
use super::moved;
use super::selector::label_selector_selects;
use crate::plan::change::{Change, Op};
use crate::plan::pod::CONTAINER_LISTS;
use crate::pointer::Pointer;
use crate::workload::PodSite;
use serde_json::{Value, json};

/// The pod ports a Service sends traffic to, where given by number
/// (`targetPort`, or `port` when `targetPort` is absent), with the number
/// of the Service port each is for.
pub fn service_targets(svc: &ServiceEntry) -> impl Iterator<Item = (usize, u64)> {
    svc.targets.iter().map(|&(i, t)| (i as usize, t))
}

/// Probe and lifecycle-hook ports given by number, in every container of the
/// pod (they all share the pod's network namespace).
pub fn in_pod(spec: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Vec<Change> {
    let mut out = Vec::new();
    const HANDLERS: [&str; 5] =
        ["/livenessProbe", "/readinessProbe", "/startupProbe", "/lifecycle/postStart", "/lifecycle/preStop"];
    for list in CONTAINER_LISTS {
        for (ci, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let name = c.get("name").and_then(Value::as_str).map(str::to_string);
            for h in HANDLERS {
                for kind in ["httpGet", "tcpSocket", "grpc"] {
                    let rel = format!("{h}/{kind}/port");
                    let Some(old) = c.at(&rel).and_then(Value::as_u64) else { continue };
                    if let Some(new) = moved(old, moves) {
                        let ptr = format!("{}/{list}/{ci}{rel}", site.spec);
                        out.push(change(
                            Op::Set,
                            ptr,
                            json!(new),
                            Some(json!(old)),
                            name.clone(),
                            format!("the {} checks the moved port", &h[1..]),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// `prometheus.io/port` on the pod template.
pub fn annotations(doc: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Vec<Change> {
    let ptr = format!("{}/annotations/prometheus.io~1port", site.metadata);
    let Some(v) = doc.at(&ptr) else { return Vec::new() };
    let old = v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match old.and_then(|o| moved(o, moves)) {
        Some(new) => {
            let value = if v.is_string() { json!(new.to_string()) } else { json!(new) };
            vec![change(Op::Set, ptr, value, Some(v.clone()), None, "Prometheus scrapes the moved port".into())]
        }
        None => Vec::new(),
    }
}

/// Services, NetworkPolicies and monitors elsewhere in the stream.
pub fn elsewhere(plan: &mut PortPlan, index: &Index, pod: &PodEntry, moves: &[(u64, u64)], services: &[u32]) {
    for svc in services.iter().map(|&s| &index.services[s as usize]).filter(|s| !s.headless) {
        for (i, target) in service_targets(svc) {
            if let Some(new) = moved(target, moves) {
                plan.target(svc.at, i, new);
            }
        }
    }
    for policy in &index.policies {
        match policy.kind.as_str() {
            "NetworkPolicy" => network_policy(plan, index, policy, pod, moves),
            "PodMonitor"
                if monitor_namespace(policy, &pod.namespace)
                    && label_selector_selects(policy.value.at("/spec/selector"), &pod.labels) =>
            {
                monitor_endpoints(plan, policy, "podMetricsEndpoints", moves);
            }
            "ServiceMonitor" if monitor_namespace(policy, &pod.namespace) => {
                let selects_pod = services.iter().any(|&s| {
                    label_selector_selects(policy.value.at("/spec/selector"), &index.services[s as usize].labels)
                });
                if selects_pod {
                    monitor_endpoints(plan, policy, "endpoints", moves);
                }
            }
            _ => {}
        }
    }
}

/// The change to a Service's port number `i` (at `base` in `doc`) whose
/// pods moved the port it sends traffic to, to `new`: its `targetPort`,
/// set, or written where it defaulted to `port`. Built in pass 2 from the
/// document (the decision files only the numbers, as for pods).
pub fn target_change(doc: &Value, base: &str, i: usize, new: u64) -> Option<Change> {
    let p = doc.at(&format!("{base}/spec/ports/{i}"))?;
    let ptr = format!("{base}/spec/ports/{i}/targetPort");
    let (before, reason) = match (p.get("targetPort"), p.get("port").and_then(Value::as_u64)) {
        (Some(t), _) => (
            Some(t.clone()),
            format!(
                "the selected pods moved port {t} to {new}; clients keep using port {}",
                p.get("port").cloned().unwrap_or_default()
            ),
        ),
        (None, Some(port)) => (
            None,
            format!(
                "targetPort defaulted to port {port}, which the selected pods moved to {new}; clients keep using port {port}"
            ),
        ),
        (None, None) => return None,
    };
    Some(change(Op::Set, ptr, json!(new), before, None, reason))
}

fn monitor_namespace(policy: &PolicyEntry, ns: &str) -> bool {
    match policy.value.at("/spec/namespaceSelector") {
        Some(sel) if sel.get("any").and_then(Value::as_bool) == Some(true) => true,
        Some(sel) if sel.get("matchNames").is_some() => {
            sel.get("matchNames").and_then(Value::as_array).is_some_and(|n| n.iter().any(|x| x.as_str() == Some(ns)))
        }
        _ => *policy.namespace == *ns,
    }
}

fn monitor_endpoints(plan: &mut PortPlan, policy: &PolicyEntry, list: &str, moves: &[(u64, u64)]) {
    let Some(endpoints) = policy.value.at(&format!("/spec/{list}")).and_then(Value::as_array) else { return };
    for (i, e) in endpoints.iter().enumerate() {
        if let Some(old) = e.get("targetPort").and_then(Value::as_u64)
            && let Some(new) = moved(old, moves)
        {
            let ptr = format!("{}/spec/{list}/{i}/targetPort", policy.base);
            plan.file(
                policy.at,
                change(
                    Op::Set,
                    ptr,
                    json!(new),
                    Some(json!(old)),
                    None,
                    "the monitor scrapes the moved pod port".into(),
                ),
            );
        }
    }
}

/// Ingress ports of policies that select the pod; egress ports of rules
/// whose peers select it. Where the same rule also covers pods (or
/// addresses) that keep the old port, the new port is added next to the old
/// one instead of replacing it.
fn network_policy(plan: &mut PortPlan, index: &Index, policy: &PolicyEntry, pod: &PodEntry, moves: &[(u64, u64)]) {
    let v = &policy.value;
    // Whether every known pod matched by `matches` moves `old` to `new`.
    let all_move = |matches: &dyn Fn(&PodEntry) -> bool, old: u64, new: u64| {
        index
            .pods
            .iter()
            .filter(|p| p.low_ports.contains(&old) && matches(p))
            .all(|p| moved(old, p.action().moves()) == Some(new))
    };
    if policy.namespace == pod.namespace && label_selector_selects(v.at("/spec/podSelector"), &pod.labels) {
        let selects = |p: &PodEntry| {
            p.namespace == policy.namespace && label_selector_selects(v.at("/spec/podSelector"), &p.labels)
        };
        for (r, rule) in v.at("/spec/ingress").and_then(Value::as_array).into_iter().flatten().enumerate() {
            rule_ports(plan, policy, &format!("/spec/ingress/{r}/ports"), rule, moves, &|old, new| {
                all_move(&selects, old, new)
            });
        }
    }
    for (r, rule) in v.at("/spec/egress").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let peers: Vec<&Value> =
            rule.get("to").and_then(Value::as_array).map(|t| t.iter().collect()).unwrap_or_default();
        let peer_selects = |peer: &Value, p: &PodEntry| peer_selects_pod(peer, &policy.namespace, p);
        if !peers.iter().any(|peer| peer_selects(peer, pod)) {
            continue;
        }
        let only_pod_peers = peers.iter().all(|p| p.get("ipBlock").is_none());
        let selects = |p: &PodEntry| peers.iter().any(|peer| peer_selects(peer, p));
        rule_ports(plan, policy, &format!("/spec/egress/{r}/ports"), rule, moves, &|old, new| {
            only_pod_peers && all_move(&selects, old, new)
        });
    }
}

fn peer_selects_pod(peer: &Value, policy_ns: &str, pod: &PodEntry) -> bool {
    let Some(pod_sel) = peer.get("podSelector") else { return false };
    let ns_ok = match peer.get("namespaceSelector") {
        None => policy_ns == &*pod.namespace,
        Some(ns_sel) => {
            let ns_labels = Labels::single("kubernetes.io/metadata.name", &pod.namespace);
            label_selector_selects(Some(ns_sel), &ns_labels)
        }
    };
    ns_ok && label_selector_selects(Some(pod_sel), &pod.labels)
}

fn rule_ports(
    plan: &mut PortPlan,
    policy: &PolicyEntry,
    rel: &str,
    rule: &Value,
    moves: &[(u64, u64)],
    replace: &dyn Fn(u64, u64) -> bool,
) {
    let Some(ports) = rule.get("ports").and_then(Value::as_array) else { return };
    for (j, p) in ports.iter().enumerate() {
        let Some(old) = p.get("port").and_then(Value::as_u64) else { continue };
        let Some(new) = moved(old, moves) else { continue };
        if ports.iter().any(|q| q.get("port").and_then(Value::as_u64) == Some(new)) {
            continue;
        }
        if replace(old, new) {
            let ptr = format!("{}{rel}/{j}/port", policy.base);
            plan.file(
                policy.at,
                change(Op::Set, ptr, json!(new), Some(json!(old)), None, "the selected pods moved this port".into()),
            );
        } else {
            let mut entry = p.clone();
            entry["port"] = json!(new);
            let ptr = format!("{}{rel}", policy.base);
            plan.file(
                policy.at,
                change(
                    Op::Append,
                    ptr,
                    entry,
                    None,
                    None,
                    format!("some pods behind this rule moved port {old} to {new}, others keep it"),
                ),
            );
        }
    }
}
