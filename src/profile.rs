//! Profiles: what "hardened" means, as data (`profiles/*.yaml`, embedded in
//! the binary; `--profile NAME|FILE`). A profile is validated up front, so a
//! typo is a full-sentence error before any manifest is read.

use crate::pss::Level;
use crate::workload::KindRow;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The profiles shipped with harden, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("restricted", include_str!("../profiles/restricted.yaml")),
    ("baseline", include_str!("../profiles/baseline.yaml")),
    ("dotnet", include_str!("../profiles/dotnet.yaml")),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    #[serde(deserialize_with = "level")]
    pub level: Level,
    #[serde(default)]
    pub pod: PodSettings,
    #[serde(default)]
    pub container: ContainerSettings,
    #[serde(default)]
    pub resources: Option<ResourceSettings>,
    /// How privileged ports (80, 443) are handled for non-root pods.
    #[serde(default)]
    pub ports: Option<PortSettings>,
    /// Extra workload kinds, added to the built-in table.
    #[serde(default)]
    pub workloads: Vec<KindRow>,
    /// Whether the rules run: false for `harden check` ([`Profile::checking`]).
    #[serde(skip_deserializing, default = "yes")]
    pub fixes: bool,
}

fn yes() -> bool {
    true
}

/// What the port pass (`crate::ports`) does with privileged ports (80/443)
/// of non-root pods.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Move where the app can be told the new port, else allow the bind.
    #[default]
    Auto,
    /// Move every privileged port.
    Move,
    /// Keep ports; allow non-root binds with the pod sysctl.
    Sysctl,
    /// Leave ports alone; only report.
    Keep,
}

/// The profile's `ports:` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSettings {
    #[serde(default)]
    pub strategy: Strategy,
    /// Old port → new port, e.g. {"80": 8080, "443": 8443}.
    pub map: BTreeMap<String, u64>,
}

impl PortSettings {
    /// The map as (old, new) pairs.
    pub fn moves(&self) -> Vec<(u64, u64)> {
        self.map.iter().filter_map(|(k, v)| k.parse().ok().map(|o| (o, *v))).collect()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSettings {
    #[serde(default)]
    pub run_as_non_root: bool,
    /// The UID for images whose row in the image table names no user of their own.
    pub run_as_user: Option<u64>,
    #[serde(default)]
    pub run_as_group: bool,
    #[serde(default)]
    pub fs_group: bool,
    pub fs_group_change_policy: Option<String>,
    pub seccomp_profile: Option<String>,
    pub automount_service_account_token: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSettings {
    pub allow_privilege_escalation: Option<bool>,
    #[serde(default)]
    pub drop_all_capabilities: bool,
    #[serde(default)]
    pub read_only_root_filesystem: bool,
    pub tmp_volume: Option<TmpVolume>,
    #[serde(default)]
    pub read_only_root_env: Vec<EnvVar>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TmpVolume {
    pub mount_path: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSettings {
    #[serde(default)]
    pub requests: Map<String, Value>,
    #[serde(default)]
    pub limits: Map<String, Value>,
}

fn level<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
    match String::deserialize(d)?.as_str() {
        "restricted" => Ok(Level::Restricted),
        "baseline" => Ok(Level::Baseline),
        other => Err(serde::de::Error::custom(format!("level must be \"restricted\" or \"baseline\", not {other:?}"))),
    }
}

impl Profile {
    /// A built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, String> {
        let text = match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            Some((_, text)) => text.to_string(),
            None if Path::new(name_or_path).exists() => std::fs::read_to_string(name_or_path)
                .map_err(|e| format!("The profile file {name_or_path} cannot be read: {e}."))?,
            None => {
                let names: Vec<_> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "There is no built-in profile named {name_or_path:?} and no such file; built-in profiles are {}.",
                    names.join(", ")
                ));
            }
        };
        Self::from_text(&text, name_or_path)
    }

    /// The profile `harden check` plans with: the same workload kinds,
    /// level `level`, and no rule and no port change, so that it sees
    /// every pod as hardening does (opt-outs and exceptions included) and
    /// reports what Pod Security rejects of it as written.
    pub fn checking(mut self, level: Level) -> Profile {
        self.level = level;
        self.fixes = false;
        self.ports = None;
        self
    }

    /// Parse and validate a profile; `extends: NAME` starts from a built-in.
    pub fn from_text(text: &str, origin: &str) -> Result<Profile, String> {
        let mut value = crate::yaml::parse_values(text)
            .map_err(|e| format!("The profile {origin} is not valid YAML: {e}."))?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        if value.get("imageUsers").is_some() {
            return Err(format!(
                "The profile {origin} has `imageUsers`; what harden knows about images is in image tables now: \
                 make each entry a row of an --images file (`{{family: NAME, match: [REPOSITORY], user: {{uid: UID, source: URL}}}}`)."
            ));
        }
        if let Some(base) = value.as_object_mut().and_then(|m| m.remove("extends")) {
            let base_name =
                base.as_str().ok_or_else(|| format!("In profile {origin}, `extends` must be a profile name."))?;
            let (_, base_text) = BUILT_IN
                .iter()
                .find(|(n, _)| *n == base_name)
                .ok_or_else(|| format!("Profile {origin} extends {base_name:?}, which is not a built-in profile."))?;
            let mut merged = crate::yaml::parse_values(base_text)
                .map_err(|e| format!("built-in profile {base_name}: {e}"))?
                .into_iter()
                .next()
                .unwrap_or(Value::Null);
            deep_merge(&mut merged, value);
            value = merged;
        }
        let profile: Profile =
            serde_json::from_value(value).map_err(|e| format!("The profile {origin} is not valid: {e}."))?;
        profile.validate(origin)?;
        Ok(profile)
    }

    /// Reject settings that contradict each other or the API.
    fn validate(&self, origin: &str) -> Result<(), String> {
        if self.pod.run_as_user == Some(0) {
            return Err(format!("Profile {origin} sets pod.runAsUser to 0, which is root; pick a non-zero UID."));
        }
        if let Some(s) = &self.pod.seccomp_profile
            && !matches!(s.as_str(), "RuntimeDefault" | "Localhost")
        {
            return Err(format!("Profile {origin} sets pod.seccompProfile to {s:?}; use RuntimeDefault."));
        }
        if self.container.read_only_root_filesystem && self.container.tmp_volume.is_none() {
            return Err(format!(
                "Profile {origin} makes root filesystems read-only without container.tmpVolume; most apps then fail to write /tmp."
            ));
        }
        if let Some(r) = &self.resources {
            for (section, map) in [("requests", &r.requests), ("limits", &r.limits)] {
                for (k, v) in map {
                    let ok = v.as_str().is_some_and(|s| crate::quantity::parse(s).is_some());
                    if !ok {
                        return Err(format!(
                            "Profile {origin}: resources.{section}.{k} must be a quantity such as \"100m\" or \"128Mi\", not {v}."
                        ));
                    }
                }
            }
        }
        if self.level == Level::Baseline && self.pod.run_as_non_root {
            return Err(format!(
                "Profile {origin} is at baseline level but asks for runAsNonRoot; use level: restricted."
            ));
        }
        Ok(())
    }

    /// The workload kinds this profile hardens: the built-in table plus the
    /// profile's own `workloads:` rows.
    pub fn kinds(&self) -> Vec<KindRow> {
        let mut kinds = crate::workload::built_in_kinds();
        kinds.extend(self.workloads.iter().cloned());
        kinds
    }
}

/// Merge `over` into `base`: mappings key by key, anything else replaced.
fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => deep_merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// `*` matches any run of characters (including `/` and `:`); everything else literally.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_loads() {
        for (name, _) in BUILT_IN {
            let p = Profile::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&p.name, name);
        }
        assert_eq!(Profile::load("dotnet").expect("dotnet").pod.run_as_user, Some(1654));
    }

    #[test]
    fn unknown_fields_are_full_sentence_errors() {
        let e =
            Profile::from_text("name: x\nlevel: restricted\npod: {runAsNonRot: true}\n", "x.yaml").expect_err("typo");
        assert!(e.starts_with("The profile x.yaml is not valid: unknown field `runAsNonRot`"), "{e}");
    }

    #[test]
    fn image_users_moved_to_the_image_table() {
        let e = Profile::from_text("name: x\nlevel: restricted\nimageUsers: [{image: a, uid: 5}]\n", "x.yaml")
            .expect_err("moved");
        assert!(e.contains("make each entry a row of an --images file"), "{e}");
    }

    #[test]
    fn contradictions_are_rejected() {
        let e = Profile::from_text("name: x\nlevel: restricted\npod: {runAsUser: 0}\n", "x").expect_err("root");
        assert!(e.contains("which is root"), "{e}");
    }

    #[test]
    fn globs_match_whole_references() {
        assert!(glob_match("mcr.microsoft.com/dotnet/*", "mcr.microsoft.com/dotnet/aspnet:8.0"));
        assert!(glob_match("gcr.io/distroless/*:nonroot", "gcr.io/distroless/static:nonroot"));
        assert!(!glob_match("gcr.io/distroless/*:nonroot", "gcr.io/distroless/static:latest"));
        assert!(!glob_match("nginx", "nginx:1.25"));
    }
}
