//! Lines for findings: the pipeline's outcomes carry meaning (JSON values
//! and pointers), not spans, so reports parse each source again and walk a
//! pointer down the span tree to the deepest node that exists. A field that
//! harden adds is reported at its nearest existing parent (the
//! `securityContext:` key, the container), which is where a reviewer looks.

use crate::pipeline::DocOutcome;
pub use crate::yaml::LineIndex;
use crate::yaml::{Document, Limits, Node, NodeKind, parse_stream};
use std::cell::RefCell;
use std::sync::Arc;

/// One source, its documents parsed again for their spans, one at a time
/// and only when asked (reports walk documents in order; holding every
/// document's tree at once made a 20 MB report take ~1 GB, and parsing them
/// all up front in parallel was slower for it, not faster).
pub struct Located<'a> {
    pub text: &'a str,
    pub lines: Arc<LineIndex>,
    /// Each document's byte range, from the pipeline's outcomes.
    regions: Arc<Vec<(usize, usize)>>,
    limits: Limits,
    /// The last document parsed: (index, its tree with absolute spans).
    current: RefCell<Option<(usize, Option<Document>)>>,
}

impl<'a> Located<'a> {
    pub fn new(text: &'a str, docs: &[DocOutcome], limits: &Limits) -> Self {
        let regions: Vec<(usize, usize)> = docs.iter().map(|d| (d.start, d.end)).collect();
        Located {
            text,
            lines: Arc::new(LineIndex::new(text)),
            regions: Arc::new(regions),
            limits: limits.clone(),
            current: RefCell::new(None),
        }
    }

    /// Another reader of the same source with its own parsed document, for
    /// another thread.
    pub fn again(&self) -> Located<'a> {
        Located {
            text: self.text,
            lines: Arc::clone(&self.lines),
            regions: Arc::clone(&self.regions),
            limits: self.limits.clone(),
            current: RefCell::new(None),
        }
    }

    /// Run `f` on document `doc`'s tree, parsing it if it is not the last one asked for.
    fn with_doc<T>(&self, doc: usize, f: impl FnOnce(&Document) -> T) -> Option<T> {
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_none_or(|(i, _)| *i != doc) {
            let &(start, end) = self.regions.get(doc)?;
            *current = Some((doc, parse_region(self.text, start, end, &self.limits)));
        }
        current.as_ref().and_then(|(_, d)| d.as_ref()).map(f)
    }

    /// The line of the deepest node on `pointer` in document `doc`.
    pub fn line(&self, doc: usize, pointer: &str) -> Option<usize> {
        self.with_doc(doc, |d| self.lines.line(deepest(&d.root, pointer)))
    }

    /// The text between the previous document's end and document `doc`'s
    /// content: its leading comments (Helm's `# Source:`) and `---`.
    /// `content`: where the document's root starts, if already known.
    pub fn leading(&self, doc: usize, content: Option<usize>) -> &'a str {
        let from = if doc == 0 { 0 } else { self.regions.get(doc - 1).map_or(0, |r| r.1) };
        let to = content.or_else(|| self.with_doc(doc, |d| d.root.span.start));
        to.and_then(|to| self.text.get(from.min(to)..to)).unwrap_or("")
    }
}

/// The document at `start..end` of `text`, with spans in `text`'s terms.
fn parse_region(text: &str, start: usize, end: usize, limits: &Limits) -> Option<Document> {
    let mut docs = parse_stream(text.get(start..end)?, limits).ok()?;
    let mut d = docs.drain(..).next()?;
    d.shift(start);
    Some(d)
}

/// Byte offset of the deepest node that `pointer` reaches: a mapping entry
/// by its key, a sequence item by its start. Stops at aliases and merges,
/// whose text is elsewhere.
pub fn deepest(root: &Node, pointer: &str) -> usize {
    let mut node = root;
    let mut at = root.span.start;
    for token in pointer.split('/').skip(1).map(crate::pointer::unescape) {
        let next = match &node.kind {
            NodeKind::Mapping { entries, .. } => entries
                .iter()
                .rev()
                .find(|e| e.key.as_str() == Some(token.as_ref()))
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

    fn located<'t>(text: &'t str) -> Located<'t> {
        let docs = crate::yaml::parse_stream(text, &Limits::default()).expect("parses");
        let mut l = Located::new(text, &[], &Limits::default());
        l.regions = Arc::new(docs.iter().map(|d| (d.start, d.end)).collect());
        l
    }

    #[test]
    fn lines_of_existing_and_missing_fields() {
        let text = "# c\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n";
        let located = located(text);
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

    #[test]
    fn documents_are_parsed_one_at_a_time_in_place() {
        let text = "a: 1\n---\n# Source: x\n---\nkind: Pod\nspec:\n  x: 1\n";
        let located = located(text);
        assert_eq!(located.line(2, "/spec/x"), Some(7));
        assert_eq!(located.line(0, "/a"), Some(1));
        assert_eq!(located.leading(2, None), "---\n");
        // An empty document's (null) root sits right after its `---`.
        assert_eq!(located.leading(1, None), "---");
    }
}
