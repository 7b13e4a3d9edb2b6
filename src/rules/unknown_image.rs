//! `unknown-image`: say what harden does not know. A container whose image
//! no row of the image table matches is hardened on two assumptions — it
//! writes only /tmp and runs as any UID — which the report and the KRM
//! results state for each such container of a pod harden changes (a note),
//! so that someone checks it starts or adds a row (`--images`). The command
//! line sums these notes up in one line on stderr ([`image_of`] reads the
//! image back). It runs after every other rule, to know whether the pod
//! changes.
//!
//! An image read from its registry (`--resolve-images`) is known, with or
//! without a row of a table: its notes say instead what harden read (each
//! fact the registry gave, and for an image whose USER is not a UID, how to
//! set it by UID).

use crate::plan::pod::{Pod, PodPlan};

pub const ID: &str = "unknown-image";

const BEFORE: &str = "image ";
const AFTER: &str = " is not in harden's table: ";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    for c in pod.containers() {
        for line in c.row.map_or(&[][..], |row| row.registry_notes.as_slice()) {
            out.note(&c.pointer(), Some(c.name()), line.clone());
        }
    }
    // Neither assumption is made (baseline): nothing to say.
    let settings = &pod.profile;
    if settings.pod.run_as_user.is_none() && !settings.container.read_only_root_filesystem {
        return;
    }
    // Already hardened: nothing is assumed in this run.
    if out.changes.is_empty() {
        return;
    }
    let tmp = settings.container.tmp_volume.as_ref().map_or("/tmp", |t| t.mount_path.as_str());
    for c in pod.containers().iter().filter(|c| c.row.is_none()) {
        out.note(
            &c.pointer(),
            Some(c.name()),
            format!(
                "{BEFORE}{}{AFTER}assumed it writes only {tmp} and runs as any UID; check it starts, or add a row (`--images`)",
                c.image()
            ),
        );
    }
}

/// The image a note of this rule names.
pub fn image_of(message: &str) -> Option<&str> {
    message.strip_prefix(BEFORE)?.split_once(AFTER).map(|(image, _)| image)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_image_is_read_back_from_the_note() {
        let m = "image registry.corp/a:1 is not in harden's table: assumed it writes only /tmp and runs as any UID; …";
        assert_eq!(super::image_of(m), Some("registry.corp/a:1"));
        assert_eq!(super::image_of("readOnlyRootFilesystem=false is set explicitly; kept"), None);
    }
}
