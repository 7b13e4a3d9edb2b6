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

pub mod index;
pub mod references;
pub mod selector;
pub mod tell;

use crate::plan::change::{Change, Control, Note, Op};
use crate::workload::KindRow;
use index::{At, Index, PodEntry, Slot};
use serde::Deserialize;
use serde_json::{Value, json};
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

/// What happens to one pod's privileged ports.
#[derive(Clone, Debug, PartialEq)]
enum Action {
    Keep(String),
    Sysctl(String),
    /// (old, new) pairs, and why.
    Move(Vec<(u64, u64)>, String),
}

/// Images that listen on 80 whatever the manifest says.
const FIXED_PORT_IMAGES: [&str; 4] = ["nginx", "httpd", "docker.io/library/nginx", "docker.io/library/httpd"];

/// Plan the port changes for the whole stream, filing each Change or Note
/// into the plan of the resource it belongs to.
pub fn plan_stream(slots: &mut [Slot], settings: &PortSettings, strategy: Strategy, kinds: &[KindRow], partial: bool) {
    let map = settings.moves();
    let low: Vec<u64> = map.iter().map(|(o, _)| *o).collect();
    let index = index::build(slots, kinds, &low, partial);
    let mut actions: Vec<Action> = index.pods.iter().map(|p| decide(slots, p, strategy, &map, &index)).collect();
    settle_shared_services(&index, &mut actions);
    let all_moves: Vec<Vec<(u64, u64)>> =
        actions.iter().map(|a| if let Action::Move(m, _) = a { m.clone() } else { Vec::new() }).collect();
    for (pod, action) in index.pods.iter().zip(&actions) {
        emit(slots, &index, pod, action, &all_moves);
    }
}

/// The first decision for a pod, on its own.
fn decide(slots: &[Slot], pod: &PodEntry, strategy: Strategy, map: &[(u64, u64)], index: &Index) -> Action {
    let movable: Vec<_> = pod.low.iter().filter(|l| !l.bind_capability).collect();
    if let Some(why) = &pod.frozen {
        return Action::Keep(why.clone());
    }
    if movable.is_empty() {
        return Action::Keep("the container adds NET_BIND_SERVICE, so it can bind the port as non-root".into());
    }
    let sysctl_ok = pod.site.pod_security_context;
    if let Some(svc) = index.services.iter().find(|s| {
        s.headless && s.namespace == pod.namespace && selector::service_selects(s.selector.as_ref(), &pod.labels)
    }) {
        return Action::Sysctl(format!(
            "the headless Service {} sends clients to pod IPs and ports directly",
            svc.name
        ));
    }
    let spec = slots[pod.at.slot].value.pointer(&pod.site.spec).unwrap_or(&Value::Null);
    let new_ports = assign(pod, map);
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if sysctl_ok => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move".to_string(),
        Strategy::Auto => {
            let untold = movable
                .iter()
                .find(|l| tell_edits(spec.pointer(&l.container).unwrap_or(&Value::Null), &new_ports).is_empty());
            match untold {
                None => "harden can tell the app its new port".to_string(),
                // Knative tells the app its port through $PORT itself.
                Some(_) if !sysctl_ok => "the platform passes the port to the app in $PORT".to_string(),
                Some(l) => {
                    return Action::Sysctl(format!(
                        "harden cannot tell container \"{}\" to listen elsewhere",
                        l.container_name
                    ));
                }
            }
        }
    };
    Action::Move(new_ports, reason)
}

/// New numbers for the pod's privileged ports, skipping any the pod already
/// declares (8080 taken → 8081), so two ports never collide.
fn assign(pod: &PodEntry, map: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut taken = pod.declared.clone();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for l in pod.low.iter().filter(|l| !l.bind_capability) {
        if out.iter().any(|(o, _)| *o == l.port) {
            continue;
        }
        let Some((_, mut n)) = map.iter().find(|(o, _)| *o == l.port).copied() else { continue };
        while taken.contains(&n) {
            n += 1;
        }
        taken.push(n);
        out.push((l.port, n));
    }
    out
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: none of them move (they get the sysctl), and a
/// Service whose pods would get different new numbers likewise. Repeated
/// until nothing changes, since one demotion can split another Service.
fn settle_shared_services(index: &Index, actions: &mut [Action]) {
    loop {
        let mut changed = false;
        for svc in index.services.iter().filter(|s| !s.headless) {
            let selected: Vec<usize> = (0..index.pods.len())
                .filter(|&i| {
                    index.pods[i].namespace == svc.namespace
                        && selector::service_selects(svc.selector.as_ref(), &index.pods[i].labels)
                })
                .collect();
            for target in references::service_targets(svc) {
                let new_of = |i: usize| match &actions[i] {
                    Action::Move(m, _) => m.iter().find(|(o, _)| *o == target).map(|(_, n)| *n),
                    _ => None,
                };
                let movers: Vec<usize> = selected.iter().copied().filter(|&i| new_of(i).is_some()).collect();
                let mut numbers: Vec<u64> = movers.iter().filter_map(|&i| new_of(i)).collect();
                numbers.dedup();
                let split = movers.len() < selected.len() || numbers.len() > 1;
                if movers.is_empty() || !split {
                    continue;
                }
                for i in movers {
                    let why = format!("Service {} also selects pods that keep port {target}", svc.name);
                    actions[i] =
                        if index.pods[i].site.pod_security_context { Action::Sysctl(why) } else { Action::Keep(why) };
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// The edits that tell a container's app its new port.
fn tell_edits(container: &Value, moves: &[(u64, u64)]) -> Vec<tell::Edit> {
    let mut edits = Vec::new();
    if tell::is_aspnet(container) {
        edits.extend(tell::aspnet(container, moves));
    }
    edits.extend(tell::flags(container, moves));
    edits.extend(tell::port_env(container, moves));
    edits
}

fn emit(slots: &mut [Slot], index: &Index, pod: &PodEntry, action: &Action, all_moves: &[Vec<(u64, u64)>]) {
    let spec_ptr = pod.site.spec.clone();
    let doc = slots[pod.at.slot].value;
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let container_of = |l: &index::LowPort| Some(l.container_name.clone());
    match action {
        Action::Keep(why) => {
            for l in &pod.low {
                let why = if l.bind_capability {
                    "the container adds NET_BIND_SERVICE, so it can bind the port as non-root"
                } else {
                    why
                };
                notes.push(note(
                    &format!("{spec_ptr}{}/ports/{}", l.container, l.index),
                    container_of(l),
                    format!("port {} kept: {why}", l.port),
                ));
            }
        }
        Action::Sysctl(why) => {
            let present = doc
                .pointer(&format!("{spec_ptr}/securityContext/sysctls"))
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(SYSCTL)));
            if !present {
                changes.push(change(
                    Op::Append,
                    format!("{spec_ptr}/securityContext/sysctls"),
                    json!({"name": SYSCTL, "value": "0"}),
                    None,
                    None,
                    format!(
                        "lets the non-root app bind port {} inside the pod's own network namespace ({why})",
                        ports_list(pod)
                    ),
                ));
            }
        }
        Action::Move(moves, why) => {
            let spec = doc.pointer(&spec_ptr).unwrap_or(&Value::Null);
            for l in pod.low.iter().filter(|l| !l.bind_capability) {
                let Some((_, n)) = moves.iter().find(|(o, _)| *o == l.port) else { continue };
                let ptr = format!("{spec_ptr}{}/ports/{}/containerPort", l.container, l.index);
                changes.push(change(
                    Op::Set,
                    ptr,
                    json!(n),
                    Some(json!(l.port)),
                    container_of(l),
                    format!("a non-root process cannot bind port {}; moved to {n} ({why})", l.port),
                ));
                let container = spec.pointer(&l.container).unwrap_or(&Value::Null);
                for e in tell_edits(container, moves) {
                    changes.push(match e {
                        tell::Edit::Set { pointer, value, reason } => {
                            let abs = format!("{spec_ptr}{}{pointer}", l.container);
                            let before = doc.pointer(&abs).cloned();
                            change(Op::Set, abs, value, before, container_of(l), reason)
                        }
                        tell::Edit::AppendEnv { name, value, reason } => change(
                            Op::Append,
                            format!("{spec_ptr}{}/env", l.container),
                            json!({"name": name, "value": value}),
                            None,
                            container_of(l),
                            reason,
                        ),
                    });
                }
                let image = container.get("image").and_then(Value::as_str).unwrap_or("");
                if FIXED_PORT_IMAGES
                    .iter()
                    .any(|i| image == *i || image.starts_with(&format!("{i}:")) || image.starts_with(&format!("{i}@")))
                {
                    let mut n = note(
                        &format!("{spec_ptr}{}", l.container),
                        container_of(l),
                        format!(
                            "image {image} listens on {} whatever the manifest says; change the image too (e.g. nginxinc/nginx-unprivileged)",
                            l.port
                        ),
                    );
                    n.warning = true;
                    notes.push(n);
                }
            }
            changes.extend(references::in_pod(doc, pod, moves));
            changes.extend(references::annotations(doc, pod, moves));
            references::elsewhere(slots, index, pod, moves, all_moves);
        }
    }
    let res = &mut slots[pod.at.slot].plan.resources[pod.at.resource];
    res.changes.extend(changes);
    res.notes.extend(notes);
}

fn ports_list(pod: &PodEntry) -> String {
    let mut ports: Vec<String> = pod.low.iter().map(|l| l.port.to_string()).collect();
    ports.dedup();
    ports.join(", ")
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

fn note(pointer: &str, container: Option<String>, message: String) -> Note {
    Note { pointer: pointer.to_string(), rule: ID, container, message, warning: false }
}

/// Append a change to the resource at `at`.
pub(crate) fn file(slots: &mut [Slot], at: At, c: Change) {
    let res = &mut slots[at.slot].plan.resources[at.resource];
    if !res.changes.iter().any(|x| x.pointer == c.pointer && x.value == c.value) {
        res.changes.push(c);
    }
}
