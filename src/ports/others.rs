//! The pods of a stream that declare no privileged port, as the port
//! index keeps them: numbers, not strings.

use super::labels::{text, triple};
use serde_json::Value;

/// The pods that declare no privileged port. Such a pod never moves and is
/// given no change; it matters only as a pod that a Service may select next
/// to pods that would move (then those must keep their port). So all the
/// index keeps of it is each of its (namespace, label, value) triples as a
/// number (`labels::triple`), one run of numbers a pod, a few bytes a pod.
/// Two triples that hash the same can only make a Service seem to select
/// it, which makes harden choose the sysctl over a move for that Service's
/// pods: safe either way.
#[derive(Debug, Default)]
pub struct OtherPods {
    triples: Vec<u64>,
    /// Where each pod's run of triples ends.
    ends: Vec<usize>,
}

impl OtherPods {
    pub(super) fn push(&mut self, namespace: &str, labels: Option<&Value>) {
        let labels = labels.and_then(Value::as_object).into_iter().flatten();
        self.triples.extend(labels.map(|(k, v)| triple(namespace, k, &text(v))));
        self.ends.push(self.triples.len());
    }

    pub(super) fn append(&mut self, other: OtherPods) {
        let base = self.triples.len();
        self.triples.extend(other.triples);
        self.ends.extend(other.ends.into_iter().map(|e| e + base));
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.triples.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// How many numbers it holds (for the memory budget).
    pub fn len(&self) -> usize {
        self.ends.len() + self.triples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forget them all (they were moved to a file), keeping the room.
    pub fn clear(&mut self) {
        self.triples.clear();
        self.ends.clear();
    }

    /// Each pod's triples.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.triples[start..end])
    }
}
