//! `-o report --format sarif`: every log validates against the SARIF 2.1.0
//! schema (OASIS errata 01, vendored in tests/fixtures/sarif with its
//! source) with format checks on, for the fixtures and every corpus file;
//! it meets what GitHub code scanning needs beyond the schema (rules with
//! help text, results with a relative artifact URI and a start line, a
//! fingerprint); and one log is pinned exactly.

mod shared_inputs;
mod write_support;

use serde_json::Value;
use write_support::{expect_file, fixture, harden, run, stdout, yaml_files};

fn validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the vendored schema")).expect("JSON");
    jsonschema::draft4::options().should_validate_formats(true).build(&schema).expect("the schema compiles")
}

fn sarif(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["-q", "-o", "report", "--format", "sarif"];
    all.extend_from_slice(args);
    let o = run(&all);
    let log = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"));
    (o.status.code(), log)
}

/// Schema-valid, and what GitHub needs.
fn assert_valid(what: &str, log: &Value, v: &jsonschema::Validator) {
    let errors: Vec<String> = v.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: not SARIF 2.1.0:\n{}", errors.join("\n"));
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in rules {
        for field in ["/shortDescription/text", "/fullDescription/text", "/help/text"] {
            assert!(
                r.pointer(field).and_then(Value::as_str).is_some_and(|t| !t.is_empty()),
                "{what}: rule {} lacks {field}",
                r["id"]
            );
        }
    }
    for res in run["results"].as_array().expect("results") {
        let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], res["ruleId"], "{what}: ruleIndex points at the rule");
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap_or("")));
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.contains(':') && !uri.starts_with(".."),
            "{what}: {uri} is relative to the repository"
        );
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1), "{what}: startLine");
        assert!(res["partialFingerprints"]["hardenFinding/v1"].is_string(), "{what}: fingerprint");
    }
}

#[test]
fn fixtures_validate() {
    let v = validator();
    let cases: &[&[&str]] = &[
        &["tests/fixtures/write/small.yaml"],
        &["tests/fixtures/write/list.yaml"],
        &["tests/fixtures/write/system.yaml"],
        &["tests/fixtures/write/compliant.yaml"],
        &["--origin-root", "tests/fixtures/write/origin/overlay", "tests/fixtures/write/kustomized.yaml"],
        &["--origin-root", "tests/fixtures/write/origin", "tests/fixtures/write/helm.yaml"],
    ];
    for args in cases {
        let (code, log) = sarif(args);
        assert_eq!(code, Some(0), "{args:?}");
        assert_valid(&format!("{args:?}"), &log, &v);
    }
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn every_corpus_file_validates() {
    let dir = shared_inputs::shared("corpus");
    let v = validator();
    let mut results = 0;
    for file in yaml_files(&dir) {
        // From the corpus directory, as CI runs from the repository root.
        let path = file.strip_prefix(&dir).expect("below the corpus").to_str().expect("UTF-8 path");
        let o =
            harden().current_dir(&dir).args(["-q", "-o", "report", "--format", "sarif", path]).output().expect("runs");
        if o.status.code() == Some(2) {
            continue;
        }
        let log: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        assert_valid(path, &log, &v);
        results += log["runs"][0]["results"].as_array().map_or(0, Vec::len);
    }
    eprintln!("{results} SARIF results validated");
    assert!(results > 0, "the corpus has something to report");
}

#[test]
fn the_schema_catches_a_broken_log() {
    // Guards the guard: a result without a message is not SARIF.
    let v = validator();
    let (_, mut log) = sarif(&[&fixture("small.yaml")]);
    assert!(v.is_valid(&log));
    log["runs"][0]["results"][0].as_object_mut().expect("a result").remove("message");
    assert!(!v.is_valid(&log));
}

#[test]
fn kustomize_results_point_at_the_base_with_the_stream_as_related() {
    let (_, log) = sarif(&["--origin-root", "tests/fixtures/write/origin/overlay", &fixture("kustomized.yaml")]);
    let results = log["runs"][0]["results"].as_array().expect("results");
    let first = &results[0];
    assert_eq!(
        first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/write/origin/base/deploy.yaml"
    );
    assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 19);
    assert_eq!(
        first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/write/kustomized.yaml"
    );
    // The remote base is not in this repository: the stream is the location.
    let remote = results
        .iter()
        .find(|r| r["message"]["text"].as_str().is_some_and(|t| t.contains("prod-remote")))
        .expect("remote");
    assert_eq!(
        remote["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/write/kustomized.yaml"
    );
}

#[test]
fn sarif_of_a_system_component_exact() {
    let (_, mut log) = sarif(&[&fixture("system.yaml")]);
    // The version changes with every release; the rest is pinned.
    let driver = &mut log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    driver["version"] = "VERSION".into();
    driver["semanticVersion"] = "VERSION".into();
    expect_file("system.sarif.json", &(serde_json::to_string_pretty(&log).expect("JSON") + "\n"));
}

#[test]
#[ignore = "needs kubectl"]
fn real_kustomize_build_points_at_the_base() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/write/origin/overlay");
    let build = std::process::Command::new(shared_inputs::tool("kubectl"))
        .args(["kustomize", dir])
        .output()
        .expect("kubectl runs");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let mut child = harden()
        .args([
            "-q",
            "--check",
            "-o",
            "report",
            "--format",
            "sarif",
            "--origin-root",
            "tests/fixtures/write/origin/overlay",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("piped"), &build.stdout).expect("write stdin");
    let o = child.wait_with_output().expect("finishes");
    assert_eq!(o.status.code(), Some(1), "the base lacks pod-level settings");
    let log: Value = serde_json::from_str(&stdout(&o)).expect("SARIF");
    assert_valid("kubectl kustomize", &log, &validator());
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "tests/fixtures/write/origin/base/deploy.yaml");
        // The pod spec of the Deployment in the base (its securityContext is
        // missing), or for the note on its image, the container.
        let line = if r["ruleId"] == "unknown-image" { 21 } else { 19 };
        assert_eq!(loc["region"]["startLine"], line, "{r}");
    }
}
