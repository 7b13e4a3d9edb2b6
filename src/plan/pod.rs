//! The view of one pod that rules work on, and the sink they write to.

use super::PlanOptions;
use super::change::{Blocker, Change, Control, Note, Op};
use crate::images::{ImageRow, ImageTable};
use crate::pointer::Pointer;
use crate::pointer::unescape;
use crate::profile::Profile;
use crate::workload::PodSite;
use serde_json::{Value, json};
use std::collections::HashSet;

/// The three container lists, in the order Pod Security visits them.
pub const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// One pod spec, as the rules see it.
pub struct Pod<'a> {
    pub spec: &'a Value,
    pub metadata: Option<&'a Value>,
    pub site: &'a PodSite,
    pub profile: &'a Profile,
    /// Containers exempted by annotation or config (by name).
    pub exempt: &'a HashSet<String>,
    pub images: &'a ImageTable,
    /// `--partial`: the pod's other fixes are applied even if it has blockers.
    pub partial: bool,
    /// The image-table row of each container, by list (in `CONTAINER_LISTS` order) and index.
    rows: [Vec<Option<&'a ImageRow>>; 3],
}

/// One container of the pod.
pub struct Container<'a> {
    pub list: &'static str,
    pub index: usize,
    pub value: &'a Value,
    /// What the image table knows about its image, if anything.
    pub row: Option<&'a ImageRow>,
}

impl<'a> Container<'a> {
    pub fn name(&self) -> String {
        self.value
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{}[{}]", self.list, self.index), str::to_string)
    }
    pub fn image(&self) -> &'a str {
        self.value.get("image").and_then(Value::as_str).unwrap_or("")
    }
    /// Pointer to this container, relative to the pod spec.
    pub fn pointer(&self) -> String {
        format!("/{}/{}", self.list, self.index)
    }
    pub fn get(&self, rel: &str) -> Option<&'a Value> {
        self.value.at(rel)
    }
}

impl<'a> Pod<'a> {
    /// The pod at `site`, with each container's image looked up once.
    pub fn new(
        spec: &'a Value,
        metadata: Option<&'a Value>,
        site: &'a PodSite,
        exempt: &'a HashSet<String>,
        opts: &PlanOptions<'a>,
    ) -> Pod<'a> {
        let images = opts.images;
        let rows = CONTAINER_LISTS.map(|list| {
            let items = spec.get(list).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
            items.iter().map(|c| c.get("image").and_then(Value::as_str).and_then(|i| images.find(i))).collect()
        });
        Pod { spec, metadata, site, profile: opts.profile, exempt, images, partial: opts.partial, rows }
    }

    pub fn get(&self, rel: &str) -> Option<&'a Value> {
        self.spec.at(rel)
    }

    /// The pod's containers of every list, exempt ones left out.
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for (list, rows) in CONTAINER_LISTS.into_iter().zip(&self.rows) {
            if let Some(Value::Array(items)) = self.spec.get(list) {
                for (index, value) in items.iter().enumerate() {
                    let c = Container { list, index, value, row: rows.get(index).copied().flatten() };
                    if !self.exempt.contains(&c.name()) {
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// Windows pods get only the fields that exist on Windows.
    pub fn is_windows(&self) -> bool {
        is_windows(self.spec)
    }

    /// Whether pod-wide settings must go on each container instead: the kind
    /// rejects pod-level securityContext (Knative), or some container is
    /// exempt and must not inherit them.
    pub fn container_level(&self) -> bool {
        !self.site.pod_security_context || self.has_exempt_containers()
    }

    pub fn has_exempt_containers(&self) -> bool {
        CONTAINER_LISTS.iter().any(|list| {
            self.spec.get(*list).and_then(Value::as_array).is_some_and(|items| {
                items
                    .iter()
                    .enumerate()
                    .any(|(index, value)| self.exempt.contains(&Container { list, index, value, row: None }.name()))
            })
        })
    }
}

/// `spec.os.name: windows`, or a Windows node selector.
pub fn is_windows(spec: &Value) -> bool {
    spec.at("/os/name").and_then(Value::as_str) == Some("windows") || windows_selector(spec)
}

pub fn windows_selector(spec: &Value) -> bool {
    ["kubernetes.io/os", "beta.kubernetes.io/os"]
        .iter()
        .any(|k| spec.get("nodeSelector").and_then(|s| s.get(*k)).and_then(Value::as_str) == Some("windows"))
}

/// Where rules put what they decide, relative to the pod spec.
pub struct PodPlan<'a> {
    pod: &'a Pod<'a>,
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
    pub blockers: Vec<Blocker>,
    /// The pod spec with this plan's changes so far, so that later rules see
    /// earlier ones (one rule adds a volume, the next must not add it again).
    pub planned: Value,
    /// Containers harden expects not to start as planned (each also a warning).
    pub will_not_start: usize,
    rule: &'static str,
}

impl<'a> PodPlan<'a> {
    pub fn new(pod: &'a Pod<'a>) -> Self {
        PodPlan {
            pod,
            changes: Vec::new(),
            notes: Vec::new(),
            blockers: Vec::new(),
            planned: pod.spec.clone(),
            will_not_start: 0,
            rule: "",
        }
    }

    pub fn set_rule(&mut self, rule: &'static str) {
        self.rule = rule;
    }

    /// Set a pod-spec field (pointer relative to the pod spec).
    pub fn set(&mut self, rel: &str, value: Value, control: Control, reason: impl Into<String>) {
        self.push(Op::Set, rel, value, control, reason.into(), None);
    }

    /// Set a field of container `c` (pointer relative to the container).
    pub fn set_in(&mut self, c: &Container, rel: &str, value: Value, control: Control, reason: impl Into<String>) {
        self.push(Op::Set, &format!("{}{rel}", c.pointer()), value, control, reason.into(), Some(c.name()));
    }

    /// Append to a list of the pod spec.
    pub fn append(
        &mut self,
        rel: &str,
        value: Value,
        control: Control,
        reason: impl Into<String>,
        container: Option<String>,
    ) {
        self.push(Op::Append, rel, value, control, reason.into(), container);
    }

    pub fn note(&mut self, rel: &str, container: Option<String>, message: impl Into<String>) {
        let pointer = format!("{}{rel}", self.pod.site.spec);
        self.notes.push(Note { pointer, rule: self.rule, container, message: message.into(), warning: false });
    }

    /// A note that needs the user's attention: a warning on stderr.
    pub fn warn(&mut self, rel: &str, container: Option<String>, message: impl Into<String>) {
        self.note(rel, container, message);
        if let Some(n) = self.notes.last_mut() {
            n.warning = true;
        }
    }

    /// Container `c` is expected not to start as planned: a warning naming
    /// the reason and the fix, which fails `--check`.
    pub fn will_not_start(&mut self, c: &Container, reason: &str, fix: &str) {
        self.warn(&c.pointer(), Some(c.name()), format!("will not start as hardened: {reason}; fix: {fix}"));
        self.will_not_start += 1;
    }

    pub fn block(&mut self, container: Option<String>, what: impl Into<String>, control: impl Into<String>) {
        self.blockers.push(Blocker { container, what: what.into(), control: control.into(), upstream: None });
    }

    fn push(&mut self, op: Op, rel: &str, value: Value, control: Control, reason: String, container: Option<String>) {
        let before = self.planned.at(rel).cloned();
        if op == Op::Set && before.as_ref() == Some(&value) {
            return;
        }
        if !apply_checked(&mut self.planned, op, rel, value.clone()) {
            let pointer = format!("{}{rel}", self.pod.site.spec);
            let message = unlanded(&pointer);
            self.notes.push(Note { pointer, rule: self.rule, container, message, warning: true });
            return;
        }
        self.changes.push(Change {
            op,
            pointer: format!("{}{rel}", self.pod.site.spec),
            value,
            before: if op == Op::Set { before } else { None },
            rule: self.rule,
            control,
            reason,
            container,
        });
    }
}

/// Apply one operation and tell whether it landed. Where the document's
/// shape is not what the API expects (a string where a mapping or list
/// belongs), it cannot: the caller must say so rather than claim the change.
pub fn apply_checked(root: &mut Value, op: Op, pointer: &str, value: Value) -> bool {
    apply_one(root, op, pointer, value)
}

/// The warning for a change that could not land.
pub fn unlanded(pointer: &str) -> String {
    format!("cannot change {pointer}: a parent is not the mapping or list the API expects; left as it is")
}

/// Apply one operation to a JSON tree, creating missing parent mappings,
/// and tell whether it landed. (Rules only point into list items that
/// exist; a pointer that does not resolve is dropped, and `verify` would
/// catch any resulting mismatch.) Nothing is changed where it does not
/// land: the walk stops at the first node that is in the way, before any
/// parent is created.
pub fn apply_one(root: &mut Value, op: Op, pointer: &str, value: Value) -> bool {
    let Some(rest) = pointer.strip_prefix('/') else {
        // The root itself: only a list can be appended to.
        return match (op, root) {
            (Op::Append, Value::Array(a)) if pointer.is_empty() => {
                a.push(value);
                true
            }
            _ => false,
        };
    };
    let mut tokens = rest.split('/').peekable();
    let mut cur = root;
    while let Some(tok) = tokens.next() {
        let tok = unescape(tok);
        let last = tokens.peek().is_none();
        if cur.is_null() {
            *cur = json!({});
        }
        let next = match cur {
            Value::Object(m) => {
                if last && op == Op::Set {
                    m.insert(tok.into_owned(), value);
                    return true;
                }
                // Look up before inserting: most tokens exist, and `entry` needs an owned key.
                if !m.contains_key(tok.as_ref()) {
                    m.insert(tok.to_string(), if last { json!([]) } else { Value::Null });
                }
                match m.get_mut(tok.as_ref()) {
                    Some(v) => v,
                    None => return false,
                }
            }
            Value::Array(a) => match tok.parse::<usize>() {
                Ok(idx) if idx < a.len() && last && op == Op::Set => {
                    a[idx] = value;
                    return true;
                }
                Ok(idx) if idx < a.len() => &mut a[idx],
                _ => return false,
            },
            _ => return false,
        };
        cur = next;
    }
    if cur.is_null() {
        *cur = json!([]);
    }
    match cur {
        Value::Array(a) => {
            a.push(value);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_one_sets_creates_and_appends() {
        let mut v = json!({"a": {"list": [1, 2]}});
        apply_one(&mut v, Op::Set, "/a/list/1", json!(3));
        apply_one(&mut v, Op::Set, "/a/b~1c/d", json!(true));
        apply_one(&mut v, Op::Append, "/a/list", json!(4));
        apply_one(&mut v, Op::Append, "/a/new", json!("x"));
        assert_eq!(v, json!({"a": {"list": [1, 3, 4], "b/c": {"d": true}, "new": ["x"]}}));
    }
}
