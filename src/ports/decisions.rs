//! The port decisions for the stream, by document, and pass 2's side of
//! them: each chunk takes its documents' share ([`ChunkPorts`]) and turns
//! it into changes with the document at hand. A pod's decision is kept as
//! the decision itself and a Service's new target ports as numbers (both
//! become changes only then, from the document); NetworkPolicies and
//! monitors get their changes as made.

use super::graph::At;
use crate::images::ImageTable;
use crate::plan::DocPlan;
use crate::plan::change::{Change, Note};
use crate::rules::unprivileged_port::{Action, expand, moved_beyond_the_stream, target_change};
use crate::workload::{KindRow, pod_sites};
use serde_json::Value;

/// What happens to the ports of pod number `site` of the resource at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct PodDecision {
    pub at: At,
    pub site: u32,
    pub action: Action,
    /// Whether something in the stream points at the pod's ports (a
    /// Service, a NetworkPolicy, a monitor).
    pub pointed_at: bool,
    /// The privileged ports it listens on, as the stream shows them.
    pub ports: Box<[u64]>,
}

/// A Service at `at` whose port number `port` sends traffic to a pod port
/// that moved to `new`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTarget {
    pub at: At,
    pub port: u32,
    pub new: u64,
}

/// Everything the port decisions change, in stream order.
#[derive(Debug, Default)]
pub struct Decisions {
    pub pods: Vec<PodDecision>,
    pub targets: Vec<NewTarget>,
    /// Changes to NetworkPolicies, monitors and ConfigMaps (a resource's
    /// in the order made, each once), by document.
    pub changes: Vec<(At, Change)>,
    /// Warnings for pods decided from the whole stream, by document.
    pub notes: Vec<(At, Note)>,
    /// Old port → new port, from the profile.
    pub map: Vec<(u64, u64)>,
}

impl Decisions {
    /// The share of the `docs` documents from number `first` on: a chunk's.
    pub fn chunk(&self, first: usize, docs: usize) -> ChunkPorts<'_> {
        let (pods, targets, changes, notes) = (&self.pods[..], &self.targets[..], &self.changes[..], &self.notes[..]);
        let all = ChunkPorts { pods, targets, changes, notes, map: &self.map };
        all.between(first, first + docs)
    }
}

/// What is decided for some documents (a chunk's).
#[derive(Clone, Copy, Debug, Default)]
pub struct ChunkPorts<'a> {
    pods: &'a [PodDecision],
    targets: &'a [NewTarget],
    changes: &'a [(At, Change)],
    notes: &'a [(At, Note)],
    map: &'a [(u64, u64)],
}

/// The part of `list` (sorted by document) for documents `start..end`.
fn between<T>(list: &[T], start: usize, end: usize, doc_of: impl Fn(&T) -> usize) -> &[T] {
    let from = list.partition_point(|x| doc_of(x) < start);
    &list[from..from + list[from..].partition_point(|x| doc_of(x) < end)]
}

impl<'a> ChunkPorts<'a> {
    /// The share of documents `start..end`.
    fn between(self, start: usize, end: usize) -> ChunkPorts<'a> {
        ChunkPorts {
            pods: between(self.pods, start, end, |p| p.at.doc),
            targets: between(self.targets, start, end, |t| t.at.doc),
            changes: between(self.changes, start, end, |(at, _)| at.doc),
            notes: between(self.notes, start, end, |(at, _)| at.doc),
            map: self.map,
        }
    }

    /// Whether anything is decided for document `doc`.
    pub fn has(&self, doc: usize) -> bool {
        let of = self.between(doc, doc + 1);
        !(of.pods.is_empty() && of.targets.is_empty() && of.changes.is_empty() && of.notes.is_empty())
    }

    /// Add document `doc`'s port changes and notes to its plan; `value` is
    /// the document, `kinds` where its pods are, `images` what their
    /// images listen on.
    pub fn apply_to(&self, doc: usize, value: &Value, plan: &mut DocPlan, kinds: &[KindRow], images: &ImageTable) {
        let of = self.between(doc, doc + 1);
        let mut changes: Vec<(usize, Change)> = Vec::new();
        // A pod's own items, a Service's and a policy's never share a
        // resource; each resource keeps its items in the order made.
        let mut unfollowed: Vec<Unfollowed> = Vec::new();
        for p in of.pods {
            let r = p.at.resource;
            let Some(res) = plan.resources.get(r) else { continue };
            let Some(site) = pod_sites(value, &res.base, &res.id, kinds).into_iter().nth(p.site as usize) else {
                continue;
            };
            let edits = expand(value, &site, &p.action, &p.ports, self.map, images);
            edits.changes.into_iter().for_each(|c| push_unique(&mut changes, r, c));
            plan.resources[r].notes.extend(edits.notes);
            if let (Action::Move(moves, _), false) = (&p.action, p.pointed_at) {
                match unfollowed.iter_mut().find(|u| u.resource == r) {
                    Some(u) => {
                        let new: Vec<(u64, u64)> = moves.iter().filter(|m| !u.moves.contains(m)).copied().collect();
                        u.moves.extend(new);
                    }
                    None => unfollowed.push(Unfollowed { resource: r, spec: site.spec, moves: moves.to_vec() }),
                }
            }
        }
        for u in unfollowed {
            plan.resources[u.resource].notes.push(moved_beyond_the_stream(&u.spec, &u.moves));
        }
        for t in of.targets {
            let Some(res) = plan.resources.get(t.at.resource) else { continue };
            if let Some(c) = target_change(value, &res.base, t.port as usize, t.new) {
                push_unique(&mut changes, t.at.resource, c);
            }
        }
        for (at, c) in of.changes {
            push_unique(&mut changes, at.resource, c.clone());
        }
        for (r, c) in changes {
            if let Some(res) = plan.resources.get_mut(r) {
                res.changes.push(c);
            }
        }
        for (at, n) in of.notes {
            if let Some(res) = plan.resources.get_mut(at.resource) {
                res.notes.push(n.clone());
            }
        }
    }
}

/// A workload's moves that nothing in the stream follows: the resource, the
/// pod spec the warning is said on, the moves.
struct Unfollowed {
    resource: usize,
    spec: String,
    moves: Vec<(u64, u64)>,
}

/// Add a change unless the resource already has the same one (two ports of
/// one container tell its app the same thing).
fn push_unique(changes: &mut Vec<(usize, Change)>, resource: usize, c: Change) {
    if !changes.iter().any(|(r, x)| *r == resource && x.pointer == c.pointer && x.value == c.value) {
        changes.push((resource, c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourcePlan;
    use crate::plan::change::Op;
    use crate::rules::unprivileged_port::change;
    use serde_json::json;

    fn set(ptr: &str) -> Change {
        change(Op::Set, ptr.into(), json!(8080), Some(json!(80)), None, "".into())
    }

    #[test]
    fn a_chunk_adds_its_documents_changes_to_their_resources_once() {
        let at = |doc, resource| At { doc, resource };
        let action = Action::Keep("--ports keep".into());
        let pod =
            |doc| PodDecision { at: at(doc, 0), site: 0, action: action.clone(), pointed_at: true, ports: [80].into() };
        let decisions = Decisions {
            pods: vec![pod(1), pod(4), pod(9)],
            targets: vec![NewTarget { at: at(5, 0), port: 0, new: 8080 }],
            changes: [0, 0, 1].map(|p| (at(5, 1), set(&format!("/items/1/spec/ingress/0/ports/{p}/port")))).into(),
            notes: Vec::new(),
            map: vec![(80, 8080)],
        };
        let chunk = decisions.chunk(3, 3);
        assert_eq!((0..10).filter(|&d| chunk.has(d)).collect::<Vec<_>>(), [4, 5], "3, 4 and 5, of which 3 has nothing");
        let value = json!({"kind": "List", "items": [
            {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 80}]}},
            {"kind": "NetworkPolicy", "spec": {}},
        ]});
        let resource = |base: &str| ResourcePlan { base: base.into(), ..ResourcePlan::default() };
        let mut doc = DocPlan { resources: vec![resource("/items/0"), resource("/items/1")] };
        chunk.apply_to(5, &value, &mut doc, &[], crate::images::built_in_table());
        let pointers = |r: usize| doc.resources[r].changes.iter().map(|c| c.pointer.as_str()).collect::<Vec<_>>();
        assert_eq!(pointers(0), ["/items/0/spec/ports/0/targetPort"]);
        assert_eq!(pointers(1), ["/items/1/spec/ingress/0/ports/0/port", "/items/1/spec/ingress/0/ports/1/port"]);
    }
}
