//! All printing goes through here: the YAML stream on stdout, warnings and
//! the summary on stderr. Write errors come back to `main`, which treats a
//! closed pipe (`| head`) as success.

use harden::pipeline::SourceOutcome;
use harden::plan::ResourcePlan;
use std::io::{self, Write};

pub struct Output {
    stdout: io::BufWriter<io::Stdout>,
    quiet: bool,
    /// Whether the stream written so far ends inside a document that the
    /// next source's first document would run into.
    need_separator: bool,
}

impl Output {
    pub fn new(quiet: bool) -> Self {
        Output { stdout: io::BufWriter::new(io::stdout()), quiet, need_separator: false }
    }

    /// Write one source's hardened text, separated from the previous source
    /// so that documents never merge across files.
    pub fn stream(&mut self, outcome: &SourceOutcome) -> io::Result<()> {
        let text = &outcome.output;
        if self.need_separator && !starts_with_marker(text) && !outcome.docs.is_empty() {
            self.stdout.write_all(b"---\n")?;
        }
        self.stdout.write_all(text.as_bytes())?;
        if !text.is_empty() && !text.ends_with('\n') {
            self.stdout.write_all(b"\n")?;
        }
        self.need_separator = self.need_separator || !outcome.docs.is_empty();
        Ok(())
    }

    pub fn line(&mut self, s: &str) -> io::Result<()> {
        writeln!(self.stdout, "{s}")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }

    /// Blockers, withheld fixes and refused edits of one resource.
    pub fn resource_warnings(&self, r: &ResourcePlan, partial: bool) {
        for n in r.notes.iter().filter(|n| n.warning) {
            match &n.container {
                Some(c) => warn(&format!("{}: container \"{c}\": {}", r.id, n.message)),
                None => warn(&format!("{}: {}", r.id, n.message)),
            }
        }
        if let Some(why) = &r.skipped {
            note(&format!("{}: left unchanged: {why}", r.id));
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
                "{}: {} fixes withheld because of the blockers above (--partial applies them)",
                r.id, r.withheld
            ));
        }
    }

    pub fn summary(&self, line: &str) {
        if !self.quiet {
            eprintln_safe(&format!("harden: {line}"));
        }
    }
}

/// Whether the first line with content is a `---` marker or a directive.
fn starts_with_marker(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("---") || l.starts_with('%'))
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
    let _ = writeln!(io::stderr().lock(), "{s}");
}
