//! The port decisions for the whole stream: a pure function of the graph
//! and the profile's port settings ([`decide`]), made in steps that each
//! read the graph and what the steps before them decided.

use super::decisions::{Decisions, NewTarget, PodDecision};
use super::graph::{At, Fate, Pod, PortGraph};
use super::references::{Covers, Follows, PortRule, rules};
use super::selection::{Selection, selections};
use super::{Action, Why, change, moved};
use crate::plan::change::{Change, Op};
use crate::profile::{PortSettings, Strategy};
use serde_json::json;
use std::collections::HashMap;

/// Every pod's decision, the Services' new target ports and the changes to
/// NetworkPolicies and monitors.
pub fn decide(graph: &PortGraph, settings: &PortSettings) -> Decisions {
    let map = settings.moves();
    if graph.pods.is_empty() {
        return Decisions { map, ..Decisions::default() };
    }
    let selections = selections(graph);
    let headless = first_headless(graph, &selections);
    let mut actions: Vec<Action> = (graph.pods.iter().zip(&headless))
        .map(|(pod, headless)| own_decision(pod, settings.strategy, *headless))
        .collect();
    settle_shared_services(graph, &selections, &mut actions);
    let targets = service_targets(graph, &selections, &actions);
    let changes = reference_changes(graph, &selections, &actions);
    let pods = (graph.pods.iter().zip(actions))
        .map(|(pod, action)| PodDecision { at: pod.at, site: pod.site, action })
        .collect();
    Decisions { pods, targets, changes, map }
}

/// A pod's decision on its own. `headless`: the name of the first headless
/// Service (in stream order) that selects it, if any.
pub fn own_decision(pod: &Pod, strategy: Strategy, headless: Option<&str>) -> Action {
    let (moves, untold) = match &pod.fate {
        Fate::Movable { moves, untold } => (moves, *untold),
        Fate::Frozen(why) => return Action::Keep(why.clone()),
    };
    if pod.all_bind {
        return Action::Keep("the container adds NET_BIND_SERVICE, so it can bind the port as non-root".into());
    }
    let sysctl_ok = pod.pod_security_context;
    if let Some(name) = headless {
        return Action::Sysctl(
            format!("the headless Service {name} sends clients to pod IPs and ports directly").into(),
        );
    }
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if sysctl_ok => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move",
        Strategy::Auto if !untold => "harden can tell the app its new port",
        // Knative tells the app its port through $PORT itself.
        Strategy::Auto if !sysctl_ok => "the platform passes the port to the app in $PORT",
        Strategy::Auto => return Action::SysctlUntold,
    };
    Action::Move(moves.clone(), reason.into())
}

/// For each pod, the name of the first headless Service (in stream order)
/// that selects it.
pub fn first_headless<'g>(graph: &'g PortGraph, selections: &[Selection]) -> Vec<Option<&'g str>> {
    let mut out = vec![None; graph.pods.len()];
    for sel in selections.iter().rev() {
        let svc = &graph.services[sel.service];
        if svc.headless {
            sel.pods.iter().for_each(|&p| out[p] = Some(&*svc.name));
        }
    }
    out
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: none of them move (they get the sysctl, or keep
/// the port where their kind has no pod sysctl), and a Service whose pods
/// would get different new numbers likewise. Repeated until nothing
/// changes, since one pod stopped can split another Service.
pub fn settle_shared_services(graph: &PortGraph, selections: &[Selection], actions: &mut [Action]) {
    loop {
        let mut changed = false;
        for sel in selections {
            let svc = &graph.services[sel.service];
            if svc.headless {
                continue;
            }
            for &(_, target) in &svc.targets {
                let new_of = |actions: &[Action], p: usize| moved(target, actions[p].moves());
                let moving: Vec<usize> = sel.pods.iter().copied().filter(|&p| new_of(actions, p).is_some()).collect();
                let mut numbers: Vec<u64> = moving.iter().filter_map(|&p| new_of(actions, p)).collect();
                numbers.dedup();
                let split = moving.len() < sel.pods.len() || sel.selects_other || numbers.len() > 1;
                if moving.is_empty() || !split {
                    continue;
                }
                for p in moving {
                    let why: Why = format!("Service {} also selects pods that keep port {target}", svc.name).into();
                    let pod = &graph.pods[p];
                    actions[p] = if pod.pod_security_context { Action::Sysctl(why) } else { Action::Keep(why) };
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Each Service port whose pods moved the port it sends traffic to, with
/// the new number. (Once settled, every pod a Service selects moves the
/// same ports to the same numbers, or none moves them.)
pub fn service_targets(graph: &PortGraph, selections: &[Selection], actions: &[Action]) -> Vec<NewTarget> {
    let mut out = Vec::new();
    for sel in selections {
        let svc = &graph.services[sel.service];
        if svc.headless {
            continue;
        }
        for &(port, target) in &svc.targets {
            if let Some(new) = sel.pods.iter().find_map(|&p| moved(target, actions[p].moves())) {
                out.push(NewTarget { at: svc.at, port, new });
            }
        }
    }
    out
}

/// The changes to the references (NetworkPolicies, monitors, …) for the
/// pods that move, in stream order of the pods, each change made once for
/// its resource; sorted by document.
pub fn reference_changes(graph: &PortGraph, selections: &[Selection], actions: &[Action]) -> Vec<(At, Change)> {
    let rules: Vec<Vec<PortRule>> = graph.references.iter().map(|r| rules(r.matcher, &r.value, &r.namespace)).collect();
    let services = services_of_pods(graph, selections);
    let covers = |rule: &PortRule, p: usize| covers(graph, rule, p, &services[p]);
    let coverage = coverage(graph, &rules, actions, covers);
    let mut made = Made::default();
    for (p, action) in actions.iter().enumerate() {
        let Action::Move(moves, _) = action else { continue };
        for (k, reference) in graph.references.iter().enumerate() {
            for (i, rule) in rules[k].iter().enumerate().filter(|(_, rule)| covers(rule, p)) {
                for (pointer, c) in rule_changes(rule, &coverage[k][i], moves) {
                    let pointer = format!("{}{pointer}", reference.base);
                    made.add(reference.at, Change { pointer, ..c });
                }
            }
        }
    }
    let mut changes = made.changes;
    changes.sort_by_key(|(at, _)| at.doc);
    changes
}

/// For each pod, the Services that select it.
fn services_of_pods(graph: &PortGraph, selections: &[Selection]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); graph.pods.len()];
    for sel in selections {
        sel.pods.iter().for_each(|&p| out[p].push(sel.service));
    }
    out
}

/// Whether a rule gives the ports of pod `p`, which the Services `services` select.
fn covers(graph: &PortGraph, rule: &PortRule, p: usize, services: &[usize]) -> bool {
    let pod = &graph.pods[p];
    match &rule.covers {
        Covers::Pods(sel) => sel.selects(&pod.namespace, &pod.labels),
        Covers::Peers { peers, .. } => peers.iter().any(|sel| sel.selects(&pod.namespace, &pod.labels)),
        Covers::ServicePods(sel) => services.iter().any(|&s| sel.selects(&pod.namespace, &graph.services[s].labels)),
    }
}

/// What the pods a rule covers do with a port they declare: all move it
/// to one number (None: all keep it), or not all the same.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Same(Option<u64>),
    Mixed,
}

/// For each reference and each of its rules that follows every pod: what
/// the covered pods do with each privileged port they declare.
type Coverage = Vec<Vec<HashMap<u64, Outcome>>>;

fn coverage(
    graph: &PortGraph,
    rules: &[Vec<PortRule>],
    actions: &[Action],
    covers: impl Fn(&PortRule, usize) -> bool,
) -> Coverage {
    let mut out: Coverage = rules.iter().map(|r| vec![HashMap::new(); r.len()]).collect();
    for (p, pod) in graph.pods.iter().enumerate() {
        for (rules, maps) in rules.iter().zip(&mut out) {
            for (rule, map) in rules.iter().zip(maps) {
                if rule.follows != Follows::EveryPod || !covers(rule, p) {
                    continue;
                }
                for &old in &pod.low_ports {
                    let new = moved(old, actions[p].moves());
                    let outcome = match map.get(&old) {
                        None => Outcome::Same(new),
                        Some(&Outcome::Same(n)) if n == new => Outcome::Same(n),
                        Some(_) => Outcome::Mixed,
                    };
                    map.insert(old, outcome);
                }
            }
        }
    }
    out
}

/// The changes a rule gets for a pod that moves `moves`: (pointer from the
/// object, change).
fn rule_changes(rule: &PortRule, coverage: &HashMap<u64, Outcome>, moves: &[(u64, u64)]) -> Vec<(String, Change)> {
    let mut out = Vec::new();
    let all_move = |old: u64, new: u64| coverage.get(&old).is_none_or(|o| *o == Outcome::Same(Some(new)));
    for (j, entry) in rule.entries.iter().enumerate() {
        let Some(old) = rule.port(entry) else { continue };
        let Some(new) = moved(old, moves) else { continue };
        let set = |reason: &str| {
            let pointer = format!("{}/{j}/{}", rule.list, rule.key);
            (pointer, change(Op::Set, String::new(), json!(new), Some(json!(old)), None, reason.into()))
        };
        match rule.follows {
            Follows::Scrape => out.push(set("the monitor scrapes the moved pod port")),
            Follows::EveryPod if rule.entries.iter().any(|e| rule.port(e) == Some(new)) => {}
            Follows::EveryPod if all_move(old, new) && !matches!(rule.covers, Covers::Peers { outside: true, .. }) => {
                out.push(set("the selected pods moved this port"));
            }
            Follows::EveryPod => {
                let mut added = entry.clone();
                added[rule.key] = json!(new);
                let reason = format!("some pods behind this rule moved port {old} to {new}, others keep it");
                out.push((rule.list.clone(), change(Op::Append, String::new(), added, None, None, reason)));
            }
        }
    }
    out
}

/// Changes made for references, each (pointer and value) once a resource:
/// a policy that covers many moved pods is given the same change for each.
#[derive(Default)]
struct Made {
    changes: Vec<(At, Change)>,
    by_resource: HashMap<At, Vec<usize>>,
}

impl Made {
    fn add(&mut self, at: At, c: Change) {
        let made = self.by_resource.entry(at).or_default();
        if !made.iter().any(|&i| self.changes[i].1.pointer == c.pointer && self.changes[i].1.value == c.value) {
            made.push(self.changes.len());
            self.changes.push((at, c));
        }
    }
}
