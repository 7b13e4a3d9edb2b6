//! `-o report` as text: one `file:line: resource: what` line per finding
//! (grep- and editor-friendly, like compiler messages), the rule, control and
//! reason indented below it, the origin file when the stream names one, and
//! a summary sentence. The findings come from [`super::report::build`].

use super::report::{Finding, Kind, Report};
use super::{Run, count};
use serde_json::Value;
use std::fmt::Write;

const HARDEN_DEFAULT: &str = "harden default";

/// The report as text: `file:line: resource: what` lines, each followed by
/// its rule, control and reason, then a summary.
pub fn render(report: &Report) -> String {
    let mut out = findings(&report.findings);
    summary(&mut out, report);
    out
}

/// The report of a run as text, made a run of documents at a time: the
/// same text as [`render`] of `report::build`, without holding every finding.
pub fn render_run(run: &Run) -> Vec<String> {
    let (summary_counts, mut parts) = super::report::build_in_parts(run, findings);
    let head = Report {
        level: run.level,
        pss_version: run.version.to_string(),
        summary: summary_counts,
        findings: Vec::new(),
    };
    // `harden check` says what it found on stderr, as it always has.
    if !run.checking {
        let mut last = String::new();
        summary(&mut last, &head);
        parts.push(last);
    }
    parts
}

/// Two or three lines per finding.
fn findings(found: &[Finding]) -> String {
    let mut out = String::new();
    for f in found {
        let container = f.container.as_ref().map(|c| format!("container \"{c}\": ")).unwrap_or_default();
        let what = match f.kind {
            Kind::Change => format!(
                "{}: {}",
                f.pointer.as_deref().unwrap_or(""),
                match (f.op, &f.before, &f.after) {
                    (Some("append"), _, Some(a)) => format!("append {}", compact(a)),
                    (_, Some(b), Some(a)) => format!("{} → {}", compact(b), compact(a)),
                    (_, None, Some(a)) => format!("unset → {}", compact(a)),
                    _ => String::new(),
                }
            ),
            Kind::Violation => "violation".into(),
            Kind::Withheld => "fixes withheld".into(),
            Kind::Note => "note".into(),
            Kind::Warning => "warning".into(),
            Kind::Skipped => "skipped".into(),
            Kind::OptedOut => "skipped (opted out), still violating".into(),
            Kind::Namespace => "info".into(),
        };
        let _ = writeln!(out, "{}:{}: {}: {container}{what}", f.at.file, f.at.line, f.resource_name);
        let why = match f.kind {
            Kind::Change => format!("{} ({}): {}", f.rule, f.control.as_deref().unwrap_or(HARDEN_DEFAULT), f.message),
            _ => f.message.clone(),
        };
        let _ = writeln!(out, "    {why}");
        if let Some(o) = &f.origin {
            let _ = writeln!(out, "    from {}:{} ({})", o.file, o.line, o.via.unwrap_or(""));
        }
    }
    out
}

/// The summary sentence.
fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} in {} ({} required by Pod Security {} at {}, {}); {} {}, {} withheld; {} below {}.",
        count(s.changes, "change"),
        count(s.resources_changed, "resource"),
        s.pss_changes,
        report.level,
        report.pss_version,
        count(s.harden_default_changes, "harden default"),
        count(s.violations, "violation"),
        if s.violations == 1 { "remains" } else { "remain" },
        count(s.withheld, "fix"),
        count(s.namespaces_below_level, "namespace"),
        report.level
    );
    if s.opted_out > 0 {
        let _ = writeln!(
            out,
            "{} skipped (opted out), still violating: {}.",
            count(s.resources_opted_out, "resource"),
            count(s.opted_out, "violation")
        );
    }
}

/// A value as compact JSON (strings quoted, so `"1000"` and `1000` differ).
fn compact(v: &Value) -> String {
    v.to_string()
}
