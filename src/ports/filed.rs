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

#[derive(Debug, Default)]
pub struct PortPlan {
    /// (document, resource, what), sorted by document once everything is
    /// filed (stably: a document's items stay in the order filed). One
    /// flat list: a map of lists cost more than its items.
    items: Vec<(usize, usize, Filed)>,
    /// Old port → new port, from the profile.
    map: Vec<(u64, u64)>,
}

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
        PortPlan { items: Vec::new(), map }
    }

    /// File a change for the resource at `at` (a change filed twice is
    /// added once, in pass 2).
    pub(crate) fn file(&mut self, at: At, c: Change) {
        self.items.push((at.doc, at.resource, Filed::change(c)));
    }

    /// File a pod's decision (turned into edits in pass 2).
    pub(crate) fn pod(&mut self, at: At, site: usize, action: Action) {
        self.items.push((at.doc, at.resource, Filed::Pod { site, action }));
    }

    /// File a Service's new target port (turned into a change in pass 2).
    pub(crate) fn target(&mut self, at: At, port: usize, new: u64) {
        self.items.push((at.doc, at.resource, Filed::Target { port, new }));
    }

    /// Room for `n` more items (one a pod, at least).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.items.reserve_exact(n);
    }

    /// Put the items in document order, once all are filed.
    pub(crate) fn seal(&mut self) {
        self.items.sort_by_key(|(doc, _, _)| *doc);
        self.items.shrink_to_fit();
    }

    /// The items filed for document `doc`.
    fn of(&self, doc: usize) -> &[(usize, usize, Filed)] {
        let start = self.items.partition_point(|(d, _, _)| *d < doc);
        let end = start + self.items[start..].partition_point(|(d, _, _)| *d == doc);
        &self.items[start..end]
    }

    /// Whether anything is filed for document `doc`.
    pub fn has(&self, doc: usize) -> bool {
        !self.of(doc).is_empty()
    }

    /// Add document `doc`'s port changes and notes to its plan; `value` is
    /// the document, `kinds` where its pods are.
    pub fn apply_to(&self, doc: usize, value: &serde_json::Value, plan: &mut DocPlan, kinds: &[KindRow]) {
        let filed = self.of(doc);
        let mut items: Vec<(usize, Filed)> = Vec::with_capacity(filed.len());
        for (_, r, item) in filed {
            let Some(res) = plan.resources.get(*r) else { continue };
            match item {
                Filed::Pod { site, action } => {
                    let Some(site) = pod_sites(value, &res.base, &res.id, kinds).into_iter().nth(*site) else {
                        continue;
                    };
                    for own in super::pod::expand(value, &site, action, &self.map) {
                        push_unique(&mut items, *r, own);
                    }
                }
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
