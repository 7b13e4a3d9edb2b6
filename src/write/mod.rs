//! Review and CI renderers: what reviewers and CI see of a run besides the
//! YAML stream. Each module turns the pipeline's outcomes into one format:
//! [`diff`] (unified diff), [`patch`] (RFC 6902 per resource), [`report`]
//! (the findings, and JSON), [`text`], [`sarif`] (SARIF 2.1.0); [`locate`] and [`source_map`]
//! find the line and the original file each finding belongs to, [`help`]
//! explains rules and controls. None of them decides what changes: they
//! only read [`DocOutcome`]s.

pub mod diff;
pub mod help;
pub mod locate;
pub mod patch;
pub mod report;
pub mod sarif;
pub mod source_map;
pub mod text;

use crate::pipeline::{DocOutcome, SourceOutcome};
use crate::pss::{Level, Version};
use crate::read::Source;
use crate::workload::ResourceId;
use crate::yaml::Limits;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

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
/// violation remain (a blocker, fixes that could not be written)?
pub fn needs_attention(outcomes: &[SourceOutcome]) -> bool {
    outcomes.iter().flat_map(|o| &o.docs).any(|d| {
        d.changed()
            || d.refused.is_some()
            || d.plan.resources.iter().any(|r| !r.changes.is_empty() || !r.blockers.is_empty() || r.withheld > 0)
    })
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
