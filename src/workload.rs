//! Which documents are workloads, and where their pod specs are.
//!
//! A kind is a row of data (`data/workload-kinds.yaml`, plus a profile's
//! `workloads:`), never code: supporting another CRD is one line of YAML.

use crate::pointer::Pointer;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

const BUILT_IN_KINDS: &str = include_str!("../data/workload-kinds.yaml");

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KindRow {
    pub group: String,
    pub kind: String,
    pub pod_specs: Vec<String>,
    #[serde(default = "yes")]
    pub pod_security_context: bool,
}

fn yes() -> bool {
    true
}

/// The built-in table.
pub fn built_in_kinds() -> Vec<KindRow> {
    let value =
        crate::yaml::parse_values(BUILT_IN_KINDS).ok().and_then(|v| v.into_iter().next()).unwrap_or(Value::Null);
    // The table is compiled in and covered by a test; an error here is a
    // build defect, so fall back to no kinds rather than panic.
    serde_json::from_value(value).unwrap_or_default()
}

/// Who a resource is: `Kind/namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResourceId {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ResourceId {
    /// The identity of a Kubernetes object, or `None` if `v` is not one.
    pub fn of(v: &Value) -> Option<ResourceId> {
        let api_version = v.get("apiVersion")?.as_str()?.to_string();
        let kind = v.get("kind")?.as_str()?.to_string();
        let meta = v.get("metadata");
        let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).map(str::to_string);
        Some(ResourceId { api_version, kind, namespace: field("namespace"), name: field("name") })
    }

    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/", self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        write!(f, "{}", self.name.as_deref().unwrap_or("<unnamed>"))
    }
}

/// The resources of a document: the document itself, or the items of a
/// `List` (any `*List` kind with `items`), each with its pointer.
pub fn resources(doc: &Value) -> Vec<(String, ResourceId)> {
    let Some(id) = ResourceId::of(doc) else { return Vec::new() };
    match doc.get("items").and_then(Value::as_array) {
        Some(items) if id.kind.ends_with("List") => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| ResourceId::of(item).map(|id| (format!("/items/{i}"), id)))
            .collect(),
        _ => vec![(String::new(), id)],
    }
}

/// One pod spec inside a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSite {
    /// JSON pointer to the PodSpec, from the document root.
    pub spec: String,
    /// JSON pointer to the pod (template) metadata.
    pub metadata: String,
    pub pod_security_context: bool,
}

/// The pod specs of the resource at `base` (a pointer, "" for the document
/// root) in `doc`, by the kinds table.
pub fn pod_sites(doc: &Value, base: &str, id: &ResourceId, kinds: &[KindRow]) -> Vec<PodSite> {
    let Some(row) = kinds.iter().find(|r| r.kind == id.kind && r.group == id.group()) else { return Vec::new() };
    let Some(resource) = doc.at(base) else { return Vec::new() };
    let mut out = Vec::new();
    for pattern in &row.pod_specs {
        for rel in expand(resource, pattern) {
            // A spec that is missing or not a mapping is not a pod spec (a
            // strategic-merge patch or a malformed object): leave it alone.
            if resource.at(&rel).is_some_and(Value::is_object) {
                let metadata =
                    rel.strip_suffix("/spec").map_or_else(|| format!("{rel}/../metadata"), |p| format!("{p}/metadata"));
                out.push(PodSite {
                    spec: format!("{base}{rel}"),
                    metadata: format!("{base}{metadata}"),
                    pod_security_context: row.pod_security_context,
                });
            }
        }
    }
    out
}

/// Expand `*` segments of a pointer pattern against the list items present.
fn expand(v: &Value, pattern: &str) -> Vec<String> {
    let mut paths = vec![String::new()];
    for seg in pattern.split('/').skip(1) {
        let mut next = Vec::new();
        for p in paths {
            if seg == "*" {
                if let Some(Value::Array(items)) = v.at(&p) {
                    next.extend((0..items.len()).map(|i| format!("{p}/{i}")));
                }
            } else {
                next.push(format!("{p}/{seg}"));
            }
        }
        paths = next;
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_built_in_table_loads() {
        let kinds = built_in_kinds();
        assert!(kinds.len() >= 20, "{}", kinds.len());
        assert!(kinds.iter().any(|k| k.kind == "Rollout" && k.group == "argoproj.io"));
    }

    #[test]
    fn finds_pod_specs_by_kind_and_group() {
        let kinds = built_in_kinds();
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": []}}}});
        let id = ResourceId::of(&d).expect("id");
        let sites = pod_sites(&d, "", &id, &kinds);
        assert_eq!(sites[0].spec, "/spec/template/spec");
        assert_eq!(sites[0].metadata, "/spec/template/metadata");
        let svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"template": {"spec": {}}}});
        assert!(pod_sites(&svc, "", &ResourceId::of(&svc).expect("id"), &kinds).is_empty());
    }

    #[test]
    fn expands_lists_of_templates() {
        let kinds = built_in_kinds();
        let d = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "spec": {"templates": [
            {"template": {"spec": {"containers": []}}}, {"template": {"spec": {"containers": []}}}]}});
        let sites = pod_sites(&d, "/items/3", &ResourceId::of(&d).expect("id"), &kinds);
        assert!(sites.is_empty(), "base pointer must resolve");
        let sites = pod_sites(&d, "", &ResourceId::of(&d).expect("id"), &kinds);
        assert_eq!(
            sites.iter().map(|s| s.spec.as_str()).collect::<Vec<_>>(),
            ["/spec/templates/0/template/spec", "/spec/templates/1/template/spec"]
        );
    }
}
