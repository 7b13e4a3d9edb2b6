//! `run-as-user`: a numeric, non-zero UID (and GID, fsGroup) wherever one is
//! missing or 0.
//!
//! PSS only forbids UID 0 (check runAsUser, v1.23+); the numeric UID itself
//! is a harden default. Without it, `runAsNonRoot: true` on an image whose
//! USER is unset or a name makes the kubelet refuse to start the container
//! ("container has runAsNonRoot and image will run as root"). The UID and
//! GID come from the image's row in the image table where the image brings
//! its own non-root user (forcing another one breaks file ownership), else
//! the profile's default.

use crate::images::ImageRow;
use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "run-as-user";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile asks for no UID (baseline): nothing to do.
    let Some(default_uid) = pod.profile.pod.run_as_user else { return };
    let ids = |c: &Container| c.row.and_then(ImageRow::ids).unwrap_or((default_uid, default_uid));
    let own_uid = |c: &Container| c.get("/securityContext/runAsUser").and_then(Value::as_u64);
    let containers = pod.containers();

    if pod.container_level() {
        for c in &containers {
            set_container_ids(out, c, ids(c));
        }
        return;
    }

    // The pod's UID: its own if non-zero, else that of the first container
    // that would inherit it (regular containers first).
    let pod_uid = pod.get("/securityContext/runAsUser").and_then(Value::as_u64);
    let inheriting: Vec<&Container> = containers.iter().filter(|c| own_uid(c).is_none_or(|u| u == 0)).collect();
    let first = inheriting.iter().find(|c| c.list == "containers").or(inheriting.first());
    let (chosen, gid) = match pod_uid {
        Some(u) if u != 0 => (u, u),
        _ => first
            .map(|c| ids(c))
            .or_else(|| containers.first().and_then(own_uid).map(|u| (u, u)))
            .unwrap_or((default_uid, default_uid)),
    };
    if pod_uid != Some(chosen) && !inheriting.is_empty() {
        let (control, reason) = uid_reason(pod_uid, first.filter(|c| c.row.and_then(ImageRow::ids).is_some()));
        out.set("/securityContext/runAsUser", json!(chosen), control, reason);
    }
    for c in &containers {
        let (uid, own_gid) = ids(c);
        match own_uid(c) {
            Some(0) => out.set_in(
                c,
                "/securityContext/runAsUser",
                json!(uid),
                Control::Pss("runAsUser"),
                uid_reason(Some(0), None).1,
            ),
            // Only where harden picked the pod's UID: an explicit pod UID is the owner's choice.
            None if pod_uid.is_none_or(|u| u == 0) && uid != chosen => {
                let reason = format!(
                    "{}; the pod's UID {chosen} would break its file ownership",
                    own_user(c).unwrap_or_else(|| format!("image {} runs as UID {uid}", c.image()))
                );
                out.set_in(c, "/securityContext/runAsUser", json!(uid), Control::HardenDefault, reason);
                if own_gid != gid && pod.profile.pod.run_as_group && c.get("/securityContext/runAsGroup").is_none() {
                    out.set_in(
                        c,
                        "/securityContext/runAsGroup",
                        json!(own_gid),
                        Control::HardenDefault,
                        format!("the image's own group {own_gid}, not the pod's {gid}"),
                    );
                }
            }
            _ => {}
        }
    }
    let own = match pod_uid {
        Some(u) if u != 0 => None,
        _ => first.and_then(|c| c.row).filter(|row| row.ids().is_some()),
    };
    set_pod_groups(pod, out, gid, own);
}

/// The reason for a UID that an image's row names.
fn own_user(c: &Container) -> Option<String> {
    let row = c.row?;
    let (uid, _) = row.ids()?;
    Some(format!("image {} runs as its own non-root user {uid} (row {})", c.image(), row.family))
}

fn uid_reason(before: Option<u64>, from_row: Option<&&Container>) -> (Control, String) {
    match (before, from_row.and_then(|c| own_user(c))) {
        (Some(0), _) => (
            Control::Pss("runAsUser"),
            "restricted forbids runAsUser=0 (root); this overrides an explicit choice".to_string(),
        ),
        (_, Some(own)) => (Control::HardenDefault, format!("{own}; another UID would break its file ownership")),
        _ => (
            Control::HardenDefault,
            "a numeric non-root UID lets the kubelet verify runAsNonRoot even when the image's USER is unset or a name"
                .to_string(),
        ),
    }
}

/// runAsGroup and fsGroup at pod level, where missing. An explicit 0 is
/// kept and reported: Pod Security allows the root group, and images whose
/// files are group-owned by 0 (OpenShift style) need it.
/// `own` is the row whose user gave the pod its UID, if one did: its group
/// is the image's own (possibly 0, the group its files belong to).
fn set_pod_groups(pod: &Pod, out: &mut PodPlan, gid: u64, own: Option<&ImageRow>) {
    let p = &pod.profile.pod;
    let (group, volumes) = match own {
        Some(row) => (
            format!("the image's own primary group {gid} (row {})", row.family),
            format!("mounted volumes become writable by the image's group {gid} (row {})", row.family),
        ),
        None => (
            "a non-root primary group, matching the UID".to_string(),
            "mounted volumes become writable by the non-root user".to_string(),
        ),
    };
    let fields = [(p.run_as_group, "runAsGroup", group), (p.fs_group, "fsGroup", volumes)];
    for (wanted, field, reason) in fields {
        let ptr = format!("/securityContext/{field}");
        match pod.get(&ptr).and_then(Value::as_u64) {
            _ if !wanted => {}
            // Weaker than the profile asks, and the owner's: kept, and said on stderr.
            Some(0) => out.warn(
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
fn set_container_ids(out: &mut PodPlan, c: &Container, (uid, gid): (u64, u64)) {
    let own = c.get("/securityContext/runAsUser").and_then(Value::as_u64);
    if own.is_none_or(|u| u == 0) {
        let (control, reason) = uid_reason(own, Some(&c));
        out.set_in(c, "/securityContext/runAsUser", json!(uid), control, reason);
    }
    let gid = c.get("/securityContext/runAsUser").and_then(Value::as_u64).filter(|u| *u != 0).unwrap_or(gid);
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
