//! `capabilities` (PSS capabilities_restricted, v1.22+): every container
//! drops `ALL` (the check compares the exact string, so `all` does not
//! count). Added capabilities are not removed: anything beyond
//! NET_BIND_SERVICE is a blocker that the verifier reports.

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "capabilities";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it (baseline): nothing to do.
    if !pod.profile.container.drop_all_capabilities {
        return;
    }
    let control = Control::Pss("capabilities_restricted");
    for c in pod.containers() {
        match c.get("/securityContext/capabilities/drop") {
            Some(Value::Array(drop)) if drop.iter().any(|d| d.as_str() == Some("ALL")) => {} // already drops everything
            Some(Value::Array(_)) => out.append(
                &format!("{}/securityContext/capabilities/drop", c.pointer()),
                json!("ALL"),
                control,
                "restricted requires dropping ALL capabilities (exact, upper-case)",
                Some(c.name()),
            ),
            _ => out.set_in(
                &c,
                "/securityContext/capabilities/drop",
                json!(["ALL"]),
                control,
                "restricted requires dropping ALL capabilities",
            ),
        }
    }
}
