//! `restrictedVolumes` (restricted, v1.0): only volume types that cannot reach
//! the node or arbitrary storage directly.
//!
//! Field: `spec.volumes[*]`. Allowed sources: configMap, csi, downwardAPI,
//! emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret.
//! Everything else (hostPath, nfs, iscsi, …) fails. Overrides `hostPathVolumes`.
//!
//! `image` was patched into upstream's single v1.0 revision in Kubernetes 1.33
//! rather than versioned, so it is allowed at every policy version.
//!
//! A volume with no source at all is defaulted to `emptyDir` by the API server
//! before admission sees it, so we allow it too (upstream fixture
//! `restricted/pass/restrictedvolumes0.yaml` has one).

use std::collections::BTreeSet;

use crate::pss::pod::{Pod, join_quote, obj, pluralize, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "restrictedVolumes",
    level: Level::Restricted,
    versions: &[VersionedCheck { since: 0, run: restricted_volumes_1_0, overrides: &["hostPathVolumes"] }],
};

const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The restricted sources in the order upstream's `switch` tests them; the
/// first match names the volume's type.
const RESTRICTED: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut findings = Vec::new();
    for v in pod.volumes() {
        if ALLOWED.iter().any(|k| obj(v, k).is_some()) {
            continue;
        }
        let kind = match RESTRICTED.iter().find(|k| obj(v, k).is_some()) {
            Some(kind) => *kind,
            // No recognised source: the API server would have defaulted it to emptyDir.
            None if !v.iter().any(|(k, val)| k != "name" && val.is_object()) => continue,
            None => "unknown",
        };
        let name = string_or_empty(v, "name");
        bad.push(name);
        types.insert(kind);
        findings.push(Finding::pod(format!("{kind} volume \"{name}\"")));
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Violation {
        reason: "restricted volume types".into(),
        detail: format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("restricted volume type", "restricted volume types", types.len()),
            join_quote(&types)
        ),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn allowed_sources() {
        let spec = json!({"volumes": [
            {"name": "a", "configMap": {"name": "c"}}, {"name": "b", "emptyDir": {}},
            {"name": "c", "image": {"reference": "r"}}, {"name": "d"},
            {"name": "e", "projected": {"sources": []}}]});
        assert!(restricted_volumes_1_0(&Pod::new(None, &spec)).is_none());
    }

    #[test]
    fn upstream_wording() {
        let spec = json!({"volumes": [{"name": "proc", "hostPath": {"path": "/proc"}}]});
        let v = restricted_volumes_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "restricted volume types");
        assert_eq!(v.detail, r#"volume "proc" uses restricted volume type "hostPath""#);
        assert_eq!(v.findings, [Finding::pod("hostPath volume \"proc\"")]);

        let spec = json!({"volumes": [
            {"name": "a", "nfs": {"server": "s", "path": "/"}}, {"name": "b", "hostPath": {"path": "/"}},
            {"name": "c", "nfs": {}}, {"name": "d", "someFutureType": {}}]});
        let v = restricted_volumes_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.detail, r#"volumes "a", "b", "c", "d" use restricted volume types "hostPath", "nfs", "unknown""#);
    }
}
