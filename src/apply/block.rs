//! A new value for a block scalar (`|`, `>`), written in the scalar's own
//! style: its header (indicator, chomping, indentation indicator, comment),
//! its content indentation and its line breaks stay, and only the lines
//! whose content changes are rewritten (a one-line change in a 200-line
//! config is a one-line edit).
//!
//! The text is read as lines of content under the header. That reading is
//! checked against the parser's value of the scalar before anything is
//! written, and the new lines against the new value, by the same decoding
//! ([`decode`]); where either check fails, or the new value cannot be
//! written in the style exactly (see [`Block::lines_for`]), the scalar
//! becomes a double-quoted one instead (header comment kept): that needs
//! only the header and the parser's span, so the edit is refused only
//! where no header is found. The verify stage re-reads the result either
//! way.

use super::Edit;
use crate::yaml::scalar::{double_quoted, render_scalar};
use crate::yaml::{Node, Span};
use serde_json::Value;

/// The edits that give the block scalar `node` (whose value is `old`) the
/// value `new`. `newline` is the document's line break, for a block whose
/// lines have none of their own. None only where no header is found in
/// front of the scalar (a parsed block scalar always has one): then there
/// is nothing to replace safely.
pub fn rewrite(text: &str, node: &Node, old: &str, folded: bool, new: &Value, newline: &str) -> Option<Vec<Edit>> {
    let block = Block::read(text, node.span, folded)?;
    if let (Value::String(new), Some(model)) = (new, block.model(old))
        && let Some(lines) = block.lines_for(&model, new)
    {
        return Some(block.line_edits(&model, &lines, newline));
    }
    Some(vec![block.as_flow(new)])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chomp {
    /// `-`: no line break at the end.
    Strip,
    /// No indicator: one line break at the end.
    Clip,
    /// `+`: the last line break and every trailing empty line.
    Keep,
}

/// One line under the header: `start..end` is its text without the line
/// break, which is `ending` bytes long (0 only at the end of the input).
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    ending: usize,
}

/// A block scalar as its text lays it out.
struct Block<'t> {
    text: &'t str,
    /// The `|`/`>` and the indicators after it.
    indicator: Span,
    /// Where the header line ends (before its line break).
    header_end: usize,
    folded: bool,
    chomp: Chomp,
    explicit_indent: bool,
    /// The lines from the one after the header to the end of the span.
    lines: Vec<Line>,
}

/// The lines read as content: `indent` columns of indentation each, the
/// content after it, and which lines are the value's.
struct Model<'t> {
    indent: usize,
    contents: Vec<&'t str>,
    /// The lines up to the last one with content; the rest are trailing
    /// empty lines (the value's only with `+`).
    body: usize,
    /// The lines a new value is written over: the body, and with `+` the
    /// trailing empty lines too.
    owned: usize,
}

impl<'t> Block<'t> {
    fn read(text: &'t str, span: Span, folded: bool) -> Option<Block<'t>> {
        let (indicator, header_end) = find_header(text, span.start)?;
        let mut explicit_indent = false;
        let mut chomp = Chomp::Clip;
        for c in text[indicator.start + 1..indicator.end].chars() {
            match c {
                '-' => chomp = Chomp::Strip,
                '+' => chomp = Chomp::Keep,
                _ => explicit_indent = true,
            }
        }
        // The span runs past trailing empty lines and into the indentation
        // of the line after the scalar: its lines end at the last line
        // break inside it (or at the end of an input without one).
        let region_end = if span.end == text.len() {
            text.len()
        } else {
            text[..span.end].rfind(['\n', '\r']).map_or(span.end, |i| i + 1)
        };
        let mut lines = Vec::new();
        let mut at = header_end + break_len(text, header_end);
        while at < region_end {
            let end = text[at..region_end].find(['\n', '\r']).map_or(region_end, |i| at + i);
            let ending = break_len(text, end);
            lines.push(Line { start: at, end, ending });
            at = end + ending;
        }
        Some(Block { text, indicator, header_end, folded, chomp, explicit_indent, lines })
    }

    /// The lines as content, if that reading gives the parser's value.
    fn model(&self, old: &str) -> Option<Model<'t>> {
        let text = self.text;
        let spaces = |l: &Line| text[l.start..l.end].len() - text[l.start..l.end].trim_start_matches(' ').len();
        // The first line with text sits at the content indentation plus
        // whatever spaces the value's first line starts with.
        let first = self.lines.iter().find(|l| !text[l.start..l.end].trim().is_empty())?;
        let lead = old.trim_start_matches('\n');
        let indent = spaces(first).checked_sub(lead.len() - lead.trim_start_matches(' ').len())?;
        let mut contents = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            let line = &text[l.start..l.end];
            contents.push(match line.get(indent..) {
                Some(content) if spaces(l) >= indent => content,
                // Less indented: only an empty line may be.
                _ if line.trim_start_matches(' ').is_empty() => "",
                _ => return None,
            });
        }
        let body = contents.iter().rposition(|c| !c.is_empty())? + 1;
        let last_break = self.lines.last().is_some_and(|l| l.ending > 0);
        if self.chomp == Chomp::Keep && !last_break {
            return None;
        }
        let owned = if self.chomp == Chomp::Keep { contents.len() } else { body };
        let model = Model { indent, contents, body, owned };
        let breaks =
            self.lines[body..].iter().filter(|l| l.ending > 0).count() + usize::from(self.lines[body - 1].ending > 0);
        let read = decode(&model.contents[..body], self.folded, self.chomp, breaks)?;
        (read == old).then_some(model)
    }

    /// The content lines that give `new` in this style (over the model's
    /// `owned` lines), or None where the style cannot hold it exactly:
    /// - chomping fixes the line breaks at the end: none (`-`), exactly
    ///   one (clip), at least one (`+`, the rest become empty lines);
    /// - without an indentation indicator the first line with text sets
    ///   the indentation, so it cannot start with white space;
    /// - a line cannot hold a character YAML reads as a line break (`\r`,
    ///   and NEL, LS, PS for YAML 1.1 readers such as kubectl) or cannot
    ///   write unescaped;
    /// - folded (`>`): a paragraph cannot start or end with white space
    ///   (that would be a more-indented line, whose breaks do not fold);
    /// - the new value's text must end with a non-blank line (blank lines
    ///   at the end are chomping's, whitespace-only ones read differently
    ///   by different readers), and at indentation 0 (a document's root)
    ///   no new lines are written at all: `---` there ends the document.
    fn lines_for(&self, model: &Model, new: &str) -> Option<Vec<String>> {
        if model.indent == 0 || new.chars().any(unwritable) {
            return None;
        }
        let final_break = self.lines[model.body - 1].ending > 0;
        let (body, trailing) = match self.chomp {
            Chomp::Strip => (new, 0),
            Chomp::Clip if final_break => (new.strip_suffix('\n')?, 0),
            Chomp::Clip => (new, 0),
            Chomp::Keep => {
                let body = new.trim_end_matches('\n');
                (body, (new.len() - body.len()).checked_sub(1)?)
            }
        };
        let last = body.rsplit('\n').next().unwrap_or(body);
        if last.trim().is_empty() {
            return None;
        }
        let mut lines = if self.folded {
            fold_lines(body, &model.contents[..model.body])?
        } else {
            let lines: Vec<String> = body.split('\n').map(str::to_string).collect();
            if !self.explicit_indent {
                let first = lines.iter().position(|l| !l.is_empty())?;
                if lines[first].starts_with([' ', '\t']) {
                    return None;
                }
            }
            lines
        };
        let body_lines = lines.len();
        lines.extend(std::iter::repeat_n(String::new(), trailing));
        let breaks = trailing + usize::from(final_break);
        let contents: Vec<&str> = lines[..body_lines].iter().map(String::as_str).collect();
        (decode(&contents, self.folded, self.chomp, breaks).as_deref() == Some(new)).then_some(lines)
    }

    /// Edits that turn the owned lines into `new`: lines equal at the start
    /// and the end stay; where as many lines change as there are, each
    /// changed line is its own edit, otherwise one edit covers them.
    fn line_edits(&self, model: &Model, new: &[String], newline: &str) -> Vec<Edit> {
        let old = &model.contents[..model.owned];
        let lines = &self.lines[..model.owned];
        let prefix = old.iter().zip(new).take_while(|(a, b)| *a == b).count();
        let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| *a == b).count();
        let (old_mid, new_mid) = (prefix..old.len() - suffix, &new[prefix..new.len() - suffix]);
        let nl = lines.iter().find(|l| l.ending > 0).map_or(newline, |l| &self.text[l.end..l.end + l.ending]);
        let render = |content: &str| {
            if content.is_empty() { String::new() } else { format!("{}{content}", " ".repeat(model.indent)) }
        };
        if old_mid.len() == new_mid.len() {
            return old_mid
                .zip(new_mid)
                .filter(|(i, n)| old[*i] != n.as_str())
                .map(|(i, n)| Edit { span: Span::new(lines[i].start, lines[i].end), text: render(n) })
                .collect();
        }
        let joined = new_mid.iter().map(|n| render(n)).collect::<Vec<_>>().join(nl);
        let edit = match (old_mid.is_empty(), new_mid.is_empty()) {
            // Lines only added: before the first line after them, or after
            // the last line (whose missing line break stays missing).
            (true, _) if old_mid.start < lines.len() => {
                let at = lines[old_mid.start].start;
                Edit { span: Span::new(at, at), text: format!("{joined}{nl}") }
            }
            (true, _) => {
                let at = lines[old_mid.start - 1].end;
                Edit { span: Span::new(at, at), text: format!("{nl}{joined}") }
            }
            // Lines only removed, with their line breaks (the line before
            // keeps its own when they were the last).
            (false, true) if old_mid.end < lines.len() => {
                Edit { span: Span::new(lines[old_mid.start].start, lines[old_mid.end].start), text: String::new() }
            }
            (false, true) => {
                Edit { span: Span::new(lines[old_mid.start - 1].end, lines[old_mid.end - 1].end), text: String::new() }
            }
            (false, false) => {
                Edit { span: Span::new(lines[old_mid.start].start, lines[old_mid.end - 1].end), text: joined }
            }
        };
        vec![edit]
    }

    /// The value as a flow scalar in the header's place (`key: |  # c` →
    /// `key: "…"  # c`), the lines with text after it removed; trailing
    /// empty lines stay as blank lines.
    fn as_flow(&self, new: &Value) -> Edit {
        let text = self.text;
        let end = self
            .lines
            .iter()
            .rev()
            .find(|l| !text[l.start..l.end].trim().is_empty())
            .map_or(self.indicator.end, |l| l.end);
        let scalar = match new {
            Value::String(s) => double_quoted(s),
            other => render_scalar(other),
        };
        Edit {
            span: Span::new(self.indicator.start, end),
            text: format!("{scalar}{}", &text[self.indicator.end..self.header_end]),
        }
    }
}

/// The value the content lines `body` (up to the last one with content)
/// mean in this style, with `breaks` line breaks after the last of them
/// (its own and each trailing empty line's) for chomping to keep or drop.
/// Folded lines that start with white space (more indented, which do not
/// fold) are not read: None.
fn decode(body: &[&str], folded: bool, chomp: Chomp, breaks: usize) -> Option<String> {
    let mut value = String::new();
    if folded {
        // Between two lines of text a line break is a space, and each empty
        // line between them a line break; empty lines before the first are
        // line breaks too.
        let (mut pending, mut first) = (0, true);
        for line in body {
            if line.is_empty() {
                pending += 1;
                continue;
            }
            if line.starts_with([' ', '\t']) {
                return None;
            }
            if !first && pending == 0 {
                value.push(' ');
            }
            value.extend(std::iter::repeat_n('\n', pending));
            value.push_str(line);
            (pending, first) = (0, false);
        }
    } else {
        value = body.join("\n");
    }
    let kept = match chomp {
        Chomp::Strip => 0,
        Chomp::Clip => breaks.min(1),
        Chomp::Keep => breaks,
    };
    value.extend(std::iter::repeat_n('\n', kept));
    Some(value)
}

/// Folded lines for `body`: its paragraphs (text between line breaks)
/// separated by as many empty lines as it has line breaks there. A
/// paragraph keeps the lines it had in `old` where it is unchanged, and
/// the old lines it still starts and ends with where it changed (the rest
/// goes on one line between them).
fn fold_lines(body: &str, old: &[&str]) -> Option<Vec<String>> {
    let old_paragraphs: Vec<&[&str]> = old.split(|l| l.is_empty()).filter(|p| !p.is_empty()).collect();
    let mut lines = Vec::new();
    let mut paragraph = 0;
    let mut rest = body;
    loop {
        let breaks = rest.len() - rest.trim_start_matches('\n').len();
        lines.extend(std::iter::repeat_n(String::new(), breaks));
        rest = &rest[breaks..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find('\n').unwrap_or(rest.len());
        let hint = old_paragraphs.get(paragraph).copied().unwrap_or(&[]);
        lines.extend(paragraph_lines(&rest[..end], hint)?);
        rest = &rest[end..];
        paragraph += 1;
    }
    Some(lines)
}

fn paragraph_lines(text: &str, old: &[&str]) -> Option<Vec<String>> {
    if old.join(" ") == text {
        return Some(old.iter().map(|l| l.to_string()).collect());
    }
    // The most old lines that `text` still starts with, then ends with.
    let mut head = (0, 0);
    for n in 1..=old.len() {
        let joined = format!("{} ", old[..n].join(" "));
        if !text.starts_with(&joined) {
            break;
        }
        head = (n, joined.len());
    }
    let mut tail = (0, 0);
    for n in 1..=old.len() - head.0 {
        let joined = format!(" {}", old[old.len() - n..].join(" "));
        if head.1 + joined.len() >= text.len() || !text.ends_with(&joined) {
            break;
        }
        tail = (n, joined.len());
    }
    let middle = &text[head.1..text.len() - tail.1];
    let clean = |s: &str| !s.is_empty() && !s.starts_with([' ', '\t']) && !s.ends_with([' ', '\t']);
    if !clean(middle) {
        return clean(text).then(|| vec![text.to_string()]);
    }
    let mut lines: Vec<String> = old[..head.0].iter().map(|l| l.to_string()).collect();
    lines.push(middle.to_string());
    lines.extend(old[old.len() - tail.0..].iter().map(|l| l.to_string()));
    Some(lines)
}

/// A character a block scalar cannot hold as itself: line breaks (YAML
/// 1.1 also breaks at NEL, LS and PS), control characters other than tab,
/// the byte order mark and the non-characters.
fn unwritable(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// The bytes of the line break at `at`: `\r\n`, `\n`, a lone `\r`, or none.
fn break_len(text: &str, at: usize) -> usize {
    match text.as_bytes().get(at..) {
        Some([b'\r', b'\n', ..]) => 2,
        Some([b'\n' | b'\r', ..]) => 1,
        _ => 0,
    }
}

/// The header of the block scalar whose content starts at `start`: the
/// span of its indicators (`|`, `>-`, `|2+`, …) and where its line ends.
/// It is on the line of `start` if text precedes `start` there, else on the
/// nearest line above that is not blank.
fn find_header(text: &str, start: usize) -> Option<(Span, usize)> {
    let line_start = |at: usize| text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let mut ls = line_start(start);
    let mut end = start;
    while text[ls..end].trim().is_empty() {
        if ls == 0 {
            return None;
        }
        end = ls - 1;
        if text[..end].ends_with('\r') && text.as_bytes()[end] == b'\n' {
            end -= 1;
        }
        ls = line_start(end);
    }
    let line_end = text[ls..].find(['\n', '\r']).map_or(text.len(), |i| ls + i);
    let (from, to) = indicator_in(&text[ls..line_end])?;
    Some((Span::new(ls + from, ls + to), line_end))
}

/// Where a block scalar's indicators are in its header line: a `|` or `>`
/// after white space (or at the start), then at most an indentation digit
/// and a chomping sign, then nothing but white space and a comment. Quoted
/// text (a key like `"a | b"`) is skipped.
fn indicator_in(line: &str) -> Option<(usize, usize)> {
    let b = line.as_bytes();
    let after_space = |i: usize| i == 0 || matches!(b[i - 1], b' ' | b'\t');
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' if after_space(i) => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if after_space(i) => {
                i += 1;
                while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                    i += if b[i] == b'\'' { 2 } else { 1 };
                }
            }
            b'#' if after_space(i) => return None,
            b'|' | b'>' if after_space(i) => {
                let mut j = i + 1;
                let (mut digit, mut sign) = (false, false);
                while j < b.len() {
                    match b[j] {
                        b'1'..=b'9' if !digit => digit = true,
                        b'+' | b'-' if !sign => sign = true,
                        _ => break,
                    }
                    j += 1;
                }
                let rest = &line[j..];
                let trimmed = rest.trim_start_matches([' ', '\t']);
                if trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len()) {
                    return Some((i, j));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_indicator_after_keys_tags_and_quotes() {
        assert_eq!(indicator_in("  key: |"), Some((7, 8)));
        assert_eq!(indicator_in("- |2-  # c | d"), Some((2, 5)));
        assert_eq!(indicator_in("k: !!str &a >+"), Some((12, 14)));
        assert_eq!(indicator_in("\"a | b\": |"), Some((9, 10)));
        assert_eq!(indicator_in("'it''s | x': >"), Some((13, 14)));
        assert_eq!(indicator_in("a|b: |#c"), None);
        assert_eq!(indicator_in("k: v # |"), None);
    }

    #[test]
    fn decodes_folded_paragraphs_and_chomping() {
        let body = ["a", "b", "", "c"];
        assert_eq!(decode(&body, true, Chomp::Clip, 3).as_deref(), Some("a b\nc\n"));
        assert_eq!(decode(&body, true, Chomp::Keep, 3).as_deref(), Some("a b\nc\n\n\n"));
        assert_eq!(decode(&body, false, Chomp::Strip, 3).as_deref(), Some("a\nb\n\nc"));
        assert_eq!(decode(&["a", "  b"], true, Chomp::Clip, 1), None);
    }

    #[test]
    fn a_changed_paragraph_keeps_its_unchanged_first_and_last_lines() {
        let old = ["one two", "three", "four five"];
        assert_eq!(paragraph_lines("one two THREE four five", &old).expect("lines"), ["one two", "THREE", "four five"]);
        assert_eq!(paragraph_lines("one two three four five", &old).expect("lines"), ["one two", "three", "four five"]);
        assert_eq!(
            paragraph_lines("zero one two three four five", &old).expect("lines"),
            ["zero", "one two", "three", "four five"]
        );
        assert_eq!(paragraph_lines(" lead", &old), None);
    }
}
