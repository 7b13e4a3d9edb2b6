//! The apply stage: the one place that edits source text.
//!
//! Given a document's span tree and the planned meaning of that document,
//! it finds the smallest set of text splices that make the text mean the
//! plan: changed scalars are replaced in place (keeping their quoting), new
//! keys and items are inserted after their last sibling in the sibling's
//! layout (block or flow, indentation, line ending). Every byte outside the
//! splices stays as it was; a block scalar's new value is written in its
//! own style, changed lines only, where that style can hold it exactly
//! (`block.rs`). Edits it cannot make safely (through an alias or a `<<`
//! merge, removals) are refused with a reason, never approximated; the
//! `verify` stage then checks the result.

mod block;
pub mod json;
pub mod layout;
pub mod render;

use crate::pointer::{escape, push_token};
use crate::yaml::scalar::{key_str, key_string};
use crate::yaml::{Document, Layout, Node, NodeKind, ParseError, ScalarStyle, Semantic, Span};
use layout::{DocLayout, column, line_indent};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;

/// Replace `span` of the source with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

/// Why the plan could not be written into the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "{pointer}: the value comes from an alias (*anchor); changing it would change every other use of the anchor"
    )]
    ThroughAlias { pointer: String },
    #[error("{pointer}: the value comes from a `<<` merge; changing it would change the merged mapping")]
    ThroughMerge { pointer: String },
    #[error("{pointer}: {what}")]
    Unsupported { pointer: String, what: String },
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl ApplyError {
    /// The JSON pointer of the value that could not be edited.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            ApplyError::ThroughAlias { pointer }
            | ApplyError::ThroughMerge { pointer }
            | ApplyError::Unsupported { pointer, .. } => Some(pointer),
            ApplyError::Parse(_) => None,
        }
    }
}

/// The edits that turn `doc` (in `text`) into `planned`.
pub fn plan_edits(
    text: &str,
    doc: &Document,
    planned: &Value,
    max_alias_nodes: usize,
) -> Result<Vec<Edit>, ApplyError> {
    let mut ed = Editor {
        text,
        sem: Semantic::new(&doc.root, text, max_alias_nodes),
        lay: DocLayout::of(doc, text),
        root: &doc.root,
        referenced: None,
        edits: Vec::new(),
        eof_broken: std::cell::Cell::new(false),
    };
    ed.node(&doc.root, planned, &mut String::new(), Ctx { owner_col: None, in_flow: false, shared: false })?;
    Ok(ed.edits)
}

/// Apply non-overlapping edits to `text`. Edits at the same offset keep the
/// order they were made in (inner insertions before outer ones).
pub fn splice(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for e in sorted {
        // Overlaps cannot come out of `plan_edits`; the verify stage would
        // catch them anyway, so never panic here.
        let start = e.span.start.max(at);
        out.push_str(&text[at..start]);
        out.push_str(&e.text);
        at = e.span.end.max(start);
    }
    out.push_str(&text[at..]);
    out
}

/// Where a node sits.
#[derive(Clone, Copy)]
struct Ctx {
    /// Column of the key (or dash) that owns this value, in block context.
    owner_col: Option<usize>,
    in_flow: bool,
    /// Inside an anchored node that an alias elsewhere refers to.
    shared: bool,
}

struct Editor<'t> {
    text: &'t str,
    sem: Semantic<'t>,
    lay: DocLayout,
    root: &'t Node,
    /// The anchors some alias refers to, collected on the first anchor met.
    referenced: Option<HashSet<usize>>,
    edits: Vec<Edit>,
    /// Whether an insertion already added the missing final line break.
    eof_broken: std::cell::Cell<bool>,
}

impl<'t> Editor<'t> {
    fn node(&mut self, node: &'t Node, planned: &Value, ptr: &mut String, ctx: Ctx) -> Result<(), ApplyError> {
        let ctx = Ctx { shared: ctx.shared || node.anchor.is_some_and(|a| self.is_referenced(a)), ..ctx };
        match &node.kind {
            NodeKind::Alias(_) => {
                if !self.sem.equals(node, planned)? {
                    return Err(ApplyError::ThroughAlias { pointer: ptr.clone() });
                }
                Ok(())
            }
            NodeKind::Scalar { style, .. } => self.scalar(node, *style, planned, ptr, ctx),
            NodeKind::Mapping { layout, entries } => {
                let Value::Object(want) = planned else {
                    return self.unsupported(ptr, "a mapping would have to become something else");
                };
                self.mapping(node, *layout, entries, want, ptr, ctx)
            }
            NodeKind::Sequence { layout, items } => {
                let Value::Array(want) = planned else {
                    return self.unsupported(ptr, "a sequence would have to become something else");
                };
                self.sequence(node, *layout, items, want, ptr, ctx)
            }
        }
    }

    fn is_referenced(&mut self, anchor: usize) -> bool {
        let root = self.root;
        self.referenced
            .get_or_insert_with(|| {
                let mut referenced = HashSet::new();
                root.walk(&mut |n| {
                    if let NodeKind::Alias(id) = n.kind {
                        referenced.insert(id);
                    }
                });
                referenced
            })
            .contains(&anchor)
    }

    fn push(&mut self, ctx: Ctx, ptr: &str, span: Span, text: String) -> Result<(), ApplyError> {
        if ctx.shared {
            return Err(ApplyError::ThroughAlias { pointer: ptr.to_string() });
        }
        self.edits.push(Edit { span, text });
        Ok(())
    }

    fn unsupported(&self, ptr: &str, what: &str) -> Result<(), ApplyError> {
        Err(ApplyError::Unsupported { pointer: ptr.to_string(), what: what.to_string() })
    }

    fn scalar(
        &mut self,
        node: &'t Node,
        style: ScalarStyle,
        planned: &Value,
        ptr: &str,
        ctx: Ctx,
    ) -> Result<(), ApplyError> {
        if self.sem.equals(node, planned)? {
            return Ok(());
        }
        if let NodeKind::Scalar { value, style: ScalarStyle::Literal | ScalarStyle::Folded, .. } = &node.kind {
            let folded = style == ScalarStyle::Folded;
            let Some(edits) = block::rewrite(self.text, node, value, folded, planned, self.lay.newline) else {
                return self.unsupported(ptr, "cannot find this block scalar's header (| or >)");
            };
            for e in edits {
                self.push(ctx, ptr, e.span, e.text)?;
            }
            return Ok(());
        }
        let empty = node.span.start == node.span.end;
        match planned {
            Value::Object(_) | Value::Array(_) if node.is_null_scalar() => self.fill_null(node, planned, ptr, ctx),
            Value::Object(_) | Value::Array(_) => self.unsupported(ptr, "a scalar would have to become a collection"),
            _ => {
                let rendered = match self.lay.json {
                    Some(_) => planned.to_string(),
                    None => render::replacement_scalar(planned, style, ctx.in_flow),
                };
                let text = if empty { format!(" {rendered}") } else { rendered };
                self.push(ctx, ptr, node.span, text)
            }
        }
    }

    /// `key:`, `key: ~` or `key: {}` / `key: []` that must hold a collection.
    fn fill_null(&mut self, node: &'t Node, planned: &Value, ptr: &str, ctx: Ctx) -> Result<(), ApplyError> {
        let (Some(owner), false) = (ctx.owner_col, ctx.in_flow) else {
            let text = match &self.lay.json {
                Some(style) => {
                    json::value(planned, line_indent(self.text, node.span.start), style.pretty, style, self.lay.newline)
                }
                None => render::flow(planned),
            };
            let text = if node.span.start == node.span.end { format!(" {text}") } else { text };
            return self.push(ctx, ptr, node.span, text);
        };
        // Start the replacement right after the `:` so no trailing space is left.
        let start = self.text[..node.span.start].trim_end_matches([' ', '\t']).len();
        if self.text[..start].ends_with('-') {
            return self.unsupported(ptr, "cannot fill an empty sequence item");
        }
        let mut out = String::from(self.lay.newline);
        match planned {
            Value::Object(m) => {
                let items: Vec<_> = m.iter().collect();
                render::block_entries(&mut out, &items, owner + self.lay.step, &self.lay);
            }
            Value::Array(a) => render::block_items(&mut out, a, owner + self.lay.seq_offset, &self.lay),
            _ => {}
        }
        // The line's own ending (and any comment) follows the replacement.
        let trimmed = out.strip_suffix(self.lay.newline).unwrap_or(&out).to_string();
        self.push(ctx, ptr, Span::new(start, node.span.end), trimmed)
    }

    fn mapping(
        &mut self,
        node: &'t Node,
        layout: Layout,
        entries: &'t [crate::yaml::Entry],
        want: &Map<String, Value>,
        ptr: &mut String,
        ctx: Ctx,
    ) -> Result<(), ApplyError> {
        let in_flow = ctx.in_flow || layout == Layout::Flow;
        let mut keys: Vec<Cow<'t, str>> = Vec::with_capacity(entries.len());
        let mut in_step = want.iter();
        let mut merged = Map::new();
        let mut simple = true;
        for e in entries {
            if e.key.is_merge_key() {
                simple = false;
                if let Value::Object(m) = self.sem.value(&e.value)? {
                    for (k, v) in m {
                        merged.entry(k).or_insert(v);
                    }
                } else if let Value::Array(list) = self.sem.value(&e.value)? {
                    for m in list.into_iter().filter_map(|v| if let Value::Object(m) = v { Some(m) } else { None }) {
                        for (k, v) in m {
                            merged.entry(k).or_insert(v);
                        }
                    }
                }
                continue;
            }
            let key = match &e.key.kind {
                NodeKind::Scalar { value, style, tag } => key_str(value, *style, tag.as_deref()),
                _ => {
                    simple = false;
                    Cow::Owned(key_string(&self.sem.value(&e.key)?))
                }
            };
            let len = ptr.len();
            push_token(ptr, &key);
            // The planned map mostly has the keys in the text's order: take
            // them in step, and look one up only where not.
            let in_order = match in_step.next() {
                Some((k, v)) if *k == *key => Some(v),
                _ => want.get(key.as_ref()),
            };
            let Some(v) = in_order else {
                return self.unsupported(ptr, "removing a key is not supported");
            };
            let owner_col = (!in_flow).then(|| column(self.text, e.key.span.start));
            self.node(&e.value, v, ptr, Ctx { owner_col, in_flow, ..ctx })?;
            keys.push(key);
            ptr.truncate(len);
        }
        // Scalar keys are unique (the reader saw to it) and each was found in
        // the plan: if the plan has as many, none is new.
        if simple && want.len() == keys.len() {
            return Ok(());
        }
        let direct: HashSet<&str> = keys.iter().map(|k| k.as_ref()).collect();
        let mut new = Vec::new();
        for (k, v) in want {
            if direct.contains(k.as_str()) {
                continue;
            }
            match merged.get(k) {
                Some(m) if m == v => {}
                Some(_) => return Err(ApplyError::ThroughMerge { pointer: format!("{ptr}/{}", escape(k)) }),
                None => new.push((k, v)),
            }
        }
        if let Some(k) = merged.keys().find(|k| !direct.contains(k.as_str()) && !want.contains_key(*k)) {
            return self.unsupported(&format!("{ptr}/{}", escape(k)), "removing a merged key is not supported");
        }
        if new.is_empty() {
            return Ok(());
        }
        match (layout, entries.last()) {
            (Layout::Block, Some(last)) => {
                if entries.iter().any(|e| !matches!(e.key.kind, NodeKind::Scalar { .. })) {
                    return self.unsupported(ptr, "cannot add keys to a mapping whose keys are not scalars");
                }
                let col = key_column(self.text, &entries[0].key);
                let (at, lead) = self
                    .after_line(&last.value)
                    .map_err(|what| ApplyError::Unsupported { pointer: ptr.clone(), what })?;
                let mut out = lead;
                render::block_entries(&mut out, &new, col, &self.lay);
                self.push(ctx, ptr, Span::new(at, at), out)
            }
            (Layout::Flow, Some(last)) => {
                let parts: Vec<String> = match (&self.lay.json, self.flow_indent(node, last.key.span.start)) {
                    (Some(style), indent) => new
                        .iter()
                        .map(|(k, v)| {
                            json::member(k, v, indent.unwrap_or(0), indent.is_some(), style, self.lay.newline)
                        })
                        .collect(),
                    (None, _) => new
                        .iter()
                        .map(|(k, v)| format!("{}: {}", render::flow(&Value::String((*k).clone())), render::flow(v)))
                        .collect(),
                };
                self.flow_append(node, last.key.span.start, last.value.span.end, &parts, ptr, ctx)
            }
            (_, None) => {
                let planned = Value::Object(new.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                self.fill_null(node, &planned, ptr, ctx)
            }
        }
    }

    fn sequence(
        &mut self,
        node: &'t Node,
        layout: Layout,
        items: &'t [Node],
        want: &[Value],
        ptr: &mut String,
        ctx: Ctx,
    ) -> Result<(), ApplyError> {
        if want.len() < items.len() {
            return self.unsupported(ptr, "removing a list item is not supported");
        }
        let in_flow = ctx.in_flow || layout == Layout::Flow;
        let dash_col = column(self.text, node.span.start);
        for (i, (item, v)) in items.iter().zip(want).enumerate() {
            let len = ptr.len();
            push_token(ptr, &i.to_string());
            let owner_col = (!in_flow).then_some(dash_col);
            self.node(item, v, ptr, Ctx { owner_col, in_flow, ..ctx })?;
            ptr.truncate(len);
        }
        let extra = &want[items.len()..];
        if extra.is_empty() {
            return Ok(());
        }
        match (layout, items.last()) {
            (Layout::Block, Some(last)) => {
                let (at, lead) =
                    self.after_line(last).map_err(|what| ApplyError::Unsupported { pointer: ptr.clone(), what })?;
                let mut out = lead;
                render::block_items(&mut out, extra, dash_col, &self.lay);
                self.push(ctx, ptr, Span::new(at, at), out)
            }
            (Layout::Flow, Some(last)) => {
                let parts: Vec<String> = match (&self.lay.json, self.flow_indent(node, last.span.start)) {
                    (Some(style), indent) => extra
                        .iter()
                        .map(|v| json::value(v, indent.unwrap_or(0), indent.is_some(), style, self.lay.newline))
                        .collect(),
                    (None, _) => extra.iter().map(render::flow).collect(),
                };
                self.flow_append(node, last.span.start, last.span.end, &parts, ptr, ctx)
            }
            (_, None) => self.fill_null(node, &Value::Array(extra.to_vec()), ptr, ctx),
        }
    }

    /// Where new elements of a flow collection whose last element starts
    /// at `last_start` go: on lines of their own at that element's column
    /// (returned) if the collection spans lines, else on its line (None).
    fn flow_indent(&self, node: &Node, last_start: usize) -> Option<usize> {
        self.text[node.span.start..last_start].contains('\n').then(|| column(self.text, last_start))
    }

    /// Append `parts` to a non-empty flow collection whose last element
    /// starts at `last_start` and ends at `last_end`.
    fn flow_append(
        &mut self,
        node: &Node,
        last_start: usize,
        last_end: usize,
        parts: &[String],
        ptr: &str,
        ctx: Ctx,
    ) -> Result<(), ApplyError> {
        let multiline = self.flow_indent(node, last_start);
        let indent = " ".repeat(multiline.unwrap_or(0));
        let multiline = multiline.is_some();
        let nl = self.lay.newline;
        let after = skip_space_and_comments(self.text, last_end, node.span.end);
        if self.text[after..].starts_with(',') {
            // Trailing-comma style (KYAML): each new element gets its own comma.
            let text: String =
                parts.iter().map(|p| if multiline { format!("{nl}{indent}{p},") } else { format!(" {p},") }).collect();
            return self.push(ctx, ptr, Span::new(after + 1, after + 1), text);
        }
        let sep = self.lay.json.as_ref().map_or(", ", json::separator);
        let text: String =
            parts.iter().map(|p| if multiline { format!(",{nl}{indent}{p}") } else { format!("{sep}{p}") }).collect();
        self.push(ctx, ptr, Span::new(last_end, last_end), text)
    }

    /// Where a new line may start after `node`, and what must come before it
    /// (a line break when the node ends the file without one).
    fn after_line(&self, node: &Node) -> Result<(usize, String), String> {
        let text = self.text;
        let mut end = node.span.end;
        let leaf = last_leaf(node);
        if matches!(leaf.kind, NodeKind::Scalar { style: ScalarStyle::Literal | ScalarStyle::Folded, .. })
            && leaf.span.end == text.len()
            && !text.ends_with('\n')
            && !block_header(text, leaf).contains('-')
        {
            return Err(
                "a block scalar ends the file without a line break; a line after it would add one to its value".into(),
            );
        }
        if let NodeKind::Scalar { style: ScalarStyle::Literal | ScalarStyle::Folded, value, .. } = &leaf.kind {
            // A block scalar's span runs over its trailing blank lines. Unless
            // they are content (`|+`), new lines go right after its last
            // non-blank line, keeping blank lines as separators.
            // (Its span also runs over the next line's indentation.)
            let next_line = text[..end].trim_end_matches([' ', '\t']).len();
            if !value.ends_with("\n\n") {
                end = text[..end].trim_end_matches([' ', '\t', '\r', '\n']).len();
            } else if text[..next_line].ends_with('\n') {
                return Ok((next_line, String::new()));
            }
        }
        // The end of the line (a lone `\r` breaks a line too).
        match text[end..].find(['\n', '\r']) {
            Some(i) if text[end + i..].starts_with("\r\n") => Ok((end + i + 2, String::new())),
            Some(i) => Ok((end + i + 1, String::new())),
            // The text ends without a line break: the first insertion there
            // adds one, later ones at the same place must not add another.
            None => {
                let lead = if self.eof_broken.replace(true) { String::new() } else { self.lay.newline.to_string() };
                Ok((text.len(), lead))
            }
        }
    }
}

/// The column new keys of a block mapping line up at: its first key's, or
/// the `?` before it when the key is written explicitly (`? key`).
fn key_column(text: &str, key: &Node) -> usize {
    let col = column(text, key.span.start);
    let before = text[..key.span.start].trim_end_matches([' ', '\t']);
    if before.ends_with('?') { column(text, before.len() - 1) } else { col }
}

/// The node that ends `node`'s text: its last entry's value or last item,
/// all the way down.
fn last_leaf(node: &Node) -> &Node {
    match &node.kind {
        NodeKind::Mapping { layout: Layout::Block, entries } => entries.last().map_or(node, |e| last_leaf(&e.value)),
        NodeKind::Sequence { layout: Layout::Block, items } => items.last().map_or(node, last_leaf),
        _ => node,
    }
}

/// A block scalar's header (`|`, `>-`, `|2+`, …): the indicator before its
/// content, on the line before it.
fn block_header<'a>(text: &'a str, node: &Node) -> &'a str {
    let before = text[..node.span.start].trim_end_matches([' ', '\t']).trim_end_matches(['\n', '\r']);
    let line = &before[before.rfind(['\n', '\r']).map_or(0, |i| i + 1)..];
    let line = line.split(" #").next().unwrap_or(line).trim_end();
    line.rfind(['|', '>']).map_or("", |i| &line[i..])
}

/// The first offset at or after `from` (and before `limit`) that is not
/// white space or part of a comment.
fn skip_space_and_comments(text: &str, from: usize, limit: usize) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while i < limit {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < limit && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i
}

#[cfg(test)]
mod block_tests;
#[cfg(test)]
mod tests;
