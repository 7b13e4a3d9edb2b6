//! `root-only`: a container that can only run as root — its image's row
//! says `rootOnly`, or its command installs packages at start (`apk add`,
//! `apt-get install`: the table's `rootCommands`) — cannot pass restricted,
//! which requires runAsNonRoot. Like host access, that is a blocker: the
//! pod is left unchanged (unless `--partial`, and then it is reported as
//! not starting), with the reason and the non-root alternative.
//!
//! A container the manifest already runs as non-root is its owner's
//! decision: nothing to block, but harden expects it not to start.

use crate::images::User;
use crate::plan::pod::{Container, Pod, PodPlan};
use serde_json::Value;

pub const ID: &str = "root-only";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for non-root (baseline): nothing to do.
    if !pod.profile.pod.run_as_non_root {
        return;
    }
    for c in pod.containers() {
        let Some((what, why, alternative)) = needs_root(pod, &c) else { continue };
        if runs_as_non_root(pod, &c) {
            out.will_not_start(&c, &format!("{what} needs root: {why}"), &alternative);
            continue;
        }
        out.block(Some(c.name()), format!("{what} (it needs root: {why}; instead: {alternative})"), "PSS runAsNonRoot");
        if pod.partial {
            out.will_not_start(&c, &format!("{what} needs root: {why}"), &alternative);
        }
    }
}

/// What needs root, why, and what to use instead.
fn needs_root(pod: &Pod, c: &Container) -> Option<(String, String, String)> {
    if let Some(row) = c.row
        && let Some(User::RootOnly { why, alternative, .. }) = &row.user
    {
        return Some((format!("image {} (row {})", c.image(), row.family), why.clone(), alternative.clone()));
    }
    let argv: Vec<&str> = ["/command", "/args"]
        .iter()
        .filter_map(|p| c.get(p).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let command = pod.images.root_command(&argv)?;
    let program = command.programs.first().map_or("", String::as_str);
    Some((
        format!("the command `{program} {}` it runs at start", command.subcommand),
        command.why.clone(),
        command.alternative.clone(),
    ))
}

/// Whether the manifest as written runs the container as a non-root user.
fn runs_as_non_root(pod: &Pod, c: &Container) -> bool {
    let field = |own: &str, pod_level: &str| c.get(own).or_else(|| pod.get(pod_level)).cloned();
    let uid = field("/securityContext/runAsUser", "/securityContext/runAsUser").and_then(|v| v.as_u64());
    let non_root = field("/securityContext/runAsNonRoot", "/securityContext/runAsNonRoot").and_then(|v| v.as_bool());
    uid.is_some_and(|u| u != 0) || (uid.is_none() && non_root == Some(true))
}
