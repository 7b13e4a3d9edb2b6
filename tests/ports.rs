//! Privileged ports: one scenario per rule of the Ports issue. Every input
//! pod is already hardened in all other respects, so the only edits are the
//! port decisions; each test states those edits exactly, as (old text, new
//! text) pairs applied to the input.

mod support;

/// (stdout, stderr, exit code) of `harden -q ARGS` on `input`.
fn harden(args: &[&str], input: &str) -> (String, String, i32) {
    let r = support::harden(&[args, &["-q"]].concat(), input.as_bytes());
    (r.stdout, r.stderr, r.code)
}

/// `input` with each `(old, new)` replaced; each `old` must occur exactly once.
fn edited(input: &str, edits: &[(&str, &str)]) -> String {
    let mut out = input.to_string();
    for (old, new) in edits {
        assert_eq!(out.matches(old).count(), 1, "test bug: {old:?} must occur exactly once");
        out = out.replacen(old, new, 1);
    }
    out
}

/// Run harden and compare with the expected edits of the input.
fn expect(args: &[&str], input: &str, edits: &[(&str, &str)]) -> String {
    let (stdout, stderr, code) = harden(args, input);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stdout, edited(input, edits), "stderr: {stderr}");
    stderr
}

/// A hardened Deployment `web` (labels app=web) with one container.
fn deployment(name: &str, image: &str, extra_container: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{prometheus.io/port: \"80\"}}
    spec:
      automountServiceAccountToken: false
      securityContext: {{runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
      - name: app
        image: {image}
        securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}, readOnlyRootFilesystem: true}}
        resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{memory: 512Mi}}}}
        volumeMounts: [{{name: tmp, mountPath: /tmp}}]
{extra_container}        ports:
        - name: http
          containerPort: 80
      volumes: [{{name: tmp, emptyDir: {{}}}}]
"
    )
}

/// `deployment` of nginx:1.27, hardened for that image too: the paths its
/// row in the image table writes are mounted.
fn nginx_deployment(extra_container: &str) -> String {
    deployment("web", "nginx:1.27", extra_container)
        .replace(
            "volumeMounts: [{name: tmp, mountPath: /tmp}]",
            "volumeMounts: [{name: tmp, mountPath: /tmp}, {name: cache, mountPath: /var/cache/nginx}, {name: run, mountPath: /var/run}]",
        )
        .replace(
            "volumes: [{name: tmp, emptyDir: {}}]",
            "volumes: [{name: tmp, emptyDir: {}}, {name: cache, emptyDir: {}}, {name: run, emptyDir: {}}]",
        )
}

const SERVICE: &str = "---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - name: numeric
    port: 80
    targetPort: 80
  - name: implicit
    port: 80
  - name: named
    port: 8000
    targetPort: http
";

/// The edits inside `deployment(…aspnetapp…)` when its port moves to 8080:
/// the scrape annotation, and the port with the variable that tells the app.
const ASPNET_POD_MOVED: [(&str, &str); 2] = [
    ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
    (
        "containerPort: 80\n",
        "containerPort: 8080\n        env:\n        - name: ASPNETCORE_URLS\n          value: http://+:8080\n",
    ),
];

const PROBES: &str = "        livenessProbe:
          httpGet: {path: /healthz, port: 80}
        readinessProbe:
          tcpSocket: {port: http}
        lifecycle:
          preStop:
            httpGet: {path: /drain, port: 80}
";

#[test]
fn auto_moves_an_aspnet_app_with_every_reference() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", PROBES) + SERVICE;
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            ("httpGet: {path: /healthz, port: 80}", "httpGet: {path: /healthz, port: 8080}"),
            ("httpGet: {path: /drain, port: 80}", "httpGet: {path: /drain, port: 8080}"),
            (
                "containerPort: 80\n",
                "containerPort: 8080\n        env:\n        - name: ASPNETCORE_URLS\n          value: http://+:8080\n",
            ),
            ("    port: 80\n    targetPort: 80\n", "    port: 80\n    targetPort: 8080\n"),
            ("  - name: implicit\n    port: 80\n", "  - name: implicit\n    port: 80\n    targetPort: 8080\n"),
        ],
    );
}

#[test]
fn aspnet_urls_move_only_their_listening_entries() {
    let env =
        "        env:\n        - name: ASPNETCORE_URLS\n          value: \"http://+:80;http://backend.shop:80\"\n";
    let input = deployment("web", "registry.example.com/shop/api:1", env);
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            ("value: \"http://+:80;http://backend.shop:80\"", "value: \"http://+:8080;http://backend.shop:80\""),
            ("containerPort: 80\n", "containerPort: 8080\n"),
        ],
    );
}

#[test]
fn auto_rewrites_port_flags_and_port_variables() {
    let extra = "        args: [\"--port=80\", \"-p\", \"80\"]\n        env:\n        - {name: PORT, value: \"80\"}\n";
    let input = deployment("web", "registry.example.com/shop/server:1", extra);
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            ("args: [\"--port=80\", \"-p\", \"80\"]", "args: [\"--port=8080\", \"-p\", \"8080\"]"),
            ("{name: PORT, value: \"80\"}", "{name: PORT, value: \"8080\"}"),
            ("containerPort: 80\n", "containerPort: 8080\n"),
        ],
    );
}

const SYSCTL: &str = ", sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: \"0\"}]}";

#[test]
fn auto_allows_the_bind_where_the_app_cannot_be_told() {
    let input = nginx_deployment(PROBES) + SERVICE;
    expect(
        &[],
        &input,
        &[("seccompProfile: {type: RuntimeDefault}}", &format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}"))],
    );
}

#[test]
fn move_warns_about_images_that_ignore_the_manifest() {
    let input = nginx_deployment("");
    let stderr = expect(
        &["--ports", "move"],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            ("containerPort: 80\n", "containerPort: 8080\n"),
        ],
    );
    assert!(!stderr.contains("warning"), "-q silences warnings: {stderr}");
    let stderr = support::stderr_of(&["--ports", "move"], &input);
    // The config is not in the stream: the warning names the file and the directive to change.
    let line = "warning: Deployment/shop/web: container \"app\": port 80 moved to 8080, but row nginx-before-1.27.5 says \
                the image reads port 80 from `listen` in /etc/nginx/conf.d/default.conf, which is not in this stream: change the \
                port of `listen` in /etc/nginx/conf.d/default.conf from 80 to 8080, or use --ports sysctl";
    assert!(stderr.contains(line), "{stderr}");
}

#[test]
fn sysctl_mode_keeps_ports_even_when_harden_could_move_them() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + SERVICE;
    expect(
        &["--ports", "sysctl"],
        &input,
        &[("seccompProfile: {type: RuntimeDefault}}", &format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}"))],
    );
}

#[test]
fn keep_mode_changes_nothing() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + SERVICE;
    expect(&["--ports", "keep"], &input, &[]);
}

#[test]
fn net_bind_service_does_not_let_a_non_root_container_bind_port_80() {
    // Kubernetes grants no ambient capabilities, and no_new_privs (from
    // allowPrivilegeEscalation: false) grants no file capabilities on exec:
    // as non-root the app cannot bind 80 whatever `add` says. The port is
    // handled like any other; the owner's `add` stays.
    let input = deployment("web", "example.com/web:1", "")
        .replace("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}");
    let sysctl = format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}");
    expect(&[], &input, &[("seccompProfile: {type: RuntimeDefault}}", &sysctl)]);
    let aspnet = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "")
        .replace("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}");
    let (out, _, code) = harden(&[], &aspnet);
    assert_eq!(code, 0);
    assert!(out.contains("containerPort: 8080") && out.contains("http://+:8080"), "moved and told: {out}");
    assert!(out.contains("add: [NET_BIND_SERVICE]"), "the owner's add stays: {out}");
}

#[test]
fn a_pod_behind_a_headless_service_gets_the_sysctl() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "")
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web-headless, namespace: shop}\nspec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}\n";
    expect(
        &[],
        &input,
        &[("seccompProfile: {type: RuntimeDefault}}", &format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}"))],
    );
}

#[test]
fn a_service_shared_with_pods_that_keep_the_port_moves_nobody() {
    // The Windows pod behind the same Service keeps port 80 (Windows has no
    // privileged ports), so moving the Linux pod would split the Service.
    let windows = "---
apiVersion: v1
kind: Pod
metadata: {name: web-win, namespace: shop, labels: {app: web}}
spec:
  os: {name: windows}
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true}
  containers:
  - name: app
    image: mcr.microsoft.com/dotnet/samples:aspnetapp-nanoserver
    resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}
    ports: [{containerPort: 80}]
";
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + windows + SERVICE;
    expect(
        &[],
        &input,
        &[("seccompProfile: {type: RuntimeDefault}}", &format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}"))],
    );
}

/// A hardened pod labelled app=web in `namespace` that declares only port 8080.
fn pod_on_8080(namespace: &str) -> String {
    format!(
        "---
apiVersion: v1
kind: Pod
metadata: {{name: web-canary, namespace: {namespace}, labels: {{app: web, track: canary}}}}
spec:
  automountServiceAccountToken: false
  securityContext: {{runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: app
    image: example.com/web:canary
    securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}, readOnlyRootFilesystem: true}}
    resources: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{memory: 512Mi}}}}
    volumeMounts: [{{name: tmp, mountPath: /tmp}}]
    ports: [{{containerPort: 8080}}]
  volumes: [{{name: tmp, emptyDir: {{}}}}]
"
    )
}

#[test]
fn a_service_that_also_selects_a_pod_without_a_privileged_port_moves_nobody() {
    // The canary declares no port 80, yet the Service sends it traffic on
    // 80: moving the Deployment and the targetPort would break the canary.
    // (The index keeps such pods only as hashed labels: this is that path.)
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + &pod_on_8080("shop") + SERVICE;
    expect(
        &[],
        &input,
        &[(
            "seccompProfile: {type: RuntimeDefault}}\n      containers",
            &format!("seccompProfile: {{type: RuntimeDefault}}{SYSCTL}\n      containers"),
        )],
    );
}

#[test]
fn a_pod_without_a_privileged_port_in_another_namespace_does_not_hold_a_move_back() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + &pod_on_8080("lab") + SERVICE;
    let service = [
        ("    port: 80\n    targetPort: 80\n", "    port: 80\n    targetPort: 8080\n"),
        ("  - name: implicit\n    port: 80\n", "  - name: implicit\n    port: 80\n    targetPort: 8080\n"),
    ];
    expect(&[], &input, &[&ASPNET_POD_MOVED[..], &service].concat());
}

#[test]
fn network_policies_follow_the_pods_they_select() {
    let policies = "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports: [{protocol: TCP, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: client}}
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 80}]
  - to: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: 10.0.0.0/8}}]
    ports: [{protocol: TCP, port: 80}]
  - to: [{podSelector: {matchLabels: {app: other}}}]
    ports: [{protocol: TCP, port: 80}]
";
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + policies;
    let policy_edits = [
        ("  ingress:\n  - ports: [{protocol: TCP, port: 80}]", "  ingress:\n  - ports: [{protocol: TCP, port: 8080}]"),
        (
            "  - to: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{protocol: TCP, port: 80}]",
            "  - to: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{protocol: TCP, port: 8080}]",
        ),
        (
            "{ipBlock: {cidr: 10.0.0.0/8}}]\n    ports: [{protocol: TCP, port: 80}]",
            "{ipBlock: {cidr: 10.0.0.0/8}}]\n    ports: [{protocol: TCP, port: 80}, {protocol: TCP, port: 8080}]",
        ),
    ];
    expect(&[], &input, &[&ASPNET_POD_MOVED[..], &policy_edits].concat());
}

#[test]
fn a_taken_new_port_moves_to_the_next_free_one_everywhere() {
    let metrics = "        - name: metrics\n          containerPort: 8080\n";
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "")
        .replace("        ports:\n", &format!("        ports:\n{metrics}"))
        + SERVICE;
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8081\""),
            (
                "containerPort: 80\n",
                "containerPort: 8081\n        env:\n        - name: ASPNETCORE_URLS\n          value: http://+:8081\n",
            ),
            ("    port: 80\n    targetPort: 80\n", "    port: 80\n    targetPort: 8081\n"),
            ("  - name: implicit\n    port: 80\n", "  - name: implicit\n    port: 80\n    targetPort: 8081\n"),
        ],
    );
}

#[test]
fn host_ports_are_blockers_and_keep_everything() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "")
        .replace("containerPort: 80\n", "containerPort: 80\n          hostPort: 80\n")
        + SERVICE;
    let (stdout, stderr, code) = harden(&[], &input);
    assert_eq!((code, stdout.as_str()), (0, input.as_str()));
    assert!(stderr.contains("violates PSS hostPorts; left unchanged"), "{stderr}");
}

#[test]
fn services_in_other_namespaces_are_not_touched() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "")
        + &SERVICE.replace("namespace: shop", "namespace: other");
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            (
                "containerPort: 80\n",
                "containerPort: 8080\n        env:\n        - name: ASPNETCORE_URLS\n          value: http://+:8080\n",
            ),
        ],
    );
}

#[test]
fn pod_monitors_scrape_the_moved_port() {
    let monitor = "---\napiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  podMetricsEndpoints: [{targetPort: 80}, {port: http}]\n";
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + monitor;
    expect(
        &[],
        &input,
        &[
            ("prometheus.io/port: \"80\"", "prometheus.io/port: \"8080\""),
            (
                "containerPort: 80\n",
                "containerPort: 8080\n        env:\n        - name: ASPNETCORE_URLS\n          value: http://+:8080\n",
            ),
            ("[{targetPort: 80}, {port: http}]", "[{targetPort: 8080}, {port: http}]"),
        ],
    );
}

#[test]
fn ingress_backends_and_gateway_routes_keep_addressing_the_service_port() {
    let ingress = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n";
    let route = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: shop}\nspec:\n  parentRefs: [{name: gateway}]\n  rules:\n  - backendRefs: [{name: web, port: 80}]\n";
    for addresses_the_service in [ingress, route] {
        let input =
            deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + SERVICE + addresses_the_service;
        let (stdout, _, _) = harden(&[], &input);
        assert!(stdout.ends_with(addresses_the_service), "it must be byte-identical:\n{stdout}");
        assert!(stdout.contains("    port: 80\n    targetPort: 8080\n"), "{stdout}");
    }
}

/// Cilium policies: one selecting the web pods (ingress, and a deny rule),
/// one in another namespace whose egress rules go to them (named by
/// `k8s:` keys and the pod-namespace label), to pods of its own namespace,
/// to them and a CIDR, and to the host.
const CILIUM_POLICIES: &str = r#"---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  ingressDeny:
  - fromEntities: [world]
    toPorts: [{ports: [{port: "80"}]}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-out, namespace: other}
specs:
- endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {"k8s:app": web, "k8s:io.kubernetes.pod.namespace": shop}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {app: web}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {"io.kubernetes.pod.namespace": shop}}]
    toCIDR: [10.0.0.0/8]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - toEndpoints: [{matchLabels: {"reserved:host": ""}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
"#;

#[test]
fn cilium_policies_follow_the_pods_they_select() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + CILIUM_POLICIES;
    let to = |endpoints: &str, ports: &str| {
        format!("  - toEndpoints: [{{matchLabels: {endpoints}}}]\n    toPorts: [{{ports: [{ports}]}}]")
    };
    let shop_web = r#"{"k8s:app": web, "k8s:io.kubernetes.pod.namespace": shop}"#;
    let policy_edits = [
        (
            "    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n  ingressDeny",
            "    toPorts: [{ports: [{port: \"8080\", protocol: TCP}]}]\n  ingressDeny",
        ),
        ("[{ports: [{port: \"80\"}]}]", "[{ports: [{port: \"8080\"}]}]"),
        (&*to(shop_web, r#"{port: "80", protocol: TCP}"#), &*to(shop_web, r#"{port: "8080", protocol: TCP}"#)),
        (
            "toCIDR: [10.0.0.0/8]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]",
            "toCIDR: [10.0.0.0/8]\n    toPorts: [{ports: [{port: \"80\", protocol: TCP}, {port: \"8080\", protocol: TCP}]}]",
        ),
    ];
    expect(&[], &input, &[&ASPNET_POD_MOVED[..], &policy_edits].concat());
}

#[test]
fn cilium_policies_of_pods_that_keep_their_port_stay() {
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + CILIUM_POLICIES;
    let (stdout, _, _) = harden(&["--ports", "sysctl"], &input);
    assert!(stdout.ends_with(CILIUM_POLICIES), "{stdout}");
    assert!(stdout.contains("net.ipv4.ip_unprivileged_port_start"), "{stdout}");
}

/// The documents as the items of one `List` (each indented under `- `).
fn list_of(docs: &[&str]) -> String {
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for doc in docs {
        for (i, line) in doc.trim_start_matches("---\n").lines().enumerate() {
            out += if i == 0 { "- " } else { "  " };
            out += line;
            out += "\n";
        }
    }
    out
}

#[test]
fn a_service_in_a_list_has_its_target_port_moved_where_the_list_holds_it() {
    let pod = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", PROBES);
    let (alone, _, code) = harden(&[], &format!("{pod}{SERVICE}"));
    assert_eq!(code, 0);
    let (hardened_pod, hardened_service) = alone.split_once("---\n").expect("two documents");
    assert!(hardened_service.contains("targetPort: 8080"), "the Service moves on its own: {hardened_service}");
    // The same decisions, filed for resources 0 and 1 of one document.
    let (listed, stderr, code) = harden(&[], &list_of(&[&pod, SERVICE]));
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(listed, list_of(&[hardened_pod, hardened_service]));
}

// Issue 14 item 7: the port rule is a rule like every other.

/// The aspnet Deployment (which would move to 8080) with `annotations`.
fn annotated_deployment(annotations: &str) -> String {
    deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "").replacen(
        "metadata: {name: web, namespace: shop}",
        &format!("metadata: {{name: web, namespace: shop, annotations: {{{annotations}}}}}"),
        1,
    )
}

#[test]
fn item7_the_skip_rules_annotation_names_the_port_rule() {
    let input = annotated_deployment("harden.dev/skip-rules: unprivileged-port") + SERVICE;
    // No move, no sysctl, the Service's target stays.
    let (stdout, stderr, code) = harden(&[], &input);
    assert_eq!((code, stdout.as_str()), (0, input.as_str()), "{stderr}");
    let (report, _, _) = harden(&["-o", "report"], &input);
    let kept = "port 80 kept: rule unprivileged-port skipped by annotation harden.dev/skip-rules";
    assert!(report.contains(kept), "{report}");
    // Another rule's id leaves the port rule alone.
    let input = annotated_deployment("harden.dev/skip-rules: seccomp") + SERVICE;
    let (stdout, _, _) = harden(&[], &input);
    assert!(stdout.contains("containerPort: 8080"), "{stdout}");
}

#[test]
fn item7_a_config_exception_names_the_port_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("harden.yaml");
    let exception = "kind: HardenConfig\nexceptions:\n- {kind: Deployment, name: web, rules: [unprivileged-port]}\n";
    std::fs::write(&config, exception).expect("config written");
    let input = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + SERVICE;
    let config = config.to_str().expect("UTF-8 path");
    let (stdout, stderr, code) = harden(&["--config", config], &input);
    assert_eq!((code, stdout.as_str()), (0, input.as_str()), "{stderr}");
    let (report, _, _) = harden(&["--config", config, "-o", "report"], &input);
    assert!(report.contains("port 80 kept: rule unprivileged-port skipped by an exception in the config file"));
}

#[test]
fn item7_help_and_sarif_list_the_port_rule_with_the_others() {
    let (help, _, _) = harden(&["--help"], "");
    let rules = help.split_once("\nRules:\n").map(|(_, rules)| rules).unwrap_or_default();
    for id in ["run-as-non-root", "seccomp", "unprivileged-port"] {
        assert!(rules.contains(id), "--help lists no rule {id}:\n{help}");
    }
    // A stream without a privileged port: the rule is in SARIF's table still.
    let input = deployment("web", "example.com/web:1", "").replace("containerPort: 80", "containerPort: 8080");
    let (sarif, _, _) = harden(&["-o", "report", "--format", "sarif"], &input);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    let ids: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("a rule table")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&"unprivileged-port") && ids.contains(&"seccomp"), "{ids:?}");
}

// Issue 14 item 8: moves that reach outside the stream.

#[test]
fn item8_a_move_nothing_in_the_stream_points_at_is_said_once_per_workload() {
    let both = deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "").replace(
        "          containerPort: 80\n",
        "          containerPort: 80\n        - name: https\n          containerPort: 443\n",
    );
    let stderr = support::stderr_of(&[], &both);
    let line = "warning: Deployment/shop/web: ports 80, 443 moved to 8080, 8443 and nothing in this stream points at them: \
                Services, Ingress controllers' config or monitoring outside it may still use 80, 443; --ports sysctl keeps \
                the ports instead";
    assert_eq!(stderr.matches("nothing in this stream points at").count(), 1, "{stderr}");
    assert!(stderr.contains(line), "{stderr}");
    // A Service, a NetworkPolicy or a monitor in the stream: nothing to say.
    let policy = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress: [{ports: [{port: 80}]}]\n";
    for pointing in [SERVICE, policy] {
        let stderr = support::stderr_of(&[], &(both.clone() + pointing));
        assert!(!stderr.contains("nothing in this stream points at"), "{stderr}");
    }
    assert!(
        !support::stderr_of(&["--ports", "sysctl"], &both).contains("nothing in this stream"),
        "no move, nothing to say"
    );
    assert_eq!(support::stderr_of(&["-q"], &both), "", "-q silences it");
}

// Issue 14 item 9: what a reviewer must see of the port rule is on stderr.

#[test]
fn item9_the_sysctl_for_an_app_harden_cannot_tell_is_a_warning() {
    let stderr = support::stderr_of(&[], &(nginx_deployment("") + SERVICE));
    let line = "warning: Deployment/shop/web: container \"app\": port 80 not moved: row nginx-before-1.27.5 says the \
                image reads port 80 from `listen` in /etc/nginx/conf.d/default.conf, which is not in this stream; the pod sysctl \
                net.ipv4.ip_unprivileged_port_start=0 lets it bind 80 as non-root";
    assert!(stderr.contains(line), "{stderr}");
    let unknown = deployment("web", "example.com/web:1", "") + SERVICE;
    let line = "warning: Deployment/shop/web: container \"app\": port 80 not moved: harden knows no variable or flag \
                that tells its app another port; the pod sysctl net.ipv4.ip_unprivileged_port_start=0 lets it bind 80 \
                as non-root";
    let stderr = support::stderr_of(&[], &unknown);
    assert!(stderr.contains(line), "{stderr}");
    // Asked for: the user's choice, nothing to warn of.
    let asked = support::stderr_of(&["--ports", "sysctl"], &(nginx_deployment("") + SERVICE));
    assert!(!asked.contains("not moved"), "{asked}");
}

#[test]
fn item9_the_sysctl_for_a_headless_or_shared_service_is_a_warning() {
    let headless = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web-headless, namespace: shop}\nspec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}\n";
    let stderr =
        support::stderr_of(&[], &(deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + headless));
    let why = "port 80 not moved: the headless Service web-headless sends clients to pod IPs and ports directly";
    assert!(stderr.contains(&format!("warning: Deployment/shop/web: container \"app\": {why}")), "{stderr}");
    let other = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: canary, namespace: shop, labels: {app: web}}\nspec:\n  containers: [{name: app, image: example.com/web:1, ports: [{containerPort: 8080}]}]\n";
    let stderr = support::stderr_of(
        &[],
        &(deployment("web", "mcr.microsoft.com/dotnet/samples:aspnetapp", "") + other + SERVICE),
    );
    assert!(stderr.contains("port 80 not moved: Service web also selects pods that keep port 80;"), "{stderr}");
}

#[test]
fn item9_a_port_still_named_where_harden_cannot_rewrite_it_is_a_warning() {
    let args = "        args: [\"--listen-port=80\", \"--workers=80\"]\n        env: [{name: APP_PORT, value: \"80\"}, {name: RETRIES, value: \"80\"}]\n";
    let stderr = support::stderr_of(&["--ports", "move"], &(deployment("web", "example.com/web:1", args) + SERVICE));
    let line = "warning: Deployment/shop/web: container \"app\": port 80 moved to 8080, but args[0] \"--listen-port=80\", \
                env APP_PORT=\"80\" still name port 80 in a form harden cannot rewrite: change them to 8080, or use \
                --ports sysctl";
    assert!(stderr.contains(line), "{stderr}");
    // An app harden cannot tell, and nothing that names the port: the move is a guess.
    let stderr = support::stderr_of(&["--ports", "move"], &(deployment("web", "example.com/web:1", "") + SERVICE));
    assert!(stderr.contains("port 80 moved to 8080, but harden knows no variable or flag that tells the app so"));
    // Told, by a flag harden rewrites: nothing to say.
    let told = "        args: [\"--port=80\"]\n";
    let stderr = support::stderr_of(&["--ports", "move"], &(deployment("web", "example.com/web:1", told) + SERVICE));
    assert!(!stderr.contains("port 80 moved to 8080, but"), "{stderr}");
}
