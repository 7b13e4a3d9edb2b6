//! `-o report` in text and JSON: exact text on fixtures (a pod, a system
//! component with violations next to a Namespace labelled privileged, a
//! kustomize build with origin annotations, a Helm render), and on the whole
//! corpus the property reviewers rely on: every change names its rule and
//! control, and what Pod Security does not require is never called PSS.

mod shared_inputs;
mod write_support;

use serde_json::Value;
use write_support::{expect_file, fixture, run, stdout, yaml_files};

fn report(args: &[&str]) -> String {
    let mut all = vec!["-q", "-o", "report"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    stdout(&o)
}

#[test]
fn text_report_of_a_pod() {
    expect_file("small.report.txt", &report(&[&fixture("small.yaml")]));
}

#[test]
fn json_report_of_a_pod() {
    let out = report(&["--format", "json", &fixture("small.yaml")]);
    expect_file("small.report.json", &out);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["summary"]["changes"], 15);
}

#[test]
fn violations_withheld_fixes_and_namespace_labels() {
    expect_file("system.report.txt", &report(&[&fixture("system.yaml")]));
    let v: Value = serde_json::from_str(&report(&["--format", "json", &fixture("system.yaml")])).expect("JSON");
    expect_file("system.report.json", &serde_json::to_string_pretty(&v).expect("JSON"));
    let kinds: Vec<&str> =
        v["findings"].as_array().expect("findings").iter().map(|f| f["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["namespace", "namespace", "violation", "violation", "violation", "withheld"]);
}

#[test]
fn a_namespace_among_documents_no_rule_touches_is_still_reported() {
    // Documents no rule touches are copied through unread; a Namespace
    // that shares its chunk only with such documents must still be read.
    let config_maps = |from: usize| -> String {
        (from..from + 300)
            .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n---\n"))
            .collect()
    };
    let input = config_maps(0)
        + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels: {pod-security.kubernetes.io/enforce: privileged}\n---\n"
        + config_maps(300).trim_end_matches("---\n");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stream.yaml");
    std::fs::write(&file, input).expect("written");
    let v: Value = serde_json::from_str(&report(&["--format", "json", &file.display().to_string()])).expect("JSON");
    assert_eq!(v["summary"]["documents"], 601);
    assert_eq!(v["summary"]["namespacesBelowLevel"], 1, "{v}");
}

#[test]
fn partial_keeps_violations_and_reports_the_changes() {
    let out = report(&["--partial", &fixture("system.yaml")]);
    expect_file("system.partial.report.txt", &out);
    assert!(out.contains("violates PSS privileged; kept."));
}

#[test]
fn kustomize_origins_point_at_the_base() {
    let out = report(&["--origin-root", "tests/fixtures/write/origin/overlay", &fixture("kustomized.yaml")]);
    expect_file("kustomized.report.txt", &out);
}

#[test]
fn helm_sources_point_at_the_template() {
    let out = report(&["--origin-root", "tests/fixtures/write/origin", &fixture("helm.yaml")]);
    expect_file("helm.report.txt", &out);
}

#[test]
fn format_needs_a_report() {
    let o = run(&["-o", "patch", "--format", "json", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    // --format alone means -o report.
    assert!(report(&["--format", "text", &fixture("small.yaml")]).starts_with("tests/fixtures/write/small.yaml:"));
}

/// The fields Pod Security requires, and those it does not (harden defaults).
fn expected_control(pointer: &str, before: Option<&Value>) -> Option<&'static str> {
    let last = pointer.rsplit('/').next().unwrap_or("");
    let pss = [("allowPrivilegeEscalation", "PSS allowPrivilegeEscalation"), ("runAsNonRoot", "PSS runAsNonRoot")];
    if let Some((_, c)) = pss.iter().find(|(k, _)| *k == last) {
        return Some(c);
    }
    if pointer.contains("/capabilities/drop") {
        return Some("PSS capabilities_restricted");
    }
    if pointer.contains("/seccompProfile") {
        return Some("PSS seccompProfile_restricted");
    }
    if last == "runAsUser" && before == Some(&Value::from(0)) {
        return Some("PSS runAsUser");
    }
    let defaults = [
        "readOnlyRootFilesystem",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "fsGroupChangePolicy",
        "automountServiceAccountToken",
    ];
    let ports = ["containerPort", "targetPort", "port", "sysctls"];
    if defaults.contains(&last)
        || ports.contains(&last)
        || pointer.contains("/resources/")
        || pointer.contains("/ports/")
    {
        return Some("harden default");
    }
    None
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn report_controls_are_honest_on_the_corpus() {
    let dir = shared_inputs::shared("corpus");
    let mut checked = 0;
    for file in yaml_files(&dir) {
        let o = run(&["-q", "-o", "report", "--format", "json", file.to_str().expect("UTF-8 path")]);
        if o.status.code() == Some(2) {
            continue;
        }
        let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON report");
        for f in v["findings"].as_array().expect("findings").iter().filter(|f| f["kind"] == "change") {
            let pointer = f["pointer"].as_str().expect("a change has a pointer");
            assert!(f["rule"].as_str().is_some_and(|r| !r.is_empty()), "{pointer}: no rule");
            assert!(f["message"].as_str().is_some_and(|m| m.ends_with('.')), "{pointer}: message is a sentence");
            let control = f["control"].as_str().expect("control");
            assert_eq!(
                control.starts_with("PSS "),
                f["pssCheck"].is_string(),
                "{pointer}: pssCheck agrees with control"
            );
            if let Some(want) = expected_control(pointer, f.get("before")) {
                assert_eq!(control, want, "{}: {pointer}", file.display());
                checked += 1;
            }
        }
    }
    eprintln!("checked the control of {checked} changes");
    assert!(checked > 0, "the corpus has changes whose control is known");
}

/// Reports are made a run of documents at a time (so that a big stream's
/// findings are never all held): what they print must be exactly the
/// report of all the findings at once, across the runs' boundaries.
#[test]
fn reports_made_in_parts_equal_the_whole_report() {
    use harden::pipeline::harden_stream;
    use harden::pss::Version;
    use harden::read::Source;
    use harden::write::{Run, report, text};
    let stream = write_support::many_documents();
    let restricted = shared_inputs::Restricted::new();
    let (opts, profile) = (restricted.options(), &restricted.profile);
    let sources = vec![Source { name: "s.yaml".into(), path: None, text: stream }];
    let outcomes = harden_stream(&sources, &opts).expect("hardens");
    let run = Run {
        sources: &sources,
        outcomes: &outcomes,
        level: profile.level,
        version: Version::LATEST,
        partial: false,
        checking: false,
        limits: Default::default(),
        origin_root: None,
    };
    let whole = report::build(&run);
    assert!(whole.findings.len() > 1000, "enough findings to cross parts: {}", whole.findings.len());
    assert_eq!(text::render_run(&run).concat(), text::render(&whole));
    assert_eq!(report::json_of(&run).concat(), report::json(&whole));

    // The lines the workers note for reports are the lines a re-parse finds.
    let reviewed = harden::pipeline::harden_stream_keeping(
        &sources,
        &opts,
        &[],
        harden::pipeline::Values::Reduce(harden::write::FOR_REPORT),
    )
    .expect("hardens");
    let located = harden::write::locate::Located::new(&sources[0].text, &reviewed[0].docs, &Default::default());
    let mut checked = 0;
    for (i, d) in reviewed[0].docs.iter().enumerate() {
        for (pointer, line) in &d.places.lines {
            assert_eq!(Some(*line), located.line(i, pointer), "document {i}, {pointer}");
            checked += 1;
        }
        assert_eq!(located.leading(i, d.places.content), located.leading(i, None), "document {i}");
    }
    assert!(checked > 1000, "{checked} places checked");
}
