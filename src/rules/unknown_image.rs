//! `unknown-image`: say what harden does not know. A container whose image
//! no row of the image table matches is hardened on two assumptions — it
//! writes only /tmp and runs as any UID — which the report and the KRM
//! results state for each such container of a pod harden changes (a note),
//! so that someone checks it starts or adds a row (`--images`). A row that
//! says `writesUnknown` (a base image such as python or distroless: the
//! application built on it decides what it writes) leaves the first
//! assumption, which is said the same way. The command line sums these
//! notes up in a line on stderr for each kind ([`unknown_of`] reads the
//! image back). It runs after every other rule, to know whether the pod
//! changes.
//!
//! An image read from its registry (`--resolve-images`) is known, with or
//! without a row of a table (unless its row says `writesUnknown`): its notes
//! say instead what harden read (each fact the registry gave, and for an
//! image whose USER is not a UID, how to set it by UID).

use crate::plan::pod::{Pod, PodPlan};

pub const ID: &str = "unknown-image";

const BEFORE: &str = "image ";
const AFTER: &str = " is not in harden's table: ";
const AFTER_ROW: &str = " is in harden's table without what it writes (row ";

/// What a note of this rule says harden does not know about an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// No row matches it.
    Image,
    /// Its row says what it runs as, not what it writes.
    Writes,
}

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
    for c in pod.containers() {
        let message = match c.row {
            None => format!(
                "{BEFORE}{}{AFTER}assumed it writes only {tmp} and runs as any UID; check it starts, or add a row (`--images`)",
                c.image()
            ),
            Some(row) if row.writes_unknown && settings.container.read_only_root_filesystem => format!(
                "{BEFORE}{}{AFTER_ROW}{}): assumed it writes only {tmp}; check it starts, or add a row of your own \
                 (`--images`)",
                c.image(),
                row.family
            ),
            Some(_) => continue,
        };
        out.note(&c.pointer(), Some(c.name()), message);
    }
}

/// The image a note of this rule names, and what harden does not know of it.
pub fn unknown_of(message: &str) -> Option<(Unknown, &str)> {
    let rest = message.strip_prefix(BEFORE)?;
    if let Some((image, _)) = rest.split_once(AFTER) {
        return Some((Unknown::Image, image));
    }
    rest.split_once(AFTER_ROW).map(|(image, _)| (Unknown::Writes, image))
}

#[cfg(test)]
mod tests {
    use super::Unknown;

    #[test]
    fn the_image_is_read_back_from_the_note() {
        let m = "image registry.corp/a:1 is not in harden's table: assumed it writes only /tmp and runs as any UID; …";
        assert_eq!(super::unknown_of(m), Some((Unknown::Image, "registry.corp/a:1")));
        let m = "image python:3.12 is in harden's table without what it writes (row python): …";
        assert_eq!(super::unknown_of(m), Some((Unknown::Writes, "python:3.12")));
        assert_eq!(super::unknown_of("readOnlyRootFilesystem=false is set explicitly; kept"), None);
    }
}
