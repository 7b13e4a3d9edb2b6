//! `harden --check`: exit 0 when harden would change nothing and no
//! violation remains, 1 otherwise, 2 on bad input; no YAML on stdout, and
//! it combines with the review outputs so one run gates and reports.

mod write_support;

use serde_json::Value;
use write_support::{fixture, run, stderr, stdout};

#[test]
fn compliant_file_exits_0() {
    let o = run(&["--check", &fixture("compliant.yaml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "--check writes no YAML");
    assert!(stderr(&o).ends_with("harden: 1 document, 0 workloads hardened, 0 changes, 0 blockers\n"));
}

#[test]
fn file_harden_would_change_exits_1() {
    let o = run(&["--check", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
}

#[test]
fn remaining_violations_exit_1_even_with_nothing_changed() {
    // The privileged DaemonSet keeps its text (0 changes) but still violates.
    let o = run(&["--check", &fixture("system.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("0 changes, 3 blockers"));
}

#[test]
fn malformed_file_exits_2_with_nothing_on_stdout() {
    let o = run(&["--check", &fixture("malformed.yaml")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "harden: tests/fixtures/write/malformed.yaml:6:5: illegal placement of ':' indicator\n");
    // Bad input anywhere: nothing, even with a good file before it.
    let o = run(&["--check", "-o", "report", &fixture("small.yaml"), &fixture("malformed.yaml")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
}

#[test]
fn check_with_diff_gates_and_shows() {
    let o = run(&["--check", "--diff", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).starts_with("--- a/tests/fixtures/write/small.yaml\n+++ b/tests/fixtures/write/small.yaml\n@@ ")
    );
}

#[test]
fn check_with_a_sarif_report_gates_and_reports() {
    let o = run(&["--check", "-o", "report", "--format", "sarif", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    let log: Value = serde_json::from_str(&stdout(&o)).expect("SARIF on stdout");
    // 15 changes, and a note: the image is not in harden's table.
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(16));
    let o = run(&["--check", "-o", "report", "--format", "sarif", &fixture("compliant.yaml")]);
    assert_eq!(o.status.code(), Some(0));
    let log: Value = serde_json::from_str(&stdout(&o)).expect("SARIF on stdout");
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn check_with_patch_and_explicit_yaml() {
    let o = run(&["--check", "-o", "patch", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("[\n"));
    // -o yaml asks for the YAML explicitly, so --check writes it.
    let plain = run(&[&fixture("small.yaml")]);
    let o = run(&["--check", "-o", "yaml", &fixture("small.yaml")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(o.stdout, plain.stdout);
}

#[test]
fn without_check_the_exit_code_stays_0() {
    for args in [&["-o", "report"][..], &["--diff"][..], &[][..]] {
        let mut all = args.to_vec();
        let f = fixture("system.yaml");
        all.push(&f);
        assert_eq!(run(&all).status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn help_documents_the_exit_codes_and_flags() {
    let o = run(&["--help"]);
    let help = stdout(&o);
    for needle in [
        "--check",
        "--diff",
        "--output",
        "--format",
        "--color",
        "--origin-root",
        "Exit status:",
        "--check: harden would change something",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}
