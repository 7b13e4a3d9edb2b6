//! Where the values of a JSON stream begin, a line at a time.
//!
//! kubectl reads a stream whose first character is `{` with Go's
//! `encoding/json` decoder, one value after another, white space between
//! (k8s.io/apimachinery/pkg/util/yaml `NewYAMLOrJSONDecoder` peeks at the
//! first 4096 bytes, `GuessJSONStream`, and takes the stream for JSON when
//! the first one that is not `unicode.IsSpace` is `{`; since v1.33 it falls
//! back to YAML where JSON fails, and stays YAML). Outside strings, a value
//! ends where its brackets balance; a `{` or `[` after that starts the next.
//! Strings are followed with their escapes, so brackets in them do not
//! count. Single-quoted strings and `#` comments (YAML's, in flow style) are
//! skipped too: a flow-style YAML document that starts a stream is cut where
//! YAML would end it.

/// The scanner's state between lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Open brackets.
    depth: usize,
    /// The quote of the string being read, if one is.
    quote: Option<u8>,
    /// Whether the last character was a backslash in a `"` string.
    escaped: bool,
    /// Whether the value of the piece being read has ended.
    value_done: bool,
}

/// How a line read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// White space, values and parts of values.
    Values,
    /// Something outside any value that starts none: not a JSON stream (from
    /// there on, the line is not read).
    NotJson,
}

impl Scan {
    /// Whether the piece being read has a value (whole or begun).
    pub fn started(&self) -> bool {
        self.depth > 0 || self.value_done
    }

    /// Read a line; `cut(at)` is called at each byte where a value starts
    /// after an earlier one has ended.
    pub fn line(&mut self, line: &[u8], mut cut: impl FnMut(usize)) -> Outcome {
        for (i, &b) in line.iter().enumerate() {
            if let Some(q) = self.quote {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' && q == b'"' {
                    self.escaped = true;
                } else if b == q {
                    self.quote = None;
                }
                continue;
            }
            match b {
                b'{' | b'[' => {
                    if self.depth == 0 && self.value_done {
                        cut(i);
                        self.value_done = false;
                    }
                    self.depth += 1;
                }
                b'}' | b']' if self.depth > 0 => {
                    self.depth -= 1;
                    self.value_done = self.depth == 0;
                }
                b'"' | b'\'' if self.depth > 0 => self.quote = Some(b),
                b'#' if i == 0 || matches!(line[i - 1], b' ' | b'\t') => return Outcome::Values,
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if self.depth == 0 => return Outcome::NotJson,
                _ => {}
            }
        }
        Outcome::Values
    }
}
