//! The stream-wide side of the `unprivileged-port` rule: which pods that
//! declare port 80 or 443 move the port, which keep it with the pod sysctl
//! `net.ipv4.ip_unprivileged_port_start=0` and which keep it as it is, and
//! what else in the stream follows a moved port (Service `targetPort`,
//! NetworkPolicy, Cilium policy and monitor ports). Pods that share a
//! Service must decide alike, so the decisions need the whole stream: pass
//! 1 reads every document into a [`PortGraph`] (`index`), [`decide`] makes
//! them from the graph alone, and pass 2 turns each document's share
//! ([`ChunkPorts`]) into changes, a pod's with the rule's own side
//! (`rules::unprivileged_port`: what a decision changes inside the pod).

pub mod configs;
pub mod decide;
pub mod decisions;
pub mod graph;
pub mod index;
pub mod labels;
pub mod references;
pub mod selection;
pub mod selector;

pub use decide::decide;
pub use decisions::{ChunkPorts, Decisions};
pub use graph::PortGraph;
