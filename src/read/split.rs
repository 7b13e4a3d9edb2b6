//! Splitting a stream into documents by lines alone.
//!
//! YAML forbids a line that starts with `---` or `...` (followed by a
//! space, a tab or the end of the line) inside any scalar or flow
//! collection: such a line always starts or ends a document. So a stream
//! can be cut there without parsing it, and each piece parsed on its own —
//! in parallel, and without holding the whole stream. Comment lines and
//! directives (`%YAML`) before a `---` stay with the document they precede.

use std::borrow::Cow;

/// A piece of the stream: one document's text (with the comments before
/// it), where it starts in its source, and on which line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk<'t> {
    pub text: Cow<'t, str>,
    /// Byte offset of the chunk in its source.
    pub offset: usize,
    /// 1-based line of the chunk's first line in its source.
    pub line: usize,
}

/// What a line is, for splitting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// `---`: starts a document.
    Start,
    /// `...`: ends one.
    End,
    /// Blank, a comment or a directive: belongs to what follows.
    Leading,
    Content,
}

fn classify(line: &[u8]) -> Line {
    let marker =
        |m: &[u8]| line.starts_with(m) && line.get(3).is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    if marker(b"---") {
        Line::Start
    } else if marker(b"...") {
        Line::End
    } else {
        let trimmed = line.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        match trimmed.map(|i| line[i]) {
            None | Some(b'#') => Line::Leading,
            Some(b'%') if line[0] == b'%' => Line::Leading,
            _ => Line::Content,
        }
    }
}

/// Small documents are grouped into chunks of at least this many bytes
/// (at most [`MAX_DOCS`] documents): setting up a parser per tiny document
/// would cost more than parsing it. A group is still the exact original
/// text, so it parses as the same documents.
pub const MIN_BYTES: usize = 64 << 10;
pub const MAX_DOCS: usize = 200;

/// Groups consecutive pieces into chunks of about [`MIN_BYTES`].
#[derive(Default)]
struct Group {
    len: usize,
    lines: usize,
    pieces: usize,
}

impl Group {
    /// Add a piece; returns a finished chunk when the group is full.
    fn add(&mut self, (len, lines): (usize, usize)) -> Option<(usize, usize)> {
        self.len += len;
        self.lines += lines;
        self.pieces += 1;
        if self.len >= MIN_BYTES || self.pieces >= MAX_DOCS { self.take() } else { None }
    }

    fn take(&mut self) -> Option<(usize, usize)> {
        let out = (self.len > 0).then_some((self.len, self.lines));
        *self = Group::default();
        out
    }
}

/// Incremental splitter: feed lines, get back the byte length of each
/// finished chunk.
#[derive(Default)]
pub struct Splitter {
    /// Bytes in the chunk being built.
    len: usize,
    /// Lines in it.
    lines: usize,
    /// Whether it holds a `---` or content (else only leading lines).
    has_body: bool,
}

impl Splitter {
    /// Feed one line (with its line break). Returns `Some((bytes, lines))`
    /// of a chunk that ends before this line, if one does.
    pub fn line(&mut self, line: &[u8]) -> Option<(usize, usize)> {
        let kind = classify(line);
        let mut done = None;
        if kind == Line::Start && self.has_body {
            done = Some((self.len, self.lines));
            *self = Splitter::default();
        }
        self.len += line.len();
        self.lines += 1;
        match kind {
            Line::Start | Line::Content => self.has_body = true,
            // `...` ends the document: what follows is the next chunk's.
            Line::End => {
                let end = (self.len, self.lines);
                *self = Splitter::default();
                return Some(end);
            }
            Line::Leading => {}
        }
        done
    }

    /// The last chunk, if any bytes remain.
    pub fn finish(self) -> Option<(usize, usize)> {
        (self.len > 0).then_some((self.len, self.lines))
    }
}

/// Split a whole text into chunks that borrow from it.
pub fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut group = Group::default();
    let mut out = Vec::new();
    let (mut offset, mut line) = (0, 1);
    let mut push = |(len, lines): (usize, usize)| {
        out.push(Chunk { text: Cow::Borrowed(&text[offset..offset + len]), offset, line });
        offset += len;
        line += lines;
    };
    for piece in split_exact(text) {
        if let Some(chunk) = group.add(piece) {
            push(chunk);
        }
    }
    if let Some(chunk) = group.take() {
        push(chunk);
    }
    out
}

/// The (bytes, lines) of each single-document piece of `text`.
fn split_exact(text: &str) -> Vec<(usize, usize)> {
    let mut s = Splitter::default();
    let mut out: Vec<(usize, usize)> = text.split_inclusive('\n').filter_map(|l| s.line(l.as_bytes())).collect();
    out.extend(s.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<&str> {
        let mut at = 0;
        split_exact(t)
            .into_iter()
            .map(|(len, _)| {
                at += len;
                &t[at - len..at]
            })
            .collect()
    }

    #[test]
    fn small_documents_are_grouped_and_big_ones_alone() {
        let small = "---\na: 1\n".repeat(500);
        let chunks = split(&small);
        assert_eq!(chunks.len(), 3, "500 tiny documents in groups of {MAX_DOCS}");
        assert_eq!(chunks.iter().map(|c| c.text.as_ref()).collect::<String>(), small);
        assert_eq!(chunks[1].line, 2 * MAX_DOCS + 1);
        let big = format!("---\nbig: {}\n---\nb: 2\n", "x".repeat(MIN_BYTES));
        assert_eq!(split(&big).len(), 2);
    }

    #[test]
    fn cuts_before_each_document_start_keeping_leading_comments() {
        let t = "# head\n---\na: 1\n# about b\n---\nb: |\n  --- not a marker\n...\n# tail\n";
        assert_eq!(texts(t), ["# head\n---\na: 1\n# about b\n", "---\nb: |\n  --- not a marker\n...\n", "# tail\n"]);
        let lines: Vec<usize> = split(t).iter().map(|c| c.line).collect();
        assert_eq!(lines, [1], "small documents share a chunk");
        assert_eq!(texts(t).concat(), t);
    }

    #[test]
    fn directives_stay_with_their_document() {
        let t = "a: 1\n...\n%YAML 1.2\n---\nb: 2\n---text\n";
        assert_eq!(texts(t), ["a: 1\n...\n", "%YAML 1.2\n---\nb: 2\n---text\n"]);
    }

    #[test]
    fn an_implicit_first_document_and_crlf() {
        let t = "a: 1\r\n--- \r\nb: 2";
        assert_eq!(texts(t), ["a: 1\r\n", "--- \r\nb: 2"]);
    }
}

/// The chunks of a reader (a file), read a line at a time: only the chunk
/// being built is held, never the whole file.
pub struct ReaderChunks<R> {
    reader: R,
    name: String,
    splitter: Splitter,
    group: Group,
    buf: Vec<u8>,
    offset: usize,
    line: usize,
    done: bool,
}

impl<R: std::io::BufRead> ReaderChunks<R> {
    pub fn new(reader: R, name: &str) -> Self {
        ReaderChunks {
            reader,
            name: name.to_string(),
            splitter: Splitter::default(),
            group: Group::default(),
            buf: Vec::with_capacity(2 * MIN_BYTES),
            offset: 0,
            line: 1,
            done: false,
        }
    }

    /// Turn the first `len` buffered bytes (`lines` lines) into a chunk.
    fn take(&mut self, len: usize, lines: usize) -> Result<Chunk<'static>, super::ReadError> {
        // The next chunk's buffer starts at full size (growing it a line at a
        // time would copy it over and over) with the bytes read past this one.
        let mut next = Vec::with_capacity(2 * MIN_BYTES);
        next.extend_from_slice(&self.buf[len..]);
        let mut bytes = std::mem::replace(&mut self.buf, next);
        bytes.truncate(len);
        // The chunk's own line numbers, moved to where it starts in the file.
        let text = super::decode(&self.name, bytes).map_err(|e| match e {
            super::ReadError::Utf8 { name, line, col } => {
                super::ReadError::Utf8 { name, line: self.line + line - 1, col }
            }
            other => other,
        })?;
        let chunk = Chunk { text: Cow::Owned(text), offset: self.offset, line: self.line };
        self.offset += len;
        self.line += lines;
        Ok(chunk)
    }
}

impl<R: std::io::BufRead> Iterator for ReaderChunks<R> {
    type Item = Result<Chunk<'static>, super::ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let before = self.buf.len();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    let last = std::mem::take(&mut self.splitter).finish().and_then(|p| self.group.add(p));
                    return last.or_else(|| self.group.take()).map(|(len, lines)| self.take(len, lines));
                }
                Ok(_) => {
                    let piece = self.splitter.line(&self.buf[before..]);
                    if let Some((len, lines)) = piece.and_then(|p| self.group.add(p)) {
                        return Some(self.take(len, lines));
                    }
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(super::ReadError::Io { name: self.name.clone(), source }));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    #[test]
    fn a_reader_gives_the_same_chunks_as_the_text() {
        let t = "# head\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n---\nc: 3";
        let from_reader: Vec<Chunk> = ReaderChunks::new(t.as_bytes(), "t").map(|c| c.expect("chunk")).collect();
        let from_text: Vec<Chunk> =
            split(t).into_iter().map(|c| Chunk { text: Cow::Owned(c.text.into_owned()), ..c }).collect();
        assert_eq!(from_reader, from_text);
    }

    #[test]
    fn invalid_utf8_is_reported_at_its_line() {
        let bytes = b"a: 1\n---\nb: \xff\n";
        let err = ReaderChunks::new(&bytes[..], "t").find_map(Result::err).expect("error");
        assert_eq!(err.to_string(), "t:3:4: the input is not valid UTF-8");
    }
}
