//! `-o report`: one finding per change and per remaining violation (plus
//! notes, withheld fixes, skipped resources and Namespaces whose Pod
//! Security labels are below the hardened level), each with its resource,
//! file:line, JSON pointer, before → after, rule, the Pod Security control
//! (or "harden default": PSS does not require it) and a reason. [`build`]
//! makes the findings once; [`json`] here, `text` and `sarif` beside it only
//! format them.

use super::help;
use super::indented::Indented;
use super::locate::Located;
use super::source_map::{self, OriginFiles};
use super::{Run, resource_ref};
use crate::pipeline::DocOutcome;
use crate::plan::ResourcePlan;
use crate::plan::change::{Control, Op};
use crate::pointer::{Pointer, escape};
use crate::pss::Level;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A field harden changes.
    Change,
    /// Something harden noticed, left alone, and wants a human to look at.
    Warning,
    /// Something Pod Security still rejects after hardening (a blocker).
    Violation,
    /// Fixes not applied to a resource because of its violations.
    Withheld,
    /// Something harden noticed and left alone.
    Note,
    /// A resource or document harden left alone as a whole.
    Skipped,
    /// Something Pod Security rejects that the owner opted out of
    /// (`harden.dev/skip*`, a config exception): it stays, and is no blocker.
    #[serde(rename = "opted-out")]
    OptedOut,
    /// A Namespace labelled below the hardened level.
    Namespace,
}

/// A place in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    /// How the file was found, for origins: kustomize, kpt or helm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: Kind,
    /// `{apiVersion, kind, namespace, name}`.
    pub resource: Value,
    /// `Kind/namespace/name`, as messages name it.
    #[serde(skip)]
    pub resource_name: String,
    /// Where in the input stream.
    #[serde(flatten)]
    pub at: Location,
    /// Where the resource came from, when the stream says (kustomize, kpt, Helm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// `set` or `append`, for changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<&'static str>,
    /// The value replaced; absent when the field was unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// How many fixes were withheld, for `withheld`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The harden rule id (for violations: `pss/<check>`).
    pub rule: String,
    /// `PSS <check>` or `harden default`, for changes and violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// The Pod Security check id, when the control is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pss_check: Option<String>,
    /// One sentence.
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub documents: usize,
    pub resources_changed: usize,
    pub changes: usize,
    /// Changes that a Pod Security control requires.
    pub pss_changes: usize,
    /// Changes that are harden defaults, not Pod Security requirements.
    pub harden_default_changes: usize,
    pub violations: usize,
    pub withheld: usize,
    pub namespaces_below_level: usize,
    /// Violations the owners opted out of, and in how many resources (left
    /// out where there are none).
    #[serde(skip_serializing_if = "is_zero")]
    pub opted_out: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub resources_opted_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub level: Level,
    pub pss_version: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

const HARDEN_DEFAULT: &str = "harden default";

/// The findings of a run, in stream order.
pub fn build(run: &Run) -> Report {
    let (summary, parts) = build_in_parts(run, <[Finding]>::to_vec);
    Report { level: run.level, pss_version: run.version.to_string(), summary, findings: parts.concat() }
}

/// The findings of a run a run of documents at a time, in parallel, each
/// run's findings handed to `part` as soon as they are made (so that a big
/// stream's findings are never all held at once): the summary, and what
/// `part` made of each run, in stream order.
pub fn build_in_parts<T: Send>(run: &Run, part: impl Fn(&[Finding]) -> T + Sync) -> (Summary, Vec<T>) {
    const RUN: usize = 64;
    let mut summary = Summary::default();
    let mut parts = Vec::new();
    for (src, outcome) in run.sources.iter().zip(run.outcomes) {
        let located = Located::new(&src.text, &outcome.docs, &run.limits);
        // Each task with its own parsed document and origin files.
        let tasks: Vec<(usize, &[DocOutcome], Located)> =
            outcome.docs.chunks(RUN).enumerate().map(|(i, docs)| (i * RUN, docs, located.again())).collect();
        let done: Vec<(Summary, T)> = tasks
            .into_par_iter()
            .map(|(first, docs, located)| {
                let (mut found, mut counts) = (Vec::new(), Summary::default());
                let mut origins = OriginFiles::default();
                for (i, doc) in docs.iter().enumerate() {
                    let index = first + i;
                    let mut ctx = DocCtx { run, located: &located, name: &src.name, index, doc, origins: &mut origins };
                    if let Some(why) = &doc.refused {
                        found.push(ctx.refused(why));
                    }
                    for r in &doc.plan.resources {
                        counts.resources_changed += usize::from(!r.changes.is_empty());
                        counts.resources_opted_out += usize::from(!r.opted_out.is_empty());
                        ctx.resource(r, &mut found);
                    }
                }
                counts.documents = docs.len();
                counts.count(&found);
                (counts, part(&found))
            })
            .collect();
        for (counts, made) in done {
            summary.add(&counts);
            parts.push(made);
        }
    }
    summary.changes = summary.pss_changes + summary.harden_default_changes;
    (summary, parts)
}

impl Summary {
    /// Count findings by kind.
    fn count(&mut self, findings: &[Finding]) {
        for f in findings {
            match f.kind {
                Kind::Change if f.pss_check.is_some() => self.pss_changes += 1,
                Kind::Change => self.harden_default_changes += 1,
                Kind::Violation => self.violations += 1,
                Kind::Withheld => self.withheld += f.count.unwrap_or(0),
                Kind::Namespace => self.namespaces_below_level += 1,
                Kind::OptedOut => self.opted_out += 1,
                Kind::Note | Kind::Warning | Kind::Skipped => {}
            }
        }
    }

    fn add(&mut self, other: &Summary) {
        self.documents += other.documents;
        self.resources_changed += other.resources_changed;
        self.pss_changes += other.pss_changes;
        self.harden_default_changes += other.harden_default_changes;
        self.violations += other.violations;
        self.withheld += other.withheld;
        self.namespaces_below_level += other.namespaces_below_level;
        self.opted_out += other.opted_out;
        self.resources_opted_out += other.resources_opted_out;
    }
}

/// One document being reported.
struct DocCtx<'a, 'r> {
    run: &'a Run<'r>,
    located: &'a Located<'a>,
    name: &'a str,
    index: usize,
    doc: &'a DocOutcome,
    origins: &'a mut OriginFiles,
}

impl DocCtx<'_, '_> {
    fn resource(&mut self, r: &ResourcePlan, out: &mut Vec<Finding>) {
        let resource = self.doc.before.at(&r.base).unwrap_or(&Value::Null);
        let origin = self.origin_of(resource);
        // Made once per resource, copied into each of its findings.
        let (reference, name) = (resource_ref(&r.id), r.id.to_string());
        let mk = |this: &mut Self, kind: Kind, pointer: Option<String>, rule: String, control: Option<String>| {
            let ptr = pointer.clone().unwrap_or_else(|| r.base.clone());
            let at = this.at(&ptr);
            let origin = origin.as_ref().map(|o| Location {
                line: this.origins.line(
                    &o.path,
                    &r.id.kind,
                    r.id.name.as_deref(),
                    &ptr[r.base.len().min(ptr.len())..],
                    &this.run.limits,
                ),
                file: o.path.clone(),
                via: Some(o.via),
            });
            let pss_check = control.as_deref().and_then(help::pss_check).map(str::to_string);
            Finding {
                kind,
                resource: reference.clone(),
                resource_name: name.clone(),
                at,
                origin,
                pointer,
                container: None,
                op: None,
                before: None,
                after: None,
                count: None,
                rule,
                control,
                pss_check,
                message: String::new(),
            }
        };
        if let Some(why) = &r.skipped {
            let mut f = mk(self, Kind::Skipped, None, "skipped".into(), None);
            let n = plural(r.opted_out.len(), "violation");
            f.message = match (r.opted_out.is_empty(), self.run.checking) {
                (true, false) => sentence(&format!("left unchanged: {why}")),
                (true, true) => sentence(&format!("skipped: {why}")),
                (false, false) => format!("left unchanged (opted out: {why}), still violating: {n} below."),
                (false, true) => format!("opted out ({why}), still violating: {n} below."),
            };
            out.push(f);
        }
        for c in &r.changes {
            let control = match c.control {
                Control::Pss(check) => format!("PSS {check}"),
                Control::HardenDefault => HARDEN_DEFAULT.into(),
            };
            let mut f = mk(self, Kind::Change, Some(c.pointer.clone()), c.rule.into(), Some(control));
            f.container = c.container.clone();
            f.op = Some(match c.op {
                Op::Set => "set",
                Op::Append => "append",
            });
            f.before = c.before.clone();
            f.after = Some(c.value.clone());
            f.message = sentence(&c.reason);
            out.push(f);
        }
        for n in &r.notes {
            let kind = if n.warning { Kind::Warning } else { Kind::Note };
            let mut f = mk(self, kind, Some(n.pointer.clone()), n.rule.into(), None);
            f.container = n.container.clone();
            f.message = sentence(&n.message);
            out.push(f);
        }
        let fate = if self.run.partial { "kept" } else { "left unchanged" };
        let violations = r.blockers.iter().map(|b| (Kind::Violation, b, fate.to_string()));
        let opted_out = r.opted_out.iter().map(|o| (Kind::OptedOut, &o.violation, format!("opted out: {}", o.by)));
        for (kind, b, fate) in violations.chain(opted_out) {
            let scope = b.container.as_deref().and_then(|c| container_pointer(resource, c)).unwrap_or_default();
            let field = resource.at(&scope).and_then(|v| field_pointer(v, &b.what));
            let pointer = (!scope.is_empty() || field.is_some())
                .then(|| format!("{}{scope}{}", r.base, field.unwrap_or_default()));
            let check = help::pss_check(&b.control).unwrap_or("unknown").to_string();
            let mut f = mk(self, kind, pointer, format!("pss/{check}"), Some(b.control.clone()));
            f.container = b.container.clone();
            // `harden check` changes nothing: the API server's words say more than a fate.
            f.message = match (&b.upstream, self.run.checking, kind) {
                (Some(upstream), true, Kind::Violation) => format!("{} violates {}: {upstream}", b.what, b.control),
                (Some(upstream), true, _) => format!("{} violates {}: {upstream}; {fate}", b.what, b.control),
                _ => format!("{} violates {}; {fate}", b.what, b.control),
            };
            f.message = sentence(&f.message);
            out.push(f);
        }
        if r.withheld > 0 && !r.blockers.is_empty() {
            let mut f = mk(self, Kind::Withheld, None, "withheld".into(), None);
            f.count = Some(r.withheld);
            f.message = format!(
                "{} withheld because of the violations of this resource (--partial applies them).",
                super::count(r.withheld, "fix")
            );
            out.push(f);
        }
        if r.id.kind == "Namespace" {
            for (mode, value) in below_level(resource, self.run.level) {
                let mut f = mk(
                    self,
                    Kind::Namespace,
                    Some(format!("{}/metadata/labels/pod-security.kubernetes.io~1{mode}", r.base)),
                    "namespace-pod-security".into(),
                    None,
                );
                let effect = match mode {
                    "enforce" => "admits",
                    "audit" => "does not audit",
                    _ => "does not warn about",
                };
                f.message = format!(
                    "pod-security.kubernetes.io/{mode}={value} is below {level}, the level harden hardened to: the namespace {effect} pods that are not {level}.",
                    level = self.run.level
                );
                out.push(f);
            }
        }
    }

    fn refused(&mut self, why: &str) -> Finding {
        let resource = self.doc.plan.resources.first();
        Finding {
            kind: Kind::Skipped,
            resource: resource.map_or(Value::Null, |r| resource_ref(&r.id)),
            resource_name: resource.map_or_else(|| "document".into(), |r| r.id.to_string()),
            at: self.at(""),
            origin: None,
            pointer: None,
            container: None,
            op: None,
            before: None,
            after: None,
            count: None,
            rule: "edit-refused".into(),
            control: None,
            pss_check: None,
            message: sentence(&format!("left unchanged, its edits cannot be written safely: {why}")),
        }
    }

    fn at(&self, pointer: &str) -> Location {
        let line =
            self.doc.places.line(pointer).or_else(|| self.located.line(self.index, pointer)).unwrap_or(self.doc.line);
        Location { file: self.name.to_string(), line, via: None }
    }

    fn origin_of(&self, resource: &Value) -> Option<source_map::Origin> {
        let leading = self.located.leading(self.index, self.doc.places.content);
        source_map::origin(resource, leading, self.run.origin_root.as_deref())
    }
}

/// The pointer (relative to the resource) of the container named `name`,
/// found in any container list below the resource.
fn container_pointer(v: &Value, name: &str) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, child)| {
            if let (true, Some(items)) = (is_container_list(k), child.as_array()) {
                if let Some(i) = items.iter().position(|c| c.get("name").and_then(Value::as_str) == Some(name)) {
                    return Some(format!("/{k}/{i}"));
                }
            }
            container_pointer(child, name).map(|p| format!("/{k}{p}"))
        }),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, child)| container_pointer(child, name).map(|p| format!("/{i}{p}")))
        }
        _ => None,
    }
}

/// The pointer (relative to `v`) of the field a finding names, such as
/// `privileged=true` or `capabilities.add "SYS_ADMIN"`: its leading dotted
/// path, found anywhere below `v`. `None` when it names no field
/// (`allowPrivilegeEscalation unset`, `sysctl "x"`).
fn field_pointer(v: &Value, what: &str) -> Option<String> {
    let path = what.split(['=', ' ']).next().filter(|p| !p.is_empty())?;
    let keys: Vec<&str> = path.split('.').collect();
    find_path(v, &keys)
}

fn find_path(v: &Value, keys: &[&str]) -> Option<String> {
    let direct = keys
        .iter()
        .try_fold((v, String::new()), |(cur, ptr), k| cur.get(*k).map(|next| (next, format!("{ptr}/{}", escape(k)))));
    if let Some((_, ptr)) = direct {
        return Some(ptr);
    }
    match v {
        Value::Object(m) => {
            m.iter().find_map(|(k, child)| find_path(child, keys).map(|p| format!("/{}{p}", escape(k))))
        }
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, c)| find_path(c, keys).map(|p| format!("/{i}{p}")))
        }
        _ => None,
    }
}

fn is_container_list(key: &str) -> bool {
    matches!(key, "initContainers" | "containers" | "ephemeralContainers")
}

/// The `pod-security.kubernetes.io/{enforce,audit,warn}` labels of a
/// Namespace whose level is below `level`.
fn below_level(ns: &Value, level: Level) -> Vec<(&'static str, String)> {
    let rank = |s: &str| match s {
        "privileged" => Some(0),
        "baseline" => Some(1),
        "restricted" => Some(2),
        _ => None,
    };
    let want = rank(level.as_str()).unwrap_or(2);
    let labels = ns.at("/metadata/labels");
    ["enforce", "audit", "warn"]
        .into_iter()
        .filter_map(|mode| {
            let v = labels?.get(format!("pod-security.kubernetes.io/{mode}"))?.as_str()?;
            (rank(v)? < want).then(|| (mode, v.to_string()))
        })
        .collect()
}

/// `1 violation`, `2 violations`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// A message as one sentence, ending with a full stop. Not capitalised:
/// many begin with a field name (`hostNetwork=true violates ...`).
fn sentence(s: &str) -> String {
    let mut out = s.trim().to_string();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The report as pretty-printed JSON.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// The JSON report of a run, made a run of documents at a time: the same
/// text as [`json`] of [`build`], without holding every finding, in pieces
/// to be written one after another (a big stream's report is several times
/// its size: joining it would copy it twice more).
pub fn json_of(run: &Run) -> Vec<String> {
    let (summary, parts) = build_in_parts(run, |found| {
        let mut out = Indented::new(4);
        for f in found {
            // A finding at the depth the whole report puts it.
            out.push(if out.is_empty() { "    " } else { ",\n    " });
            let _ = serde_json::to_writer_pretty(&mut out, f);
        }
        out.into_string()
    });
    let head = Report { level: run.level, pss_version: run.version.to_string(), summary, findings: Vec::new() };
    let whole = serde_json::to_string_pretty(&head).unwrap_or_else(|_| "{}".into());
    // `"findings": []` closes the object; the findings go inside.
    let (Some(at), true) = (whole.rfind("[]"), parts.iter().any(|p| !p.is_empty())) else {
        return vec![whole, "\n".into()];
    };
    let mut pieces = vec![format!("{}[\n", &whole[..at])];
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if pieces.len() > 1 {
            pieces.push(",\n".into());
        }
        pieces.push(part);
    }
    pieces.push(format!("\n  ]{}\n", &whole[at + 2..]));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_pointers_and_sentences() {
        let v = json!({"spec": {"template": {"spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}, {"name": "b"}]}}}});
        assert_eq!(container_pointer(&v, "b").as_deref(), Some("/spec/template/spec/containers/1"));
        assert_eq!(container_pointer(&v, "i").as_deref(), Some("/spec/template/spec/initContainers/0"));
        assert_eq!(container_pointer(&v, "z"), None);
        assert_eq!(sentence("hostNetwork=true violates x"), "hostNetwork=true violates x.");
        let c = json!({"securityContext": {"privileged": true, "capabilities": {"add": ["X"]}}});
        assert_eq!(field_pointer(&c, "privileged=true").as_deref(), Some("/securityContext/privileged"));
        assert_eq!(field_pointer(&c, "capabilities.add \"X\"").as_deref(), Some("/securityContext/capabilities/add"));
        assert_eq!(field_pointer(&c, "allowPrivilegeEscalation unset"), None);
        assert_eq!(sentence("Done."), "Done.");
    }

    #[test]
    fn namespace_levels() {
        let ns = json!({"metadata": {"labels": {
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "baseline"}}});
        assert_eq!(
            below_level(&ns, Level::Restricted),
            vec![("enforce", "privileged".to_string()), ("audit", "baseline".to_string())]
        );
        assert_eq!(below_level(&ns, Level::Baseline), vec![("enforce", "privileged".to_string())]);
    }
}
