//! NetworkPolicies and monitors that give a moved pod port by number: their
//! ports follow the pods. A rule that also covers pods (or addresses) that
//! keep the old port gets the new port next to the old one instead.
//!
//! Whether every pod a rule covers moves a port the same way is worked out
//! in one reading of the stream's pods ([`AllMove`]), before the changes
//! are filed pod by pod; the policies themselves stay in memory (a stream
//! has few that give a moved port by number).

use super::PortPlan;
use super::change;
use super::decide::Movers;
use super::index::{PodEntry, PolicyEntry};
use super::labels::Labels;
use super::moved;
use super::selection::Kept;
use super::selector::label_selector_selects;
use super::sorter::Sorter;
use super::stream_index::StreamIndex;
use super::tape::{Record, Take, Tape, put};
use crate::plan::change::Op;
use crate::pointer::Pointer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io;

/// The changes to policies and monitors for one pod that moves `moves`.
/// `service_monitors`: the ServiceMonitors (numbers in `policies`) that
/// select one of the Services selecting the pod.
pub fn file(
    plan: &mut PortPlan,
    policies: &[PolicyEntry],
    all_move: &AllMove,
    pod: &PodEntry,
    moves: &[(u64, u64)],
    service_monitors: &[usize],
) {
    for (k, policy) in policies.iter().enumerate() {
        match policy.kind.as_str() {
            "NetworkPolicy" => network_policy(plan, policy, &all_move.0[k], pod, moves),
            "PodMonitor"
                if monitor_namespace(policy, &pod.namespace)
                    && label_selector_selects(policy.value.at("/spec/selector"), &pod.labels) =>
            {
                monitor_endpoints(plan, policy, "podMetricsEndpoints", moves);
            }
            "ServiceMonitor" if monitor_namespace(policy, &pod.namespace) && service_monitors.contains(&k) => {
                monitor_endpoints(plan, policy, "endpoints", moves);
            }
            _ => {}
        }
    }
}

/// (pod, ServiceMonitor) where the monitor selects one of the Services that
/// select a pod that moves, sorted by pod.
pub fn service_monitors(
    kept: &mut Tape<Kept>,
    policies: &[PolicyEntry],
    movers: &Movers,
    budget: usize,
) -> io::Result<Sorter<PodMonitored>> {
    let mut out = Sorter::new(budget);
    if !policies.iter().any(|p| p.kind == "ServiceMonitor") {
        return Ok(out);
    }
    for k in kept.read()? {
        let k = k?;
        for (m, _) in policies.iter().enumerate().filter(|(_, m)| selects_service(m, &k.service.labels)) {
            for &p in k.pods.iter().filter(|&&p| !movers.moves(p).is_empty()) {
                out.push(PodMonitored(p, m))?;
            }
        }
    }
    Ok(out)
}

/// A pod and a ServiceMonitor that selects one of its Services.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodMonitored(pub u32, pub usize);

impl Record for PodMonitored {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.0));
        put::usize(out, self.1);
    }
    fn take(bytes: &mut Take) -> io::Result<PodMonitored> {
        Ok(PodMonitored(bytes.u32()?, bytes.usize()?))
    }
}

/// Whether a ServiceMonitor selects a Service by its labels.
pub fn selects_service(monitor: &PolicyEntry, labels: &Labels) -> bool {
    monitor.kind == "ServiceMonitor" && label_selector_selects(monitor.value.at("/spec/selector"), labels)
}

/// For each policy, for its ingress and for each egress rule: what the pods
/// it covers do with each privileged port they declare.
#[derive(Debug, Default)]
pub struct AllMove(Vec<Covered>);

#[derive(Debug, Default)]
struct Covered {
    ingress: HashMap<u64, Outcome>,
    egress: Vec<HashMap<u64, Outcome>>,
}

/// What the covered pods that declare a port do with it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// All move it to this number (None: all keep it).
    Same(Option<u64>),
    Mixed,
}

impl Outcome {
    fn add(this: Option<Outcome>, next: Option<u64>) -> Outcome {
        match this {
            None => Outcome::Same(next),
            Some(Outcome::Same(n)) if n == next => Outcome::Same(n),
            _ => Outcome::Mixed,
        }
    }
}

/// Whether every covered pod that declares `old` moves it to `new`.
fn all_move(covered: &HashMap<u64, Outcome>, old: u64, new: u64) -> bool {
    covered.get(&old).is_none_or(|o| *o == Outcome::Same(Some(new)))
}

impl AllMove {
    /// One reading of the stream's pods, with their decisions (`movers`).
    pub fn new(index: &mut StreamIndex, movers: &Movers) -> io::Result<AllMove> {
        let egress_rules = |p: &PolicyEntry| p.value.at("/spec/egress").and_then(Value::as_array).map_or(0, Vec::len);
        let mut out: Vec<Covered> = index
            .policies
            .iter()
            .map(|p| Covered { ingress: HashMap::new(), egress: vec![HashMap::new(); egress_rules(p)] })
            .collect();
        if !index.policies.iter().any(|p| p.kind == "NetworkPolicy") {
            return Ok(AllMove(out));
        }
        for (p, pod) in index.pods.read()?.enumerate() {
            let pod = pod?;
            let moves = movers.moves(p as u32);
            let note = |map: &mut HashMap<u64, Outcome>| {
                for &old in &pod.low_ports {
                    let this = map.get(&old).copied();
                    map.insert(old, Outcome::add(this, moved(old, moves)));
                }
            };
            for (policy, covered) in index.policies.iter().zip(&mut out).filter(|(p, _)| p.kind == "NetworkPolicy") {
                if ingress_selects(policy, &pod) {
                    note(&mut covered.ingress);
                }
                for (rule, map) in egress(policy).zip(&mut covered.egress) {
                    if peers(rule).iter().any(|peer| peer_selects_pod(peer, &policy.namespace, &pod)) {
                        note(map);
                    }
                }
            }
        }
        Ok(AllMove(out))
    }
}

fn ingress_selects(policy: &PolicyEntry, pod: &PodEntry) -> bool {
    policy.namespace == pod.namespace && label_selector_selects(policy.value.at("/spec/podSelector"), &pod.labels)
}

fn egress(policy: &PolicyEntry) -> impl Iterator<Item = &Value> {
    policy.value.at("/spec/egress").and_then(Value::as_array).into_iter().flatten()
}

fn peers(rule: &Value) -> Vec<&Value> {
    rule.get("to").and_then(Value::as_array).map(|t| t.iter().collect()).unwrap_or_default()
}

/// Ingress ports of policies that select the pod; egress ports of rules
/// whose peers select it.
fn network_policy(plan: &mut PortPlan, policy: &PolicyEntry, covered: &Covered, pod: &PodEntry, moves: &[(u64, u64)]) {
    let v = &policy.value;
    if ingress_selects(policy, pod) {
        for (r, rule) in v.at("/spec/ingress").and_then(Value::as_array).into_iter().flatten().enumerate() {
            rule_ports(plan, policy, &format!("/spec/ingress/{r}/ports"), rule, moves, &|old, new| {
                all_move(&covered.ingress, old, new)
            });
        }
    }
    for ((r, rule), map) in egress(policy).enumerate().zip(&covered.egress) {
        let peers = peers(rule);
        if !peers.iter().any(|peer| peer_selects_pod(peer, &policy.namespace, pod)) {
            continue;
        }
        let only_pod_peers = peers.iter().all(|p| p.get("ipBlock").is_none());
        rule_ports(plan, policy, &format!("/spec/egress/{r}/ports"), rule, moves, &|old, new| {
            only_pod_peers && all_move(map, old, new)
        });
    }
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
