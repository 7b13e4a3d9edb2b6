//! The verify stage: re-parse every edited document and check that it
//! means exactly what the plan said. A mismatch is a harden bug, and harden
//! stops rather than write something nobody planned.

use crate::yaml::{Limits, Semantic, parse_stream};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{name}:{line}: the edited document {what}; nothing was written (internal error, please report)")]
pub struct VerifyError {
    pub name: String,
    /// Line where the document starts.
    pub line: usize,
    pub what: String,
}

/// Check that `edited` (one document's region of text, after the edits)
/// parses to exactly one document whose meaning is `planned`.
pub fn verify_document(
    name: &str,
    line: usize,
    edited: &str,
    planned: &Value,
    limits: &Limits,
) -> Result<(), VerifyError> {
    let fail = |what: String| VerifyError { name: name.to_string(), line, what };
    let docs = parse_stream(edited, limits).map_err(|e| fail(format!("does not parse ({e})")))?;
    let [doc] = docs.as_slice() else {
        return Err(fail(format!("parses as {} documents instead of one", docs.len())));
    };
    let same = Semantic::new(&doc.root, edited, limits.max_alias_nodes)
        .equals(&doc.root, planned)
        .map_err(|e| fail(format!("cannot be read back ({e})")))?;
    if !same {
        return Err(fail("does not mean what was planned".to_string()));
    }
    Ok(())
}
