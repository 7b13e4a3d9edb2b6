//! Strict parsing of a YAML stream into span-carrying [`Document`]s.
//!
//! Events come from `granit-parser` (a YAML 1.2 parser with byte-offset
//! spans); this module builds the tree and adds the checks a manifest tool
//! needs on top of the grammar: duplicate keys, size and depth limits.
//! Whatever is malformed is an error with a line and column; nothing is
//! guessed.

use super::scalar::key_identity;
use super::tree::{Document, Entry, Layout, Node, NodeKind, ScalarStyle, Span};
use super::{Limits, ParseError};
use granit_parser::{ErrorKind, Event, Parser, ScalarStyle as GStyle, StructureStyle};
use std::collections::HashSet;

/// Parse every document of `text`. Fails on the first error: a stream with a
/// broken document must not be half-processed.
///
/// Plain block YAML is read by the fast reader ([`super::fast`]); whatever
/// it does not take on, by the full reader, which gives the same trees.
pub fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Document>, ParseError> {
    match super::fast::parse(text, limits) {
        Some(docs) => Ok(docs),
        None => parse_stream_full(text, limits),
    }
}

/// Parse with the full, event-driven reader only (what [`parse_stream`]
/// falls back to; public so that tests can hold the two readers to the
/// same answers).
pub fn parse_stream_full(text: &str, limits: &Limits) -> Result<Vec<Document>, ParseError> {
    let options = granit_parser::options! {
        block_nesting_limit: limits.max_depth,
        flow_nesting_limit: limits.max_depth,
    };
    let mut builder = Builder { text, limits, stack: Vec::new(), docs: Vec::new(), doc: None };
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(|e| scan_error(text, &e))?;
        let span = span
            .byte_range()
            .map(|r| Span::new(r.start, r.end))
            .ok_or_else(|| ParseError::at(span.start.line(), span.start.col() + 1, "no byte offset"))?;
        builder.event(event, span)?;
    }
    Ok(builder.finish())
}

/// A scanner error in harden's terms: the position a person would point at.
fn scan_error(text: &str, e: &granit_parser::ScanError) -> ParseError {
    let m = e.marker();
    let at = m.byte_offset().unwrap_or(0).min(text.len());
    match e.kind() {
        // Reported just past the tab; point at the tab itself.
        ErrorKind::TabInBlockIndentation if at > 0 && text.as_bytes()[at - 1] == b'\t' => {
            let (line, col) = super::line_col(text, at - 1);
            ParseError::at(line, col, "a tab in indentation (YAML indents with spaces only)")
        }
        // A quoted scalar that runs on to a less indented line is almost
        // always a missing closing quote: point at the opening quote.
        ErrorKind::InvalidQuotedScalarIndent | ErrorKind::UnclosedQuotedScalar => match opening_quote(text, at) {
            Some(q) => {
                let (line, col) = super::line_col(text, q);
                ParseError::at(line, col, "unclosed quote")
            }
            None => ParseError::at(m.line(), m.col() + 1, e.info()),
        },
        _ => ParseError::at(m.line(), m.col() + 1, e.info()),
    }
}

/// The quote that opens the quoted scalar an error at `at` is inside: the
/// last unbalanced `"` or `'` on the line before the error (or on its own).
fn opening_quote(text: &str, at: usize) -> Option<usize> {
    let before = &text[..at];
    let line_end = before.trim_end_matches(['\n', '\r']).len();
    let start = text[..line_end].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..line_end];
    let mut open: Option<(usize, char)> = None;
    for (i, c) in line.char_indices() {
        match (open, c) {
            (None, '"' | '\'') if i == 0 || line[..i].ends_with([' ', ':', '[', '{', ',', '-']) => open = Some((i, c)),
            (Some((_, q)), c) if c == q => open = None,
            _ => {}
        }
    }
    open.map(|(i, _)| start + i)
}

/// An open collection while its children are being read.
enum Frame {
    Mapping {
        start: usize,
        layout: Layout,
        anchor: Option<usize>,
        entries: Vec<Entry>,
        pending_key: Option<Node>,
        keys: KeySet<String>,
    },
    Sequence {
        start: usize,
        layout: Layout,
        anchor: Option<usize>,
        items: Vec<Node>,
    },
}

/// A document being read: where it started and whether it had `---`.
struct OpenDoc {
    start: Option<usize>,
    explicit: bool,
    root: Option<Node>,
}

struct Builder<'t> {
    text: &'t str,
    limits: &'t Limits,
    stack: Vec<Frame>,
    docs: Vec<Document>,
    doc: Option<OpenDoc>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ParseError> {
        match event {
            Event::DocumentStart(explicit, _) => {
                self.doc = Some(OpenDoc { start: explicit.then_some(span.start), explicit, root: None });
            }
            Event::DocumentEnd => self.end_document(span)?,
            Event::Scalar(value, style, anchor, tag) => {
                if value.len() > self.limits.max_scalar_bytes {
                    return Err(self.error(
                        span.start,
                        format!(
                            "a scalar of {} bytes is larger than the limit of {} bytes (--max-scalar-bytes)",
                            value.len(),
                            self.limits.max_scalar_bytes
                        ),
                    ));
                }
                let style = match style {
                    GStyle::Plain => ScalarStyle::Plain,
                    GStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    GStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    GStyle::Literal => ScalarStyle::Literal,
                    GStyle::Folded => ScalarStyle::Folded,
                };
                let tag = tag.map(|t| {
                    if t.is_yaml_core_schema() {
                        t.suffix().to_string()
                    } else {
                        format!("{}{}", t.handle(), t.suffix())
                    }
                });
                // An empty value (`key:`) is reported at its `:`; it really
                // sits just after it, which is where text for it must go.
                // (An empty key, `: value`, does sit at the `:`.)
                let is_value = matches!(self.stack.last(), Some(Frame::Mapping { pending_key: Some(_), .. }));
                let span = if is_value && span.start == span.end && self.text[span.start..].starts_with(':') {
                    Span::new(span.start + 1, span.start + 1)
                } else {
                    span
                };
                let mut value = value.into_owned();
                // A block scalar that ends the input without a line break has
                // none in its value (YAML 1.2 8.1.1.2; libyaml, and so kubectl,
                // agree); the scanner adds one.
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    && span.end == self.text.len()
                    && !self.text.ends_with('\n')
                    && value.ends_with('\n')
                {
                    value.pop();
                }
                let node = Node { kind: NodeKind::Scalar { value, style, tag }, span, anchor: anchor_id(anchor) };
                self.push_node(node)?;
            }
            Event::Alias(id) => self.push_node(Node { kind: NodeKind::Alias(id), span, anchor: None })?,
            Event::MappingStart(style, anchor, _) => self.stack.push(Frame::Mapping {
                start: span.start,
                layout: layout(style),
                anchor: anchor_id(anchor),
                entries: Vec::new(),
                pending_key: None,
                keys: KeySet::default(),
            }),
            Event::SequenceStart(style, anchor, _) => self.stack.push(Frame::Sequence {
                start: if style == StructureStyle::Block { dash_before(self.text, span.start) } else { span.start },
                layout: layout(style),
                anchor: anchor_id(anchor),
                items: Vec::new(),
            }),
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Mapping { start, layout, anchor, entries, .. }) => {
                        let end = collection_end(layout, span, entries.last().map(|e| e.value.span.end), start);
                        Node { kind: NodeKind::Mapping { layout, entries }, span: Span::new(start, end), anchor }
                    }
                    Some(Frame::Sequence { start, layout, anchor, items }) => {
                        let end = collection_end(layout, span, items.last().map(|n| n.span.end), start);
                        Node { kind: NodeKind::Sequence { layout, items }, span: Span::new(start, end), anchor }
                    }
                    None => return Err(self.error(span.start, "unbalanced end of collection".into())),
                };
                self.push_node(node)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn push_node(&mut self, node: Node) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, pending_key, keys, .. }) => match pending_key.take() {
                None => {
                    let id = key_identity(&node, self.text);
                    if let Some(id) = id
                        && !keys.insert(id.clone())
                    {
                        let (line, col) = super::line_col(self.text, node.span.start);
                        return Err(ParseError::at(line, col, format!("duplicate key \"{id}\" in the same mapping")));
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push(Entry { key, value: node }),
            },
            None => match self.doc.as_mut() {
                Some(doc) => doc.root = Some(node),
                None => return Err(self.error(node.span.start, "content outside a document".into())),
            },
        }
        Ok(())
    }

    fn end_document(&mut self, span: Span) -> Result<(), ParseError> {
        let Some(open) = self.doc.take() else { return Ok(()) };
        let root = open.root.unwrap_or(Node {
            kind: NodeKind::Scalar { value: String::new(), style: ScalarStyle::Plain, tag: None },
            span: Span::new(span.start, span.start),
            anchor: None,
        });
        let start = open.start.unwrap_or(root.span.start);
        // An explicit `...` belongs to the document; otherwise the next
        // document's start (set in `finish`) closes it.
        let end = if span.end > span.start { span.end } else { root.span.end.max(start) };
        if end - start > self.limits.max_document_bytes {
            return Err(self.error(
                start,
                format!(
                    "a document of {} bytes is larger than the limit of {} bytes (--max-document-bytes)",
                    end - start,
                    self.limits.max_document_bytes
                ),
            ));
        }
        self.docs.push(Document { root, start, end, explicit_start: open.explicit });
        Ok(())
    }

    fn finish(mut self) -> Vec<Document> {
        // Each document's region runs up to where the next one starts, so that
        // text inserted after its last line still lies inside it.
        let len = self.text.len();
        for i in 0..self.docs.len() {
            let next = self.docs.get(i + 1).map_or(len, |d| d.start);
            let doc = &mut self.docs[i];
            doc.end = doc.end.max(next.min(len));
        }
        self.docs
    }

    fn error(&self, at: usize, message: String) -> ParseError {
        let (line, col) = super::line_col(self.text, at);
        ParseError::at(line, col, message)
    }
}

fn layout(style: StructureStyle) -> Layout {
    match style {
        StructureStyle::Block => Layout::Block,
        StructureStyle::Flow => Layout::Flow,
    }
}

/// A block sequence whose first item is a mapping is reported at that
/// item's first key; the sequence itself starts at the dash before it.
fn dash_before(text: &str, at: usize) -> usize {
    let before = text[..at].trim_end_matches([' ', '\t']);
    if before.ends_with('-') { before.len() - 1 } else { at }
}

fn anchor_id(id: usize) -> Option<usize> {
    (id != 0).then_some(id)
}

/// A flow collection ends at its closing bracket; a block collection ends
/// with its last child (its end event sits at the next token, which may be
/// lines of comments away).
fn collection_end(layout: Layout, end_event: Span, last_child_end: Option<usize>, start: usize) -> usize {
    match layout {
        Layout::Flow => end_event.end,
        Layout::Block => last_child_end.unwrap_or(start),
    }
}

/// The keys seen so far in one mapping: a short list for the usual small
/// mappings, a hash set once it grows (CRD schemas, big ConfigMaps). Both
/// readers use it (the fast one with keys borrowed from the text).
pub(super) struct KeySet<K> {
    small: Vec<K>,
    large: Option<HashSet<K>>,
}

impl<K> Default for KeySet<K> {
    fn default() -> Self {
        KeySet { small: Vec::new(), large: None }
    }
}

impl<K: Eq + std::hash::Hash> KeySet<K> {
    /// Adds `key`; false if it was already there.
    pub(super) fn insert(&mut self, key: K) -> bool {
        if let Some(set) = &mut self.large {
            return set.insert(key);
        }
        if self.small.contains(&key) {
            return false;
        }
        self.small.push(key);
        if self.small.len() > 16 {
            self.large = Some(self.small.drain(..).collect());
        }
        true
    }
}
