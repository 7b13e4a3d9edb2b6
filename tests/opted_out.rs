//! Issue 14, item 6: a resource whose owner opted out is not clean. With
//! `harden.dev/skip`, `harden.dev/skip-containers`, `harden.dev/skip-rules`
//! or a config exception on a violating workload, `-o report` (text, JSON,
//! SARIF) and the stderr summary list what still violates as "skipped
//! (opted out), still violating"; `--check` does not fail on it but says
//! so; an opted-out violation is no blocker (it withholds no fix). `harden
//! check` honours the same opt-outs, names `file:line` for each violation
//! and writes the report's formats, from the report's writer.

mod support;

use serde_json::Value;
use support::harden;

/// A privileged Deployment its owner opted out of.
const SKIPPED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  annotations:
    harden.dev/skip: \"true\"
spec:
  template:
    spec:
      containers:
      - name: agent
        image: example.com/agent:1.0
        securityContext:
          privileged: true
";

/// A pod whose `debug` container is exempt; `app` is not.
const SKIP_DEBUG: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    harden.dev/skip-containers: \"debug\"
spec:
  containers:
  - name: app
    image: example.com/app:1.0
  - name: debug
    image: example.com/debug:1.0
    securityContext:
      privileged: true
";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn findings<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"].as_array().expect("findings").iter().filter(|f| f["kind"] == kind).collect()
}

/// A config file in a temporary directory (kept alive by the caller).
fn config(dir: &tempfile::TempDir, exceptions: &str) -> String {
    let path = dir.path().join("harden.yaml");
    std::fs::write(&path, format!("apiVersion: harden.dev/v1alpha1\nkind: HardenConfig\nexceptions:\n{exceptions}"))
        .expect("write the config");
    path.display().to_string()
}

#[test]
fn issue14_6_a_skipped_violating_workload_is_reported_as_still_violating() {
    let ran = harden(&["-o", "report"], SKIPPED.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let expected = "\
<stdin>:1: Deployment/agent: skipped
    left unchanged (opted out: annotation harden.dev/skip: \"true\"), still violating: 5 violations below.
<stdin>:14: Deployment/agent: container \"agent\": skipped (opted out), still violating
    privileged=true violates PSS privileged; opted out: annotation harden.dev/skip: \"true\".
";
    assert!(ran.stdout.starts_with(expected), "{}", ran.stdout);
    assert_eq!(ran.stdout.matches("skipped (opted out), still violating\n").count(), 5, "{}", ran.stdout);
    assert!(
        ran.stdout.ends_with("0 violations remain, 0 fixes withheld; 0 namespaces below restricted.\n1 resource skipped (opted out), still violating: 5 violations.\n"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr.starts_with("note: Deployment/agent: skipped (opted out: annotation harden.dev/skip: \"true\"), still violating: container \"agent\": privileged=true (PSS privileged); "),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.ends_with("; 1 resource skipped (opted out), still violating\n"), "{}", ran.stderr);
}

#[test]
fn issue14_6_the_gate_does_not_fail_on_opted_out_resources_but_says_so() {
    let ran = harden(&["--check"], SKIPPED.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    assert!(ran.stderr.contains(
        "note: Deployment/agent: skipped (opted out: annotation harden.dev/skip: \"true\"), still violating: "
    ));
    assert!(ran.stderr.ends_with("0 blockers; 1 resource skipped (opted out), still violating\n"), "{}", ran.stderr);
}

#[test]
fn issue14_6_json_and_sarif_reports_list_opted_out_violations() {
    let report = json(&harden(&["-o", "report", "--format", "json"], SKIPPED.as_bytes()).stdout);
    assert_eq!(report["summary"]["violations"], 0);
    assert_eq!(report["summary"]["optedOut"], 5);
    assert_eq!(report["summary"]["resourcesOptedOut"], 1);
    let opted = findings(&report, "opted-out");
    assert_eq!(opted.len(), 5);
    assert_eq!(opted[0]["rule"], "pss/privileged");
    assert_eq!(opted[0]["container"], "agent");
    assert_eq!(opted[0]["pointer"], "/spec/template/spec/containers/0/securityContext/privileged");
    assert_eq!(opted[0]["line"], 14);

    let sarif = json(&harden(&["-o", "report", "--format", "sarif"], SKIPPED.as_bytes()).stdout);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 5, "one note per opted-out violation");
    assert!(results.iter().all(|r| r["level"] == "note"), "opted out: notes, not errors");
    assert_eq!(results[0]["ruleId"], "pss/privileged");
    assert!(
        results[0]["message"]["text"].as_str().is_some_and(|t| t.contains("opted out: annotation harden.dev/skip")),
        "{results:#?}"
    );
}

#[test]
fn issue14_6_an_exempt_container_violates_without_blocking_the_others() {
    let ran = harden(&["-o", "report", "--format", "json"], SKIP_DEBUG.as_bytes());
    let report = json(&ran.stdout);
    assert_eq!(report["summary"]["violations"], 0, "no blocker");
    assert_eq!(report["summary"]["withheld"], 0, "app's fixes are not withheld");
    assert!(report["summary"]["changes"].as_u64().is_some_and(|n| n > 0));
    let opted = findings(&report, "opted-out");
    assert!(!opted.is_empty() && opted.iter().all(|f| f["container"] == "debug"), "{opted:#?}");
    assert!(
        opted[0]["message"].as_str().is_some_and(
            |m| m.ends_with("opted out: container \"debug\" named in annotation harden.dev/skip-containers.")
        ),
        "{opted:#?}"
    );
}

#[test]
fn issue14_6_a_skipped_rule_is_an_opt_out_not_a_blocker() {
    let input = "\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    harden.dev/skip-rules: \"run-as-non-root\"
spec:
  containers:
  - name: app
    image: example.com/app:1.0
";
    // Before: a blocker, and every other fix withheld.
    let hardened = harden(&["-q"], input.as_bytes());
    assert_eq!(hardened.code, 0);
    assert!(hardened.stdout.contains("allowPrivilegeEscalation: false"), "{}", hardened.stdout);
    assert!(!hardened.stdout.contains("runAsNonRoot"), "{}", hardened.stdout);
    let again = harden(&["--check"], hardened.stdout.as_bytes());
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.starts_with("note: Pod/app: skipped (opted out: rule run-as-non-root skipped by annotation harden.dev/skip-rules), still violating: container \"app\": runAsNonRoot unset (PSS runAsNonRoot)\n"),
        "{}",
        again.stderr
    );
}

#[test]
fn issue14_6_config_exceptions_opt_out_like_annotations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = config(&dir, "  - {kind: Deployment, name: agent}\n");
    let input = SKIPPED.replace("  annotations:\n    harden.dev/skip: \"true\"\n", "");
    let report = json(&harden(&["--config", &whole, "-o", "report", "--format", "json"], input.as_bytes()).stdout);
    let opted = findings(&report, "opted-out");
    assert_eq!(opted.len(), 5);
    assert!(opted[0]["message"].as_str().is_some_and(|m| m.ends_with("opted out: an exception in the config file.")));

    let by_image = config(&dir, "  - {images: [\"example.com/debug:*\"]}\n");
    let input = SKIP_DEBUG.replace("  annotations:\n    harden.dev/skip-containers: \"debug\"\n", "");
    let ran = harden(&["--config", &by_image, "--check", "-o", "report", "--format", "json"], input.as_bytes());
    let report = json(&ran.stdout);
    assert_eq!(report["summary"]["violations"], 0);
    assert!(findings(&report, "opted-out").iter().all(|f| f["container"] == "debug"));
    assert!(
        findings(&report, "opted-out")[0]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("opted out: container \"debug\" exempt by an exception in the config file.")),
    );
}

// ---------------------------------------------------------------------------
// `harden check`

#[test]
fn issue14_6_check_honours_the_skip_annotation_and_says_what_still_violates() {
    let ran = harden(&["check"], SKIPPED.as_bytes());
    assert_eq!(ran.code, 0, "opted out: no failure; {}", ran.stderr);
    assert!(ran.stdout.starts_with("<stdin>:1: Deployment/agent: skipped\n    opted out (annotation harden.dev/skip: \"true\"), still violating: 5 violations below.\n<stdin>:14: Deployment/agent: container \"agent\": skipped (opted out), still violating\n    privileged=true violates PSS privileged: privileged (container \"agent\" must not set securityContext.privileged=true); opted out: annotation harden.dev/skip: \"true\".\n"), "{}", ran.stdout);
    assert_eq!(
        ran.stderr,
        "harden: 0 resources violate restricted at v1.37; 1 resource skipped (opted out), still violating\n"
    );
}

#[test]
fn issue14_6_check_names_file_and_line_for_each_violation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, SKIP_DEBUG.replace("    harden.dev/skip-containers: \"debug\"\n", "    owner: me\n"))
        .expect("write");
    let name = file.display().to_string();
    let ran = harden(&["check", &name], b"");
    assert_eq!(ran.code, 1);
    let heads: Vec<&str> = ran.stdout.lines().filter(|l| !l.starts_with("    ")).collect();
    assert_eq!(heads.len(), 9, "{}", ran.stdout);
    assert!(heads.iter().all(|l| l.starts_with(&format!("{name}:"))), "{}", ran.stdout);
    assert!(heads.contains(&format!("{name}:14: Pod/app: container \"debug\": violation").as_str()), "{}", ran.stdout);
    assert!(heads.contains(&format!("{name}:9: Pod/app: container \"app\": violation").as_str()), "{}", ran.stdout);
    assert_eq!(ran.stderr, "harden: 1 resource violates restricted at v1.37\n");
}

#[test]
fn issue14_6_check_honours_skip_containers_and_config_exceptions() {
    let ran = harden(&["check", "--format", "json"], SKIP_DEBUG.as_bytes());
    assert_eq!(ran.code, 1, "app still violates");
    let report = json(&ran.stdout);
    assert!(findings(&report, "violation").iter().all(|f| f["container"] == "app"));
    assert!(findings(&report, "opted-out").iter().all(|f| f["container"] == "debug"));
    assert_eq!(report["summary"]["changes"], 0, "check changes nothing");

    let dir = tempfile::tempdir().expect("temp dir");
    let both = config(&dir, "  - {kind: Pod, name: app}\n");
    let ran = harden(&["check", "--config", &both, "--format", "json"], SKIP_DEBUG.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let report = json(&ran.stdout);
    assert_eq!(findings(&report, "violation").len(), 0);
    assert_eq!(report["summary"]["optedOut"], 9);
}

/// One code path: what `-o report` says remains of a resource harden
/// cannot fix, `harden check` finds at the same places (among what the
/// fixes harden withholds would have fixed).
#[test]
fn issue14_6_check_and_the_report_share_their_findings_and_formats() {
    let blocked = SKIPPED.replace("  annotations:\n    harden.dev/skip: \"true\"\n", "");
    let check = json(&harden(&["check", "--format", "json"], blocked.as_bytes()).stdout);
    let report = json(&harden(&["-o", "report", "--format", "json"], blocked.as_bytes()).stdout);
    let place = |f: &&Value| (f["line"].clone(), f["pointer"].clone(), f["rule"].clone(), f["container"].clone());
    let checked: Vec<_> = findings(&check, "violation").iter().map(place).collect();
    let reported: Vec<_> = findings(&report, "violation").iter().map(place).collect();
    assert_eq!(checked.len(), 5);
    assert_eq!(reported.len(), 2, "privileged, and the allowPrivilegeEscalation it forbids fixing");
    assert!(reported.iter().all(|r| checked.contains(r)), "{checked:#?}\n{reported:#?}");

    let sarif = json(&harden(&["check", "--format", "sarif"], blocked.as_bytes()).stdout);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| r["level"] == "error"));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "pss/privileged"));
}

#[test]
fn issue14_6_a_krm_function_reports_opted_out_violations_in_its_results() {
    // The Deployment as the list's one item.
    let item: String = SKIPPED.lines().map(|l| format!("  {l}\n")).collect();
    let list = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {}", &item[2..]);
    let ran = harden(&[], list.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let out = &harden::yaml::parse_values(&ran.stdout).expect("a ResourceList")[0];
    let results = out["results"].as_array().expect("results");
    let opted: Vec<&Value> = results
        .iter()
        .filter(|r| r["message"].as_str().is_some_and(|m| m.contains("skipped (opted out: annotation harden.dev/skip")))
        .collect();
    assert_eq!(opted.len(), 5, "{results:#?}");
    assert!(opted.iter().all(|r| r["severity"] == "info"));
    assert!(ran.stderr.contains("; 1 resource skipped (opted out), still violating"), "{}", ran.stderr);
}
