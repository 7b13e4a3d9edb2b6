//! `unprivileged-port`: let non-root workloads serve on 80/443.
//!
//! A non-root process cannot bind ports below 1024, so a pod made non-root
//! that declares containerPort 80 breaks (`bind() ... Permission denied`).
//! Per pod, harden either moves the port (80→8080, 443→8443 by the
//! profile's map) together with everything that points at it, or keeps it
//! and adds the pod sysctl `net.ipv4.ip_unprivileged_port_start=0`, which
//! Pod Security allows. `auto` moves only where harden can also tell the
//! app: as the image's row says (a variable, a flag already on the command
//! line, its config file mounted from a ConfigMap in the stream: [`telling`]),
//! else by the forms harden knows (ASP.NET Core variables, a port flag, a
//! PORT variable: [`listen_config`]).
//!
//! The ports a pod listens on are those its containers declare and those
//! their images' rows say they listen on by default (nginx on 80 with no
//! `containerPort` written). `NET_BIND_SERVICE` in a container's `add`
//! changes nothing here: Kubernetes grants no ambient capabilities
//! (https://github.com/kubernetes/kubernetes/issues/56374), and under the
//! `allowPrivilegeEscalation: false` restricted requires, no_new_privs keeps
//! the kernel from granting file capabilities on exec, so a non-root process
//! ends up with none and `bind(:80)` fails with EACCES whatever `add` says
//! (https://github.com/dunglas/mercure/pull/1230). The `add` stays (restricted
//! allows it, and an image whose binary carries the file capability needs it
//! in the bounding set to be executed at all), and the port is handled like
//! any other.
//!
//! Pods that share a Service must decide alike, so each pod's [`Action`] is
//! decided for the whole stream (`crate::ports`); this is the pod's own
//! side: the ports it declares, the new numbers it would get, and what its
//! decision changes inside its document ([`expand`]: containerPort, probes,
//! hooks, env, flags, annotations, the sysctl, notes).

pub mod listen_config;
pub mod listen_directive;
pub mod telling;

use crate::images::ImageTable;
use crate::images::row::PortFact;
use crate::plan::change::{Change, Control, Note, Op};
use crate::plan::pod::CONTAINER_LISTS;
use crate::pointer::Pointer;
use crate::workload::PodSite;
use serde_json::{Value, json};
use telling::{Telling, telling};

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
    /// Service (headless, or shared with pods that keep the port) or a
    /// ConfigMap shared with pods that keep it, and why.
    SysctlForService(Why),
    /// The sysctl, because harden cannot tell one of the pod's containers
    /// to listen elsewhere: which one and why, where the stream says it (a
    /// config in a ConfigMap); else pass 2 reads them again from the pod (a
    /// stream may hold many such pods, and its decisions are held until
    /// pass 2).
    SysctlUntold(Option<Box<Untold>>),
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

/// A container whose app harden cannot tell its new port, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Untold {
    pub container: String,
    pub why: Why,
    /// The public source of the row that says how the app is told, if one does.
    pub source: Option<String>,
}

/// What harden says when it cannot tell an app another port and knows no more.
pub const NO_KNOWN_SETTING: &str = "harden knows no variable or flag that tells its app another port";

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

/// A privileged port one container listens on.
#[derive(Clone, Debug)]
pub struct LowPort<'t> {
    /// Pointer to the container, relative to the pod spec.
    pub container: String,
    pub container_name: String,
    /// Index of the port in the container's `ports`; `None`: the manifest
    /// does not declare it, the image's row says the image listens there.
    pub index: Option<usize>,
    pub port: u64,
    /// What the image's row says about this port, if it says anything.
    pub row: Option<RowPort<'t>>,
}

/// A port of an image's row: the row's family and the fact.
#[derive(Clone, Copy, Debug)]
pub struct RowPort<'t> {
    pub family: &'t str,
    pub fact: &'t PortFact,
}

/// The ports a pod spec listens on.
#[derive(Debug, Default)]
pub struct OwnPorts<'t> {
    /// Every containerPort.
    pub declared: Vec<u64>,
    /// Those the profile's map moves, declared or the image's own.
    pub low: Vec<LowPort<'t>>,
    /// Whether any port is bound on the host.
    pub host_port: bool,
}

/// Every port entry of the pod spec that gives a `containerPort` by number, and the number.
fn declared(spec: &Value) -> impl Iterator<Item = (&Value, u64)> {
    containers(spec).flat_map(|(_, _, c)| {
        let entries = c.get("ports").and_then(Value::as_array).into_iter().flatten();
        entries.filter_map(|e| Some((e, e.get("containerPort")?.as_u64()?)))
    })
}

/// Every container of the pod spec: its list, its index there, the container.
fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, usize, &Value)> {
    CONTAINER_LISTS.into_iter().flat_map(move |list| {
        spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate().map(move |(ci, c)| (list, ci, c))
    })
}

/// The ports the row of a container's image says it listens on by default.
fn row_ports<'t>(container: &Value, images: &'t ImageTable) -> impl Iterator<Item = RowPort<'t>> {
    let row = container.get("image").and_then(Value::as_str).and_then(|i| images.find(i));
    row.into_iter().flat_map(|row| row.ports.iter().map(|fact| RowPort { family: &row.family, fact }))
}

/// Whether the pod spec listens on a port that `map` moves, declared or by
/// its images' rows (what decides whether the index keeps a pod in full).
pub fn listens_on_moved_port(spec: &Value, map: &[(u64, u64)], images: &ImageTable) -> bool {
    declared(spec).any(|(_, port)| moved(port, map).is_some())
        || containers(spec).any(|(_, _, c)| {
            row_ports(c, images)
                .any(|r| moved(u64::from(r.fact.port), map).is_some() && !telling::set_by_container(c, &r.fact.how))
        })
}

/// The ports of the pod spec `spec`, privileged ones being those in `map`:
/// each container's declared ones, then those its image's row says it
/// listens on that it does not declare (unless the container sets the
/// variable or flag the row says sets the port: then it listens there).
pub fn own_ports<'t>(spec: &Value, map: &[(u64, u64)], images: &'t ImageTable) -> OwnPorts<'t> {
    let mut own = OwnPorts::default();
    for (entry, port) in declared(spec) {
        own.declared.push(port);
        own.host_port |= entry.get("hostPort").and_then(Value::as_u64).is_some_and(|h| h != 0);
    }
    for (list, ci, c) in containers(spec) {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let rows: Vec<RowPort> = row_ports(c, images).collect();
        let row_of = |port: u64| rows.iter().find(|r| u64::from(r.fact.port) == port).copied();
        let mut listed: Vec<u64> = Vec::new();
        let ports = c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate();
        for (pi, port) in ports.filter_map(|(pi, e)| Some((pi, e.get("containerPort")?.as_u64()?))) {
            listed.push(port);
            if moved(port, map).is_some() {
                let (container, container_name) = (format!("/{list}/{ci}"), name.clone());
                own.low.push(LowPort { container, container_name, index: Some(pi), port, row: row_of(port) });
            }
        }
        for r in &rows {
            let port = u64::from(r.fact.port);
            if moved(port, map).is_some() && !listed.contains(&port) && !telling::set_by_container(c, &r.fact.how) {
                listed.push(port);
                let (container, container_name) = (format!("/{list}/{ci}"), name.clone());
                own.low.push(LowPort { container, container_name, index: None, port, row: Some(*r) });
            }
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
    for l in &own.low {
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

/// The first container whose app harden cannot tell its new port, from
/// the pod spec alone, if any. (Where the app reads its port from a config
/// file mounted from a ConfigMap, the stream decides: `crate::ports`.)
pub fn untold(spec: &Value, own: &OwnPorts, moves: &[(u64, u64)]) -> Option<Untold> {
    own.low.iter().filter(|l| moved(l.port, moves).is_some()).find_map(|l| match telling(spec, l, moves) {
        Telling::Untold { why, source, .. } => Some(Untold { container: l.container_name.clone(), why, source }),
        Telling::Edits(_) | Telling::Config(_) => None,
    })
}

/// What a pod's decision changes in its own document, and the notes it
/// gives, each in the order they are planned.
#[derive(Debug, Default)]
pub struct PodEdits {
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
}

/// The change to a Service's port number `i` (at `base` in `doc`) whose
/// pods moved the port it sends traffic to, to `new`: its `targetPort`,
/// set, or written where it defaulted to `port`.
pub fn target_change(doc: &Value, base: &str, i: usize, new: u64) -> Option<Change> {
    let p = doc.at(&format!("{base}/spec/ports/{i}"))?;
    let ptr = format!("{base}/spec/ports/{i}/targetPort");
    let port = p.get("port").cloned().unwrap_or_default();
    let (before, reason) = match (p.get("targetPort"), port.as_u64()) {
        (Some(t), _) => (Some(t.clone()), format!("the selected pods moved port {t} to {new}")),
        (None, Some(port)) => {
            (None, format!("targetPort defaulted to port {port}, which the selected pods moved to {new}"))
        }
        (None, None) => return None,
    };
    Some(change(Op::Set, ptr, json!(new), before, None, format!("{reason}; clients keep using port {port}")))
}

/// The warning, once for a workload, that the ports it moved (`moves`) are
/// pointed at by nothing in the stream, so whatever points at them lies
/// outside it.
pub(crate) fn moved_beyond_the_stream(at: &str, moves: &[(u64, u64)]) -> Note {
    let list = |f: fn(&(u64, u64)) -> u64| moves.iter().map(f).map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
    let (old, new) = (list(|m| m.0), list(|m| m.1));
    let (s, them) = if moves.len() == 1 { ("", "it") } else { ("s", "them") };
    let message = format!(
        "port{s} {old} moved to {new} and nothing in this stream points at {them}: Services, Ingress controllers' \
         config or monitoring outside it may still use {old}; --ports sysctl keeps the port{s} instead"
    );
    warning(at, None, message)
}

/// What the pod's decision changes in its own document. `ports`: the
/// privileged ports the stream found it listens on (a port its image's row
/// gives is left out where the pod's own config, in the stream, names
/// another).
pub fn expand(
    doc: &Value,
    site: &PodSite,
    action: &Action,
    ports: &[u64],
    map: &[(u64, u64)],
    images: &ImageTable,
) -> PodEdits {
    let mut out = PodEdits::default();
    let Some(spec) = doc.at(&site.spec) else { return out };
    let mut own = own_ports(spec, map, images);
    // The untold container a decision does not carry is read again as
    // pass 1 read it: from all of the pod's ports.
    let read_again = match action {
        Action::SysctlUntold(None) => untold(spec, &own, &assign(&own, map)),
        _ => None,
    };
    own.low.retain(|l| ports.contains(&l.port));
    let spec_ptr = &site.spec;
    match action {
        Action::Keep(why) => {
            for l in &own.low {
                out.notes.push(note(
                    &format!("{spec_ptr}{}", port_pointer(l)),
                    Some(l.container_name.clone()),
                    format!("port {} kept: {why}", l.port),
                ));
            }
        }
        Action::Sysctl(_) | Action::SysctlForService(_) | Action::SysctlUntold(_) if sysctl_present(spec) => {}
        Action::Sysctl(why) => out.changes.push(sysctl(spec_ptr, &own, why)),
        Action::SysctlForService(why) => {
            out.changes.push(sysctl(spec_ptr, &own, why));
            out.notes.push(kept_with_sysctl(spec_ptr, &own, None, why));
        }
        Action::SysctlUntold(said) => {
            let Some(untold) = said.as_deref().cloned().or(read_again) else { return out };
            let name = &untold.container;
            let mut why = format!("harden cannot tell container \"{name}\" to listen elsewhere");
            if untold.why != NO_KNOWN_SETTING {
                why = format!("{why}: {}", untold.why);
            }
            if let Some(source) = &untold.source {
                why = format!("{why}; source: {source}");
            }
            out.changes.push(sysctl(spec_ptr, &own, &why));
            out.notes.push(kept_with_sysctl(spec_ptr, &own, Some(name), &untold.why));
        }
        Action::Move(moves, why) => moved_pod(doc, site, spec, &own, moves, why, &mut out),
    }
    out
}

/// Where a note about port `l` points, from the pod spec: its
/// `containerPort` entry, or the container where the manifest declares none.
fn port_pointer(l: &LowPort) -> String {
    match l.index {
        Some(i) => format!("{}/ports/{i}", l.container),
        None => l.container.clone(),
    }
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
/// than moving them, on `container` (else the first that listens on one).
fn kept_with_sysctl(spec_ptr: &str, own: &OwnPorts, container: Option<&str>, why: &str) -> Note {
    let mut ports: Vec<String> = own.low.iter().map(|l| l.port.to_string()).collect();
    ports.dedup();
    let on = own.low.iter().find(|l| Some(l.container_name.as_str()) == container).or(own.low.first());
    let (pointer, name) = on.map_or((String::new(), None), |l| (l.container.clone(), Some(l.container_name.clone())));
    let ports = ports.join(", ");
    let message = format!("port {ports} not moved: {why}; the pod sysctl {SYSCTL}=0 lets it bind {ports} as non-root");
    warning(&format!("{spec_ptr}{pointer}"), name, message)
}

/// A moved pod's own edits: each privileged containerPort it declares, the
/// edits that tell its app, probes and hooks, `prometheus.io/port`, and
/// warnings where the app may still listen on the old port: apps harden
/// cannot tell (`--ports move`), and command lines or variables that name
/// the old port in a form harden cannot rewrite. (A config file mounted
/// from a ConfigMap is the stream's to move: `crate::ports`.)
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
    for l in &own.low {
        let Some(n) = moved(l.port, moves) else { continue };
        let who = Some(l.container_name.clone());
        let first_of_container = own.low.iter().find(|o| o.container == l.container).is_some_and(|o| o.port == l.port);
        if let Some(index) = l.index {
            out.changes.push(change(
                Op::Set,
                format!("{spec_ptr}{}/ports/{index}/containerPort", l.container),
                json!(n),
                Some(json!(l.port)),
                who.clone(),
                format!("a non-root process cannot bind port {}; moved to {n} ({why})", l.port),
            ));
        }
        let container = spec.at(&l.container).unwrap_or(&Value::Null);
        let at = format!("{spec_ptr}{}", l.container);
        let old = l.port;
        let mut rewritten: Vec<String> = Vec::new();
        let mut untold = false;
        match telling(spec, l, moves) {
            Telling::Edits(edits) => {
                for e in edits {
                    out.changes.push(match e {
                        listen_config::Edit::Set { pointer, value, reason } => {
                            let abs = format!("{spec_ptr}{}{pointer}", l.container);
                            let before = doc.at(&abs).cloned();
                            rewritten.push(pointer);
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
            }
            Telling::Config(_) => {}
            Telling::Untold { why, fix: Some(fix), .. } => {
                let message = format!("port {old} moved to {n}, but {why}: {fix}, or use --ports sysctl");
                out.notes.push(warning(&at, who.clone(), message));
            }
            Telling::Untold { fix: None, .. } => untold = true,
        }
        let stale = old_port_named(container, old, &rewritten);
        if untold && first_of_container && site.pod_security_context && stale.is_empty() {
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
