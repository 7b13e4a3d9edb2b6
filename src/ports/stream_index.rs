//! The index of the whole stream: what pass 1 found in every chunk, merged
//! in stream order. Its pods, Services and other pods are kept on tapes
//! ([`super::tape`]), so past a budget they are in temporary files and the
//! index takes about the same memory whatever the length of the stream.
//! NetworkPolicies and monitors that give a moved port by number stay in
//! memory: a stream has few.

use super::index::{Index, PodEntry, PolicyEntry, ServiceEntry};
use super::others::OtherPod;
use super::tape::Tape;
use std::io;

#[derive(Debug)]
pub struct StreamIndex {
    /// Budget in bytes for each list held in memory before it goes to a
    /// file (None: never; also what the port decisions use for theirs).
    pub budget: Option<usize>,
    /// Pods that declare a privileged port, in stream order.
    pub pods: Tape<PodEntry>,
    /// Every other pod, as numbers.
    pub others: Tape<OtherPod>,
    pub services: Tape<ServiceEntry>,
    pub policies: Vec<PolicyEntry>,
}

impl StreamIndex {
    /// An index whose lists each move to a temporary file past `budget`
    /// bytes.
    pub fn new(budget: usize) -> StreamIndex {
        StreamIndex {
            budget: Some(budget),
            pods: Tape::new(Some(budget)),
            others: Tape::new(Some(budget)),
            services: Tape::new(Some(budget)),
            policies: Vec::new(),
        }
    }

    /// Append the index of the next chunk.
    pub fn merge(&mut self, part: Index) -> io::Result<()> {
        part.pods.iter().try_for_each(|pod| self.pods.push(pod))?;
        part.services.iter().try_for_each(|svc| self.services.push(svc))?;
        part.others.iter().try_for_each(|pod| self.others.push(pod))?;
        self.policies.extend(part.policies);
        Ok(())
    }
}
