//! `harden check --pss-version v1.N`: the rules in force follow the version.
//! Each fixture in tests/fixtures/pss-versions isolates one difference from
//! the Pod Security history (../shared/notes/pss-controls.md; the header of
//! each file says which) and is checked at v1.18, v1.22, v1.24, v1.25 and
//! latest plus the versions on each side of its boundary. Then the same
//! command must agree with the upstream fixtures of v1.35 in ../shared.

mod shared_inputs;
mod write_support;

use write_support::{harden, yaml_files};

/// (fixture, the first minor it fails at, the first minor it passes again at).
const CASES: &[(&str, u32, u32)] = &[
    ("base", u32::MAX, u32::MAX),
    ("no-seccomp", 19, u32::MAX),
    ("no-capabilities-drop", 22, u32::MAX),
    ("run-as-user-0", 23, u32::MAX),
    ("windows-no-allow-privilege-escalation", 0, 25),
    ("seccomp-annotation-unconfined", 0, 19),
    ("sysctl-keepalive", 0, 29),
    ("sysctl-slow-start", 0, 37),
    ("probe-host", 34, u32::MAX),
];

/// What latest means: the newest revision harden knows.
const LATEST: u32 = 37;

fn check(version: &str, file: &str) -> i32 {
    let o = harden().args(["check", "-q", "--pss-version", version, file]).output().expect("runs");
    o.status.code().expect("exit code")
}

#[test]
fn each_difference_at_its_versions() {
    let mut failures = Vec::new();
    for (name, fails_from, passes_from) in CASES {
        let file = format!("tests/fixtures/pss-versions/{name}.yaml");
        let mut minors = vec![18, 22, 24, 25, LATEST];
        for b in [*fails_from, *passes_from].into_iter().filter(|b| (1..=LATEST).contains(b)) {
            minors.extend([b - 1, b]);
        }
        minors.sort_unstable();
        minors.dedup();
        for minor in minors {
            let version = if minor == LATEST { "latest".to_string() } else { format!("v1.{minor}") };
            let want = if (*fails_from..*passes_from).contains(&minor) { 1 } else { 0 };
            let got = check(&version, &file);
            if got != want {
                failures.push(format!("{name} at {version}: exit {got}, expected {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn version_spellings_through_the_cli_and_kube_version() {
    let file = "tests/fixtures/pss-versions/run-as-user-0.yaml";
    for (v, want) in [
        ("1.22.3", 0),
        ("v1.22", 0),
        ("v1.22.17+k3s1", 0),
        ("v1.23.0-eks-1552ad0", 1),
        ("1.29.3", 1),
        ("v1.29.3+k3s1", 1),
    ] {
        assert_eq!(check(v, file), want, "--pss-version {v}");
        let o = harden().env("KUBE_VERSION", v).args(["check", "-q", file]).output().expect("runs");
        assert_eq!(o.status.code(), Some(want), "KUBE_VERSION={v}");
    }
    // The flag wins over the environment (Argo CD sets KUBE_VERSION for every plugin).
    let o = harden()
        .env("KUBE_VERSION", "v1.29")
        .args(["check", "-q", "--pss-version", "v1.22", file])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0));
    // Garbage is a usage error with a sentence, for check and for harden.
    for args in [&["check", "--pss-version", "v1.x", file][..], &["--pss-version", "1", file][..]] {
        let o = harden().args(args).output().expect("runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("--pss-version"), "{args:?}");
    }
}

#[test]
fn a_version_newer_than_harden_knows_is_said_once() {
    let files = ["tests/fixtures/pss-versions/base.yaml", "tests/fixtures/pss-versions/run-as-user-0.yaml"];
    let runs: [&[&str]; 3] = [&["check"], &["--check"], &["-o", "report"]];
    for args in runs {
        let o = harden().env("KUBE_VERSION", "v1.99.1+k3s1").args(args).args(files).output().expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        let said = err.matches("newer than harden knows").count();
        assert_eq!(said, 1, "{args:?}: {err}");
        assert!(err.contains(&format!("using v1.{LATEST}")), "{args:?}: {err}");
    }
    // And it behaves as latest.
    assert_eq!(check("v1.99", "tests/fixtures/pss-versions/sysctl-slow-start.yaml"), 0);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn agrees_with_the_upstream_v1_35_fixtures() {
    let dir = shared_inputs::shared("psa-fixtures");
    let mut checked = 0;
    for level in ["baseline", "restricted"] {
        for (outcome, want) in [("pass", 0), ("fail", 1)] {
            for file in yaml_files(&dir.join(level).join("v1.35").join(outcome)) {
                let o = harden()
                    .args(["check", "-q", "--level", level, "--pss-version", "v1.35"])
                    .arg(&file)
                    .output()
                    .expect("runs");
                assert_eq!(o.status.code(), Some(want), "{}", file.display());
                checked += 1;
            }
        }
    }
    eprintln!("{checked} upstream fixtures agree");
    assert!(checked > 0, "the v1.35 fixtures are there");
}
