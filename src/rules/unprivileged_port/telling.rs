//! How a container's app is told that a privileged port moved: as the
//! image's row says (`ports` in `data/images.yaml`: a variable, a flag, a
//! config file, or not at all), else by the forms harden knows
//! ([`super::listen_config`]). A flag is only ever rewritten where the
//! command line has it: adding `args` to a container that has none
//! replaces the image's own command, which breaks it.

use super::listen_config::{self, Edit, env_index};
use super::{LowPort, NO_KNOWN_SETTING, Why, moved};
use crate::images::row::PortSetting;
use crate::pointer::Pointer;
use serde_json::{Value, json};

/// How the app of a container learns its new port.
#[derive(Clone, Debug, PartialEq)]
pub enum Telling {
    /// These edits to the container tell it.
    Edits(Vec<Edit>),
    /// It reads the port from a config file that a ConfigMap volume
    /// provides: whether that ConfigMap is in the stream, and what its
    /// text says, the stream decides.
    Config(MountedConfig),
    /// It cannot be told, and why; `fix`: what the owner can do, where
    /// harden knows; `source`: the row's source.
    Untold { why: Why, fix: Option<String>, source: Option<String> },
}

/// The config file an image's row says its port is in, as a pod mounts it
/// from a ConfigMap.
#[derive(Clone, Debug, PartialEq)]
pub struct MountedConfig {
    pub configmap: String,
    /// The keys that become files of the image's config: the one mounted
    /// at the file by `subPath`, those listed in the volume's `items`, or
    /// (`None`) every key of the ConfigMap.
    pub keys: Option<Vec<String>>,
    pub path: String,
    pub directive: String,
    pub family: String,
    pub source: String,
}

/// How the app of the container of port `l` (in pod spec `spec`) is told
/// that its ports moved by `moves`.
pub fn telling(spec: &Value, l: &LowPort, moves: &[(u64, u64)]) -> Telling {
    let container = spec.at(&l.container).unwrap_or(&Value::Null);
    let Some(row) = l.row else { return known_forms(container, moves) };
    let (family, source, old) = (row.family, &row.fact.source, l.port);
    let Some(new) = moved(old, moves) else { return Telling::Edits(Vec::new()) };
    let untold =
        |why: String, fix: Option<String>| Telling::Untold { why: why.into(), fix, source: Some(source.clone()) };
    match &row.fact.how {
        PortSetting::Env(name) => match env_index(container, name) {
            Some(i) if container.at(&format!("/env/{i}/valueFrom")).is_some() => untold(
                format!(
                    "row {family} says {name} sets its port, and the container takes {name} from elsewhere (valueFrom)"
                ),
                Some(format!("set {name} to {new}")),
            ),
            Some(i) => Telling::Edits(vec![Edit::Set {
                pointer: format!("/env/{i}/value"),
                value: json!(new.to_string()),
                reason: format!("row {family}: {name} sets the listening port ({source})"),
            }]),
            None => Telling::Edits(vec![Edit::AppendEnv {
                name: name.clone(),
                value: new.to_string(),
                reason: format!("row {family}: {name} sets the listening port ({source})"),
            }]),
        },
        PortSetting::Flag(flag) => {
            let edits = listen_config::flags_named(container, &[flag.as_str()], &[(old, new)]);
            if edits.is_empty() {
                return untold(
                    format!(
                        "row {family} says {flag} sets its port, and its command line has no {flag} (harden adds \
                         no args: they would replace the image's own command)"
                    ),
                    Some(format!("give it {flag} with port {new}")),
                );
            }
            let reason = format!("row {family}: {flag} sets the listening port ({source})");
            Telling::Edits(edits.into_iter().map(|e| with_reason(e, &reason)).collect())
        }
        PortSetting::Config { path, directive } => match mounted_config(spec, container, path) {
            Some((configmap, keys)) => Telling::Config(MountedConfig {
                configmap,
                keys,
                path: path.clone(),
                directive: directive.clone(),
                family: family.to_string(),
                source: source.clone(),
            }),
            None => untold(
                format!(
                    "row {family} says the image reads port {old} from `{directive}` in {path}, which is not in this stream"
                ),
                Some(format!("change the port of `{directive}` in {path} from {old} to {new}")),
            ),
        },
        PortSetting::Fixed => untold(format!("row {family} says the image cannot be told another port"), None),
    }
}

/// The forms harden knows without a row: ASP.NET Core's variables, port
/// flags, `PORT`-style variables.
fn known_forms(container: &Value, moves: &[(u64, u64)]) -> Telling {
    let mut edits = Vec::new();
    if listen_config::is_aspnet(container) {
        edits.extend(listen_config::aspnet(container, moves));
    }
    edits.extend(listen_config::flags(container, moves));
    edits.extend(listen_config::port_env(container, moves));
    if edits.is_empty() {
        // Borrowed: most pods of a stream are such; no allocation for each.
        Telling::Untold { why: NO_KNOWN_SETTING.into(), fix: None, source: None }
    } else {
        Telling::Edits(edits)
    }
}

/// Whether the container already sets what the row says tells the app
/// its port (the variable, the flag): then it listens where that says, and
/// the row's default port is not one it listens on.
pub fn set_by_container(container: &Value, how: &PortSetting) -> bool {
    match how {
        PortSetting::Env(name) => env_index(container, name).is_some(),
        PortSetting::Flag(flag) => ["command", "args"].iter().any(|list| {
            let items = container.get(*list).and_then(Value::as_array).into_iter().flatten();
            items.filter_map(Value::as_str).any(|s| s == flag || s.split_once('=').is_some_and(|(f, _)| f == flag))
        }),
        PortSetting::Config { .. } | PortSetting::Fixed => false,
    }
}

fn with_reason(e: Edit, reason: &str) -> Edit {
    match e {
        Edit::Set { pointer, value, .. } => Edit::Set { pointer, value, reason: reason.to_string() },
        Edit::AppendEnv { name, value, .. } => Edit::AppendEnv { name, value, reason: reason.to_string() },
    }
}

/// The ConfigMap that provides the file at `path` in `container`, and
/// which of its keys become the image's config files there: a `subPath`
/// mount of one key at the file itself, or a mount of the whole ConfigMap
/// at a directory above it (the deepest mount over the path is what the
/// container sees). `None` where no ConfigMap volume is mounted over it.
pub fn mounted_config(spec: &Value, container: &Value, path: &str) -> Option<(String, Option<Vec<String>>)> {
    let mounts = container.get("volumeMounts").and_then(Value::as_array).into_iter().flatten();
    let over = |m: &&Value| {
        let at = m.get("mountPath").and_then(Value::as_str).unwrap_or("").trim_end_matches('/');
        let sub = m.get("subPath").and_then(Value::as_str).filter(|s| !s.is_empty());
        !at.is_empty() && (at == path || sub.is_none() && path.strip_prefix(at).is_some_and(|r| r.starts_with('/')))
    };
    let depth = |m: &&Value| m.get("mountPath").and_then(Value::as_str).map_or(0, |p| p.trim_end_matches('/').len());
    let mount = mounts.filter(over).max_by_key(depth)?;
    let volume = mount.get("name").and_then(Value::as_str)?;
    let volumes = spec.get("volumes").and_then(Value::as_array).into_iter().flatten();
    let configmap =
        volumes.filter(|v| v.get("name").and_then(Value::as_str) == Some(volume)).find_map(|v| v.get("configMap"))?;
    let name = configmap.get("name").and_then(Value::as_str)?.to_string();
    let items = configmap.get("items").and_then(Value::as_array);
    let key_of = |item: &Value| item.get("key").and_then(Value::as_str).map(str::to_string);
    let keys = match (mount.get("subPath").and_then(Value::as_str).filter(|s| !s.is_empty()), items) {
        (Some(sub), Some(items)) => {
            let item = items.iter().find(|i| i.get("path").and_then(Value::as_str) == Some(sub))?;
            Some(vec![key_of(item)?])
        }
        (Some(sub), None) => Some(vec![sub.to_string()]),
        (None, Some(items)) => Some(items.iter().filter_map(key_of).collect()),
        (None, None) => None,
    };
    Some((name, keys))
}

/// The ConfigMaps a pod spec's volumes take files from (projected ones too).
pub fn configmaps_used(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for v in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        out.extend(v.at("/configMap/name").and_then(Value::as_str).map(str::to_string));
        let sources = v.at("/projected/sources").and_then(Value::as_array).into_iter().flatten();
        out.extend(sources.filter_map(|s| s.at("/configMap/name").and_then(Value::as_str)).map(str::to_string));
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(mount: Value, volume: Value) -> (Value, Value) {
        let container = json!({"name": "web", "volumeMounts": [mount]});
        let spec = json!({"containers": [container.clone()], "volumes": [volume]});
        (spec, container)
    }

    #[test]
    fn a_configmap_mounted_at_the_file_or_above_it_provides_the_config() {
        let file = "/etc/nginx/conf.d/default.conf";
        let cm = |items: Option<Value>| {
            let mut v = json!({"name": "conf", "configMap": {"name": "web-conf"}});
            if let Some(items) = items {
                v["configMap"]["items"] = items;
            }
            v
        };
        let (spec, c) = pod(json!({"name": "conf", "mountPath": file, "subPath": "default.conf"}), cm(None));
        assert_eq!(mounted_config(&spec, &c, file), Some(("web-conf".into(), Some(vec!["default.conf".into()]))));
        let (spec, c) = pod(json!({"name": "conf", "mountPath": "/etc/nginx/conf.d/"}), cm(None));
        assert_eq!(mounted_config(&spec, &c, file), Some(("web-conf".into(), None)));
        let items = json!([{"key": "site", "path": "default.conf"}]);
        let (spec, c) = pod(json!({"name": "conf", "mountPath": file, "subPath": "default.conf"}), cm(Some(items)));
        assert_eq!(mounted_config(&spec, &c, file), Some(("web-conf".into(), Some(vec!["site".into()]))));
        // A subPath mount elsewhere, a sibling directory, or a volume that is no ConfigMap.
        let (spec, c) = pod(json!({"name": "conf", "mountPath": "/etc/nginx/conf.d", "subPath": "x"}), cm(None));
        assert_eq!(mounted_config(&spec, &c, file), None);
        let (spec, c) = pod(json!({"name": "conf", "mountPath": "/etc/nginx/conf"}), cm(None));
        assert_eq!(mounted_config(&spec, &c, file), None);
        let (spec, c) =
            pod(json!({"name": "conf", "mountPath": "/etc/nginx"}), json!({"name": "conf", "emptyDir": {}}));
        assert_eq!(mounted_config(&spec, &c, file), None);
    }
}
