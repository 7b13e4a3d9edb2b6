//! `unprivileged-port`: let non-root workloads serve on 80/443.
//!
//! A non-root process cannot bind ports below 1024, so a pod made non-root
//! that declares containerPort 80 breaks (`bind() ... Permission denied`).
//! Per pod, harden either moves the port (80→8080, 443→8443 by the
//! profile's map) together with everything that points at it, or keeps it
//! and adds the pod sysctl `net.ipv4.ip_unprivileged_port_start=0`, which
//! Pod Security allows. `auto` moves only where harden can also tell the
//! app (ASP.NET Core variables, a port flag, a PORT variable: [`listen_config`]).
//!
//! Pods that share a Service must decide alike, so each pod's [`Action`] is
//! decided for the whole stream (`crate::ports`); this is the pod's own
//! side: the ports it declares, the new numbers it would get, and what its
//! decision changes inside its document ([`expand`]: containerPort, probes,
//! hooks, env, flags, annotations, the sysctl, notes).

pub mod listen_config;
pub mod listen_directive;

use crate::plan::change::{Change, Control, Note, Op};
use crate::plan::pod::CONTAINER_LISTS;
use crate::pointer::Pointer;
use crate::workload::PodSite;
use serde_json::{Value, json};

pub const ID: &str = "unprivileged-port";
pub const SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

/// The new number of `port` under `moves` (old → new pairs), if it moves.
pub(crate) fn moved(port: u64, moves: &[(u64, u64)]) -> Option<u64> {
    moves.iter().find(|(o, _)| *o == port).map(|(_, n)| *n)
}

/// Port `n` written as `like` is: a string or a number.
pub(crate) fn port_value(like: &Value, n: u64) -> Value {
    if like.is_string() { Value::String(n.to_string()) } else { n.into() }
}

/// What happens to one pod's privileged ports, and why.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Keep(Why),
    /// The sysctl, as the strategy asks.
    Sysctl(Why),
    /// The sysctl instead of a move the pod could make, because of a
    /// Service (headless, or shared with pods that keep the port), and why.
    SysctlForService(Why),
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

/// A note a reviewer must see: a warning on stderr.
pub(crate) fn warning(pointer: &str, container: Option<String>, message: String) -> Note {
    Note { warning: true, ..note(pointer, container, message) }
}

/// A declared privileged port of one container.
#[derive(Clone, Debug)]
pub struct LowPort {
    /// Pointer to the container, relative to the pod spec.
    pub container: String,
    pub container_name: String,
    /// Index of the port in the container's `ports`.
    pub index: usize,
    pub port: u64,
    /// The container adds NET_BIND_SERVICE: it is built to bind low ports.
    pub bind_capability: bool,
}

/// The ports a pod spec declares.
#[derive(Debug, Default)]
pub struct OwnPorts {
    /// Every containerPort.
    pub declared: Vec<u64>,
    /// Those the profile's map moves.
    pub low: Vec<LowPort>,
    /// Whether any port is bound on the host.
    pub host_port: bool,
}

/// One port a container declares by number.
struct Declared<'a> {
    list: &'static str,
    /// The container's index in its list, and the container.
    ci: usize,
    container: &'a Value,
    /// The port's index in the container's `ports`, and the entry.
    pi: usize,
    entry: &'a Value,
    port: u64,
}

/// Every containerPort of the pod spec, in order.
fn declared(spec: &Value) -> impl Iterator<Item = Declared<'_>> {
    CONTAINER_LISTS.into_iter().flat_map(move |list| {
        spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate().flat_map(move |(ci, container)| {
            container.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate().filter_map(
                move |(pi, entry)| {
                    let port = entry.get("containerPort").and_then(Value::as_u64)?;
                    Some(Declared { list, ci, container, pi, entry, port })
                },
            )
        })
    })
}

/// Whether the pod spec declares a port that `map` moves (what decides
/// whether the index keeps a pod in full).
pub fn declares_moved_port(spec: &Value, map: &[(u64, u64)]) -> bool {
    declared(spec).any(|d| moved(d.port, map).is_some())
}

/// The ports of the pod spec `spec`, privileged ones being those in `map`.
pub fn own_ports(spec: &Value, map: &[(u64, u64)]) -> OwnPorts {
    let mut own = OwnPorts::default();
    for d in declared(spec) {
        own.declared.push(d.port);
        own.host_port |= d.entry.get("hostPort").and_then(Value::as_u64).is_some_and(|h| h != 0);
        if moved(d.port, map).is_some() {
            own.low.push(LowPort {
                container: format!("/{}/{}", d.list, d.ci),
                container_name: d.container.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                index: d.pi,
                port: d.port,
                bind_capability: d
                    .container
                    .at("/securityContext/capabilities/add")
                    .and_then(Value::as_array)
                    .is_some_and(|a| {
                        a.iter().any(|x| matches!(x.as_str(), Some("NET_BIND_SERVICE" | "CAP_NET_BIND_SERVICE")))
                    }),
            });
        }
    }
    own
}

/// Whether the pod spec already sets the unprivileged-port sysctl.
pub fn sysctl_present(spec: &Value) -> bool {
    spec.at("/securityContext/sysctls")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(SYSCTL)))
}

/// New numbers for the pod's privileged ports, skipping any the pod already
/// declares (8080 taken → 8081), so two ports never collide.
pub fn assign(own: &OwnPorts, map: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut taken = own.declared.clone();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for l in own.low.iter().filter(|l| !l.bind_capability) {
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

/// The first container whose app harden cannot tell its new port, if any.
pub fn untold(spec: &Value, own: &OwnPorts, moves: &[(u64, u64)]) -> Option<String> {
    own.low
        .iter()
        .filter(|l| !l.bind_capability && moved(l.port, moves).is_some())
        .find(|l| listen_config_edits(spec.at(&l.container).unwrap_or(&Value::Null), moves).is_empty())
        .map(|l| l.container_name.clone())
}

/// The edits to where a container's app is told its port, moved.
fn listen_config_edits(container: &Value, moves: &[(u64, u64)]) -> Vec<listen_config::Edit> {
    let mut edits = Vec::new();
    if listen_config::is_aspnet(container) {
        edits.extend(listen_config::aspnet(container, moves));
    }
    edits.extend(listen_config::flags(container, moves));
    edits.extend(listen_config::port_env(container, moves));
    edits
}

/// What a pod's decision changes in its own document, and the notes it
/// gives, each in the order they are planned.
#[derive(Debug, Default)]
pub struct PodEdits {
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
}

/// What the pod's decision changes in its own document.
pub fn expand(doc: &Value, site: &PodSite, action: &Action, map: &[(u64, u64)]) -> PodEdits {
    let mut out = PodEdits::default();
    let Some(spec) = doc.at(&site.spec) else { return out };
    let own = own_ports(spec, map);
    let spec_ptr = &site.spec;
    match action {
        Action::Keep(why) => {
            for l in &own.low {
                let why = if l.bind_capability {
                    "the container adds NET_BIND_SERVICE, so it can bind the port as non-root"
                } else {
                    why
                };
                out.notes.push(note(
                    &format!("{spec_ptr}{}/ports/{}", l.container, l.index),
                    Some(l.container_name.clone()),
                    format!("port {} kept: {why}", l.port),
                ));
            }
        }
        Action::Sysctl(_) | Action::SysctlForService(_) | Action::SysctlUntold if sysctl_present(spec) => {}
        Action::Sysctl(why) => out.changes.push(sysctl(spec_ptr, &own, why)),
        Action::SysctlForService(why) => {
            out.changes.push(sysctl(spec_ptr, &own, why));
            out.notes.push(kept_with_sysctl(spec_ptr, &own, None, why));
        }
        Action::SysctlUntold => {
            // The container pass 1 found, found again the same way.
            let name = untold(spec, &own, &assign(&own, map));
            let why = match &name {
                Some(name) => format!("harden cannot tell container \"{name}\" to listen elsewhere"),
                None => "harden cannot tell the app its new port".to_string(),
            };
            out.changes.push(sysctl(spec_ptr, &own, &why));
            let unknown = "harden knows no variable or flag that tells its app another port";
            out.notes.push(kept_with_sysctl(spec_ptr, &own, name.as_deref(), unknown));
        }
        Action::Move(_, why) => moved_pod(doc, site, spec, &own, &assign(&own, map), why, &mut out),
    }
    out
}

/// The pod sysctl that lets its non-root app bind the privileged ports.
fn sysctl(spec_ptr: &str, own: &OwnPorts, why: &str) -> Change {
    let mut ports: Vec<String> = own.low.iter().map(|l| l.port.to_string()).collect();
    ports.dedup();
    change(
        Op::Append,
        format!("{spec_ptr}/securityContext/sysctls"),
        json!({"name": SYSCTL, "value": "0"}),
        None,
        None,
        format!("lets the non-root app bind port {} inside the pod's own network namespace ({why})", ports.join(", ")),
    )
}

/// The warning that a pod keeps its privileged ports with the sysctl rather
/// than moving them, on `container` (else the first that declares one).
fn kept_with_sysctl(spec_ptr: &str, own: &OwnPorts, container: Option<&str>, why: &str) -> Note {
    let mut ports: Vec<String> = own.low.iter().map(|l| l.port.to_string()).collect();
    ports.dedup();
    let on = own.low.iter().find(|l| Some(l.container_name.as_str()) == container).or(own.low.first());
    let (pointer, name) = on.map_or((String::new(), None), |l| (l.container.clone(), Some(l.container_name.clone())));
    let ports = ports.join(", ");
    let message = format!("port {ports} not moved: {why}; the pod sysctl {SYSCTL}=0 lets it bind {ports} as non-root");
    warning(&format!("{spec_ptr}{pointer}"), name, message)
}

/// A moved pod's own edits: each privileged containerPort, the edits that
/// tell its app, probes and hooks, `prometheus.io/port`, and warnings where
/// the app may still listen on the old port: images that listen on 80
/// whatever the manifest says, apps harden cannot tell (`--ports move`),
/// and command lines or variables that name the old port in a form harden
/// cannot rewrite.
fn moved_pod(
    doc: &Value,
    site: &PodSite,
    spec: &Value,
    own: &OwnPorts,
    moves: &[(u64, u64)],
    why: &str,
    out: &mut PodEdits,
) {
    let spec_ptr = &site.spec;
    for l in own.low.iter().filter(|l| !l.bind_capability) {
        let Some(n) = moved(l.port, moves) else { continue };
        let who = Some(l.container_name.clone());
        let first_of_container = own.low.iter().find(|o| o.container == l.container).is_some_and(|o| o.port == l.port);
        let ptr = format!("{spec_ptr}{}/ports/{}/containerPort", l.container, l.index);
        out.changes.push(change(
            Op::Set,
            ptr,
            json!(n),
            Some(json!(l.port)),
            who.clone(),
            format!("a non-root process cannot bind port {}; moved to {n} ({why})", l.port),
        ));
        let container = spec.at(&l.container).unwrap_or(&Value::Null);
        let edits = listen_config_edits(container, moves);
        let rewritten: Vec<String> = (edits.iter())
            .filter_map(|e| match e {
                listen_config::Edit::Set { pointer, .. } => Some(pointer.clone()),
                listen_config::Edit::AppendEnv { .. } => None,
            })
            .collect();
        let untold = edits.is_empty();
        for e in edits {
            out.changes.push(match e {
                listen_config::Edit::Set { pointer, value, reason } => {
                    let abs = format!("{spec_ptr}{}{pointer}", l.container);
                    let before = doc.at(&abs).cloned();
                    change(Op::Set, abs, value, before, who.clone(), reason)
                }
                listen_config::Edit::AppendEnv { name, value, reason } => change(
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
        let at = format!("{spec_ptr}{}", l.container);
        let old = l.port;
        let stale = old_port_named(container, old, &rewritten);
        if FIXED_PORT_IMAGES
            .iter()
            .any(|i| image == *i || image.starts_with(&format!("{i}:")) || image.starts_with(&format!("{i}@")))
        {
            let message = format!(
                "image {image} listens on {old} whatever the manifest says; change the image too (e.g. nginxinc/nginx-unprivileged)"
            );
            out.notes.push(warning(&at, who.clone(), message));
        } else if untold && first_of_container && site.pod_security_context && stale.is_empty() {
            // (A kind without a pod securityContext is Knative's, which
            // passes the port to the app in $PORT itself.)
            let message = format!(
                "port {old} moved to {n}, but harden knows no variable or flag that tells the app so: make sure it \
                 listens on {n}, or use --ports sysctl"
            );
            out.notes.push(warning(&at, who.clone(), message));
        }
        if !stale.is_empty() {
            let message = format!(
                "port {old} moved to {n}, but {} still name{} port {old} in a form harden cannot rewrite: change \
                 {} to {n}, or use --ports sysctl",
                stale.join(", "),
                if stale.len() == 1 { "s" } else { "" },
                if stale.len() == 1 { "it" } else { "them" },
            );
            out.notes.push(warning(&at, who.clone(), message));
        }
    }
    out.changes.extend(probes_and_hooks(spec, site, moves));
    out.changes.extend(scrape_annotation(doc, site, moves));
}

/// Where a container's command line and variables still name port `old`
/// after the edits at `rewritten` (pointers from the container): each arg
/// or variable that has the number alone (not within a longer one) and
/// speaks of a port (`port`, `listen`, `bind`, `addr`, in itself, its flag
/// or its name, or as `:NUMBER`), as `args[1] "--listen-port=80"`.
fn old_port_named(container: &Value, old: u64, rewritten: &[String]) -> Vec<String> {
    let number = old.to_string();
    let digit_at = |s: &str, i: usize| s.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    let alone = |s: &str| {
        s.match_indices(&number).any(|(i, _)| (i == 0 || !digit_at(s, i - 1)) && !digit_at(s, i + number.len()))
    };
    let of_ports = |s: &str| ["port", "listen", "bind", "addr"].iter().any(|w| s.to_ascii_lowercase().contains(w));
    let colon = format!(":{number}");
    let mut out = Vec::new();
    for list in ["command", "args"] {
        let items: Vec<&str> =
            container.get(list).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (i, item) in items.iter().enumerate() {
            // The flag a bare value belongs to (`--listen-port 80`).
            let flag = i.checked_sub(1).map(|p| items[p]).filter(|f| f.starts_with('-') && !f.contains('='));
            let flag = if item.starts_with('-') { "" } else { flag.unwrap_or("") };
            if !rewritten.contains(&format!("/{list}/{i}"))
                && alone(item)
                && (of_ports(item) || of_ports(flag) || item.contains(&colon))
            {
                out.push(format!("{list}[{i}] {item:?}"));
            }
        }
    }
    for (i, e) in container.get("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let (name, value) =
            (e.get("name").and_then(Value::as_str).unwrap_or(""), e.get("value").and_then(Value::as_str));
        if let Some(value) = value
            && !rewritten.contains(&format!("/env/{i}/value"))
            && alone(value)
            && (of_ports(name) || of_ports(value) || value.contains(&colon))
        {
            out.push(format!("env {name}={value:?}"));
        }
    }
    out
}

/// Probe and lifecycle-hook ports given by number, in every container of the
/// pod (they all share the pod's network namespace). By name they stay:
/// the port keeps its name.
fn probes_and_hooks(spec: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Vec<Change> {
    let mut out = Vec::new();
    const HANDLERS: [&str; 5] =
        ["/livenessProbe", "/readinessProbe", "/startupProbe", "/lifecycle/postStart", "/lifecycle/preStop"];
    for list in CONTAINER_LISTS {
        for (ci, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let name = c.get("name").and_then(Value::as_str).map(str::to_string);
            for h in HANDLERS {
                for kind in ["httpGet", "tcpSocket", "grpc"] {
                    let rel = format!("{h}/{kind}/port");
                    let Some(old) = c.at(&rel).and_then(Value::as_u64) else { continue };
                    if let Some(new) = moved(old, moves) {
                        let ptr = format!("{}/{list}/{ci}{rel}", site.spec);
                        out.push(change(
                            Op::Set,
                            ptr,
                            json!(new),
                            Some(json!(old)),
                            name.clone(),
                            format!("the {} checks the moved port", &h[1..]),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// `prometheus.io/port` on the pod template.
fn scrape_annotation(doc: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Option<Change> {
    let ptr = format!("{}/annotations/prometheus.io~1port", site.metadata);
    let v = doc.at(&ptr)?;
    let old = v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?;
    let new = moved(old, moves)?;
    Some(change(Op::Set, ptr, port_value(v, new), Some(v.clone()), None, "Prometheus scrapes the moved port".into()))
}
