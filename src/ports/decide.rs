//! The port decisions for the whole stream: a pure function of the graph
//! and the profile's port settings ([`decide`]), made in steps that each
//! read the graph and what the steps before them decided.

use super::configs::{self, ConfigPlan, ConfigPlans};
use super::decisions::{Decisions, NewTarget, PodDecision};
use super::graph::{At, Fate, LowPortPod, OtherPods, PortGraph, Service};
use super::references::{Covers, Follows, PortRule, rules};
use super::selection::{Selection, selections};
use crate::plan::change::{Change, Note, Op};
use crate::profile::{PortSettings, Strategy};
use crate::rules::unprivileged_port::{Action, change, moved, port_value, warning};
use std::collections::HashMap;

/// Every pod's decision, the Services' new target ports and the changes to
/// NetworkPolicies and monitors.
pub fn decide(mut graph: PortGraph, settings: &PortSettings) -> Decisions {
    let map = settings.moves();
    if graph.pods.is_empty() {
        return Decisions { map, ..Decisions::default() };
    }
    // Deciding allocates per pod while the graph is alive, the run's peak
    // of memory: each part of the graph goes once the steps have read it.
    let selections = selections(&graph);
    graph.other_pods = OtherPods::default();
    let plans = ConfigPlans::of(&graph);
    graph.configmap_ids = HashMap::new();
    let actions = settled_actions(&graph, &selections, &plans, settings.strategy);
    let cover = Cover::new(&graph, &selections);
    let (targets, mut changes) = (service_targets(&graph, &selections, &actions), reference_changes(&cover, &actions));
    let pointed_at = pointed_at(&selections, &cover);
    let moving = plans.iter().zip(&actions).filter(|(_, a)| matches!(a, Action::Move(..)));
    changes.extend(configs::changes(&graph, moving.flat_map(|(plan, _)| &plan.edits)));
    changes.sort_by_key(|(at, _)| at.doc);
    let notes = untold_moves(&graph, &plans, &actions);
    drop((cover, selections));
    let pods = std::mem::take(&mut graph.pods);
    drop(graph);
    let pods = (pods.into_iter().zip(actions).zip(pointed_at).zip(plans.iter()))
        .map(|(((pod, action), pointed_at), plan)| {
            let mut ports = pod.low_ports.into_vec();
            ports.retain(|p| !plan.dropped.contains(p));
            PodDecision { at: pod.at, site: pod.site, action, pointed_at, ports: ports.into() }
        })
        .collect();
    Decisions { pods, targets, changes, notes, map }
}

/// Each pod's decision, settled: on its own, then stopped where it shares
/// a Service or a ConfigMap with pods that keep the port (one pod stopped
/// can split another Service or share another ConfigMap).
pub fn settled_actions(
    graph: &PortGraph,
    selections: &[Selection],
    plans: &ConfigPlans,
    strategy: Strategy,
) -> Vec<Action> {
    let headless = first_headless(graph, selections);
    let mut actions: Vec<Action> = (graph.pods.iter().zip(headless).zip(plans.iter()))
        .map(|((pod, headless), plan)| own_decision(pod, strategy, headless, plan))
        .collect();
    loop {
        while settle_shared_services(graph, selections, &mut actions) {}
        if !stop_shared_configmaps(graph, plans, &mut actions) {
            return actions;
        }
    }
}

/// A pod's decision on its own. `headless`: the name of the first headless
/// Service (in stream order) that selects it, if any; `config`: what its
/// config files in the stream say.
///
/// A container that adds NET_BIND_SERVICE is no exception: as non-root
/// under `allowPrivilegeEscalation: false` it cannot bind the port anyway
/// (`crate::rules::unprivileged_port`).
pub fn own_decision(pod: &LowPortPod, strategy: Strategy, headless: Option<&str>, config: &ConfigPlan) -> Action {
    let (moves, untold) = match &pod.fate {
        Fate::Movable { moves, untold } => (moves, untold),
        Fate::Frozen(why) => return Action::Keep(why.clone()),
    };
    let moves: Box<[(u64, u64)]> = moves.iter().filter(|(old, _)| !config.dropped.contains(old)).copied().collect();
    if moves.is_empty() {
        return Action::Keep("its own config listens on no privileged port".into());
    }
    // The pod's own untold container comes first; pass 2 reads it again.
    let said = if *untold { None } else { config.untold.as_ref().map(|u| Box::new(u.0.clone())) };
    let untold = *untold || said.is_some();
    if let Some(name) = headless {
        let why = format!("the headless Service {name} sends clients to pod IPs and ports directly");
        return Action::SysctlForService(why.into());
    }
    let reason = match strategy {
        Strategy::Keep => return Action::Keep("--ports keep".into()),
        Strategy::Sysctl if pod.pod_security_context => return Action::Sysctl("--ports sysctl".into()),
        Strategy::Sysctl => {
            return Action::Keep("this kind rejects pod-level sysctls; --ports sysctl cannot apply".into());
        }
        Strategy::Move => "--ports move",
        Strategy::Auto if !untold => "harden can tell the app its new port",
        // Knative tells the app its port through $PORT itself.
        Strategy::Auto if !pod.pod_security_context => "the platform passes the port to the app in $PORT",
        Strategy::Auto => return Action::SysctlUntold(said),
    };
    Action::Move(moves, reason.into())
}

/// A pod that could move but must not, because of what it shares with
/// pods that keep the port: the sysctl, or its port as it is where its kind
/// has no pod sysctl.
fn stopped(pod: &LowPortPod, why: String) -> Action {
    if pod.pod_security_context { Action::SysctlForService(why.into()) } else { Action::Keep(why.into()) }
}

/// A pod that moves a port whose ConfigMap text it also rewrites, while
/// another pod that mounts the same ConfigMap does not move the same way,
/// would change that pod's config too: it is [`stopped`]. Whether any pod
/// stopped. (Which pods mount each ConfigMap is found once per call.)
pub fn stop_shared_configmaps(graph: &PortGraph, plans: &ConfigPlans, actions: &mut [Action]) -> bool {
    let (mut any_stopped, mut mounted_by) = (false, HashMap::<u64, Vec<usize>>::new());
    for (q, pod) in graph.pods.iter().enumerate() {
        pod.configmaps.iter().for_each(|&c| mounted_by.entry(c).or_default().push(q));
    }
    for (p, pod) in graph.pods.iter().enumerate() {
        let Action::Move(moves, _) = &actions[p] else { continue };
        let shared = plans.get(p).edits.iter().find_map(|e| {
            let c = &graph.configmaps[e.configmap];
            let kept_by_other = graph.configmaps_of_other_pods.contains(&c.id);
            let mut others = mounted_by.get(&c.id).into_iter().flatten().filter(|&&q| q != p);
            let split = others.any(|&q| actions[q].moves() != &moves[..]);
            (kept_by_other || split).then(|| {
                let ports = e.moves.iter().map(|(old, _)| old.to_string()).collect::<Vec<_>>().join(", ");
                format!("ConfigMap {} is also mounted by pods that keep port {ports}", c.name)
            })
        });
        if let Some(why) = shared {
            actions[p] = stopped(pod, why);
            any_stopped = true;
        }
    }
    any_stopped
}

/// The warnings for pods that move although harden cannot rewrite the
/// config file their app reads the port from (`--ports move`).
fn untold_moves(graph: &PortGraph, plans: &ConfigPlans, actions: &[Action]) -> Vec<(At, Note)> {
    let mut out = Vec::new();
    for ((pod, plan), action) in graph.pods.iter().zip(plans.iter()).zip(actions) {
        let (Action::Move(moves, _), Some((untold, fix, container))) = (action, plan.untold.as_deref()) else {
            continue;
        };
        let ports = moves.iter().map(|(o, n)| format!("{o} moved to {n}")).collect::<Vec<_>>().join(", ");
        let message = format!("port {ports}, but {}: {fix}, or use --ports sysctl", untold.why);
        out.push((pod.at, warning(container, Some(untold.container.clone()), message)));
    }
    out
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

/// Each port (its number in `spec.ports`, and the pod port it targets) of
/// each Service that is not headless, with the pods the Service selects.
fn service_ports<'a>(
    graph: &'a PortGraph,
    selections: &'a [Selection],
) -> impl Iterator<Item = (&'a Selection, &'a Service, u32, u64)> {
    let services = selections.iter().map(|sel| (sel, &graph.services[sel.service])).filter(|(_, svc)| !svc.headless);
    services.flat_map(|(sel, svc)| svc.targets.iter().map(move |&(port, target)| (sel, svc, port, target)))
}

/// A Service that selects pods which move a port together with pods that
/// keep it would be split: its movers are [`stopped`], and so are those of
/// a Service whose pods would get different new numbers. Whether any pod
/// stopped (one pod stopped can split another Service: `decide` repeats
/// this until nothing changes).
pub fn settle_shared_services(graph: &PortGraph, selections: &[Selection], actions: &mut [Action]) -> bool {
    let mut changed = false;
    for (sel, svc, _, target) in service_ports(graph, selections) {
        let new_of = |actions: &[Action], p: usize| moved(target, actions[p].moves());
        let moving: Vec<usize> = sel.pods.iter().copied().filter(|&p| new_of(actions, p).is_some()).collect();
        let mut numbers: Vec<u64> = moving.iter().filter_map(|&p| new_of(actions, p)).collect();
        numbers.dedup();
        let split = moving.len() < sel.pods.len() || sel.selects_other || numbers.len() > 1;
        if moving.is_empty() || !split {
            continue;
        }
        for p in moving {
            actions[p] =
                stopped(&graph.pods[p], format!("Service {} also selects pods that keep port {target}", svc.name));
            changed = true;
        }
    }
    changed
}

/// Each Service port whose pods moved the port it sends traffic to, with
/// the new number. (Once settled, every pod a Service selects moves the
/// same ports to the same numbers, or none moves them.)
pub fn service_targets(graph: &PortGraph, selections: &[Selection], actions: &[Action]) -> Vec<NewTarget> {
    let new = |sel: &Selection, target| sel.pods.iter().find_map(|&p| moved(target, actions[p].moves()));
    let targets = service_ports(graph, selections).map(|(sel, svc, port, target)| (svc.at, port, new(sel, target)));
    targets.filter_map(|(at, port, new)| Some(NewTarget { at, port, new: new? })).collect()
}

/// The rules of each of the stream's references, and which pods they cover.
pub struct Cover<'g> {
    graph: &'g PortGraph,
    rules: Vec<Vec<PortRule<'g>>>,
    /// For each pod, the Services that select it (only where a
    /// ServiceMonitor's rules ask).
    services_of: Vec<Vec<usize>>,
}

impl<'g> Cover<'g> {
    pub fn new(graph: &'g PortGraph, selections: &[Selection]) -> Cover<'g> {
        let rules: Vec<Vec<PortRule>> =
            graph.references.iter().map(|r| rules(r.matcher, &r.value, &r.namespace)).collect();
        let mut services_of = Vec::new();
        if rules.iter().flatten().any(|rule| matches!(rule.covers, Covers::ServicePods(_))) {
            services_of = vec![Vec::new(); graph.pods.len()];
            selections.iter().for_each(|sel| sel.pods.iter().for_each(|&p| services_of[p].push(sel.service)));
        }
        Cover { graph, rules, services_of }
    }

    /// Whether `rule` gives the ports of pod `p`.
    pub fn covers(&self, rule: &PortRule, p: usize) -> bool {
        let pod = &self.graph.pods[p];
        match &rule.covers {
            Covers::Pods(sel) => sel.selects(&pod.namespace, &pod.labels),
            Covers::Peers { peers, .. } => peers.iter().any(|sel| sel.selects(&pod.namespace, &pod.labels)),
            Covers::ServicePods(sel) => {
                self.services_of[p].iter().any(|&s| sel.selects(&pod.namespace, &self.graph.services[s].labels))
            }
        }
    }
}

/// The changes to the references (NetworkPolicies, monitors, …) for the
/// pods that move, made in stream order of the pods, each once for its
/// resource (a policy that covers many moved pods is given the same change
/// for each); sorted by document.
pub fn reference_changes(cover: &Cover, actions: &[Action]) -> Vec<(At, Change)> {
    let coverage = coverage(cover, actions);
    let (mut made, mut made_for) = (Vec::<(At, Change)>::new(), HashMap::<At, Vec<usize>>::new());
    for (p, action) in actions.iter().enumerate() {
        let Action::Move(moves, _) = action else { continue };
        for ((reference, rules), coverage) in cover.graph.references.iter().zip(&cover.rules).zip(&coverage) {
            for (rule, coverage) in rules.iter().zip(coverage).filter(|(rule, _)| cover.covers(rule, p)) {
                for c in rule_changes(&reference.base, rule, coverage, moves) {
                    let earlier = made_for.entry(reference.at).or_default();
                    if !earlier.iter().any(|&i| made[i].1.pointer == c.pointer && made[i].1.value == c.value) {
                        earlier.push(made.len());
                        made.push((reference.at, c));
                    }
                }
            }
        }
    }
    made.sort_by_key(|(at, _)| at.doc);
    made
}

/// For each pod, whether something in the stream points at its ports: a
/// Service that selects it, or a rule of a NetworkPolicy or monitor that
/// covers it. (What points at it from outside the stream, nobody knows.)
pub fn pointed_at(selections: &[Selection], cover: &Cover) -> Vec<bool> {
    let mut out: Vec<bool> =
        (0..cover.graph.pods.len()).map(|p| cover.rules.iter().flatten().any(|rule| cover.covers(rule, p))).collect();
    selections.iter().for_each(|sel| sel.pods.iter().for_each(|&p| out[p] = true));
    out
}

/// What the pods a rule covers do with a port they declare: all move it
/// to one number (None: all keep it), or not all the same.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Same(Option<u64>),
    Mixed,
}

/// For each reference and each of its rules that follows every pod: what
/// the pods it covers do with each privileged port they declare.
fn coverage(cover: &Cover, actions: &[Action]) -> Vec<Vec<HashMap<u64, Outcome>>> {
    let mut out: Vec<Vec<HashMap<u64, Outcome>>> = cover.rules.iter().map(|r| vec![HashMap::new(); r.len()]).collect();
    for (p, pod) in cover.graph.pods.iter().enumerate() {
        let every_pod = cover.rules.iter().flatten().zip(out.iter_mut().flatten());
        for (_, map) in every_pod.filter(|(rule, _)| rule.follows == Follows::EveryPod && cover.covers(rule, p)) {
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
    out
}

/// The changes a rule of the object at `base` gets for a pod that moves
/// `moves`.
fn rule_changes(base: &str, rule: &PortRule, coverage: &HashMap<u64, Outcome>, moves: &[(u64, u64)]) -> Vec<Change> {
    let mut out = Vec::new();
    let all_move = |old: u64, new: u64| coverage.get(&old).is_none_or(|o| *o == Outcome::Same(Some(new)));
    for (j, entry) in rule.entries.iter().enumerate() {
        let Some(old) = rule.port(entry) else { continue };
        let Some(new) = moved(old, moves) else { continue };
        let before = &entry[rule.key];
        let set = |why: &str| {
            let pointer = format!("{base}{}/{j}/{}", rule.list, rule.key);
            change(Op::Set, pointer, port_value(before, new), Some(before.clone()), None, why.into())
        };
        match rule.follows {
            Follows::Scrape => out.push(set("the monitor scrapes the moved pod port")),
            Follows::EveryPod if rule.entries.iter().any(|e| rule.port(e) == Some(new)) => {}
            Follows::EveryPod if all_move(old, new) && !matches!(rule.covers, Covers::Peers { outside: true, .. }) => {
                out.push(set("the selected pods moved this port"));
            }
            Follows::EveryPod => {
                let mut added = entry.clone();
                added[rule.key] = port_value(before, new);
                let why = format!("some pods behind this rule moved port {old} to {new}, others keep it");
                out.push(change(Op::Append, format!("{base}{}", rule.list), added, None, None, why));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::graph::literal::{graph, movable};
    use crate::ports::graph::{Reference, Service};
    use crate::ports::references::Matcher;
    use crate::rules::unprivileged_port::Untold;
    use serde_json::{Value, json};

    const TO_8080: [(u64, u64); 1] = [(80, 8080)];

    fn pod(doc: usize, labels: &[(&str, &str)], fate: Fate) -> LowPortPod {
        crate::ports::graph::literal::pod(doc, "shop", labels, fate)
    }

    fn service(doc: usize, name: &str, selector: (&str, &str), headless: bool) -> Service {
        crate::ports::graph::literal::service(doc, "shop", name, &[selector], headless)
    }

    /// Each pod's decision, settled, as `decide` makes them.
    fn settled(g: &PortGraph, strategy: Strategy) -> Vec<Action> {
        settled_actions(g, &selections(g), &ConfigPlans::of(g), strategy)
    }

    #[test]
    fn a_pod_on_its_own_moves_only_where_its_app_can_be_told() {
        let none = ConfigPlan::default();
        let decided = |fate, strategy| own_decision(&pod(0, &[], fate), strategy, None, &none);
        let told = "harden can tell the app its new port";
        assert_eq!(decided(movable(), Strategy::Auto), Action::Move(TO_8080.into(), told.into()));
        // The pod's own untold container is read again in pass 2; one the
        // stream's config gives comes with the decision.
        let untold = Fate::Movable { moves: TO_8080.into(), untold: true };
        assert_eq!(decided(untold, Strategy::Auto), Action::SysctlUntold(None));
        let who = Untold { container: "web".into(), why: "it cannot be told".into(), source: None };
        let config =
            ConfigPlan { untold: Some(Box::new((who.clone(), String::new(), String::new()))), ..ConfigPlan::default() };
        let by_config = own_decision(&pod(0, &[], movable()), Strategy::Auto, None, &config);
        assert_eq!(by_config, Action::SysctlUntold(Some(Box::new(who))));
        assert_eq!(decided(movable(), Strategy::Sysctl), Action::Sysctl("--ports sysctl".into()));
        assert_eq!(decided(movable(), Strategy::Keep), Action::Keep("--ports keep".into()));
        assert_eq!(decided(Fate::Frozen("blocked".into()), Strategy::Move), Action::Keep("blocked".into()));
        let behind = own_decision(&pod(0, &[], movable()), Strategy::Move, Some("db"), &none);
        assert!(matches!(behind, Action::SysctlForService(why) if why.contains("headless Service db")));
    }

    #[test]
    fn the_first_headless_service_in_stream_order_names_the_pod() {
        let pods = vec![pod(0, &[("app", "web")], movable()), pod(1, &[("app", "api")], movable())];
        let services = ["plain", "first", "second"].iter().enumerate();
        let g = graph(pods, services.map(|(i, n)| service(2 + i, n, ("app", "web"), i > 0)).collect());
        assert_eq!(first_headless(&g, &selections(&g)), [Some("first"), None]);
    }

    #[test]
    fn a_split_service_stops_its_movers_until_nothing_changes() {
        // Service b (first in the stream) selects web-1 and web-2, which
        // both move; Service a selects web-1 and web-0, which keeps its port:
        // web-1 stops, and then so must web-2. api moves alone.
        let pods = vec![
            pod(0, &[("app", "web-0"), ("pair", "a")], Fate::Frozen("blocked".into())),
            pod(1, &[("app", "web-1"), ("pair", "a"), ("group", "b")], movable()),
            pod(2, &[("app", "web-2"), ("group", "b")], movable()),
            pod(3, &[("app", "api")], movable()),
        ];
        let services = vec![
            service(4, "b", ("group", "b"), false),
            service(5, "a", ("pair", "a"), false),
            service(6, "c", ("app", "api"), false),
        ];
        let g = graph(pods, services);
        let actions = settled(&g, Strategy::Move);
        let stopped = |why: &str| Action::SysctlForService(why.to_string().into());
        assert_eq!(actions[1], stopped("Service a also selects pods that keep port 80"));
        assert_eq!(actions[2], stopped("Service b also selects pods that keep port 80"));
        assert_eq!(actions[3].moves(), TO_8080);
        let targets = service_targets(&g, &selections(&g), &actions);
        assert_eq!(targets, [NewTarget { at: At { doc: 6, resource: 0 }, port: 0, new: 8080 }]);
    }

    #[test]
    fn a_service_that_also_selects_a_pod_without_a_privileged_port_moves_nobody() {
        let mut g = graph(vec![pod(0, &[("app", "web")], movable())], vec![service(1, "web", ("app", "web"), false)]);
        assert_eq!(settled(&g, Strategy::Move)[0].moves(), TO_8080);
        g.other_pods.push([crate::ports::labels::in_namespace("shop", crate::ports::labels::pair("app", "web"))]);
        assert_eq!(settled(&g, Strategy::Move)[0].moves(), []);
    }

    fn reference(doc: usize, matcher: Matcher, value: Value) -> Reference {
        Reference { at: At { doc, resource: 0 }, base: String::new(), matcher, namespace: "shop".into(), value }
    }

    #[test]
    fn references_follow_the_pods_they_cover() {
        let pods = vec![
            pod(0, &[("app", "web"), ("tier", "fe")], movable()),
            pod(1, &[("app", "old"), ("tier", "fe")], Fate::Frozen("blocked".into())),
        ];
        let ingress =
            |app: Value| json!({"spec": {"podSelector": {"matchLabels": app}, "ingress": [{"ports": [{"port": 80}]}]}});
        let monitor =
            json!({"spec": {"selector": {"matchLabels": {"team": "web"}}, "endpoints": [{"targetPort": 80}]}});
        let mut g = graph(pods, vec![service(2, "web", ("app", "web"), false)]);
        g.references = vec![
            reference(3, Matcher::NetworkPolicy, ingress(json!({"app": "web"}))),
            reference(4, Matcher::NetworkPolicy, ingress(json!({"tier": "fe"}))),
            reference(5, Matcher::ServiceMonitor, monitor),
        ];
        let actions = settled(&g, Strategy::Move);
        let changes = reference_changes(&Cover::new(&g, &selections(&g)), &actions);
        let made: Vec<(usize, Op, &str, String)> =
            changes.iter().map(|(at, c)| (at.doc, c.op, c.pointer.as_str(), c.value.to_string())).collect();
        // The policy of the moved pod alone follows it; the one that also
        // covers a pod that keeps 80 admits both; the monitor scrapes 8080.
        assert_eq!(
            made,
            [
                (3, Op::Set, "/spec/ingress/0/ports/0/port", "8080".into()),
                (4, Op::Append, "/spec/ingress/0/ports", r#"{"port":8080}"#.into()),
                (5, Op::Set, "/spec/endpoints/0/targetPort", "8080".into()),
            ]
        );
    }
}
