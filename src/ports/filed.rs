//! The port decisions, filed by document: each document, when its turn
//! comes in pass 2, takes what is meant for it. A pod's decision is filed
//! as the decision itself and turned into edits only then, with the
//! document at hand ([`super::pod::expand`]); a Service's new target ports
//! as numbers; NetworkPolicies and monitors (a few edits each) as changes.
//!
//! Pod decisions and Service targets, one for each such pod of the stream,
//! go to [`Tape`]s (in memory while small, else a temporary file) when
//! filed in stream order, and pass 2 reads them back once, forward, a
//! chunk at a time ([`share`]): the plan's memory does not grow with the
//! stream. Whatever comes out of order, and the policies' changes (few:
//! a change filed again is held once), are kept in memory, sorted.

mod record;
pub mod share;

pub use share::{ChunkPorts, PlanReader};

use super::Action;
use super::index::At;
use super::tape::Tape;
use crate::plan::change::{Change, Note};
use record::{Pod, PodRecord, Reasons, TargetRecord};
use std::collections::HashMap;
use std::io;

#[derive(Debug)]
pub struct PortPlan {
    /// (document, resource, what), sorted by document once everything is
    /// filed (stably: a document's items stay in the order filed).
    items: Vec<(usize, usize, Filed)>,
    /// Each pod's decision, in stream order, and the texts its reasons
    /// give by number.
    pods: Tape<PodRecord>,
    reasons: Reasons,
    /// Each Service's new target port, in stream order.
    targets: Tape<TargetRecord>,
    /// The last document on each tape (what comes before it goes to `items`).
    last_pod: usize,
    last_target: usize,
    /// The changes filed by `file` for each resource, as places in `items`
    /// (until sealed): one filed again is not added again.
    changes: HashMap<At, Vec<usize>>,
    /// The first failure to write a tape, reported when the plan is read.
    failed: Option<io::Error>,
    /// Old port → new port, from the profile.
    map: Vec<(u64, u64)>,
}

/// Something for one resource of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    // Boxed: the other items are a fraction of their size.
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

impl Default for PortPlan {
    fn default() -> PortPlan {
        // Nothing is filed in it: no budget to keep to.
        PortPlan::new(Vec::new(), None)
    }
}

impl PortPlan {
    /// A plan that holds up to `budget` bytes of pod decisions, and as
    /// many of Service targets, in memory, the rest in temporary files
    /// (None: all in memory).
    pub fn new(map: Vec<(u64, u64)>, budget: Option<usize>) -> PortPlan {
        PortPlan {
            items: Vec::new(),
            pods: Tape::new(budget),
            targets: Tape::new(budget),
            reasons: Reasons::default(),
            last_pod: 0,
            last_target: 0,
            changes: HashMap::new(),
            failed: None,
            map,
        }
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
        if at.doc < self.last_pod {
            return self.items.push((at.doc, at.resource, Filed::Pod { site, action }));
        }
        self.last_pod = at.doc;
        let record = self.reasons.record(Pod { at, site, action });
        if self.failed.is_none() {
            self.failed = self.pods.push(&record).err();
        }
    }

    /// File a Service's new target port (turned into a change in pass 2),
    /// in stream order as for pods.
    pub(crate) fn target(&mut self, at: At, port: usize, new: u64) {
        if at.doc < self.last_target {
            return self.items.push((at.doc, at.resource, Filed::Target { port, new }));
        }
        self.last_target = at.doc;
        if self.failed.is_none() {
            self.failed = self.targets.push(&TargetRecord { at, port, new }).err();
        }
    }

    /// Put the items in document order, once all are filed.
    pub(crate) fn seal(&mut self) {
        self.items.sort_by_key(|(doc, _, _)| *doc);
        self.items.shrink_to_fit();
        self.changes = HashMap::new();
    }

    /// Pass 2's reading of the plan: each chunk's share in turn, in stream
    /// order ([`PlanReader::chunk`]). Fails if a tape could not be written.
    pub fn read(&mut self) -> io::Result<PlanReader<'_>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.seal();
        PlanReader::new(self.pods.read()?, self.targets.read()?, &self.reasons, &self.items, &self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::change::Op;
    use serde_json::json;

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
