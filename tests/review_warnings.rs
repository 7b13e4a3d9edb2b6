//! Issue 14 item 9: what a reviewer must see is on stderr, not only in `-o
//! report`: a `warning:` line for each decision that weakens, keeps or
//! guesses, naming the resource and the container as blocker lines do,
//! silenced by `-q`, and past 20 of them a count and a pointer to the
//! report. (The port rule's lines: tests/ports.rs, `item9_*`.)

mod support;

/// A Deployment `web-N` whose one container sets `security`.
fn workload(n: usize, security: &str) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web-{n}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web-{n}}}}}
  template:
    metadata: {{labels: {{app: web-{n}}}}}
    spec:
      securityContext: {{runAsGroup: 0}}
      containers:
      - name: app
        image: example.com/web:1
        securityContext: {security}
"
    )
}

#[test]
fn item9_an_explicit_weaker_value_kept_is_a_warning() {
    let stderr = support::stderr_of(&[], &workload(1, "{readOnlyRootFilesystem: false}"));
    let kept =
        "warning: Deployment/shop/web-1: container \"app\": readOnlyRootFilesystem=false is set explicitly; kept";
    assert!(stderr.contains(kept), "{stderr}");
    let group = "warning: Deployment/shop/web-1: runAsGroup=0 (the root group) is set explicitly; kept";
    assert!(stderr.contains(group), "{stderr}");
    // In the report too, as warnings.
    let report = support::harden(&["-q", "-o", "report"], workload(1, "{readOnlyRootFilesystem: false}").as_bytes());
    let in_report = "container \"app\": warning\n    readOnlyRootFilesystem=false is set explicitly; kept.";
    assert!(report.stdout.contains(in_report), "{}", report.stdout);
}

#[test]
fn item9_more_than_20_warnings_collapse_into_a_count_and_quiet_silences_them() {
    let stream: String = (0..14).map(|n| workload(n, "{readOnlyRootFilesystem: false}")).collect();
    let stderr = support::stderr_of(&[], &stream);
    // Two a workload, 28 in all: the first 20, then the count.
    assert_eq!(stderr.matches("is set explicitly; kept").count(), 20, "{stderr}");
    let count = "warning: and 8 warnings more like those above, not shown: `-o report` lists every one";
    assert!(stderr.contains(count), "{stderr}");
    // Twenty or fewer: every one, and no count.
    let stream: String = (0..10).map(|n| workload(n, "{readOnlyRootFilesystem: false}")).collect();
    let stderr = support::stderr_of(&[], &stream);
    assert_eq!(stderr.matches("is set explicitly; kept").count(), 20, "{stderr}");
    assert!(!stderr.contains("not shown"), "{stderr}");
    assert_eq!(support::stderr_of(&["-q"], &stream), "", "-q silences them");
}
