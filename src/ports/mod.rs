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

pub mod filed;
pub mod index;
pub mod labels;
pub mod others;
pub mod pod;
pub mod references;
pub mod runs;
pub mod selection;
pub mod selector;
pub mod spill;
pub mod tape;
pub mod tell;

pub use filed::PortPlan;

use crate::plan::change::{Change, Control, Note, Op};
use index::{Fate, Index, PodEntry, ServiceEntry};
use selection::Selection;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const ID: &str = "unprivileged-port";
pub const SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Move where the app can be told the new port, else allow the bind.
    #[default]
    Auto,
    /// Move every privileged port.
    Move,
    /// Keep ports; allow non-root binds with the pod sysctl.
    Sysctl,
    /// Leave ports alone; only report.
    Keep,
}

/// The profile's `ports:` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSettings {
    #[serde(default)]
    pub strategy: Strategy,
    /// Old port → new port, e.g. {"80": 8080, "443": 8443}.
    pub map: BTreeMap<String, u64>,
}

impl PortSettings {
    pub fn moves(&self) -> Vec<(u64, u64)> {
        self.map.iter().filter_map(|(k, v)| k.parse().ok().map(|o| (o, *v))).collect()
    }
}

/// The new number of `port` under `moves` (old → new pairs), if it moves.
pub(crate) fn moved(port: u64, moves: &[(u64, u64)]) -> Option<u64> {
    moves.iter().find(|(o, _)| *o == port).map(|(_, n)| *n)
}

/// What happens to one pod's privileged ports, and why. (Held for every
/// such pod of the stream until pass 2: the common reasons are borrowed.)
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
/// stay, and file the resulting changes by document.
/// (Services and pods spilled to files are read back: that can fail.)
pub fn plan_stream(index: &mut Index, strategy: Strategy, map: &[(u64, u64)]) -> std::io::Result<PortPlan> {
    index.complete();
    // No pod declares a privileged port: nothing to decide.
    if index.pods.is_empty() {
        return Ok(PortPlan::default());
    }
    let sel = Selection::new(index)?;
    // Each decision replaces, in its pod, what it was made from.
    for i in 0..index.pods.len() {
        let action = decide(&index.pods[i], strategy, &index.services, sel.services_of(i));
        index.pods[i].fate = Fate::Decided(action);
    }
    settle_shared_services(index, &sel);
    let mut plan = PortPlan::new(map.to_vec()).memory_budget(index.overflow.budget());
    for (i, pod) in index.pods.iter().enumerate() {
        if let Action::Move(moves, _) = pod.action() {
            references::elsewhere(&mut plan, index, pod, moves, sel.services_of(i));
        }
    }
    drop(sel);
    // The decisions are moved into the plan, and each pod let go as its
    // decision goes: for a big stream they are most of what the run holds.
    // (Each resource's items keep their order: a pod's own items and what
    // it files elsewhere never share a resource.)
    let mut pods = std::mem::take(&mut index.pods);
    // What filing no longer reads goes first: whole pages of memory, which
    // the plan's blocks reuse.
    for pod in &mut pods {
        pod.labels = Default::default();
        pod.low_ports = Default::default();
    }
    for pod in pods {
        let PodEntry { at, site_no, fate, .. } = *pod;
        if let Fate::Decided(action) = fate {
            plan.pod(at, site_no as usize, action);
        }
    }
    plan.seal();
    Ok(plan)
}

/// The first decision for a pod, on its own.
fn decide(pod: &PodEntry, strategy: Strategy, all_services: &[ServiceEntry], services: &[u32]) -> Action {
    let movable = match &pod.fate {
        Fate::Movable(movable) => movable,
        Fate::Frozen(why) => return Action::Keep(why.clone()),
        Fate::Decided(action) => return action.clone(),
    };
    if pod.all_bind {
        return Action::Keep("the container adds NET_BIND_SERVICE, so it can bind the port as non-root".into());
    }
    let sysctl_ok = pod.pod_security_context;
    if let Some(svc) = services.iter().map(|&s| &all_services[s as usize]).find(|s| s.headless) {
        return Action::Sysctl(
            format!("the headless Service {} sends clients to pod IPs and ports directly", svc.name).into(),
        );
    }
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if sysctl_ok => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move",
        Strategy::Auto if !movable.untold => "harden can tell the app its new port",
        // Knative tells the app its port through $PORT itself.
        Strategy::Auto if !sysctl_ok => "the platform passes the port to the app in $PORT",
        Strategy::Auto => return Action::SysctlUntold,
    };
    Action::Move(movable.moves.clone(), reason.into())
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: none of them move (they get the sysctl), and a
/// Service whose pods would get different new numbers likewise. Repeated
/// until nothing changes, since one demotion can split another Service.
fn settle_shared_services(index: &mut Index, sel: &Selection) {
    let (services, pods) = (&index.services, &mut index.pods);
    loop {
        let mut changed = false;
        let services = services.iter().enumerate().zip(&sel.selects_other);
        for ((s, svc), &selects_other) in services.filter(|((_, s), _)| !s.headless) {
            let selected = sel.pods_of(s);
            for (_, target) in references::service_targets(svc) {
                let new_of = |i: u32| match pods[i as usize].action() {
                    Action::Move(m, _) => moved(target, m),
                    _ => None,
                };
                let movers: Vec<u32> = selected.iter().copied().filter(|&i| new_of(i).is_some()).collect();
                let mut numbers: Vec<u64> = movers.iter().filter_map(|&i| new_of(i)).collect();
                numbers.dedup();
                let split = movers.len() < selected.len() || selects_other || numbers.len() > 1;
                if movers.is_empty() || !split {
                    continue;
                }
                for i in movers {
                    let why: Why = format!("Service {} also selects pods that keep port {target}", svc.name).into();
                    let pod = &mut pods[i as usize];
                    let action = if pod.pod_security_context { Action::Sysctl(why) } else { Action::Keep(why) };
                    pod.fate = Fate::Decided(action);
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
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
