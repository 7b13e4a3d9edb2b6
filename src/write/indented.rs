//! Pretty-printed JSON nested deeper than serde_json puts it: pieces of a
//! big JSON document (report findings, patches) are serialized on their
//! own, in parallel, and must read exactly as if the whole had been.

/// Bytes with every line after the first indented by a fixed number of
/// spaces (JSON strings hold no raw line breaks, so every one is the
/// layout's).
pub struct Indented {
    bytes: Vec<u8>,
    indent: &'static [u8],
}

impl Indented {
    /// Lines indented by `spaces` (at most 8).
    pub fn new(spaces: usize) -> Indented {
        Indented { bytes: Vec::new(), indent: &b"        "[..spaces.min(8)] }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Text as it is (separators, the first line's indentation).
    pub fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
    }

    pub fn into_string(self) -> String {
        // Only whole UTF-8 strings and ASCII are ever written.
        String::from_utf8(self.bytes).unwrap_or_default()
    }
}

impl std::io::Write for Indented {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for line in buf.split_inclusive(|&b| b == b'\n') {
            self.bytes.extend_from_slice(line);
            if line.ends_with(b"\n") {
                self.bytes.extend_from_slice(self.indent);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_reads_as_it_would_inside_an_array() {
        let v = json!({"a": [1, {"b": "x\ny"}], "c": {}});
        let mut out = Indented::new(2);
        out.push("  ");
        serde_json::to_writer_pretty(&mut out, &v).expect("written");
        let whole = serde_json::to_string_pretty(&json!([v])).expect("JSON");
        assert_eq!(format!("[\n{}\n]", out.into_string()), whole);
    }
}
