//! The hardening rules, one file per concern. Each rule reads one pod (the
//! semantic tree) and writes Changes, Notes or Blockers to a [`PodPlan`];
//! it never sees YAML text or output formats. Each says explicitly when it
//! changes nothing.

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

/// Whether `id` names a rule (for validating skip lists up front).
pub fn is_rule(id: &str) -> bool {
    RULES.iter().any(|r| r.id == id)
}
