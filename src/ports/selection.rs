//! Which pods with a privileged port each Service selects. Checking every
//! Service against every pod is quadratic; instead the Services are keyed by
//! the (namespace, label, value) triple of their selector's first pair
//! (`labels::triple`), every label of every pod is looked up there, and
//! each Service so found has its whole selector checked: exactly against a
//! pod with a privileged port, by triples against another pod (all the
//! graph keeps of those).

use super::graph::PortGraph;
use super::labels::triple;
use std::collections::HashMap;

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
    let mut by_first_pair: HashMap<u64, Vec<usize>> = HashMap::new();
    for (s, svc) in graph.services.iter().enumerate() {
        if let Some((k, v)) = svc.selector.first() {
            by_first_pair.entry(triple(&svc.namespace, k, v)).or_default().push(s);
        }
    }
    let candidates = |t: u64| by_first_pair.get(&t).into_iter().flatten().copied();
    let mut pods: Vec<Vec<usize>> = vec![Vec::new(); graph.services.len()];
    for (p, pod) in graph.pods.iter().enumerate() {
        for (k, v) in pod.labels.iter() {
            for s in candidates(triple(&pod.namespace, k, v)) {
                let svc = &graph.services[s];
                if svc.namespace == pod.namespace && svc.selector.selects(&pod.labels) && pods[s].last() != Some(&p) {
                    pods[s].push(p);
                }
            }
        }
    }
    let mut selects_other = vec![false; graph.services.len()];
    for triples in graph.other_pods.iter() {
        for &t in triples {
            for s in candidates(t) {
                let svc = &graph.services[s];
                if !pods[s].is_empty()
                    && svc.selector.iter().all(|(k, v)| triples.contains(&triple(&svc.namespace, k, v)))
                {
                    selects_other[s] = true;
                }
            }
        }
    }
    (pods.into_iter().zip(selects_other).enumerate())
        .filter(|(_, (pods, _))| !pods.is_empty())
        .map(|(service, (pods, selects_other))| Selection { service, pods, selects_other })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::graph::{At, Fate, Pod, Service};
    use crate::ports::labels::{Labels, text};
    use serde_json::{Value, json};
    use std::sync::Arc;

    /// A small deterministic generator (no dependency for tests).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    const NAMESPACES: [&str; 3] = ["", "shop", "data"];
    const KEYS: [&str; 4] = ["app", "tier", "team", "a:b"];
    const VALUES: [&str; 3] = ["web", "x", "1"];

    fn labels(rng: &mut Lcg, at_least: usize) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        for k in KEYS {
            if rng.next(2) == 0 || out.len() < at_least {
                out.push((k, VALUES[rng.next(VALUES.len())]));
            }
        }
        out
    }

    fn pod(n: usize, namespace: &str, labels: &[(&str, &str)]) -> Pod {
        Pod {
            at: At { doc: n, resource: 0 },
            site: 0,
            pod_security_context: true,
            namespace: Arc::from(namespace),
            labels: Labels::from_pairs(labels.iter().copied()),
            low_ports: vec![80].into(),
            all_bind: false,
            fate: Fate::Movable { moves: vec![(80, 8080)].into(), untold: false },
        }
    }

    fn service(n: usize, namespace: &str, selector: &[(&str, &str)]) -> Service {
        Service {
            at: At { doc: n, resource: 0 },
            labels: Labels::default(),
            namespace: Arc::from(namespace),
            name: format!("svc-{n}").into(),
            selector: Labels::from_pairs(selector.iter().copied()),
            headless: false,
            targets: vec![(0, 80)].into(),
        }
    }

    #[test]
    fn the_hash_join_finds_what_checking_every_service_against_every_pod_finds() {
        let mut rng = Lcg(7);
        let ns = |rng: &mut Lcg| NAMESPACES[rng.next(NAMESPACES.len())];
        let mut graph = PortGraph::default();
        graph.pods = (0..300).map(|n| pod(n, ns(&mut rng), &labels(&mut rng, 0))).collect();
        let others: Vec<(&str, Vec<(&str, &str)>)> = (0..200).map(|_| (ns(&mut rng), labels(&mut rng, 0))).collect();
        // Selectors of one to three pairs (and some empty: they select nothing).
        graph.services = (0..120)
            .map(|n| {
                let mut sel = labels(&mut rng, 1);
                sel.truncate(if n % 10 == 0 { 0 } else { 1 + rng.next(3) });
                service(n, ns(&mut rng), &sel)
            })
            .collect();
        for (ns, l) in &others {
            let value = Value::Object(l.iter().map(|(k, v)| (k.to_string(), json!(v))).collect());
            let triples = value.as_object().into_iter().flatten().map(|(k, v)| triple(ns, k, &text(v)));
            graph.other_pods.push(triples.collect::<Vec<_>>());
        }
        let want: Vec<Selection> = (graph.services.iter().enumerate())
            .filter_map(|(s, svc)| {
                let selects = |ns: &str, l: &Labels| *svc.namespace == *ns && svc.selector.selects(l);
                let pods: Vec<usize> = (0..graph.pods.len())
                    .filter(|&p| selects(&graph.pods[p].namespace, &graph.pods[p].labels))
                    .collect();
                let other = others.iter().any(|(ns, l)| selects(ns, &Labels::from_pairs(l.iter().copied())));
                (!pods.is_empty()).then_some(Selection { service: s, pods, selects_other: other })
            })
            .collect();
        assert!(want.len() > 20 && want.iter().any(|w| w.selects_other) && want.iter().any(|w| !w.selects_other));
        assert_eq!(selections(&graph), want);
    }
}
