//! Issue 3 (`unprivileged-port`) acceptance over the real-world corpus in
//! `../shared/corpus`, in every `--ports` mode (auto, move, sysctl, keep):
//!
//! * every Service `targetPort` (numeric, named or implicit = `port`), probe
//!   / lifecycle-hook port and NetworkPolicy port that resolved to a declared
//!   containerPort of a pod before still resolves to that pod after;
//! * no container is left on 80/443 without a move, the pod sysctl
//!   `net.ipv4.ip_unprivileged_port_start`, or a report line saying why;
//! * under `keep` (and `sysctl`) no containerPort changes, and under `keep`
//!   every privileged port gets a Note;
//! * the dotnet-docker sample `replica-health_dd04021e.yaml` comes out
//!   consistent on 8080 under `move` and `auto`.
//!
//! The references are resolved here, by this file's own model of
//! Kubernetes (Service selectors, label selectors, named ports), and never
//! by harden's ports code: the point is to check that code from outside.
//! Each corpus file is hardened as one stream with the library pipeline.
//!
//! The corpus is shared material that users do not have: every test that
//! reads it is ignored unless asked for (`cargo test -- --include-ignored`).

mod shared_inputs;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use harden::pipeline::{DocOutcome, Options, harden_stream};
use harden::plan::{DocPlan, PlanOptions, ResourcePlan};
use harden::profile::Profile;
use harden::profile::Strategy;
use harden::pss::Version;
use harden::read::Source;
use harden::workload::{KindRow, built_in_kinds, pod_sites};
use harden::yaml::Limits;
use serde_json::{Map, Value};

const RULE: &str = "unprivileged-port";
const SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";
/// The privileged ports the restricted profile maps (80→8080, 443→8443).
const LOW: [u64; 2] = [80, 443];
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];
const HANDLERS: [&str; 5] =
    ["/livenessProbe", "/readinessProbe", "/startupProbe", "/lifecycle/postStart", "/lifecycle/preStop"];
const HANDLER_KINDS: [&str; 3] = ["httpGet", "tcpSocket", "grpc"];
const DOTNET: &str = "dotnet-docker/replica-health_dd04021e.yaml";

// ---------------------------------------------------------------- corpus

fn corpus_dir() -> PathBuf {
    shared_inputs::shared("corpus")
}

/// Every manifest under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).expect("the corpus directory is readable");
        for e in entries {
            let path = e.expect("a corpus directory entry is readable").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn rel_name(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Harden one file as one stream with `--ports <strategy>`.
fn harden_file(
    path: &Path,
    name: &str,
    strategy: Strategy,
    profile: &Profile,
    kinds: &[KindRow],
) -> Result<Vec<DocOutcome>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let sources = vec![Source { name: name.to_string(), path: Some(path.to_path_buf()), text }];
    let opts = Options {
        plan: PlanOptions {
            profile,
            kinds,
            version: Version::LATEST,
            partial: false,
            exceptions: &[],
            images: harden::images::built_in_table(),
        },
        ports: Some(strategy),
        limits: Limits::default(),
    };
    let mut out = harden_stream(&sources, &opts).map_err(|e| e.to_string())?;
    Ok(out.remove(0).docs)
}

fn mode_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Auto => "auto",
        Strategy::Move => "move",
        Strategy::Sysctl => "sysctl",
        Strategy::Keep => "keep",
    }
}

// ---------------------------------------------------------------- model

/// A pod (template) of the stream: document, resource index in its plan,
/// and pointer to its PodSpec. Harden never adds or removes pod specs, so
/// the same key names the same pod before and after.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PodKey {
    doc: usize,
    resource: usize,
    spec: String,
}

impl std::fmt::Display for PodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "doc {} pod {}", self.doc + 1, if self.spec.is_empty() { "/" } else { &self.spec })
    }
}

struct PodView {
    key: PodKey,
    /// `Kind ns/name` of the owning resource.
    owner: String,
    namespace: String,
    labels: Map<String, Value>,
    spec: Value,
    numbers: BTreeSet<u64>,
    names: BTreeSet<String>,
}

impl PodView {
    fn resolves(&self, r: &PortRef) -> bool {
        match r {
            PortRef::Number(n) => self.numbers.contains(n),
            PortRef::Name(s) => self.names.contains(s),
        }
    }

    /// Every declared containerPort as (container pointer relative to the
    /// spec, index, port, container).
    fn declared(&self) -> Vec<(String, usize, u64, &Value)> {
        let mut out = Vec::new();
        for list in CONTAINER_LISTS {
            for (ci, c) in self.spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
                for (pi, p) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(n) = p.get("containerPort").and_then(Value::as_u64) {
                        out.push((format!("/{list}/{ci}"), pi, n, c));
                    }
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortRef {
    Number(u64),
    Name(String),
}

/// An IntOrString port. A quoted number is a (never valid) name in the
/// Kubernetes API, so strings are names, strictly.
fn port_ref(v: &Value) -> Option<PortRef> {
    v.as_u64().map(PortRef::Number).or_else(|| v.as_str().map(|s| PortRef::Name(s.to_string())))
}

/// One reference to a pod port and the pods it resolves to.
#[derive(Clone, Debug)]
struct Resolved {
    category: &'static str,
    /// For messages: resource and field.
    what: String,
    value: Value,
    pods: BTreeSet<PodKey>,
    /// For NetworkPolicy ports: (pointer to the ports list, index in it,
    /// list length). Harden may append a new port next to the old one when
    /// the same rule also covers pods that keep it.
    list: Option<(String, usize, usize)>,
}

struct Stream {
    pods: Vec<PodView>,
    /// By "doc:<n><pointer to the port value>".
    refs: BTreeMap<String, Resolved>,
}

fn ref_key(doc: usize, pointer: &str) -> String {
    format!("doc:{doc}{pointer}")
}

fn owner(res: &ResourcePlan) -> String {
    format!("{} {}/{}", res.id.kind, res.id.namespace.as_deref().unwrap_or(""), res.id.name.as_deref().unwrap_or("?"))
}

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A Service selector: a plain map, every pair present. An empty or missing
/// selector selects no pods (its endpoints are managed by hand).
fn service_selects(sel: Option<&Value>, labels: &Map<String, Value>) -> bool {
    match sel.and_then(Value::as_object) {
        Some(m) if !m.is_empty() => m.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// A `metav1.LabelSelector`; the empty selector selects everything.
fn label_selects(sel: &Value, labels: &Map<String, Value>) -> bool {
    let Some(sel) = sel.as_object() else { return false };
    let pairs = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs = sel.get("matchExpressions").and_then(Value::as_array).is_none_or(|es| {
        es.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let have = labels.get(key).and_then(Value::as_str);
            let values: Vec<&str> =
                e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => have.is_some_and(|h| values.contains(&h)),
                Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
                Some("Exists") => have.is_some(),
                Some("DoesNotExist") => have.is_none(),
                _ => false,
            }
        })
    });
    pairs && exprs
}

/// Resolve every reference of one stream (before or after).
fn resolve(docs: &[&Value], plans: &[&DocPlan], kinds: &[KindRow]) -> Stream {
    let mut pods = Vec::new();
    for (d, (doc, plan)) in docs.iter().zip(plans).enumerate() {
        for (r, res) in plan.resources.iter().enumerate() {
            for site in pod_sites(doc, &res.base, &res.id, kinds) {
                let Some(spec) = doc.pointer(&site.spec) else { continue };
                let labels = doc
                    .pointer(&format!("{}/labels", site.metadata))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let mut view = PodView {
                    key: PodKey { doc: d, resource: r, spec: site.spec.clone() },
                    owner: owner(res),
                    namespace: res.id.namespace.clone().unwrap_or_default(),
                    labels,
                    spec: spec.clone(),
                    numbers: BTreeSet::new(),
                    names: BTreeSet::new(),
                };
                for list in CONTAINER_LISTS {
                    for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                        for p in c.get("ports").and_then(Value::as_array).into_iter().flatten() {
                            if let Some(n) = p.get("containerPort").and_then(Value::as_u64) {
                                view.numbers.insert(n);
                            }
                            if let Some(n) = p.get("name").and_then(Value::as_str) {
                                view.names.insert(n.to_string());
                            }
                        }
                    }
                }
                pods.push(view);
            }
        }
    }

    let mut refs = BTreeMap::new();
    // Probes and lifecycle hooks: within their own pod.
    for pod in &pods {
        for list in CONTAINER_LISTS {
            for (ci, c) in pod.spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
                for h in HANDLERS {
                    for kind in HANDLER_KINDS {
                        let rel = format!("{h}/{kind}/port");
                        let Some(v) = c.pointer(&rel) else { continue };
                        let Some(r) = port_ref(v) else { continue };
                        let resolved: BTreeSet<PodKey> =
                            pod.resolves(&r).then(|| pod.key.clone()).into_iter().collect();
                        let pointer = format!("{}/{list}/{ci}{rel}", pod.key.spec);
                        refs.insert(
                            ref_key(pod.key.doc, &pointer),
                            Resolved {
                                category: "probe",
                                what: format!("{} container {cname:?} {}", pod.owner, &rel[1..]),
                                value: v.clone(),
                                pods: resolved,
                                list: None,
                            },
                        );
                    }
                }
            }
        }
    }

    for (d, (doc, plan)) in docs.iter().zip(plans).enumerate() {
        for res in &plan.resources {
            let Some(resource) = doc.pointer(&res.base) else { continue };
            let ns = res.id.namespace.clone().unwrap_or_default();
            let in_ns = |p: &&PodView| p.namespace == ns;
            match (group(&res.id.api_version), res.id.kind.as_str()) {
                ("", "Service") => {
                    let selector = resource.pointer("/spec/selector");
                    let selected: Vec<&PodView> =
                        pods.iter().filter(in_ns).filter(|p| service_selects(selector, &p.labels)).collect();
                    for (i, port) in
                        resource.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten().enumerate()
                    {
                        let (value, implicit) = match port.get("targetPort") {
                            Some(t) => (t.clone(), false),
                            None => (port.get("port").cloned().unwrap_or(Value::Null), true),
                        };
                        let Some(r) = port_ref(&value) else { continue };
                        let pointer = format!("{}/spec/ports/{i}/targetPort", res.base);
                        refs.insert(
                            ref_key(d, &pointer),
                            Resolved {
                                category: "Service",
                                what: format!(
                                    "{} spec.ports[{i}].targetPort{}",
                                    owner(res),
                                    if implicit { " (implicit: port)" } else { "" }
                                ),
                                value,
                                pods: selected.iter().filter(|p| p.resolves(&r)).map(|p| p.key.clone()).collect(),
                                list: None,
                            },
                        );
                    }
                }
                ("networking.k8s.io", "NetworkPolicy") => {
                    // podSelector is a required non-pointer field: absent reads as empty.
                    let empty = Value::Object(Map::new());
                    let pod_selector = resource.pointer("/spec/podSelector").unwrap_or(&empty);
                    let governed: Vec<&PodView> =
                        pods.iter().filter(in_ns).filter(|p| label_selects(pod_selector, &p.labels)).collect();
                    let mut rules: Vec<(String, Vec<&PodView>)> = Vec::new();
                    for (r, _) in
                        resource.pointer("/spec/ingress").and_then(Value::as_array).into_iter().flatten().enumerate()
                    {
                        rules.push((format!("/spec/ingress/{r}"), governed.clone()));
                    }
                    for (r, rule) in
                        resource.pointer("/spec/egress").and_then(Value::as_array).into_iter().flatten().enumerate()
                    {
                        // Only rules whose peers name pods by podSelector address pod ports.
                        let peers: Vec<&Value> =
                            rule.get("to").and_then(Value::as_array).into_iter().flatten().collect();
                        let targets: Vec<&PodView> = pods
                            .iter()
                            .filter(|p| {
                                peers.iter().any(|peer| {
                                    let Some(ps) = peer.get("podSelector") else { return false };
                                    let ns_ok = match peer.get("namespaceSelector") {
                                        None => p.namespace == ns,
                                        Some(nss) => {
                                            let mut l = Map::new();
                                            l.insert(
                                                "kubernetes.io/metadata.name".into(),
                                                Value::String(p.namespace.clone()),
                                            );
                                            label_selects(nss, &l)
                                        }
                                    };
                                    ns_ok && label_selects(ps, &p.labels)
                                })
                            })
                            .collect();
                        rules.push((format!("/spec/egress/{r}"), targets));
                    }
                    for (rule_ptr, targets) in rules {
                        let list_ptr = format!("{}{rule_ptr}/ports", res.base);
                        let ports = doc.pointer(&list_ptr).and_then(Value::as_array).cloned().unwrap_or_default();
                        for (j, p) in ports.iter().enumerate() {
                            let Some(v) = p.get("port") else { continue };
                            let Some(r) = port_ref(v) else { continue };
                            refs.insert(
                                ref_key(d, &format!("{list_ptr}/{j}/port")),
                                Resolved {
                                    category: "NetworkPolicy",
                                    what: format!("{} {}.ports[{j}].port", owner(res), rule_ptr[1..].replace('/', ".")),
                                    value: v.clone(),
                                    pods: targets.iter().filter(|t| t.resolves(&r)).map(|t| t.key.clone()).collect(),
                                    list: Some((list_ptr.clone(), j, ports.len())),
                                },
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Stream { pods, refs }
}

/// The pods a reference resolves to after: its own entry, plus, for a
/// NetworkPolicy port, entries harden appended to the same list.
fn after_pods(after: &Stream, key: &str, before: &Resolved) -> (Option<Value>, BTreeSet<PodKey>) {
    let own = after.refs.get(key);
    let mut pods = own.map(|r| r.pods.clone()).unwrap_or_default();
    if let Some((list, _, len)) = &before.list {
        for r in after.refs.values() {
            if let Some((l, j, _)) = &r.list
                && l == list
                && j >= len
            {
                pods.extend(r.pods.iter().cloned());
            }
        }
    }
    (own.map(|r| r.value.clone()), pods)
}

// ---------------------------------------------------------------- checks

#[derive(Default)]
struct Tally {
    files: usize,
    /// (reference, pod) pairs resolved before and checked after, by category.
    pairs: BTreeMap<&'static str, usize>,
    /// Of those, the ones whose pod port was 80/443 before.
    low_pairs: usize,
    /// Container ports on 80/443 after, by how they are justified.
    low_after: BTreeMap<&'static str, usize>,
    /// Ports 80/443 before that were moved.
    moved: usize,
}

fn sysctl_allows(spec: &Value, port: u64) -> bool {
    spec.pointer("/securityContext/sysctls").and_then(Value::as_array).is_some_and(|s| {
        s.iter().any(|x| {
            x.get("name").and_then(Value::as_str) == Some(SYSCTL)
                && x.get("value")
                    .and_then(|v| v.as_str().and_then(|s| s.trim().parse::<u64>().ok()).or_else(|| v.as_u64()))
                    .is_some_and(|v| v <= port)
        })
    })
}

fn has_sysctl(spec: &Value) -> bool {
    spec.pointer("/securityContext/sysctls")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(SYSCTL)))
}

fn binds_low(container: &Value) -> bool {
    container
        .pointer("/securityContext/capabilities/add")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| matches!(x.as_str(), Some("NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE"))))
}

fn is_windows(spec: &Value) -> bool {
    spec.pointer("/os/name").and_then(Value::as_str) == Some("windows")
        || ["kubernetes.io/os", "beta.kubernetes.io/os"]
            .iter()
            .any(|k| spec.get("nodeSelector").and_then(|s| s.get(*k)).and_then(Value::as_str) == Some("windows"))
}

/// The `unprivileged-port` notes about this pod that mention `port`.
fn port_notes<'a>(res: &'a ResourcePlan, spec_ptr: &str, port: u64) -> Vec<&'a str> {
    let word = port.to_string();
    res.notes
        .iter()
        .filter(|n| n.rule == RULE)
        .filter(|n| n.pointer == spec_ptr || n.pointer.starts_with(&format!("{spec_ptr}/")))
        .filter(|n| n.message.split(|c: char| !c.is_ascii_digit()).any(|w| w == word))
        .map(|n| n.message.as_str())
        .collect()
}

/// Check one file under one mode; failures are appended to `fails`.
fn check_file(
    name: &str,
    mode: Strategy,
    docs: &[DocOutcome],
    kinds: &[KindRow],
    tally: &mut Tally,
    fails: &mut Vec<String>,
) {
    let m = mode_name(mode);
    let plans: Vec<&DocPlan> = docs.iter().map(|d| &d.plan).collect();
    let before_docs: Vec<&Value> = docs.iter().map(|d| &d.before).collect();
    let after_docs: Vec<&Value> = docs.iter().map(|d| &d.after).collect();
    let before = resolve(&before_docs, &plans, kinds);
    let after = resolve(&after_docs, &plans, kinds);
    let before_pods: BTreeMap<&PodKey, &PodView> = before.pods.iter().map(|p| (&p.key, p)).collect();
    let after_pods_by_key: BTreeMap<&PodKey, &PodView> = after.pods.iter().map(|p| (&p.key, p)).collect();

    if before_pods.len() != after_pods_by_key.len() || before_pods.keys().ne(after_pods_by_key.keys()) {
        fails.push(format!("{name} [{m}]: the pod specs differ before and after"));
    }

    // 1. Every reference that resolved before still resolves to the same pod.
    for (key, b) in &before.refs {
        if b.pods.is_empty() {
            continue;
        }
        let (after_value, now) = after_pods(&after, key, b);
        for pod in &b.pods {
            *tally.pairs.entry(b.category).or_default() += 1;
            let old_ports = before_pods.get(pod).map(|p| &p.numbers);
            let low = match port_ref(&b.value) {
                Some(PortRef::Number(n)) => LOW.contains(&n),
                Some(PortRef::Name(n)) => before_pods.get(pod).is_some_and(|p| named_low(p, &n)),
                None => false,
            };
            tally.low_pairs += usize::from(low);
            if !now.contains(pod) {
                let after_ports =
                    after_pods_by_key.get(pod).map(|p| format!("{:?}", p.numbers)).unwrap_or_else(|| "(gone)".into());
                fails.push(format!(
                    "{name} [{m}] {} {}: {} resolved to {pod} before (containerPorts {:?}); after it is {} and the pod declares {after_ports}",
                    b.category,
                    b.what,
                    b.value,
                    old_ports.cloned().unwrap_or_default(),
                    after_value.as_ref().map_or("absent".to_string(), Value::to_string),
                ));
            }
        }
    }

    // 2. No container left on 80/443 without a move, the sysctl or a reason.
    for pod in &after.pods {
        let doc = &docs[pod.key.doc];
        let res = &doc.plan.resources[pod.key.resource];
        let before_pod = before_pods.get(&pod.key).copied();
        let windows = is_windows(&pod.spec);
        let sysctl_added = has_sysctl(&pod.spec) && !before_pod.is_some_and(|b| has_sysctl(&b.spec));
        if windows && sysctl_added {
            fails
                .push(format!("{name} [{m}] {} ({}): a Windows pod got the Linux sysctl {SYSCTL}", pod.owner, pod.key));
        }
        if mode == Strategy::Keep && sysctl_added {
            fails.push(format!("{name} [{m}] {} ({}): --ports keep added the sysctl {SYSCTL}", pod.owner, pod.key));
        }
        if matches!(mode, Strategy::Keep | Strategy::Sysctl)
            && let Some(b) = before_pod
        {
            let ports = |p: &PodView| p.declared().into_iter().map(|(c, i, n, _)| (c, i, n)).collect::<Vec<_>>();
            if ports(b) != ports(pod) {
                fails.push(format!(
                    "{name} [{m}] {} ({}): containerPorts changed from {:?} to {:?}",
                    pod.owner,
                    pod.key,
                    ports(b),
                    ports(pod)
                ));
            }
        }
        if let Some(b) = before_pod
            && matches!(mode, Strategy::Move | Strategy::Auto)
        {
            // An image that listens on 80 whatever the manifest says must
            // come with a warning when its port is moved.
            for ((_, i, old, c), (_, _, new, _)) in b.declared().into_iter().zip(pod.declared()) {
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                let warned = res.notes.iter().any(|n| n.rule == RULE && n.warning && n.message.contains(image));
                if LOW.contains(&old) && old != new && fixed_port_image(image) && !warned {
                    fails.push(format!("{name} [{m}] {} ({}): ports[{i}] of image {image} moved {old}→{new} without a warning that the image must change", pod.owner, pod.key));
                }
            }
        }
        if let Some(b) = before_pod {
            let low_before = b.declared().into_iter().filter(|(_, _, n, _)| LOW.contains(n)).count();
            let low_now = pod.declared().into_iter().filter(|(_, _, n, _)| LOW.contains(n)).count();
            tally.moved += low_before.saturating_sub(low_now);
        }
        for (container, index, port, c) in pod.declared() {
            if !LOW.contains(&port) {
                continue;
            }
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let at = format!(
                "{name} [{m}] {} ({}) container {cname:?} ports[{index}] containerPort {port}",
                pod.owner, pod.key
            );
            let notes = port_notes(res, &pod.key.spec, port);
            let reported = !res.blockers.is_empty() || res.skipped.is_some() || doc.refused.is_some();
            if mode == Strategy::Keep && notes.is_empty() {
                fails.push(format!("{at} ({container}): kept under --ports keep without a Note saying why"));
                continue;
            }
            if windows && !reported && !notes.iter().any(|n| n.contains("Windows")) {
                fails.push(format!("{at}: a Windows pod kept its port without a Note saying Windows has no privileged ports (notes: {notes:?})"));
                continue;
            }
            let how = if sysctl_allows(&pod.spec, port) {
                "sysctl"
            } else if binds_low(c) {
                "NET_BIND_SERVICE"
            } else if !notes.is_empty() {
                "note"
            } else if reported {
                "blockers/skipped/refused"
            } else {
                fails.push(format!(
                    "{at}: left on {port} with no move, no {SYSCTL}, no NET_BIND_SERVICE and no {RULE} Note"
                ));
                continue;
            };
            *tally.low_after.entry(how).or_default() += 1;
        }
    }
}

/// Plain `nginx` / `httpd`, which listen on 80 whatever the manifest says.
fn fixed_port_image(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or(image);
    let name = match name.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => name,
    };
    let name = name.strip_prefix("docker.io/").unwrap_or(name);
    let name = name.strip_prefix("library/").unwrap_or(name);
    matches!(name, "nginx" | "httpd")
}

/// Whether the port named `n` in pod `p` is 80/443.
fn named_low(p: &PodView, n: &str) -> bool {
    CONTAINER_LISTS.iter().any(|list| {
        p.spec.get(*list).and_then(Value::as_array).into_iter().flatten().any(|c| {
            c.get("ports").and_then(Value::as_array).into_iter().flatten().any(|q| {
                q.get("name").and_then(Value::as_str) == Some(n)
                    && q.get("containerPort").and_then(Value::as_u64).is_some_and(|x| LOW.contains(&x))
            })
        })
    })
}

fn check_mode(mode: Strategy) {
    let dir = corpus_dir();
    let profile = Profile::load("restricted").expect("the built-in restricted profile loads");
    assert!(profile.ports.is_some(), "the restricted profile has a ports section");
    let kinds = built_in_kinds();
    let mut tally = Tally::default();
    let mut fails = Vec::new();
    for path in yaml_files(&dir) {
        let name = rel_name(&dir, &path);
        match harden_file(&path, &name, mode, &profile, &kinds) {
            Ok(docs) => check_file(&name, mode, &docs, &kinds, &mut tally, &mut fails),
            Err(e) => fails.push(format!("{name} [{}]: harden failed: {e}", mode_name(mode))),
        }
        tally.files += 1;
    }
    let total: usize = tally.pairs.values().sum();
    let mut summary = String::new();
    let _ = write!(
        summary,
        "--ports {}: {} files; {total} (reference, pod) pairs checked {:?}, {} on 80/443 before; {} privileged ports moved; left on 80/443: {:?}",
        mode_name(mode),
        tally.files,
        tally.pairs,
        tally.low_pairs,
        tally.moved,
        tally.low_after
    );
    eprintln!("{summary}");
    assert!(tally.files > 0, "no manifests in {}", dir.display());
    assert!(total > 0 && tally.low_pairs > 0, "the corpus should have references to privileged ports: {summary}");
    assert!(
        fails.is_empty(),
        "{} failure(s) under --ports {}:\n{}\n({summary})",
        fails.len(),
        mode_name(mode),
        fails.join("\n")
    );
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn references_still_resolve_under_auto() {
    check_mode(Strategy::Auto);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn references_still_resolve_under_move() {
    check_mode(Strategy::Move);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn references_still_resolve_under_sysctl() {
    check_mode(Strategy::Sysctl);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn references_still_resolve_under_keep() {
    check_mode(Strategy::Keep);
}

// ---------------------------------------------------------------- dotnet

fn dotnet_on_8080(mode: Strategy) {
    let dir = corpus_dir();
    let profile = Profile::load("restricted").expect("the built-in restricted profile loads");
    let kinds = built_in_kinds();
    let docs = harden_file(&dir.join(DOTNET), DOTNET, mode, &profile, &kinds).expect("the dotnet sample hardens");
    let m = mode_name(mode);
    assert_eq!(docs.len(), 2, "{DOTNET}: a Deployment and a Service");
    let deploy = &docs[0].after;
    let ports: Vec<u64> = deploy
        .pointer("/spec/template/spec/containers/0/ports")
        .and_then(Value::as_array)
        .expect("the container declares ports")
        .iter()
        .filter_map(|p| p.get("containerPort").and_then(Value::as_u64))
        .collect();
    assert!(!ports.contains(&80), "[{m}] {DOTNET}: containerPort 80 left: {ports:?}");
    assert_eq!(ports, vec![8080], "[{m}] {DOTNET}: containerPorts");
    assert_eq!(
        deploy.pointer("/spec/template/spec/containers/0/livenessProbe/httpGet/port"),
        Some(&Value::from(8080)),
        "[{m}] {DOTNET}: the liveness probe follows the port"
    );
    let svc = &docs[1].after;
    assert_eq!(
        svc.pointer("/spec/ports/0/targetPort"),
        Some(&Value::from(8080)),
        "[{m}] {DOTNET}: the Service targetPort follows"
    );
    assert_eq!(
        svc.pointer("/spec/ports/0/port"),
        Some(&Value::from(8080)),
        "[{m}] {DOTNET}: the Service port itself stays"
    );
    assert!(docs.iter().all(|d| d.refused.is_none()), "[{m}] {DOTNET}: no document refused");
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn dotnet_sample_moves_to_8080_under_move() {
    dotnet_on_8080(Strategy::Move);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn dotnet_sample_moves_to_8080_under_auto() {
    dotnet_on_8080(Strategy::Auto);
}

// ---------------------------------------------------------------- self-check

/// The checker itself must not be vacuous: break the hardened dotnet sample
/// by hand and see each check fire.
#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn the_checker_catches_broken_output() {
    let dir = corpus_dir();
    let profile = Profile::load("restricted").expect("the built-in restricted profile loads");
    let kinds = built_in_kinds();
    let mut docs =
        harden_file(&dir.join(DOTNET), DOTNET, Strategy::Move, &profile, &kinds).expect("the dotnet sample hardens");
    let run = |docs: &[DocOutcome]| {
        let mut fails = Vec::new();
        check_file(DOTNET, Strategy::Move, docs, &kinds, &mut Tally::default(), &mut fails);
        fails
    };
    assert_eq!(run(&docs), Vec::<String>::new(), "the real output is consistent");

    // A Service left on the old port.
    docs[1].after["spec"]["ports"][0]["targetPort"] = Value::from(80);
    let fails = run(&docs);
    assert!(fails.len() == 1 && fails[0].contains("Service") && fails[0].contains("targetPort"), "{fails:?}");
    docs[1].after["spec"]["ports"][0]["targetPort"] = Value::from(8080);

    // A probe left on the old port.
    docs[0].after["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["port"] = Value::from(80);
    let fails = run(&docs);
    assert!(fails.len() == 1 && fails[0].contains("probe") && fails[0].contains("livenessProbe"), "{fails:?}");

    // Everything back on 80, consistent, but with nothing allowing the bind.
    docs[0].after["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = Value::from(80);
    docs[1].after["spec"]["ports"][0]["targetPort"] = Value::from(80);
    let fails = run(&docs);
    assert!(fails.len() == 1 && fails[0].contains("left on 80"), "{fails:?}");

    // ... which the sysctl fixes.
    docs[0].after["spec"]["template"]["spec"]["securityContext"]["sysctls"] =
        serde_json::json!([{"name": SYSCTL, "value": "0"}]);
    assert_eq!(run(&docs), Vec::<String>::new());
}

#[test]
fn selectors_follow_the_api() {
    let labels = |v: Value| v.as_object().cloned().unwrap_or_default();
    let l = labels(serde_json::json!({"app": "web", "tier": "fe"}));
    assert!(service_selects(Some(&serde_json::json!({"app": "web"})), &l));
    assert!(!service_selects(Some(&serde_json::json!({"app": "web", "tier": "be"})), &l));
    assert!(!service_selects(Some(&serde_json::json!({})), &l));
    assert!(label_selects(&serde_json::json!({}), &l));
    assert!(label_selects(
        &serde_json::json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}),
        &l
    ));
    assert!(!label_selects(&serde_json::json!({"matchLabels": {"app": "api"}}), &l));
    assert!(
        fixed_port_image("nginx")
            && fixed_port_image("nginx:1.25")
            && fixed_port_image("docker.io/library/httpd@sha256:00")
    );
    assert!(!fixed_port_image("nginxinc/nginx-unprivileged") && !fixed_port_image("registry:5000/nginx-x"));
}
