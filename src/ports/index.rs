//! The index pass over the whole stream: every pod with its labels and
//! ports, every Service, NetworkPolicy and monitor that could point at a
//! pod port. Documents are added one at a time and dropped afterwards, so
//! the index holds only what the port decisions need. Positions are
//! (document, resource) so changes can be filed back into the right plan.

use super::Why;
use super::labels::Labels;
use super::others::OtherPod;
use super::pod::{assign, declares_moved_port, own_ports, untold};
use crate::plan::DocPlan;
use crate::plan::pod::is_windows;
use crate::pointer::Pointer;
use crate::workload::{KindRow, PodSite, pod_sites, resources};
use serde_json::Value;
use std::sync::Arc;

/// Where a resource is: its document's number in the stream and its index
/// among that document's resources (a `List` has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct At {
    pub doc: usize,
    pub resource: usize,
}

/// A pod that declares a privileged port: what its decision needs.
#[derive(Debug, PartialEq)]
pub struct PodEntry {
    pub at: At,
    /// Its number among the resource's pods (`workload::pod_sites` order).
    pub site_no: u32,
    /// Whether its kind has a pod securityContext (for the sysctl).
    pub pod_security_context: bool,
    pub namespace: Arc<str>,
    pub labels: Labels,
    /// The privileged ports it declares.
    pub low_ports: Box<[u64]>,
    /// Every container with a privileged port adds NET_BIND_SERVICE.
    pub all_bind: bool,
    /// What may happen to its ports.
    pub fate: Fate,
}

/// What pass 1 found a pod's ports may do.
#[derive(Debug, PartialEq)]
pub enum Fate {
    /// The ports must not change at all, and why.
    Frozen(Why),
    /// What a move would do, as far as the decision needs to know (worked
    /// out while the document is at hand).
    Movable(Movable),
}

/// A pod's own side of a move, as the decision needs it.
#[derive(Debug, Default, PartialEq)]
pub struct Movable {
    /// Old → new port numbers.
    pub moves: Box<[(u64, u64)]>,
    /// Whether harden cannot tell one of its containers the new port (auto
    /// falls back to the sysctl).
    pub untold: bool,
}

#[derive(Debug, PartialEq)]
pub struct ServiceEntry {
    pub at: At,
    pub labels: Labels,
    pub namespace: Arc<str>,
    pub name: Box<str>,
    /// Its selector, as labels (empty: it selects no pod harden can see).
    pub selector: Labels,
    pub headless: bool,
    /// The pod ports it sends traffic to, where given by number: (the
    /// number of its port in `spec.ports`, `targetPort`, or `port` where
    /// `targetPort` is absent). All the port pass reads of its ports; the
    /// change itself is made in pass 2 from the document.
    pub targets: Box<[(u32, u64)]>,
}

/// The pod ports a Service's `spec.ports` send traffic to, by number.
fn targets(ports: Option<&Value>) -> Box<[(u32, u64)]> {
    let ports = ports.and_then(Value::as_array).into_iter().flatten();
    let target = |p: &Value| match p.get("targetPort") {
        Some(t) => t.as_u64(),
        None => p.get("port").and_then(Value::as_u64),
    };
    ports.enumerate().filter_map(|(i, p)| Some((u32::try_from(i).ok()?, target(p)?))).collect()
}

/// A resource that refers to pod ports by number: NetworkPolicy, PodMonitor, ServiceMonitor.
#[derive(Debug)]
pub struct PolicyEntry {
    pub at: At,
    pub base: String,
    pub kind: String,
    pub namespace: Arc<str>,
    pub value: Value,
}

/// The index of a few documents (a chunk), made by one worker in pass 1
/// and then merged into the stream's ([`super::stream_index`]).
#[derive(Debug, Default)]
pub struct Index {
    /// Pods that declare a privileged port.
    pub pods: Vec<PodEntry>,
    /// Every other pod, as numbers.
    pub others: Vec<OtherPod>,
    pub services: Vec<ServiceEntry>,
    pub policies: Vec<PolicyEntry>,
}

/// Keys whose values indexing never reads in a document whose pods declare
/// no privileged port (it reads kinds, names, labels, selectors, ports and
/// a few pod fields; a document with a privileged port is read whole and
/// planned). Pass 1 leaves these out of its reading: most of a workload's
/// bytes are its env, mounts and probes. tests/index_reading.rs holds the
/// index built so to the index built from whole documents.
pub const UNREAD: &[&str] = &[
    "env",
    "envFrom",
    "volumeMounts",
    "volumes",
    "args",
    "command",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "resources",
    "affinity",
    "tolerations",
];

/// What indexing needs besides the document.
pub struct IndexOptions<'a> {
    pub kinds: &'a [KindRow],
    /// Old port → new port, from the profile.
    pub map: &'a [(u64, u64)],
    pub partial: bool,
}

/// Whether any pod of the document declares one of the privileged ports:
/// only then does indexing need the document's plan (to know whether the
/// pod is left unchanged for blockers).
pub fn has_low_port(doc: &Value, opts: &IndexOptions) -> bool {
    resources(doc).iter().any(|(base, id)| {
        pod_sites(doc, base, id, opts.kinds)
            .iter()
            .any(|site| doc.at(&site.spec).is_some_and(|spec| declares_moved_port(spec, opts.map)))
    })
}

impl Index {
    /// Add document number `doc`. `plan` is its plan, needed (and given)
    /// when it has pods with privileged ports.
    pub fn add(&mut self, doc: usize, value: &Value, plan: Option<&DocPlan>, opts: &IndexOptions) {
        for (r, (base, id)) in resources(value).into_iter().enumerate() {
            let at = At { doc, resource: r };
            let Some(resource) = value.at(&base) else { continue };
            let namespace: Arc<str> = Arc::from(id.namespace.as_deref().unwrap_or_default());
            match (id.group(), id.kind.as_str()) {
                ("", "Service") => self.services.push(ServiceEntry {
                    at,
                    labels: Labels::of(resource.at("/metadata/labels")),
                    namespace: namespace.clone(),
                    name: id.name.as_deref().unwrap_or_default().into(),
                    selector: Labels::of(resource.at("/spec/selector")),
                    headless: resource.at("/spec/clusterIP").and_then(Value::as_str) == Some("None"),
                    targets: targets(resource.at("/spec/ports")),
                }),
                ("networking.k8s.io", "NetworkPolicy") | ("monitoring.coreos.com", "PodMonitor" | "ServiceMonitor")
                    if gives_a_moved_port(resource, opts.map) =>
                {
                    self.policies.push(PolicyEntry {
                        at,
                        base: base.clone(),
                        kind: id.kind.clone(),
                        namespace: namespace.clone(),
                        value: resource.clone(),
                    })
                }
                _ => {}
            }
            let frozen = plan.and_then(|p| p.resources.get(r)).and_then(|res| frozen_resource(res, opts.partial));
            for (site_no, site) in pod_sites(value, &base, &id, opts.kinds).into_iter().enumerate() {
                let Some(spec) = value.at(&site.spec) else { continue };
                let metadata = || value.at(&format!("{}/labels", site.metadata));
                if !declares_moved_port(spec, opts.map) {
                    self.others.push(OtherPod::of(&namespace, metadata()));
                    continue;
                }
                let labels = Labels::of(metadata());
                let pod = pod_entry(spec, at, (site_no, site), labels, &namespace, opts, frozen.clone());
                self.pods.push(pod);
            }
        }
    }
}

/// Whether a NetworkPolicy or monitor gives by number a port that `map`
/// moves: no other can ever be changed (`references` edits only numbers;
/// a port given by name keeps resolving), so no other is kept.
fn gives_a_moved_port(resource: &Value, map: &[(u64, u64)]) -> bool {
    let moves = |v: Option<&Value>| v.and_then(Value::as_u64).is_some_and(|n| map.iter().any(|(o, _)| *o == n));
    let items = |pointer: &str| resource.at(pointer).and_then(Value::as_array).into_iter().flatten();
    let rule_ports = ["/spec/ingress", "/spec/egress"]
        .into_iter()
        .flat_map(items)
        .flat_map(|rule| rule.get("ports").and_then(Value::as_array).into_iter().flatten());
    let endpoints = ["/spec/podMetricsEndpoints", "/spec/endpoints"].into_iter().flat_map(items);
    rule_ports.map(|p| p.get("port")).chain(endpoints.map(|e| e.get("targetPort"))).any(moves)
}

/// Why a resource's pods must keep their ports, from its plan.
fn frozen_resource(res: &crate::plan::ResourcePlan, partial: bool) -> Option<Why> {
    if let Some(why) = &res.skipped {
        Some(format!("the resource is left alone ({why})").into())
    } else if !res.blockers.is_empty() && !partial {
        Some("the pod has blockers and is left unchanged".into())
    } else {
        None
    }
}

fn pod_entry(
    spec: &Value,
    at: At,
    (site_no, site): (usize, PodSite),
    labels: Labels,
    namespace: &Arc<str>,
    opts: &IndexOptions,
    frozen: Option<Why>,
) -> PodEntry {
    let own = own_ports(spec, opts.map);
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let frozen = frozen
        .or_else(|| host_network.then_some("the pod uses the host network".into()))
        .or_else(|| own.host_port.then_some("the pod binds host ports".into()))
        .or_else(|| is_windows(spec).then_some("Windows has no privileged ports".into()));
    let fate = match frozen {
        Some(why) => Fate::Frozen(why),
        None => {
            let moves = assign(&own, opts.map);
            Fate::Movable(Movable { untold: untold(spec, &own, &moves).is_some(), moves: moves.into() })
        }
    };
    let mut low_ports: Vec<u64> = own.low.iter().map(|l| l.port).collect();
    low_ports.sort_unstable();
    low_ports.dedup();
    PodEntry {
        at,
        site_no: u32::try_from(site_no).expect("fewer than 2^32 pods in a resource"),
        pod_security_context: site.pod_security_context,
        namespace: Arc::clone(namespace),
        labels,
        low_ports: low_ports.into(),
        all_bind: own.low.iter().all(|l| l.bind_capability),
        fate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_that_give_no_moved_port_by_number_are_not_kept() {
        let kinds = crate::workload::built_in_kinds();
        let opts = IndexOptions { kinds: &kinds, map: &[(80, 8080)], partial: false };
        let policy = |ports: Value| {
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p"},
                   "spec": {"podSelector": {}, "ingress": [{"ports": ports}]}})
        };
        let monitor = |port: Value| {
            json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "m"},
                   "spec": {"selector": {}, "endpoints": [{"targetPort": port}]}})
        };
        let kept = |doc: Value| {
            let mut index = Index::default();
            index.add(0, &doc, None, &opts);
            index.policies.len()
        };
        assert_eq!(kept(policy(json!([{"port": 80}]))), 1);
        assert_eq!(kept(policy(json!([{"port": 8080}, {"port": "http"}]))), 0);
        assert_eq!(kept(monitor(json!(80))), 1);
        assert_eq!(kept(monitor(json!("http"))), 0);
    }
}
