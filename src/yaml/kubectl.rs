//! What YAML allows and kubectl does not read as YAML does.
//!
//! kubectl cuts a YAML stream at `---` lines alone and decodes each piece
//! as one document (k8s.io/apimachinery/pkg/util/yaml `YAMLReader` and
//! `NewYAMLToJSONDecoder`):
//! - a document that follows `...` without a `---` of its own lands in the
//!   piece of the document before it, of which only the first document is
//!   decoded: kubectl never sees it, and says nothing;
//! - a `---` followed on its line by anything but a comment is an error to
//!   it ("invalid Yaml document separator").
//!
//! harden reads a stream as kubectl does: such streams are errors here
//! too, at the place to change.

use super::{Document, ParseError, line_col};

/// Check a YAML stream's documents (`text` is where their spans point);
/// `at_start`: whether `text` starts its source (else a document without
/// `---` first follows a `...` before `text`).
pub fn check(text: &str, docs: &[Document], at_start: bool) -> Result<(), ParseError> {
    for (i, doc) in docs.iter().enumerate() {
        let at = || line_col(text, doc.start);
        if !doc.explicit_start && (i > 0 || !at_start) {
            let (line, col) = at();
            return Err(ParseError::at(
                line,
                col,
                "a document after `...` needs a `---` line before it: kubectl reads on to the next `---` line as \
                 one document, keeps the first and drops this one",
            ));
        }
        let marker_line = text[doc.start..].lines().next().unwrap_or("");
        let after = marker_line.get(3..).unwrap_or("").trim();
        if doc.explicit_start && !after.is_empty() && !after.starts_with('#') {
            let (line, col) = at();
            let content = marker_line.len() - marker_line[3..].trim_start().len();
            let col = col + marker_line[..content].chars().count();
            return Err(ParseError::at(
                line,
                col,
                "kubectl reads nothing but a comment after `---` on its line (\"invalid Yaml document separator\"): \
                 move this to the next line",
            ));
        }
    }
    Ok(())
}
