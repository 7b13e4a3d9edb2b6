//! `resources` (harden default, not a Pod Security control): cpu and memory
//! requests and a memory limit where missing, from the profile. Never an
//! added request above an existing limit, nor an added limit below an
//! existing request. Ephemeral containers are skipped: the API forbids
//! resources on them.

use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use crate::quantity;
use serde_json::Value;

pub const ID: &str = "resources";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile sets no resources: nothing to do.
    let Some(settings) = &pod.profile.resources else { return };
    for c in pod.containers().iter().filter(|c| c.list != "ephemeralContainers") {
        for (resource, wanted) in &settings.requests {
            add(out, c, "requests", resource, wanted);
        }
        for (resource, wanted) in &settings.limits {
            add(out, c, "limits", resource, wanted);
        }
    }
}

/// Add `section.resource` unless present, without crossing the opposite
/// section's existing value: a request is never above an existing limit
/// (the limit's value is used instead), a limit never below an existing
/// request.
fn add(out: &mut PodPlan, c: &Container, section: &str, resource: &str, wanted: &Value) {
    let res = c.get("/resources");
    if res.and_then(|r| r.get(section)).and_then(|s| s.get(resource)).is_some() {
        return; // set by the owner: never touched
    }
    let other = if section == "requests" { "limits" } else { "requests" };
    let existing = res.and_then(|r| r.get(other)).and_then(|s| s.get(resource));
    let crosses = match (existing.and_then(quantity::of_value), quantity::of_value(wanted)) {
        (Some(o), Some(w)) => (section == "requests" && o < w) || (section == "limits" && o > w),
        _ => false,
    };
    let value = if crosses { existing.cloned().unwrap_or_else(|| wanted.clone()) } else { wanted.clone() };
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
