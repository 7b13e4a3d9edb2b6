//! `image-env`: the environment variables an image's row says it needs
//! under harden's settings, set where the container does not set them
//! already (never over the owner's value, nor where an `envFrom` source may
//! hold it).
//!
//! A variable marked `onlyWithAddedVolume` (postgres before 18: `PGDATA` one
//! level below the data volume, so initdb creates a directory it owns) is
//! set only where the data directory is harden's own emptyDir: a volume of
//! the owner's there may hold a database at its root, which moving PGDATA
//! would hide behind a new, empty one. There harden says what a new volume
//! needs instead.

use super::writable;
use crate::images::row::EnvFact;
use crate::plan::change::Control;
use crate::plan::pod::{Container, Pod, PodPlan};
use crate::pointer::Pointer;
use serde_json::{Value, json};

pub const ID: &str = "image-env";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // Nothing runs as another user (baseline): the image's defaults hold.
    if !pod.profile.pod.run_as_non_root {
        return;
    }
    for c in pod.containers() {
        let Some(row) = c.row else { continue };
        for e in &row.env {
            if has_env(out, &c, &e.name) {
                continue; // the owner's value (or the profile's) stands
            }
            if let Some(path) = &e.only_with_added_volume
                && !on_our_volume(out, &c, path, e)
            {
                continue;
            }
            if c.get("/envFrom").and_then(Value::as_array).is_some_and(|l| !l.is_empty()) {
                out.note(
                    &format!("{}/envFrom", c.pointer()),
                    Some(c.name()),
                    format!(
                        "row {} needs {}={} ({}); not set, because envFrom may set it: check it does",
                        row.family, e.name, e.value, e.why
                    ),
                );
                continue;
            }
            out.append(
                &format!("{}/env", c.pointer()),
                json!({"name": e.name, "value": e.value}),
                Control::HardenDefault,
                format!("row {} needs {}={}: {}", row.family, e.name, e.value, e.why),
                Some(c.name()),
            );
        }
    }
}

/// Whether `path` is mounted from harden's own emptyDir; where the owner's
/// volume holds it instead, say what a new one needs.
fn on_our_volume(out: &mut PodPlan, c: &Container, path: &str, e: &EnvFact) -> bool {
    let mounts = writable::mounts(&out.planned, c);
    match writable::covering(&mounts, path) {
        Some(m) if m.path == path && writable::is_ours(&out.planned, &m.volume) => true,
        Some(m) => {
            let (volume, at) = (m.volume.clone(), m.path.clone());
            out.warn(
                &c.pointer(),
                Some(c.name()),
                format!(
                    "{} is left as it is: volume {volume} mounted at {at} may already hold the data where the image \
                     expects it; if the volume is new, set {}={} yourself ({})",
                    e.name, e.name, e.value, e.why
                ),
            );
            false
        }
        None => false, // the image's own directory, writable as it is
    }
}

/// Whether the container (as planned) sets `name` in `env`.
fn has_env(out: &PodPlan, c: &Container, name: &str) -> bool {
    out.planned
        .at(&format!("{}/env", c.pointer()))
        .and_then(Value::as_array)
        .is_some_and(|e| e.iter().any(|v| v.get("name").and_then(Value::as_str) == Some(name)))
}
