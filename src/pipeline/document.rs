//! One chunk of the stream (one document and the comments before it)
//! through the stages: parse → meaning → plan (plus the stream-wide port
//! changes filed for it) → apply → verify. Chunks are independent, so they
//! run in parallel.

use super::{DocOutcome, DocText, Error, Form, Options, Places, Values};
use crate::apply::{self, Edit};
use crate::plan::change::Note;
use crate::plan::pod::{self, apply_checked};
use crate::plan::{DocPlan, plan_document};
use crate::pointer::Pointer;
use crate::ports::index::{IndexOptions, UNREAD, add, has_low_port};
use crate::ports::{ChunkPorts, PortGraph};
use crate::read::split::{Chunk, values};
use crate::verify::{VerifyError, verify_document};
use crate::yaml::{Document, Kind, Limits, ParseError, Semantic, Span, check_json, kubectl, line_col, parse_stream};
use serde_json::Value;

/// A chunk's hardened text and its documents.
#[derive(Debug)]
pub struct ChunkOutcome {
    pub output: String,
    pub docs: Vec<DocOutcome>,
    /// Whether it is values of a JSON stream (`Chunk::json`).
    pub json: bool,
}

/// Parse a chunk and read the meaning of each document that `wanted` says
/// needs it (None for the others); errors carry the chunk's place in its
/// source.
fn read_chunk(
    chunk: &Chunk,
    name: &str,
    opts: &Options,
    wanted: impl Fn(usize, &Document) -> bool,
) -> Result<(Vec<Document>, Vec<Option<Value>>), Error> {
    let text: &str = &chunk.text;
    let located = located(chunk, name);
    let docs = parse_chunk(chunk, &opts.limits).map_err(&located)?;
    let mut values = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let mut sem = Semantic::new(&doc.root, text, opts.limits.max_alias_nodes);
        values.push(if wanted(i, doc) {
            Some(sem.value(&doc.root).map_err(&located)?)
        } else {
            // Not needed, but bad input is bad input: an alias bomb fails here too.
            sem.check_aliases(&doc.root).map_err(&located)?;
            None
        });
    }
    Ok((docs, values))
}

/// A parse error in the chunk, placed in its source.
fn located<'c>(chunk: &'c Chunk, name: &'c str) -> impl Fn(ParseError) -> Error + 'c {
    move |error: ParseError| Error::Parse { name: name.to_string(), error: moved(error, chunk.line, chunk.col) }
}

/// An error at a place in a piece of text, placed where the piece starts
/// (a 1-based line and column).
fn moved(mut error: ParseError, line: usize, col: usize) -> ParseError {
    if error.line == 1 {
        error.col += col - 1;
    }
    error.line += line - 1;
    error
}

/// The documents of a chunk: a YAML stream, or values of a JSON stream,
/// each read on its own (see `read::split`), in the chunk's terms.
fn parse_chunk(chunk: &Chunk, limits: &Limits) -> Result<Vec<Document>, ParseError> {
    let text: &str = &chunk.text;
    if !chunk.json {
        return parse_stream(text, limits);
    }
    let mut docs = Vec::new();
    for range in values(text) {
        let at = || line_col(text, range.start);
        let piece = parse_stream(&text[range.clone()], limits).map_err(|e| {
            let (line, col) = at();
            moved(e, line, col)
        })?;
        docs.extend(piece.into_iter().map(|mut d| {
            d.shift(range.start);
            d
        }));
    }
    Ok(docs)
}

/// Whether a document of this `kind` can matter to a rule, to the port
/// pass or to a report: a workload kind, a List, a kind the port pass
/// reads (`ports::references`), or a Namespace (reports name those
/// labelled below the level). (A document whose kind cannot be read
/// without reading it is read.)
fn may_matter(doc: &Document, opts: &Options) -> bool {
    match doc.kind() {
        Kind::Absent => false,
        Kind::Unknown => true,
        Kind::Named(kind) => {
            kind.ends_with("List")
                || kind == "Namespace"
                || opts.plan.kinds.iter().any(|k| k.kind == kind)
                || crate::ports::references::reads_kind(kind)
        }
    }
}

/// What pass 1 remembers of a chunk for pass 2: the number of its first
/// document in the stream, how many documents it holds and whether any of
/// them can matter to a rule (else pass 2 copies it through without
/// parsing it again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkInfo {
    pub first: usize,
    pub docs: usize,
    pub matters: bool,
    /// How many of its documents are Kubernetes objects.
    pub manifests: usize,
    pub form: Form,
    /// See [`super::Found::open_end`].
    pub open_end: Option<usize>,
}

/// Pass 1: the chunk's part of the port graph, its documents numbered from
/// 0. A document whose pods declare no privileged port is read without the
/// keys indexing never looks at (`ports::index::UNREAD`); one that does is
/// read whole and planned.
pub fn index_chunk(
    chunk: &Chunk,
    name: &str,
    opts: &Options,
    io: &IndexOptions,
) -> Result<(PortGraph, ChunkInfo), Error> {
    let text: &str = &chunk.text;
    let located = located(chunk, name);
    let docs = parse_chunk(chunk, &opts.limits).map_err(&located)?;
    let mut graph = PortGraph::default();
    let mut matters = false;
    for (i, doc) in docs.iter().enumerate() {
        let mut sem = Semantic::new(&doc.root, text, opts.limits.max_alias_nodes);
        if !may_matter(doc, opts) {
            // Not needed, but bad input is bad input: an alias bomb fails here too.
            sem.check_aliases(&doc.root).map_err(&located)?;
            continue;
        }
        matters = true;
        let whole = || Semantic::new(&doc.root, text, opts.limits.max_alias_nodes).value(&doc.root).map_err(&located);
        // The keys left unread never hold ports: the partial reading tells
        // whether a pod declares a privileged port as well as the whole one.
        let (value, low) = match sem.value_without(&doc.root, UNREAD) {
            Some(partial) => {
                let partial = partial.map_err(&located)?;
                if has_low_port(&partial, io) { (whole()?, true) } else { (partial, false) }
            }
            None => {
                let value = whole()?;
                let low = has_low_port(&value, io);
                (value, low)
            }
        };
        let plan = low.then(|| plan_document(&value, &opts.plan));
        add(&mut graph, i, &value, plan.as_ref(), io);
    }
    if !chunk.json {
        kubectl::check(text, &docs, chunk.offset == 0).map_err(&located)?;
    } else {
        for doc in docs.iter().filter(|d| d.is_json()) {
            check_json(&text[doc.start..doc.end]).map_err(|e| {
                let (line, col) = line_col(text, doc.start);
                located(moved(e, line, col))
            })?;
        }
    }
    let manifests = docs.iter().filter(|d| d.is_kubernetes_object()).count();
    let form = if text.trim().is_empty() {
        Form::Blank
    } else if chunk.json && docs.iter().all(Document::is_json) {
        Form::Json
    } else {
        Form::Yaml
    };
    let open_end = open_end(chunk, &docs, &opts.limits);
    Ok((graph, ChunkInfo { first: 0, docs: docs.len(), matters, manifests, form, open_end }))
}

/// Where a chunk (the last of its source) ends without a line break: its
/// last line, if a line break after it would change what its last
/// document means (a block scalar that ends the file takes it into its
/// value). Read again with one to find out: rare, and then exact.
fn open_end(chunk: &Chunk, docs: &[Document], limits: &Limits) -> Option<usize> {
    let text: &str = &chunk.text;
    let last = docs.last().filter(|_| !text.is_empty() && !text.ends_with('\n'))?;
    let region = &text[last.start..];
    let value = |text: &str| -> Option<Value> {
        let docs = parse_stream(text, limits).ok()?;
        let [doc] = docs.as_slice() else { return None };
        Semantic::new(&doc.root, text, limits.max_alias_nodes).value(&doc.root).ok()
    };
    let changes = value(region) != value(&format!("{region}\n"));
    changes.then(|| chunk.line + text.matches('\n').count())
}

/// The image of every container of every pod template in the chunk, in
/// order (`--resolve-images` reads them before pass 1), found through the
/// kinds table as the plan finds pod specs.
pub fn image_references(chunk: &Chunk, name: &str, opts: &Options) -> Result<Vec<String>, Error> {
    let text: &str = &chunk.text;
    let located = located(chunk, name);
    let docs = parse_chunk(chunk, &opts.limits).map_err(&located)?;
    let mut images = Vec::new();
    for doc in docs.iter().filter(|doc| may_matter(doc, opts)) {
        let value = Semantic::new(&doc.root, text, opts.limits.max_alias_nodes).value(&doc.root).map_err(&located)?;
        for (base, id) in crate::workload::resources(&value) {
            for site in crate::workload::pod_sites(&value, &base, &id, opts.plan.kinds) {
                let Some(spec) = value.at(&site.spec) else { continue };
                for list in pod::CONTAINER_LISTS {
                    let containers = spec.get(list).and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                    images.extend(containers.iter().filter_map(|c| c.get("image")?.as_str().map(str::to_string)));
                }
            }
        }
    }
    Ok(images)
}

/// Pass 2: harden the chunk, with `ports` its share of the port decisions. Unless `keep` is `Drop`, the
/// outcome carries each document's meaning before and after (for patches,
/// reports and KRM results), as `keep` says; else those are null, to keep
/// memory flat while streaming.
pub fn harden_chunk(
    chunk: &Chunk,
    name: &str,
    opts: &Options,
    ports: &ChunkPorts,
    keep: Values,
    info: Option<ChunkInfo>,
) -> Result<ChunkOutcome, Error> {
    // Only KRM results read every document's values; diffs, patches and
    // reports read nothing of a document no rule or port change touches.
    let every_value = matches!(keep, Values::Keep);
    let text: &str = &chunk.text;
    // The stream's number of the chunk's first document.
    let key = info.map_or(0, |i| i.first);
    // Pass 1 saw nothing here a rule or a port change can touch: the text
    // goes through as it is, unparsed.
    if let Some(info) = info
        && !every_value
        && !info.matters
        && !(0..info.docs).any(|i| ports.has(key + i))
    {
        let passthrough = |_| DocOutcome {
            start: chunk.offset,
            end: chunk.offset + text.len(),
            line: chunk.line,
            plan: DocPlan::default(),
            before: Value::Null,
            after: Value::Null,
            refused: None,
            edits: Vec::new(),
            places: Places::default(),
        };
        let docs = (0..info.docs).map(passthrough).collect();
        return Ok(ChunkOutcome { output: text.to_string(), docs, json: chunk.json });
    }
    // Unless every value is kept, a document no rule or port change can
    // touch is not read.
    let wanted = |i: usize, doc: &Document| every_value || may_matter(doc, opts) || ports.has(key + i);
    let (docs, values) = read_chunk(chunk, name, opts, wanted)?;
    let mut outcomes = Vec::with_capacity(docs.len());
    let mut all_edits = Vec::new();
    // Line numbers by counting forward from the previous document, not from
    // the chunk's start each time.
    let (mut counted_to, mut line) = (0, chunk.line);
    for (i, (doc, before)) in docs.iter().zip(values).enumerate() {
        line += text[counted_to..doc.start].matches('\n').count();
        counted_to = doc.start;
        let Some(before) = before else {
            let (start, end) = (chunk.offset + doc.start, chunk.offset + doc.end);
            let (before, after, plan, refused, edits) =
                (Value::Null, Value::Null, DocPlan::default(), None, Vec::new());
            let places = Places::default();
            outcomes.push(DocOutcome { start, end, line, plan, before, after, refused, edits, places });
            continue;
        };
        let mut plan = plan_document(&before, &opts.plan);
        ports.apply_to(key + i, &before, &mut plan, opts.plan.kinds, opts.plan.images);
        let original = match keep {
            Values::Keep => Some(before.clone()),
            Values::Reduce(reducer) => Some((reducer.before)(&before, &plan)),
            Values::Drop => None,
        };
        let (edits, after, refused) = write_plan(text, doc, before, &mut plan, opts);
        if !edits.is_empty() {
            let region = shifted(&edits, doc.start, doc.end, doc.start);
            let edited = apply::splice(&text[doc.start..doc.end], &region);
            verify_document(name, line, &edited, &after, &opts.limits)?;
            // A value of a JSON stream stays JSON, as kubectl reads it there.
            if chunk.json && doc.is_json() {
                check_json(&edited).map_err(|e| VerifyError { name: name.to_string(), line, what: e.to_string() })?;
            }
        }
        let absolute = shifted(&edits, 0, text.len(), 0)
            .into_iter()
            .map(|e| Edit { span: Span::new(e.span.start + chunk.offset, e.span.end + chunk.offset), text: e.text })
            .collect();
        all_edits.extend(edits);
        let (before, after) = match original {
            Some(before) => (before, after),
            None => (Value::Null, Value::Null),
        };
        let mut outcome = DocOutcome {
            start: chunk.offset + doc.start,
            end: chunk.offset + doc.end,
            line,
            plan,
            before,
            after,
            refused,
            edits: absolute,
            places: Places::default(),
        };
        if let Values::Reduce(reducer) = keep {
            (reducer.outcome)(&mut outcome, &DocText { doc, text });
        }
        outcomes.push(outcome);
    }
    let output = if all_edits.is_empty() { text.to_string() } else { apply::splice(text, &all_edits) };
    Ok(ChunkOutcome { output, docs: outcomes, json: chunk.json })
}

/// The text edits for a document's plan. A resource whose changes cannot
/// be written (through a shared anchor, say) is left as it is and named in
/// the returned reason; the other resources of the document (a `List`'s
/// items) are still written.
///
/// `before` is taken by value: the planned value is built in place of it
/// (documents are big; the caller clones only if it keeps the original).
fn write_plan(
    text: &str,
    doc: &Document,
    before: Value,
    plan: &mut DocPlan,
    opts: &Options,
) -> (Vec<Edit>, Value, Option<String>) {
    let mut reasons: Vec<String> = Vec::new();
    let mut base = before;
    loop {
        if plan.changes().next().is_none() {
            return (Vec::new(), base, join(reasons));
        }
        let mut after = base;
        // Every change, whoever planned it (rules, the port pass), must land;
        // one that cannot is dropped with a warning rather than claimed.
        for r in &mut plan.resources {
            let mut unlanded = Vec::new();
            r.changes.retain(|c| {
                let landed = apply_checked(&mut after, c.op, &c.pointer, c.value.clone());
                if !landed {
                    unlanded.push(Note {
                        pointer: c.pointer.clone(),
                        rule: c.rule,
                        container: c.container.clone(),
                        message: pod::unlanded(&c.pointer),
                        warning: true,
                    });
                }
                landed
            });
            r.notes.extend(unlanded);
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
        // Start again from the document as written (rare: read it again
        // rather than keep a copy for every document).
        base = match Semantic::new(&doc.root, text, opts.limits.max_alias_nodes).value(&doc.root) {
            Ok(v) => v,
            Err(_) => return (Vec::new(), Value::Null, join(reasons)),
        };
    }
}

fn join(reasons: Vec<String>) -> Option<String> {
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Edits clamped to `[start, end)` and moved back by `by`.
fn shifted(edits: &[Edit], start: usize, end: usize, by: usize) -> Vec<Edit> {
    edits
        .iter()
        .map(|e| Edit {
            span: Span::new(e.span.start.clamp(start, end) - by, e.span.end.clamp(start, end) - by),
            text: e.text.clone(),
        })
        .collect()
}
