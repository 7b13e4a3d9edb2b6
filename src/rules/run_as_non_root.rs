//! `run-as-non-root` (PSS runAsNonRoot): `runAsNonRoot: true` at pod level
//! (or on every container where the kind rejects pod-level fields or a
//! container is exempt), and any explicit `false` replaced.

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "run-as-non-root";
const CONTROL: Control = Control::Pss("runAsNonRoot");

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it (baseline): nothing to do.
    if !pod.profile.pod.run_as_non_root {
        return;
    }
    let is_false = |v: Option<&Value>| v.and_then(Value::as_bool) == Some(false);
    if pod.container_level() {
        // A pod-level `false` would still apply to exempt containers, which
        // is their owner's choice; every other container says `true` itself.
        for c in pod.containers() {
            if c.get("/securityContext/runAsNonRoot").and_then(Value::as_bool) != Some(true) {
                out.set_in(
                    &c,
                    "/securityContext/runAsNonRoot",
                    json!(true),
                    CONTROL,
                    reason(is_false(c.get("/securityContext/runAsNonRoot"))),
                );
            }
        }
        return;
    }
    let pod_value = pod.get("/securityContext/runAsNonRoot");
    if pod_value.and_then(Value::as_bool) != Some(true) {
        out.set("/securityContext/runAsNonRoot", json!(true), CONTROL, reason(is_false(pod_value)));
    }
    // An explicit container-level `false` overrides the pod's `true`.
    for c in pod.containers() {
        if is_false(c.get("/securityContext/runAsNonRoot")) {
            out.set_in(&c, "/securityContext/runAsNonRoot", json!(true), CONTROL, reason(true));
        }
    }
}

fn reason(overrides: bool) -> &'static str {
    if overrides {
        "restricted forbids runAsNonRoot=false; this overrides an explicit choice"
    } else {
        "restricted requires containers to run as a non-root user"
    }
}
