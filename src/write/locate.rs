//! Lines for findings: the pipeline's outcomes carry meaning (JSON values
//! and pointers), not spans, so reports parse each source again and walk a
//! pointer down the span tree to the deepest node that exists. A field that
//! harden adds is reported at its nearest existing parent (the
//! `securityContext:` key, the container), which is where a reviewer looks.

use crate::yaml::{Document, Limits, Node, NodeKind, parse_stream};

/// Byte offsets of line starts, for line numbers in O(log n).
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at)
    }
}

/// One source, parsed again for its spans.
pub struct Located<'a> {
    pub text: &'a str,
    pub lines: LineIndex,
    /// Empty if the text no longer parses (it did once, so it does not happen;
    /// callers then fall back to the document's first line).
    pub docs: Vec<Document>,
}

impl<'a> Located<'a> {
    pub fn new(text: &'a str, limits: &Limits) -> Self {
        Located { text, lines: LineIndex::new(text), docs: parse_stream(text, limits).unwrap_or_default() }
    }

    /// The line of the deepest node on `pointer` in document `doc`.
    pub fn line(&self, doc: usize, pointer: &str) -> Option<usize> {
        let root = &self.docs.get(doc)?.root;
        Some(self.lines.line(deepest(root, pointer)))
    }
}

/// Byte offset of the deepest node that `pointer` reaches: a mapping entry
/// by its key, a sequence item by its start. Stops at aliases and merges,
/// whose text is elsewhere.
pub fn deepest(root: &Node, pointer: &str) -> usize {
    let mut node = root;
    let mut at = root.span.start;
    for token in pointer.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")) {
        let next = match &node.kind {
            NodeKind::Mapping { entries, .. } => entries
                .iter()
                .rev()
                .find(|e| e.key.as_str() == Some(token.as_str()))
                .map(|e| (e.key.span.start, &e.value)),
            NodeKind::Sequence { items, .. } => {
                token.parse::<usize>().ok().and_then(|i| items.get(i)).map(|item| (item.span.start, item))
            }
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => None,
        };
        let Some((start, child)) = next else { break };
        at = start;
        node = child;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_existing_and_missing_fields() {
        let text = "# c\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n";
        let located = Located::new(text, &Limits::default());
        assert_eq!(located.line(0, ""), Some(2));
        assert_eq!(located.line(0, "/spec/containers/1/image"), Some(8));
        // Absent: the nearest existing parent, the second container.
        assert_eq!(located.line(0, "/spec/containers/1/securityContext/runAsNonRoot"), Some(7));
        assert_eq!(located.line(0, "/spec/securityContext"), Some(3));
        assert_eq!(located.line(1, ""), None);
    }

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nb\n\nc");
        assert_eq!([0, 1, 2, 3, 4, 5].map(|i| idx.line(i)), [1, 1, 2, 2, 3, 4]);
    }
}
