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
pub mod labels;
pub mod references;
pub mod selection;
pub mod selector;
pub mod tell;

use crate::plan::change::{Change, Control, Note, Op};
use crate::pointer::Pointer;
use index::{At, Candidate, Index, PodEntry};
use selection::Selection;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

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

/// The port decisions, filed by document: each document, when its turn
/// comes to be written, takes the changes and notes meant for it.
#[derive(Debug, Default)]
pub struct PortPlan {
    by_doc: HashMap<usize, Vec<(usize, Filed)>>,
}

/// A change or note for one resource of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Filed {
    Change(Change),
    Note(Note),
}

impl PortPlan {
    /// File a change for the resource at `at`, once.
    pub(crate) fn file(&mut self, at: At, c: Change) {
        let items = self.by_doc.entry(at.doc).or_default();
        let duplicate = items.iter().any(|(r, f)| {
            *r == at.resource && matches!(f, Filed::Change(x) if x.pointer == c.pointer && x.value == c.value)
        });
        if !duplicate {
            items.push((at.resource, Filed::Change(c)));
        }
    }

    fn note(&mut self, at: At, n: Note) {
        self.by_doc.entry(at.doc).or_default().push((at.resource, Filed::Note(n)));
    }

    /// Whether anything is filed for document `doc`.
    pub fn has(&self, doc: usize) -> bool {
        self.by_doc.contains_key(&doc)
    }

    /// Add document `doc`'s port changes and notes to its plan.
    pub fn apply_to(&self, doc: usize, plan: &mut crate::plan::DocPlan) {
        for (r, item) in self.by_doc.get(&doc).into_iter().flatten() {
            let Some(res) = plan.resources.get_mut(*r) else { continue };
            match item {
                Filed::Change(c) => res.changes.push(c.clone()),
                Filed::Note(n) => res.notes.push(n.clone()),
            }
        }
    }
}

/// Decide, for every indexed pod, whether its ports move, get the sysctl or
/// stay, and file the resulting changes by document.
pub fn plan_stream(index: &Index, strategy: Strategy) -> PortPlan {
    // No pod declares a privileged port: nothing to decide.
    if index.pods.iter().all(|p| p.low.is_empty()) {
        return PortPlan::default();
    }
    let sel = Selection::new(index);
    let mut actions: Vec<Action> =
        index.pods.iter().enumerate().map(|(i, p)| decide(p, strategy, index, &sel.services_of_pod[i])).collect();
    settle_shared_services(index, &sel, &mut actions);
    let all_moves: Vec<Vec<(u64, u64)>> =
        actions.iter().map(|a| if let Action::Move(m, _) = a { m.clone() } else { Vec::new() }).collect();
    let mut plan = PortPlan::default();
    for (i, (pod, action)) in index.pods.iter().zip(&actions).enumerate() {
        emit(&mut plan, index, pod, action, &all_moves, &sel.services_of_pod[i]);
    }
    plan
}

/// The first decision for a pod, on its own.
fn decide(pod: &PodEntry, strategy: Strategy, index: &Index, services: &[usize]) -> Action {
    if pod.low.is_empty() {
        return Action::Keep(String::new());
    }
    if let Some(why) = &pod.frozen {
        return Action::Keep(why.clone());
    }
    if pod.low.iter().all(|l| l.bind_capability) {
        return Action::Keep("the container adds NET_BIND_SERVICE, so it can bind the port as non-root".into());
    }
    let sysctl_ok = pod.site.pod_security_context;
    if let Some(svc) = services.iter().map(|&s| &index.services[s]).find(|s| s.headless) {
        return Action::Sysctl(format!(
            "the headless Service {} sends clients to pod IPs and ports directly",
            svc.name
        ));
    }
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if sysctl_ok => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move".to_string(),
        Strategy::Auto => match &pod.candidate.untold {
            None => "harden can tell the app its new port".to_string(),
            // Knative tells the app its port through $PORT itself.
            Some(_) if !sysctl_ok => "the platform passes the port to the app in $PORT".to_string(),
            Some(name) => {
                return Action::Sysctl(format!("harden cannot tell container \"{name}\" to listen elsewhere"));
            }
        },
    };
    Action::Move(pod.candidate.moves.clone(), reason)
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
        let Some(mut n) = moved(l.port, map) else { continue };
        while taken.contains(&n) {
            n += 1;
        }
        taken.push(n);
        out.push((l.port, n));
    }
    out
}

/// What moving a pod's ports changes inside its own document. Worked out
/// while indexing, when the document is at hand; used only if the pod moves.
pub(crate) fn candidate(doc: &Value, pod: &PodEntry, map: &[(u64, u64)]) -> Candidate {
    let moves = assign(pod, map);
    let spec_ptr = &pod.site.spec;
    let spec = doc.at(spec_ptr).unwrap_or(&Value::Null);
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let mut untold = None;
    for l in pod.low.iter().filter(|l| !l.bind_capability) {
        let Some(n) = moved(l.port, &moves) else { continue };
        let who = Some(l.container_name.clone());
        let ptr = format!("{spec_ptr}{}/ports/{}/containerPort", l.container, l.index);
        changes.push(change(
            Op::Set,
            ptr,
            json!(n),
            Some(json!(l.port)),
            who.clone(),
            format!("a non-root process cannot bind port {}; moved to {n}", l.port),
        ));
        let container = spec.at(&l.container).unwrap_or(&Value::Null);
        let told = tell_edits(container, &moves);
        if told.is_empty() && untold.is_none() {
            untold = Some(l.container_name.clone());
        }
        for e in told {
            changes.push(match e {
                tell::Edit::Set { pointer, value, reason } => {
                    let abs = format!("{spec_ptr}{}{pointer}", l.container);
                    let before = doc.at(&abs).cloned();
                    change(Op::Set, abs, value, before, who.clone(), reason)
                }
                tell::Edit::AppendEnv { name, value, reason } => change(
                    Op::Append,
                    format!("{spec_ptr}{}/env", l.container),
                    json!({"name": name, "value": value}),
                    None,
                    who.clone(),
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
                who.clone(),
                format!(
                    "image {image} listens on {} whatever the manifest says; change the image too (e.g. nginxinc/nginx-unprivileged)",
                    l.port
                ),
            );
            n.warning = true;
            notes.push(n);
        }
    }
    changes.extend(references::in_pod(doc, pod, &moves));
    changes.extend(references::annotations(doc, pod, &moves));
    Candidate { moves, changes, notes, untold }
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: none of them move (they get the sysctl), and a
/// Service whose pods would get different new numbers likewise. Repeated
/// until nothing changes, since one demotion can split another Service.
fn settle_shared_services(index: &Index, sel: &Selection, actions: &mut [Action]) {
    loop {
        let mut changed = false;
        for (svc, selected) in index.services.iter().zip(&sel.pods_of_service).filter(|(s, _)| !s.headless) {
            for target in references::service_targets(svc) {
                let new_of = |i: usize| match &actions[i] {
                    Action::Move(m, _) => moved(target, m),
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

fn emit(
    plan: &mut PortPlan,
    index: &Index,
    pod: &PodEntry,
    action: &Action,
    all_moves: &[Vec<(u64, u64)>],
    services: &[usize],
) {
    let spec_ptr = &pod.site.spec;
    match action {
        Action::Keep(_) if pod.low.is_empty() => {}
        Action::Keep(why) => {
            for l in &pod.low {
                let why = if l.bind_capability {
                    "the container adds NET_BIND_SERVICE, so it can bind the port as non-root"
                } else {
                    why
                };
                let n = note(
                    &format!("{spec_ptr}{}/ports/{}", l.container, l.index),
                    Some(l.container_name.clone()),
                    format!("port {} kept: {why}", l.port),
                );
                plan.note(pod.at, n);
            }
        }
        Action::Sysctl(why) => {
            if !pod.sysctl_present {
                let c = change(
                    Op::Append,
                    format!("{spec_ptr}/securityContext/sysctls"),
                    json!({"name": SYSCTL, "value": "0"}),
                    None,
                    None,
                    format!(
                        "lets the non-root app bind port {} inside the pod's own network namespace ({why})",
                        ports_list(pod)
                    ),
                );
                plan.file(pod.at, c);
            }
        }
        Action::Move(moves, why) => {
            for c in &pod.candidate.changes {
                let mut c = c.clone();
                if c.pointer.ends_with("/containerPort") {
                    c.reason = format!("{} ({why})", c.reason);
                }
                plan.file(pod.at, c);
            }
            for n in &pod.candidate.notes {
                plan.note(pod.at, n.clone());
            }
            references::elsewhere(plan, index, pod, moves, all_moves, services);
        }
    }
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
