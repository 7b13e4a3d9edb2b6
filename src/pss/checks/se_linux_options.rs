//! `seLinuxOptions` (baseline): no custom SELinux user or role, and only the
//! container types.
//!
//! Fields: `seLinuxOptions.{type,user,role}` at pod level and in every container.
//! Allowed: `type` unset, `""`, `container_t`, `container_init_t`,
//! `container_kvm_t`, and from **v1.31** also `container_engine_t`; `user` and
//! `role` unset or `""`. (`level` is free: it only picks MCS categories.)

use std::collections::BTreeSet;

use crate::pss::pod::{Obj, Pod, containers_phrase, join_quote, obj, pluralize, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "seLinuxOptions",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { since: 0, run: se_linux_options_1_0, overrides: &[] },
        VersionedCheck { since: 31, run: se_linux_options_1_31, overrides: &[] },
    ],
};

const TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const TYPES_1_31: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

fn se_linux_options_1_0(pod: &Pod<'_>) -> Option<Violation> {
    se_linux_options(pod, TYPES_1_0)
}

fn se_linux_options_1_31(pod: &Pod<'_>) -> Option<Violation> {
    se_linux_options(pod, TYPES_1_31)
}

#[derive(Default)]
struct Acc<'a> {
    bad_types: BTreeSet<&'a str>,
    set_user: bool,
    set_role: bool,
    findings: Vec<Finding>,
}

impl<'a> Acc<'a> {
    /// Record what is wrong with one `seLinuxOptions`; true when it is valid.
    fn valid(&mut self, opts: &'a Obj, allowed: &[&str], container: Option<&str>) -> bool {
        let mut problems = Vec::new();
        let t = string_or_empty(opts, "type");
        if !allowed.contains(&t) {
            self.bad_types.insert(t);
            problems.push(format!("seLinuxOptions.type={t}"));
        }
        if !string_or_empty(opts, "user").is_empty() {
            self.set_user = true;
            problems.push("seLinuxOptions.user set".to_owned());
        }
        if !string_or_empty(opts, "role").is_empty() {
            self.set_role = true;
            problems.push("seLinuxOptions.role set".to_owned());
        }
        let valid = problems.is_empty();
        self.findings.extend(problems.into_iter().map(|what| match container {
            Some(name) => Finding::container(name, what),
            None => Finding::pod(what),
        }));
        valid
    }
}

fn se_linux_options(pod: &Pod<'_>, allowed: &[&str]) -> Option<Violation> {
    let mut acc = Acc::default();
    let mut setters: Vec<String> = Vec::new();
    if let Some(opts) = pod.security_context().and_then(|sc| obj(sc, "seLinuxOptions")) {
        if !acc.valid(opts, allowed, None) {
            setters.push("pod".into());
        }
    }
    let mut bad = Vec::new();
    for c in pod.containers() {
        if let Some(opts) = c.security_context().and_then(|sc| obj(sc, "seLinuxOptions")) {
            if !acc.valid(opts, allowed, Some(c.name)) {
                bad.push(c.name);
            }
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !acc.bad_types.is_empty() {
        let types: Vec<&str> = acc.bad_types.iter().copied().collect();
        data.push(format!("{} {}", pluralize("type", "types", types.len()), join_quote(&types)));
    }
    if acc.set_user {
        data.push("user may not be set".to_owned());
    }
    if acc.set_role {
        data.push("role may not be set".to_owned());
    }
    Some(Violation {
        reason: "seLinuxOptions".into(),
        detail: format!("{} set forbidden securityContext.seLinuxOptions: {}", setters.join(" and "), data.join("; ")),
        findings: acc.findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_wording() {
        let spec = json!({"securityContext": {"seLinuxOptions": {"type": "foo", "user": "bar", "role": "baz"}},
            "containers": [
                {"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1"}}},
                {"name": "d", "securityContext": {"seLinuxOptions": {"type": "bar"}}},
                {"name": "e", "securityContext": {"seLinuxOptions": {"user": "bar"}}},
                {"name": "f", "securityContext": {"seLinuxOptions": {"role": "baz"}}}]});
        let v = se_linux_options_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "seLinuxOptions");
        assert_eq!(
            v.detail,
            r#"pod and containers "d", "e", "f" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set"#
        );
        // Newer upstream reports user/role even when no type is bad.
        let spec = json!({"securityContext": {"seLinuxOptions": {"user": "u", "role": "r"}}});
        let v = se_linux_options_1_0(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(
            v.detail,
            "pod set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set"
        );
    }

    #[test]
    fn container_engine_t_from_1_31() {
        let spec = json!({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]});
        let pod = Pod::new(None, &spec);
        let v = se_linux_options_1_0(&pod).expect("fails before 1.31");
        assert_eq!(
            v.detail,
            r#"container "a" set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
        );
        assert!(se_linux_options_1_31(&pod).is_none());
    }
}
