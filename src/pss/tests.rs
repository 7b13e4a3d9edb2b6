//! Registry-level tests: version boundaries through the public API, check
//! order, overrides, and robustness against odd input.

use super::*;
use serde_json::{Value, json};

fn v(minor: u32) -> Version {
    Version::new(minor)
}

/// The IDs of the checks `spec` fails.
fn failing(spec: &Value, level: Level, minor: u32) -> Vec<&'static str> {
    check_pod(None, spec, level, v(minor)).iter().map(|r| r.check).collect()
}

/// A pod that passes restricted at every version, with `patch` merged into the container.
fn restricted_pod(container_patch: Value) -> Value {
    let mut c = json!({
        "name": "app",
        "image": "registry.k8s.io/pause",
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
    });
    if let (Some(c), Some(p)) = (c.as_object_mut(), container_patch.as_object()) {
        for (k, val) in p {
            c.insert(k.clone(), val.clone());
        }
    }
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [c],
    })
}

#[test]
fn registry_is_in_upstream_order() {
    // Upstream sorts IDs byte-wise within each level, baseline first.
    let baseline: Vec<&str> = checks::ALL.iter().filter(|c| c.level == Level::Baseline).map(|c| c.id).collect();
    let restricted: Vec<&str> = checks::ALL.iter().filter(|c| c.level == Level::Restricted).map(|c| c.id).collect();
    let mut sorted_b = baseline.clone();
    sorted_b.sort_unstable();
    let mut sorted_r = restricted.clone();
    sorted_r.sort_unstable();
    assert_eq!(baseline, sorted_b);
    assert_eq!(restricted, sorted_r);
    let ids: Vec<&str> = checks::ALL.iter().map(|c| c.id).collect();
    assert_eq!(ids, [baseline, restricted].concat());
    for c in checks::ALL {
        assert!(c.versions.windows(2).all(|w| w[0].since < w[1].since), "{} versions not increasing", c.id);
        assert!(c.versions.iter().all(|r| r.since <= Version::LATEST.minor), "{}", c.id);
        assert!(c.level == Level::Restricted || c.versions.iter().all(|r| r.overrides.is_empty()), "{}", c.id);
    }
}

#[test]
fn active_checks_by_version() {
    assert_eq!(
        active_checks(Level::Baseline, Version::LATEST),
        [
            "appArmorProfile",
            "capabilities_baseline",
            "hostNamespaces",
            "hostPathVolumes",
            "hostPorts",
            "hostProbesAndHostLifecycle",
            "privileged",
            "procMount",
            "seLinuxOptions",
            "seccompProfile_baseline",
            "sysctls",
            "windowsHostProcess",
        ]
    );
    assert_eq!(
        active_checks(Level::Restricted, v(35)),
        [
            "appArmorProfile",
            "hostNamespaces",
            "hostPorts",
            "hostProbesAndHostLifecycle",
            "privileged",
            "seLinuxOptions",
            "sysctls",
            "windowsHostProcess",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "procMount_restricted",
            "restrictedVolumes",
            "runAsNonRoot",
            "runAsUser",
            "seccompProfile_restricted",
        ]
    );
    // Before the restricted replacements exist, their baseline checks still run under restricted.
    let r18 = active_checks(Level::Restricted, v(18));
    for id in ["capabilities_baseline", "seccompProfile_baseline", "procMount"] {
        assert!(r18.contains(&id), "{id} missing at 1.18");
    }
    assert!(!r18.contains(&"hostPathVolumes"));
    assert!(!r18.contains(&"hostProbesAndHostLifecycle"));
    let r7 = active_checks(Level::Restricted, v(7));
    assert!(!r7.contains(&"allowPrivilegeEscalation"));
    assert!(active_checks(Level::Restricted, v(8)).contains(&"allowPrivilegeEscalation"));
}

#[test]
fn baseline_pod_passes_everything_it_should() {
    let minimal = json!({"containers": [{"name": "app", "image": "nginx"}]});
    for minor in 0..=Version::LATEST.minor {
        assert!(check_pod(None, &minimal, Level::Baseline, v(minor)).is_empty(), "v1.{minor}");
    }
    let good = restricted_pod(json!({}));
    for minor in 0..=Version::LATEST.minor {
        assert!(check_pod(None, &good, Level::Restricted, v(minor)).is_empty(), "v1.{minor}");
    }
}

#[test]
fn run_as_user_starts_at_1_23() {
    let pod = restricted_pod(json!({"securityContext": {
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 0}}));
    assert!(failing(&pod, Level::Restricted, 22).is_empty());
    assert_eq!(failing(&pod, Level::Restricted, 23), ["runAsUser"]);
    assert!(failing(&pod, Level::Baseline, 37).is_empty());
}

#[test]
fn capabilities_restricted_starts_at_1_22() {
    let pod = restricted_pod(json!({"securityContext": {"allowPrivilegeEscalation": false}}));
    assert!(failing(&pod, Level::Restricted, 21).is_empty());
    assert_eq!(failing(&pod, Level::Restricted, 22), ["capabilities_restricted"]);
    // Before 1.22 restricted still runs capabilities_baseline.
    let net_raw = restricted_pod(
        json!({"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_RAW"]}}}),
    );
    assert_eq!(failing(&net_raw, Level::Restricted, 21), ["capabilities_baseline"]);
    assert_eq!(failing(&net_raw, Level::Restricted, 22), ["capabilities_restricted"]);
}

#[test]
fn windows_exemptions_start_at_1_25() {
    let pod = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "app"}]});
    assert_eq!(
        failing(&pod, Level::Restricted, 24),
        ["allowPrivilegeEscalation", "capabilities_restricted", "seccompProfile_restricted"]
    );
    assert!(failing(&pod, Level::Restricted, 25).is_empty());
    // Only the os field counts: a Linux pod or one without `os` is not exempt.
    let linux = json!({"os": {"name": "linux"}, "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "app"}]});
    assert_eq!(failing(&linux, Level::Restricted, 35).len(), 3);
    // runAsNonRoot is still required on Windows.
    let no_root_setting = json!({"os": {"name": "windows"}, "containers": [{"name": "app"}]});
    assert_eq!(failing(&no_root_setting, Level::Restricted, 37), ["runAsNonRoot"]);
}

#[test]
fn sysctl_allow_list_grows() {
    let pod = |name: &str| json!({"securityContext": {"sysctls": [{"name": name, "value": "1"}]}, "containers": [{"name": "a"}]});
    let cases = [
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_slow_start_after_idle", 37),
        ("net.ipv4.tcp_notsent_lowat", 37),
    ];
    for (name, since) in cases {
        assert_eq!(failing(&pod(name), Level::Baseline, since - 1), ["sysctls"], "{name} before v1.{since}");
        assert!(failing(&pod(name), Level::Baseline, since).is_empty(), "{name} at v1.{since}");
    }
    let r = check_pod(None, &pod("net.ipv4.tcp_rmem"), Level::Baseline, v(31));
    assert_eq!(summarize(&r), "forbidden sysctls (net.ipv4.tcp_rmem)");
    assert_eq!(failing(&pod("kernel.msgmax"), Level::Baseline, 37), ["sysctls"]);
}

#[test]
fn selinux_container_engine_t_from_1_31() {
    let pod =
        json!({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]});
    assert_eq!(failing(&pod, Level::Baseline, 30), ["seLinuxOptions"]);
    assert!(failing(&pod, Level::Baseline, 31).is_empty());
}

#[test]
fn probe_host_from_1_34() {
    let pod = json!({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]});
    assert!(failing(&pod, Level::Baseline, 33).is_empty());
    assert_eq!(failing(&pod, Level::Baseline, 34), ["hostProbesAndHostLifecycle"]);
    let r = check_pod(None, &pod, Level::Baseline, v(34));
    assert_eq!(summarize(&r), r#"probe or lifecycle host (container "a" uses probe or lifecycle host "10.0.0.1")"#);
}

#[test]
fn user_namespace_relaxations_from_1_35() {
    let unmasked = |host_users: bool| {
        let mut p = restricted_pod(json!({"securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"}}));
        if let Some(o) = p.as_object_mut() {
            o.insert("hostUsers".into(), Value::Bool(host_users));
        }
        p
    };
    // Baseline: relaxed for hostUsers:false from 1.35 only.
    assert_eq!(failing(&unmasked(false), Level::Baseline, 34), ["procMount"]);
    assert!(failing(&unmasked(false), Level::Baseline, 35).is_empty());
    assert_eq!(failing(&unmasked(true), Level::Baseline, 35), ["procMount"]);
    // Restricted: procMount_restricted takes over from 1.35 and ignores hostUsers.
    assert_eq!(failing(&unmasked(false), Level::Restricted, 34), ["procMount"]);
    assert_eq!(failing(&unmasked(false), Level::Restricted, 35), ["procMount_restricted"]);
    assert_eq!(failing(&unmasked(true), Level::Restricted, 35), ["procMount_restricted"]);

    // runAsNonRoot and runAsUser are skipped for user-namespace pods from 1.35.
    let root = json!({"hostUsers": false,
        "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]});
    assert_eq!(failing(&root, Level::Restricted, 34), ["runAsNonRoot", "runAsUser"]);
    assert!(failing(&root, Level::Restricted, 35).is_empty());
}

#[test]
fn seccomp_annotations_until_1_18_then_fields() {
    let meta = json!({"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}});
    let spec = json!({"containers": [{"name": "a"}]});
    let ids =
        |minor| check_pod(Some(&meta), &spec, Level::Baseline, v(minor)).iter().map(|r| r.check).collect::<Vec<_>>();
    assert_eq!(ids(18), ["seccompProfile_baseline"]);
    assert!(ids(19).is_empty());
    let r = check_pod(Some(&meta), &spec, Level::Baseline, v(18));
    assert_eq!(r[0].detail, r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#);

    let field = json!({"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]});
    assert!(failing(&field, Level::Baseline, 18).is_empty());
    assert_eq!(failing(&field, Level::Baseline, 19), ["seccompProfile_baseline"]);
    // Restricted at 1.18 has no seccomp requirement beyond the baseline annotations.
    let bare = json!({"securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false}}]});
    assert!(failing(&bare, Level::Restricted, 18).is_empty());
    assert_eq!(failing(&bare, Level::Restricted, 19), ["seccompProfile_restricted"]);
}

#[test]
fn restricted_overrides_and_order() {
    let pod = json!({
        "hostNetwork": true,
        "volumes": [{"name": "proc", "hostPath": {"path": "/proc"}}],
        "containers": [{"name": "app", "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}],
    });
    assert_eq!(
        failing(&pod, Level::Baseline, 35),
        ["capabilities_baseline", "hostNamespaces", "hostPathVolumes", "privileged"]
    );
    let r = check_pod(None, &pod, Level::Restricted, v(35));
    let ids: Vec<&str> = r.iter().map(|r| r.check).collect();
    assert_eq!(
        ids,
        [
            "hostNamespaces",
            "privileged",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "restrictedVolumes",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ]
    );
    assert!(r.iter().take(2).all(|r| r.level == Level::Baseline));
    assert!(r.iter().skip(2).all(|r| r.level == Level::Restricted));
    assert_eq!(
        summarize(&r[..2]),
        r#"host namespaces (hostNetwork), privileged (container "app" must not set securityContext.privileged=true)"#
    );
    assert_eq!(r[0].findings, [Finding::pod("hostNetwork=true")]);
    assert_eq!(r[4].findings, [Finding::pod("hostPath volume \"proc\"")]);
}

#[test]
fn summarize_formats_like_upstream() {
    assert_eq!(summarize(&[]), "");
    let r =
        CheckResult { check: "x", level: Level::Baseline, reason: "r".into(), detail: String::new(), findings: vec![] };
    let s = CheckResult { detail: "d".into(), ..r.clone() };
    assert_eq!(summarize(&[r, s]), "r, r (d)");
}

#[test]
fn metadata_annotations_drive_apparmor() {
    let meta =
        json!({"name": "p", "annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}});
    let spec = json!({"containers": [{"name": "app"}]});
    let r = check_pod(Some(&meta), &spec, Level::Baseline, Version::LATEST);
    assert_eq!(
        summarize(&r),
        r#"forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/app="unconfined"")"#
    );
    assert!(check_pod(None, &spec, Level::Baseline, Version::LATEST).is_empty());
}

#[test]
fn odd_input_never_panics() {
    let weird = [
        json!(null),
        json!(1),
        json!("spec"),
        json!([]),
        json!({}),
        json!({"containers": null, "initContainers": 3, "ephemeralContainers": "x", "volumes": {"a": 1}}),
        json!({"securityContext": [], "hostNetwork": "true", "os": "windows", "hostUsers": 0}),
        json!({"securityContext": {"sysctls": [null, 1, {"name": 2}, {}], "seccompProfile": "RuntimeDefault",
            "seLinuxOptions": {"type": 5}, "runAsUser": "0", "appArmorProfile": []}}),
        json!({"containers": [null, 1, [], {"name": 7, "securityContext": {"capabilities": {"add": [1, null], "drop": "ALL"},
            "procMount": 1, "privileged": "true", "runAsUser": -0.0, "seccompProfile": null, "windowsOptions": []},
            "ports": [1, {"hostPort": "80"}, {"hostPort": 1.5}], "livenessProbe": {"httpGet": {"host": 1}}, "lifecycle": []}]}),
        json!({"volumes": [null, {"name": null}, {"hostPath": null}, {"nfs": "x"}]}),
    ];
    let metas = [None, Some(json!(null)), Some(json!({"annotations": ["a"]})), Some(json!({"annotations": {"k": 1}}))];
    for spec in &weird {
        for meta in &metas {
            for level in [Level::Baseline, Level::Restricted] {
                for minor in [0, 18, 19, 24, 25, 34, 35, 37, 99] {
                    let r = check_pod(meta.as_ref(), spec, level, v(minor));
                    let _ = summarize(&r);
                }
            }
        }
    }
}

#[test]
fn odd_types_are_absent_but_go_zero_values_still_count() {
    // A sysctl entry without a name is "" in Go, which is not on the allow-list.
    let spec = json!({"securityContext": {"sysctls": [{"value": "1"}]}});
    let r = check_pod(None, &spec, Level::Baseline, Version::LATEST);
    assert_eq!(r[0].detail, "");
    // ... and, as upstream, an empty detail prints the reason alone.
    assert_eq!(summarize(&r), "forbidden sysctls");
    // A non-boolean privileged is not `true`.
    let spec = json!({"containers": [{"name": "a", "securityContext": {"privileged": "true"}}]});
    assert!(check_pod(None, &spec, Level::Baseline, Version::LATEST).is_empty());
    // A container without a name is reported as "".
    let spec = json!({"containers": [{"securityContext": {"privileged": true}}]});
    let r = check_pod(None, &spec, Level::Baseline, Version::LATEST);
    assert_eq!(r[0].detail, r#"container "" must not set securityContext.privileged=true"#);
}

#[test]
fn versions_beyond_latest_behave_as_latest() {
    let pod = json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_notsent_lowat"}]}});
    assert!(check_pod(None, &pod, Level::Baseline, v(99)).is_empty());
    assert_eq!(active_checks(Level::Restricted, v(99)), active_checks(Level::Restricted, Version::LATEST));
}
