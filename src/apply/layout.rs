//! How a document is laid out, so that inserted lines look like their
//! neighbours: indentation step, whether block sequences are indented under
//! their key, and the line ending.

use crate::yaml::{Document, Layout, NodeKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocLayout {
    /// Columns between a key and the keys of the mapping under it.
    pub step: usize,
    /// Columns between a key and the `-` of a block sequence under it
    /// (0 for the kubectl style `key:\n- item`).
    pub seq_offset: usize,
    pub newline: &'static str,
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
        let region = &text[doc.start..doc.end.min(text.len())];
        let newline = if region.contains("\r\n") { "\r\n" } else { "\n" };
        DocLayout {
            step: steps.most_common().unwrap_or(2),
            seq_offset: seq_offsets.most_common().unwrap_or(0),
            newline,
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
