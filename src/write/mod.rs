//! Review and CI renderers: what reviewers and CI see of a run besides the
//! YAML stream. Each module turns the pipeline's outcomes into one format:
//! [`diff`] (unified diff), [`patch`] (RFC 6902 per resource), [`report`]
//! (the findings, and JSON), [`text`], [`sarif`] (SARIF 2.1.0); [`locate`] and [`source_map`]
//! find the line and the original file each finding belongs to, [`help`]
//! explains rules and controls. None of them decides what changes: they
//! only read [`DocOutcome`]s.

pub mod diff;
pub mod help;
mod indented;
pub mod locate;
pub mod patch;
pub mod report;
pub mod sarif;
pub mod source_map;
pub mod text;

use crate::pipeline::{DocOutcome, DocText, Reducer, SourceOutcome};
use crate::plan::DocPlan;
use crate::pss::{Level, Version};
use crate::read::Source;
use crate::workload::ResourceId;
use crate::yaml::Limits;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// `1 change`, `2 changes`, `0 fixes`: a count and its noun, for every
/// sentence that gives one.
pub fn count(n: usize, noun: &str) -> String {
    match (n, noun.ends_with('x')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        _ => format!("{n} {noun}s"),
    }
}

/// Everything a renderer needs to know about one run.
pub struct Run<'a> {
    pub sources: &'a [Source],
    /// One per source, in the same order.
    pub outcomes: &'a [SourceOutcome],
    /// The level harden hardened to (the profile's).
    pub level: Level,
    pub version: Version,
    /// Whether `--partial` applied fixes to pods with blockers.
    pub partial: bool,
    /// Whether the run only checked (`harden check`): nothing was to change.
    pub checking: bool,
    /// The limits the input was parsed with (renderers that need spans parse again).
    pub limits: Limits,
    /// Where origin paths (kustomize, Helm, kpt) start, relative to the
    /// repository root; `None`: they are used as they are.
    pub origin_root: Option<PathBuf>,
}

impl Run<'_> {
    /// Every document with its source, in stream order.
    pub fn docs(&self) -> impl Iterator<Item = (&Source, &DocOutcome)> {
        self.sources.iter().zip(self.outcomes).flat_map(|(s, o)| o.docs.iter().map(move |d| (s, d)))
    }
}

/// What `--check` gates on: would harden change anything, or does a
/// violation remain (a blocker, fixes that could not be written), or is a
/// container expected not to start as hardened?
pub fn needs_attention(d: &DocOutcome) -> bool {
    d.changed()
        || d.refused.is_some()
        || d.plan
            .resources
            .iter()
            .any(|r| !r.changes.is_empty() || !r.blockers.is_empty() || r.withheld > 0 || r.will_not_start > 0)
}

/// What patches need of each document's values: the difference (with
/// each resource's metadata, and blocked resources whole, for reports).
pub const FOR_PATCH: Reducer = Reducer { before: |before, _| before.clone(), outcome: keep_for_review };

/// What reports need: each resource's metadata (origins, Namespace labels)
/// and the whole of a resource with violations (blockers, opted out) or
/// left alone (reports point into it), before hardening; nothing after.
pub const FOR_REPORT: Reducer = Reducer { before: report_values, outcome: keep_for_report };

/// Cut a document's values down to what patches and reports read of them:
/// where before and after agree, both become null (a patch is the
/// difference, which stays exactly as it was); each resource's metadata
/// (origins, Namespace labels), and the whole of a resource with
/// violations or left alone (reports point into it), stay as they are.
pub fn keep_for_review(doc: &mut DocOutcome, src: &DocText) {
    locate_for_review(doc, src);
    prune_for_review(doc);
}

fn keep_for_report(doc: &mut DocOutcome, src: &DocText) {
    locate_for_review(doc, src);
    doc.after = Value::Null;
}

/// The pointers of a plan's resources that reports read whole.
fn kept_whole(plan: &DocPlan) -> Vec<String> {
    plan.resources
        .iter()
        .map(|r| {
            let whole =
                !r.blockers.is_empty() || !r.opted_out.is_empty() || r.skipped.is_some() || r.id.kind == "Namespace";
            if whole { r.base.clone() } else { format!("{}/metadata", r.base) }
        })
        .collect()
}

/// Of `before`, only what [`kept_whole`] names, at the same pointers.
fn report_values(before: &Value, plan: &DocPlan) -> Value {
    let mut out = Value::Null;
    for pointer in kept_whole(plan) {
        copy_at(before, &mut out, &pointer);
    }
    out
}

/// Copy the value at `pointer` of `from` into `to`, creating its parents
/// as `from` has them (lists as lists, of the same length, other items null).
fn copy_at(from: &Value, to: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        if pointer.is_empty() {
            *to = from.clone();
        }
        return;
    };
    let (token, tail) = rest.split_once('/').map_or((rest, ""), |(t, r)| (t, r));
    let tail = if tail.is_empty() { String::new() } else { format!("/{tail}") };
    let key = crate::pointer::unescape(token);
    match from {
        Value::Object(m) => {
            let Some(child) = m.get(key.as_ref()) else { return };
            if !to.is_object() {
                *to = Value::Object(Map::new());
            }
            if let Value::Object(t) = to {
                copy_at(child, t.entry(key.into_owned()).or_insert(Value::Null), &tail);
            }
        }
        Value::Array(items) => {
            let Some((i, child)) = key.parse::<usize>().ok().and_then(|i| items.get(i).map(|c| (i, c))) else { return };
            if !matches!(to, Value::Array(t) if t.len() == items.len()) {
                *to = Value::Array(vec![Value::Null; items.len()]);
            }
            if let Value::Array(t) = to {
                copy_at(child, &mut t[i], &tail);
            }
        }
        _ => {}
    }
}

/// The values part of [`keep_for_review`].
fn prune_for_review(doc: &mut DocOutcome) {
    let keep = kept_whole(&doc.plan);
    prune(&mut doc.before, &mut doc.after, &mut String::new(), &keep);
}

/// The lines reports ask for (each resource, each change and note), and
/// where the document's content starts, from the tree at hand.
fn locate_for_review(doc: &mut DocOutcome, src: &DocText) {
    let tree = src.doc;
    let region = &src.text[tree.start..tree.end.min(src.text.len())];
    let newlines: Vec<usize> = region.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
    let line_of = |at: usize| doc.line + newlines.partition_point(|&n| n < at.saturating_sub(tree.start));
    let mut lines = Vec::new();
    for r in &doc.plan.resources {
        let pointers = std::iter::once(&r.base)
            .chain(r.changes.iter().map(|c| &c.pointer))
            .chain(r.notes.iter().map(|n| &n.pointer));
        for p in pointers {
            lines.push((p.clone(), line_of(locate::deepest(&tree.root, p))));
        }
    }
    doc.places.lines = lines;
    doc.places.content = Some(doc.start - tree.start + tree.root.span.start);
}

/// Null out what `before` and `after` agree on, below `path`, except the
/// pointers in `keep` (and what lies below them).
fn prune(before: &mut Value, after: &mut Value, path: &mut String, keep: &[String]) {
    if keep.iter().any(|k| k == path) {
        return;
    }
    if before == after {
        // Keep what leads to a kept pointer.
        if !keep.iter().any(|k| k.starts_with(path.as_str()) && k[path.len()..].starts_with('/')) {
            *before = Value::Null;
            *after = Value::Null;
            return;
        }
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b.iter_mut() {
                if let Some(av) = a.get_mut(k) {
                    let len = path.len();
                    crate::pointer::push_token(path, k);
                    prune(bv, av, path, keep);
                    path.truncate(len);
                }
            }
        }
        // Element by element where a patch compares them so: lists of one
        // length, or one extending the other.
        (Value::Array(b), Value::Array(a)) if a.len() == b.len() || a.starts_with(b) || b.starts_with(a) => {
            for (i, (bv, av)) in b.iter_mut().zip(a.iter_mut()).enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                prune(bv, av, path, keep);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `{apiVersion, kind, namespace, name}` of a resource, as patches and
/// reports name it (namespace and name left out when the object has none).
pub fn resource_ref(id: &ResourceId) -> Value {
    let mut m = Map::new();
    m.insert("apiVersion".into(), json!(id.api_version));
    m.insert("kind".into(), json!(id.kind));
    if let Some(ns) = &id.namespace {
        m.insert("namespace".into(), json!(ns));
    }
    if let Some(name) = &id.name {
        m.insert("name".into(), json!(name));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourcePlan;
    use crate::pointer::Pointer;

    fn outcome(before: Value, after: Value, blocked: bool) -> DocOutcome {
        let id = ResourceId { api_version: "apps/v1".into(), kind: "Deployment".into(), namespace: None, name: None };
        let blockers = if blocked {
            vec![crate::plan::change::Blocker {
                container: None,
                what: "x".into(),
                control: "y".into(),
                upstream: None,
            }]
        } else {
            Vec::new()
        };
        let r = ResourcePlan {
            id,
            base: String::new(),
            pods: 1,
            changes: Vec::new(),
            notes: Vec::new(),
            blockers,
            opted_out: Vec::new(),
            withheld: 0,
            skipped: None,
            ..ResourcePlan::default()
        };
        let plan = DocPlan { resources: vec![r] };
        DocOutcome {
            start: 0,
            end: 0,
            line: 1,
            plan,
            before,
            after,
            refused: None,
            edits: Vec::new(),
            places: Default::default(),
        }
    }

    #[test]
    fn review_values_keep_the_patch_and_the_metadata_and_drop_the_rest() {
        let before = json!({
            "metadata": {"name": "w", "annotations": {"a": "b"}},
            "spec": {"template": {"spec": {
                "containers": [{"name": "c", "env": [{"name": "E", "value": "1"}], "ports": [1]}],
                "volumes": [{"name": "v"}]
            }}}
        });
        let mut after = before.clone();
        after["spec"]["template"]["spec"]["containers"][0]["securityContext"] = json!({"runAsNonRoot": true});
        after["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([1, 2]);
        after["spec"]["template"]["spec"]["volumes"] = json!([{"name": "v"}, {"name": "t"}]);
        let patch = patch::diff(&before, &after);
        let mut doc = outcome(before, after, false);
        prune_for_review(&mut doc);
        assert_eq!(patch::diff(&doc.before, &doc.after), patch, "the patch is unchanged");
        assert_eq!(doc.before["metadata"], json!({"name": "w", "annotations": {"a": "b"}}));
        assert_eq!(doc.before["spec"]["template"]["spec"]["containers"][0]["env"], Value::Null);
        assert_eq!(doc.before["spec"]["template"]["spec"]["volumes"][0], Value::Null);
    }

    #[test]
    fn report_values_are_metadata_and_blocked_resources_at_their_pointers() {
        let before = json!({"kind": "List", "items": [
            {"metadata": {"name": "a"}, "spec": {"big": [1, 2, 3]}},
            {"metadata": {"name": "b"}, "spec": {"hostNetwork": true}}
        ]});
        let mut doc = outcome(Value::Null, Value::Null, false);
        let mut blocked = outcome(Value::Null, Value::Null, true);
        doc.plan.resources[0].base = "/items/0".into();
        blocked.plan.resources[0].base = "/items/1".into();
        doc.plan.resources.push(blocked.plan.resources.remove(0));
        let kept = report_values(&before, &doc.plan);
        assert_eq!(
            kept,
            json!({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}, "spec": {"hostNetwork": true}}]})
        );
        assert_eq!(kept.at("/items/1/spec/hostNetwork"), Some(&json!(true)));
    }

    #[test]
    fn review_values_keep_a_blocked_resource_whole() {
        let before = json!({"metadata": {"name": "w"}, "spec": {"hostNetwork": true, "x": [1]}});
        let mut doc = outcome(before.clone(), before.clone(), true);
        prune_for_review(&mut doc);
        assert_eq!(doc.before, before);
    }
}
