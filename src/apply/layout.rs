//! How a document is laid out, so that inserted lines look like their
//! neighbours: indentation step, whether block sequences are indented under
//! their key, the line ending, and whether the document is JSON.

use crate::yaml::{Document, Layout, NodeKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocLayout {
    /// Columns between a key and the keys of the mapping under it.
    pub step: usize,
    /// Columns between a key and the `-` of a block sequence under it
    /// (0 for the kubectl style `key:\n- item`).
    pub seq_offset: usize,
    pub newline: &'static str,
    /// How the document writes JSON, if it is JSON: then new text is JSON
    /// too (`kubectl ... -o json | harden | kubectl apply -f -`).
    pub json: Option<JsonStyle>,
}

/// How a JSON document ([`Document::is_json`]) is written. A flow mapping
/// with plain keys is YAML written in flow style, and new text in it stays
/// YAML flow, even where it opens the stream (kubectl cannot read such a
/// stream either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStyle {
    /// Columns between the line that opens a `{`/`[` and the members under
    /// it (kubectl writes 4, jq 2).
    pub step: usize,
    /// Whether the document spans lines (then a new collection gets a line
    /// for each member, like its neighbours), or is written on one.
    pub pretty: bool,
    /// `"key":value,next` without spaces (`jq -c`).
    pub compact: bool,
}

impl JsonStyle {
    fn of(doc: &Document, text: &str) -> Option<JsonStyle> {
        let root = &doc.root;
        let NodeKind::Mapping { layout: Layout::Flow, entries } = &root.kind else { return None };
        if !doc.is_json() {
            return None;
        }
        let mut steps = Tally::default();
        root.walk(&mut |n| {
            let first = match &n.kind {
                NodeKind::Mapping { layout: Layout::Flow, entries } => entries.first().map(|e| &e.key),
                NodeKind::Sequence { layout: Layout::Flow, items } => items.first(),
                _ => None,
            };
            if let Some(first) = first
                && text[n.span.start..first.span.start].contains(['\n', '\r'])
            {
                let (inner, outer) = (column(text, first.span.start), line_indent(text, n.span.start));
                if inner > outer {
                    steps.add(inner - outer);
                }
            }
        });
        let compact = entries.first().is_some_and(|e| !text[e.key.span.end..e.value.span.start].contains(' '));
        Some(JsonStyle {
            step: steps.most_common().unwrap_or(4),
            pretty: text[root.span.start..root.span.end].contains(['\n', '\r']),
            compact,
        })
    }
}

impl DocLayout {
    /// Measure the document: the most common step and sequence offset win;
    /// a document without examples gets kubectl's layout.
    pub fn of(doc: &Document, text: &str) -> DocLayout {
        let mut steps = Tally::default();
        let mut seq_offsets = Tally::default();
        doc.root.walk(&mut |n| {
            let NodeKind::Mapping { layout: Layout::Block, entries } = &n.kind else { return };
            for e in entries {
                let key_col = column(text, e.key.span.start);
                match &e.value.kind {
                    NodeKind::Mapping { layout: Layout::Block, .. } => {
                        let c = column(text, e.value.span.start);
                        if c > key_col {
                            steps.add(c - key_col);
                        }
                    }
                    NodeKind::Sequence { layout: Layout::Block, .. } => {
                        let c = column(text, e.value.span.start);
                        if c >= key_col {
                            seq_offsets.add(c - key_col);
                        }
                    }
                    _ => {}
                }
            }
        });
        // The document's first line break (not one in the white space after it).
        let region = &text[doc.start..doc.end.min(text.len())];
        let newline = match region.find('\n') {
            Some(i) if region[..i].ends_with('\r') => "\r\n",
            _ => "\n",
        };
        DocLayout {
            step: steps.most_common().unwrap_or(2),
            seq_offset: seq_offsets.most_common().unwrap_or(0),
            newline,
            json: JsonStyle::of(doc, text),
        }
    }
}

/// Counts of small numbers, for picking the most common one.
#[derive(Default)]
struct Tally(Vec<(usize, usize)>);

impl Tally {
    fn add(&mut self, v: usize) {
        match self.0.iter_mut().find(|(k, _)| *k == v) {
            Some((_, n)) => *n += 1,
            None => self.0.push((v, 1)),
        }
    }
    fn most_common(&self) -> Option<usize> {
        // Ties go to the smaller value: the more conservative indentation.
        self.0.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(k, _)| *k)
    }
}

/// The column (0-based, in bytes of indentation) of byte offset `at`.
pub fn column(text: &str, at: usize) -> usize {
    // YAML breaks lines at `\n`, `\r\n` and a lone `\r`.
    let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

/// The indentation (in columns of spaces) of the line that holds byte `at`.
pub fn line_indent(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    text[line_start..at].len() - text[line_start..at].trim_start_matches(' ').len()
}
