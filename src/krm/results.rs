//! The `results` entries of the KRM functions specification, made from a
//! resource's plan: `message`, `severity`, `resourceRef`, `field` (`path` in
//! the spec's dotted form, `currentValue`, `proposedValue`), `file` (from
//! the item's `internal.config.kubernetes.io/path`/`index` annotations, or
//! the legacy `config.kubernetes.io/*` ones) and `tags` (rule, control).

use crate::plan::ResourcePlan;
use crate::plan::change::{Change, Op};
use crate::pointer::Pointer;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The annotations kpt writes files back by, newest first.
const PATH_KEYS: [&str; 2] = ["internal.config.kubernetes.io/path", "config.kubernetes.io/path"];
const INDEX_KEYS: [&str; 2] = ["internal.config.kubernetes.io/index", "config.kubernetes.io/index"];

/// Errors first, then warnings, then info: kpt shows only the first few
/// results of a function, and of a failing one those must say why it failed.
/// Stable: within a severity, results stay in stream order.
pub fn by_severity(results: &mut [Value]) {
    results.sort_by_key(|r| match r.get("severity").and_then(Value::as_str) {
        Some("error") => 0,
        Some("warning") => 1,
        _ => 2,
    });
}

/// A result about no resource in particular.
pub fn unattached(severity: &str, message: &str) -> Value {
    json!({"message": message, "severity": severity})
}

/// The results for one resource of the ResourceList: its changes (info),
/// notes (info, or warning when they need attention), blockers (warning, or
/// error when `fail` is set), withheld fixes and why it was skipped.
pub fn of_resource(r: &ResourcePlan, before: &Value, after: &Value, fail: bool) -> Vec<Value> {
    let item_before = before.at(&r.base).unwrap_or(&Value::Null);
    let item_after = after.at(&r.base).unwrap_or(&Value::Null);
    let reference = resource_ref(r);
    let file = file_of(item_before);
    let entry = |severity: &str, message: String, field: Option<Value>, tags: Option<Value>| {
        let mut m = Map::new();
        m.insert("message".into(), Value::String(message));
        m.insert("severity".into(), Value::String(severity.to_string()));
        m.insert("resourceRef".into(), reference.clone());
        if let Some(f) = field {
            m.insert("field".into(), f);
        }
        if let Some(f) = &file {
            m.insert("file".into(), f.clone());
        }
        if let Some(t) = tags {
            m.insert("tags".into(), t);
        }
        Value::Object(m)
    };
    let mut out = Vec::new();
    let mut appended: HashMap<&str, usize> = HashMap::new();
    for c in &r.changes {
        let rel = c.pointer.strip_prefix(r.base.as_str()).unwrap_or(&c.pointer);
        let path = match c.op {
            Op::Set => dotted(item_after, rel),
            Op::Append => {
                // The new item's index: the list's length before, plus the
                // items this plan appended to it already.
                let n = appended
                    .entry(c.pointer.as_str())
                    .or_insert_with(|| item_before.at(rel).and_then(Value::as_array).map_or(0, Vec::len));
                let path = format!("{}[{n}]", dotted(item_after, rel));
                *n += 1;
                path
            }
        };
        let mut field = Map::new();
        field.insert("path".into(), Value::String(path));
        if let Some(b) = &c.before {
            field.insert("currentValue".into(), b.clone());
        }
        field.insert("proposedValue".into(), c.value.clone());
        let tags = json!({"rule": c.rule, "control": c.control.to_string()});
        out.push(entry("info", change_message(c), Some(Value::Object(field)), Some(tags)));
    }
    for n in &r.notes {
        let rel = n.pointer.strip_prefix(r.base.as_str()).unwrap_or(&n.pointer);
        let field = json!({"path": dotted(item_after, rel)});
        let severity = if n.warning { "warning" } else { "info" };
        let tags = json!({"rule": n.rule});
        out.push(entry(severity, with_container(n.container.as_deref(), &n.message), Some(field), Some(tags)));
    }
    let fate = if r.withheld > 0 || r.changes.is_empty() { "left unchanged" } else { "kept" };
    for b in &r.blockers {
        let message = with_container(b.container.as_deref(), &format!("{} violates {}; {fate}", b.what, b.control));
        let tags = json!({"control": b.control});
        out.push(entry(if fail { "error" } else { "warning" }, message, None, Some(tags)));
    }
    if r.withheld > 0 && !r.blockers.is_empty() {
        let message = format!(
            "{} withheld because of the blockers (functionConfig partial: \"true\" applies them)",
            crate::write::count(r.withheld, "fix")
        );
        out.push(entry("warning", message, None, None));
    }
    if let Some(why) = &r.skipped {
        out.push(entry("info", format!("left unchanged: {why}"), None, None));
    }
    for o in &r.opted_out {
        let (b, by) = (&o.violation, &o.by);
        let message = format!("{} violates {}; skipped (opted out: {by}), still violating", b.what, b.control);
        let tags = json!({"control": b.control});
        out.push(entry("info", with_container(b.container.as_deref(), &message), None, Some(tags)));
    }
    out
}

fn change_message(c: &Change) -> String {
    let overrides = if c.overrides() { " (overrides an explicit value)" } else { "" };
    with_container(c.container.as_deref(), &format!("{}{overrides} [{}]", c.reason, c.control))
}

fn with_container(container: Option<&str>, message: &str) -> String {
    match container {
        Some(name) => format!("container {name:?}: {message}"),
        None => message.to_string(),
    }
}

fn resource_ref(r: &ResourcePlan) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), Value::String(r.id.api_version.clone()));
    m.insert("kind".into(), Value::String(r.id.kind.clone()));
    if let Some(name) = &r.id.name {
        m.insert("name".into(), Value::String(name.clone()));
    }
    if let Some(ns) = &r.id.namespace {
        m.insert("namespace".into(), Value::String(ns.clone()));
    }
    Value::Object(m)
}

/// `{path, index}` from the item's annotations, if it has a path.
fn file_of(item: &Value) -> Option<Value> {
    let annotations = item.at("/metadata/annotations")?;
    let get = |keys: &[&str]| keys.iter().find_map(|k| annotations.get(*k).and_then(Value::as_str));
    let path = get(&PATH_KEYS)?;
    let mut m = Map::new();
    m.insert("path".into(), Value::String(path.to_string()));
    if let Some(index) = get(&INDEX_KEYS).and_then(|i| i.trim().parse::<u64>().ok()) {
        m.insert("index".into(), Value::from(index));
    }
    Some(Value::Object(m))
}

/// A JSON pointer (relative to the resource) in the KRM spec's dotted form,
/// `spec.template.spec.containers[0].securityContext`: list indexes in
/// brackets, keys that contain `.`, `[`, `]` or spaces as `["key"]`.
pub fn dotted(resource: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(resource);
    for raw in pointer.split('/').skip(1) {
        let token = crate::pointer::unescape(raw);
        match (cur, token.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(i)) => {
                out.push_str(&format!("[{i}]"));
                cur = items.get(i);
            }
            (node, _) => {
                if token.is_empty() || token.contains(['.', '[', ']', ' ', '"']) {
                    out.push_str(&format!("[{token:?}]"));
                } else {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&token);
                }
                cur = node.and_then(|n| n.get(token.as_ref()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_dotted_paths() {
        let v = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}},
            "metadata": {"annotations": {"a.b/c": "x"}, "labels": {"0": "zero"}}});
        assert_eq!(
            dotted(&v, "/spec/template/spec/containers/1/securityContext"),
            "spec.template.spec.containers[1].securityContext"
        );
        assert_eq!(dotted(&v, "/metadata/annotations/a.b~1c"), "metadata.annotations[\"a.b/c\"]");
        assert_eq!(dotted(&v, "/metadata/labels/0"), "metadata.labels.0", "a numeric key of a mapping is a key");
        assert_eq!(dotted(&v, "/spec/missing/3"), "spec.missing.3");
        assert_eq!(dotted(&v, ""), "");
    }

    #[test]
    fn file_comes_from_the_internal_annotations_first() {
        let item = json!({"metadata": {"annotations": {
            "config.kubernetes.io/path": "old.yaml", "config.kubernetes.io/index": "4",
            "internal.config.kubernetes.io/path": "new.yaml", "internal.config.kubernetes.io/index": "2"}}});
        assert_eq!(file_of(&item), Some(json!({"path": "new.yaml", "index": 2})));
        let legacy = json!({"metadata": {"annotations": {"config.kubernetes.io/path": "a/b.yaml"}}});
        assert_eq!(file_of(&legacy), Some(json!({"path": "a/b.yaml"})));
        assert_eq!(file_of(&json!({"metadata": {}})), None);
    }
}
