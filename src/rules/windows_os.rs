//! `windows-os`: a pod that a Windows node selector sends to Windows gets
//! `spec.os.name: windows`, the field the Pod Security checks (from v1.25)
//! and API validation use to know the Linux-only fields do not apply.

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan, windows_selector};
use serde_json::json;

pub const ID: &str = "windows-os";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // Not selected onto Windows, or already says which OS: nothing to do.
    if !windows_selector(pod.spec) || pod.get("/os/name").is_some() {
        return;
    }
    out.set(
        "/os/name",
        json!("windows"),
        Control::HardenDefault,
        "the node selector runs this pod on Windows; spec.os.name says so to the API and to Pod Security, which then skip the Linux-only controls",
    );
}
