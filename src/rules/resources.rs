//! `resources` (harden default, not a Pod Security control): the profile's
//! requests and limits where a container has none, without changing what
//! the workload is given:
//! - a resource with a limit and no request gets no request: the API server
//!   sets the request to the limit, and a smaller one would give up what
//!   the pod has reserved (a note says so);
//! - an added limit is never below the container's request;
//! - the pod's QoS class stays as it was ([`qos`]), except BestEffort →
//!   Burstable: limits that would make a container Guaranteed are not added;
//! - a pod with pod-level resources (`spec.resources`) is left alone: its
//!   containers' requests must fit in the pod's, which only its owner can split.
//!
//! Ephemeral containers are skipped: the API forbids resources on them.

use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use crate::plan::qos::{self, QosClass};
use crate::profile::ResourceSettings;
use crate::quantity;
use serde_json::{Map, Value};

pub const ID: &str = "resources";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile sets no resources: nothing to do.
    let Some(settings) = &pod.profile.resources else { return };
    if pod.get("/resources").is_some_and(Value::is_object) {
        out.note(
            "/resources",
            None,
            "the pod sets pod-level resources: its containers' requests must fit within them, so harden adds none",
        );
        return;
    }
    for c in pod.containers().iter().filter(|c| c.list != "ephemeralContainers") {
        plan_container(out, c, settings);
    }
}

/// One resource value to add: section (`requests`/`limits`), resource, value.
type Addition<'a> = (&'static str, &'a str, Value);

fn plan_container(out: &mut PodPlan, c: &Container, settings: &ResourceSettings) {
    let resources = c.get("/resources");
    let own = |section: &str, resource: &str| resources.and_then(|r| r.get(section)).and_then(|s| s.get(resource));
    let mut adds: Vec<Addition> = Vec::new();
    let mut from_limits = Vec::new();
    for (resource, wanted) in &settings.requests {
        match (own("requests", resource), own("limits", resource)) {
            (Some(_), _) => {} // set by the owner: never touched
            (None, Some(_)) => from_limits.push(resource.as_str()),
            (None, None) => adds.push(("requests", resource, wanted.clone())),
        }
    }
    for (resource, wanted) in &settings.limits {
        if own("limits", resource).is_some() {
            continue;
        }
        // Never below the request in force: the owner's, or the one added above.
        let added = adds.iter().find(|(s, r, _)| *s == "requests" && r == resource).map(|(_, _, v)| v);
        let value = match own("requests", resource).or(added) {
            Some(request) if above(request, wanted) => request.clone(),
            _ => wanted.clone(),
        };
        adds.push(("limits", resource, value));
    }
    let before = qos::resources_qos(resources);
    if qos::resources_qos(Some(&with(resources, &adds))) == QosClass::Guaranteed && before != QosClass::Guaranteed {
        // Requests alone never make a container Guaranteed (a request is only
        // added where the resource has no limit): the limits would.
        adds.retain(|(section, _, _)| *section == "requests");
        out.note(
            &format!("{}/resources/limits", c.pointer()),
            Some(c.name()),
            format!(
                "no limits added: limits equal to every request would make the container Guaranteed (QoS class {before} now), which changes how it is scheduled and evicted"
            ),
        );
    }
    if !from_limits.is_empty() {
        out.note(
            &format!("{}/resources/limits", c.pointer()),
            Some(c.name()),
            format!(
                "{} {} a limit and no request: the API server sets the request to the limit, so harden adds none",
                from_limits.join(" and "),
                if from_limits.len() == 1 { "has" } else { "have" }
            ),
        );
    }
    for (section, resource, value) in adds {
        out.set_in(
            c,
            &format!("/resources/{section}/{resource}"),
            value,
            Control::HardenDefault,
            format!(
                "a {resource} {} lets the scheduler place the pod and bounds what it can take",
                section.trim_end_matches('s')
            ),
        );
    }
}

/// Whether quantity `a` is above quantity `b` (false where either is not one).
fn above(a: &Value, b: &Value) -> bool {
    matches!((quantity::of_value(a), quantity::of_value(b)), (Some(a), Some(b)) if a > b)
}

/// A container's `resources` with `adds` made.
fn with(resources: Option<&Value>, adds: &[Addition]) -> Value {
    let mut out = resources.filter(|r| r.is_object()).cloned().unwrap_or_else(|| Value::Object(Map::new()));
    for (section, resource, value) in adds {
        if let Some(m) = out.as_object_mut() {
            let s = m.entry(*section).or_insert_with(|| Value::Object(Map::new()));
            if !s.is_object() {
                *s = Value::Object(Map::new());
            }
            if let Some(s) = s.as_object_mut() {
                s.insert(resource.to_string(), value.clone());
            }
        }
    }
    out
}
