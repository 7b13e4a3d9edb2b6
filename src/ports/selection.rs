//! Which pods each Service selects, worked out once for the whole stream.
//!
//! Checking every Service against every pod is quadratic in the stream
//! (thousands of each in a big install); instead pods are bucketed by
//! namespace and label, and a Service looks only at the pods that carry its
//! first selector pair. Pods without a privileged port (`index::OtherPods`)
//! are only counted: the other way round, each looks up the Services whose
//! first pair it carries.

use super::index::Index;
use super::labels::triple;
use super::runs::Runs;
use std::collections::HashMap;
use std::io;

pub struct Selection {
    /// For each Service of the index, the pods (with a privileged port) it selects.
    pods_of_service: Runs<u32>,
    /// For each pod of the index, the Services that select it.
    services_of_pod: Runs<u32>,
    /// For each Service, whether it also selects a pod without a privileged port.
    pub selects_other: Vec<bool>,
}

/// Positions are numbers of pods and Services, far below 2^32 in any stream
/// (each takes a document of its own).
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 pods and Services")
}

impl Selection {
    /// The selection of the index's pods, keeping in the index only the
    /// Services that select one of them (no other is ever looked at again).
    pub fn new(index: &mut Index) -> io::Result<Selection> {
        let pods = std::mem::take(&mut index.pods);
        // (triple, pod) for every label of every pod, sorted: the pods that
        // carry a triple are a run of it (sixteen bytes a label, where a map
        // of lists took several times that). Counted first: grown as it
        // went, the list was briefly three times its size, the peak of a
        // big stream's run.
        let labels = pods.iter().map(|pod| pod.labels.iter().count()).sum();
        let mut buckets: Vec<(u64, u32)> = Vec::with_capacity(labels);
        for (p, pod) in pods.iter().enumerate() {
            let p = as_u32(p);
            buckets.extend(pod.labels.iter().map(|(k, v)| (triple(&pod.namespace, k, v), p)));
        }
        buckets.sort_unstable();
        let mut kept = Vec::new();
        let mut pods_of_service = Runs::default();
        index.drain_services(|svc| {
            let Some((k, v)) = svc.selector.first() else { return };
            let t = triple(&svc.namespace, k, v);
            let start = buckets.partition_point(|&(x, _)| x < t);
            // Triples are numbers: the namespace and labels are compared again, exactly.
            let mut selected: Vec<u32> = buckets[start..]
                .iter()
                .take_while(|&&(x, _)| x == t)
                .map(|&(_, p)| p)
                .filter(|&p| {
                    let pod = &pods[p as usize];
                    pod.namespace == svc.namespace && svc.selector.selects(&pod.labels)
                })
                .collect();
            selected.dedup();
            if selected.is_empty() {
                return;
            }
            pods_of_service.push(selected);
            kept.push(svc);
        })?;
        drop(buckets);
        let services_of_pod = pods_of_service.transpose(pods.len());
        index.pods = pods;
        index.services = kept;
        let selects_other = selects_other(index)?;
        Ok(Selection { pods_of_service, services_of_pod, selects_other })
    }

    /// The pods that (kept) Service `s` selects, in increasing order.
    pub fn pods_of(&self, s: usize) -> &[u32] {
        self.pods_of_service.get(s)
    }

    /// The (kept) Services that select pod `p`, in increasing order.
    pub fn services_of(&self, p: usize) -> &[u32] {
        self.services_of_pod.get(p)
    }
}

/// For each (kept) Service, whether it selects one of the other pods.
fn selects_other(index: &mut Index) -> io::Result<Vec<bool>> {
    let mut out = vec![false; index.services.len()];
    // Each Service's selector as triples, filed under its first one.
    let mut by_first: HashMap<u64, Vec<(usize, Vec<u64>)>> = HashMap::new();
    for (s, svc) in index.services.iter().enumerate() {
        let wanted: Vec<u64> = svc.selector.iter().map(|(k, v)| triple(&svc.namespace, k, v)).collect();
        if let Some(&first) = wanted.first() {
            by_first.entry(first).or_default().push((s, wanted));
        }
    }
    index.each_other(|pod| {
        for t in pod {
            for (s, wanted) in by_first.get(t).into_iter().flatten() {
                if !out[*s] && wanted.iter().all(|w| pod.contains(w)) {
                    out[*s] = true;
                }
            }
        }
    })?;
    Ok(out)
}
