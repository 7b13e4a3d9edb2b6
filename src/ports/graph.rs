//! The stream as the port decisions see it, in memory: the pods that
//! listen on a privileged port, every Service that selects pods, the labels
//! of every other pod, the objects that give a moved port by number
//! (`references`), the ConfigMaps. Pass 1 reads each chunk into a part
//! (`index`); the parts are merged in stream order.

use super::labels::{Labels, Selector};
use super::references::Matcher;
use crate::rules::unprivileged_port::Why;
use crate::rules::unprivileged_port::telling::MountedConfig;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where a resource is: its document's number in the stream and its index
/// among that document's resources (a `List` has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct At {
    pub doc: usize,
    pub resource: usize,
}

/// A pod that listens on a privileged port (declared, or its image's by
/// its row): what its decision needs.
#[derive(Debug, PartialEq)]
pub struct LowPortPod {
    pub at: At,
    /// Its number among the resource's pods (`workload::pod_sites` order).
    pub site: u32,
    /// Whether its kind has a pod securityContext (for the sysctl).
    pub pod_security_context: bool,
    pub namespace: Arc<str>,
    pub labels: Labels,
    /// The privileged ports it listens on, sorted.
    pub low_ports: Box<[u64]>,
    pub fate: Fate,
    /// Where its app reads a moved port from a config file that a
    /// ConfigMap provides.
    pub configs: Box<[PodConfig]>,
    /// The ConfigMaps its volumes take files from, by [`configmap_id`].
    pub configmaps: Box<[u64]>,
}

/// A port a container's app reads from its config file, mounted from a
/// ConfigMap.
#[derive(Debug, PartialEq)]
pub struct PodConfig {
    pub port: u64,
    /// The manifest does not declare the port: the image's row gives it.
    pub implied: bool,
    /// The container: its pointer in the document, and its name.
    pub container: String,
    pub container_name: String,
    pub mounted: MountedConfig,
}

/// A ConfigMap: its keys whose text names a port the profile moves (the
/// others can never change, and only their absence matters).
#[derive(Debug, PartialEq)]
pub struct ConfigMap {
    pub at: At,
    /// Its pointer in its document ("" or `/items/N`).
    pub base: String,
    /// Its [`configmap_id`].
    pub id: u64,
    pub name: Box<str>,
    pub naming_a_port: Box<[KeyNamingAPort]>,
}

/// A ConfigMap key whose text names a port the profile moves.
#[derive(Debug, PartialEq)]
pub struct KeyNamingAPort {
    pub key: String,
    /// The moved ports the text names.
    pub ports: Box<[u64]>,
    /// The text, only where a listen directive harden reads acts on a moved
    /// port in it: configs that merely mention port 80 cost no memory.
    pub text: Option<String>,
}

/// What pass 1 found a pod's ports may do.
#[derive(Debug, PartialEq)]
pub enum Fate {
    /// Nothing at all, and why.
    Frozen(Why),
    /// Move (old → new); `untold`: harden cannot tell some container's app
    /// the new port from the pod alone (auto then takes the sysctl; which
    /// container and why, pass 2 reads again: a stream may hold many).
    Movable { moves: Box<[(u64, u64)]>, untold: bool },
}

#[derive(Debug, PartialEq)]
pub struct Service {
    pub at: At,
    /// Its labels, for ServiceMonitors' selectors.
    pub labels: Labels,
    pub namespace: Arc<str>,
    pub name: Box<str>,
    /// Never empty: a Service without a selector selects no pod harden can
    /// see, and is not kept.
    pub selector: Selector,
    pub headless: bool,
    /// The pod ports it sends traffic to, where given by number: (the
    /// number of its port in `spec.ports`, `targetPort`, else `port`).
    pub targets: Box<[(u32, u64)]>,
}

/// The pods that declare no privileged port. Such a pod never moves; it
/// matters only as one that a Service may select next to pods that would
/// move (then those keep their port). So all that is kept of it is each
/// label as a number with its namespace (`labels::in_namespace`, a
/// triple): two that hash the same can only make a Service seem to select
/// it, which makes harden choose the sysctl over a move: safe either way.
#[derive(Debug, Default, PartialEq)]
pub struct OtherPods {
    triples: Vec<u64>,
    /// Where each pod's triples end in `triples`.
    ends: Vec<u32>,
}

impl OtherPods {
    pub fn push(&mut self, triples: impl IntoIterator<Item = u64>) {
        self.triples.extend(triples);
        self.ends.push(u32::try_from(self.triples.len()).expect("fewer than 2^32 pod labels"));
    }

    /// Each pod's triples, in stream order.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.triples[start as usize..end as usize])
    }
}

/// An object of the references table (other than a Service) that gives a
/// port the profile moves by number: no other can ever change.
#[derive(Debug)]
pub struct Reference {
    pub at: At,
    /// Its pointer in its document ("" or `/items/N`).
    pub base: String,
    pub matcher: Matcher,
    pub namespace: Arc<str>,
    pub value: Value,
}

/// The whole stream's graph, or one chunk's part of it.
#[derive(Debug, Default)]
pub struct PortGraph {
    /// Pods that declare a privileged port, in stream order.
    pub pods: Vec<LowPortPod>,
    pub services: Vec<Service>,
    pub other_pods: OtherPods,
    pub references: Vec<Reference>,
    /// The ConfigMaps whose text names a port the profile moves.
    pub configmaps: Vec<ConfigMap>,
    /// Every ConfigMap of the stream, by [`configmap_id`]: its entry in
    /// `configmaps`, or none where its text names no moved port (a pod
    /// that mounts it does not listen on its image's default port). A name
    /// given twice is the last one, as `kubectl apply` leaves it.
    pub configmap_ids: HashMap<u64, Option<u32>>,
    /// The ConfigMaps (by [`configmap_id`]) that pods other than `pods`
    /// take files from: a pod that rewrites one never moves its port.
    pub configmaps_of_other_pods: HashSet<u64>,
    /// Every namespace named, held once.
    namespaces: HashSet<Arc<str>>,
}

impl PortGraph {
    /// The namespace `name`, held once for the whole graph.
    pub fn namespace(&mut self, name: &str) -> Arc<str> {
        if let Some(held) = self.namespaces.get(name) {
            return Arc::clone(held);
        }
        let held: Arc<str> = Arc::from(name);
        self.namespaces.insert(Arc::clone(&held));
        held
    }

    /// Append the next chunk's part, whose document numbers count from the
    /// chunk's first document: document `first_doc` of the stream.
    pub fn merge(&mut self, part: PortGraph, first_doc: usize) {
        let at = |at: At| At { doc: first_doc + at.doc, resource: at.resource };
        for mut pod in part.pods {
            (pod.at, pod.namespace) = (at(pod.at), self.namespace(&pod.namespace));
            self.pods.push(pod);
        }
        for mut svc in part.services {
            (svc.at, svc.namespace) = (at(svc.at), self.namespace(&svc.namespace));
            self.services.push(svc);
        }
        part.other_pods.iter().for_each(|triples| self.other_pods.push(triples.iter().copied()));
        for mut r in part.references {
            (r.at, r.namespace) = (at(r.at), self.namespace(&r.namespace));
            self.references.push(r);
        }
        let first_configmap = configmap_number(self.configmaps.len());
        self.configmaps.extend(part.configmaps.into_iter().map(|c| ConfigMap { at: at(c.at), ..c }));
        for (id, entry) in part.configmap_ids {
            self.configmap_ids.insert(id, entry.map(|i| first_configmap + i));
        }
        self.configmaps_of_other_pods.extend(part.configmaps_of_other_pods);
    }
}

/// A ConfigMap's number in `configmaps`, as `configmap_ids` holds it.
pub fn configmap_number(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 ConfigMaps")
}

/// A ConfigMap's name in `namespace`, hashed (as label triples are): only
/// whether two are the same one matters.
pub fn configmap_id(namespace: &str, name: &str) -> u64 {
    super::labels::in_namespace(namespace, super::labels::pair("ConfigMap", name))
}

/// Graphs written out, for the tests of the steps that read them.
#[cfg(test)]
pub mod literal {
    use super::*;

    /// A pod of `namespace` with `labels` that declares port 80.
    pub fn pod(doc: usize, namespace: &str, labels: &[(&str, &str)], fate: Fate) -> LowPortPod {
        let (at, labels) = (At { doc, resource: 0 }, Labels::from_pairs(labels.iter().copied()));
        let (namespace, low_ports) = (namespace.into(), [80].into());
        let (configs, configmaps) = (Box::default(), Box::default());
        LowPortPod { at, site: 0, pod_security_context: true, namespace, labels, low_ports, fate, configs, configmaps }
    }

    /// A pod's fate where it can move 80 to 8080.
    pub fn movable() -> Fate {
        Fate::Movable { moves: [(80, 8080)].into(), untold: false }
    }

    /// A Service labelled `team: NAME` that sends traffic to port 80.
    pub fn service(doc: usize, namespace: &str, name: &str, selector: &[(&str, &str)], headless: bool) -> Service {
        let labels = Labels::of(Some(&serde_json::json!({"team": name})));
        let (at, namespace) = (At { doc, resource: 0 }, namespace.into());
        let (name, selector) = (name.into(), Selector::from_pairs(selector));
        Service { at, labels, namespace, name, selector, headless, targets: [(0, 80)].into() }
    }

    pub fn graph(pods: Vec<LowPortPod>, services: Vec<Service>) -> PortGraph {
        PortGraph { pods, services, ..PortGraph::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::literal::service;
    use super::*;

    #[test]
    fn a_merged_part_counts_its_documents_from_its_first_and_shares_namespaces() {
        let (mut graph, mut first, mut second) = (PortGraph::default(), PortGraph::default(), PortGraph::default());
        first.services.push(service(2, "shop", "web", &[("app", "web")], false));
        first.other_pods.push([7, 8]);
        first.other_pods.push([]);
        second.services.push(service(0, "shop", "web", &[("app", "web")], false));
        second.other_pods.push([9]);
        graph.merge(first, 10);
        graph.merge(second, 13);
        assert_eq!(graph.services.iter().map(|s| s.at.doc).collect::<Vec<_>>(), [12, 13]);
        assert!(Arc::ptr_eq(&graph.services[0].namespace, &graph.services[1].namespace));
        assert_eq!(graph.other_pods.iter().collect::<Vec<_>>(), [&[7, 8][..], &[], &[9]]);
    }
}
