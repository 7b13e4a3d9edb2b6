//! `seccomp` (PSS seccompProfile_baseline / seccompProfile_restricted):
//! `RuntimeDefault` at pod level unless every container already sets
//! RuntimeDefault or Localhost; an explicit `Unconfined` is replaced. At
//! baseline level only `Unconfined` is replaced (baseline allows unset).

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan};
use crate::pss::Level;
use serde_json::{Value, json};

pub const ID: &str = "seccomp";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile sets no seccomp profile: nothing to do.
    let Some(profile_type) = pod.profile.pod.seccomp_profile.as_deref() else { return };
    let restricted = pod.profile.level == Level::Restricted;
    let control = Control::Pss(if restricted { "seccompProfile_restricted" } else { "seccompProfile_baseline" });
    let kind = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let containers = pod.containers();

    // Explicit Unconfined anywhere is forbidden at both levels.
    for c in &containers {
        if kind(c.get("/securityContext/seccompProfile/type")).as_deref() == Some("Unconfined") {
            out.set_in(
                c,
                "/securityContext/seccompProfile/type",
                json!(profile_type),
                control,
                "seccomp Unconfined is forbidden; this overrides an explicit choice",
            );
        }
    }
    let pod_type = kind(pod.get("/securityContext/seccompProfile/type"));
    if pod_type.as_deref() == Some("Unconfined") && !pod.container_level() {
        out.set(
            "/securityContext/seccompProfile/type",
            json!(profile_type),
            control,
            "seccomp Unconfined is forbidden; this overrides an explicit choice",
        );
        return;
    }
    // Baseline allows an unset profile; pod-level RuntimeDefault/Localhost covers everyone.
    if !restricted || matches!(pod_type.as_deref(), Some("RuntimeDefault" | "Localhost")) {
        return;
    }
    let confined = |c: &crate::plan::pod::Container| {
        matches!(kind(c.get("/securityContext/seccompProfile/type")).as_deref(), Some("RuntimeDefault" | "Localhost"))
    };
    if pod.container_level() {
        for c in containers.iter().filter(|c| !confined(c)) {
            out.set_in(
                c,
                "/securityContext/seccompProfile/type",
                json!(profile_type),
                control,
                "restricted requires a seccomp profile (RuntimeDefault or Localhost)",
            );
        }
        return;
    }
    // Every container already confined (e.g. by its own Localhost profile): nothing to add.
    if containers.iter().all(confined) && !containers.is_empty() {
        return;
    }
    out.set(
        "/securityContext/seccompProfile/type",
        json!(profile_type),
        control,
        "restricted requires a seccomp profile (RuntimeDefault or Localhost)",
    );
}
