//! `unprivileged-port`: let non-root workloads serve on 80/443.
//!
//! A non-root process cannot bind ports below 1024, so a pod made non-root
//! that declares containerPort 80 breaks (`bind() ... Permission denied`).
//! Per pod, harden either moves the port (80→8080, 443→8443 by the
//! profile's map) together with everything in the stream that points at it
//! — probes, hooks, `prometheus.io/port`, Service `targetPort`,
//! NetworkPolicy and monitor ports — or keeps it and adds the pod sysctl
//! `net.ipv4.ip_unprivileged_port_start=0`, which Pod Security allows.
//! `auto` moves only where harden can also tell the app (ASP.NET Core
//! variables, a port flag, a PORT variable).
//!
//! The decisions need the whole stream: pass 1 reads every document into
//! a [`PortGraph`] (`index`), [`decide`] makes them from the graph alone,
//! and pass 2 turns each document's share ([`ChunkPorts`]) into changes.

pub mod decide;
pub mod decisions;
pub mod graph;
pub mod index;
pub mod labels;
pub mod pod;
pub mod references;
pub mod selection;
pub mod selector;
pub mod tell;

pub use decide::decide;
pub use decisions::{ChunkPorts, Decisions};
pub use graph::PortGraph;

use crate::plan::change::{Change, Control, Note, Op};
use serde_json::Value;

pub const ID: &str = "unprivileged-port";
pub const SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

/// The new number of `port` under `moves` (old → new pairs), if it moves.
pub(crate) fn moved(port: u64, moves: &[(u64, u64)]) -> Option<u64> {
    moves.iter().find(|(o, _)| *o == port).map(|(_, n)| *n)
}

/// What happens to one pod's privileged ports, and why.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Keep(Why),
    Sysctl(Why),
    /// The sysctl, because harden cannot tell one of the pod's containers
    /// to listen elsewhere (which one is found in pass 2, from the
    /// document: `pod::expand`).
    SysctlUntold,
    /// (old, new) pairs, and why.
    Move(Box<[(u64, u64)]>, Why),
}

impl Action {
    /// The (old, new) pairs it moves: none unless it is a move.
    pub fn moves(&self) -> &[(u64, u64)] {
        match self {
            Action::Move(moves, _) => moves,
            _ => &[],
        }
    }
}

/// A reason, as written in notes and reports.
pub type Why = std::borrow::Cow<'static, str>;

/// Images that listen on 80 whatever the manifest says.
pub(crate) const FIXED_PORT_IMAGES: [&str; 4] =
    ["nginx", "httpd", "docker.io/library/nginx", "docker.io/library/httpd"];

pub(crate) fn change(
    op: Op,
    pointer: String,
    value: Value,
    before: Option<Value>,
    container: Option<String>,
    reason: String,
) -> Change {
    Change { op, pointer, value, before, rule: ID, control: Control::HardenDefault, reason, container }
}

pub(crate) fn note(pointer: &str, container: Option<String>, message: String) -> Note {
    Note { pointer: pointer.to_string(), rule: ID, container, message, warning: false }
}
