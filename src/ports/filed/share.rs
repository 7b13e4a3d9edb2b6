//! Pass 2's side of the plan: read forward once, a chunk at a time, each
//! chunk's share of it ([`ChunkPorts`]) taken in stream order and handed to
//! the worker that hardens the chunk.

use super::Filed;
use super::record::{Placed, Pod, PodRecord, Reasons, TargetRecord};
use crate::plan::DocPlan;
use crate::ports::Action;
use crate::ports::tape::{Reader, Record};
use crate::workload::{KindRow, pod_sites};
use std::io;

/// The plan being read, chunk by chunk ([`super::PortPlan::read`]).
pub struct PlanReader<'a> {
    pods: Ahead<'a, PodRecord>,
    targets: Ahead<'a, TargetRecord>,
    reasons: &'a Reasons,
    /// What was filed out of order, and the policies' changes, sorted by
    /// document.
    items: &'a [(usize, usize, Filed)],
    map: &'a [(u64, u64)],
}

/// What is filed for one chunk's documents.
#[derive(Debug)]
pub struct ChunkPorts<'a> {
    pods: Vec<Pod>,
    targets: Vec<TargetRecord>,
    items: &'a [(usize, usize, Filed)],
    /// Old port → new port, from the profile.
    map: &'a [(u64, u64)],
}

/// A tape's reader and the record it has read and not yet handed out.
struct Ahead<'a, T> {
    reader: Reader<'a, T>,
    next: Option<T>,
}

impl<'a, T: Record + Placed> Ahead<'a, T> {
    fn new(reader: Reader<'a, T>) -> io::Result<Ahead<'a, T>> {
        let mut ahead = Ahead { reader, next: None };
        ahead.next = ahead.reader.next().transpose()?;
        Ok(ahead)
    }

    /// The records of documents `start..end`, those of documents before
    /// `start` passed over.
    fn take(&mut self, start: usize, end: usize) -> io::Result<Vec<T>> {
        let mut out = Vec::new();
        while self.next.as_ref().is_some_and(|r| r.at().doc < end) {
            let next = self.reader.next().transpose()?;
            if let Some(record) = std::mem::replace(&mut self.next, next)
                && record.at().doc >= start
            {
                out.push(record);
            }
        }
        Ok(out)
    }
}

impl<'a> PlanReader<'a> {
    pub(super) fn new(
        pods: Reader<'a, PodRecord>,
        targets: Reader<'a, TargetRecord>,
        reasons: &'a Reasons,
        items: &'a [(usize, usize, Filed)],
        map: &'a [(u64, u64)],
    ) -> io::Result<PlanReader<'a>> {
        Ok(PlanReader { pods: Ahead::new(pods)?, targets: Ahead::new(targets)?, reasons, items, map })
    }

    /// What is filed for the `docs` documents from key `first` on (a
    /// chunk's, given in stream order; what comes before `first` and was
    /// not taken is passed over).
    pub fn chunk(&mut self, first: usize, docs: usize) -> io::Result<ChunkPorts<'a>> {
        let end = first + docs;
        let pods = self.pods.take(first, end)?.into_iter().map(|p| self.reasons.pod(p)).collect::<io::Result<_>>()?;
        let targets = self.targets.take(first, end)?;
        let start = self.items.partition_point(|(d, _, _)| *d < first);
        let len = self.items[start..].partition_point(|(d, _, _)| *d < end);
        Ok(ChunkPorts { pods, targets, items: &self.items[start..start + len], map: self.map })
    }
}

/// The part of sorted `list` that is for document `doc`.
fn of<T>(list: &[T], doc: usize, doc_of: impl Fn(&T) -> usize) -> &[T] {
    let start = list.partition_point(|x| doc_of(x) < doc);
    let len = list[start..].partition_point(|x| doc_of(x) == doc);
    &list[start..start + len]
}

impl ChunkPorts<'_> {
    fn pods_of(&self, doc: usize) -> &[Pod] {
        of(&self.pods, doc, |p| p.at.doc)
    }

    fn targets_of(&self, doc: usize) -> &[TargetRecord] {
        of(&self.targets, doc, |t| t.at.doc)
    }

    fn items_of(&self, doc: usize) -> &[(usize, usize, Filed)] {
        of(self.items, doc, |(d, _, _)| *d)
    }

    /// Whether anything is filed for document `doc`.
    pub fn has(&self, doc: usize) -> bool {
        !self.pods_of(doc).is_empty() || !self.targets_of(doc).is_empty() || !self.items_of(doc).is_empty()
    }

    /// Add document `doc`'s port changes and notes to its plan; `value` is
    /// the document, `kinds` where its pods are.
    pub fn apply_to(&self, doc: usize, value: &serde_json::Value, plan: &mut DocPlan, kinds: &[KindRow]) {
        let filed = self.items_of(doc);
        let mut items: Vec<(usize, Filed)> = Vec::with_capacity(filed.len());
        let expand = |items: &mut Vec<(usize, Filed)>, r: usize, site: usize, action: &Action| {
            let Some(res) = plan.resources.get(r) else { return };
            let Some(site) = pod_sites(value, &res.base, &res.id, kinds).into_iter().nth(site) else { return };
            for own in crate::ports::pod::expand(value, &site, action, self.map) {
                push_unique(items, r, own);
            }
        };
        let target = |items: &mut Vec<(usize, Filed)>, r: usize, port: usize, new: u64| {
            let Some(res) = plan.resources.get(r) else { return };
            if let Some(c) = crate::ports::references::target_change(value, &res.base, port, new) {
                push_unique(items, r, Filed::change(c));
            }
        };
        // A pod's own items, a Service's and a policy's never share a
        // resource, and each resource keeps its items' order: what a tape
        // holds for a document was filed before anything out of order for it.
        for p in self.pods_of(doc) {
            expand(&mut items, p.at.resource, p.site, &p.action);
        }
        for t in self.targets_of(doc) {
            target(&mut items, t.at.resource, t.port, t.new);
        }
        for (_, r, item) in filed {
            match item {
                Filed::Pod { site, action } => expand(&mut items, *r, *site, action),
                Filed::Target { port, new } => target(&mut items, *r, *port, *new),
                Filed::Change(_) | Filed::Note(_) => push_unique(&mut items, *r, item.clone()),
            }
        }
        for (r, item) in items {
            let Some(res) = plan.resources.get_mut(r) else { continue };
            match item {
                Filed::Change(c) => res.changes.push(*c),
                Filed::Note(n) => res.notes.push(*n),
                Filed::Pod { .. } | Filed::Target { .. } => {}
            }
        }
    }
}

/// Add a change unless the resource already has the same one (two ports of
/// one container tell its app the same thing).
fn push_unique(items: &mut Vec<(usize, Filed)>, resource: usize, item: Filed) {
    let Filed::Change(c) = &item else { return items.push((resource, item)) };
    let duplicate = items
        .iter()
        .any(|(r, f)| *r == resource && matches!(f, Filed::Change(x) if x.pointer == c.pointer && x.value == c.value));
    if !duplicate {
        items.push((resource, item));
    }
}

#[cfg(test)]
mod tests {
    use super::super::PortPlan;
    use super::*;
    use crate::plan::ResourcePlan;
    use crate::plan::change::Op;
    use crate::ports::index::At;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// Reasons long enough that the pods' records fill several reads of
    /// the tape's file.
    fn why(n: usize) -> Action {
        Action::Move(vec![(80, 8080)].into(), format!("pod {n}: a reason the length of the ones harden gives").into())
    }

    /// What a share holds for `doc`: ("pod" or "target", resource, site
    /// or port, from a tape or not).
    fn held(share: &ChunkPorts, doc: usize) -> Vec<(&'static str, usize, usize, bool)> {
        let mut out: Vec<_> = share.pods_of(doc).iter().map(|p| ("pod", p.at.resource, p.site, true)).collect();
        out.extend(share.targets_of(doc).iter().map(|t| ("target", t.at.resource, t.port, true)));
        for (_, r, item) in share.items_of(doc) {
            match item {
                Filed::Pod { site, .. } => out.push(("pod", *r, *site, false)),
                Filed::Target { port, .. } => out.push(("target", *r, *port, false)),
                Filed::Change(_) | Filed::Note(_) => out.push(("change", *r, 0, false)),
            }
        }
        out
    }

    #[test]
    fn pod_decisions_and_targets_are_shared_out_by_chunk_from_files_and_from_memory() {
        // 0: every record in the file; 4096: the file, then the last few in
        // memory; a mebibyte: all in memory.
        for budget in [0, 4096, 1 << 20] {
            let mut plan = PortPlan::new(vec![(80, 8080)], Some(budget));
            let mut want: BTreeMap<usize, Vec<_>> = BTreeMap::new();
            // Three pods a document, every other document (those between
            // have nothing filed).
            let n = 1502;
            let doc_of = |i: usize| 10 + 2 * (i / 3);
            for i in 0..n {
                plan.pod(At { doc: doc_of(i), resource: i % 3 }, i, why(i));
                want.entry(doc_of(i)).or_default().push(("pod", i % 3, i, true));
            }
            // Filed late, for earlier documents: one with pods on the tape
            // (they come first, as filed), one with nothing else.
            plan.pod(At { doc: 12, resource: 7 }, 99, why(99));
            plan.pod(At { doc: 13, resource: 0 }, 98, why(98));
            want.entry(12).or_default().push(("pod", 7, 99, false));
            want.entry(13).or_default().push(("pod", 0, 98, false));
            // Services' targets: two in order, one out of order.
            plan.target(At { doc: 10, resource: 5 }, 0, 8080);
            plan.target(At { doc: 41, resource: 0 }, 1, 8443);
            plan.target(At { doc: 21, resource: 0 }, 0, 8080);
            want.entry(10).or_default().push(("target", 5, 0, true));
            want.entry(41).or_default().push(("target", 0, 1, true));
            want.entry(21).or_default().push(("target", 0, 0, false));
            plan.seal();
            assert_eq!(plan.pods.in_file(), budget < 1 << 20, "budget {budget}");
            let last = doc_of(n - 1);
            let mut reader = plan.read().expect("the plan is read");
            // Chunks of seven documents, from before the first to past the
            // last; one is never asked for (its records are passed over).
            for first in (0..last + 20).step_by(7).filter(|&f| f != 77) {
                let share = reader.chunk(first, 7).expect("a chunk's share");
                for doc in first..first + 7 {
                    let want = want.get(&doc).cloned().unwrap_or_default();
                    assert_eq!(held(&share, doc), want, "budget {budget}, document {doc}");
                    assert_eq!(share.has(doc), !want.is_empty(), "budget {budget}, document {doc}");
                    for p in share.pods_of(doc) {
                        assert_eq!(p.action, why(p.site), "the decision comes back whole");
                    }
                }
            }
        }
    }

    #[test]
    fn a_share_adds_its_documents_changes_to_their_resources() {
        let mut plan = PortPlan::new(vec![(80, 8080)], Some(0));
        let set = |ptr: &str| crate::ports::change(Op::Set, ptr.into(), json!(8080), Some(json!(80)), None, "".into());
        plan.target(At { doc: 5, resource: 0 }, 0, 8080);
        for _ in 0..2 {
            plan.file(At { doc: 5, resource: 1 }, set("/items/1/spec/ingress/0/ports/0/port"));
        }
        plan.file(At { doc: 5, resource: 1 }, set("/items/1/spec/ingress/0/ports/1/port"));
        plan.seal();
        let value = json!({"kind": "List", "items": [
            {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 80}]}},
            {"kind": "NetworkPolicy", "spec": {}},
        ]});
        let resource = |base: &str| ResourcePlan { base: base.into(), ..ResourcePlan::default() };
        let mut doc = DocPlan { resources: vec![resource("/items/0"), resource("/items/1")] };
        let mut reader = plan.read().expect("the plan is read");
        assert!(!reader.chunk(0, 5).expect("a share").has(4));
        let share = reader.chunk(5, 2).expect("a share");
        assert!(share.has(5) && !share.has(6));
        share.apply_to(5, &value, &mut doc, &[]);
        let pointers = |r: usize| doc.resources[r].changes.iter().map(|c| c.pointer.as_str()).collect::<Vec<_>>();
        assert_eq!(pointers(0), ["/items/0/spec/ports/0/targetPort"]);
        assert_eq!(pointers(1), ["/items/1/spec/ingress/0/ports/0/port", "/items/1/spec/ingress/0/ports/1/port"]);
    }
}
