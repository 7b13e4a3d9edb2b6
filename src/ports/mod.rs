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
//! variables, a port flag, a PORT variable). This pass runs after every
//! document has been planned, because it needs the whole stream.

pub mod decide;
pub mod filed;
pub mod index;
pub mod join;
pub mod labels;
pub mod others;
pub mod pod;
pub mod policies;
pub mod records;
pub mod references;
pub mod selection;
pub mod selector;
pub mod sorter;
pub mod stream_index;
pub mod tape;
pub mod tell;

pub use filed::PortPlan;

use crate::plan::change::{Change, Control, Note, Op};
use crate::profile::Strategy;
use join::Cursor;
use serde_json::Value;
use stream_index::StreamIndex;

pub const ID: &str = "unprivileged-port";
pub const SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

/// The new number of `port` under `moves` (old → new pairs), if it moves.
pub(crate) fn moved(port: u64, moves: &[(u64, u64)]) -> Option<u64> {
    moves.iter().find(|(o, _)| *o == port).map(|(_, n)| *n)
}

/// What happens to one pod's privileged ports, and why. (Filed for every
/// such pod of the stream, on a tape, until pass 2: harden's own reasons
/// are written as numbers, see `filed::record`.)
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Keep(Why),
    Sysctl(Why),
    /// The sysctl, because harden cannot tell one of the pod's containers
    /// to listen elsewhere. Which one is worked out again in pass 2, from
    /// the document (`pod::expand`): a name for each such pod was much of
    /// what a big stream's decisions held.
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

/// Decide, for every indexed pod, whether its ports move, get the sysctl or
/// stay, and file the resulting changes by document. Everything is read
/// from the index's tapes in order and joined by sorting (`selection`),
/// so that what is held in memory does not grow with the stream, but for
/// one number a pod (`decide::Movers`). Tapes and sorts go to temporary
/// files past the index's budget: that can fail.
pub fn plan_stream(index: &mut StreamIndex, strategy: Strategy, map: &[(u64, u64)]) -> std::io::Result<PortPlan> {
    // No pod declares a privileged port: nothing to decide.
    if index.pods.is_empty() {
        return Ok(PortPlan::default());
    }
    let budget = index.budget.unwrap_or(usize::MAX);
    let mut kept = selection::select(index, budget)?;
    let mut headless = decide::first_headless(&mut kept, budget)?;
    let mut movers = decide::first(index, &mut headless, strategy)?;
    let stopped = decide::settle(&mut kept, &mut movers, budget)?;
    let mut plan = PortPlan::new(map.to_vec(), index.budget);
    references::service_targets(&mut kept, &movers, &mut plan)?;
    let all_move = policies::AllMove::new(index, &movers)?;
    let monitors = policies::service_monitors(&mut kept, &index.policies, &movers, budget)?;
    let (mut stopped, mut monitors) = (Cursor::new(stopped.sorted()?)?, Cursor::new(monitors.sorted()?)?);
    let policies = std::mem::take(&mut index.policies);
    decide::each_decision(index, &mut headless, strategy, |p, pod, first| {
        let action = match stopped.take(|s| s.pod <= p)?.pop() {
            Some(s) => decide::stopped_action(&pod, s.why),
            None => first,
        };
        let monitors: Vec<usize> = monitors.take(|m| m.0 <= p)?.into_iter().map(|m| m.1).collect();
        if let Action::Move(moves, _) = &action {
            policies::file(&mut plan, &policies, &all_move, &pod, moves, &monitors);
        }
        plan.pod(pod.at, pod.site_no as usize, action);
        Ok(())
    })?;
    // (Sealed when pass 2 reads it.)
    Ok(plan)
}

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
