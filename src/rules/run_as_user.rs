//! `run-as-user`: a numeric, non-zero UID (and GID, fsGroup) wherever one is
//! missing or 0.
//!
//! PSS only forbids UID 0 (check runAsUser, v1.23+); the numeric UID itself
//! is a harden default. Without it, `runAsNonRoot: true` on an image whose
//! USER is unset or a name makes the kubelet refuse to start the container
//! ("container has runAsNonRoot and image will run as root"). The UID comes
//! from the profile's image table where the image brings its own non-root
//! user (forcing another one breaks file ownership), else the profile's
//! default.

use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "run-as-user";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile asks for no UID (baseline): nothing to do.
    let Some(default_uid) = pod.profile.pod.run_as_user else { return };
    let uid_for = |c: &Container| pod.profile.image_uid(c.image()).unwrap_or(default_uid);
    let own_uid = |c: &Container| c.get("/securityContext/runAsUser").and_then(Value::as_u64);
    let containers = pod.containers();

    if pod.container_level() {
        for c in &containers {
            set_container_ids(out, c, uid_for(c));
        }
        return;
    }

    // The pod's UID: its own if non-zero, else that of the first container
    // that would inherit it (regular containers first).
    let pod_uid = pod.get("/securityContext/runAsUser").and_then(Value::as_u64);
    let inheriting: Vec<&Container> = containers.iter().filter(|c| own_uid(c).is_none_or(|u| u == 0)).collect();
    let chosen = match pod_uid {
        Some(u) if u != 0 => u,
        _ => inheriting
            .iter()
            .find(|c| c.list == "containers")
            .or(inheriting.first())
            .map(|c| uid_for(c))
            .or_else(|| containers.first().and_then(own_uid))
            .unwrap_or(default_uid),
    };
    if pod_uid != Some(chosen) && !inheriting.is_empty() {
        let (control, reason) = uid_reason(pod_uid);
        out.set("/securityContext/runAsUser", json!(chosen), control, reason);
    }
    for c in &containers {
        match own_uid(c) {
            Some(0) => out.set_in(
                c,
                "/securityContext/runAsUser",
                json!(uid_for(c)),
                Control::Pss("runAsUser"),
                uid_reason(Some(0)).1,
            ),
            // Only where harden picked the pod's UID: an explicit pod UID is the owner's choice.
            None if pod_uid.is_none_or(|u| u == 0) && uid_for(c) != chosen => out.set_in(
                c,
                "/securityContext/runAsUser",
                json!(uid_for(c)),
                Control::HardenDefault,
                format!(
                    "image {} runs as its own non-root user {}; the pod's UID {chosen} would break its file ownership",
                    c.image(),
                    uid_for(c)
                ),
            ),
            _ => {}
        }
    }
    set_pod_groups(pod, out, chosen);
}

fn uid_reason(before: Option<u64>) -> (Control, &'static str) {
    match before {
        Some(0) => {
            (Control::Pss("runAsUser"), "restricted forbids runAsUser=0 (root); this overrides an explicit choice")
        }
        _ => (
            Control::HardenDefault,
            "a numeric non-root UID lets the kubelet verify runAsNonRoot even when the image's USER is unset or a name",
        ),
    }
}

/// runAsGroup and fsGroup at pod level, where missing. An explicit 0 is
/// kept and reported: Pod Security allows the root group, and images whose
/// files are group-owned by 0 (OpenShift style) need it.
fn set_pod_groups(pod: &Pod, out: &mut PodPlan, gid: u64) {
    let p = &pod.profile.pod;
    let fields = [
        (p.run_as_group, "runAsGroup", "a non-root primary group, matching the UID"),
        (p.fs_group, "fsGroup", "mounted volumes become writable by the non-root user"),
    ];
    for (wanted, field, reason) in fields {
        let ptr = format!("/securityContext/{field}");
        match pod.get(&ptr).and_then(Value::as_u64) {
            _ if !wanted => {}
            Some(0) => out.note(
                &ptr,
                None,
                format!("{field}=0 (the root group) is set explicitly; kept, since Pod Security allows it"),
            ),
            Some(_) => {}
            None => {
                out.set(&ptr, json!(gid), Control::HardenDefault, reason);
                if field == "fsGroup"
                    && let Some(policy) = &p.fs_group_change_policy
                    && pod.get("/securityContext/fsGroupChangePolicy").is_none()
                {
                    out.set(
                        "/securityContext/fsGroupChangePolicy",
                        json!(policy),
                        Control::HardenDefault,
                        "change volume ownership only when it does not match, not recursively on every start",
                    );
                }
            }
        }
    }
}

/// Where the kind rejects pod-level fields: UID and GID on the container.
fn set_container_ids(out: &mut PodPlan, c: &Container, uid: u64) {
    let own = c.get("/securityContext/runAsUser").and_then(Value::as_u64);
    if own.is_none_or(|u| u == 0) {
        let (control, reason) = uid_reason(own);
        out.set_in(c, "/securityContext/runAsUser", json!(uid), control, reason);
    }
    let gid = c.get("/securityContext/runAsUser").and_then(Value::as_u64).filter(|u| *u != 0).unwrap_or(uid);
    if c.get("/securityContext/runAsGroup").is_none() {
        out.set_in(
            c,
            "/securityContext/runAsGroup",
            json!(gid),
            Control::HardenDefault,
            "a non-root primary group, matching the UID",
        );
    }
}
