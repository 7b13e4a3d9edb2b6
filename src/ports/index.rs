//! The index pass over the whole stream: every pod that declares a
//! privileged port, every Service, NetworkPolicy and monitor that could
//! point at one. Positions are (slot, resource) so changes can be filed
//! back into the right plan.

use crate::plan::DocPlan;
use crate::plan::pod::{CONTAINER_LISTS, is_windows};
use crate::workload::{KindRow, PodSite, pod_sites};
use serde_json::{Map, Value};

/// One document of the stream, as the ports pass sees it.
pub struct Slot<'a> {
    pub value: &'a Value,
    pub plan: &'a mut DocPlan,
}

/// Where a resource is: its slot and its index in that slot's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub slot: usize,
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

pub struct PodEntry {
    pub at: At,
    pub site: PodSite,
    pub namespace: String,
    pub labels: Map<String, Value>,
    /// Every containerPort the pod declares.
    pub declared: Vec<u64>,
    pub low: Vec<LowPort>,
    /// Why the pod's ports must not change at all, if so.
    pub frozen: Option<String>,
}

pub struct ServiceEntry {
    pub at: At,
    /// Pointer to the resource in its document.
    pub base: String,
    pub labels: Map<String, Value>,
    pub namespace: String,
    pub name: String,
    pub selector: Option<Value>,
    pub headless: bool,
    pub ports: Vec<Value>,
}

/// A resource that refers to pod ports by number: NetworkPolicy, PodMonitor, ServiceMonitor.
pub struct PolicyEntry {
    pub at: At,
    pub base: String,
    pub kind: String,
    pub namespace: String,
    pub value: Value,
}

pub struct Index {
    pub pods: Vec<PodEntry>,
    pub services: Vec<ServiceEntry>,
    pub policies: Vec<PolicyEntry>,
}

/// Read the stream. `low` is the set of ports to look for (the profile's map).
pub fn build(slots: &[Slot], kinds: &[KindRow], low: &[u64], partial: bool) -> Index {
    let mut index = Index { pods: Vec::new(), services: Vec::new(), policies: Vec::new() };
    for (s, slot) in slots.iter().enumerate() {
        for (r, res) in slot.plan.resources.iter().enumerate() {
            let at = At { slot: s, resource: r };
            let Some(value) = slot.value.pointer(&res.base) else { continue };
            let namespace = res.id.namespace.clone().unwrap_or_default();
            match (res.id.group(), res.id.kind.as_str()) {
                ("", "Service") => index.services.push(ServiceEntry {
                    at,
                    base: res.base.clone(),
                    labels: value.pointer("/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default(),
                    namespace: namespace.clone(),
                    name: res.id.name.clone().unwrap_or_default(),
                    selector: value.pointer("/spec/selector").cloned(),
                    headless: value.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None"),
                    ports: value.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default(),
                }),
                ("networking.k8s.io", "NetworkPolicy") | ("monitoring.coreos.com", "PodMonitor" | "ServiceMonitor") => {
                    index.policies.push(PolicyEntry {
                        at,
                        base: res.base.clone(),
                        kind: res.id.kind.clone(),
                        namespace: namespace.clone(),
                        value: value.clone(),
                    })
                }
                _ => {}
            }
            if res.pods == 0 {
                continue;
            }
            let frozen = if let Some(why) = &res.skipped {
                Some(format!("the resource is left alone ({why})"))
            } else if !res.blockers.is_empty() && !partial {
                Some("the pod has blockers and is left unchanged".to_string())
            } else {
                None
            };
            for site in pod_sites(slot.value, &res.base, &res.id, kinds) {
                if let Some(entry) = pod_entry(slot.value, at, site, &namespace, low, frozen.clone()) {
                    index.pods.push(entry);
                }
            }
        }
    }
    index
}

fn pod_entry(
    doc: &Value,
    at: At,
    site: PodSite,
    namespace: &str,
    low: &[u64],
    frozen: Option<String>,
) -> Option<PodEntry> {
    let spec = doc.pointer(&site.spec)?;
    let labels =
        doc.pointer(&format!("{}/labels", site.metadata)).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut declared = Vec::new();
    let mut lows = Vec::new();
    let mut host_port = false;
    for list in CONTAINER_LISTS {
        for (ci, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let bind_capability =
                c.pointer("/securityContext/capabilities/add").and_then(Value::as_array).is_some_and(|a| {
                    a.iter().any(|x| matches!(x.as_str(), Some("NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE")))
                });
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            for (pi, p) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let Some(port) = p.get("containerPort").and_then(Value::as_u64) else { continue };
                declared.push(port);
                host_port |= p.get("hostPort").and_then(Value::as_u64).is_some_and(|h| h != 0);
                if low.contains(&port) {
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
    Some(PodEntry { at, site, namespace: namespace.to_string(), labels, declared, low: lows, frozen })
}
