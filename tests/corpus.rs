//! The Foundation acceptance criteria, over the real-world corpus in
//! `../shared/corpus` (40 manifests written by others; `SOURCES.md` there
//! says what each one exercises).
//!
//! Every file is hardened once with the library (`harden_source`, profile
//! `restricted`, built-in kinds, `Version::LATEST`, not partial, default
//! limits) and once with the built binary; each test checks one property
//! over every file and fails with the list of files that break it.
//!
//! The corpus is shared material that users do not have: every test that
//! reads it is ignored unless asked for (`cargo test -- --include-ignored`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use harden::pipeline::{DocOutcome, Options, SourceOutcome, harden_source};
use harden::plan::PlanOptions;
use harden::profile::Profile;
use harden::pss::{Level, Version, check_pod, summarize};
use harden::read::Source;
use harden::workload::{KindRow, ResourceId, built_in_kinds, pod_sites};
use harden::yaml::{Limits, parse_values};
use serde_json::Value;

mod shared_inputs;

/// The only rule that may edit a document that is not a workload: moving a
/// privileged port (80 → 8080) must move every reference to it too, and the
/// Service `targetPort`s and NetworkPolicy ports that point at the pod live
/// in other documents.
const CROSS_DOCUMENT_RULE: &str = "unprivileged-port";

fn corpus_dir() -> PathBuf {
    shared_inputs::shared("corpus")
}

/// One corpus file, hardened by the library.
struct Case {
    /// Relative to the corpus directory, for messages.
    name: String,
    path: PathBuf,
    text: String,
    outcome: Result<SourceOutcome, String>,
}

/// One corpus file, hardened by the binary.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn kinds() -> &'static [KindRow] {
    static KINDS: OnceLock<Vec<KindRow>> = OnceLock::new();
    KINDS.get_or_init(built_in_kinds)
}

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| Profile::load("restricted").expect("the built-in restricted profile loads"))
}

/// What the binary does with no flags (and no `KUBE_VERSION`).
fn options() -> Options<'static> {
    Options {
        plan: PlanOptions {
            profile: profile(),
            kinds: kinds(),
            version: Version::LATEST,
            partial: false,
            exceptions: &[],
            images: harden::images::built_in_table(),
        },
        ports: None,
        limits: Limits::default(),
    }
}

fn harden_text(name: &str, text: &str) -> Result<SourceOutcome, String> {
    let src = Source { name: name.to_string(), path: None, text: text.to_string() };
    harden_source(&src, &options()).map_err(|e| e.to_string())
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Every corpus file hardened by the library.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let dir = corpus_dir();
        let mut paths = Vec::new();
        yaml_files(&dir, &mut paths);
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let name = path.strip_prefix(&dir).unwrap_or(&path).display().to_string();
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: cannot read: {e}"));
                let outcome = harden_text(&name, &text);
                Case { name, path, text, outcome }
            })
            .collect()
    })
}

/// Every corpus file hardened by the binary (in parallel), index for index with [`cases`].
fn runs(cases: &[Case]) -> &'static [Run] {
    static RUNS: OnceLock<Vec<Run>> = OnceLock::new();
    RUNS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = cases
                .iter()
                .map(|case| {
                    s.spawn(move || {
                        let out = Command::new(env!("CARGO_BIN_EXE_harden"))
                            .arg(&case.path)
                            .env_remove("KUBE_VERSION")
                            .stdin(Stdio::null())
                            .output()
                            .expect("the harden binary runs");
                        Run {
                            code: out.status.code(),
                            stdout: out.stdout,
                            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("runner thread")).collect()
        })
    })
}

/// Fail with every problem, grouped by file.
fn report(property: &str, problems: &[(String, String)]) {
    if problems.is_empty() {
        return;
    }
    let mut files: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
    files.dedup();
    let mut msg = format!("{property}: {} file(s) break it: {}\n", files.len(), files.join(", "));
    for (file, what) in problems {
        let _ = writeln!(msg, "  {file}: {what}");
    }
    panic!("{msg}");
}

/// The library outcome, or a problem entry saying why there is none.
fn outcome<'a>(case: &'a Case, problems: &mut Vec<(String, String)>) -> Option<&'a SourceOutcome> {
    match &case.outcome {
        Ok(o) => Some(o),
        Err(e) => {
            problems.push((case.name.clone(), format!("the library failed: {e}")));
            None
        }
    }
}

/// Byte ranges of each document's region in the output: the input region
/// shifted by the size changes of the edits before it, plus its own.
fn output_regions(o: &SourceOutcome) -> Vec<(usize, usize)> {
    let growth = |d: &DocOutcome| -> isize {
        d.edits.iter().map(|e| e.text.len() as isize - (e.span.end - e.span.start) as isize).sum()
    };
    let mut shift = 0isize;
    let mut out = Vec::with_capacity(o.docs.len());
    for d in &o.docs {
        let own = growth(d);
        out.push(((d.start as isize + shift) as usize, (d.end as isize + shift + own) as usize));
        shift += own;
    }
    out
}

/// A document and, for a `*List`, its items: who they all are.
fn identities(v: &Value) -> Vec<Option<ResourceId>> {
    let mut out = vec![ResourceId::of(v)];
    if let Some(items) = v.get("items").and_then(Value::as_array) {
        out.extend(items.iter().map(ResourceId::of));
    }
    out
}

/// Whether nothing in the document is a workload.
fn is_workload(d: &DocOutcome) -> bool {
    d.plan.resources.iter().any(|r| r.pods > 0)
}

/// The comments of a stream, approximately.
///
/// A comment starts at a `#` that begins a line (after indentation) or
/// follows a space or tab, outside a quoted scalar, and runs to the end of
/// the line (trailing whitespace and `\r` dropped). Quotes are tracked per
/// line only: a quote opens where a scalar can start (line start, after
/// whitespace, `[`, `{` or `,`), and `\` escapes and `''` are honoured.
/// Approximations, both harmless here: lines of block scalars (`|`, `>`)
/// and continuation lines of multi-line quoted scalars are read like any
/// other line, so text such as a shell `# note` inside a script counts as a
/// comment; the check below only needs each such text to survive, which
/// it must anyway.
fn comments(text: &str) -> Vec<&str> {
    text.lines().filter_map(|line| comment_start(line).map(|i| line[i..].trim_end())).collect()
}

fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut prev = b' ';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') if b == b'\\' => {
                i += 2;
                prev = b'x';
                continue;
            }
            Some(b'\'') if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') => {
                i += 2;
                prev = b'x';
                continue;
            }
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'#' && matches!(prev, b' ' | b'\t') => return Some(i),
            None if matches!(b, b'"' | b'\'') && matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',') => quote = Some(b),
            None => {}
        }
        prev = b;
        i += 1;
    }
    None
}

/// The first comment of `input` that `output` does not have, in order:
/// each comment must be found after the previous one.
fn first_comment_lost<'a>(input: &'a str, output: &str) -> Option<&'a str> {
    let mut at = 0;
    for c in comments(input) {
        match output[at..].find(c) {
            Some(i) => at += i + c.len(),
            None => return Some(c),
        }
    }
    None
}

#[test]
fn the_comment_detector_is_honest() {
    let text = "# head\na: b # tail\nc: \"x # not\" # yes\nd: 'it''s # no' #y\nurl: http://x#frag\n  # indented\ne: [\"#\", f] # z\n";
    assert_eq!(comments(text), ["# head", "# tail", "# yes", "#y", "# indented", "# z"]);
    assert_eq!(first_comment_lost("a: 1 # one\nb: 2 # two\n", "a: 1 # one\nx: 0\nb: 2 # two\n"), None);
    assert_eq!(first_comment_lost("a: 1 # one\nb: 2 # two\n", "b: 2 # two\na: 1 # one\n"), Some("# two"));
    assert_eq!(first_comment_lost("a: 1 # one\nb: 2 # two\n", "a: 1 # one\nb: 2\n"), Some("# two"));
    assert_eq!(first_comment_lost("a: 1 # one\r\n", "a: 1 # one\r\n"), None);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn the_whole_corpus_is_there() {
    let cases = cases();
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    let sources = std::fs::read_to_string(corpus_dir().join("SOURCES.md")).expect("SOURCES.md");
    // The table's rows: `| 1 | `dotnet-docker/non-root.yaml` | …`.
    let listed: Vec<&str> = sources
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split_once(" | `")?.1.split_once('`').map(|(name, _)| name))
        .collect();
    assert!(!listed.is_empty(), "SOURCES.md lists the corpus files in a table");
    let unlisted: Vec<&&str> = names.iter().filter(|n| !listed.contains(n)).collect();
    assert!(unlisted.is_empty(), "files not described in SOURCES.md: {unlisted:?}");
    let missing: Vec<&&str> = listed.iter().filter(|n| !names.contains(n)).collect();
    assert!(missing.is_empty(), "files SOURCES.md lists that are not there: {missing:?}");
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn the_binary_exits_0_and_prints_what_the_library_computes() {
    let cases = cases();
    let mut problems = Vec::new();
    for (case, run) in cases.iter().zip(runs(cases)) {
        if run.code != Some(0) {
            problems.push((case.name.clone(), format!("exit {:?}; stderr:\n{}", run.code, run.stderr)));
            continue;
        }
        let Some(o) = outcome(case, &mut problems) else { continue };
        // The binary ends a source's text with a newline if it lacks one
        // (src/output.rs), so that the next source cannot run into it.
        let mut expected = o.output.clone();
        if !expected.is_empty() && !expected.ends_with('\n') {
            expected.push('\n');
        }
        if run.stdout != expected.as_bytes() {
            let got = String::from_utf8_lossy(&run.stdout);
            let at = got.bytes().zip(expected.bytes()).take_while(|(a, b)| a == b).count();
            problems.push((case.name.clone(), format!("stdout differs from the library output at byte {at}")));
        }
    }
    report("binary stdout = library output, exit 0", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn documents_keep_their_number_order_and_identity() {
    let cases = cases();
    let mut problems = Vec::new();
    for case in cases {
        let Some(o) = outcome(case, &mut problems) else { continue };
        let before = match parse_values(&case.text) {
            Ok(v) => v,
            Err(e) => {
                problems.push((case.name.clone(), format!("input does not parse: {e}")));
                continue;
            }
        };
        let after = match parse_values(&o.output) {
            Ok(v) => v,
            Err(e) => {
                problems.push((case.name.clone(), format!("output does not parse: {e}")));
                continue;
            }
        };
        if before.len() != after.len() || before.len() != o.docs.len() {
            problems.push((
                case.name.clone(),
                format!("{} documents in, {} out, {} outcomes", before.len(), after.len(), o.docs.len()),
            ));
            continue;
        }
        for (i, ((b, a), d)) in before.iter().zip(&after).zip(&o.docs).enumerate() {
            let (ib, ia) = (identities(b), identities(a));
            if ib != ia {
                problems.push((case.name.clone(), format!("document {}: identities {ib:?} became {ia:?}", i + 1)));
            }
            if identities(&d.before) != ib || identities(&d.after) != ia {
                problems.push((case.name.clone(), format!("document {}: outcome identities disagree", i + 1)));
            }
            if d.after != *a {
                problems
                    .push((case.name.clone(), format!("document {}: output does not mean the planned `after`", i + 1)));
            }
        }
    }
    report("same documents, same order, same identities", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn every_comment_is_kept_in_order() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut total = 0;
    for case in cases {
        let Some(o) = outcome(case, &mut problems) else { continue };
        total += comments(&case.text).len();
        if let Some(c) = first_comment_lost(&case.text, &o.output) {
            problems.push((case.name.clone(), format!("comment lost or moved out of order: {c:?}")));
        }
    }
    eprintln!("{total} comments checked");
    assert!(total > 0, "the detector found no comment in the corpus");
    report("every comment kept, in order", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn documents_that_are_not_workloads_are_byte_identical() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases {
        let Some(o) = outcome(case, &mut problems) else { continue };
        let regions = output_regions(o);
        let growth = o.output.len() as isize - case.text.len() as isize;
        let total: isize =
            regions.iter().zip(&o.docs).map(|((s, e), d)| (e - s) as isize - (d.end - d.start) as isize).sum();
        if total != growth {
            problems.push((case.name.clone(), format!("edits add {total} bytes but the output grew by {growth}")));
            continue;
        }
        for (i, (d, (start, end))) in o.docs.iter().zip(regions).enumerate() {
            if is_workload(d) {
                continue;
            }
            let id = identities(&d.before).into_iter().flatten().next();
            let what = format!("document {} (line {}, {id:?})", i + 1, d.line);
            let foreign: Vec<_> = d.plan.changes().filter(|c| c.rule != CROSS_DOCUMENT_RULE).collect();
            if !foreign.is_empty() {
                problems.push((case.name.clone(), format!("{what}: not a workload, yet planned {foreign:?}")));
            }
            if d.plan.changes().next().is_some() {
                // Follows a moved port: checked by the port rule's own tests.
                continue;
            }
            checked += 1;
            if !d.edits.is_empty() {
                problems.push((case.name.clone(), format!("{what}: not a workload, yet edited: {:?}", d.edits)));
            }
            if o.output.get(start..end) != case.text.get(d.start..d.end) {
                problems.push((case.name.clone(), format!("{what}: text changed")));
            }
        }
    }
    eprintln!("{checked} documents that are not workloads checked");
    assert!(checked > 0, "no document that is not a workload");
    report("documents that are not workloads are byte-identical", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn hardening_the_output_again_changes_nothing() {
    let cases = cases();
    let mut problems = Vec::new();
    for case in cases {
        let Some(o) = outcome(case, &mut problems) else { continue };
        match harden_text(&case.name, &o.output) {
            Err(e) => problems.push((case.name.clone(), format!("the output does not harden: {e}"))),
            Ok(again) => {
                if again.output != o.output {
                    let at = again.output.bytes().zip(o.output.bytes()).take_while(|(a, b)| a == b).count();
                    problems.push((case.name.clone(), format!("second run differs at byte {at}")));
                }
                let planned: Vec<_> = again.docs.iter().flat_map(|d| d.plan.changes()).collect();
                if !planned.is_empty() {
                    problems.push((case.name.clone(), format!("second run plans {} changes", planned.len())));
                }
            }
        }
    }
    report("idempotent", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn hardened_workloads_pass_restricted() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut pods = 0;
    for case in cases {
        let Some(o) = outcome(case, &mut problems) else { continue };
        for d in &o.docs {
            for r in d.plan.resources.iter().filter(|r| r.pods > 0 && r.blockers.is_empty() && r.skipped.is_none()) {
                let sites = pod_sites(&d.after, &r.base, &r.id, kinds());
                if sites.len() != r.pods {
                    problems.push((
                        case.name.clone(),
                        format!("{}: {} pod specs before, {} after", r.id, r.pods, sites.len()),
                    ));
                }
                for site in sites {
                    pods += 1;
                    let spec = d.after.pointer(&site.spec).unwrap_or(&Value::Null);
                    let results = check_pod(d.after.pointer(&site.metadata), spec, Level::Restricted, Version::LATEST);
                    if !results.is_empty() {
                        let why = d.refused.as_deref().map(|r| format!(" (edits refused: {r})")).unwrap_or_default();
                        problems
                            .push((case.name.clone(), format!("{} {}: {}{why}", r.id, site.spec, summarize(&results))));
                    }
                }
            }
        }
    }
    eprintln!("{pods} hardened pod specs checked");
    assert!(pods > 0, "no hardened pod spec");
    report("hardened workloads pass restricted at latest", &problems);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn resources_with_blockers_are_unchanged_and_reported() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut blocked = 0;
    for (case, run) in cases.iter().zip(runs(cases)) {
        let Some(o) = outcome(case, &mut problems) else { continue };
        let regions = output_regions(o);
        let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("warning: ")).collect();
        for (d, &(start, end)) in o.docs.iter().zip(&regions) {
            for r in d.plan.resources.iter().filter(|r| !r.blockers.is_empty()) {
                blocked += 1;
                if !r.changes.is_empty() {
                    problems
                        .push((case.name.clone(), format!("{}: has blockers yet {} changes", r.id, r.changes.len())));
                }
                if d.after.pointer(&r.base) != d.before.pointer(&r.base) {
                    problems.push((case.name.clone(), format!("{}: has blockers yet its meaning changed", r.id)));
                }
                for b in &r.blockers {
                    let id = format!("{}: ", r.id);
                    let container = b.container.as_ref().map(|c| format!("container \"{c}\""));
                    let found = warnings.iter().any(|w| {
                        w.contains(&id)
                            && container.as_ref().is_none_or(|c| w.contains(c.as_str()))
                            && w.contains(&b.what)
                            && w.contains(&b.control)
                    });
                    if !found {
                        problems.push((case.name.clone(), format!("{}: blocker {b:?} not reported on stderr", r.id)));
                    }
                }
            }
            if d.plan.resources.iter().any(|r| !r.blockers.is_empty()) && d.plan.changes().next().is_none() {
                if !d.edits.is_empty() {
                    problems.push((case.name.clone(), format!("document at line {}: blocked, yet edited", d.line)));
                }
                if o.output.get(start..end) != case.text.get(d.start..d.end) {
                    problems.push((
                        case.name.clone(),
                        format!("document at line {}: blocked, yet its text changed", d.line),
                    ));
                }
            }
        }
    }
    eprintln!("{blocked} resources with blockers checked");
    assert!(blocked > 0, "no resource with blockers");
    report("resources with blockers are unchanged and reported", &problems);
}
