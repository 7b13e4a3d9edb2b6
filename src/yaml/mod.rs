//! The YAML layer: strict parsing into a span-carrying tree ([`tree`],
//! [`parse`]), what the tree means to kubectl ([`semantic`], [`scalar`]).
//!
//! Nothing outside this module and `apply` knows how YAML is parsed; the
//! rest of harden sees [`Document`]s and JSON values.

pub mod fast;
pub mod kubectl;
pub mod parse;
pub mod scalar;
pub mod semantic;
pub mod tree;

pub use crate::read::line_col;
pub use parse::parse_stream;
pub use semantic::Semantic;
pub use tree::{Document, Entry, Kind, Layout, Node, NodeKind, ScalarStyle, Span};

use serde_json::Value;

/// Input limits that keep hostile streams from costing unbounded time or
/// memory. Each is adjustable on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Largest single scalar, in bytes.
    pub max_scalar_bytes: usize,
    /// Largest single document, in bytes.
    pub max_document_bytes: usize,
    /// Most nodes that alias expansion may produce in one document.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128, max_scalar_bytes: 16 << 20, max_document_bytes: 64 << 20, max_alias_nodes: 100_000 }
    }
}

/// A syntax or limit error at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl ParseError {
    pub fn at(line: usize, col: usize, message: impl Into<String>) -> Self {
        ParseError { line, col, message: message.into() }
    }
}

/// Line numbers for many offsets of one text: the newline offsets, found
/// once, then a binary search per lookup (a prefix scan per document would
/// make a stream of many documents quadratic).
pub struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        LineIndex { newlines: text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect() }
    }

    /// 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.newlines.partition_point(|&n| n < at) + 1
    }
}

/// Check that a document of a JSON stream is JSON, as kubectl reads such a
/// stream (Go's `encoding/json`, strict where YAML is not: no trailing
/// commas, comments, single quotes or plain scalars). Errors are located
/// in `text`, in characters.
pub fn check_json(text: &str) -> Result<(), ParseError> {
    let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) else { return Ok(()) };
    let message = e.to_string();
    // Nesting is bounded by `Limits::max_depth`, which may be set deeper.
    if message.starts_with("recursion limit exceeded") {
        return Ok(());
    }
    // serde_json counts the column in bytes.
    let line_start: usize = text.split_inclusive('\n').take(e.line().saturating_sub(1)).map(str::len).sum();
    let mut at = (line_start + e.column().saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (line, col) = line_col(text, at);
    let mut what = message.rsplit_once(" at line ").map_or(message.as_str(), |(what, _)| what);
    if text[at..].starts_with(['}', ']']) && text[..at].trim_end().ends_with(',') {
        what = "a trailing comma";
    }
    Err(ParseError::at(line, col, format!("not JSON ({what}); a stream that starts with `{{` is JSON to kubectl")))
}

/// Parse a stream and return each document's meaning: the convenience entry
/// point for tests and tools that only read.
pub fn parse_values(text: &str) -> Result<Vec<Value>, ParseError> {
    let limits = Limits::default();
    let docs = parse_stream(text, &limits)?;
    docs.iter().map(|d| Semantic::new(&d.root, text, limits.max_alias_nodes).value(&d.root)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_keep_their_byte_ranges() {
        let text = "# head\n---\na: 1\n...\n---\nb: [1, 2]\n";
        let docs = parse_stream(text, &Limits::default()).expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(&text[docs[0].start..docs[0].end], "---\na: 1\n...\n");
        assert_eq!(&text[docs[1].start..docs[1].end], "---\nb: [1, 2]\n");
    }

    #[test]
    fn aliases_and_merges_are_expanded() {
        let v = parse_values("a: &x {k: v, m: 1}\nb: *x\nc:\n  <<: *x\n  m: 2\n").expect("parses");
        assert_eq!(v[0], json!({"a": {"k": "v", "m": 1}, "b": {"k": "v", "m": 1}, "c": {"k": "v", "m": 2}}));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse_values("a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert_eq!((e.line, e.col), (3, 1));
        assert!(e.message.contains("duplicate key \"a\""), "{e}");
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_values(&text).expect_err("bomb");
        assert!(e.message.contains("alias bomb"), "{e}");
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let text = "a\nbc\n\nd";
        let idx = LineIndex::new(text);
        for at in 0..=text.len() {
            assert_eq!(idx.line(at), line_col(text, at).0, "{at}");
        }
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    }
}
