//! Opt-outs: what the owner of a resource said harden must leave alone.
//!
//! In the manifest: `harden.dev/skip: "true"`, `harden.dev/skip-containers:
//! "a,b"`, `harden.dev/skip-rules: "rule-id,..."`. In a config file:
//! exceptions matched by resource and by image as well as by container name
//! (container names can be spoofed; images are what a reviewer approves).
//! Resources marked `config.kubernetes.io/local-config` are not deployed and
//! are never hardened.

use crate::pointer::Pointer;
use crate::profile::glob_match;
use crate::workload::ResourceId;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

pub const SKIP: &str = "harden.dev/skip";
pub const SKIP_CONTAINERS: &str = "harden.dev/skip-containers";
pub const SKIP_RULES: &str = "harden.dev/skip-rules";
pub const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// One exception from a config file. Every field given must match; an
/// exception without `containers` or `images` covers the whole resource.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Image patterns (`*` wildcards) of the containers to exempt.
    #[serde(default)]
    pub images: Vec<String>,
    /// Container names to exempt.
    #[serde(default)]
    pub containers: Vec<String>,
    /// Rule ids not to apply; empty: none of them.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// The exemptions in force for one resource.
#[derive(Debug, Default)]
pub struct Exemptions {
    /// Set when the whole resource is left alone, with the reason.
    pub whole_resource: Option<String>,
    /// The resource is not deployed (local-config): nothing it says matters
    /// to Pod Security. Otherwise a resource left alone is opted out.
    pub not_deployed: bool,
    pub rules: HashSet<String>,
    names: HashSet<String>,
    images: Vec<String>,
    /// The rules and container names the annotations name (the rest come
    /// from the config file), to say which opted out.
    by_annotation: HashSet<String>,
}

impl Exemptions {
    pub fn of(resource: &Value, id: &ResourceId, exceptions: &[Exception]) -> Exemptions {
        let annotations = resource.at("/metadata/annotations");
        let ann = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_str);
        let mut ex = Exemptions::default();
        if ann(SKIP) == Some("true") {
            ex.whole_resource = Some(format!("annotation {SKIP}: \"true\""));
            return ex;
        }
        if annotations.and_then(|a| a.get(LOCAL_CONFIG)).is_some_and(|v| v.as_str() != Some("false")) {
            ex.whole_resource = Some(format!("annotation {LOCAL_CONFIG} (not deployed)"));
            ex.not_deployed = true;
            return ex;
        }
        for name in ann(SKIP_CONTAINERS).map(comma_list).unwrap_or_default() {
            ex.by_annotation.insert(format!("container {name}"));
            ex.names.insert(name);
        }
        for rule in ann(SKIP_RULES).map(comma_list).unwrap_or_default() {
            ex.by_annotation.insert(format!("rule {rule}"));
            ex.rules.insert(rule);
        }
        for e in exceptions.iter().filter(|e| e.matches(id)) {
            if e.containers.is_empty() && e.images.is_empty() {
                if e.rules.is_empty() {
                    ex.whole_resource = Some("an exception in the config file".to_string());
                    return ex;
                }
                ex.rules.extend(e.rules.iter().cloned());
            } else {
                ex.names.extend(e.containers.iter().cloned());
                ex.images.extend(e.images.iter().cloned());
            }
        }
        ex
    }

    /// How container `name` came to be exempt, for reports.
    pub fn container_by(&self, name: &str) -> String {
        match self.by_annotation.contains(&format!("container {name}")) {
            true => format!("container \"{name}\" named in annotation {SKIP_CONTAINERS}"),
            false => format!("container \"{name}\" exempt by an exception in the config file"),
        }
    }

    /// How rule `id` came to be skipped, for reports.
    pub fn rule_by(&self, id: &str) -> String {
        match self.by_annotation.contains(&format!("rule {id}")) {
            true => format!("rule {id} skipped by annotation {SKIP_RULES}"),
            false => format!("rule {id} skipped by an exception in the config file"),
        }
    }

    /// Names of the exempt containers of a pod spec (by name or image).
    pub fn containers(&self, spec: &Value) -> HashSet<String> {
        let mut out: HashSet<String> = self.names.clone();
        for list in crate::plan::pod::CONTAINER_LISTS {
            for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                if self.images.iter().any(|p| glob_match(p, image))
                    && let Some(name) = c.get("name").and_then(Value::as_str)
                {
                    out.insert(name.to_string());
                }
            }
        }
        out
    }
}

impl Exception {
    fn matches(&self, id: &ResourceId) -> bool {
        let field =
            |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| Some(w) == have.as_ref());
        self.kind.as_ref().is_none_or(|k| *k == id.kind)
            && field(&self.namespace, &id.namespace)
            && field(&self.name, &id.name)
    }
}

/// `"a, b,c"` → `["a", "b", "c"]`: the list format of the skip annotations
/// (and of the KRM function's ConfigMap keys of the same names).
pub(crate) fn comma_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}
