//! The hardening rules, one file per concern. Each rule reads one pod (the
//! semantic tree) and writes Changes, Notes or Blockers to a [`PodPlan`];
//! it never sees YAML text or output formats. Each says explicitly when it
//! changes nothing. `unprivileged_port` is decided for the whole stream
//! (`crate::ports`); its file is what a decision changes in one pod.

use crate::plan::pod::{Pod, PodPlan};

pub mod capabilities;
pub mod container_administrator;
pub mod image_env;
pub mod privilege_escalation;
pub mod read_only_root_filesystem;
pub mod resources;
pub mod root_only;
pub mod run_as_non_root;
pub mod run_as_user;
pub mod seccomp;
pub mod service_account_token;
pub mod unknown_image;
pub mod unprivileged_port;
pub mod windows_os;
mod writable;

/// A rule: its id (used in reports and in `harden.dev/skip-rules`), whether
/// it applies to Windows pods, and what it plans.
pub struct Rule {
    pub id: &'static str,
    pub windows: bool,
    pub plan: fn(&Pod, &mut PodPlan),
}

/// Every rule, in the order they run.
pub const RULES: &[Rule] = &[
    Rule { id: windows_os::ID, windows: true, plan: windows_os::plan },
    Rule { id: container_administrator::ID, windows: true, plan: container_administrator::plan },
    Rule { id: root_only::ID, windows: false, plan: root_only::plan },
    Rule { id: run_as_non_root::ID, windows: true, plan: run_as_non_root::plan },
    Rule { id: run_as_user::ID, windows: false, plan: run_as_user::plan },
    Rule { id: seccomp::ID, windows: false, plan: seccomp::plan },
    Rule { id: privilege_escalation::ID, windows: false, plan: privilege_escalation::plan },
    Rule { id: capabilities::ID, windows: false, plan: capabilities::plan },
    Rule { id: read_only_root_filesystem::ID, windows: false, plan: read_only_root_filesystem::plan },
    Rule { id: image_env::ID, windows: false, plan: image_env::plan },
    Rule { id: resources::ID, windows: true, plan: resources::plan },
    Rule { id: service_account_token::ID, windows: true, plan: service_account_token::plan },
    // Last: it speaks only of pods the rules before it change.
    Rule { id: unknown_image::ID, windows: false, plan: unknown_image::plan },
];

/// The Pod Security checks each rule makes pass. Where the owner skips the
/// rule (`harden.dev/skip-rules`, a config exception), what those checks
/// find is the owner's choice: reported as opted out, not a blocker.
const FIXES: &[(&str, &[&str])] = &[
    (run_as_non_root::ID, &["runAsNonRoot"]),
    (run_as_user::ID, &["runAsUser"]),
    (seccomp::ID, &["seccompProfile_restricted", "seccompProfile_baseline"]),
    (privilege_escalation::ID, &["allowPrivilegeEscalation"]),
    (capabilities::ID, &["capabilities_restricted"]),
];

/// The rule that makes Pod Security check `check` pass, if one does.
pub fn fixing(check: &str) -> Option<&'static str> {
    FIXES.iter().find(|(_, checks)| checks.contains(&check)).map(|(rule, _)| *rule)
}

/// Every rule's id, as `harden.dev/skip-rules` and config exceptions name
/// them: the rules above, then the port rule (decided for the whole
/// stream, not pod by pod).
pub fn ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id).chain([unprivileged_port::ID])
}

/// Whether `id` names a rule (for validating skip lists up front).
pub fn is_rule(id: &str) -> bool {
    ids().any(|r| r == id)
}

#[cfg(test)]
mod tests {
    use super::{FIXES, fixing};
    use crate::plan::change::Control;
    use crate::plan::{PlanOptions, plan_document};
    use crate::profile::Profile;
    use crate::pss::Version;
    use serde_json::json;

    /// The table of which rule fixes which check agrees with the controls
    /// the rules name in their changes.
    #[test]
    fn each_check_is_fixed_by_the_rule_the_table_names() {
        let kinds = crate::workload::built_in_kinds();
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "image": "x", "securityContext": {"runAsUser": 0}}]}});
        let mut checks = Vec::new();
        for name in ["restricted", "baseline"] {
            let profile = Profile::load(name).expect("built-in");
            let opts = PlanOptions {
                profile: &profile,
                kinds: &kinds,
                version: Version::LATEST,
                partial: true,
                exceptions: &[],
                images: crate::images::built_in_table(),
            };
            for c in plan_document(&pod, &opts).changes() {
                if let Control::Pss(check) = c.control {
                    assert_eq!(fixing(check), Some(c.rule), "{check}");
                    checks.push(check);
                }
            }
        }
        let every = FIXES.iter().flat_map(|(_, checks)| checks.iter());
        for check in every {
            assert!(checks.contains(check), "{check} not exercised: {checks:?}");
        }
    }
}
