//! A fast reader for the plain block YAML nearly every manifest is written
//! in, building the same [`Document`] trees as the event-driven reader in
//! [`super::parse`] at several times its speed.
//!
//! It reads a deliberately small subset: block mappings and sequences with
//! space indentation, single-line plain and quoted scalars, `|`/`>` block
//! scalars, empty and single-line flow sequences, comments and `---`
//! separators. Anything else (anchors, tags, multi-line plain or quoted
//! scalars, `?` keys, directives, tabs, CR line breaks, unusual characters,
//! empty documents or items, and every error) makes it give up and return
//! `None`; the caller then reads the text with the full parser, which also
//! words the errors. So it never has to be right about a case it does not
//! know: it only has to agree with the full reader where it answers, and a
//! differential test over every YAML file we have (and the fuzzer) checks
//! exactly that.

use super::Limits;
use super::parse::KeySet;
use super::scalar::key_str;
use super::tree::{Document, Entry, Layout, Node, NodeKind, ScalarStyle, Span};
use std::borrow::Cow;

/// Read `text` if it lies inside the subset, else `None`.
pub fn parse(text: &str, limits: &Limits) -> Option<Vec<Document>> {
    if !plain_characters(text.as_bytes()) {
        return None;
    }
    Reader { text, b: text.as_bytes(), pos: 0, limits, depth: 0 }.stream().ok()
}

/// The full reader's answer is needed (an error, or YAML outside the subset).
struct GiveUp;

type Read<T> = Result<T, GiveUp>;

/// No tabs, CRs, control characters, BOMs, C1 controls or Unicode line
/// separators: the characters whose handling differs between readers or
/// that are errors.
fn plain_characters(b: &[u8]) -> bool {
    // Nearly always printable ASCII and line breaks: a loop the compiler
    // turns into wide compares, before the careful one.
    if b.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\n') {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (c < 0x20 && c != b'\n') || c == 0x7f {
            return false;
        }
        if c >= 0x80 {
            let next = b.get(i + 1).copied().unwrap_or(0);
            let third = b.get(i + 2).copied().unwrap_or(0);
            match c {
                // U+0080..U+009F (C1 controls, NEL)
                0xc2 if next < 0xa0 => return false,
                // U+2028, U+2029
                0xe2 if next == 0x80 && (third == 0xa8 || third == 0xa9) => return false,
                // U+FEFF (BOM), U+FFFE, U+FFFF
                0xef if (next == 0xbb && third == 0xbf) || (next == 0xbf && third >= 0xbe) => return false,
                _ => {}
            }
        }
        i += 1;
    }
    true
}

struct Reader<'t> {
    text: &'t str,
    b: &'t [u8],
    /// Always at the start of a line between constructs.
    pos: usize,
    limits: &'t Limits,
    depth: usize,
}

impl<'t> Reader<'t> {
    fn stream(mut self) -> Read<Vec<Document>> {
        let mut docs: Vec<Document> = Vec::new();
        loop {
            self.skip_blank_lines();
            if self.pos == self.b.len() {
                break;
            }
            let explicit = self.at_document_marker(self.pos);
            let marker = self.pos;
            if explicit {
                // Only a comment may follow `---` on its line.
                self.rest_is_comment(marker + 3)?;
                self.pos = self.next_line(marker);
                self.skip_blank_lines();
                if self.pos == self.b.len() || self.at_document_marker(self.pos) {
                    return Err(GiveUp); // an empty document
                }
            } else if !docs.is_empty() {
                return Err(GiveUp);
            }
            if self.indent(self.pos) != 0 || self.starts_with(self.pos, b"...") {
                return Err(GiveUp);
            }
            let root = self.block_mapping(self.pos, 0)?;
            if self.pos < self.b.len() && !self.at_document_marker(self.pos) {
                return Err(GiveUp);
            }
            let start = if explicit { marker } else { root.span.start };
            let end = root.span.end.max(start);
            docs.push(Document { root, start, end, explicit_start: explicit });
        }
        if docs.is_empty() {
            return Err(GiveUp);
        }
        // Each document's region runs up to where the next one starts.
        for i in 0..docs.len() {
            let next = docs.get(i + 1).map_or(self.b.len(), |d| d.start);
            let doc = &mut docs[i];
            doc.end = doc.end.max(next);
            if doc.end - doc.start > self.limits.max_document_bytes {
                return Err(GiveUp);
            }
        }
        Ok(docs)
    }

    // ---- lines ----------------------------------------------------------

    fn line_end(&self, p: usize) -> usize {
        self.b[p..].iter().position(|&c| c == b'\n').map_or(self.b.len(), |i| p + i)
    }

    /// The start of the line after the one `p` is on.
    fn next_line(&self, p: usize) -> usize {
        (self.line_end(p) + 1).min(self.b.len())
    }

    fn indent(&self, line: usize) -> usize {
        self.b[line..].iter().take_while(|&&c| c == b' ').count()
    }

    fn starts_with(&self, p: usize, s: &[u8]) -> bool {
        self.b[p..].starts_with(s)
    }

    fn at_document_marker(&self, line: usize) -> bool {
        self.starts_with(line, b"---") && matches!(self.b.get(line + 3), None | Some(b'\n' | b' '))
    }

    /// Skip lines that hold nothing but spaces or a comment.
    fn skip_blank_lines(&mut self) {
        while self.pos < self.b.len() {
            let first = self.pos + self.indent(self.pos);
            match self.b.get(first) {
                None => self.pos = self.b.len(),
                Some(b'\n') | Some(b'#') => self.pos = self.next_line(self.pos),
                Some(_) => break,
            }
        }
    }

    /// From `p`, only spaces and an optional comment up to the line's end.
    fn rest_is_comment(&self, p: usize) -> Read<()> {
        let q = p + self.b[p..].iter().take_while(|&&c| c == b' ').count();
        match self.b.get(q) {
            None | Some(b'\n') => Ok(()),
            Some(b'#') if q > p => Ok(()),
            _ => Err(GiveUp),
        }
    }

    /// The next line with content: its start and indentation (None at the
    /// end of the text or at a document marker).
    fn next_content(&mut self) -> Option<(usize, usize)> {
        self.skip_blank_lines();
        // `...` ends a document: the caller finds a marker it does not
        // take and gives up.
        let end_marker =
            self.starts_with(self.pos, b"...") && matches!(self.b.get(self.pos + 3), None | Some(b'\n' | b' '));
        if self.pos >= self.b.len() || self.at_document_marker(self.pos) || end_marker {
            return None;
        }
        Some((self.pos, self.indent(self.pos)))
    }

    fn enter(&mut self) -> Read<()> {
        self.depth += 1;
        if self.depth + 2 > self.limits.max_depth { Err(GiveUp) } else { Ok(()) }
    }

    // ---- collections ----------------------------------------------------

    /// A block mapping whose first key is at `first` (a line's content, or
    /// just after a sequence item's `- `) and whose keys sit at column `n`.
    fn block_mapping(&mut self, first: usize, n: usize) -> Read<Node> {
        self.enter()?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut keys: KeySet<Cow<'t, str>> = KeySet::default();
        let mut at = first;
        loop {
            let (key, colon) = self.key(at)?;
            if !keys.insert(self.identity(&key)) {
                return Err(GiveUp); // a duplicate key: the full reader words it
            }
            let value = self.value(colon + 1, n, true)?;
            entries.push(Entry { key, value });
            match self.next_content() {
                Some((line, indent)) if indent == n && !self.at_dash(line + indent) => at = line + indent,
                Some((_, indent)) if indent > n => return Err(GiveUp),
                _ => break,
            }
        }
        self.depth -= 1;
        let start = entries[0].key.span.start;
        let end = entries.last().map_or(start, |e| e.value.span.end);
        Ok(Node {
            kind: NodeKind::Mapping { layout: Layout::Block, entries },
            span: Span::new(start, end),
            anchor: None,
        })
    }

    /// What a key is compared by for duplicates, as the full reader compares
    /// (`scalar::key_identity`), borrowed from the text when it can be.
    fn identity(&self, key: &Node) -> Cow<'t, str> {
        match &key.kind {
            NodeKind::Scalar { style: ScalarStyle::Plain, tag: None, .. } => {
                key_str(&self.text[key.span.start..key.span.end], ScalarStyle::Plain, None)
            }
            NodeKind::Scalar { value, .. } => Cow::Owned(value.clone()),
            _ => Cow::Borrowed(&self.text[key.span.start..key.span.end]),
        }
    }

    fn at_dash(&self, p: usize) -> bool {
        self.b.get(p) == Some(&b'-') && matches!(self.b.get(p + 1), None | Some(b' ' | b'\n'))
    }

    /// A block sequence whose dashes sit at column `m`, the first at `first`.
    fn block_sequence(&mut self, first: usize, m: usize) -> Read<Node> {
        self.enter()?;
        let mut items = Vec::new();
        let mut dash = first;
        loop {
            let after = dash + 1 + self.b[dash + 1..].iter().take_while(|&&c| c == b' ').count();
            if after == dash + 1 || matches!(self.b.get(after), None | Some(b'\n' | b'#')) {
                return Err(GiveUp); // an item on the following lines, or empty
            }
            let col = m + (after - dash);
            let item = if self.is_key(after) {
                self.block_mapping(after, col)?
            } else if self.at_dash(after) {
                return Err(GiveUp); // `- - x`
            } else {
                self.value(after, m, false)?
            };
            items.push(item);
            match self.next_content() {
                Some((line, indent)) if indent == m && self.at_dash(line + indent) => dash = line + indent,
                Some((_, indent)) if indent > m => return Err(GiveUp),
                _ => break,
            }
        }
        self.depth -= 1;
        let end = items.last().map_or(first, |n: &Node| n.span.end);
        Ok(Node {
            kind: NodeKind::Sequence { layout: Layout::Block, items },
            span: Span::new(first, end),
            anchor: None,
        })
    }

    // ---- keys and values ------------------------------------------------

    /// Whether a mapping key starts at `p`: a plain or quoted scalar on this
    /// line followed by `:` and a space or the line's end.
    fn is_key(&self, p: usize) -> bool {
        match self.b.get(p) {
            Some(b'"' | b'\'') => match self.quoted(p) {
                Ok((_, end)) => {
                    let q = end + self.b[end..].iter().take_while(|&&c| c == b' ').count();
                    self.b.get(q) == Some(&b':') && matches!(self.b.get(q + 1), None | Some(b' ' | b'\n'))
                }
                Err(_) => false,
            },
            _ => matches!(self.plain_extent(p), Ok((_, Some(_)))),
        }
    }

    /// The key at `p` and the offset of its `:`. The pos moves to nothing:
    /// keys and their values share a line.
    fn key(&mut self, p: usize) -> Read<(Node, usize)> {
        match self.b.get(p) {
            Some(b'"' | b'\'') => {
                let (node, end) = self.quoted(p)?;
                let q = end + self.b[end..].iter().take_while(|&&c| c == b' ').count();
                if self.b.get(q) == Some(&b':') && matches!(self.b.get(q + 1), None | Some(b' ' | b'\n')) {
                    Ok((node, q))
                } else {
                    Err(GiveUp)
                }
            }
            _ => match self.plain(p, true)? {
                (node, Some(colon)) => Ok((node, colon)),
                (_, None) => Err(GiveUp),
            },
        }
    }

    /// A plain scalar starting at `p`, up to the end of its line, a comment,
    /// or (with `key`) the `: ` that makes it a key. Returns the node and
    /// the offset of that `:`, if it ended at one.
    fn plain(&self, p: usize, key: bool) -> Read<(Node, Option<usize>)> {
        let (end, colon) = self.plain_extent(p)?;
        if colon.is_some() && !key {
            return Err(GiveUp); // `a: b: c`
        }
        let value = &self.text[p..end];
        if value.len() > self.limits.max_scalar_bytes {
            return Err(GiveUp);
        }
        Ok((scalar(value.to_string(), ScalarStyle::Plain, Span::new(p, end)), colon))
    }

    /// Where a plain scalar starting at `p` ends (trailing spaces left
    /// out), and the `:` after it if it is followed by one (a key).
    fn plain_extent(&self, p: usize) -> Read<(usize, Option<usize>)> {
        let b = self.b;
        let first = *b.get(p).ok_or(GiveUp)?;
        let second = b.get(p + 1).copied().unwrap_or(b'\n');
        match first {
            b'-' | b'?' | b':' if matches!(second, b' ' | b'\n') => return Err(GiveUp),
            b'-' | b'?' | b':' => {}
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
            | b'`' | b' ' | b'\n' => return Err(GiveUp),
            _ => {}
        }
        let mut i = p;
        let mut colon = None;
        while i < b.len() {
            match b[i] {
                b'\n' => break,
                b':' if matches!(b.get(i + 1), None | Some(b' ' | b'\n')) => {
                    colon = Some(i);
                    break;
                }
                b'#' if b[i - 1] == b' ' => break,
                _ => {}
            }
            i += 1;
        }
        while i > p && b[i - 1] == b' ' {
            i -= 1;
        }
        Ok((i, colon))
    }

    /// A quoted scalar at `p` that closes on its own line: the node and the
    /// offset just past the closing quote.
    fn quoted(&self, p: usize) -> Read<(Node, usize)> {
        let quote = self.b[p];
        let mut value = String::new();
        let mut i = p + 1;
        let mut run = i;
        loop {
            match self.b.get(i).copied().unwrap_or(b'\n') {
                b'\n' => return Err(GiveUp), // runs on to the next line
                b'\'' if quote == b'\'' => {
                    value.push_str(&self.text[run..i]);
                    if self.b.get(i + 1) == Some(&b'\'') {
                        value.push('\'');
                        i += 2;
                        run = i;
                        continue;
                    }
                    break;
                }
                b'"' if quote == b'"' => {
                    value.push_str(&self.text[run..i]);
                    break;
                }
                b'\\' if quote == b'"' => {
                    value.push_str(&self.text[run..i]);
                    i = self.escape(i, &mut value)?;
                    run = i;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        if value.len() > self.limits.max_scalar_bytes {
            return Err(GiveUp);
        }
        let style = if quote == b'"' { ScalarStyle::DoubleQuoted } else { ScalarStyle::SingleQuoted };
        Ok((scalar(value, style, Span::new(p, i + 1)), i + 1))
    }

    /// The escape at `i` (a backslash) appended to `out`; returns the
    /// offset after it. Escapes that need care (line continuations, `\x`,
    /// `\u`) are left to the full reader.
    fn escape(&self, i: usize, out: &mut String) -> Read<usize> {
        let c = match self.b.get(i + 1) {
            Some(b'\\') => '\\',
            Some(b'"') => '"',
            Some(b'/') => '/',
            Some(b'n') => '\n',
            Some(b't') => '\t',
            Some(b'r') => '\r',
            Some(b'0') => '\0',
            Some(b' ') => ' ',
            _ => return Err(GiveUp),
        };
        out.push(c);
        Ok(i + 2)
    }

    /// The value after a key's `:` (or a sequence item's `- `) at `p`, for
    /// a node whose parent sits at column `n`. `in_mapping`: a mapping
    /// value, which may be a block sequence at the parent's own column.
    fn value(&mut self, p: usize, n: usize, in_mapping: bool) -> Read<Node> {
        let q = p + self.b[p..].iter().take_while(|&&c| c == b' ').count();
        match self.b.get(q).copied() {
            None | Some(b'\n') | Some(b'#') => {
                if q == p && self.b.get(q) == Some(&b'#') {
                    return Err(GiveUp);
                }
                self.pos = self.next_line(p);
                self.nested(n, in_mapping)
            }
            Some(b'|' | b'>') => self.block_scalar(q, n),
            Some(b'"' | b'\'') => {
                let (node, end) = self.quoted(q)?;
                self.rest_is_comment(end)?;
                self.pos = self.next_line(end);
                Ok(node)
            }
            Some(b'[' | b'{') => {
                let (node, end) = self.flow(q)?;
                self.rest_is_comment(end)?;
                self.pos = self.next_line(end);
                Ok(node)
            }
            Some(_) if q == p && in_mapping => Err(GiveUp),
            Some(_) => {
                let (node, _) = self.plain(q, false)?;
                self.pos = self.next_line(node.span.end);
                Ok(node)
            }
        }
    }

    /// What follows a `key:` with nothing after it on its line: a block
    /// collection on the next lines. (An empty value gives up.)
    fn nested(&mut self, n: usize, in_mapping: bool) -> Read<Node> {
        let Some((line, indent)) = self.next_content() else { return Err(GiveUp) };
        let at = line + indent;
        if indent > n || (in_mapping && indent == n && self.at_dash(at)) {
            if self.at_dash(at) {
                self.block_sequence(at, indent)
            } else if self.is_key(at) {
                self.block_mapping(at, indent)
            } else {
                Err(GiveUp) // a scalar on the next line
            }
        } else {
            Err(GiveUp) // an empty value
        }
    }

    /// `[]`, `{}`, or a one-line flow sequence of simple scalars.
    fn flow(&self, p: usize) -> Read<(Node, usize)> {
        let (close, mapping) = if self.b[p] == b'{' { (b'}', true) } else { (b']', false) };
        if self.b.get(p + 1) == Some(&close) {
            let span = Span::new(p, p + 2);
            let kind = if mapping {
                NodeKind::Mapping { layout: Layout::Flow, entries: Vec::new() }
            } else {
                NodeKind::Sequence { layout: Layout::Flow, items: Vec::new() }
            };
            return Ok((Node { kind, span, anchor: None }, p + 2));
        }
        if mapping {
            return Err(GiveUp);
        }
        let end_of_line = self.line_end(p);
        let mut items = Vec::new();
        let mut i = p + 1;
        loop {
            i += self.b[i..end_of_line].iter().take_while(|&&c| c == b' ').count();
            let item = match self.b.get(i) {
                Some(b'"' | b'\'') => {
                    let (node, end) = self.quoted(i)?;
                    i = end;
                    node
                }
                _ => {
                    let start = i;
                    while i < end_of_line && !matches!(self.b[i], b',' | b']' | b' ') {
                        if matches!(self.b[i], b'[' | b'{' | b'}' | b':' | b'#' | b'"' | b'\'') {
                            return Err(GiveUp);
                        }
                        i += 1;
                    }
                    if i == start {
                        return Err(GiveUp);
                    }
                    self.plain_flow(start, i)?
                }
            };
            items.push(item);
            i += self.b[i..end_of_line].iter().take_while(|&&c| c == b' ').count();
            match self.b.get(i) {
                Some(b',') if i < end_of_line => i += 1,
                Some(b']') if i < end_of_line => break,
                _ => return Err(GiveUp),
            }
        }
        let span = Span::new(p, i + 1);
        Ok((Node { kind: NodeKind::Sequence { layout: Layout::Flow, items }, span, anchor: None }, i + 1))
    }

    fn plain_flow(&self, start: usize, end: usize) -> Read<Node> {
        let first = self.b[start];
        if matches!(first, b'-' | b'?' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`') {
            return Err(GiveUp);
        }
        Ok(scalar(self.text[start..end].to_string(), ScalarStyle::Plain, Span::new(start, end)))
    }

    /// A `|` or `>` block scalar whose indicator is at `p`, under a parent
    /// at column `n`.
    fn block_scalar(&mut self, p: usize, n: usize) -> Read<Node> {
        let literal = self.b[p] == b'|';
        let mut h = p + 1;
        let chomp = match self.b.get(h) {
            Some(b'-') => {
                h += 1;
                Chomp::Strip
            }
            Some(b'+') => {
                h += 1;
                Chomp::Keep
            }
            _ => Chomp::Clip,
        };
        if !matches!(self.b.get(h), None | Some(b' ' | b'\n')) {
            return Err(GiveUp); // an indentation indicator, or garbage
        }
        self.rest_is_comment(h)?;
        // The content lines: indented past the first one's indentation.
        let mut line = self.next_line(p);
        if line >= self.b.len() {
            return Err(GiveUp);
        }
        let mut lines: Vec<(usize, usize)> = Vec::new(); // (start, end) of each line
        let mut content_indent = None;
        while line < self.b.len() {
            let end = self.line_end(line);
            let indent = self.indent(line);
            let blank = line + indent == end;
            match content_indent {
                None if blank => {}
                None if indent <= n => break,
                None => content_indent = Some(indent),
                Some(ci) if !blank && indent < ci => break,
                Some(_) => {}
            }
            lines.push((line, end));
            line = (end + 1).min(self.b.len());
            if end == self.b.len() {
                break;
            }
        }
        let Some(ci) = content_indent else { return Err(GiveUp) };
        // Trailing blank lines belong to the scalar only as line breaks.
        let mut last_content = lines.len();
        while last_content > 0 {
            let (s, e) = lines[last_content - 1];
            if s + self.indent(s) != e {
                break;
            }
            last_content -= 1;
        }
        let mut value = String::new();
        let mut folded_pending_breaks: usize = 0;
        let mut first_text = true;
        for &(s, e) in &lines[..last_content] {
            let blank = s + self.indent(s) == e;
            if blank {
                if e - s > ci {
                    return Err(GiveUp); // spaces past the indentation on an empty line
                }
                if literal {
                    value.push('\n');
                } else {
                    folded_pending_breaks += 1;
                }
                continue;
            }
            let body = &self.text[s + ci..e];
            if literal {
                value.push_str(body);
                value.push('\n');
            } else {
                if body.starts_with(' ') {
                    return Err(GiveUp); // a more-indented folded line
                }
                if !first_text {
                    if folded_pending_breaks == 0 {
                        value.push(' ');
                    } else {
                        value.extend(std::iter::repeat_n('\n', folded_pending_breaks));
                    }
                } else {
                    value.extend(std::iter::repeat_n('\n', folded_pending_breaks));
                }
                folded_pending_breaks = 0;
                value.push_str(body);
                first_text = false;
            }
        }
        if !literal {
            value.push('\n');
        }
        let trailing = lines.len() - last_content;
        for &(s, e) in &lines[last_content..] {
            if e - s > ci {
                return Err(GiveUp);
            }
        }
        match chomp {
            Chomp::Strip => {
                while value.ends_with('\n') {
                    value.pop();
                }
            }
            Chomp::Clip => {}
            Chomp::Keep => value.extend(std::iter::repeat_n('\n', trailing)),
        }
        // The full reader's span runs from the first character of content
        // to where it stopped reading: past the trailing empty lines and the
        // indentation of the line that ended the scalar.
        let (first_line, _) = lines[0];
        if first_line + self.indent(first_line) == lines[0].1 {
            return Err(GiveUp); // empty lines before the content
        }
        let span_start = first_line + ci;
        let span_end = if line < self.b.len() { line + self.indent(line) } else { self.b.len() };
        if value.len() > self.limits.max_scalar_bytes {
            return Err(GiveUp);
        }
        // As the full reader: no line break at the very end of the input.
        if span_end == self.b.len() && !self.text.ends_with('\n') && value.ends_with('\n') {
            value.pop();
        }
        self.pos = line.min(self.b.len());
        let style = if literal { ScalarStyle::Literal } else { ScalarStyle::Folded };
        Ok(scalar(value, style, Span::new(span_start, span_end)))
    }
}

enum Chomp {
    Strip,
    Clip,
    Keep,
}

fn scalar(value: String, style: ScalarStyle, span: Span) -> Node {
    Node { kind: NodeKind::Scalar { value, style, tag: None }, span, anchor: None }
}
