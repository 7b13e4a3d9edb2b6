//! Issue 14, item 1: resources never change what a pod is given. A
//! resource with a limit and no request gets no request (the API server
//! sets it to the limit), no added limit is below a request, and the pod's
//! QoS class (`harden::plan::qos`, as the kubelet computes it) is the same
//! after hardening, except BestEffort → Burstable where harden adds
//! requests to a pod that had none: over generated resource combinations
//! (init containers included, with and without the profile's resources)
//! and over every workload of the corpus.

mod shared_inputs;
mod support;

use harden::pipeline::{DocOutcome, harden_source};
use harden::plan::qos::{QosClass, allowed, pod_qos};
use harden::profile::Profile;
use harden::read::Source;
use harden::workload::{built_in_kinds, pod_sites};
use harden::yaml::parse_values;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

/// The first document of `harden ARGS` on `input`, hardened.
fn hardened(args: &[&str], input: &str) -> Value {
    let ran = support::harden(args, input.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    parse_values(&ran.stdout).expect("the output parses").remove(0)
}

/// The regression of the item: a container with limits and no requests was
/// given requests of 100m/128Mi, so a pod that had 4 CPUs reserved
/// (requests default to limits) and was Guaranteed became Burstable with
/// 0.1 CPU reserved.
#[test]
fn issue14_1_limits_cpu_4_memory_8gi_and_no_requests_get_no_requests() {
    let input = "\
apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    resources:
      limits: {cpu: \"4\", memory: 8Gi}
";
    let ran = support::harden(&["-q"], input.as_bytes());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let after = &parse_values(&ran.stdout).expect("the output parses")[0];
    assert_eq!(after.pointer("/spec/containers/0/resources"), Some(&json!({"limits": {"cpu": "4", "memory": "8Gi"}})));
    assert!(ran.stdout.contains("      limits: {cpu: \"4\", memory: 8Gi}\n"), "{}", ran.stdout);
    assert_eq!(pod_qos(&after["spec"]), QosClass::Guaranteed);
    // The report says why, as a note.
    let report = support::harden(&["-o", "report", "--format", "json"], input.as_bytes());
    let report: Value = serde_json::from_str(&report.stdout).expect("a JSON report");
    let notes: Vec<&Value> =
        report["findings"].as_array().expect("findings").iter().filter(|f| f["rule"] == "resources").collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["kind"], "note");
    assert_eq!(
        notes[0]["message"],
        "cpu and memory have a limit and no request: the API server sets the request to the limit, so harden adds none."
    );
}

#[test]
fn issue14_1_a_memory_limit_alone_gets_a_cpu_request_and_nothing_for_memory() {
    let input = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    resources:
      limits:
        memory: 1Gi
";
    let after = hardened(&["-q"], input);
    assert_eq!(
        after.pointer("/spec/containers/0/resources"),
        Some(&json!({"limits": {"memory": "1Gi"}, "requests": {"cpu": "100m"}}))
    );
}

/// A profile file: restricted with `resources` merged over its own.
fn profile_file(dir: &Path, name: &str, resources: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("extends: restricted\nresources:\n{resources}")).expect("write");
    path.display().to_string()
}

#[test]
fn issue14_1_an_added_limit_is_never_below_a_request_for_cpu_or_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = profile_file(dir.path(), "p.yaml", "  limits: {cpu: 500m, memory: 512Mi}\n");
    let input = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: cpu
    image: example.com/app:1.0
    resources:
      requests: {cpu: \"2\"}
  - name: memory
    image: example.com/app:1.0
    resources:
      requests: {memory: 1Gi}
";
    let after = hardened(&["-q", "--profile", &profile], input);
    let resources = |i: usize| after.pointer(&format!("/spec/containers/{i}/resources")).cloned();
    assert_eq!(
        resources(0),
        Some(json!({"requests": {"cpu": "2", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}}))
    );
    assert_eq!(
        resources(1),
        Some(json!({"requests": {"memory": "1Gi", "cpu": "100m"}, "limits": {"cpu": "500m", "memory": "1Gi"}}))
    );
    assert_eq!(pod_qos(&after["spec"]), QosClass::Burstable);
}

#[test]
fn issue14_1_limits_that_would_make_a_container_guaranteed_are_not_added() {
    let dir = tempfile::tempdir().expect("temp dir");
    let equal = "  requests: {cpu: 500m, memory: 256Mi}\n  limits: {cpu: 500m, memory: 256Mi}\n";
    let profile = profile_file(dir.path(), "equal.yaml", equal);
    let input = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: example.com/app:1.0
";
    let after = hardened(&["-q", "--profile", &profile], input);
    assert_eq!(
        after.pointer("/spec/containers/0/resources"),
        Some(&json!({"requests": {"cpu": "500m", "memory": "256Mi"}}))
    );
    assert_eq!(pod_qos(&after["spec"]), QosClass::Burstable, "BestEffort → Burstable, not Guaranteed");
}

#[test]
fn issue14_1_pod_level_resources_are_left_to_their_owner() {
    let input = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  resources:
    limits: {cpu: \"1\", memory: 1Gi}
  containers:
  - name: app
    image: example.com/app:1.0
";
    let after = hardened(&["-q"], input);
    assert_eq!(after.pointer("/spec/containers/0/resources"), None);
}

// ---------------------------------------------------------------------------
// Generated combinations

/// One container's cpu and memory: (request, limit) each, as YAML scalars.
#[derive(Clone, Debug)]
struct Ctr {
    cpu: (Option<&'static str>, Option<&'static str>),
    memory: (Option<&'static str>, Option<&'static str>),
    /// `resources:` with only ephemeral-storage, which does not count.
    storage: bool,
}

#[derive(Clone, Debug)]
struct Spec {
    init: Vec<Ctr>,
    containers: Vec<Ctr>,
    ephemeral: bool,
    pod_level: bool,
}

fn amount(values: Vec<&'static str>) -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(values))
}

fn ctr() -> impl Strategy<Value = Ctr> {
    let cpu = vec!["\"0\"", "100m", "500m", "\"1\"", "\"4\"", "1000m"];
    let memory = vec!["\"0\"", "64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "1024Mi", "8Gi"];
    (amount(cpu.clone()), amount(cpu), amount(memory.clone()), amount(memory), any::<bool>())
        .prop_map(|(cr, cl, mr, ml, storage)| Ctr { cpu: (cr, cl), memory: (mr, ml), storage })
}

fn spec() -> impl Strategy<Value = Spec> {
    (prop::collection::vec(ctr(), 0..3), prop::collection::vec(ctr(), 1..4), any::<bool>(), prop::bool::weighted(0.1))
        .prop_map(|(init, containers, ephemeral, pod_level)| Spec { init, containers, ephemeral, pod_level })
}

fn render(s: &Spec) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: gen\nspec:\n");
    if s.pod_level {
        out += "  resources:\n    limits: {cpu: \"2\", memory: 2Gi}\n";
    }
    for (list, items) in [("initContainers", &s.init), ("containers", &s.containers)] {
        if items.is_empty() {
            continue;
        }
        out += &format!("  {list}:\n");
        for (i, c) in items.iter().enumerate() {
            out += &format!("  - name: {list}{i}\n    image: example.com/app:1.0\n");
            let mut sections = String::new();
            for (section, pick) in [("requests", 0), ("limits", 1)] {
                let mut fields = Vec::new();
                for (name, pair) in [("cpu", c.cpu), ("memory", c.memory)] {
                    if let Some(v) = if pick == 0 { pair.0 } else { pair.1 } {
                        fields.push(format!("{name}: {v}"));
                    }
                }
                if c.storage && section == "requests" {
                    fields.push("ephemeral-storage: 1Gi".into());
                }
                if !fields.is_empty() {
                    sections += &format!("      {section}: {{{}}}\n", fields.join(", "));
                }
            }
            if !sections.is_empty() {
                out += &format!("    resources:\n{sections}");
            }
        }
    }
    if s.ephemeral {
        out += "  ephemeralContainers:\n  - name: debug\n    image: example.com/debug:1.0\n";
    }
    out
}

/// The profiles the property runs with: restricted as shipped, without
/// resources, with limits equal to its requests, and with a cpu limit.
fn profiles() -> Vec<Profile> {
    let variants = [
        None,
        Some("resources: null\n"),
        Some("resources:\n  requests: {cpu: 500m, memory: 256Mi}\n  limits: {cpu: 500m, memory: 256Mi}\n"),
        Some("resources:\n  limits: {cpu: 200m}\n"),
    ];
    variants
        .iter()
        .map(|v| match v {
            None => Profile::load("restricted").expect("restricted"),
            Some(text) => {
                Profile::from_text(&format!("extends: restricted\n{text}"), "generated").expect("the profile loads")
            }
        })
        .collect()
}

fn harden_with(profile: Profile, text: &str) -> Vec<DocOutcome> {
    // The command line's defaults, with `profile` for restricted.
    let settings = shared_inputs::Restricted { profile, kinds: built_in_kinds() };
    let src = Source { name: "gen.yaml".into(), path: None, text: text.to_string() };
    harden_source(&src, &settings.options()).expect("generated input hardens").docs
}

/// Every container's `resources` that matter, by list and index.
fn containers(spec: &Value) -> Vec<(String, Option<&Value>)> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|list| {
            spec.get(*list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(i, c)| (format!("{list}/{i}"), c.get("resources")))
        })
        .collect()
}

fn quantity(v: Option<&Value>) -> Option<f64> {
    v.and_then(harden::quantity::of_value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn issue14_1_hardening_keeps_the_qos_class_over_generated_resources(s in spec()) {
        let input = render(&s);
        for profile in profiles() {
            let resources = profile.resources.clone();
            let docs = harden_with(profile, &input);
            let (before, after) = (&docs[0].before["spec"], &docs[0].after["spec"]);
            let (was, is) = (pod_qos(before), pod_qos(after));
            prop_assert!(allowed(was, is), "{was} → {is} with profile resources {resources:?}:\n{input}\n{after:#}");
            for ((at, b), (_, a)) in containers(before).into_iter().zip(containers(after)) {
                for name in ["cpu", "memory"] {
                    let get = |r: Option<&Value>, section: &str| r.and_then(|r| r.get(section)).and_then(|s| s.get(name)).cloned();
                    let (req_b, lim_b) = (get(b, "requests"), get(b, "limits"));
                    let (req_a, lim_a) = (get(a, "requests"), get(a, "limits"));
                    // The owner's values stay; a limit alone gets no request.
                    prop_assert!(req_b.is_none() || req_a == req_b, "{at} {name}: request changed");
                    prop_assert!(lim_b.is_none() || lim_a == lim_b, "{at} {name}: limit changed");
                    if lim_b.is_some() && req_b.is_none() {
                        prop_assert_eq!(&req_a, &None, "{} {}: a request added below a limit", at, name);
                    }
                    // What harden adds never crosses: no request above a limit.
                    if (req_a != req_b || lim_a != lim_b) && lim_a.is_some() {
                        let (r, l) = (quantity(req_a.as_ref().or(lim_a.as_ref())), quantity(lim_a.as_ref()));
                        prop_assert!(r <= l, "{at} {name}: request {req_a:?} above limit {lim_a:?}");
                    }
                }
            }
            if s.pod_level {
                prop_assert_eq!(containers(before), containers(after), "pod-level resources: the containers' are the owner's");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The corpus

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn issue14_1_every_corpus_workload_keeps_its_qos_class() {
    let mut files = Vec::new();
    shared_inputs::yaml_files(&shared_inputs::shared("corpus"), &mut files);
    files.sort();
    let restricted = shared_inputs::Restricted::new();
    let (mut pods, mut changed, mut problems) = (0, 0, Vec::new());
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a corpus file reads");
        let src = Source { name: path.display().to_string(), path: None, text };
        let Ok(outcome) = harden_source(&src, &restricted.options()) else { continue };
        for d in &outcome.docs {
            for r in d.plan.resources.iter().filter(|r| r.pods > 0) {
                for site in pod_sites(&d.before, &r.base, &r.id, &restricted.kinds) {
                    let (Some(b), Some(a)) = (d.before.pointer(&site.spec), d.after.pointer(&site.spec)) else {
                        continue;
                    };
                    pods += 1;
                    changed += usize::from(b != a);
                    let (was, is) = (pod_qos(b), pod_qos(a));
                    if !allowed(was, is) {
                        problems.push(format!("{}: {} {}: {was} → {is}", src.name, r.id, site.spec));
                    }
                }
            }
        }
    }
    eprintln!("{pods} pod specs, {changed} changed by harden");
    assert!(changed > 0, "no pod spec changed");
    assert!(problems.is_empty(), "QoS class changed:\n{}", problems.join("\n"));
}
