//! All printing goes through here: the YAML stream on stdout, warnings and
//! the summary on stderr. Write errors come back to `main`, which treats a
//! closed pipe (`| head`) as success.

use crate::cli::{ColorWhen, OutputKind, ReportFormat, ReviewArgs};
use harden::pipeline::{Form, Found, SourceOutcome};
use harden::plan::ResourcePlan;
use harden::read::split::values;
use harden::write::{self, Run};
use std::cell::Cell;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// How many of a run's warnings (notes a reviewer must see) stderr shows;
/// past them it counts the rest and points at `-o report`, which has all.
pub const WARNINGS_SHOWN: usize = 20;

pub struct Output {
    stdout: io::BufWriter<io::Stdout>,
    /// No summary and no warnings on stderr (blockers and errors stay).
    quiet: bool,
    /// The warnings of the run so far, shown or not.
    warnings: Cell<usize>,
    joining: Joining,
    /// Whether the stream written so far ends inside a document that the
    /// next source's first document would run into.
    need_separator: bool,
    /// Whether the source being written has had a document yet.
    source_has_docs: bool,
    /// Whether the source being written has had any text yet.
    source_started: bool,
    /// Whether anything was written to stdout.
    written: bool,
    /// Whether the last byte written to stdout was a line break.
    ends_with_newline: bool,
}

/// How sources are joined into one stream that kubectl reads as it reads
/// each of them. kubectl reads a stream whose first character is `{` as
/// JSON values only, where `---` is an error, and any other as YAML, where
/// JSON values one after the other are an error
/// (k8s.io/apimachinery/pkg/util/yaml `NewYAMLOrJSONDecoder` before v1.33,
/// which sniffs the stream's start; see `read::split`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Joining {
    /// One source with text (the others blank, if any): written as it is.
    #[default]
    Alone,
    /// Every source is JSON: one JSON stream, a line break between sources.
    Json,
    /// YAML: `---` between sources, and before each value of a JSON
    /// stream (so also before the first, where one comes first: a `---`
    /// line first makes kubectl read the whole stream as YAML, of which
    /// JSON is part).
    Yaml,
}

impl Output {
    pub fn new(quiet: bool) -> Self {
        Output {
            stdout: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            quiet,
            warnings: Cell::new(0),
            joining: Joining::Alone,
            need_separator: false,
            source_has_docs: false,
            source_started: false,
            written: false,
            ends_with_newline: true,
        }
    }

    /// Decide how the sources to be written are joined, from what pass 1
    /// found of them. A source that must end without a line break (see
    /// `Found::open_end`) cannot be joined with one that follows: `Err`
    /// gives its index and last line.
    pub fn join(&mut self, found: &[Found]) -> Result<(), (usize, usize)> {
        let texts: Vec<usize> = (0..found.len()).filter(|&i| found[i].form != Form::Blank).collect();
        if let Some(&i) = texts.iter().rev().skip(1).find(|&&i| found[i].open_end.is_some()) {
            return Err((i, found[i].open_end.unwrap_or_default()));
        }
        self.joining = match texts.as_slice() {
            [] | [_] => Joining::Alone,
            _ if texts.iter().all(|&i| found[i].form == Form::Json) => Joining::Json,
            _ => Joining::Yaml,
        };
        Ok(())
    }

    /// Write one source's hardened text, separated from the previous source
    /// so that documents never merge across files.
    pub fn stream(&mut self, outcome: &SourceOutcome) -> io::Result<()> {
        self.begin_source();
        let mut at = 0;
        for piece in &outcome.pieces {
            self.chunk(&outcome.output[at..at + piece.new_len], piece.docs > 0, piece.json)?;
            at += piece.new_len;
        }
        self.end_source();
        Ok(())
    }

    /// A new source starts: its first document must not run into the last
    /// one of the previous source.
    pub fn begin_source(&mut self) {
        self.source_has_docs = false;
        self.source_started = false;
    }

    /// Part of a source's hardened text, in order; `has_docs` says whether it
    /// holds a document (not only comments), `json` whether it is values of
    /// a JSON stream.
    pub fn chunk(&mut self, text: &str, has_docs: bool, json: bool) -> io::Result<()> {
        let mut text = text;
        if text.is_empty() {
            return Ok(());
        }
        let first = !std::mem::replace(&mut self.source_started, true);
        if first && !self.ends_with_newline {
            // The source before ended without a line break (which is kept
            // where nothing follows).
            self.write("\n")?;
        }
        if first && let Some(rest) = text.strip_prefix('\u{feff}') {
            // A byte order mark marks the encoding where a stream starts;
            // inside one it would be a character of a document (and before a
            // separator, no separator to kubectl).
            if !self.written {
                self.stdout.write_all("\u{feff}".as_bytes())?;
                self.written = true;
            }
            text = rest;
        }
        if self.joining == Joining::Yaml && json {
            // In a YAML stream, each value is a document of its own.
            for value in values(text) {
                self.separate(&text[value.clone()], true)?;
                self.write(&text[value])?;
            }
            return Ok(());
        }
        if has_docs && !self.source_has_docs {
            self.separate(text, false)?;
        }
        self.write(text)
    }

    /// Before the source's first document (or, `always`, a value of a JSON
    /// stream in a YAML stream), `next`: a separator if the stream written
    /// so far ends inside a document.
    fn separate(&mut self, next: &str, always: bool) -> io::Result<()> {
        let open = always || self.need_separator || self.source_has_docs;
        self.source_has_docs = true;
        if !open || self.joining == Joining::Json {
            return Ok(());
        }
        if !self.ends_with_newline {
            self.write("\n")?;
        }
        match first_content(next) {
            Some(l) if l.starts_with("---") => Ok(()),
            // Directives come after the document before has ended.
            Some(l) if l.starts_with('%') => self.write("...\n"),
            _ => self.write("---\n"),
        }
    }

    fn write(&mut self, text: &str) -> io::Result<()> {
        if let Some(&last) = text.as_bytes().last() {
            self.stdout.write_all(text.as_bytes())?;
            self.ends_with_newline = last == b'\n';
            self.written = true;
        }
        Ok(())
    }

    /// The source is done.
    pub fn end_source(&mut self) {
        self.need_separator = self.need_separator || self.source_has_docs;
    }

    /// Text that carries its own line breaks (a diff, a report).
    pub fn text(&mut self, s: &str) -> io::Result<()> {
        self.stdout.write_all(s.as_bytes())
    }

    /// Text made in pieces, written one after another.
    pub fn pieces(&mut self, pieces: &[String]) -> io::Result<()> {
        pieces.iter().try_for_each(|p| self.text(p))
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }

    /// A warning of the run: counted, shown unless `-q` or past the first
    /// [`WARNINGS_SHOWN`].
    pub fn warning(&self, msg: &str) {
        if self.quiet {
            return;
        }
        self.warnings.set(self.warnings.get() + 1);
        if self.warnings.get() <= WARNINGS_SHOWN {
            warn(msg);
        }
    }

    /// Blockers, opted-out violations, withheld fixes and refused edits of one resource.
    pub fn resource_warnings(&self, r: &ResourcePlan, partial: bool) {
        for n in r.notes.iter().filter(|n| n.warning) {
            match &n.container {
                Some(c) => self.warning(&format!("{}: container \"{c}\": {}", r.id, n.message)),
                None => self.warning(&format!("{}: {}", r.id, n.message)),
            }
        }
        if let Some(why) = r.skipped.as_ref().filter(|_| r.opted_out.is_empty()) {
            note(&format!("{}: left unchanged: {why}", r.id));
        }
        // Opted out is not compliant: say what stays, once per way of opting out.
        let mut ways: Vec<&str> = Vec::new();
        for o in &r.opted_out {
            if !ways.contains(&o.by.as_str()) {
                ways.push(&o.by);
            }
        }
        for by in ways {
            let found: Vec<String> = r
                .opted_out
                .iter()
                .filter(|o| o.by == by)
                .map(|o| match &o.violation.container {
                    Some(c) => format!("container \"{c}\": {} ({})", o.violation.what, o.violation.control),
                    None => format!("{} ({})", o.violation.what, o.violation.control),
                })
                .collect();
            note(&format!("{}: skipped (opted out: {by}), still violating: {}", r.id, found.join("; ")));
        }
        let fate = if partial { "kept" } else { "left unchanged" };
        for b in &r.blockers {
            match &b.container {
                Some(c) => warn(&format!("{}: container \"{c}\": {} violates {}; {fate}", r.id, b.what, b.control)),
                None => warn(&format!("{}: {} violates {}; {fate}", r.id, b.what, b.control)),
            }
        }
        if r.withheld > 0 && !r.blockers.is_empty() {
            warn(&format!(
                "{}: {} withheld because of the blockers above (--partial applies them)",
                r.id,
                write::count(r.withheld, "fix")
            ));
        }
    }

    /// How many warnings were counted but not shown, if any (after the run).
    pub fn warnings_left_out(&self) {
        let left_out = self.warnings.get().saturating_sub(WARNINGS_SHOWN);
        if left_out > 0 {
            warn(&format!(
                "and {} more like those above, not shown: `-o report` lists every one",
                write::count(left_out, "warning")
            ));
        }
    }

    /// A summary that is information, not a count (`-q` drops it too).
    pub fn summary_note(&self, line: &str) {
        if !self.quiet {
            note(line);
        }
    }

    pub fn summary(&self, line: &str) {
        if !self.quiet {
            eprintln_safe(&format!("harden: {line}"));
        }
    }
}

/// The review and CI flags, resolved: what stdout gets, whether a diff goes
/// to stderr, and what `--check` makes of the outcome.
pub struct Review {
    check: bool,
    diff: bool,
    stdout: Option<OutputKind>,
    format: ReportFormat,
    color: ColorWhen,
}

impl Review {
    /// Usage errors (exit 2) before any input is read.
    pub fn new(args: &ReviewArgs) -> Result<Review, String> {
        let stdout = match (args.output, args.format) {
            (Some(kind), Some(_)) if kind != OutputKind::Report => {
                return Err("--format applies to reports only; use it with -o report (or alone).".into());
            }
            (None, Some(_)) => Some(OutputKind::Report),
            (kind, _) => kind,
        };
        Ok(Review {
            check: args.check,
            diff: args.diff,
            stdout,
            format: args.format.unwrap_or(ReportFormat::Text),
            color: args.color,
        })
    }

    /// Whether the run can be streamed, a chunk at a time: stdout gets the
    /// YAML stream or nothing (`--check` alone), and nothing needs the
    /// whole stream's outcomes (no diff, patch or report).
    pub fn streams(&self) -> bool {
        !self.diff && self.stdout.is_none_or(|k| k == OutputKind::Yaml)
    }

    /// Whether the run must keep each document's values: patches and
    /// reports are computed from them.
    pub fn values(&self) -> harden::pipeline::Values {
        match self.stdout {
            Some(OutputKind::Patch) => harden::pipeline::Values::Reduce(write::FOR_PATCH),
            Some(OutputKind::Report) => harden::pipeline::Values::Reduce(write::FOR_REPORT),
            _ => harden::pipeline::Values::Drop,
        }
    }

    /// Whether stdout gets the YAML stream: by default, unless `--check`
    /// (which writes YAML only when `-o yaml` asks for it).
    pub fn yaml(&self) -> bool {
        match self.stdout {
            None => !self.check,
            Some(kind) => kind == OutputKind::Yaml,
        }
    }

    /// The diff on stderr and whatever `-o` asks for on stdout.
    pub fn write(&self, out: &mut Output, run: &Run) -> io::Result<()> {
        if self.diff {
            let diff = write::diff::render(run, colour(self.color, io::stderr().is_terminal()));
            // Like every message, never fail over a closed stderr.
            let _ = io::stderr().lock().write_all(diff.as_bytes());
        }
        match self.stdout {
            None | Some(OutputKind::Yaml) => Ok(()),
            Some(OutputKind::Diff) => {
                out.text(&write::diff::render(run, colour(self.color, io::stdout().is_terminal())))
            }
            Some(OutputKind::Patch) => out.pieces(&write::patch::render(run)),
            Some(OutputKind::Report) => report(out, run, self.format),
        }
    }

    /// 0, or with `--check` 1 when harden would change anything or a violation remains.
    pub fn exit_code(&self, outcomes: &[SourceOutcome]) -> ExitCode {
        self.exit_code_for(outcomes.iter().flat_map(|o| &o.docs).any(write::needs_attention))
    }

    /// The same, knowing whether any document needs attention.
    pub fn exit_code_for(&self, attention: bool) -> ExitCode {
        if self.check && attention { ExitCode::from(1) } else { ExitCode::SUCCESS }
    }
}

/// The report of a run on stdout, in `format`: `-o report` and `harden check`.
pub fn report(out: &mut Output, run: &Run, format: ReportFormat) -> io::Result<()> {
    match format {
        ReportFormat::Text => out.pieces(&write::text::render_run(run)),
        ReportFormat::Json => out.pieces(&write::report::json_of(run)),
        ReportFormat::Sarif => out.text(&write::sarif::render(&write::report::build(run))),
    }
}

/// `--color`: auto means a terminal, and no `NO_COLOR` (no-color.org: set
/// and not empty) and no `TERM=dumb`; an explicit flag beats the variable.
fn colour(when: ColorWhen, terminal: bool) -> bool {
    colour_with(when, terminal, std::env::var_os("NO_COLOR"), std::env::var_os("TERM"))
}

fn colour_with(when: ColorWhen, terminal: bool, no_color: Option<OsString>, term: Option<OsString>) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb"),
    }
}

/// The first line with content: not blank, not a comment.
fn first_content(text: &str) -> Option<&str> {
    text.lines().map(str::trim_start).find(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Nothing named to read and stdin is a terminal: say, on one line, what
/// harden waits for (it goes on reading stdin).
pub fn hint_if_waiting_on_a_terminal(paths: &[std::path::PathBuf], quiet: bool) {
    if paths.is_empty() && !quiet && io::stdin().is_terminal() {
        eprintln_safe(
            "harden: reading Kubernetes manifests from standard input (end with Ctrl-D); \
             name files or directories to read those instead; harden --help for more",
        );
    }
}

/// Information that needs no action.
pub fn note(msg: &str) {
    eprintln_safe(&format!("note: {msg}"));
}

pub fn warn(msg: &str) {
    eprintln_safe(&format!("warning: {msg}"));
}

pub fn error(msg: &str) {
    eprintln_safe(&format!("harden: {msg}"));
}

/// stderr may be closed too; never panic over a message.
fn eprintln_safe(s: &str) {
    crate::progress::around(|| {
        let _ = writeln!(io::stderr().lock(), "{s}");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        let os = |s: &str| Some(OsString::from(s));
        assert!(colour_with(ColorWhen::Auto, true, None, os("xterm")));
        assert!(!colour_with(ColorWhen::Auto, false, None, None), "not a terminal");
        assert!(!colour_with(ColorWhen::Auto, true, os("1"), None), "NO_COLOR set");
        assert!(colour_with(ColorWhen::Auto, true, os(""), None), "NO_COLOR empty counts as unset");
        assert!(!colour_with(ColorWhen::Auto, true, None, os("dumb")));
        assert!(colour_with(ColorWhen::Always, false, os("1"), None), "the flag beats NO_COLOR");
        assert!(!colour_with(ColorWhen::Never, true, None, None));
    }
}
