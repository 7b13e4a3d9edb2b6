//! Hardening against upstream Pod Security Admission's own fixtures
//! (`test/testdata/{baseline,restricted}/v1.35/{pass,fail}/*.yaml` of
//! kubernetes/pod-security-admission, copied to `../shared/psa-fixtures`).
//!
//! * A `restricted` fail fixture (`fail/<checkid><n>.yaml`) either comes out
//!   of harden passing restricted v1.35, or is left unchanged with a blocker
//!   for the check its name gives (or the restricted check overriding it).
//! * A `restricted` pass fixture still passes after hardening.
//! * `harden check` agrees with upstream on every fixture of both levels:
//!   exit 0 on pass, exit 1 on fail with upstream's reason on stdout.
//!
//! The fixtures are shared material that users do not have: the tests that
//! read them are ignored unless asked for (`cargo test -- --include-ignored`).

mod shared_inputs;

use std::path::{Path, PathBuf};
use std::process::Command;

use harden::pipeline::{Options, harden_source};
use harden::plan::PlanOptions;
use harden::profile::Profile;
use harden::pss::{Level, Version, check_pod, summarize};
use harden::read::Source;
use harden::workload::{built_in_kinds, pod_sites};
use harden::yaml::Limits;
use serde_json::Value;

/// Restricted checks that replace a baseline check (upstream `OverrideCheckIDs`), lower-cased.
const OVERRIDES: &[(&str, &str)] = &[
    ("hostpathvolumes", "restrictedvolumes"),
    ("seccompprofile_baseline", "seccompprofile_restricted"),
    ("capabilities_baseline", "capabilities_restricted"),
    ("procmount", "procmount_restricted"),
];

/// Upstream `ForbiddenReason` of each check (lower-cased ID), from
/// `policy/check_*.go`. AppArmor pluralizes ("profiles"), so these are
/// matched as prefixes.
const REASONS: &[(&str, &str)] = &[
    ("allowprivilegeescalation", "allowPrivilegeEscalation != false"),
    ("apparmorprofile", "forbidden AppArmor profile"),
    ("capabilities_baseline", "non-default capabilities"),
    ("capabilities_restricted", "unrestricted capabilities"),
    ("hostnamespaces", "host namespaces"),
    ("hostpathvolumes", "hostPath volumes"),
    ("hostports", "hostPort"),
    ("hostprobesandhostlifecycle", "probe or lifecycle host"),
    ("privileged", "privileged"),
    ("procmount", "procMount"),
    ("procmount_restricted", "procMount"),
    ("restrictedvolumes", "restricted volume types"),
    ("runasnonroot", "runAsNonRoot != true"),
    ("runasuser", "runAsUser=0"),
    ("seccompprofile_baseline", "seccompProfile"),
    ("seccompprofile_restricted", "seccompProfile"),
    ("selinuxoptions", "seLinuxOptions"),
    ("sysctls", "forbidden sysctls"),
    ("windowshostprocess", "hostProcess"),
];

fn version() -> Version {
    let (v, clamped) = Version::parse("v1.35").expect("v1.35 parses");
    assert!(!clamped);
    v
}

fn root() -> PathBuf {
    shared_inputs::shared("psa-fixtures")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

/// `runasuser0` → `runasuser`, `capabilities_restricted1` → `capabilities_restricted`.
fn named_check(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    stem.trim_end_matches(|c: char| c.is_ascii_digit()).to_ascii_lowercase()
}

/// The checks (lower-cased) a fail fixture may be rejected by at `level`:
/// the one it names, and under restricted the check overriding it.
fn accepted_checks(path: &Path, level: Level) -> Vec<String> {
    let named = named_check(path);
    let mut out = vec![named.clone()];
    if level == Level::Restricted
        && let Some((_, over)) = OVERRIDES.iter().find(|(base, _)| *base == named)
    {
        out.push((*over).to_string());
    }
    out
}

fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// What hardening one fixture did.
enum Hardened {
    /// No blockers; Pod Security's verdict on the output (empty: passes).
    Fixed(String),
    /// Left alone: the blockers' controls, and whether the text is unchanged.
    Blocked { controls: Vec<String>, unchanged: bool },
}

fn harden_fixture(path: &Path, profile: &Profile) -> Result<Hardened, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let kinds = built_in_kinds();
    let opts = Options {
        plan: PlanOptions {
            profile,
            kinds: &kinds,
            version: version(),
            partial: false,
            exceptions: &[],
            images: harden::images::built_in_table(),
        },
        ports: None,
        limits: Limits::default(),
    };
    let src = Source { name: path.display().to_string(), path: Some(path.to_path_buf()), text: text.clone() };
    let outcome = harden_source(&src, &opts).map_err(|e| e.to_string())?;
    let [doc] = outcome.docs.as_slice() else { return Err(format!("{} documents", outcome.docs.len())) };
    let [resource] = doc.plan.resources.as_slice() else {
        return Err(format!("{} resources", doc.plan.resources.len()));
    };
    if resource.pods != 1 {
        return Err(format!("{} pod specs", resource.pods));
    }
    if !resource.blockers.is_empty() {
        let controls = resource.blockers.iter().map(|b| b.control.clone()).collect();
        return Ok(Hardened::Blocked { controls, unchanged: outcome.output == text });
    }
    let mut verdict = Vec::new();
    for site in pod_sites(&doc.after, &resource.base, &resource.id, &kinds) {
        let spec = doc.after.pointer(&site.spec).unwrap_or(&Value::Null);
        verdict.extend(check_pod(doc.after.pointer(&site.metadata), spec, Level::Restricted, version()));
    }
    Ok(Hardened::Fixed(summarize(&verdict)))
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn restricted_fail_fixtures_are_fixed_or_blocked_for_the_named_check() {
    let root = root();
    let profile = Profile::load("restricted").expect("restricted profile");
    let files = yaml_files(&root.join("restricted/v1.35/fail"));
    let (mut fixed, mut reported) = (Vec::new(), Vec::new());
    let mut problems = Vec::new();
    for path in &files {
        let name = display(&root, path);
        match harden_fixture(path, &profile) {
            Err(e) => problems.push(format!("{name}: {e}")),
            Ok(Hardened::Fixed(verdict)) if verdict.is_empty() => fixed.push(name),
            Ok(Hardened::Fixed(verdict)) => {
                problems.push(format!("{name}: no blockers, but the output fails: {verdict}"))
            }
            Ok(Hardened::Blocked { controls, unchanged }) => {
                let accepted = accepted_checks(path, Level::Restricted);
                let named = controls
                    .iter()
                    .any(|c| c.strip_prefix("PSS ").is_some_and(|id| accepted.contains(&id.to_ascii_lowercase())));
                if !named {
                    problems.push(format!("{name}: blockers {controls:?} do not name any of {accepted:?}"));
                } else if !unchanged {
                    problems.push(format!("{name}: blocked, yet the text changed"));
                } else {
                    reported.push(name);
                }
            }
        }
    }
    eprintln!("restricted v1.35 fail fixtures: {} fixed, {} reported as blockers", fixed.len(), reported.len());
    assert!(problems.is_empty(), "{} fixtures:\n{}", problems.len(), problems.join("\n"));
    assert!(!fixed.is_empty() && !reported.is_empty());
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn restricted_pass_fixtures_still_pass_after_hardening() {
    let root = root();
    let profile = Profile::load("restricted").expect("restricted profile");
    let files = yaml_files(&root.join("restricted/v1.35/pass"));
    let mut problems = Vec::new();
    for path in &files {
        let name = display(&root, path);
        match harden_fixture(path, &profile) {
            Err(e) => problems.push(format!("{name}: {e}")),
            Ok(Hardened::Fixed(verdict)) if verdict.is_empty() => {}
            Ok(Hardened::Fixed(verdict)) => problems.push(format!("{name}: fails after hardening: {verdict}")),
            Ok(Hardened::Blocked { controls, .. }) => {
                problems.push(format!("{name}: passing pod got blockers {controls:?}"))
            }
        }
    }
    assert!(problems.is_empty(), "{} fixtures:\n{}", problems.len(), problems.join("\n"));
    assert!(!files.is_empty(), "restricted v1.35 has pass fixtures");
}

/// `stdout` names `reason` as one of the results of `harden check`, whose
/// messages quote the API server's `reason (detail)`.
fn names_reason(stdout: &str, reason: &str) -> bool {
    stdout.contains(&format!(": {reason}")) || stdout.contains(&format!(", {reason}"))
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn harden_check_agrees_with_upstream_on_every_fixture() {
    let root = root();
    let mut problems = Vec::new();
    let mut exercised = 0;
    for (level, flag) in [(Level::Baseline, "baseline"), (Level::Restricted, "restricted")] {
        for verdict in ["pass", "fail"] {
            for path in yaml_files(&root.join(flag).join("v1.35").join(verdict)) {
                exercised += 1;
                let name = display(&root, &path);
                let out = Command::new(env!("CARGO_BIN_EXE_harden"))
                    .args(["check", "--pss-version", "v1.35", "--level", flag])
                    .arg(&path)
                    .env_remove("KUBE_VERSION")
                    .output()
                    .expect("the harden binary runs");
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                let code = out.status.code();
                if verdict == "pass" {
                    if code != Some(0) || !stdout.is_empty() {
                        problems.push(format!("{name}: exit {code:?}, stdout {stdout:?}, stderr {stderr:?}"));
                    }
                    continue;
                }
                if code != Some(1) {
                    problems.push(format!("{name}: exit {code:?}, stderr {stderr:?}"));
                    continue;
                }
                let accepted = accepted_checks(&path, level);
                let reasons: Vec<&str> = REASONS
                    .iter()
                    .filter(|(id, _)| accepted.iter().any(|a| a == id))
                    .map(|(_, reason)| *reason)
                    .collect();
                if reasons.is_empty() {
                    problems.push(format!("{name}: no upstream reason known for {accepted:?}"));
                } else if !reasons.iter().any(|r| names_reason(&stdout, r)) {
                    problems.push(format!("{name}: stdout names none of {reasons:?}: {stdout:?}"));
                }
                // `file:line: Pod/name: …`, as `-o report` writes violations.
                let first = stdout.lines().next().unwrap_or_default();
                if !first.starts_with(&format!("{}:", path.display())) || !first.contains(": Pod/") {
                    problems.push(format!("{name}: stdout does not start with file:line and the pod: {stdout:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} fixtures:\n{}", problems.len(), problems.join("\n"));
    assert!(exercised > 0, "the v1.35 fixtures are there");
}

#[test]
fn names_reason_matches_whole_results_only() {
    let line = "Pod/p: privileged (container \"a\" must not set securityContext.privileged=true), runAsUser=0 (pod must not set runAsUser=0)\n";
    assert!(names_reason(line, "privileged"));
    assert!(names_reason(line, "runAsUser=0"));
    assert!(!names_reason(line, "hostPort"));
    assert!(!names_reason("Pod/p: host namespaces (hostNetwork=true)\n", "hostNetwork"));
}
