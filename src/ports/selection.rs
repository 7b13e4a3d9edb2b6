//! Which pods with a privileged port each Service selects, for the whole
//! stream, without holding the stream's pods or Services in memory.
//!
//! Checking every Service against every pod is quadratic; instead both are
//! keyed by (namespace, label, value) triples (`labels::triple`): every
//! label of every pod, and the first pair of every Service's selector. One
//! sort by key puts each Service next to the pods that carry its first pair
//! (the candidates); a second sort by pod puts each candidate next to its
//! pod, where the whole selector is checked exactly. What comes out is each
//! Service that selects a pod with a privileged port, with those pods
//! ([`Kept`], in stream order, on a tape). Pods without a privileged port
//! (`others::OtherPod`, numbers only) are joined the same way, only to
//! learn whether a Service also selects one of them.

use super::index::{PodEntry, ServiceEntry};
use super::join::Cursor;
use super::labels::{Labels, triple};
use super::others::OtherPod;
use super::sorter::{Sorter, ordered_by};
use super::stream_index::StreamIndex;
use super::tape::{Record, Take, Tape, put};
use std::io;

/// A Service that selects at least one pod with a privileged port.
#[derive(Debug, PartialEq)]
pub struct Kept {
    pub service: ServiceEntry,
    /// The pods it selects: their numbers in the stream's index, increasing.
    pub pods: Vec<u32>,
    /// Whether it also selects a pod without a privileged port.
    pub selects_other: bool,
}

/// Pods and Services are numbered in stream order; a number far below 2^32
/// in any stream (each takes a document of its own).
fn as_u32(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| io::Error::other("more than 2^32 pods or Services in one stream"))
}

/// Every Service of the index that selects a pod with a privileged port,
/// in stream order, with the pods it selects. `budget`: bytes each sort
/// holds in memory.
pub fn select(index: &mut StreamIndex, budget: usize) -> io::Result<Tape<Kept>> {
    // Both joins' keys, made in one reading of the Services.
    let mut pod_keys = Sorter::new(budget);
    let mut other_keys = Sorter::new(budget);
    for (s, svc) in index.services.read()?.enumerate() {
        let (s, svc) = (as_u32(s)?, svc?);
        let Some((k, v)) = svc.selector.first() else { continue };
        let key = triple(&svc.namespace, k, v);
        let selector = Selector { namespace: svc.namespace.to_string(), labels: svc.selector.clone() };
        pod_keys.push(Keyed { triple: key, side: Side::Service, n: s, payload: Payload::Selector(selector) })?;
        let wanted = svc.selector.iter().map(|(k, v)| triple(&svc.namespace, k, v)).collect();
        other_keys.push(Keyed { triple: key, side: Side::Service, n: s, payload: Payload::Triples(wanted) })?;
    }
    for (p, pod) in index.pods.read()?.enumerate() {
        let (p, pod) = (as_u32(p)?, pod?);
        for (k, v) in pod.labels.iter() {
            pod_keys.push(Keyed {
                triple: triple(&pod.namespace, k, v),
                side: Side::Pod,
                n: p,
                payload: Payload::None,
            })?;
        }
    }
    for (o, pod) in index.others.read()?.enumerate() {
        let (o, pod) = (as_u32(o)?, pod?);
        for &t in &pod.0 {
            other_keys.push(Keyed { triple: t, side: Side::Pod, n: o, payload: Payload::None })?;
        }
    }
    let edges = selected_pods(index, candidates(pod_keys, budget)?, budget)?;
    let others = selects_other(index, candidates(other_keys, budget)?, budget)?;
    kept(index, edges, others, budget)
}

/// Which side of a join a key is from; Services sort first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Service,
    Pod,
}

/// What a Service's selector is checked with: against a pod with a
/// privileged port exactly, by its text; against another pod by triples.
#[derive(Debug, Clone)]
enum Payload {
    None,
    Selector(Selector),
    Triples(Vec<u64>),
}

#[derive(Debug, Clone)]
struct Selector {
    namespace: String,
    labels: Labels,
}

/// A key of the join: a triple, then Services before pods, by number.
#[derive(Debug)]
struct Keyed {
    triple: u64,
    side: Side,
    n: u32,
    payload: Payload,
}

ordered_by!(Keyed, |k| (k.triple, k.side, k.n));

/// A Service that may select a pod: its selector, checked once the pod is at hand.
#[derive(Debug)]
struct Candidate {
    pod: u32,
    service: u32,
    payload: Payload,
}

ordered_by!(Candidate, |c| (c.pod, c.service));

/// (Service, pod) pairs where the pod carries the Service's first selector
/// pair, sorted by pod.
fn candidates(keys: Sorter<Keyed>, budget: usize) -> io::Result<Sorter<Candidate>> {
    let mut out = Sorter::new(budget);
    // The Services keyed by the current triple (they sort before its pods).
    let mut services: Vec<Keyed> = Vec::new();
    for key in keys.sorted()? {
        let key = key?;
        if services.last().is_some_and(|s| s.triple != key.triple) {
            services.clear();
        }
        match key.side {
            Side::Service => services.push(key),
            Side::Pod => {
                for s in &services {
                    out.push(Candidate { pod: key.n, service: s.n, payload: s.payload.clone() })?;
                }
            }
        }
    }
    Ok(out)
}

/// (Service, pod) for every pod with a privileged port each Service
/// selects: its namespace and whole selector checked exactly.
fn selected_pods(index: &mut StreamIndex, candidates: Sorter<Candidate>, budget: usize) -> io::Result<Sorter<Edge>> {
    let mut edges = Sorter::new(budget);
    let selects = |c: &Candidate, pod: &PodEntry| matches!(&c.payload, Payload::Selector(sel) if *sel.namespace == *pod.namespace && sel.labels.selects(&pod.labels));
    checked(&mut index.pods, candidates, selects, |s, p| edges.push(Edge(s, p)))?;
    Ok(edges)
}

/// The Services that select a pod without a privileged port (by its
/// triples: see `others::OtherPod`).
fn selects_other(index: &mut StreamIndex, candidates: Sorter<Candidate>, budget: usize) -> io::Result<Sorter<Number>> {
    let mut out = Sorter::new(budget);
    let selects = |c: &Candidate, pod: &OtherPod| matches!(&c.payload, Payload::Triples(wanted) if wanted.iter().all(|w| pod.0.contains(w)));
    checked(&mut index.others, candidates, selects, |s, _| out.push(Number(s)))?;
    Ok(out)
}

/// Each candidate read next to its pod (from `pods`, in order), and
/// `found(service, pod)` for those that `selects`.
fn checked<T: Record>(
    pods: &mut Tape<T>,
    candidates: Sorter<Candidate>,
    selects: impl Fn(&Candidate, &T) -> bool,
    mut found: impl FnMut(u32, u32) -> io::Result<()>,
) -> io::Result<()> {
    let mut cursor = Cursor::new(candidates.sorted()?)?;
    for (p, pod) in pods.read()?.enumerate() {
        let (p, pod) = (as_u32(p)?, pod?);
        for c in cursor.take(|c| c.pod <= p)? {
            if selects(&c, &pod) {
                found(c.service, p)?;
            }
        }
    }
    Ok(())
}

/// The Services that select a pod with a privileged port, with their pods.
fn kept(index: &mut StreamIndex, edges: Sorter<Edge>, others: Sorter<Number>, budget: usize) -> io::Result<Tape<Kept>> {
    let mut out = Tape::new(Some(budget));
    let mut others = Cursor::new(others.sorted()?)?;
    let mut edges = Cursor::new(edges.sorted()?)?;
    for (s, service) in index.services.read()?.enumerate() {
        let s = as_u32(s)?;
        let mut pods: Vec<u32> = edges.take(|e| e.0 <= s)?.into_iter().map(|e| e.1).collect();
        pods.dedup();
        let selects_other = !others.take(|&Number(x)| x <= s)?.is_empty();
        if !pods.is_empty() {
            out.push(&Kept { service: service?, pods, selects_other })?;
        }
    }
    Ok(out)
}

/// A (Service, pod) pair, as a record.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Edge(u32, u32);

impl Record for Edge {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.0));
        put::u64(out, u64::from(self.1));
    }
    fn take(bytes: &mut Take) -> io::Result<Edge> {
        Ok(Edge(bytes.u32()?, bytes.u32()?))
    }
}

/// A number, as a record (a Service's, in a sort).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Number(pub u32);

impl Record for Number {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.0));
    }
    fn take(bytes: &mut Take) -> io::Result<Number> {
        bytes.u32().map(Number)
    }
}

impl Record for Kept {
    fn put(&self, out: &mut Vec<u8>) {
        self.service.put(out);
        put::usize(out, self.pods.len());
        self.pods.iter().for_each(|&p| put::u64(out, u64::from(p)));
        put::bool(out, self.selects_other);
    }
    fn take(bytes: &mut Take) -> io::Result<Kept> {
        Ok(Kept {
            service: ServiceEntry::take(bytes)?,
            pods: (0..bytes.usize()?).map(|_| bytes.u32()).collect::<io::Result<_>>()?,
            selects_other: bytes.bool()?,
        })
    }
}

impl Record for Keyed {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.triple.to_le_bytes());
        put::bool(out, self.side == Side::Pod);
        put::u64(out, u64::from(self.n));
        self.payload.put(out);
    }
    fn take(bytes: &mut Take) -> io::Result<Keyed> {
        Ok(Keyed {
            triple: u64::from_le_bytes(bytes.fixed::<8>()?),
            side: if bytes.bool()? { Side::Pod } else { Side::Service },
            n: bytes.u32()?,
            payload: Payload::take(bytes)?,
        })
    }
}

impl Record for Candidate {
    fn put(&self, out: &mut Vec<u8>) {
        put::u64(out, u64::from(self.pod));
        put::u64(out, u64::from(self.service));
        self.payload.put(out);
    }
    fn take(bytes: &mut Take) -> io::Result<Candidate> {
        Ok(Candidate { pod: bytes.u32()?, service: bytes.u32()?, payload: Payload::take(bytes)? })
    }
}

impl Payload {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Payload::None => out.push(0),
            Payload::Selector(sel) => {
                out.push(1);
                put::str(out, &sel.namespace);
                put::str(out, sel.labels.encoded());
            }
            Payload::Triples(triples) => {
                out.push(2);
                put::usize(out, triples.len());
                triples.iter().for_each(|t| out.extend_from_slice(&t.to_le_bytes()));
            }
        }
    }
    fn take(bytes: &mut Take) -> io::Result<Payload> {
        Ok(match bytes.fixed::<1>()? {
            [0] => Payload::None,
            [1] => Payload::Selector(Selector {
                namespace: bytes.str()?.to_string(),
                labels: Labels::from_encoded(bytes.str()?),
            }),
            _ => Payload::Triples(
                (0..bytes.usize()?).map(|_| bytes.fixed::<8>().map(u64::from_le_bytes)).collect::<io::Result<_>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::index::{At, Fate, Movable};
    use crate::ports::others::OtherPod;
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

    fn pod(n: usize, namespace: &str, labels: &[(&str, &str)]) -> PodEntry {
        PodEntry {
            at: At { doc: n, resource: 0 },
            site_no: 0,
            pod_security_context: true,
            namespace: Arc::from(namespace),
            labels: Labels::from_pairs(labels.iter().copied()),
            low_ports: vec![80].into(),
            all_bind: false,
            fate: Fate::Movable(Movable { moves: vec![(80, 8080)].into(), untold: false }),
        }
    }

    fn service(n: usize, namespace: &str, selector: &[(&str, &str)]) -> ServiceEntry {
        ServiceEntry {
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
    fn the_join_finds_what_checking_every_service_against_every_pod_finds() {
        let mut rng = Lcg(7);
        let ns = |rng: &mut Lcg| NAMESPACES[rng.next(NAMESPACES.len())];
        let pods: Vec<PodEntry> = (0..300).map(|n| pod(n, ns(&mut rng), &labels(&mut rng, 0))).collect();
        let others: Vec<(&str, Vec<(&str, &str)>)> = (0..200).map(|_| (ns(&mut rng), labels(&mut rng, 0))).collect();
        // Selectors of one to three pairs (and some empty: they select nothing).
        let services: Vec<ServiceEntry> = (0..120)
            .map(|n| {
                let mut sel = labels(&mut rng, 1);
                sel.truncate(if n % 10 == 0 { 0 } else { 1 + rng.next(3) });
                service(n, ns(&mut rng), &sel)
            })
            .collect();
        let want: Vec<(usize, Vec<u32>, bool)> = services
            .iter()
            .enumerate()
            .filter_map(|(s, svc)| {
                let selects = |ns: &str, l: &Labels| *svc.namespace == *ns && svc.selector.selects(l);
                let pods: Vec<u32> = (0..pods.len() as u32)
                    .filter(|&p| selects(&pods[p as usize].namespace, &pods[p as usize].labels))
                    .collect();
                let other = others.iter().any(|(ns, l)| selects(ns, &Labels::from_pairs(l.iter().copied())));
                (!pods.is_empty()).then_some((s, pods, other))
            })
            .collect();
        assert!(want.len() > 20 && want.iter().any(|w| w.2) && want.iter().any(|w| !w.2), "a test that can fail");
        for budget in [0, 1 << 10, usize::MAX >> 1] {
            let mut index = StreamIndex::new(budget);
            pods.iter().try_for_each(|p| index.pods.push(p)).expect("pushed");
            services.iter().try_for_each(|s| index.services.push(s)).expect("pushed");
            for (ns, l) in &others {
                let l = serde_json::Value::Object(l.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect());
                index.others.push(&OtherPod::of(ns, Some(&l))).expect("pushed");
            }
            let mut kept = select(&mut index, budget).expect("selected");
            let got: Vec<(usize, Vec<u32>, bool)> = kept
                .read()
                .expect("read")
                .map(|k| k.map(|k| (k.service.at.doc, k.pods, k.selects_other)))
                .collect::<io::Result<_>>()
                .expect("records");
            assert_eq!(got, want, "budget {budget}");
        }
    }
}
