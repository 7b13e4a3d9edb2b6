//! The index pass over the whole stream: every pod with its labels and
//! ports, every Service, NetworkPolicy and monitor that could point at a
//! pod port. Documents are added one at a time and dropped afterwards, so
//! the index holds only what the port decisions need. Positions are
//! (document, resource) so changes can be filed back into the right plan.

use super::labels::{Labels, Names};
use crate::plan::DocPlan;
use crate::plan::change::{Change, Note};
use crate::plan::pod::{CONTAINER_LISTS, is_windows};
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

/// A declared privileged port of one container.
#[derive(Clone, Debug)]
pub struct LowPort {
    /// Pointer to the container, relative to the pod spec.
    pub container: String,
    pub container_name: String,
    /// Index of the port in the container's `ports`.
    pub index: usize,
    pub port: u64,
    /// The container adds NET_BIND_SERVICE: it is built to bind low ports.
    pub bind_capability: bool,
}

#[derive(Debug)]
pub struct PodEntry {
    pub at: At,
    pub site: PodSite,
    pub namespace: Arc<str>,
    pub labels: Labels,
    /// Every containerPort the pod declares.
    pub declared: Vec<u64>,
    pub low: Vec<LowPort>,
    /// Why the pod's ports must not change at all, if so.
    pub frozen: Option<String>,
    /// Whether the pod already sets the unprivileged-port sysctl.
    pub sysctl_present: bool,
    /// What moving its ports would change inside its own document, worked
    /// out while the document is at hand (boxed: most pods have none).
    pub candidate: Box<Candidate>,
}

/// A pod's own side of a move: the new numbers, the edits inside the pod
/// (containerPort, probes, hooks, env, flags, annotations), and whether harden
/// can tell every affected app its new port.
#[derive(Debug, Default)]
pub struct Candidate {
    pub moves: Vec<(u64, u64)>,
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
    /// The first container harden cannot tell, if any (auto falls back to the sysctl).
    pub untold: Option<String>,
}

#[derive(Debug)]
pub struct ServiceEntry {
    pub at: At,
    /// Pointer to the resource in its document.
    pub base: String,
    pub labels: Labels,
    pub namespace: Arc<str>,
    pub name: String,
    pub selector: Option<Value>,
    pub headless: bool,
    pub ports: Vec<ServicePort>,
}

/// What the port pass reads of one of a Service's ports (the rest of it,
/// name, protocol, nodePort, is never needed and not kept).
#[derive(Debug)]
pub struct ServicePort {
    pub port: Option<Value>,
    pub target_port: Option<Value>,
}

impl ServicePort {
    fn of(p: &Value) -> ServicePort {
        ServicePort { port: p.get("port").cloned(), target_port: p.get("targetPort").cloned() }
    }
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

#[derive(Debug, Default)]
pub struct Index {
    pub pods: Vec<PodEntry>,
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
    /// Where the index keeps its strings, one copy each.
    pub names: &'a Names,
}

/// Whether any pod of the document declares one of the privileged ports:
/// only then does indexing need the document's plan (to know whether the
/// pod is left unchanged for blockers).
pub fn has_low_port(doc: &Value, opts: &IndexOptions) -> bool {
    resources(doc).iter().any(|(base, id)| {
        pod_sites(doc, base, id, opts.kinds).iter().any(|site| {
            doc.at(&site.spec).is_some_and(|spec| {
                CONTAINER_LISTS.iter().any(|list| {
                    spec.get(*list).and_then(Value::as_array).into_iter().flatten().any(|c| {
                        c.get("ports").and_then(Value::as_array).into_iter().flatten().any(|p| {
                            p.get("containerPort")
                                .and_then(Value::as_u64)
                                .is_some_and(|n| opts.map.iter().any(|(o, _)| *o == n))
                        })
                    })
                })
            })
        })
    })
}

impl Index {
    /// Append another index (of later documents).
    pub fn merge(&mut self, other: Index) {
        self.pods.extend(other.pods);
        self.services.extend(other.services);
        self.policies.extend(other.policies);
    }

    /// Add document number `doc`. `plan` is its plan, needed (and given)
    /// when it has pods with privileged ports.
    pub fn add(&mut self, doc: usize, value: &Value, plan: Option<&DocPlan>, opts: &IndexOptions) {
        for (r, (base, id)) in resources(value).into_iter().enumerate() {
            let at = At { doc, resource: r };
            let Some(resource) = value.at(&base) else { continue };
            let namespace = opts.names.get(id.namespace.as_deref().unwrap_or_default());
            match (id.group(), id.kind.as_str()) {
                ("", "Service") => self.services.push(ServiceEntry {
                    at,
                    base: base.clone(),
                    labels: Labels::of(resource.at("/metadata/labels"), opts.names),
                    namespace: namespace.clone(),
                    name: id.name.clone().unwrap_or_default(),
                    selector: resource.at("/spec/selector").cloned(),
                    headless: resource.at("/spec/clusterIP").and_then(Value::as_str) == Some("None"),
                    ports: resource
                        .at("/spec/ports")
                        .and_then(Value::as_array)
                        .map(|ports| ports.iter().map(ServicePort::of).collect())
                        .unwrap_or_default(),
                }),
                ("networking.k8s.io", "NetworkPolicy") | ("monitoring.coreos.com", "PodMonitor" | "ServiceMonitor") => {
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
            for site in pod_sites(value, &base, &id, opts.kinds) {
                if let Some(entry) = pod_entry(value, at, site, &namespace, opts, frozen.clone()) {
                    self.pods.push(entry);
                }
            }
        }
    }
}

/// Why a resource's pods must keep their ports, from its plan.
fn frozen_resource(res: &crate::plan::ResourcePlan, partial: bool) -> Option<String> {
    if let Some(why) = &res.skipped {
        Some(format!("the resource is left alone ({why})"))
    } else if !res.blockers.is_empty() && !partial {
        Some("the pod has blockers and is left unchanged".to_string())
    } else {
        None
    }
}

fn pod_entry(
    doc: &Value,
    at: At,
    site: PodSite,
    namespace: &Arc<str>,
    opts: &IndexOptions,
    frozen: Option<String>,
) -> Option<PodEntry> {
    let spec = doc.at(&site.spec)?;
    let map = opts.map;
    let labels = Labels::of(doc.at(&format!("{}/labels", site.metadata)), opts.names);
    let mut declared = Vec::new();
    let mut lows = Vec::new();
    let mut host_port = false;
    for list in CONTAINER_LISTS {
        for (ci, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let bind_capability =
                c.at("/securityContext/capabilities/add").and_then(Value::as_array).is_some_and(|a| {
                    a.iter().any(|x| matches!(x.as_str(), Some("NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE")))
                });
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            for (pi, p) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let Some(port) = p.get("containerPort").and_then(Value::as_u64) else { continue };
                declared.push(port);
                host_port |= p.get("hostPort").and_then(Value::as_u64).is_some_and(|h| h != 0);
                if map.iter().any(|(o, _)| *o == port) {
                    lows.push(LowPort {
                        container: format!("/{list}/{ci}"),
                        container_name: name.clone(),
                        index: pi,
                        port,
                        bind_capability,
                    });
                }
            }
        }
    }
    let frozen = frozen
        .or_else(|| {
            (spec.get("hostNetwork").and_then(Value::as_bool) == Some(true))
                .then(|| "the pod uses the host network".to_string())
        })
        .or_else(|| host_port.then(|| "the pod binds host ports".to_string()))
        .or_else(|| is_windows(spec).then(|| "Windows has no privileged ports".to_string()));
    let sysctl_present = spec
        .at("/securityContext/sysctls")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(super::SYSCTL)));
    let mut entry = PodEntry {
        at,
        site,
        namespace: Arc::clone(namespace),
        labels,
        declared,
        low: lows,
        frozen,
        sysctl_present,
        candidate: Box::default(),
    };
    if !entry.low.is_empty() && entry.frozen.is_none() {
        entry.candidate = Box::new(super::candidate(doc, &entry, map));
    }
    Some(entry)
}
