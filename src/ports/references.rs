//! Everything that points at a moved port, inside the pod and elsewhere in
//! the stream: probes and hooks, `prometheus.io/port`, Service `targetPort`
//! (NetworkPolicies and monitors: [`super::policies`]). References
//! by name stay as they are: the port keeps its name, so they still resolve.
//! Ingress backends and Service `port` address the Service, not the pod,
//! and stay too.

use super::PortPlan;
use super::change;
use super::decide::Movers;
use super::moved;
use super::selection::Kept;
use super::tape::Tape;
use crate::plan::change::{Change, Op};
use crate::plan::pod::CONTAINER_LISTS;
use crate::pointer::Pointer;
use crate::workload::PodSite;
use serde_json::{Value, json};
use std::io;

/// Probe and lifecycle-hook ports given by number, in every container of the
/// pod (they all share the pod's network namespace).
pub fn in_pod(spec: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Vec<Change> {
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
pub fn annotations(doc: &Value, site: &PodSite, moves: &[(u64, u64)]) -> Vec<Change> {
    let ptr = format!("{}/annotations/prometheus.io~1port", site.metadata);
    let Some(v) = doc.at(&ptr) else { return Vec::new() };
    let old = v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match old.and_then(|o| moved(o, moves)) {
        Some(new) => {
            let value = if v.is_string() { json!(new.to_string()) } else { json!(new) };
            vec![change(Op::Set, ptr, value, Some(v.clone()), None, "Prometheus scrapes the moved port".into())]
        }
        None => Vec::new(),
    }
}

/// The Services whose pods moved the port they send traffic to: each
/// such Service port's new target, filed in stream order. (Once settled,
/// every pod a Service selects moves the same ports to the same numbers, or
/// none moves them.)
pub fn service_targets(kept: &mut Tape<Kept>, movers: &Movers, plan: &mut PortPlan) -> io::Result<()> {
    for k in kept.read()? {
        let Kept { service: svc, pods, .. } = k?;
        if svc.headless {
            continue;
        }
        for &(i, target) in &svc.targets {
            if let Some(new) = pods.iter().find_map(|&p| moved(target, movers.moves(p))) {
                plan.target(svc.at, i as usize, new);
            }
        }
    }
    Ok(())
}

/// The change to a Service's port number `i` (at `base` in `doc`) whose
/// pods moved the port it sends traffic to, to `new`: its `targetPort`,
/// set, or written where it defaulted to `port`. Built in pass 2 from the
/// document (the decision files only the numbers, as for pods).
pub fn target_change(doc: &Value, base: &str, i: usize, new: u64) -> Option<Change> {
    let p = doc.at(&format!("{base}/spec/ports/{i}"))?;
    let ptr = format!("{base}/spec/ports/{i}/targetPort");
    let (before, reason) = match (p.get("targetPort"), p.get("port").and_then(Value::as_u64)) {
        (Some(t), _) => (
            Some(t.clone()),
            format!(
                "the selected pods moved port {t} to {new}; clients keep using port {}",
                p.get("port").cloned().unwrap_or_default()
            ),
        ),
        (None, Some(port)) => (
            None,
            format!(
                "targetPort defaulted to port {port}, which the selected pods moved to {new}; clients keep using port {port}"
            ),
        ),
        (None, None) => return None,
    };
    Some(change(Op::Set, ptr, json!(new), before, None, reason))
}
