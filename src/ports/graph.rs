//! The stream as the port decisions see it, in memory: the pods that
//! declare a privileged port, every Service, the labels of every other pod,
//! and the objects that give a moved port by number (NetworkPolicies,
//! monitors, …: `references`). Pass 1 builds one part per chunk
//! (`index`); the parts are merged in stream order.

use super::Why;
use super::labels::Labels;
use super::references::Matcher;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// Where a resource is: its document's number in the stream and its index
/// among that document's resources (a `List` has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct At {
    pub doc: usize,
    pub resource: usize,
}

/// A pod that declares a privileged port: what its decision needs.
#[derive(Debug, PartialEq)]
pub struct Pod {
    pub at: At,
    /// Its number among the resource's pods (`workload::pod_sites` order).
    pub site: u32,
    /// Whether its kind has a pod securityContext (for the sysctl).
    pub pod_security_context: bool,
    pub namespace: Arc<str>,
    pub labels: Labels,
    /// The privileged ports it declares, sorted.
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
    /// Old → new port numbers, and whether harden cannot tell one of its
    /// containers the new port (auto then falls back to the sysctl).
    Movable { moves: Box<[(u64, u64)]>, untold: bool },
}

#[derive(Debug, PartialEq)]
pub struct Service {
    pub at: At,
    pub labels: Labels,
    pub namespace: Arc<str>,
    pub name: Box<str>,
    /// Its selector, as labels (never empty: a Service without one selects
    /// no pod harden can see, and is not kept).
    pub selector: Labels,
    pub headless: bool,
    /// The pod ports it sends traffic to, where given by number: (the
    /// number of its port in `spec.ports`, `targetPort`, or `port` where
    /// `targetPort` is absent).
    pub targets: Box<[(u32, u64)]>,
}

/// The pods that declare no privileged port. Such a pod never moves; it
/// matters only as a pod that a Service may select next to pods that would
/// move (then those keep their port). So all that is kept of it is each of
/// its (namespace, label, value) triples as a number (`labels::triple`):
/// two triples that hash the same can only make a Service seem to select
/// it, which makes harden choose the sysctl over a move: safe either way.
#[derive(Debug, Default, PartialEq)]
pub struct OtherPods {
    triples: Vec<u64>,
    /// Where each pod's triples end in `triples`.
    ends: Vec<usize>,
}

impl OtherPods {
    pub fn push(&mut self, triples: impl IntoIterator<Item = u64>) {
        self.triples.extend(triples);
        self.ends.push(self.triples.len());
    }

    /// Each pod's triples, in stream order.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.triples[start..end])
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// An object of the references table (other than a Service) that gives a
/// port the profile moves by number: only such an object can ever change.
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
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub other_pods: OtherPods,
    pub references: Vec<Reference>,
    /// Every namespace named, held once.
    namespaces: HashSet<Arc<str>>,
}

impl PortGraph {
    /// The namespace `name`, held once for the whole graph.
    pub fn namespace(&mut self, name: &str) -> Arc<str> {
        match self.namespaces.get(name) {
            Some(held) => Arc::clone(held),
            None => {
                let held: Arc<str> = Arc::from(name);
                self.namespaces.insert(Arc::clone(&held));
                held
            }
        }
    }

    /// Append the next chunk's part, whose document numbers count from the
    /// chunk's first document: that is document `first_doc` of the stream.
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
        for triples in part.other_pods.iter() {
            self.other_pods.push(triples.iter().copied());
        }
        for mut r in part.references {
            (r.at, r.namespace) = (at(r.at), self.namespace(&r.namespace));
            self.references.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_part_counts_its_documents_from_its_first_and_shares_namespaces() {
        let mut graph = PortGraph::default();
        let mut part = PortGraph::default();
        let shop = part.namespace("shop");
        let service = |doc, namespace| Service {
            at: At { doc, resource: 1 },
            labels: Labels::default(),
            namespace,
            name: "web".into(),
            selector: Labels::single("app", "web"),
            headless: false,
            targets: Box::new([]),
        };
        part.services.push(service(2, shop.clone()));
        part.other_pods.push([7, 8]);
        part.other_pods.push([]);
        graph.merge(part, 10);
        let mut second = PortGraph::default();
        second.services.push(service(0, Arc::from("shop")));
        second.other_pods.push([9]);
        graph.merge(second, 13);
        let docs: Vec<usize> = graph.services.iter().map(|s| s.at.doc).collect();
        assert_eq!(docs, [12, 13]);
        assert!(Arc::ptr_eq(&graph.services[0].namespace, &graph.services[1].namespace));
        let others: Vec<&[u64]> = graph.other_pods.iter().collect();
        assert_eq!(others, [&[7, 8][..], &[], &[9]]);
    }
}
