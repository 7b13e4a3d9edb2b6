//! `appArmorProfile` (baseline, v1.0): AppArmor may not be turned off or set to
//! an unknown profile.
//!
//! Two channels, both checked at every policy version (upstream patched the
//! field check into its only, v1.0 revision when the fields arrived in 1.30):
//! * fields `spec.securityContext.appArmorProfile.type` and each container's
//!   `securityContext.appArmorProfile.type`: `RuntimeDefault`, `Localhost` or unset;
//! * annotations `container.apparmor.security.beta.kubernetes.io/*`: empty,
//!   `runtime/default` or `localhost/*`. They are deprecated but still enforced.

use std::collections::BTreeSet;

use crate::pss::pod::{Obj, Pod, containers_phrase, go_quote, join_quote, obj, pluralize, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "appArmorProfile",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: app_armor_profile_1_0, overrides: &[] }],
};

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_annotation_value(v: &str) -> bool {
    v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
}

/// The `type` of an `appArmorProfile` object, if the profile is set and the type is not allowed.
/// A set profile without a type has Go's zero value `""`, which is not allowed either.
fn bad_type(sc: Option<&Obj>) -> Option<&str> {
    let profile = obj(sc?, "appArmorProfile")?;
    let t = string_or_empty(profile, "type");
    (t != "RuntimeDefault" && t != "Localhost").then_some(t)
}

fn app_armor_profile_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<String> = BTreeSet::new();
    let mut findings = Vec::new();

    if let Some(t) = bad_type(pod.security_context()) {
        setters.push("pod".into());
        bad_values.insert(t.to_owned());
        findings.push(Finding::pod(format!("appArmorProfile.type={t}")));
    }

    let mut bad_containers = Vec::new();
    for c in pod.containers() {
        if let Some(t) = bad_type(c.security_context()) {
            bad_containers.push(c.name);
            bad_values.insert(t.to_owned());
            findings.push(Finding::container(c.name, format!("appArmorProfile.type={t}")));
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }

    // Annotations come after the field values, each rendered as key=%q and sorted.
    let mut annotations: Vec<(String, &str)> = pod
        .annotations()
        .into_iter()
        .filter(|(k, v)| k.starts_with(ANNOTATION_PREFIX) && !allowed_annotation_value(v))
        .map(|(k, v)| (format!("{k}={}", go_quote(v)), k))
        .collect();
    annotations.sort();
    let mut values: Vec<String> = bad_values.into_iter().collect();
    if !annotations.is_empty() {
        setters.push(pluralize("annotation", "annotations", annotations.len()).into());
        for (rendered, key) in annotations {
            let name = key.strip_prefix(ANNOTATION_PREFIX).unwrap_or(key);
            findings.push(Finding::container(name, format!("annotation {rendered}")));
            values.push(rendered);
        }
    }

    if setters.is_empty() {
        return None;
    }
    Some(Violation {
        reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", values.len()).into(),
        detail: format!("{} must not set AppArmor profile type to {}", setters.join(" and "), join_quote(&values)),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(meta: serde_json::Value, spec: serde_json::Value) -> Option<Violation> {
        app_armor_profile_1_0(&Pod::new(Some(&meta), &spec))
    }

    #[test]
    fn allowed_profiles() {
        assert!(run(json!({}), json!({})).is_none());
        let spec = json!({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}}]});
        let meta = json!({"annotations": {
            "container.apparmor.security.beta.kubernetes.io/a": "localhost/p",
            "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
            "container.apparmor.security.beta.kubernetes.io/c": "",
            "other.example.com/x": "unconfined"}});
        assert!(run(meta, spec).is_none());
    }

    #[test]
    fn upstream_wording() {
        let v = run(json!({}), json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}})).expect("fails");
        assert_eq!(v.reason, "forbidden AppArmor profile");
        assert_eq!(v.detail, r#"pod must not set AppArmor profile type to "Unconfined""#);

        let v = run(
            json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/b": "unconfined"}}),
            json!({"initContainers": [{"name": "i", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
                   "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]}),
        )
        .expect("fails");
        assert_eq!(v.reason, "forbidden AppArmor profiles");
        assert_eq!(
            v.detail,
            r#"containers "i", "a" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/b="unconfined"""#
        );
        assert_eq!(v.findings.len(), 3);
        assert_eq!(v.findings[2].container.as_deref(), Some("b"));
    }
}
