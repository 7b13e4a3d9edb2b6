//! `-o report --format sarif`: the report's findings as SARIF 2.1.0 for
//! GitHub code scanning: a rule descriptor (with help text) for each of
//! harden's rules and each other id the findings use, one result per
//! finding with a physical location (the origin file when the stream names
//! one, else the input file, as a URI relative to the working directory,
//! which in CI is the repository root) and a fingerprint that does not move
//! when lines do.

use super::help;
use super::report::{Finding, Kind, Report};
use serde_json::{Value, json};
use std::path::Path;

pub const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF log, pretty-printed, with a final newline.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&log(report)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// The SARIF log as a JSON value.
pub fn log(report: &Report) -> Value {
    let cwd = std::env::current_dir().ok();
    let findings: Vec<&Finding> = report.findings.iter().filter(|f| level(f).is_some()).collect();
    // Every rule of harden's, whether this run used it or not, then the
    // other ids the findings give (Pod Security checks, skipped edits, …).
    let mut rule_ids: Vec<&str> = crate::rules::ids().collect();
    for f in &findings {
        if !rule_ids.contains(&f.rule.as_str()) {
            rule_ids.push(&f.rule);
        }
    }
    let rules: Vec<Value> = rule_ids.iter().map(|id| descriptor(id)).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rule_ids.iter().position(|id| *id == f.rule).unwrap_or(0);
            result(f, index, cwd.as_deref())
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "harden",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "properties": {"level": report.level, "pssVersion": report.pss_version},
        }],
    })
}

/// SARIF level of a finding; `None`: not a result (a resource the owner
/// opted out of is not an alert).
fn level(f: &Finding) -> Option<&'static str> {
    match f.kind {
        Kind::Violation => Some("error"),
        Kind::Change | Kind::Warning => Some("warning"),
        Kind::Skipped if f.rule == "edit-refused" => Some("warning"),
        Kind::Skipped => None,
        // Opted out: still a finding, not an alert.
        Kind::Withheld | Kind::Note | Kind::Namespace | Kind::OptedOut => Some("note"),
    }
}

fn descriptor(id: &str) -> Value {
    let (h, tags) = match id.strip_prefix("pss/") {
        Some(check) => (help::pss(check), vec!["security", "kubernetes", "pod-security"]),
        None => (help::rule(id), vec!["security", "kubernetes"]),
    };
    let title = if id.starts_with("pss/") { format!("Pod Security: {}", h.title) } else { h.title.to_string() };
    json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": h.text},
        "help": {"text": h.text, "markdown": format!("**{title}**\n\n{}", h.text)},
        "properties": {"tags": tags},
    })
}

fn result(f: &Finding, rule_index: usize, cwd: Option<&Path>) -> Value {
    // GitHub annotates the file a reviewer edits: the origin when known.
    let (file, line) = f.origin.as_ref().map_or((&f.at.file, f.at.line), |o| (&o.file, o.line));
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(file, cwd)},
            "region": {"startLine": line.max(1)},
        },
    });
    let qualified = match &f.pointer {
        Some(p) => format!("{}#{p}", f.resource_name),
        None => f.resource_name.clone(),
    };
    location["logicalLocations"] = json!([{"fullyQualifiedName": qualified, "kind": "object"}]);
    let mut r = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level(f).unwrap_or("note"),
        "message": {"text": message(f)},
        "locations": [location],
        "partialFingerprints": {"hardenFinding/v1": fingerprint(f)},
    });
    // The rendered stream as a related location, when it is a file (not stdin).
    if f.origin.is_some() && !f.at.file.starts_with('<') {
        r["relatedLocations"] = json!([{
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&f.at.file, cwd)},
                "region": {"startLine": f.at.line.max(1)},
            },
            "message": {"text": "in the rendered stream"},
        }]);
    }
    let mut props = serde_json::Map::new();
    let fields = [
        ("control", f.control.as_ref().map(|c| json!(c))),
        ("pointer", f.pointer.as_ref().map(|p| json!(p))),
        ("before", f.before.clone()),
        ("after", f.after.clone()),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            props.insert(k.into(), v);
        }
    }
    r["properties"] = Value::Object(props);
    r
}

fn message(f: &Finding) -> String {
    let container = f.container.as_ref().map(|c| format!(" container \"{c}\":")).unwrap_or_default();
    match f.kind {
        Kind::Change => {
            let change = match (&f.before, &f.after) {
                (_, Some(a)) if f.op == Some("append") => format!("append {a}"),
                (Some(b), Some(a)) => format!("{b} → {a}"),
                (None, Some(a)) => format!("unset → {a}"),
                _ => String::new(),
            };
            format!(
                "{}:{container} {}: {change} ({}). {}",
                f.resource_name,
                f.pointer.as_deref().unwrap_or(""),
                f.control.as_deref().unwrap_or("harden default"),
                f.message
            )
        }
        _ => format!("{}:{container} {}", f.resource_name, f.message),
    }
}

/// A URI reference for a path: relative (to `cwd` when an absolute path is
/// under it) with `/` separators, else a `file://` URI; characters outside
/// the unreserved set percent-encoded (`<stdin>` → `%3Cstdin%3E`).
pub fn uri(path: &str, cwd: Option<&Path>) -> String {
    let p = Path::new(path);
    if p.is_absolute() {
        if let Some(rel) = cwd.and_then(|c| p.strip_prefix(c).ok()) {
            return encode(&super::source_map::normalize(rel));
        }
        return format!("file://{}", encode(&super::source_map::normalize(p)));
    }
    encode(&super::source_map::normalize(p))
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a of what identifies a finding across runs (not its line), as hex:
/// stable across Rust releases, unlike `DefaultHasher`.
fn fingerprint(f: &Finding) -> String {
    let key = format!(
        "{}|{}|{}|{}|{}",
        f.rule,
        f.resource_name,
        f.pointer.as_deref().unwrap_or(""),
        f.container.as_deref().unwrap_or(""),
        f.message
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(uri("./deploy/web app.yaml", None), "deploy/web%20app.yaml");
        assert_eq!(uri("<stdin>", None), "%3Cstdin%3E");
        assert_eq!(uri("/repo/x/y.yaml", Some(Path::new("/repo"))), "x/y.yaml");
        assert_eq!(uri("/elsewhere/y.yaml", Some(Path::new("/repo"))), "file:///elsewhere/y.yaml");
    }
}
