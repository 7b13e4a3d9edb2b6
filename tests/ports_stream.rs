//! A long stream whose port decisions cross documents and chunks: pods
//! before and after their Services, headless Services, apps that cannot
//! be told, canaries that share a Service, a ServiceMonitor. The streaming
//! path (plain YAML, a chunk at a time) and the whole-stream path (diffs,
//! patches, reports) must decide and write the same.

mod shared_inputs;

use harden::pipeline::{self, Input, harden_stream};
use harden::read::Source;

/// `apps` workloads on port 80 with a Service each, in three namespaces:
/// half the Services come before their pods and half after; every fifth is
/// headless, every fourth app cannot be told its port, every seventh has a
/// canary pod (no privileged port) behind the same Service, and a
/// ServiceMonitor scrapes one team's Services.
fn crossing_stream(apps: usize) -> String {
    let deployment = |i: usize| {
        let image = if i % 4 == 3 { "example.com/web:1" } else { "mcr.microsoft.com/dotnet/aspnet:8.0" };
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{}}}\nspec:\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}, tier: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        ports: [{{name: http, containerPort: 80}}]\n        readinessProbe: {{httpGet: {{path: /ready, port: 80}}}}\n",
            i % 3
        )
    };
    let service = |i: usize| {
        let headless = if i % 5 == 0 { "  clusterIP: None\n" } else { "" };
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: ns-{}, labels: {{team: t{}}}}}\nspec:\n{headless}  selector: {{app: app-{i}}}\n  ports:\n  - {{name: http, port: 80, targetPort: 80}}\n  - {{name: named, port: 81, targetPort: http}}\n",
            i % 3,
            i % 2
        )
    };
    let canary = |i: usize| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: app-{i}-canary, namespace: ns-{}, labels: {{app: app-{i}, track: canary}}}}\nspec:\n  containers:\n  - name: web\n    image: example.com/web:canary\n    ports: [{{containerPort: 8080}}]\n",
            i % 3
        )
    };
    let mut out = String::new();
    for i in 0..apps {
        if i < apps / 2 {
            out += &service(i);
            out += &deployment(i);
        } else {
            out += &deployment(i);
            out += &service(i);
        }
    }
    out += (0..apps).filter(|i| i % 7 == 0).map(canary).collect::<String>().as_str();
    out += "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: team-0, namespace: ns-0}\nspec:\n  namespaceSelector: {any: true}\n  selector: {matchLabels: {team: t0}}\n  endpoints: [{targetPort: 80}]\n";
    out
}

/// The streamed output, which must be the whole-stream path's.
fn run(text: &str) -> String {
    let restricted = shared_inputs::Restricted::new();
    let opts = restricted.options();
    let mut streamed = String::new();
    let inputs = [Input::Text(Source { name: "stream".into(), path: None, text: text.to_string() })];
    pipeline::stream::<pipeline::Error>(&inputs, &opts, &[], |s| {
        if let pipeline::Streamed::Chunk(_, chunk) = s {
            streamed.push_str(&chunk.output);
        }
        Ok(())
    })
    .expect("the stream hardens");
    let sources = [Source { name: "stream".into(), path: None, text: text.to_string() }];
    let whole = harden_stream(&sources, &opts).expect("the stream hardens");
    assert!(streamed == whole[0].output, "both paths write the same stream");
    streamed
}

#[test]
fn a_long_stream_is_decided_alike_streamed_and_whole() {
    let text = crossing_stream(800);
    assert!(text.len() > 4 * 65536, "the stream spans several chunks");
    let out = run(&text);
    // The stream did exercise the cross-document rules.
    let moved_targets = out.matches("port: 80, targetPort: 8080").count();
    assert!(moved_targets > 50, "Services follow moved pods ({moved_targets})");
    assert!(out.contains("net.ipv4.ip_unprivileged_port_start"), "headless, untold and canary pods get the sysctl");
    assert!(out.contains("endpoints: [{targetPort: 8080}]"), "the ServiceMonitor follows");
    assert!(out.matches("port: 80, targetPort: 80}").count() > 20, "Services of pods that keep 80 keep it");
}
