//! `sysctls` (baseline): only namespaced sysctls that are isolated from other
//! pods on the node.
//!
//! Field: `spec.securityContext.sysctls[*].name` (the API has no container-level
//! sysctls). The allow-list grows with the policy version:
//! * v1.0: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
//!   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
//!   net.ipv4.ip_unprivileged_port_start;
//! * v1.27: + net.ipv4.ip_local_reserved_ports;
//! * v1.29: + net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
//!   net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes;
//! * v1.32: + net.ipv4.tcp_rmem, net.ipv4.tcp_wmem;
//! * v1.37: + net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat.

use crate::pss::pod::{Pod, array, string_or_empty};
use crate::pss::{Check, Finding, Level, VersionedCheck, Violation};

pub(crate) static CHECK: Check = Check {
    id: "sysctls",
    level: Level::Baseline,
    versions: &[
        VersionedCheck { since: 0, run: sysctls_1_0, overrides: &[] },
        VersionedCheck { since: 27, run: sysctls_1_27, overrides: &[] },
        VersionedCheck { since: 29, run: sysctls_1_29, overrides: &[] },
        VersionedCheck { since: 32, run: sysctls_1_32, overrides: &[] },
        VersionedCheck { since: 37, run: sysctls_1_37, overrides: &[] },
    ],
};

/// The allow-list in the order it grew; each version allows a prefix of it.
const ALLOWED: &[&str] = &[
    // 1.0
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    // 1.27
    "net.ipv4.ip_local_reserved_ports",
    // 1.29
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    // 1.32
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    // 1.37
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctls_1_0(pod: &Pod<'_>) -> Option<Violation> {
    sysctls(pod, &ALLOWED[..5])
}

fn sysctls_1_27(pod: &Pod<'_>) -> Option<Violation> {
    sysctls(pod, &ALLOWED[..6])
}

fn sysctls_1_29(pod: &Pod<'_>) -> Option<Violation> {
    sysctls(pod, &ALLOWED[..10])
}

fn sysctls_1_32(pod: &Pod<'_>) -> Option<Violation> {
    sysctls(pod, &ALLOWED[..12])
}

fn sysctls_1_37(pod: &Pod<'_>) -> Option<Violation> {
    sysctls(pod, ALLOWED)
}

fn sysctls(pod: &Pod<'_>, allowed: &[&str]) -> Option<Violation> {
    let sc = pod.security_context()?;
    // In order and not de-duplicated, as upstream lists them. A sysctl without a name is `""`.
    let forbidden: Vec<&str> = array(sc, "sysctls")
        .iter()
        .filter_map(serde_json::Value::as_object)
        .map(|s| string_or_empty(s, "name"))
        .filter(|name| !allowed.contains(name))
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    Some(Violation {
        reason: "forbidden sysctls".into(),
        detail: forbidden.join(", "),
        findings: forbidden.iter().map(|n| Finding::pod(format!("sysctl \"{n}\""))).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(names: &[&str]) -> serde_json::Value {
        let list: Vec<_> = names.iter().map(|n| json!({"name": n, "value": "1"})).collect();
        json!({"securityContext": {"sysctls": list}})
    }

    #[test]
    fn upstream_wording() {
        let s = spec(&["a", "kernel.shm_rmid_forced", "b"]);
        let v = sysctls_1_0(&Pod::new(None, &s)).expect("fails");
        assert_eq!((v.reason.as_str(), v.detail.as_str()), ("forbidden sysctls", "a, b"));
    }

    #[test]
    fn allow_list_grows() {
        let cases: [(&str, CheckFnPair); 5] = [
            ("net.ipv4.ip_local_reserved_ports", (sysctls_1_0, sysctls_1_27)),
            ("net.ipv4.tcp_keepalive_probes", (sysctls_1_27, sysctls_1_29)),
            ("net.ipv4.tcp_fin_timeout", (sysctls_1_27, sysctls_1_29)),
            ("net.ipv4.tcp_rmem", (sysctls_1_29, sysctls_1_32)),
            ("net.ipv4.tcp_notsent_lowat", (sysctls_1_32, sysctls_1_37)),
        ];
        for (name, (before, from)) in cases {
            let s = spec(&[name]);
            let pod = Pod::new(None, &s);
            assert!(before(&pod).is_some(), "{name} should fail before");
            assert!(from(&pod).is_none(), "{name} should pass from");
        }
    }

    type CheckFnPair = (crate::pss::CheckFn, crate::pss::CheckFn);
}
