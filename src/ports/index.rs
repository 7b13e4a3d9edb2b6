//! Pass 1's reading of a document into the port graph: its pods (with a
//! privileged port: what their decision needs; without: their labels, as
//! numbers), its Services, and the objects of the references table that
//! give a moved port by number. A chunk's documents go into a part of the
//! graph of their own, numbered from 0 in the chunk (`PortGraph::merge`).

use super::graph::{
    At, ConfigMap, Fate, KeyNamingAPort, LowPortPod, PodConfig, PortGraph, Reference, Service, configmap_id,
    configmap_number,
};
use super::labels::{Labels, Selector, in_namespace, pair, text};
use super::references::{Matcher, gives_a_moved_port, matcher};
use crate::images::ImageTable;
use crate::plan::DocPlan;
use crate::plan::pod::is_windows;
use crate::pointer::Pointer;
use crate::rules::unprivileged_port::listen_directive;
use crate::rules::unprivileged_port::telling::{Telling, configmaps_used, telling};
use crate::rules::unprivileged_port::{Why, assign, listens_on_moved_port, moved, own_ports};
use crate::workload::{KindRow, PodSite, pod_sites, resources};
use serde_json::Value;
use std::sync::Arc;

/// The pod ports a Service's `spec.ports` send traffic to, by number.
fn targets(ports: Option<&Value>) -> Box<[(u32, u64)]> {
    let ports = ports.and_then(Value::as_array).into_iter().flatten();
    let target = |p: &Value| match p.get("targetPort") {
        Some(t) => t.as_u64(),
        None => p.get("port").and_then(Value::as_u64),
    };
    ports.enumerate().filter_map(|(i, p)| Some((u32::try_from(i).ok()?, target(p)?))).collect()
}

/// Keys whose values indexing never reads in a document whose pods listen
/// on no privileged port (it reads kinds, names, labels, selectors, ports,
/// images, volumes and a few pod fields; a document with a privileged port
/// is read whole and planned). Pass 1 leaves these out of its reading: most of a workload's
/// bytes are its env, mounts and probes. tests/index_reading.rs holds the
/// graph built so to the graph built from whole documents.
pub const UNREAD: &[&str] = &[
    "env",
    "envFrom",
    "volumeMounts",
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
    /// The image table: the ports images listen on by default.
    pub images: &'a ImageTable,
}

/// Whether any pod of the document listens on one of the privileged ports:
/// only then does indexing need the document's plan (to know whether the
/// pod is left unchanged for blockers).
pub fn has_low_port(doc: &Value, opts: &IndexOptions) -> bool {
    let sites = resources(doc).into_iter().flat_map(|(base, id)| pod_sites(doc, &base, &id, opts.kinds));
    sites.filter_map(|site| doc.at(&site.spec)).any(|spec| listens_on_moved_port(spec, opts.map, opts.images))
}

/// Add document number `doc` (of the part's chunk) to `graph`. `plan` is
/// its plan, needed (and given) when it has pods with privileged ports.
pub fn add(graph: &mut PortGraph, doc: usize, value: &Value, plan: Option<&DocPlan>, opts: &IndexOptions) {
    for (r, (base, id)) in resources(value).into_iter().enumerate() {
        let at = At { doc, resource: r };
        let Some(resource) = value.at(&base) else { continue };
        let namespace = graph.namespace(id.namespace.as_deref().unwrap_or_default());
        match matcher(id.group(), &id.kind) {
            Some(Matcher::Service) => {
                let selector = Selector::of(resource.at("/spec/selector"));
                // One that selects nothing harden can see is never read again.
                if !selector.pairs().is_empty() {
                    graph.services.push(Service {
                        at,
                        labels: Labels::of(resource.at("/metadata/labels")),
                        namespace: namespace.clone(),
                        name: id.name.as_deref().unwrap_or_default().into(),
                        selector,
                        headless: resource.at("/spec/clusterIP").and_then(Value::as_str) == Some("None"),
                        targets: targets(resource.at("/spec/ports")),
                    });
                }
            }
            Some(Matcher::MountedConfig) => {
                let name: Box<str> = id.name.as_deref().unwrap_or_default().into();
                let data = resource.get("data").and_then(Value::as_object).into_iter().flatten();
                let naming_a_port: Box<[KeyNamingAPort]> = data
                    .filter_map(|(key, v)| {
                        let text = v.as_str()?;
                        let ports: Box<[u64]> = opts.map.iter().map(|m| m.0).filter(|&p| names_port(text, p)).collect();
                        // The directives are read only in a text that names a moved port.
                        let text =
                            (!ports.is_empty() && listen_directive::acts_on(text, opts.map)).then(|| text.into());
                        (!ports.is_empty()).then(|| KeyNamingAPort { key: key.clone(), ports, text })
                    })
                    .collect();
                let id = configmap_id(&namespace, &name);
                let entry = (!naming_a_port.is_empty()).then(|| {
                    graph.configmaps.push(ConfigMap { at, base: base.clone(), id, name, naming_a_port });
                    configmap_number(graph.configmaps.len() - 1)
                });
                graph.configmap_ids.insert(id, entry);
            }
            Some(matcher) if gives_a_moved_port(matcher, resource, &namespace, opts.map) => {
                let (base, value) = (base.clone(), resource.clone());
                graph.references.push(Reference { at, base, matcher, namespace: namespace.clone(), value });
            }
            _ => {}
        }
        let frozen = plan.and_then(|p| p.resources.get(r)).and_then(|res| frozen_resource(res, opts.partial));
        for (site_no, site) in pod_sites(value, &base, &id, opts.kinds).into_iter().enumerate() {
            let Some(spec) = value.at(&site.spec) else { continue };
            let metadata = value.at(&format!("{}/labels", site.metadata));
            if !listens_on_moved_port(spec, opts.map, opts.images) {
                let labels = metadata.and_then(Value::as_object).into_iter().flatten();
                graph.other_pods.push(labels.map(|(k, v)| in_namespace(&namespace, pair(k, &text(v)))));
                let used = configmaps_used(spec).into_iter().map(|c| configmap_id(&namespace, &c));
                graph.configmaps_of_other_pods.extend(used);
                continue;
            }
            let labels = Labels::of(metadata);
            let pod = pod_entry(spec, at, (site_no, site), labels, &namespace, opts, frozen.clone());
            graph.pods.push(pod);
        }
    }
}

/// Why a resource's pods must keep their ports, from its plan.
fn frozen_resource(res: &crate::plan::ResourcePlan, partial: bool) -> Option<Why> {
    let skipped = res.skipped.as_ref().map(|why| format!("the resource is left alone ({why})").into());
    let blocked = (!res.blockers.is_empty() && !partial).then_some("the pod has blockers and is left unchanged".into());
    skipped.or_else(|| res.port_rule_skipped.clone().map(Into::into)).or(blocked)
}

fn pod_entry(
    spec: &Value,
    at: At,
    (site_no, site): (usize, PodSite),
    labels: Labels,
    namespace: &Arc<str>,
    opts: &IndexOptions,
    frozen: Option<Why>,
) -> LowPortPod {
    let own = own_ports(spec, opts.map, opts.images);
    let host_network = spec.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let frozen = frozen
        .or_else(|| host_network.then_some("the pod uses the host network".into()))
        .or_else(|| own.host_port.then_some("the pod binds host ports".into()))
        .or_else(|| is_windows(spec).then_some("Windows has no privileged ports".into()));
    let mut configs = Vec::new();
    let fate = match frozen {
        Some(why) => Fate::Frozen(why),
        None => {
            let (moves, mut untold) = (assign(&own, opts.map), false);
            for l in own.low.iter().filter(|l| moved(l.port, &moves).is_some()) {
                let told = telling(spec, l, &moves);
                untold |= matches!(told, Telling::Untold { .. }); // as `unprivileged_port::untold` finds
                if let Telling::Config(mounted) = told {
                    let (port, implied, container_name) = (l.port, l.index.is_none(), l.container_name.clone());
                    let container = format!("{}{}", site.spec, l.container);
                    configs.push(PodConfig { port, implied, container, container_name, mounted });
                }
            }
            Fate::Movable { untold, moves: moves.into() }
        }
    };
    let mut low_ports: Vec<u64> = own.low.iter().map(|l| l.port).collect();
    low_ports.sort_unstable();
    low_ports.dedup();
    LowPortPod {
        at,
        site: u32::try_from(site_no).expect("fewer than 2^32 pods in a resource"),
        pod_security_context: site.pod_security_context,
        namespace: Arc::clone(namespace),
        labels,
        low_ports: low_ports.into(),
        fate,
        configs: configs.into(),
        configmaps: configmaps_used(spec).iter().map(|c| configmap_id(namespace, c)).collect(),
    }
}

/// Whether `text` names `port`: its number, not within a longer one.
fn names_port(text: &str, port: u64) -> bool {
    let digit_at = |i: usize| text.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    let number = port.to_string();
    text.match_indices(&number).any(|(i, _)| (i == 0 || !digit_at(i - 1)) && !digit_at(i + number.len()))
}
