//! `container-administrator`: a Windows pod or container that runs as
//! `ContainerAdministrator` can never satisfy runAsNonRoot (the kubelet
//! refuses to start it), so it is a blocker, not something to fix.

use crate::plan::pod::{Pod, PodPlan};
use serde_json::Value;

pub const ID: &str = "container-administrator";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // Linux pods have no Windows user names: nothing to check.
    if !pod.is_windows() {
        return;
    }
    let is_admin =
        |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case("ContainerAdministrator"));
    if is_admin(pod.get("/securityContext/windowsOptions/runAsUserName")) {
        out.block(
            None,
            "windowsOptions.runAsUserName=ContainerAdministrator",
            "PSS runAsNonRoot (the kubelet refuses runAsNonRoot for ContainerAdministrator)",
        );
    }
    for c in pod.containers() {
        if is_admin(c.get("/securityContext/windowsOptions/runAsUserName")) {
            out.block(
                Some(c.name()),
                "windowsOptions.runAsUserName=ContainerAdministrator",
                "PSS runAsNonRoot (the kubelet refuses runAsNonRoot for ContainerAdministrator)",
            );
        }
    }
}
