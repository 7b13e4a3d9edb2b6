//! The stages in order, for one source: parse → plan → apply → verify.
//! This module only composes; each stage lives in its own module.

use crate::apply::{self, Edit};
use crate::plan::pod::apply_one;
use crate::plan::{DocPlan, PlanOptions, plan_document};
use crate::ports::index::Slot;
use crate::read::Source;
use crate::verify::{VerifyError, verify_document};
use crate::yaml::{Document, Limits, ParseError, Semantic, parse_stream};
use serde_json::Value;

/// Everything the stages need, resolved.
pub struct Options<'a> {
    pub plan: PlanOptions<'a>,
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: exit 2.
    #[error("{name}:{error}")]
    Parse { name: String, error: ParseError },
    /// A harden bug caught by verification: exit 3.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// One document's outcome.
#[derive(Debug)]
pub struct DocOutcome {
    /// Byte range of the document's region in the input.
    pub start: usize,
    pub end: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    pub plan: DocPlan,
    /// The document's meaning before and after (equal when unchanged).
    pub before: Value,
    pub after: Value,
    /// Why planned changes could not be written, if they could not.
    pub refused: Option<String>,
    /// The document's own edits.
    pub edits: Vec<Edit>,
}

impl DocOutcome {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// One source's outcome: its hardened text and what happened per document.
#[derive(Debug)]
pub struct SourceOutcome {
    pub output: String,
    pub docs: Vec<DocOutcome>,
}

/// Harden a whole stream: every source is parsed and read first (the
/// port rule needs to see Services and NetworkPolicies in other documents
/// and files), then each document is planned, edited and verified. Fails on
/// malformed input anywhere (nothing is written) and on a verification
/// mismatch.
pub fn harden_stream(sources: &[Source], opts: &Options) -> Result<Vec<SourceOutcome>, Error> {
    let mut parsed = Vec::with_capacity(sources.len());
    for src in sources {
        let parse_err = |error| Error::Parse { name: src.name.clone(), error };
        let docs = parse_stream(&src.text, &opts.limits).map_err(parse_err)?;
        let mut values = Vec::with_capacity(docs.len());
        for doc in &docs {
            values.push(
                Semantic::new(&doc.root, &src.text, opts.limits.max_alias_nodes).value(&doc.root).map_err(parse_err)?,
            );
        }
        parsed.push((docs, values));
    }
    let mut plans: Vec<Vec<DocPlan>> =
        parsed.iter().map(|(_, values)| values.iter().map(|v| plan_document(v, &opts.plan)).collect()).collect();
    plan_ports(&parsed, &mut plans, &opts.plan);
    sources
        .iter()
        .zip(&parsed)
        .zip(plans)
        .map(|((src, (docs, values)), plans)| harden_parsed(src, docs, values, plans, opts))
        .collect()
}

/// The stream-wide pass: privileged ports and everything pointing at them.
fn plan_ports(parsed: &[(Vec<Document>, Vec<Value>)], plans: &mut [Vec<DocPlan>], opts: &PlanOptions) {
    let Some(settings) = &opts.profile.ports else { return };
    let strategy = opts.ports.unwrap_or(settings.strategy);
    let mut slots: Vec<Slot> = parsed
        .iter()
        .zip(plans.iter_mut())
        .flat_map(|((_, values), plans)| values.iter().zip(plans.iter_mut()).map(|(value, plan)| Slot { value, plan }))
        .collect();
    crate::ports::plan_stream(&mut slots, settings, strategy, opts.kinds, opts.partial);
}

/// Harden one source on its own (no cross-file references).
pub fn harden_source(src: &Source, opts: &Options) -> Result<SourceOutcome, Error> {
    let mut out = harden_stream(std::slice::from_ref(src), opts)?;
    Ok(out.remove(0))
}

fn harden_parsed(
    src: &Source,
    docs: &[Document],
    values: &[Value],
    plans: Vec<DocPlan>,
    opts: &Options,
) -> Result<SourceOutcome, Error> {
    let text = src.text.as_str();
    let mut outcomes = Vec::with_capacity(docs.len());
    let mut all_edits = Vec::new();
    let lines = crate::yaml::LineIndex::new(text);
    for (index, ((doc, before), mut plan)) in docs.iter().zip(values).zip(plans).enumerate() {
        let (edits, after, refused) = write_plan(text, doc, before, &mut plan, opts);
        if !edits.is_empty() {
            let region = shifted(&edits, doc.start, doc.end);
            let edited = apply::splice(&text[doc.start..doc.end], &region);
            verify_document(&src.name, index + 1, &edited, &after, &opts.limits)?;
        }
        all_edits.extend(edits.iter().cloned());
        let line = lines.line(doc.start);
        outcomes.push(DocOutcome {
            start: doc.start,
            end: doc.end,
            line,
            plan,
            before: before.clone(),
            after,
            refused,
            edits,
        });
    }
    Ok(SourceOutcome { output: apply::splice(text, &all_edits), docs: outcomes })
}

/// The text edits for a document's plan. A resource whose changes cannot
/// be written (through a shared anchor, say) is left as it is and named in
/// the returned reason; the other resources of the document (a `List`'s
/// items) are still written.
fn write_plan(
    text: &str,
    doc: &Document,
    before: &Value,
    plan: &mut DocPlan,
    opts: &Options,
) -> (Vec<Edit>, Value, Option<String>) {
    let mut reasons: Vec<String> = Vec::new();
    loop {
        let mut after = before.clone();
        for c in plan.changes() {
            apply_one(&mut after, c.op, &c.pointer, c.value.clone());
        }
        if after == *before {
            return (Vec::new(), after, join(reasons));
        }
        let err = match apply::plan_edits(text, doc, &after, opts.limits.max_alias_nodes) {
            Ok(edits) => return (edits, after, join(reasons)),
            Err(e) => e,
        };
        // Drop the changes of the resource the failing edit belongs to (the
        // one with the longest base pointer that contains it), or of all.
        let pointer = err.pointer().unwrap_or("");
        let culprit = plan
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !r.changes.is_empty()
                    && (pointer == r.base || pointer.starts_with(&format!("{}/", r.base)) || r.base.is_empty())
            })
            .max_by_key(|(_, r)| r.base.len())
            .map(|(i, _)| i);
        let targets: Vec<usize> = match culprit {
            Some(i) => vec![i],
            None => (0..plan.resources.len()).collect(),
        };
        for i in targets {
            let r = &mut plan.resources[i];
            reasons.push(format!("{}: {err}", r.id));
            r.withheld += r.changes.len();
            r.changes.clear();
        }
    }
}

fn join(reasons: Vec<String>) -> Option<String> {
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// The edits of one document, relative to its region.
fn shifted(edits: &[Edit], start: usize, end: usize) -> Vec<Edit> {
    edits
        .iter()
        .map(|e| Edit {
            span: crate::yaml::Span::new(e.span.start.clamp(start, end) - start, e.span.end.clamp(start, end) - start),
            text: e.text.clone(),
        })
        .collect()
}
