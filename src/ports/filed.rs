//! The port decisions, filed by document: each document, when its turn
//! comes in pass 2, takes what is meant for it. A pod's decision is filed
//! as the decision itself and turned into edits only then, with the
//! document at hand ([`super::pod::expand`]); Services, NetworkPolicies and
//! monitors (a few edits each) are filed as changes.

use super::Action;
use super::index::At;
use crate::plan::DocPlan;
use crate::plan::change::{Change, Note};
use crate::workload::{KindRow, pod_sites};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct PortPlan {
    /// (document, resource, what), sorted by document once everything is
    /// filed (stably: a document's items stay in the order filed). One
    /// flat list: a map of lists cost more than its items.
    items: Vec<(usize, usize, Filed)>,
    /// Each pod's decision, (document, resource, pod number, decision), in
    /// stream order. In small blocks, not one list: they are filed while
    /// the index lets its pods go, and small blocks reuse that memory
    /// where one list the length of the stream would be a new allocation
    /// on top of the whole index (the peak of a big stream's run).
    pods: Vec<Vec<PodItem>>,
    /// The changes filed by `file` for each resource, as places in `items`
    /// (until sealed): one filed again is not added again.
    changes: HashMap<At, Vec<usize>>,
    /// Old port → new port, from the profile.
    map: Vec<(u64, u64)>,
}

type PodItem = (usize, u32, u32, super::Action);

/// Pod decisions to a block: a block stays within the allocator's small
/// sizes (about a kilobyte).
const BLOCK: usize = 1024 / size_of::<PodItem>();

/// Something for one resource of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    // Boxed: a pod's decision, the common item, is a fraction of their size.
    Change(Box<Change>),
    Note(Box<Note>),
    /// What happens to the ports of the resource's pod number `site` (in
    /// the order of `workload::pod_sites`).
    Pod {
        site: usize,
        action: Action,
    },
    /// The resource is a Service whose port number `port` sends traffic to
    /// a pod port that moved to `new` (its `targetPort` change is made in
    /// pass 2, with the document at hand, by `references::target_change`).
    Target {
        port: usize,
        new: u64,
    },
}

impl Filed {
    pub fn change(c: Change) -> Filed {
        Filed::Change(Box::new(c))
    }

    pub fn note(n: Note) -> Filed {
        Filed::Note(Box::new(n))
    }
}

impl PortPlan {
    pub fn new(map: Vec<(u64, u64)>) -> PortPlan {
        PortPlan { items: Vec::new(), pods: Vec::new(), changes: HashMap::new(), map }
    }

    /// File a change for the resource at `at`, unless the same one (same
    /// pointer and value) is filed for it already: pass 2 would keep only
    /// the first (a policy that selects many moved pods is filed for each).
    pub(crate) fn file(&mut self, at: At, c: Change) {
        let filed = self.changes.entry(at).or_default();
        let same =
            |&i: &usize| matches!(&self.items[i].2, Filed::Change(x) if x.pointer == c.pointer && x.value == c.value);
        if !filed.iter().any(same) {
            filed.push(self.items.len());
            self.items.push((at.doc, at.resource, Filed::change(c)));
        }
    }

    /// File a pod's decision (turned into edits in pass 2), in stream
    /// order (a pod filed before one of an earlier document goes with the
    /// other items, which are sorted).
    pub(crate) fn pod(&mut self, at: At, site: usize, action: Action) {
        let in_order = self.pods.last().and_then(|b| b.last()).is_none_or(|last| last.0 <= at.doc);
        let (Ok(resource), Ok(site), true) = (u32::try_from(at.resource), u32::try_from(site), in_order) else {
            return self.items.push((at.doc, at.resource, Filed::Pod { site, action }));
        };
        match self.pods.last_mut() {
            Some(block) if block.len() < BLOCK => block.push((at.doc, resource, site, action)),
            _ => {
                let mut block = Vec::with_capacity(BLOCK);
                block.push((at.doc, resource, site, action));
                self.pods.push(block);
            }
        }
    }

    /// File a Service's new target port (turned into a change in pass 2).
    pub(crate) fn target(&mut self, at: At, port: usize, new: u64) {
        self.items.push((at.doc, at.resource, Filed::Target { port, new }));
    }

    /// Put the items in document order, once all are filed.
    pub(crate) fn seal(&mut self) {
        self.items.sort_by_key(|(doc, _, _)| *doc);
        self.items.shrink_to_fit();
        self.changes = HashMap::new();
    }

    /// The items filed for document `doc`.
    fn of(&self, doc: usize) -> &[(usize, usize, Filed)] {
        let start = self.items.partition_point(|(d, _, _)| *d < doc);
        let end = start + self.items[start..].partition_point(|(d, _, _)| *d == doc);
        &self.items[start..end]
    }

    /// The pod decisions filed for document `doc`.
    fn pods_of(&self, doc: usize) -> impl Iterator<Item = &PodItem> {
        // The first block that reaches `doc`; its pods may run on into the next.
        let first = self.pods.partition_point(|b| b.last().is_some_and(|p| p.0 < doc));
        self.pods[first..].iter().flatten().skip_while(move |p| p.0 < doc).take_while(move |p| p.0 == doc)
    }

    /// Whether anything is filed for document `doc`.
    pub fn has(&self, doc: usize) -> bool {
        !self.of(doc).is_empty() || self.pods_of(doc).next().is_some()
    }

    /// Add document `doc`'s port changes and notes to its plan; `value` is
    /// the document, `kinds` where its pods are.
    pub fn apply_to(&self, doc: usize, value: &serde_json::Value, plan: &mut DocPlan, kinds: &[KindRow]) {
        let filed = self.of(doc);
        let mut items: Vec<(usize, Filed)> = Vec::with_capacity(filed.len());
        let expand = |items: &mut Vec<(usize, Filed)>, r: usize, site: usize, action: &Action| {
            let Some(res) = plan.resources.get(r) else { return };
            let Some(site) = pod_sites(value, &res.base, &res.id, kinds).into_iter().nth(site) else { return };
            for own in super::pod::expand(value, &site, action, &self.map) {
                push_unique(items, r, own);
            }
        };
        // A pod's own items and what was filed for Services and policies
        // never share a resource, and each resource keeps its items' order.
        for (_, r, site, action) in self.pods_of(doc) {
            expand(&mut items, *r as usize, *site as usize, action);
        }
        for (_, r, item) in filed {
            let Some(res) = plan.resources.get(*r) else { continue };
            match item {
                Filed::Pod { site, action } => expand(&mut items, *r, *site, action),
                Filed::Target { port, new } => {
                    if let Some(c) = super::references::target_change(value, &res.base, *port, *new) {
                        push_unique(&mut items, *r, Filed::change(c));
                    }
                }
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
    use super::*;
    use crate::plan::change::Op;
    use serde_json::json;

    #[test]
    fn pod_decisions_are_found_by_document_across_blocks_and_out_of_order() {
        let mut plan = PortPlan::new(vec![(80, 8080)]);
        let why = |n: usize| Action::Keep(format!("pod {n}").into());
        // Three pods a document: some documents' pods straddle two blocks.
        let n = 3 * BLOCK + 2;
        for i in 0..n {
            plan.pod(At { doc: 10 + i / 3, resource: i % 3 }, i, why(i));
        }
        // Filed late, for an earlier document: kept with the sorted items.
        plan.pod(At { doc: 11, resource: 7 }, 99, why(99));
        plan.target(At { doc: 10, resource: 5 }, 0, 8080);
        plan.seal();
        assert!(plan.pods.len() > 3, "the pods fill several blocks");
        for doc in 10..10 + n.div_ceil(3) {
            let sites: Vec<u32> = plan.pods_of(doc).map(|p| p.2).collect();
            let want: Vec<u32> = (0..n as u32).filter(|i| 10 + *i as usize / 3 == doc).collect();
            assert_eq!(sites, want, "document {doc}");
            assert!(plan.has(doc));
        }
        assert!(!plan.has(9) && !plan.has(10 + n.div_ceil(3)));
        assert_eq!(plan.of(11).len(), 1, "the late pod");
        assert_eq!(plan.of(10).len(), 1, "the Service's target");
    }

    #[test]
    fn a_change_filed_again_for_a_resource_is_held_once() {
        let mut plan = PortPlan::default();
        let set = |ptr: &str, new: u64| super::super::change(Op::Set, ptr.into(), json!(new), None, None, "".into());
        let policy = At { doc: 5, resource: 1 };
        for _ in 0..3 {
            // Filed for each of the pods the policy selects.
            plan.file(policy, set("/items/1/spec/ingress/0/ports/0/port", 8080));
            plan.file(policy, set("/items/1/spec/ingress/0/ports/1/port", 8443));
        }
        plan.file(policy, set("/items/1/spec/ingress/0/ports/0/port", 8081));
        plan.file(At { doc: 6, resource: 1 }, set("/items/1/spec/ingress/0/ports/0/port", 8080));
        plan.seal();
        let held: Vec<(usize, &str, &serde_json::Value)> = (plan.items.iter())
            .filter_map(|(doc, _, f)| match f {
                Filed::Change(c) => Some((*doc, c.pointer.as_str(), &c.value)),
                _ => None,
            })
            .collect();
        let ptr = "/items/1/spec/ingress/0/ports/";
        assert_eq!(
            held,
            [
                (5, &*format!("{ptr}0/port"), &json!(8080)),
                (5, &*format!("{ptr}1/port"), &json!(8443)),
                (5, &*format!("{ptr}0/port"), &json!(8081)),
                (6, &*format!("{ptr}0/port"), &json!(8080)),
            ]
        );
    }
}
