//! `--diff` and `-o diff`: a unified diff (3 lines of context) of every
//! changed file, input text against hardened text, with git-style headers
//! naming the file as it was given (`a/deploy/web.yaml`), so that
//! `git apply` or `patch -p1` can replay it. Colour is the caller's choice.

use super::Run;
use crate::apply::Edit;
use crate::pipeline::SourceOutcome;
use crate::yaml::Span;
use rayon::prelude::*;
use similar::algorithms::{Capture, Replace, myers};
use similar::udiff::UnifiedHunkHeader;
use similar::{ChangeTag, DiffOp, DiffTag, DiffableStr, group_diff_ops};
use std::fmt::Write;

const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// The diff of every changed source of the run ("" when nothing changed).
pub fn render(run: &Run, color: bool) -> String {
    let mut out = String::new();
    for (src, outcome) in run.sources.iter().zip(run.outcomes) {
        if outcome.output != src.text {
            out.push_str(&unified_of(&src.name, &src.text, outcome, color));
        }
    }
    out
}

/// The unified diff of one file, from anything to anything.
pub fn unified(name: &str, old: &str, new: &str, color: bool) -> String {
    let (old_lines, new_lines) = (old.tokenize_lines(), new.tokenize_lines());
    hunks(name, &old_lines, &new_lines, line_diff(&old_lines, &new_lines), color)
}

/// An exact (Myers, no heuristics) diff of two lists of lines.
fn line_diff(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let mut hook = Replace::new(Capture::new());
    let Ok(()) = myers::diff_deadline_raw(&mut hook, old, 0..old.len(), new, 0..new.len(), None);
    hook.into_inner().into_ops()
}

/// The unified diff of one hardened source, built from harden's own edits
/// rather than by searching for them: a line diff of a whole big stream
/// took a fifth of a `--diff` run, and a search can pair a new line with
/// an old one that happens to read the same. Each chunk is turned into
/// line changes on its own, in parallel; the hunks are formed over the
/// whole file.
fn unified_of(name: &str, old: &str, outcome: &SourceOutcome, color: bool) -> String {
    let mut at = (0, 0, 0);
    let parts: Vec<(&str, &str, Vec<&Edit>, usize)> = outcome
        .pieces
        .iter()
        .map(|p| {
            let edits: Vec<&Edit> = outcome.docs[at.2..at.2 + p.docs].iter().flat_map(|d| &d.edits).collect();
            let part = (&old[at.0..at.0 + p.old_len], &outcome.output[at.1..at.1 + p.new_len], edits, at.0);
            at = (at.0 + p.old_len, at.1 + p.new_len, at.2 + p.docs);
            part
        })
        .collect();
    let pieces: Vec<Lines> = parts.par_iter().map(|(o, n, edits, offset)| Lines::of(o, n, edits, *offset)).collect();
    let (mut old_lines, mut new_lines, mut ops) = (Vec::new(), Vec::new(), Vec::new());
    for piece in pieces {
        let base = (old_lines.len(), new_lines.len());
        for op in piece.ops {
            push_op(&mut ops, moved(op, base));
        }
        old_lines.extend(piece.old);
        new_lines.extend(piece.new);
    }
    hunks(name, &old_lines, &new_lines, ops, color)
}

/// Headers, then hunks with 3 lines of context.
fn hunks(name: &str, old_lines: &[&str], new_lines: &[&str], ops: Vec<DiffOp>, color: bool) -> String {
    let mut out = String::new();
    let (a, b) = headers(name);
    paint(&mut out, color, BOLD, &format!("--- {a}\n"));
    paint(&mut out, color, BOLD, &format!("+++ {b}\n"));
    for group in group_diff_ops(ops, 3) {
        paint(&mut out, color, CYAN, &format!("{}\n", UnifiedHunkHeader::new(&group)));
        for op in &group {
            let (old, new) = (&old_lines[op.old_range()], &new_lines[op.new_range()]);
            match op.tag() {
                DiffTag::Equal => old.iter().for_each(|l| change_line(&mut out, color, ChangeTag::Equal, l)),
                DiffTag::Delete => old.iter().for_each(|l| change_line(&mut out, color, ChangeTag::Delete, l)),
                DiffTag::Insert => new.iter().for_each(|l| change_line(&mut out, color, ChangeTag::Insert, l)),
                DiffTag::Replace => {
                    old.iter().for_each(|l| change_line(&mut out, color, ChangeTag::Delete, l));
                    new.iter().for_each(|l| change_line(&mut out, color, ChangeTag::Insert, l));
                }
            }
        }
    }
    out
}

/// One chunk's lines before and after, and the line changes between them.
struct Lines<'t> {
    old: Vec<&'t str>,
    new: Vec<&'t str>,
    ops: Vec<DiffOp>,
}

impl<'t> Lines<'t> {
    /// From the chunk's edits (byte ranges of the source, the chunk
    /// starting at `offset`): text inserted at a line start as whole lines
    /// is an insertion; any other edit replaces the lines it touches. If
    /// that does not rebuild the hardened chunk exactly (it always should),
    /// the lines are diffed instead.
    fn of(old: &'t str, new: &'t str, edits: &[&Edit], offset: usize) -> Lines<'t> {
        let old_lines = old.tokenize_lines();
        if edits.is_empty() && old == new {
            let ops = vec![DiffOp::Equal { old_index: 0, new_index: 0, len: old_lines.len() }];
            return Lines { new: old_lines.clone(), old: old_lines, ops };
        }
        let new_lines = new.tokenize_lines();
        let ops =
            from_edits(old, &old_lines, edits, offset, &new_lines).unwrap_or_else(|| line_diff(&old_lines, &new_lines));
        Lines { old: old_lines, new: new_lines, ops }
    }
}

/// Line changes from byte edits, checked against the new lines.
fn from_edits(
    old: &str,
    old_lines: &[&str],
    edits: &[&Edit],
    offset: usize,
    new_lines: &[&str],
) -> Option<Vec<DiffOp>> {
    // Where each old line starts (and the end of the text).
    let mut starts = Vec::with_capacity(old_lines.len() + 1);
    let mut at = 0;
    for l in old_lines {
        starts.push(at);
        at += l.len();
    }
    starts.push(at);
    let line_of = |byte: usize| starts.partition_point(|&s| s <= byte).saturating_sub(1);
    let mut edits: Vec<Edit> = edits
        .iter()
        .map(|e| {
            let span = Span::new(e.span.start.checked_sub(offset)?, e.span.end.checked_sub(offset)?);
            Some(Edit { span, text: e.text.clone() })
        })
        .collect::<Option<Vec<_>>>()?;
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    // Group edits by the old lines they touch: [first, last) line ranges.
    let mut groups: Vec<(usize, usize, Vec<Edit>)> = Vec::new();
    for e in edits {
        if e.span.end > old.len() {
            return None;
        }
        // Whole lines inserted at a line start touch no old line.
        let whole_lines = e.span.start == e.span.end
            && starts.binary_search(&e.span.start).is_ok()
            && (e.text.is_empty() || e.text.ends_with('\n'));
        let (first, last) = if whole_lines {
            let l = line_of(e.span.start).min(old_lines.len());
            let l = if starts[l] == e.span.start { l } else { old_lines.len() };
            (l, l)
        } else {
            let first = line_of(e.span.start).min(old_lines.len());
            let last = (line_of(e.span.end.saturating_sub(1).max(e.span.start)) + 1).min(old_lines.len()).max(first);
            (first, last)
        };
        match groups.last_mut() {
            // Overlapping the previous group's lines, or inserted at the
            // same place as it: one change.
            Some(g) if first < g.1 || (g.0 == g.1 && first == g.0 && first == last) => {
                g.1 = g.1.max(last);
                g.2.push(e);
            }
            _ => groups.push((first, last, vec![e])),
        }
    }
    let mut ops = Vec::new();
    let (mut old_at, mut new_at) = (0, 0);
    for (first, last, group) in groups {
        if first < old_at {
            return None;
        }
        push_op(&mut ops, DiffOp::Equal { old_index: old_at, new_index: new_at, len: first - old_at });
        new_at += first - old_at;
        let base = starts[first];
        let region = &old[base..starts[last]];
        let shifted: Vec<Edit> = group
            .iter()
            .map(|e| Edit { span: Span::new(e.span.start - base, e.span.end - base), text: e.text.clone() })
            .collect();
        let replaced = crate::apply::splice(region, &shifted);
        let count = replaced.as_str().tokenize_lines().len();
        if new_lines.get(new_at..new_at + count)?.concat() != replaced {
            return None;
        }
        let (old_len, new_len) = (last - first, count);
        push_op(
            &mut ops,
            match (old_len, new_len) {
                (_, 0) => DiffOp::Delete { old_index: first, old_len, new_index: new_at },
                (0, _) => DiffOp::Insert { old_index: first, new_index: new_at, new_len },
                _ => DiffOp::Replace { old_index: first, old_len, new_index: new_at, new_len },
            },
        );
        old_at = last;
        new_at += count;
    }
    let rest = old_lines.len() - old_at;
    if new_lines.len() != new_at + rest {
        return None;
    }
    push_op(&mut ops, DiffOp::Equal { old_index: old_at, new_index: new_at, len: rest });
    Some(ops)
}

/// `op` moved down by the lines before its piece.
fn moved(op: DiffOp, (o, n): (usize, usize)) -> DiffOp {
    match op {
        DiffOp::Equal { old_index, new_index, len } => {
            DiffOp::Equal { old_index: old_index + o, new_index: new_index + n, len }
        }
        DiffOp::Delete { old_index, old_len, new_index } => {
            DiffOp::Delete { old_index: old_index + o, old_len, new_index: new_index + n }
        }
        DiffOp::Insert { old_index, new_index, new_len } => {
            DiffOp::Insert { old_index: old_index + o, new_index: new_index + n, new_len }
        }
        DiffOp::Replace { old_index, old_len, new_index, new_len } => {
            DiffOp::Replace { old_index: old_index + o, old_len, new_index: new_index + n, new_len }
        }
    }
}

/// Append `op`, merging runs of equal lines across pieces (so that hunks
/// are grouped as over one text).
fn push_op(ops: &mut Vec<DiffOp>, op: DiffOp) {
    if let (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) = (ops.last_mut(), op) {
        *len += more;
        return;
    }
    if !matches!(
        op,
        DiffOp::Equal { len: 0, .. } | DiffOp::Delete { old_len: 0, .. } | DiffOp::Insert { new_len: 0, .. }
    ) {
        ops.push(op);
    }
}

/// One line of a hunk, with its sign.
fn change_line(out: &mut String, color: bool, tag: ChangeTag, line: &str) {
    let (sign, style) = match tag {
        ChangeTag::Delete => ('-', RED),
        ChangeTag::Insert => ('+', GREEN),
        ChangeTag::Equal => (' ', ""),
    };
    if line.ends_with('\n') {
        paint(out, color, style, &format!("{sign}{line}"));
    } else {
        // The file's last line has no newline: say so, as diff(1) does.
        paint(out, color, style, &format!("{sign}{line}\n"));
        out.push_str("\\ No newline at end of file\n");
    }
}

/// `a/NAME` and `b/NAME` for relative paths; absolute paths and `<stdin>`
/// as they are, since a prefix would make them wrong rather than replayable.
fn headers(name: &str) -> (String, String) {
    let rel = name.strip_prefix("./").unwrap_or(name);
    if rel.starts_with('/') || rel.starts_with('<') {
        (rel.to_string(), rel.to_string())
    } else {
        (format!("a/{rel}"), format!("b/{rel}"))
    }
}

/// Append `line` (which ends with its line break), coloured when asked.
/// The colour ends before the line break (and a CR), so that terminals and
/// pagers never carry it over to the next line.
fn paint(out: &mut String, color: bool, style: &str, line: &str) {
    if !color || style.is_empty() {
        out.push_str(line);
        return;
    }
    let body = line.trim_end_matches(['\n', '\r']);
    let _ = write!(out, "{style}{body}{RESET}{}", &line[body.len()..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{DocOutcome, Piece};
    use crate::plan::DocPlan;
    use serde_json::Value;

    fn doc(edits: Vec<Edit>) -> DocOutcome {
        let (plan, before, after) = (DocPlan::default(), Value::Null, Value::Null);
        DocOutcome { start: 0, end: 0, line: 1, plan, before, after, refused: None, edits, places: Default::default() }
    }

    fn insert(at: usize, text: &str) -> Edit {
        Edit { span: Span::new(at, at), text: text.into() }
    }

    /// Two chunks, edited as harden edits them, diffed from the edits.
    fn diff_of(old: &str, cut: usize, edits: [Vec<Edit>; 2]) -> String {
        let [first, second] = edits;
        let new_first = crate::apply::splice(&old[..cut], &first);
        let shifted: Vec<Edit> = second
            .iter()
            .map(|e| Edit { span: Span::new(e.span.start - cut, e.span.end - cut), ..e.clone() })
            .collect();
        let new_second = crate::apply::splice(&old[cut..], &shifted);
        let pieces = vec![
            Piece { old_len: cut, new_len: new_first.len(), docs: 1, json: false },
            Piece { old_len: old.len() - cut, new_len: new_second.len(), docs: 1, json: false },
        ];
        let outcome = SourceOutcome {
            output: new_first + &new_second,
            docs: vec![doc(first), doc(second)],
            found: Default::default(),
            pieces,
        };
        unified_of("f.yaml", old, &outcome, false)
    }

    #[test]
    fn inserted_lines_are_shown_where_they_were_inserted_not_where_a_search_pairs_them() {
        // A line diff may pair the inserted `emptyDir: {}` with the old one
        // and show the old line as moved; the edits say what happened.
        let old = "v:\n  - name: a\n    emptyDir: {}\nx: 1\n";
        let at = old.find("x:").expect("x");
        let d = diff_of(old, old.len(), [vec![insert(at, "  - name: t\n    emptyDir: {}\n")], vec![]]);
        assert_eq!(
            d,
            "--- a/f.yaml\n+++ b/f.yaml\n@@ -1,4 +1,6 @@\n v:\n   - name: a\n     emptyDir: {}\n\
             +  - name: t\n+    emptyDir: {}\n x: 1\n"
        );
    }

    #[test]
    fn changes_in_neighbouring_chunks_share_a_hunk_and_scalars_replace_their_line() {
        let old = "---\na: 1\nb: 2\n---\nc: 3\nd: 4\n";
        let cut = old.rfind("---").expect("second document");
        let b = old.find("2").expect("b");
        let d = diff_of(
            old,
            cut,
            [vec![Edit { span: Span::new(b, b + 1), text: "5".into() }], vec![insert(old.len(), "e: 6\n")]],
        );
        assert_eq!(
            d,
            "--- a/f.yaml\n+++ b/f.yaml\n@@ -1,6 +1,7 @@\n ---\n a: 1\n-b: 2\n+b: 5\n ---\n c: 3\n d: 4\n+e: 6\n"
        );
    }

    #[test]
    fn plain_diff_with_context_and_headers() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nX\nf\ng\nh\n";
        assert_eq!(
            unified("./dir/f.yaml", old, new, false),
            "--- a/dir/f.yaml\n+++ b/dir/f.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+X\n f\n g\n h\n"
        );
    }

    #[test]
    fn missing_final_newline_and_colour() {
        let d = unified("<stdin>", "a: 1", "a: 2", true);
        assert_eq!(
            d,
            "\x1b[1m--- <stdin>\x1b[0m\n\x1b[1m+++ <stdin>\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n\
             \x1b[31m-a: 1\x1b[0m\n\\ No newline at end of file\n\x1b[32m+a: 2\x1b[0m\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn crlf_keeps_the_line_break_outside_the_colour() {
        let d = unified("f", "a\r\n", "b\r\n", true);
        assert!(d.contains("\x1b[31m-a\x1b[0m\r\n"), "{d:?}");
    }
}
