//! Pods whose app reads a moved port from a config file that a ConfigMap
//! provides (nginx's `listen` in /etc/nginx/conf.d/default.conf, as the
//! image's row says): the directive in the ConfigMap's text is a port
//! reference like a probe. Where that ConfigMap is in the stream, in the
//! pod's namespace, and its text can be rewritten, the pod can be told
//! (and the text moves with it); where it is not, harden cannot tell the
//! app; where the text names no moved port, the pod does not listen on
//! its image's default port at all (its config replaced it).

use super::graph::{At, KeyNamingAPort, LowPortPod, PortGraph, configmap_id};
use crate::plan::change::{Change, Note, Op};
use crate::pointer::escape;
use crate::rules::unprivileged_port::listen_directive;
use crate::rules::unprivileged_port::{Untold, change, moved, warning};
use serde_json::json;

/// What a pod's config files in the stream say, for its decision.
#[derive(Debug, Default, PartialEq)]
pub struct ConfigPlan {
    /// Ports its image's row gives that its own config (in the stream)
    /// does not listen on: the pod does not listen there.
    pub dropped: Vec<u64>,
    /// A container whose config harden cannot rewrite, why, and what the
    /// owner can do.
    pub untold: Option<(Untold, String, String)>,
    /// The ConfigMap keys a move of the pod rewrites.
    pub edits: Vec<ConfigEdit>,
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

/// What rewriting a directive in a config text gives.
struct Rewrite {
    /// The text with the moved ports; `None`: the directive names none.
    text: Option<String>,
    /// Mentions of a moved port it could not rewrite.
    unrewritable: Vec<String>,
}

/// `directive` in the key's text, its ports moved by `moves`.
fn rewrite(key: &KeyNamingAPort, directive: &str, moves: &[(u64, u64)]) -> Rewrite {
    if !listen_directive::understands(directive) {
        // A directive whose syntax harden does not read (caddy's site
        // address): every mention of a moved port is one it cannot rewrite.
        let named = moves.iter().any(|(old, _)| key.ports.contains(old));
        return Rewrite { text: None, unrewritable: if named { vec![format!("`{directive}`")] } else { Vec::new() } };
    }
    let Some(text) = &key.text else { return Rewrite { text: None, unrewritable: Vec::new() } };
    let moved = listen_directive::move_listen(text, directive, moves);
    let unrewritable = moved.unrewritable.iter().map(|line| format!("`{directive}` on line {line}")).collect();
    Rewrite { text: moved.text, unrewritable }
}

/// What the config files of `pod` (moving `moves`) say.
pub fn plan(graph: &PortGraph, pod: &LowPortPod, moves: &[(u64, u64)]) -> ConfigPlan {
    let mut out = ConfigPlan::default();
    for c in pod.configs.iter() {
        let Some(new) = moved(c.port, moves) else { continue };
        let m = &c.mounted;
        let untold = |why: String, fix: String| {
            let untold =
                Untold { container: c.container_name.clone(), why: why.into(), source: Some(m.source.clone()) };
            (untold, fix, c.container.clone())
        };
        let says =
            format!("row {} says the image reads port {} from `{}` in {}", m.family, c.port, m.directive, m.path);
        let Some(&entry) = graph.configmap_ids.get(&configmap_id(&pod.namespace, &m.configmap)) else {
            let why = format!("{says}, mounted from ConfigMap {}, which is not in this stream", m.configmap);
            let fix = format!("change the port of `{}` there from {} to {new}", m.directive, c.port);
            out.untold.get_or_insert_with(|| untold(why, fix));
            continue;
        };
        let mut named_here = false;
        // A ConfigMap whose text names no moved port has no keys here.
        let configmap = entry.map(|i| (i, &graph.configmaps[i]));
        let naming = configmap.iter().flat_map(|(i, c)| c.naming_a_port.iter().map(move |k| (*i, *c, k)));
        for (i, configmap, named) in naming.filter(|(_, _, k)| m.keys.as_ref().is_none_or(|keys| keys.contains(&k.key)))
        {
            let key = &named.key;
            let r = rewrite(named, &m.directive, &[(c.port, new)]);
            if !r.unrewritable.is_empty() {
                let why = format!(
                    "{says}, and harden cannot rewrite {} in key {key} of ConfigMap {}",
                    r.unrewritable.join(", "),
                    configmap.name
                );
                let fix = format!("change the port of `{}` there from {} to {new}", m.directive, c.port);
                out.untold.get_or_insert_with(|| untold(why, fix));
            }
            if r.text.is_none() {
                continue;
            }
            named_here = true;
            match out.edits.iter_mut().find(|e| e.configmap == i && &e.key == key) {
                Some(e) => e.moves.push((c.port, new)),
                None => out.edits.push(ConfigEdit {
                    configmap: i,
                    key: key.clone(),
                    directive: m.directive.clone(),
                    moves: vec![(c.port, new)],
                    why: format!(
                        "row {}: the image reads its port from `{}` in {} ({})",
                        m.family, m.directive, m.path, m.source
                    ),
                }),
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
        let (Some(text), Some(new)) = (&named.text, rewrite(named, &e.directive, &e.moves).text) else { continue };
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

/// The warning for a pod that moves although harden cannot rewrite its
/// config (`--ports move`).
pub fn untold_warning(untold: &Untold, fix: &str, container: &str, old_new: &str) -> Note {
    let message = format!("port {old_new}, but {}: {fix}, or use --ports sysctl", untold.why);
    warning(container, Some(untold.container.clone()), message)
}
