//! `read-only-root-filesystem` (harden default, not a Pod Security control):
//! `readOnlyRootFilesystem: true`, with an emptyDir mounted at /tmp so apps
//! that write temporary files keep working (unless something is already
//! mounted there), one more at every path the image's row says it writes
//! (`/var/cache/nginx`, a database's data directory…) that no volume
//! covers yet, and the profile's extra env vars (the dotnet profile's
//! `DOTNET_EnableDiagnostics=0`). An explicit `false` is the owner's
//! choice: kept and reported.
//!
//! A data directory that gets an emptyDir had no volume before: its data
//! lived in the container's writable layer, lost on every restart. The
//! emptyDir keeps it across container restarts but not beyond the pod, so
//! harden says so and names the fix (a PersistentVolumeClaim). A path the
//! image writes that a read-only volume covers means the container will
//! not start.
//!
//! Some paths the image writes cannot be an emptyDir (`emptyDir: false` in
//! the row: its config directory, which an empty directory would hide):
//! unless a volume of the owner's covers them, the root stays writable
//! (this is a harden default, not a Pod Security control) and the report
//! says why; where the owner made the root read-only already, the
//! container is reported as not starting.

use super::writable::{self, Mount};
use crate::images::ImageRow;
use crate::images::row::Writable;
use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "read-only-root-filesystem";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it: nothing to do.
    let settings = &pod.profile.container;
    let (true, Some(tmp)) = (settings.read_only_root_filesystem, settings.tmp_volume.as_ref()) else { return };
    let mut tmp_volume: Option<String> = None;
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
        // Paths the image writes that an emptyDir would hide and no volume covers.
        let mounts = writable::mounts(&out.planned, &c);
        let unmountable: Vec<&Writable> = c.row.map_or_else(Vec::new, |row| {
            writable::written(row, &mounts)
                .filter(|w| !w.empty_dir && writable::covering(&mounts, &w.path).is_none())
                .collect()
        });
        let read_only = c.get("/securityContext/readOnlyRootFilesystem").and_then(Value::as_bool);
        match (read_only, c.row) {
            (Some(false), _) => {
                // Weaker than the profile asks, and the owner's: kept, and said on stderr.
                out.warn(
                    &format!("{}/securityContext/readOnlyRootFilesystem", c.pointer()),
                    Some(c.name()),
                    "readOnlyRootFilesystem=false is set explicitly; kept",
                );
                continue;
            }
            (None, Some(row)) if !unmountable.is_empty() => {
                out.note(
                    &format!("{}/securityContext", c.pointer()),
                    Some(c.name()),
                    format!(
                        "readOnlyRootFilesystem not set: row {} says the image writes {}, where an emptyDir would hide \
                         the image's own files",
                        row.family,
                        described(&unmountable)
                    ),
                );
                continue;
            }
            (Some(true), Some(row)) => {
                for w in &unmountable {
                    out.will_not_start(
                        &c,
                        &format!(
                            "row {} says the image writes {} ({}), and the root filesystem is read-only",
                            row.family, w.path, w.why
                        ),
                        &format!(
                            "set readOnlyRootFilesystem: false on this container, or mount a writable volume at {} \
                             holding the image's files there",
                            w.path
                        ),
                    );
                }
            }
            (Some(true), None) => {} // already read-only; it may still lack /tmp and the env vars
            (None, _) => out.set_in(
                &c,
                "/securityContext/readOnlyRootFilesystem",
                json!(true),
                Control::HardenDefault,
                "a read-only root filesystem stops an attacker from changing the container's binaries",
            ),
        }
        let mut mounts = mounts;
        if writable::covering(&mounts, &tmp.mount_path).is_none() {
            let name = tmp_volume.get_or_insert_with(|| add_tmp_volume(pod, out, &tmp.name)).clone();
            out.append(
                &format!("{}/volumeMounts", c.pointer()),
                json!({"name": name, "mountPath": tmp.mount_path}),
                Control::HardenDefault,
                format!("a writable {} for apps that write temporary files under a read-only root", tmp.mount_path),
                Some(c.name()),
            );
            mounts.push(Mount {
                path: tmp.mount_path.trim_end_matches('/').to_string(),
                volume: name,
                read_only: false,
            });
        }
        if let Some(row) = c.row {
            for w in writable::written(row, &mounts.clone()) {
                make_writable(out, &c, row, w, &mut mounts);
            }
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

/// A path the image writes: covered by a writable mount already, or given
/// an emptyDir of its own; a read-only mount there means it will not start.
/// `mounts` are the container's, as planned so far.
fn make_writable(out: &mut PodPlan, c: &Container, row: &ImageRow, w: &Writable, mounts: &mut Vec<Mount>) {
    match writable::covering(mounts, &w.path) {
        // A path the image writes under a read-only volume; one that needs
        // the image's own files (`emptyDir: false`) the owner provides.
        // A read-only volume of the owner's over a path written only next to
        // another mount (nginx's templates) was read-only before: unchanged.
        Some(Mount { read_only: true, path, volume }) if w.empty_dir && w.when_mounted.is_none() => {
            let (path, volume) = (path.clone(), volume.clone());
            out.will_not_start(
                c,
                &format!(
                    "row {} says the image writes {} ({}), but volume {volume} is mounted read-only at {path}",
                    row.family, w.path, w.why
                ),
                &format!("mount a writable volume at {} (an emptyDir) or mount {volume} elsewhere", w.path),
            );
        }
        Some(m) => {
            if w.data && writable::is_ours(&out.planned, &m.volume) {
                let volume = m.volume.clone();
                ephemeral(out, c, row, w, &volume);
            }
        }
        None if !w.empty_dir => {} // decided with readOnlyRootFilesystem
        None => {
            let name = writable::free_name(&out.planned, &writable::volume_name(&w.path));
            out.append(
                "/volumes",
                json!({"name": name, "emptyDir": {}}),
                Control::HardenDefault,
                format!("an emptyDir to hold {}", w.path),
                None,
            );
            out.append(
                &format!("{}/volumeMounts", c.pointer()),
                json!({"name": name, "mountPath": w.path}),
                Control::HardenDefault,
                format!("row {} says the image writes {}: {}", row.family, w.path, w.why),
                Some(c.name()),
            );
            if w.data {
                ephemeral(out, c, row, w, &name);
            }
            mounts.push(Mount { path: w.path.clone(), volume: name, read_only: false });
        }
    }
}

/// The data directory is on harden's emptyDir: say it lasts only as long
/// as the pod, and how to keep it. An init container runs to completion
/// before the workload starts: it keeps no data of the workload's.
fn ephemeral(out: &mut PodPlan, c: &Container, row: &ImageRow, w: &Writable, volume: &str) {
    if c.list != "containers" {
        return;
    }
    out.warn(
        &c.pointer(),
        Some(c.name()),
        format!(
            "row {} keeps its data in {} ({}); it is on the emptyDir {volume}, which lives only as long as the pod \
             (without a volume it was in the container's writable layer, lost on every restart): to keep the data, \
             mount a PersistentVolumeClaim at {} (volumeClaimTemplates for a StatefulSet)",
            row.family, w.path, w.why, w.path
        ),
    );
}

/// `/a (why), /b (why)`.
fn described(paths: &[&Writable]) -> String {
    paths.iter().map(|w| format!("{} ({})", w.path, w.why)).collect::<Vec<_>>().join(", ")
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
    let name = writable::free_name(&out.planned, base);
    out.append(
        "/volumes",
        json!({"name": name, "emptyDir": {}}),
        Control::HardenDefault,
        "an emptyDir to hold /tmp",
        None,
    );
    name
}
