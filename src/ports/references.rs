//! The kinds that point at a pod's port, and how: the table
//! (`data/port-references.yaml`, a row per kind) names for each kind one
//! matcher here, a function that reads an object of the kind into
//! [`PortRule`]s: which pods a list of port entries is about, and how the
//! entries follow a moved port. The port decisions (`decide`) only ever
//! see rules, so another kind of reference is a row and a matcher.
//!
//! Services are read into the graph's own nodes (`graph::Service`): they
//! decide whether their pods may move at all, not only follow them. So are
//! ConfigMaps (`graph::ConfigMap`): a pod points at one (a volume mounted
//! over its image's config file, as its row says), and the directive in its
//! text gives the pod's port.

use super::selector::{NAMESPACE_NAME, PodSelector, namespaces_named};
use crate::pointer::Pointer;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The matcher of a kind, as the table names it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Matcher {
    Service,
    NetworkPolicy,
    PodMonitor,
    ServiceMonitor,
    CiliumNetworkPolicy,
    /// A ConfigMap: pods mount it over their image's config file, whose
    /// listen directive gives their port (`graph::ConfigMap`).
    MountedConfig,
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
    /// Port numbers may be written as strings (`"80"`).
    pub text: bool,
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
        let port = entry.get(self.key)?;
        port.as_u64().or_else(|| port.as_str().filter(|_| self.text)?.parse().ok())
    }
}

/// The rules of `object` (of namespace `namespace`), read by `matcher`.
pub fn rules<'a>(matcher: Matcher, object: &'a Value, namespace: &str) -> Vec<PortRule<'a>> {
    match matcher {
        Matcher::Service | Matcher::MountedConfig => Vec::new(),
        Matcher::NetworkPolicy => network_policy(object, namespace),
        Matcher::PodMonitor => monitor(object, namespace, "podMetricsEndpoints", Covers::Pods),
        Matcher::ServiceMonitor => monitor(object, namespace, "endpoints", Covers::ServicePods),
        Matcher::CiliumNetworkPolicy => cilium_network_policy(object, namespace),
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
        out.push(PortRule { list, entries, key: "port", covers, follows: Follows::EveryPod, text: false });
    }
    for (r, rule) in items(policy, "/spec/egress").iter().enumerate() {
        let to = items(rule, "/to");
        let peers = to.iter().filter_map(|peer| {
            let pods = peer.get("podSelector")?;
            Some(match peer.get("namespaceSelector") {
                None => PodSelector::in_namespace(namespace, Some(pods)),
                Some(ns) => PodSelector { namespace: None, namespace_labels: Some(ns.clone()), labels: pods.clone() },
            })
        });
        let outside = to.iter().any(|peer| peer.get("ipBlock").is_some());
        let (list, entries) = (format!("/spec/egress/{r}/ports"), items(rule, "/ports"));
        let covers = Covers::Peers { peers: peers.collect(), outside };
        out.push(PortRule { list, entries, key: "port", covers, follows: Follows::EveryPod, text: false });
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
    let (namespace, namespace_labels) = match monitor.at("/spec/namespaceSelector") {
        Some(sel) if sel.get("any").and_then(Value::as_bool) == Some(true) => (None, None),
        Some(sel) if sel.get("matchNames").is_some() => (None, Some(namespaces_named(sel.get("matchNames")))),
        _ => (Some(namespace.into()), None),
    };
    let selector = PodSelector { namespace, namespace_labels, labels };
    let list = format!("/spec/{endpoints}");
    let entries = items(monitor, &list);
    vec![PortRule { list, entries, key: "targetPort", covers: covers(selector), follows: Follows::Scrape, text: false }]
}

/// cilium.io CiliumNetworkPolicy (rules in `spec`, or in `specs`): the
/// ports of an ingress rule's `toPorts` are those of the pods
/// `endpointSelector` picks; an egress rule's, those of the pods its
/// `toEndpoints` pick (a rule that also goes to CIDRs, entities, FQDNs,
/// Services or nodes reaches outside). Deny rules follow as allow rules
/// do, so that a moved port stays denied. Ports are strings.
fn cilium_network_policy<'a>(policy: &'a Value, namespace: &str) -> Vec<PortRule<'a>> {
    const OUTSIDE: [&str; 7] = ["toCIDR", "toCIDRSet", "toEntities", "toFQDNs", "toServices", "toGroups", "toNodes"];
    let specs = policy.get("spec").map(|s| ("/spec".to_string(), s)).into_iter();
    let specs = specs.chain(items(policy, "/specs").iter().enumerate().map(|(i, s)| (format!("/specs/{i}"), s)));
    let mut out = Vec::new();
    for (at, spec) in specs {
        for direction in ["ingress", "ingressDeny", "egress", "egressDeny"] {
            for (r, rule) in items(spec, &format!("/{direction}")).iter().enumerate() {
                let peers = || items(rule, "/toEndpoints").iter().map(|e| cilium_selector(Some(e), namespace, false));
                let outside = OUTSIDE.iter().any(|k| rule.get(k).is_some());
                let covers = || match direction.starts_with("ingress") {
                    true => Covers::Pods(cilium_selector(spec.get("endpointSelector"), namespace, true)),
                    false => Covers::Peers { peers: peers().collect(), outside },
                };
                for (t, to) in items(rule, "/toPorts").iter().enumerate() {
                    let (list, entries) = (format!("{at}/{direction}/{r}/toPorts/{t}/ports"), items(to, "/ports"));
                    let covers = covers();
                    out.push(PortRule { list, entries, key: "port", covers, follows: Follows::EveryPod, text: true });
                }
            }
        }
    }
    out
}

/// A `matchLabels` pair's value, or a `matchExpressions` item.
enum Term<'a> {
    Label(&'a Value),
    Expression(&'a Value),
}

/// A Cilium endpoint selector as a pod selector, as Cilium reads one in a
/// policy of `namespace`. A key names its source (`k8s:app`, `any:app`, or
/// none: any); the pod's namespace is the label
/// `io.kubernetes.pod.namespace`, its namespace's labels are
/// `io.cilium.k8s.namespace.labels.KEY`. A peer that names neither is in
/// the policy's namespace; the policy's own pods (`own`) always are.
/// Service accounts and clusters (`io.cilium.k8s.policy.*`) are not
/// checked. A selector of another source (`reserved:host`, `cidr:…`)
/// selects no pod.
fn cilium_selector(selector: Option<&Value>, namespace: &str, own: bool) -> PodSelector {
    let none = || PodSelector::in_namespace(namespace, None);
    let Some(selector) = selector.and_then(Value::as_object) else { return none() };
    let (mut pods, mut namespaces, mut names_namespace) = (json!({}), json!({}), false);
    let pairs = selector.get("matchLabels").and_then(Value::as_object).into_iter().flatten();
    let exprs = selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten();
    let terms = pairs.map(|(k, v)| (k.as_str(), Term::Label(v)));
    let terms = terms.chain(exprs.map(|e| (e["key"].as_str().unwrap_or(""), Term::Expression(e))));
    for (key, term) in terms {
        let key = key.strip_prefix("k8s:").or_else(|| key.strip_prefix("any:")).unwrap_or(key);
        let pod_namespace = key == "io.kubernetes.pod.namespace";
        let (of_namespace, key) = match key.strip_prefix("io.cilium.k8s.namespace.labels.") {
            _ if key.contains(':') => return none(),
            _ if key.starts_with("io.cilium.k8s.policy.") || own && pod_namespace => continue,
            _ if pod_namespace => (true, NAMESPACE_NAME),
            Some(label) => (true, label),
            None => (false, key),
        };
        names_namespace |= of_namespace;
        let to = if of_namespace { &mut namespaces } else { &mut pods };
        match term {
            Term::Label(value) => to["matchLabels"][key] = value.clone(),
            Term::Expression(expression) => {
                let mut expression = expression.clone();
                expression["key"] = key.into();
                match &mut to["matchExpressions"] {
                    Value::Array(list) => list.push(expression),
                    slot => *slot = json!([expression]),
                }
            }
        }
    }
    let namespace_labels = (namespaces != json!({})).then_some(namespaces);
    PodSelector { namespace: (own || !names_namespace).then(|| namespace.into()), namespace_labels, labels: pods }
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
        assert_eq!(matcher("", "ConfigMap"), Some(Matcher::MountedConfig));
        assert!(reads_kind("PodMonitor") && !reads_kind("Ingress"));
    }

    #[test]
    fn only_objects_that_give_a_moved_port_by_number_are_kept() {
        let map = [(80, 8080)];
        let policy = |ports: Value| json!({"spec": {"podSelector": {}, "ingress": [{"ports": ports}]}});
        let monitor = |port: Value| json!({"spec": {"selector": {}, "endpoints": [{"targetPort": port}]}});
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

    #[test]
    fn a_cilium_selector_reads_sources_and_namespaces_as_cilium_does() {
        let web = crate::ports::labels::Labels::from_pairs([("app", "web")]);
        let sel = |v: Value, own| cilium_selector(Some(&v), "other", own);
        // No namespace named: the policy's.
        assert!(sel(json!({"matchLabels": {"k8s:app": "web"}}), false).selects("other", &web));
        assert!(!sel(json!({"matchLabels": {"any:app": "web"}}), false).selects("shop", &web));
        // Named by label or by expression; the policy's own pods stay in its namespace.
        let shop = json!({"matchLabels": {"app": "web", "k8s:io.kubernetes.pod.namespace": "shop"}});
        assert!(sel(shop.clone(), false).selects("shop", &web) && !sel(shop, true).selects("shop", &web));
        let key = "io.kubernetes.pod.namespace";
        let listed = json!({"matchExpressions": [{"key": key, "operator": "In", "values": ["shop", "data"]}]});
        assert!(sel(listed.clone(), false).selects("data", &web) && !sel(listed, false).selects("other", &web));
        // A label of the namespace lifts the policy's namespace.
        let labelled = json!({"matchLabels": {"io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name": "shop"}});
        assert!(sel(labelled, false).selects("shop", &web));
        assert!(!sel(json!({"matchLabels": {"reserved:host": ""}}), false).selects("other", &web), "not a pod");
    }
}
