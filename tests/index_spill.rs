//! Past a memory budget the port pass moves what it keeps to temporary
//! files: the stream's index (pods, Services and other pods, on
//! `ports::tape`s), the sorts that join them (`ports::sorter`), the kept
//! Services, and the port plan's pod decisions and Service targets
//! (`ports::filed`), which pass 2 reads back a chunk at a time.
//! With a budget of 0 (everything goes to the files at every step) every
//! decision must be the one made in memory: same output, same plans, on a
//! stream built to exercise every cross-document rule, on the corpus and
//! on the generated stream.

mod shared_inputs;

use harden::pipeline::{self, INDEX_BUDGET, Input, Options, harden_stream};
use harden::read::Source;
use std::fmt::Write;
use std::path::Path;

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

/// The streamed output and, from the whole-stream path, every document's
/// output and plan, with the index held to `budget`.
fn run(text: &str, budget: usize) -> (String, String) {
    let restricted = shared_inputs::Restricted::new();
    let opts = Options { index_budget: budget, ..restricted.options() };
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
    let mut seen = String::new();
    for source in &whole {
        seen.push_str(&source.output);
        for doc in &source.docs {
            let _ = writeln!(seen, "{:?}", doc.plan);
        }
    }
    assert_eq!(streamed, whole[0].output, "both paths write the same stream");
    (streamed, seen)
}

fn same_with_files_as_in_memory(name: &str, text: &str) -> String {
    let (output, seen) = run(text, INDEX_BUDGET);
    let (spilled_output, spilled_seen) = run(text, 0);
    assert!(spilled_output == output, "{name}: the output differs when the index spills");
    assert!(spilled_seen == seen, "{name}: the plans differ when the index spills");
    output
}

#[test]
fn a_spilled_index_decides_what_an_index_in_memory_decides() {
    let text = crossing_stream(800);
    assert!(text.len() > 4 * 65536, "the stream spans several chunks, so the index spills several times");
    let out = same_with_files_as_in_memory("crossing stream", &text);
    // The stream did exercise the cross-document rules.
    let moved_targets = out.matches("port: 80, targetPort: 8080").count();
    assert!(moved_targets > 50, "Services follow moved pods ({moved_targets})");
    assert!(out.contains("net.ipv4.ip_unprivileged_port_start"), "headless, untold and canary pods get the sysctl");
    assert!(out.contains("endpoints: [{targetPort: 8080}]"), "the ServiceMonitor follows");
    assert!(out.matches("port: 80, targetPort: 80}").count() > 20, "Services of pods that keep 80 keep it");
}

#[test]
fn a_spilled_index_decides_the_corpus_and_the_generated_stream_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests/fixtures/write", "examples", "../shared/corpus"] {
        shared_inputs::yaml_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut all = String::new();
    let mut compared = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let restricted = shared_inputs::Restricted::new();
        let src = [Source { name: "f".into(), path: None, text: text.clone() }];
        if harden_stream(&src, &restricted.options()).is_err() {
            continue; // malformed on purpose
        }
        same_with_files_as_in_memory(&f.display().to_string(), &text);
        all.push_str("\n---\n");
        all.push_str(&text);
        compared += 1;
    }
    same_with_files_as_in_memory("every file as one stream", &all);
    if let Some(generated) = shared_inputs::generated("1M") {
        same_with_files_as_in_memory("the generated stream", &generated);
    }
    assert!(compared > 10, "{compared} files compared");
}
