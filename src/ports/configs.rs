//! Pods whose app reads a moved port from a config file that a ConfigMap
//! provides (nginx's `listen` in /etc/nginx/conf.d/default.conf, as the
//! image's row says): the directive in the ConfigMap's text is a port
//! reference like a probe. Where that ConfigMap is in the stream, in the
//! pod's namespace, and its text can be rewritten, the pod can be told
//! (and the text moves with it); where it is not, harden cannot tell the
//! app; where the text names no moved port, the pod does not listen on
//! its image's default port at all (its config replaced it).

use super::graph::{At, Fate, KeyNamingAPort, LowPortPod, PortGraph, configmap_id};
use crate::plan::change::{Change, Op};
use crate::pointer::escape;
use crate::rules::unprivileged_port::listen_directive;
use crate::rules::unprivileged_port::telling::MountedConfig;
use crate::rules::unprivileged_port::{Untold, change, moved};
use serde_json::json;

/// What a pod's config files in the stream say, for its decision.
#[derive(Debug, Default, PartialEq)]
pub struct ConfigPlan {
    /// Ports its image's row gives that its own config (in the stream)
    /// does not listen on: the pod does not listen there.
    pub dropped: Vec<u64>,
    /// A container whose config harden cannot rewrite, why, and what the
    /// owner can do.
    pub untold: Option<Box<(Untold, String, String)>>,
    /// The ConfigMap keys a move of the pod rewrites.
    pub edits: Vec<ConfigEdit>,
}

/// Each pod's [`ConfigPlan`], held only for pods whose config files come
/// from a ConfigMap (few do).
pub struct ConfigPlans(Vec<Option<Box<ConfigPlan>>>);

static NO_CONFIG: ConfigPlan = ConfigPlan { dropped: Vec::new(), untold: None, edits: Vec::new() };

impl ConfigPlans {
    pub fn of(graph: &PortGraph) -> ConfigPlans {
        let plan = |pod: &LowPortPod| (!pod.configs.is_empty()).then(|| Box::new(plan(graph, pod)));
        ConfigPlans(graph.pods.iter().map(plan).collect())
    }

    /// Pod `p`'s plan.
    pub fn get(&self, p: usize) -> &ConfigPlan {
        self.0[p].as_deref().unwrap_or(&NO_CONFIG)
    }

    /// Each pod's plan, in the graph's order.
    pub fn iter(&self) -> impl Iterator<Item = &ConfigPlan> {
        (0..self.0.len()).map(|p| self.get(p))
    }
}

/// A ConfigMap key a pod's move rewrites.
#[derive(Debug, PartialEq)]
pub struct ConfigEdit {
    /// The ConfigMap's number in the graph.
    pub configmap: usize,
    pub key: String,
    pub directive: String,
    pub moves: Vec<(u64, u64)>,
    /// Which row says so, and its source.
    pub why: String,
}

/// The key's text with the ports of `directive` moved by `moves` (None:
/// it names none), and the mentions of a moved port it could not rewrite.
fn rewrite(key: &KeyNamingAPort, directive: &str, moves: &[(u64, u64)]) -> (Option<String>, Vec<String>) {
    let moved = key.text.as_deref().map(|text| listen_directive::move_listen(text, directive, moves));
    let (text, lines) = moved.map_or((None, Vec::new()), |m| (m.text, m.unrewritable));
    let mut unrewritable: Vec<String> = lines.iter().map(|line| format!("`{directive}` on line {line}")).collect();
    // A directive whose syntax harden does not read (caddy's site address):
    // every mention of a moved port is one it cannot rewrite.
    if !listen_directive::understands(directive) && moves.iter().any(|(old, _)| key.ports.contains(old)) {
        unrewritable.push(format!("`{directive}`"));
    }
    (text, unrewritable)
}

/// What the config files of `pod` say if it can move.
pub fn plan(graph: &PortGraph, pod: &LowPortPod) -> ConfigPlan {
    let mut out = ConfigPlan::default();
    let Fate::Movable { moves, .. } = &pod.fate else { return out };
    for c in pod.configs.iter() {
        let Some(new) = moved(c.port, moves) else { continue };
        let (old, MountedConfig { configmap, keys, path, directive, family, source }) = (c.port, &c.mounted);
        let untold = |why: String| {
            let untold = Untold { container: c.container_name.clone(), why: why.into(), source: Some(source.clone()) };
            Box::new((
                untold,
                format!("change the port of `{directive}` there from {old} to {new}"),
                c.container.clone(),
            ))
        };
        let says = format!("row {family} says the image reads port {old} from `{directive}` in {path}");
        let Some(&entry) = graph.configmap_ids.get(&configmap_id(&pod.namespace, configmap)) else {
            let why = format!("{says}, mounted from ConfigMap {configmap}, which is not in this stream");
            out.untold.get_or_insert_with(|| untold(why));
            continue;
        };
        // A ConfigMap whose text names no moved port has no entry: no keys.
        let mut named_here = false;
        let naming = entry.map(|i| i as usize).into_iter();
        let naming = naming.flat_map(|i| graph.configmaps[i].naming_a_port.iter().map(move |k| (i, k)));
        for (i, named) in naming.filter(|(_, k)| keys.as_ref().is_none_or(|keys| keys.contains(&k.key))) {
            let (key, name) = (&named.key, &graph.configmaps[i].name);
            let (rewritten, unrewritable) = rewrite(named, directive, &[(old, new)]);
            if !unrewritable.is_empty() {
                let cannot = unrewritable.join(", ");
                let why = format!("{says}, and harden cannot rewrite {cannot} in key {key} of ConfigMap {name}");
                out.untold.get_or_insert_with(|| untold(why));
            }
            if rewritten.is_none() {
                continue;
            }
            named_here = true;
            match out.edits.iter_mut().find(|e| e.configmap == i && &e.key == key) {
                Some(e) => e.moves.push((old, new)),
                None => {
                    let why = format!("row {family}: the image reads its port from `{directive}` in {path} ({source})");
                    let (key, directive, moves) = (key.clone(), directive.clone(), vec![(old, new)]);
                    out.edits.push(ConfigEdit { configmap: i, key, directive, moves, why });
                }
            }
        }
        if !named_here && c.implied && out.untold.is_none() {
            out.dropped.push(c.port);
        }
    }
    out
}

/// The change to each ConfigMap key that moving pods rewrite, once.
pub fn changes<'e>(graph: &PortGraph, edits: impl Iterator<Item = &'e ConfigEdit>) -> Vec<(At, Change)> {
    let mut out: Vec<(At, Change)> = Vec::new();
    for e in edits {
        let configmap = &graph.configmaps[e.configmap];
        let Some(named) = configmap.naming_a_port.iter().find(|k| k.key == e.key) else { continue };
        let (Some(text), Some(new)) = (&named.text, rewrite(named, &e.directive, &e.moves).0) else { continue };
        let pointer = format!("{}/data/{}", configmap.base, escape(&e.key));
        if out.iter().any(|(_, c)| c.pointer == pointer) {
            continue;
        }
        let ports = e.moves.iter().map(|(o, n)| format!("{o} to {n}")).collect::<Vec<_>>().join(", ");
        let why = format!("{}; the pods that mount it moved port {ports}", e.why);
        out.push((configmap.at, change(Op::Set, pointer, json!(new), Some(json!(text)), None, why)));
    }
    out
}
