//! Which pods each Service selects, worked out once for the whole stream.
//!
//! Checking every Service against every pod is quadratic in the stream
//! (thousands of each in a big install); instead pods are bucketed by
//! namespace and label, and a Service looks only at the pods that carry its
//! first selector pair.

use super::index::Index;
use super::labels::text;
use super::selector::service_selects;
use serde_json::Value;
use std::collections::HashMap;

pub struct Selection {
    /// For each Service of the index, the pods it selects.
    pub pods_of_service: Vec<Vec<usize>>,
    /// For each pod of the index, the Services that select it.
    pub services_of_pod: Vec<Vec<usize>>,
}

impl Selection {
    pub fn new(index: &Index) -> Selection {
        let mut buckets: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
        for (p, pod) in index.pods.iter().enumerate() {
            for (k, v) in pod.labels.iter() {
                buckets.entry((&pod.namespace, k, v)).or_default().push(p);
            }
        }
        let mut pods_of_service = Vec::with_capacity(index.services.len());
        let mut services_of_pod = vec![Vec::new(); index.pods.len()];
        for (s, svc) in index.services.iter().enumerate() {
            let first = svc.selector.as_ref().and_then(Value::as_object).and_then(|m| m.iter().next());
            let first = first.map(|(k, v)| (k, text(v)));
            let candidates = first.as_ref().and_then(|(k, v)| buckets.get(&(&*svc.namespace, k.as_str(), v.as_ref())));
            let selected: Vec<usize> = candidates
                .into_iter()
                .flatten()
                .copied()
                .filter(|&p| service_selects(svc.selector.as_ref(), &index.pods[p].labels))
                .collect();
            for &p in &selected {
                services_of_pod[p].push(s);
            }
            pods_of_service.push(selected);
        }
        Selection { pods_of_service, services_of_pod }
    }
}
