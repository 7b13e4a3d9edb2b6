//! `hostPathVolumes` (baseline, v1.0): no `hostPath` volumes.
//!
//! Field: `spec.volumes[*].hostPath`. Allowed: unset. Overridden under
//! restricted by `restrictedVolumes`, which forbids hostPath among others.

use crate::pss::pod::{Pod, join_quote, obj, pluralize, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "hostPathVolumes",
    level: Level::Baseline,
    versions: &[VersionedCheck { since: 0, run: host_path_volumes_1_0, overrides: &[] }],
};

fn host_path_volumes_1_0(pod: &Pod<'_>) -> Option<Violation> {
    let names: Vec<&str> = pod
        .volumes()
        .into_iter()
        .filter(|v| obj(v, "hostPath").is_some())
        .map(|v| string_or_empty(v, "name"))
        .collect();
    if names.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "hostPath volumes".into(),
        detail: format!("{} {}", pluralize("volume", "volumes", names.len()), join_quote(&names)),
        findings: names.iter().map(|n| Finding::pod(format!("hostPath volume \"{n}\""))).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"volumes": [{"name": "a", "hostPath": {"path": "/"}}, {"name": "b", "emptyDir": {}}, {"name": "c", "hostPath": {}}]});
        let v = host_path_volumes_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!((v.reason.as_str(), v.detail.as_str()), ("hostPath volumes", r#"volumes "a", "c""#));
        assert_eq!(v.findings[0], Finding::pod("hostPath volume \"a\""));
        let null = json!({"volumes": [{"name": "a", "hostPath": null}]});
        assert!(host_path_volumes_1_0(&Pod::new(None, &null)).is_none());
    }
}
