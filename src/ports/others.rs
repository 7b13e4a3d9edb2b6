//! The pods of a stream that declare no privileged port, as the port
//! index keeps them: numbers, not strings.

use super::labels::{text, triple};
use super::tape::{Record, Take, put};
use serde_json::Value;
use std::io;

/// The pods that declare no privileged port. Such a pod never moves and is
/// given no change; it matters only as a pod that a Service may select next
/// to pods that would move (then those must keep their port). So all the
/// index keeps of it is each of its (namespace, label, value) triples as a
/// number (`labels::triple`), one run of numbers a pod, a few bytes a pod.
/// Two triples that hash the same can only make a Service seem to select
/// it, which makes harden choose the sysctl over a move for that Service's
/// pods: safe either way.
#[derive(Debug, Default, PartialEq)]
pub struct OtherPod(pub Vec<u64>);

impl OtherPod {
    pub(super) fn of(namespace: &str, labels: Option<&Value>) -> OtherPod {
        let labels = labels.and_then(Value::as_object).into_iter().flatten();
        OtherPod(labels.map(|(k, v)| triple(namespace, k, &text(v))).collect())
    }
}

impl Record for OtherPod {
    fn put(&self, out: &mut Vec<u8>) {
        put::usize(out, self.0.len());
        // Hashes: every bit is as likely set, so written whole.
        self.0.iter().for_each(|t| out.extend_from_slice(&t.to_le_bytes()));
    }

    fn take(bytes: &mut Take) -> io::Result<OtherPod> {
        (0..bytes.usize()?).map(|_| bytes.fixed::<8>().map(u64::from_le_bytes)).collect::<io::Result<_>>().map(OtherPod)
    }
}
