//! The PSS verifier against upstream Pod Security Admission's own fixtures
//! (`test/testdata/{baseline,restricted}/v1.35/{pass,fail}/*.yaml`, copied to
//! `../shared/psa-fixtures`).
//!
//! * `pass/*`: no violation at that level.
//! * `fail/<checkid><n>.yaml`: violated by the check the file stem names
//!   (lower-cased), or, under restricted, by the restricted check that
//!   overrides it. Any other failing check must be one of the few
//!   [`CO_FAILURES`] that the fixture cannot avoid.

mod shared_inputs;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use harden::pss::{CheckResult, Level, Version, check_pod, summarize};

const VERSION: Version = Version { minor: 35 };

/// Restricted checks that replace a baseline check (upstream `OverrideCheckIDs`), lower-cased.
const OVERRIDES: &[(&str, &str)] = &[
    ("hostpathvolumes", "restrictedvolumes"),
    ("seccompprofile_baseline", "seccompprofile_restricted"),
    ("capabilities_baseline", "capabilities_restricted"),
    ("procmount", "procmount_restricted"),
];

/// Checks that upstream fail fixtures trip besides the named one, because the
/// Pod API would reject the fixture without the extra setting:
/// * HostProcess pods must use the host network (`hostNetwork: true`);
/// * `privileged: true` cannot be combined with `allowPrivilegeEscalation: false`,
///   so a restricted `privileged` fixture leaves the latter unset;
/// * `allowprivilegeescalation3` drops container1's whole securityContext,
///   capabilities included.
const CO_FAILURES: &[(&str, &str)] = &[
    ("windowshostprocess", "hostNamespaces"),
    ("privileged", "allowPrivilegeEscalation"),
    ("allowprivilegeescalation", "capabilities_restricted"),
];

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

/// `runasuser0` → `runasuser`, `capabilities_restricted1` → `capabilities_restricted`.
fn expected_check(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    stem.trim_end_matches(|c: char| c.is_ascii_digit()).to_ascii_lowercase()
}

fn evaluate(path: &Path, level: Level) -> Result<Vec<CheckResult>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let docs = harden::yaml::parse_values(&text).map_err(|e| format!("parse: {e}"))?;
    let [pod] = docs.as_slice() else { return Err(format!("expected one document, got {}", docs.len())) };
    let spec = pod.get("spec").ok_or("no spec")?;
    Ok(check_pod(pod.get("metadata"), spec, level, VERSION))
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn upstream_fixtures_v1_35() {
    let root = shared_inputs::shared("psa-fixtures");
    let mut problems = Vec::new();
    // (level, verdict) -> (agreed, total)
    let mut counts: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for level in [Level::Baseline, Level::Restricted] {
        for verdict in ["pass", "fail"] {
            let dir = root.join(level.as_str()).join(format!("v1.{}", VERSION.minor)).join(verdict);
            for path in yaml_files(&dir) {
                let name = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
                let entry = counts.entry((level.as_str(), verdict)).or_default();
                entry.1 += 1;
                let results = match evaluate(&path, level) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(format!("{name}: {e}"));
                        continue;
                    }
                };
                let ok = if verdict == "pass" {
                    results.is_empty()
                } else {
                    let want = expected_check(&path);
                    let overrider = OVERRIDES.iter().find(|(b, _)| *b == want).map(|(_, r)| *r);
                    let matches = |id: &str| {
                        let id = id.to_ascii_lowercase();
                        id == want || (level == Level::Restricted && Some(id.as_str()) == overrider)
                    };
                    let tolerated = |id: &str| CO_FAILURES.contains(&(want.as_str(), id));
                    results.iter().any(|r| matches(r.check))
                        && results.iter().all(|r| matches(r.check) || tolerated(r.check))
                };
                if ok {
                    entry.0 += 1;
                } else {
                    let got: Vec<&str> = results.iter().map(|r| r.check).collect();
                    problems.push(format!("{name}: got {got:?}: {}", summarize(&results)));
                }
            }
        }
    }
    let total: usize = counts.values().map(|(_, t)| t).sum();
    let agreed: usize = counts.values().map(|(a, _)| a).sum();
    for ((level, verdict), (a, t)) in &counts {
        eprintln!("{level:>10} {verdict}: {a}/{t}");
    }
    eprintln!("agreement: {agreed}/{total}");
    assert!(problems.is_empty(), "{} disagreements:\n{}", problems.len(), problems.join("\n"));
    for level in ["baseline", "restricted"] {
        for verdict in ["pass", "fail"] {
            assert!(counts.contains_key(&(level, verdict)), "no {level} {verdict} fixtures");
        }
    }
}
