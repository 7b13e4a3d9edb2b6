//! `privilege-escalation` (PSS allowPrivilegeEscalation): every container
//! sets `allowPrivilegeEscalation: false` explicitly (unset counts as true).
//! The API rejects `false` together with `privileged: true` or with
//! CAP_SYS_ADMIN added, so those containers are left alone (they are
//! blockers anyway).

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "privilege-escalation";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it: nothing to do.
    if pod.profile.container.allow_privilege_escalation != Some(false) {
        return;
    }
    for c in pod.containers() {
        let current = c.get("/securityContext/allowPrivilegeEscalation").and_then(Value::as_bool);
        if current == Some(false) {
            continue; // already as strict as it gets
        }
        let privileged = c.get("/securityContext/privileged").and_then(Value::as_bool) == Some(true);
        let sys_admin = c
            .get("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| matches!(x.as_str(), Some("SYS_ADMIN" | "CAP_SYS_ADMIN"))));
        if privileged || sys_admin {
            continue; // the API would reject the combination
        }
        let reason = if current == Some(true) {
            "restricted forbids allowPrivilegeEscalation=true; this overrides an explicit choice"
        } else {
            "restricted requires allowPrivilegeEscalation=false (unset means true)"
        };
        out.set_in(
            &c,
            "/securityContext/allowPrivilegeEscalation",
            json!(false),
            Control::Pss("allowPrivilegeEscalation"),
            reason,
        );
    }
}
