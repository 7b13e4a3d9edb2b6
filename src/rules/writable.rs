//! What a read-only root filesystem leaves writable: the container's volume
//! mounts, which mount covers a path, and the emptyDir volumes harden adds
//! (named after the path: `harden-tmp`, `harden-var-cache-nginx`).

use crate::images::row::{ImageRow, Writable};
use crate::plan::pod::Container;
use serde_json::Value;

/// Volume types the kubelet always mounts read-only.
const READ_ONLY_TYPES: [&str; 5] = ["configMap", "secret", "downwardAPI", "projected", "image"];

/// One volume mount of a container.
#[derive(Clone, Debug)]
pub struct Mount {
    pub path: String,
    pub volume: String,
    pub read_only: bool,
}

/// The container's mounts as the plan stands (`planned` is the pod spec).
pub fn mounts(planned: &Value, c: &Container) -> Vec<Mount> {
    let pod_volumes = planned.get("volumes").and_then(Value::as_array);
    let read_only_volume = |name: &str| {
        pod_volumes.is_some_and(|vs| {
            vs.iter().any(|v| {
                v.get("name").and_then(Value::as_str) == Some(name)
                    && READ_ONLY_TYPES.iter().any(|t| v.get(*t).is_some())
            })
        })
    };
    let list = planned.get(c.list).and_then(|l| l.get(c.index)).and_then(|c| c.get("volumeMounts"));
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let path = m.get("mountPath").and_then(Value::as_str)?;
            let volume = m.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let read_only = m.get("readOnly").and_then(Value::as_bool) == Some(true) || read_only_volume(&volume);
            Some(Mount { path: path.trim_end_matches('/').to_string(), volume, read_only })
        })
        .collect()
}

/// The mount that holds `path`: at the path or the nearest parent, on
/// whole components.
pub fn covering<'m>(mounts: &'m [Mount], path: &str) -> Option<&'m Mount> {
    mounts
        .iter()
        .filter(|m| path == m.path || path.strip_prefix(m.path.as_str()).is_some_and(|rest| rest.starts_with('/')))
        .max_by_key(|m| m.path.len())
}

/// The paths of `row` that this container writes: all but those written
/// only where a volume is mounted (`whenMounted`) that is not.
pub fn written<'r>(row: &'r ImageRow, mounts: &[Mount]) -> impl Iterator<Item = &'r Writable> {
    let mounted = |path: &str| {
        let path = path.trim_end_matches('/');
        mounts.iter().any(|m| m.path == path || m.path.strip_prefix(path).is_some_and(|rest| rest.starts_with('/')))
    };
    row.writable.iter().filter(move |w| w.when_mounted.as_deref().is_none_or(mounted))
}

/// `harden-` and the path's components: `/var/cache/nginx` →
/// `harden-var-cache-nginx` (a DNS label: at most 63 characters).
pub fn volume_name(path: &str) -> String {
    let mut name = String::from("harden");
    for c in path.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// Whether `name` is an emptyDir that harden added (an earlier run).
pub fn is_ours(planned: &Value, name: &str) -> bool {
    name.starts_with("harden-")
        && planned.get("volumes").and_then(Value::as_array).is_some_and(|vs| {
            vs.iter().any(|v| v.get("name").and_then(Value::as_str) == Some(name) && v.get("emptyDir").is_some())
        })
}

/// A name for a new emptyDir: `base`, else `base-2`, `base-3`, … whichever
/// no volume of the pod has yet.
pub fn free_name(planned: &Value, base: &str) -> String {
    let taken: Vec<&str> = planned
        .get("volumes")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter_map(|v| v.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    (1..)
        .map(|i| if i == 1 { base.to_string() } else { format!("{base}-{i}") })
        .find(|n| !taken.contains(&n.as_str()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_the_path() {
        assert_eq!(volume_name("/tmp"), "harden-tmp");
        assert_eq!(volume_name("/var/cache/nginx"), "harden-var-cache-nginx");
        assert_eq!(volume_name("/usr/local/apache2/logs"), "harden-usr-local-apache2-logs");
        assert_eq!(volume_name("/opt/bitnami/redis/etc"), "harden-opt-bitnami-redis-etc");
        assert_eq!(volume_name("/Data_Dir/x.y"), "harden-data-dir-x-y");
        assert!(volume_name(&"/abc".repeat(40)).len() <= 63);
    }

    #[test]
    fn the_nearest_covering_mount_wins() {
        let m = |path: &str, ro: bool| Mount { path: path.into(), volume: path.into(), read_only: ro };
        let mounts = [m("/var", false), m("/var/cache", true), m("/var/cache/nginx-x", false)];
        assert_eq!(covering(&mounts, "/var/cache/nginx").map(|m| m.path.as_str()), Some("/var/cache"));
        assert_eq!(covering(&mounts, "/var/run").map(|m| m.path.as_str()), Some("/var"));
        assert!(covering(&mounts, "/variable").is_none(), "whole components only");
        assert!(covering(&mounts, "/run").is_none());
    }
}
