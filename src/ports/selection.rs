//! Which pods with a privileged port each Service selects. Checking every
//! Service against every pod is quadratic; instead the Services are keyed by
//! their selector's first pair in their namespace (`labels::in_namespace`,
//! a triple; a sorted list, smaller than a hash map for a stream's
//! many Services), every label of every pod is looked up there, and each
//! Service so found has its whole selector checked: against the hashed
//! pairs of a pod with a privileged port, against the triples of another
//! pod (all the graph keeps of those).

use super::graph::PortGraph;
use super::labels::in_namespace;

/// A Service that selects at least one pod with a privileged port.
#[derive(Debug, PartialEq)]
pub struct Selection {
    /// Its number in the graph's Services.
    pub service: usize,
    /// The pods it selects: their numbers in the graph's pods, increasing.
    pub pods: Vec<usize>,
    /// Whether it also selects a pod without a privileged port.
    pub selects_other: bool,
}

/// Every Service that selects a pod with a privileged port, in stream order.
pub fn selections(graph: &PortGraph) -> Vec<Selection> {
    let mut by_first_pair: Vec<(u64, usize)> = (graph.services.iter().enumerate())
        .filter_map(|(s, svc)| svc.selector.pairs().first().map(|&p| (in_namespace(&svc.namespace, p), s)))
        .collect();
    by_first_pair.sort_unstable();
    let candidates = |t: u64| {
        let from = by_first_pair.partition_point(|&(x, _)| x < t);
        by_first_pair[from..].iter().take_while(move |&&(x, _)| x == t).map(|&(_, s)| s)
    };
    // (Service, pod) for each pod with a privileged port a Service selects.
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (p, pod) in graph.pods.iter().enumerate() {
        for &pair in pod.labels.pairs() {
            let selects = |&s: &usize| {
                graph.services[s].namespace == pod.namespace && graph.services[s].selector.selects(&pod.labels)
            };
            edges.extend(candidates(in_namespace(&pod.namespace, pair)).filter(selects).map(|s| (s, p)));
        }
    }
    edges.sort_unstable();
    edges.dedup();
    let mut out: Vec<Selection> = Vec::new();
    for (service, pod) in edges {
        match out.last_mut() {
            Some(last) if last.service == service => last.pods.push(pod),
            _ => out.push(Selection { service, pods: vec![pod], selects_other: false }),
        }
    }
    for triples in graph.other_pods.iter() {
        for s in triples.iter().flat_map(|&t| candidates(t)) {
            let Ok(i) = out.binary_search_by_key(&s, |sel| sel.service) else { continue };
            let svc = &graph.services[s];
            out[i].selects_other |=
                svc.selector.pairs().iter().all(|&p| triples.contains(&in_namespace(&svc.namespace, p)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::graph::Service;
    use crate::ports::graph::literal::{movable, pod, service};
    use crate::ports::labels::{Labels, pair};

    #[test]
    fn the_hash_join_finds_what_checking_every_service_against_every_pod_finds() {
        // Labels drawn from few namespaces, keys and values, by a small
        // deterministic generator, so that selectors often nearly match.
        let mut state = 7u64;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % n as u64) as usize
        };
        let mut labels = |len: usize| -> (&str, Vec<(&str, &str)>) {
            let namespace = ["", "shop", "data"][next(3)];
            let mut pairs = Vec::new();
            for k in ["app", "tier", "team", "a:b"] {
                let v = ["web", "x", "1"][next(3)];
                if next(2) == 0 && pairs.len() < len {
                    pairs.push((k, v));
                }
            }
            (namespace, pairs)
        };
        let mut graph = PortGraph::default();
        for doc in 0..300 {
            let (ns, l) = labels(4);
            graph.pods.push(pod(doc, ns, &l, movable()));
        }
        let others: Vec<(&str, Vec<(&str, &str)>)> = (0..200).map(|_| labels(4)).collect();
        for (ns, l) in &others {
            graph.other_pods.push(l.iter().map(|(k, v)| in_namespace(ns, pair(k, v))));
        }
        for doc in 0..120 {
            let (ns, l) = labels(1 + doc % 3);
            graph.services.push(service(doc, ns, "s", &l, false));
        }
        graph.services.retain(|s| !s.selector.pairs().is_empty());
        let selects = |s: &Service, ns: &str, l: &Labels| *s.namespace == *ns && s.selector.selects(l);
        let want: Vec<Selection> = (graph.services.iter().enumerate())
            .filter_map(|(service, s)| {
                let pods = graph.pods.iter().enumerate().filter(|(_, p)| selects(s, &p.namespace, &p.labels));
                let pods: Vec<usize> = pods.map(|(p, _)| p).collect();
                let selects_other = others.iter().any(|(ns, l)| selects(s, ns, &Labels::from_pairs(l.iter().copied())));
                (!pods.is_empty()).then_some(Selection { service, pods, selects_other })
            })
            .collect();
        assert!(want.len() > 20 && want.iter().any(|w| w.selects_other) && want.iter().any(|w| !w.selects_other));
        assert_eq!(selections(&graph), want);
    }
}
