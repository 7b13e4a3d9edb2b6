//! Property tests: generated workloads (random containers, ports, existing
//! securityContext values, comments, block/flow style, indentation) go
//! through the whole pipeline, and the promises hold for every one of them:
//! the output parses, a second run changes nothing, documents and their
//! identities are kept, values that were already strict stay byte-identical,
//! and documents that are not workloads are untouched.

mod shared_inputs;

use harden::pipeline::harden_stream;
use harden::pss::Version;
use harden::read::Source;
use harden::workload::ResourceId;
use harden::yaml::parse_values;
use proptest::prelude::*;
use serde_json::Value;

/// One container as the generator sees it.
#[derive(Clone, Debug)]
struct Ctr {
    name: String,
    image: &'static str,
    ports: Vec<u16>,
    /// Pre-existing securityContext fields, already written as YAML scalars.
    sc: Vec<(&'static str, &'static str)>,
    comment: bool,
    limits: Option<&'static str>,
}

#[derive(Clone, Debug)]
struct Doc {
    kind: &'static str,
    indent: usize,
    indented_seqs: bool,
    flow_sc: bool,
    pod_sc: Vec<(&'static str, &'static str)>,
    containers: Vec<Ctr>,
    with_service: bool,
    with_configmap: bool,
    crlf: bool,
}

fn container() -> impl Strategy<Value = Ctr> {
    (
        "[a-z]{1,8}",
        prop::sample::select(vec![
            "nginx:1.27",
            "mcr.microsoft.com/dotnet/aspnet:8.0",
            "gcr.io/distroless/static:nonroot",
            "registry.example.com/app:1",
        ]),
        prop::collection::vec(prop::sample::select(vec![80u16, 443, 8080, 9090]), 0..3),
        prop::collection::vec(
            prop::sample::select(vec![
                ("allowPrivilegeEscalation", "false"),
                ("allowPrivilegeEscalation", "true"),
                ("readOnlyRootFilesystem", "false"),
                ("readOnlyRootFilesystem", "true"),
                ("runAsUser", "0"),
                ("runAsUser", "4242"),
                ("runAsNonRoot", "false"),
            ]),
            0..3,
        ),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["64Mi", "1Gi"])),
    )
        .prop_map(|(name, image, mut ports, mut sc, comment, limits)| {
            ports.sort();
            ports.dedup();
            sc.sort_by_key(|(k, _)| *k);
            sc.dedup_by_key(|(k, _)| *k);
            Ctr { name, image, ports, sc, comment, limits }
        })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop::sample::select(vec!["Deployment", "StatefulSet", "DaemonSet", "Pod"]),
        prop::sample::select(vec![2usize, 4]),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(
            prop::sample::select(vec![
                ("runAsNonRoot", "true"),
                ("runAsUser", "1000"),
                ("runAsUser", "0"),
                ("fsGroup", "2000"),
                ("seccompProfile", "{type: Localhost, localhostProfile: p.json}"),
                ("seccompProfile", "{type: Unconfined}"),
            ]),
            0..3,
        ),
        prop::collection::vec(container(), 1..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(kind, indent, indented_seqs, flow_sc, mut pod_sc, mut containers, with_service, with_configmap, crlf)| {
                pod_sc.sort_by_key(|(k, _)| *k);
                pod_sc.dedup_by_key(|(k, _)| *k);
                for (i, c) in containers.iter_mut().enumerate() {
                    c.name = format!("{}{i}", c.name);
                }
                Doc { kind, indent, indented_seqs, flow_sc, pod_sc, containers, with_service, with_configmap, crlf }
            },
        )
}

/// Render a generated document as YAML text in its chosen style.
fn render(d: &Doc) -> String {
    let i = " ".repeat(d.indent);
    let seq = if d.indented_seqs { i.clone() } else { String::new() };
    let mut out = String::from("# generated\n");
    let api = if d.kind == "Pod" { "v1" } else { "apps/v1" };
    out += &format!("apiVersion: {api}\nkind: {}\nmetadata:\n{i}name: gen\n{i}namespace: ns\n", d.kind);
    let (spec_indent, pad) = if d.kind == "Pod" {
        out += "spec:\n";
        (d.indent, i.clone())
    } else {
        out += &format!(
            "spec:\n{i}selector:\n{i}{i}matchLabels: {{app: gen}}\n{i}template:\n{i}{i}metadata:\n{i}{i}{i}labels: {{app: gen}}\n{i}{i}spec:\n"
        );
        (d.indent * 3, i.repeat(3))
    };
    let _ = spec_indent;
    if !d.pod_sc.is_empty() {
        out += &format!("{pad}securityContext:\n");
        for (k, v) in &d.pod_sc {
            out += &format!("{pad}{i}{k}: {v}\n");
        }
    }
    out += &format!("{pad}containers:\n");
    for c in &d.containers {
        let item = format!("{pad}{seq}- ");
        let body = format!("{pad}{seq}  ");
        out += &format!(
            "{item}name: {}\n{body}image: \"{}\"{}\n",
            c.name,
            c.image,
            if c.comment { "   # pinned" } else { "" }
        );
        if !c.ports.is_empty() {
            out += &format!("{body}ports:\n");
            for p in &c.ports {
                out += &format!("{body}{seq}- containerPort: {p}\n");
            }
        }
        if !c.sc.is_empty() {
            if d.flow_sc {
                let fields: Vec<String> = c.sc.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                out += &format!("{body}securityContext: {{{}}}\n", fields.join(", "));
            } else {
                out += &format!("{body}securityContext:\n");
                for (k, v) in &c.sc {
                    out += &format!("{body}{i}{k}: {v}\n");
                }
            }
        }
        if let Some(l) = c.limits {
            out += &format!("{body}resources:\n{body}{i}limits:\n{body}{i}{i}memory: {l}\n");
        }
    }
    if d.with_service {
        out += "---\napiVersion: v1\nkind: Service\nmetadata: {name: gen, namespace: ns}\nspec:\n  selector: {app: gen}\n  ports:\n  - port: 80\n";
    }
    if d.with_configmap {
        out += "---\n# untouched\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n  on: 'yes'\n  mode: 0644\n";
    }
    if d.crlf { out.replace('\n', "\r\n") } else { out }
}

fn run(text: &str) -> (String, Vec<harden::pipeline::DocOutcome>) {
    let restricted = shared_inputs::Restricted::new();
    let opts = restricted.options();
    let src = Source { name: "gen.yaml".into(), path: None, text: text.to_string() };
    let mut out = harden_stream(std::slice::from_ref(&src), &opts).expect("generated input hardens");
    let o = out.remove(0);
    (o.output, o.docs)
}

/// The text of a dotted path's scalar in the input, e.g. `seccompProfile: {type: Localhost, ...}`.
fn values(text: &str) -> Vec<Value> {
    parse_values(text).expect("parses")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn hardening_keeps_every_promise(d in doc()) {
        let input = render(&d);
        let (output, docs) = run(&input);

        // The output parses, and keeps every document with its identity, in order.
        let before = values(&input);
        let after = values(&output);
        prop_assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            prop_assert_eq!(ResourceId::of(b), ResourceId::of(a));
        }

        // Idempotent: a second run is byte-identical.
        let (again, _) = run(&output);
        prop_assert_eq!(&again, &output);

        // Comments survive.
        prop_assert_eq!(output.matches("# generated").count(), 1);
        prop_assert_eq!(output.matches("# pinned").count(), input.matches("# pinned").count());

        // Documents that are neither workloads nor point at pod ports
        // (Services follow moved ports) are byte-identical.
        for doc in &docs {
            if doc.plan.resources.iter().all(|r| r.pods == 0 && r.id.kind != "Service") {
                prop_assert!(doc.edits.is_empty());
            }
        }
        if d.with_configmap {
            prop_assert!(output.contains("data:\r\n  on: 'yes'\r\n  mode: 0644") || output.contains("data:\n  on: 'yes'\n  mode: 0644"));
        }

        // Values that were already strict are unchanged.
        let spec_ptr = if d.kind == "Pod" { "/spec" } else { "/spec/template/spec" };
        let (b, a) = (&before[0], &after[0]);
        for (k, v) in &d.pod_sc {
            let ptr = format!("{spec_ptr}/securityContext/{k}");
            let strict = matches!((*k, *v), ("runAsNonRoot", "true") | ("runAsUser", "1000") | ("fsGroup", "2000")) || v.contains("Localhost");
            if strict {
                prop_assert_eq!(b.pointer(&ptr), a.pointer(&ptr), "{} changed", ptr);
            }
        }
        for (ci, c) in d.containers.iter().enumerate() {
            for (k, v) in &c.sc {
                let ptr = format!("{spec_ptr}/containers/{ci}/securityContext/{k}");
                let strict = matches!((*k, *v), ("allowPrivilegeEscalation", "false") | ("readOnlyRootFilesystem", _) | ("runAsUser", "4242"));
                if strict {
                    prop_assert_eq!(b.pointer(&ptr), a.pointer(&ptr), "{} changed", ptr);
                }
            }
            if c.limits.is_some() {
                let ptr = format!("{spec_ptr}/containers/{ci}/resources/limits/memory");
                prop_assert_eq!(b.pointer(&ptr), a.pointer(&ptr));
            }
        }

        // Without blockers, the workload passes restricted.
        let res = &docs[0].plan.resources[0];
        if res.blockers.is_empty() && res.skipped.is_none() {
            let spec = a.pointer(spec_ptr).expect("spec");
            let meta_ptr = spec_ptr.strip_suffix("/spec").map(|p| format!("{p}/metadata")).unwrap_or_default();
            let found = harden::pss::check_pod(a.pointer(&meta_ptr), spec, harden::pss::Level::Restricted, Version::LATEST);
            prop_assert!(found.is_empty(), "{}\n{}", harden::pss::summarize(&found), output);
        }
    }
}
