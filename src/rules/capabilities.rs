//! `capabilities` (PSS capabilities_restricted, v1.22+): every container
//! drops `ALL` (the check compares the exact string, so `all` does not
//! count). Added capabilities are not removed: anything beyond
//! NET_BIND_SERVICE is a blocker that the verifier reports.
//!
//! Where the image's row says its binaries need NET_BIND_SERVICE (caddy's
//! carries it as a file capability: without it in the bounding set the
//! kernel refuses to exec it), the container keeps it: `add:
//! [NET_BIND_SERVICE]` next to the `drop: [ALL]` harden writes, which
//! restricted allows. Nothing else is ever added; a container whose owner
//! dropped what its image needs keeps that choice and is reported as not
//! starting.

use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "capabilities";

/// The one capability restricted lets a container add.
const ALLOWED: &str = "NET_BIND_SERVICE";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it (baseline): nothing to do.
    if !pod.profile.container.drop_all_capabilities {
        return;
    }
    let control = Control::Pss("capabilities_restricted");
    for c in pod.containers() {
        let drop = c.get("/securityContext/capabilities/drop");
        let drops_all = matches!(drop, Some(Value::Array(d)) if d.iter().any(|x| x.as_str() == Some("ALL")));
        match drop {
            _ if drops_all => {} // already drops everything
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
        keep_what_the_image_needs(out, &c, drops_all);
    }
}

/// Add back what the row says the image needs and restricted allows; say
/// so where the container will not start without what it cannot have.
fn keep_what_the_image_needs(out: &mut PodPlan, c: &Container, dropped_all_before: bool) {
    let Some(row) = c.row else { return };
    for need in &row.capabilities {
        let named = |v: Option<&Value>| {
            v.and_then(Value::as_array)
                .is_some_and(|l| l.iter().filter_map(Value::as_str).any(|x| x.trim_start_matches("CAP_") == need.keep))
        };
        if named(c.get("/securityContext/capabilities/add")) {
            continue; // kept already
        }
        if need.keep != ALLOWED {
            out.will_not_start(
                c,
                &format!(
                    "row {} says the image needs {} ({}), which Pod Security restricted forbids",
                    row.family, need.keep, need.why
                ),
                "run an image that does not need it, or exempt this container (harden.dev/skip-containers)",
            );
            continue;
        }
        // The owner dropped it explicitly: theirs to decide, but it will not start.
        if dropped_all_before || named(c.get("/securityContext/capabilities/drop")) {
            out.will_not_start(
                c,
                &format!(
                    "row {} says the image needs {ALLOWED} ({}), which this container drops",
                    row.family, need.why
                ),
                &format!("add {ALLOWED} to securityContext.capabilities.add (Pod Security restricted allows it)"),
            );
            continue;
        }
        let reason = format!("row {} says the image needs {ALLOWED}: {}", row.family, need.why);
        match c.get("/securityContext/capabilities/add") {
            Some(Value::Array(_)) => out.append(
                &format!("{}/securityContext/capabilities/add", c.pointer()),
                json!(ALLOWED),
                Control::HardenDefault,
                reason,
                Some(c.name()),
            ),
            None | Some(Value::Null) => {
                out.set_in(c, "/securityContext/capabilities/add", json!([ALLOWED]), Control::HardenDefault, reason)
            }
            Some(_) => {} // not a list: the API rejects it as it is; not harden's to rewrite
        }
    }
}
