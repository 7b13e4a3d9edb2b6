//! `--diff` and `-o diff`: a unified diff (3 lines of context) of every
//! changed file, input text against hardened text, with git-style headers
//! naming the file as it was given (`a/deploy/web.yaml`), so that
//! `git apply` or `patch -p1` can replay it. Colour is the caller's choice.

use super::Run;
use similar::{ChangeTag, TextDiff};
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
            out.push_str(&unified(&src.name, &src.text, &outcome.output, color));
        }
    }
    out
}

/// The unified diff of one file.
pub fn unified(name: &str, old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let (a, b) = headers(name);
    paint(&mut out, color, BOLD, &format!("--- {a}\n"));
    paint(&mut out, color, BOLD, &format!("+++ {b}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        paint(&mut out, color, CYAN, &format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
                ChangeTag::Equal => (' ', ""),
            };
            let line = change.value();
            if line.ends_with('\n') {
                paint(&mut out, color, style, &format!("{sign}{line}"));
            } else {
                // The file's last line has no newline: say so, as diff(1) does.
                paint(&mut out, color, style, &format!("{sign}{line}\n"));
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
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
