//! `-o patch`: one RFC 6902 JSON Patch per changed resource, computed from
//! the resource's meaning before and after (not from the plan's changes), so
//! that applying it to the input object gives exactly the output object,
//! whatever rule produced the change. A `List` item is a resource: its patch
//! is relative to the item.

use super::indented::Indented;
use super::{Run, resource_ref};
use crate::pipeline::DocOutcome;
use crate::pointer::Pointer;
use crate::pointer::push_token;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

/// One RFC 6902 operation. Only the three that a diff needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Operation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
}

/// `{resource: {apiVersion, kind, namespace, name}, file, patch: [...]}`.
#[derive(Clone, Debug, Serialize)]
pub struct ResourcePatch {
    pub resource: Value,
    pub file: String,
    pub patch: Vec<Operation>,
}

/// Every changed resource of the run, in stream order.
pub fn patches(run: &Run) -> Vec<ResourcePatch> {
    let mut out = Vec::new();
    for (src, outcome) in run.sources.iter().zip(run.outcomes) {
        for doc in &outcome.docs {
            out.extend(doc_patches(&src.name, doc));
        }
    }
    out
}

/// The patches of one document's changed resources.
fn doc_patches(file: &str, doc: &DocOutcome) -> Vec<ResourcePatch> {
    if doc.before == doc.after {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in &doc.plan.resources {
        let (Some(before), Some(after)) = (doc.before.at(&r.base), doc.after.at(&r.base)) else { continue };
        let patch = diff(before, after);
        if !patch.is_empty() {
            out.push(ResourcePatch { resource: resource_ref(&r.id), file: file.to_string(), patch });
        }
    }
    out
}

/// The patches as a JSON document: a pretty-printed array and a newline,
/// the same text as `serde_json::to_string_pretty(&patches(run))`, made 64
/// documents at a time in parallel and returned in pieces to be written
/// one after another (never the whole array at once).
pub fn render(run: &Run) -> Vec<String> {
    const RUN: usize = 64;
    let runs: Vec<(&str, &[DocOutcome])> = run
        .sources
        .iter()
        .zip(run.outcomes)
        .flat_map(|(src, outcome)| outcome.docs.chunks(RUN).map(move |docs| (src.name.as_str(), docs)))
        .collect();
    let parts: Vec<String> = runs
        .into_par_iter()
        .map(|(file, docs)| {
            let mut out = Indented::new(2);
            for p in docs.iter().flat_map(|d| doc_patches(file, d)) {
                out.push(if out.is_empty() { "  " } else { ",\n  " });
                // Serializing plain data into memory cannot fail.
                let _ = serde_json::to_writer_pretty(&mut out, &p);
            }
            out.into_string()
        })
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return vec!["[]\n".into()];
    }
    let mut pieces = Vec::with_capacity(2 * parts.len() + 1);
    pieces.push("[\n".to_string());
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            pieces.push(",\n".into());
        }
        pieces.push(part);
    }
    pieces.push("\n]\n".into());
    pieces
}

/// A patch that turns `before` into `after`. Objects are compared key by
/// key; an array that only grew gets its new items appended (`/-`), one that
/// only shrank loses its tail, one of equal length is compared item by item,
/// and any other array is replaced whole (harden never reorders lists).
pub fn diff(before: &Value, after: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    diff_at(&mut String::new(), before, after, &mut ops);
    ops
}

fn diff_at(path: &mut String, before: &Value, after: &Value, ops: &mut Vec<Operation>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => diff_objects(path, b, a, ops),
        (Value::Array(b), Value::Array(a)) if a.starts_with(b) => {
            for v in &a[b.len()..] {
                ops.push(Operation::Add { path: format!("{path}/-"), value: v.clone() });
            }
        }
        (Value::Array(b), Value::Array(a)) if b.starts_with(a) => {
            // From the end, so that each index is still valid when removed.
            for i in (a.len()..b.len()).rev() {
                ops.push(Operation::Remove { path: format!("{path}/{i}") });
            }
        }
        (Value::Array(b), Value::Array(a)) if a.len() == b.len() => {
            for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                diff_at(path, bv, av, ops);
                path.truncate(len);
            }
        }
        _ => ops.push(Operation::Replace { path: path.clone(), value: after.clone() }),
    }
}

fn diff_objects(path: &mut String, b: &Map<String, Value>, a: &Map<String, Value>, ops: &mut Vec<Operation>) {
    for (k, bv) in b {
        let len = path.len();
        push_token(path, k);
        match a.get(k) {
            Some(av) => diff_at(path, bv, av, ops),
            None => ops.push(Operation::Remove { path: path.clone() }),
        }
        path.truncate(len);
    }
    for (k, av) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
        let len = path.len();
        push_token(path, k);
        ops.push(Operation::Add { path: path.clone(), value: av.clone() });
        path.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adds_nested_objects_and_appends() {
        let before = json!({"spec": {"containers": [{"name": "a", "ports": [1]}]}});
        let after = json!({"spec": {"containers": [{"name": "a", "ports": [1, 2], "securityContext": {"x": true}}]}});
        assert_eq!(
            diff(&before, &after),
            vec![
                Operation::Add { path: "/spec/containers/0/ports/-".into(), value: json!(2) },
                Operation::Add { path: "/spec/containers/0/securityContext".into(), value: json!({"x": true}) },
            ]
        );
    }

    #[test]
    fn replaces_scalars_and_escapes_keys() {
        let before = json!({"metadata": {"annotations": {"a/b~c": "1"}}});
        let after = json!({"metadata": {"annotations": {"a/b~c": "2"}}});
        assert_eq!(
            diff(&before, &after),
            vec![Operation::Replace { path: "/metadata/annotations/a~1b~0c".into(), value: json!("2") }]
        );
    }

    #[test]
    fn shrinking_and_reordered_arrays() {
        assert_eq!(
            diff(&json!({"l": [1, 2, 3]}), &json!({"l": [1]})),
            vec![Operation::Remove { path: "/l/2".into() }, Operation::Remove { path: "/l/1".into() }]
        );
        assert_eq!(
            diff(&json!({"l": [1, 2]}), &json!({"l": [2, 1, 3]})),
            vec![Operation::Replace { path: "/l".into(), value: json!([2, 1, 3]) }]
        );
        assert_eq!(diff(&json!(1), &json!(2)), vec![Operation::Replace { path: String::new(), value: json!(2) }]);
    }
}
