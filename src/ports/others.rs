//! The pods of a stream that declare no privileged port, as the port
//! index keeps them: numbers, not strings.

use super::labels::{text, triple};
use super::runs::Runs;
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
pub struct OtherPods(Runs<u64>);

impl OtherPods {
    pub(super) fn push(&mut self, namespace: &str, labels: Option<&Value>) {
        let labels = labels.and_then(Value::as_object).into_iter().flatten();
        self.0.push(labels.map(|(k, v)| triple(namespace, k, &text(v))));
    }

    /// How many numbers it holds (for the memory budget).
    pub fn len(&self) -> usize {
        self.0.len() + self.0.items()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forget them all (they were moved to a file), keeping the room.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Each pod's triples.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        self.0.iter()
    }
}
