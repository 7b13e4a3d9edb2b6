//! The kinds that point at a pod's port, and how: the table
//! (`data/port-references.yaml`, a row per kind) names for each kind one
//! matcher here, a function that reads an object of the kind into
//! [`PortRule`]s: which pods a list of port entries is about, and how the
//! entries follow a moved port. The port decisions (`decide`) only ever
//! see rules, so another kind of reference is a row and a matcher.
//!
//! Services are read into the graph's own nodes (`graph::Service`): they
//! decide whether their pods may move at all, not only follow them.

use super::selector::{PodSelector, namespaces_named};
use crate::pointer::Pointer;
use serde::Deserialize;
use serde_json::Value;
use std::sync::LazyLock;

/// The matcher of a kind, as the table names it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Matcher {
    Service,
    NetworkPolicy,
    PodMonitor,
    ServiceMonitor,
}

/// A row of the table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Row {
    group: String,
    kind: String,
    refers_by: Matcher,
}

static TABLE: LazyLock<Vec<Row>> = LazyLock::new(|| {
    let text = include_str!("../../data/port-references.yaml");
    let rows = crate::yaml::parse_values(text).ok().and_then(|v| v.into_iter().next()).unwrap_or(Value::Null);
    // Compiled in and covered by a test: an error here is a build defect.
    serde_json::from_value(rows).unwrap_or_default()
});

/// The matcher for objects of `kind` in API group `group`, if the port
/// pass reads them.
pub fn matcher(group: &str, kind: &str) -> Option<Matcher> {
    TABLE.iter().find(|r| r.group == group && r.kind == kind).map(|r| r.refers_by)
}

/// Whether the port pass reads some kind named `kind` (in any group).
pub fn reads_kind(kind: &str) -> bool {
    TABLE.iter().any(|r| r.kind == kind)
}

/// A list of port entries in an object, and whose ports they give.
#[derive(Debug)]
pub struct PortRule<'a> {
    /// Pointer to the list, from the object.
    pub list: String,
    pub entries: &'a [Value],
    /// The key of the port number in each entry.
    pub key: &'static str,
    pub covers: Covers,
    pub follows: Follows,
}

/// Whose ports a rule gives.
#[derive(Debug)]
pub enum Covers {
    /// The pods the selector selects.
    Pods(PodSelector),
    /// The pods any of these select; `outside`: the rule also reaches
    /// addresses harden cannot see (`ipBlock`, CIDRs), which keep the port.
    Peers { peers: Vec<PodSelector>, outside: bool },
    /// The pods behind the Services the selector selects.
    ServicePods(PodSelector),
}

/// How a rule's entries follow a moved port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follows {
    /// An entry becomes the new port where every pod the rule covers moves
    /// it the same way (and no entry of the list has it yet); else the new
    /// port is added next to it, so that the rule still admits the pods
    /// that keep the old one.
    EveryPod,
    /// An entry becomes the new port (a monitor scrapes its pods wherever
    /// they listen).
    Scrape,
}

impl PortRule<'_> {
    /// The port an entry gives by number.
    pub fn port(&self, entry: &Value) -> Option<u64> {
        entry.get(self.key).and_then(Value::as_u64)
    }
}

/// The rules of `object` (of namespace `namespace`), read by `matcher`.
pub fn rules<'a>(matcher: Matcher, object: &'a Value, namespace: &str) -> Vec<PortRule<'a>> {
    match matcher {
        Matcher::Service => Vec::new(),
        Matcher::NetworkPolicy => network_policy(object, namespace),
        Matcher::PodMonitor => monitor(object, namespace, "podMetricsEndpoints", Covers::Pods),
        Matcher::ServiceMonitor => monitor(object, namespace, "endpoints", Covers::ServicePods),
    }
}

/// Whether `object` gives by number a port that `map` moves: no other
/// object of its kind can ever change, so no other is kept.
pub fn gives_a_moved_port(matcher: Matcher, object: &Value, namespace: &str, map: &[(u64, u64)]) -> bool {
    let moves = |n: u64| map.iter().any(|(old, _)| *old == n);
    rules(matcher, object, namespace).iter().any(|r| r.entries.iter().filter_map(|e| r.port(e)).any(moves))
}

fn items<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.at(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// networking.k8s.io NetworkPolicy: ingress ports are those of the pods
/// `podSelector` picks in the policy's namespace; an egress rule's ports
/// are those of the pods its `to` peers pick (`namespaceSelector` matched
/// on the namespace's name; `ipBlock` peers reach outside).
fn network_policy<'a>(policy: &'a Value, namespace: &str) -> Vec<PortRule<'a>> {
    let own = || PodSelector::in_namespace(namespace, policy.at("/spec/podSelector"));
    let mut out = Vec::new();
    for (r, rule) in items(policy, "/spec/ingress").iter().enumerate() {
        let (list, entries) = (format!("/spec/ingress/{r}/ports"), items(rule, "/ports"));
        let covers = Covers::Pods(own());
        out.push(PortRule { list, entries, key: "port", covers, follows: Follows::EveryPod });
    }
    for (r, rule) in items(policy, "/spec/egress").iter().enumerate() {
        let to = items(rule, "/to");
        let peers = to
            .iter()
            .filter_map(|peer| {
                let pods = peer.get("podSelector")?;
                Some(match peer.get("namespaceSelector") {
                    None => PodSelector::in_namespace(namespace, Some(pods)),
                    Some(ns) => {
                        PodSelector { namespace: None, namespace_labels: Some(ns.clone()), labels: pods.clone() }
                    }
                })
            })
            .collect();
        let outside = to.iter().any(|peer| peer.get("ipBlock").is_some());
        let (list, entries) = (format!("/spec/egress/{r}/ports"), items(rule, "/ports"));
        let covers = Covers::Peers { peers, outside };
        out.push(PortRule { list, entries, key: "port", covers, follows: Follows::EveryPod });
    }
    out
}

/// monitoring.coreos.com PodMonitor and ServiceMonitor: `selector` picks
/// pods (or Services) in the namespaces `namespaceSelector` names (`any`,
/// `matchNames`, else the monitor's own); each endpoint's `targetPort`.
fn monitor<'a>(
    monitor: &'a Value,
    namespace: &str,
    endpoints: &str,
    covers: fn(PodSelector) -> Covers,
) -> Vec<PortRule<'a>> {
    let labels = monitor.at("/spec/selector").cloned().unwrap_or_default();
    let selector = match monitor.at("/spec/namespaceSelector") {
        Some(sel) if sel.get("any").and_then(Value::as_bool) == Some(true) => {
            PodSelector { namespace: None, namespace_labels: None, labels }
        }
        Some(sel) if sel.get("matchNames").is_some() => {
            PodSelector { namespace: None, namespace_labels: Some(namespaces_named(sel.get("matchNames"))), labels }
        }
        _ => PodSelector { namespace: Some(namespace.into()), namespace_labels: None, labels },
    };
    let list = format!("/spec/{endpoints}");
    let entries = items(monitor, &list);
    vec![PortRule { list, entries, key: "targetPort", covers: covers(selector), follows: Follows::Scrape }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_loads_and_names_a_matcher_for_each_kind() {
        assert_eq!(matcher("", "Service"), Some(Matcher::Service));
        assert_eq!(matcher("networking.k8s.io", "NetworkPolicy"), Some(Matcher::NetworkPolicy));
        assert_eq!(matcher("monitoring.coreos.com", "ServiceMonitor"), Some(Matcher::ServiceMonitor));
        assert_eq!(matcher("", "NetworkPolicy"), None, "the group counts");
        assert!(reads_kind("PodMonitor") && !reads_kind("Ingress"));
    }

    #[test]
    fn only_objects_that_give_a_moved_port_by_number_are_kept() {
        let map = [(80, 8080)];
        let policy = |ports: Value| {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"},
                   "spec": {"podSelector": {}, "ingress": [{"ports": ports}]}})
        };
        let monitor = |port: Value| {
            json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "m"},
                   "spec": {"selector": {}, "endpoints": [{"targetPort": port}]}})
        };
        let kept = |m, v: Value| gives_a_moved_port(m, &v, "", &map);
        assert!(kept(Matcher::NetworkPolicy, policy(json!([{"port": 80}]))));
        assert!(!kept(Matcher::NetworkPolicy, policy(json!([{"port": 8080}, {"port": "http"}]))));
        assert!(kept(Matcher::ServiceMonitor, monitor(json!(80))));
        assert!(!kept(Matcher::ServiceMonitor, monitor(json!("http"))));
    }

    #[test]
    fn a_network_policy_gives_its_own_pods_ingress_ports_and_its_peers_egress_ports() {
        let policy = json!({"spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"ports": [{"port": 80}]}],
            "egress": [{"to": [{"podSelector": {}}, {"namespaceSelector": {}, "podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}],
                        "ports": [{"port": 443}]}]}});
        let rules = rules(Matcher::NetworkPolicy, &policy, "shop");
        let lists: Vec<&str> = rules.iter().map(|r| r.list.as_str()).collect();
        assert_eq!(lists, ["/spec/ingress/0/ports", "/spec/egress/0/ports"]);
        assert!(matches!(&rules[0].covers, Covers::Pods(sel) if sel.namespace.as_deref() == Some("shop")));
        assert!(matches!(&rules[1].covers, Covers::Peers { peers, outside: true } if peers.len() == 2));
        assert_eq!(rules[1].entries.iter().filter_map(|e| rules[1].port(e)).collect::<Vec<_>>(), [443]);
    }
}
