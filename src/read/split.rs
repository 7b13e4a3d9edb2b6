//! Splitting a stream into documents by lines alone.
//!
//! YAML forbids a line that starts with `---` or `...` (followed by a
//! space, a tab or the end of the line) inside any scalar or flow
//! collection: such a line always starts or ends a document. So a stream
//! can be cut there without parsing it, and each piece parsed on its own —
//! in parallel, and without holding the whole stream. Comment lines and
//! directives (`%YAML`) before a `---` stay with the document they precede.
//!
//! A stream whose first character (after a byte order mark and white
//! space) is `{` is a JSON stream to kubectl: JSON values one after the
//! other, separated by nothing but white space (`jq -c`, `{…}{…}`). Such a
//! stream is also cut after each value (see [`json`]); such pieces are
//! marked, because joined together they are not YAML.

mod json;

use std::borrow::Cow;
use std::collections::VecDeque;

/// A piece of the stream: one document's text (with the comments before
/// it), or a group of them, where it starts in its source, and on which
/// line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk<'t> {
    pub text: Cow<'t, str>,
    /// Byte offset of the chunk in its source.
    pub offset: usize,
    /// 1-based line of the chunk's first line in its source.
    pub line: usize,
    /// 1-based column (in characters) where the chunk starts on that line:
    /// 1 but where values of a JSON stream share a line.
    pub col: usize,
    /// Whether the chunk is values of a JSON stream, each a document: then
    /// its text is read a value at a time ([`values`]), as kubectl reads
    /// it; joined, such values are not one YAML stream.
    pub json: bool,
}

/// How far a piece reaches: its bytes, the line breaks in it, and the
/// characters after its last line break (a piece of a JSON stream may end
/// mid-line, where the next value starts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    pub len: usize,
    pub lines: usize,
    pub tail: usize,
}

impl Extent {
    /// This piece, then `next`.
    fn then(self, next: Extent) -> Extent {
        Extent {
            len: self.len + next.len,
            lines: self.lines + next.lines,
            tail: if next.lines > 0 { next.tail } else { self.tail + next.tail },
        }
    }
}

/// Where the next chunk starts.
#[derive(Clone, Copy, Debug)]
struct Position {
    offset: usize,
    line: usize,
    col: usize,
}

impl Position {
    const START: Position = Position { offset: 0, line: 1, col: 1 };

    fn advance(&mut self, by: Extent) {
        self.offset += by.len;
        if by.lines > 0 {
            self.line += by.lines;
            self.col = by.tail + 1;
        } else {
            self.col += by.tail;
        }
    }
}

/// One document's piece of the stream, and whether it is a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub extent: Extent,
    pub json: bool,
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

/// Groups consecutive pieces into chunks of about [`MIN_BYTES`]; values of
/// a JSON stream are grouped only with each other.
#[derive(Default)]
struct Group {
    extent: Extent,
    pieces: usize,
    json: bool,
}

impl Group {
    /// Add a piece; returns the chunks it finishes, in order: the group so
    /// far, if the piece cannot join it, and the group when it is full.
    fn add(&mut self, piece: Piece, mut done: impl FnMut(Piece)) {
        if self.pieces > 0 && piece.json != self.json {
            self.take().map(&mut done);
        }
        self.extent = self.extent.then(piece.extent);
        self.json = piece.json;
        self.pieces += 1;
        if self.extent.len >= MIN_BYTES || self.pieces >= MAX_DOCS {
            self.take().map(done);
        }
    }

    fn take(&mut self) -> Option<Piece> {
        let out = (self.extent.len > 0).then_some(Piece { extent: self.extent, json: self.json });
        *self = Group::default();
        out
    }
}

/// How the stream is read so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    /// Nothing but white space yet.
    #[default]
    Undecided,
    /// A JSON stream: cut after each value too.
    Json(json::Scan),
    /// YAML (a JSON stream turns YAML at its first `---` or `...`, as
    /// kubectl's decoder falls back to YAML where JSON fails, and stays).
    Yaml,
}

/// Incremental splitter: feed lines, get back each finished piece.
#[derive(Default)]
pub struct Splitter {
    /// The piece being built.
    extent: Extent,
    /// Whether it holds a `---` or content (else only leading lines).
    has_body: bool,
    /// Whether it is a value of a JSON stream.
    json: bool,
    mode: Mode,
}

impl Splitter {
    /// Feed one line (with its line break); each piece that ends before
    /// it or in it goes to `done`, in order.
    pub fn line(&mut self, line: &[u8], mut done: impl FnMut(Piece)) {
        let bom = if self.mode == Mode::Undecided { self.decide(line) } else { 0 };
        if let Mode::Json(scan) = self.mode {
            match classify(line) {
                // kubectl reads on as YAML; `...` belongs to no JSON value.
                Line::Start => self.mode = Mode::Yaml,
                Line::End => (self.mode, self.json) = (Mode::Yaml, false),
                _ => return self.json_line(scan, line, bom, done),
            }
        }
        let kind = classify(line);
        if kind == Line::Start && self.has_body {
            done(self.take());
        }
        self.extent = self.extent.then(whole_line(line));
        match kind {
            Line::Start | Line::Content => self.has_body = true,
            // `...` ends the document: what follows is the next piece's.
            Line::End => done(self.take()),
            Line::Leading => {}
        }
    }

    /// Whether the stream is JSON, from its first line that is not blank;
    /// returns the length of the byte order mark that starts the stream on
    /// this line, if one does (it is no character: kubectl drops it).
    fn decide(&mut self, line: &[u8]) -> usize {
        let bom = "\u{feff}".as_bytes();
        let bom = if self.extent.len == 0 && line.starts_with(bom) { bom.len() } else { 0 };
        // kubectl trims what Go's `unicode.IsSpace` calls space, as
        // `char::is_whitespace` does.
        let first = String::from_utf8_lossy(&line[bom..]).chars().find(|c| !c.is_whitespace());
        match first {
            None => {}
            Some('{') => (self.mode, self.json) = (Mode::Json(json::Scan::default()), true),
            Some(_) => self.mode = Mode::Yaml,
        }
        bom
    }

    /// A line of a JSON stream (the first `skip` bytes not read): cut where
    /// each value after the first starts (at its line's start if only white
    /// space is before it on the line, else at its first character).
    fn json_line(&mut self, mut scan: json::Scan, line: &[u8], skip: usize, mut done: impl FnMut(Piece)) {
        let mut from = 0;
        let outcome = scan.line(&line[skip..], |at| {
            let at = at + skip;
            let cut = if line[from..at].iter().all(u8::is_ascii_whitespace) { from } else { at };
            self.extent = self.extent.then(Extent { len: cut - from, lines: 0, tail: chars(&line[from..cut]) });
            done(self.take());
            (self.json, self.has_body) = (true, true);
            from = cut;
        });
        self.mode = match outcome {
            json::Outcome::Values => Mode::Json(scan),
            // Not a value: kubectl's JSON decoder fails here, and reading the
            // piece as YAML does too (a clear error, not a guess).
            json::Outcome::NotJson => {
                self.json = false;
                Mode::Yaml
            }
        };
        self.has_body |= scan.started() || outcome == json::Outcome::NotJson;
        self.extent = self.extent.then(whole_line(&line[from..]));
    }

    fn take(&mut self) -> Piece {
        let piece = Piece { extent: self.extent, json: self.json };
        (self.extent, self.has_body) = (Extent::default(), false);
        self.json = false;
        piece
    }

    /// The last piece, if any bytes remain.
    pub fn finish(mut self) -> Option<Piece> {
        (self.extent.len > 0).then(|| self.take())
    }
}

/// The extent of (the rest of) a line.
fn whole_line(line: &[u8]) -> Extent {
    match line.last() {
        Some(b'\n') => Extent { len: line.len(), lines: 1, tail: 0 },
        _ => Extent { len: line.len(), lines: 0, tail: chars(line) },
    }
}

/// Characters in UTF-8 bytes (those that do not continue a character).
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

/// Split a whole text into chunks that borrow from it.
pub fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut group = Group::default();
    let mut out = Vec::new();
    let mut at = Position::START;
    let mut push = |piece: Piece| {
        let len = piece.extent.len;
        out.push(Chunk {
            text: Cow::Borrowed(&text[at.offset..at.offset + len]),
            offset: at.offset,
            line: at.line,
            col: at.col,
            json: piece.json,
        });
        at.advance(piece.extent);
    };
    for piece in pieces(text) {
        group.add(piece, &mut push);
    }
    if let Some(chunk) = group.take() {
        push(chunk);
    }
    out
}

/// Each single-document piece of `text`.
fn pieces(text: &str) -> Vec<Piece> {
    let mut s = Splitter::default();
    let mut out = Vec::new();
    for l in text.split_inclusive('\n') {
        s.line(l.as_bytes(), |p| out.push(p));
    }
    out.extend(s.finish());
    out
}

/// The byte ranges of the values of a chunk of a JSON stream (`chunk.json`),
/// each a document.
pub fn values(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut at = 0;
    pieces(text)
        .into_iter()
        .map(|p| {
            at += p.extent.len;
            at - p.extent.len..at
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// The chunks of a reader (a file), read a line at a time: only the chunk
/// being built is held, never the whole file.
pub struct ReaderChunks<R> {
    reader: R,
    name: String,
    splitter: Splitter,
    group: Group,
    /// Chunks found and not yet taken (more than one where JSON values
    /// share a line).
    ready: VecDeque<Piece>,
    buf: Vec<u8>,
    /// Where the next chunk starts in `buf` (not 0 only where a long line
    /// holds several chunks).
    start: usize,
    at: Position,
    done: bool,
}

impl<R: std::io::BufRead> ReaderChunks<R> {
    pub fn new(reader: R, name: &str) -> Self {
        ReaderChunks {
            reader,
            name: name.to_string(),
            splitter: Splitter::default(),
            group: Group::default(),
            ready: VecDeque::new(),
            buf: Vec::with_capacity(2 * MIN_BYTES),
            start: 0,
            at: Position::START,
            done: false,
        }
    }

    /// Turn the next buffered bytes of `piece` into a chunk.
    fn take(&mut self, piece: Piece) -> Result<Chunk<'static>, super::ReadError> {
        let len = piece.extent.len;
        let rest = self.buf.len() - self.start - len;
        let bytes = if self.start == 0 && rest <= 2 * MIN_BYTES {
            // The next chunk's buffer starts at full size (growing it a line
            // at a time would copy it over and over) with the bytes read past
            // this one (a line, usually).
            let mut next = Vec::with_capacity(2 * MIN_BYTES);
            next.extend_from_slice(&self.buf[len..]);
            let mut bytes = std::mem::replace(&mut self.buf, next);
            bytes.truncate(len);
            bytes
        } else {
            // A long line of many values: copy each chunk out, not the rest
            // of the line after each.
            let bytes = self.buf[self.start..self.start + len].to_vec();
            self.start += len;
            bytes
        };
        if self.at.offset == 0 {
            super::not_utf16(&self.name, &bytes)?;
        }
        // The chunk's own line numbers, moved to where it starts in the file.
        let text = super::decode(&self.name, bytes).map_err(|e| match e {
            super::ReadError::Utf8 { name, line, col } => {
                let col = if line == 1 { col + self.at.col - 1 } else { col };
                super::ReadError::Utf8 { name, line: self.at.line + line - 1, col }
            }
            other => other,
        })?;
        let chunk = Chunk {
            text: Cow::Owned(text),
            offset: self.at.offset,
            line: self.at.line,
            col: self.at.col,
            json: piece.json,
        };
        self.at.advance(piece.extent);
        Ok(chunk)
    }
}

impl<R: std::io::BufRead> Iterator for ReaderChunks<R> {
    type Item = Result<Chunk<'static>, super::ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(piece) = self.ready.pop_front() {
                return Some(self.take(piece));
            }
            if self.done {
                return None;
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let before = self.buf.len();
            let (group, ready) = (&mut self.group, &mut self.ready);
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    if let Some(last) = std::mem::take(&mut self.splitter).finish() {
                        group.add(last, |c| ready.push_back(c));
                    }
                    ready.extend(group.take());
                }
                Ok(_) => self.splitter.line(&self.buf[before..], |p| group.add(p, |c| ready.push_back(c))),
                Err(source) => {
                    self.done = true;
                    return Some(Err(super::ReadError::Io { name: self.name.clone(), source }));
                }
            }
        }
    }
}
