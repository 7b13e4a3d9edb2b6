//! All printing goes through here: the YAML stream on stdout, warnings and
//! the summary on stderr. Write errors come back to `main`, which treats a
//! closed pipe (`| head`) as success.

use crate::cli::{ColorWhen, OutputKind, ReportFormat, ReviewArgs};
use harden::pipeline::SourceOutcome;
use harden::plan::ResourcePlan;
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
    /// Whether the stream written so far ends inside a document that the
    /// next source's first document would run into.
    need_separator: bool,
    /// Whether the source being written has had a document yet.
    source_has_docs: bool,
    /// Whether the last byte written to stdout was a line break.
    ends_with_newline: bool,
}

impl Output {
    pub fn new(quiet: bool) -> Self {
        Output {
            stdout: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            quiet,
            warnings: Cell::new(0),
            need_separator: false,
            source_has_docs: false,
            ends_with_newline: true,
        }
    }

    /// Write one source's hardened text, separated from the previous source
    /// so that documents never merge across files.
    pub fn stream(&mut self, outcome: &SourceOutcome) -> io::Result<()> {
        self.begin_source();
        self.chunk(&outcome.output, !outcome.docs.is_empty())?;
        self.end_source()
    }

    /// A new source starts: its first document must not run into the last
    /// one of the previous source.
    pub fn begin_source(&mut self) {
        self.source_has_docs = false;
    }

    /// Part of a source's hardened text, in order; `has_docs` says whether it
    /// holds a document (not only comments).
    pub fn chunk(&mut self, text: &str, has_docs: bool) -> io::Result<()> {
        if has_docs && !self.source_has_docs {
            if self.need_separator && !starts_with_marker(text) {
                self.stdout.write_all(b"---\n")?;
            }
            self.source_has_docs = true;
        }
        self.stdout.write_all(text.as_bytes())?;
        if let Some(&last) = text.as_bytes().last() {
            self.ends_with_newline = last == b'\n';
        }
        Ok(())
    }

    /// The source is done: end it with a line break.
    pub fn end_source(&mut self) -> io::Result<()> {
        if !self.ends_with_newline {
            self.stdout.write_all(b"\n")?;
            self.ends_with_newline = true;
        }
        self.need_separator = self.need_separator || self.source_has_docs;
        Ok(())
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

    /// Blockers, opted-out violations, withheld fixes and refused edits of one resource.
    pub fn resource_warnings(&self, r: &ResourcePlan, partial: bool) {
        for n in r.notes.iter().filter(|n| n.warning && !self.quiet) {
            self.warnings.set(self.warnings.get() + 1);
            if self.warnings.get() > WARNINGS_SHOWN {
                continue;
            }
            match &n.container {
                Some(c) => warn(&format!("{}: container \"{c}\": {}", r.id, n.message)),
                None => warn(&format!("{}: {}", r.id, n.message)),
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

/// Whether the first line with content is a `---` marker or a directive.
fn starts_with_marker(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("---") || l.starts_with('%'))
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
