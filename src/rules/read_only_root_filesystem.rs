//! `read-only-root-filesystem` (harden default, not a Pod Security control):
//! `readOnlyRootFilesystem: true`, with an emptyDir mounted at /tmp so apps
//! that write temporary files keep working (unless something is already
//! mounted there), and the profile's extra env vars (the dotnet profile's
//! `DOTNET_EnableDiagnostics=0`). An explicit `false` is the owner's choice:
//! kept and reported.

use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "read-only-root-filesystem";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it: nothing to do.
    let settings = &pod.profile.container;
    let (true, Some(tmp)) = (settings.read_only_root_filesystem, settings.tmp_volume.as_ref()) else { return };
    let mut volume: Option<String> = None;
    for c in pod.containers() {
        // A malformed container (volumeMounts that is not a list) cannot get
        // its /tmp mount; leave it alone rather than half-harden it.
        if c.get("/volumeMounts").is_some_and(|m| !m.is_array()) {
            out.note(
                &format!("{}/volumeMounts", c.pointer()),
                Some(c.name()),
                "volumeMounts is not a list; read-only root filesystem not applied",
            );
            continue;
        }
        match c.get("/securityContext/readOnlyRootFilesystem").and_then(Value::as_bool) {
            Some(false) => {
                out.note(
                    &format!("{}/securityContext/readOnlyRootFilesystem", c.pointer()),
                    Some(c.name()),
                    "readOnlyRootFilesystem=false is set explicitly; kept",
                );
                continue;
            }
            Some(true) => {} // already read-only; it may still lack /tmp and the env vars
            None => out.set_in(
                &c,
                "/securityContext/readOnlyRootFilesystem",
                json!(true),
                Control::HardenDefault,
                "a read-only root filesystem stops an attacker from changing the container's binaries",
            ),
        }
        if !mounts_at(&c, &tmp.mount_path) {
            let name = volume.get_or_insert_with(|| add_tmp_volume(pod, out, &tmp.name)).clone();
            out.append(
                &format!("{}/volumeMounts", c.pointer()),
                json!({"name": name, "mountPath": tmp.mount_path}),
                Control::HardenDefault,
                format!("a writable {} for apps that write temporary files under a read-only root", tmp.mount_path),
                Some(c.name()),
            );
        }
        for env in &settings.read_only_root_env {
            if !has_env(&c, &env.name) {
                out.append(
                    &format!("{}/env", c.pointer()),
                    json!({"name": env.name, "value": env.value}),
                    Control::HardenDefault,
                    format!("{}={} lets the runtime start with a read-only root filesystem", env.name, env.value),
                    Some(c.name()),
                );
            }
        }
    }
}

fn mounts_at(c: &Container, path: &str) -> bool {
    c.get("/volumeMounts").and_then(Value::as_array).is_some_and(|m| {
        m.iter().any(|v| {
            v.get("mountPath").and_then(Value::as_str).map(|p| p.trim_end_matches('/'))
                == Some(path.trim_end_matches('/'))
        })
    })
}

fn has_env(c: &Container, name: &str) -> bool {
    c.get("/env")
        .and_then(Value::as_array)
        .is_some_and(|e| e.iter().any(|v| v.get("name").and_then(Value::as_str) == Some(name)))
}

/// The emptyDir volume for /tmp: harden's own if the pod already has it
/// (an earlier run added it), else a new one under a name no other volume
/// uses.
fn add_tmp_volume(pod: &Pod, out: &mut PodPlan, base: &str) -> String {
    let ours = pod.get("/volumes").and_then(Value::as_array).is_some_and(|v| {
        v.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(base) && x.get("emptyDir").is_some())
    });
    if ours {
        return base.to_string();
    }
    let taken: Vec<String> = pod
        .get("/volumes")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(|x| x.get("name").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    let name = (1..)
        .map(|i| if i == 1 { base.to_string() } else { format!("{base}-{i}") })
        .find(|n| !taken.contains(n))
        .unwrap_or_default();
    out.append(
        "/volumes",
        json!({"name": name, "emptyDir": {}}),
        Control::HardenDefault,
        "an emptyDir to hold /tmp",
        None,
    );
    name
}
