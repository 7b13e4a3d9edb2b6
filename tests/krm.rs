//! harden as a KRM function: a ResourceList on stdin, a ResourceList with
//! hardened items and `results` on stdout (`src/krm/`). These tests run the
//! binary on ResourceLists shaped like the ones kpt sends (comments inside
//! items, every annotation kpt writes files back by); tests/integrations.rs
//! runs kpt and kustomize themselves.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_harden");

/// What kpt sends for a package with a commented Deployment, a Service, a
/// local-config Pod and a DaemonSet with host access (its annotations as
/// kpt 1.0 writes them, comments where kyaml keeps them).
const PACKAGE: &str = r#"apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- # The storefront.
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: shop
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/seqindent: 'compact'
      internal.config.kubernetes.io/annotations-migration-resource-id: '0'
      internal.config.kubernetes.io/id: '1'
      config.k8s.io/id: '1'
  spec:
    replicas: 2 # two for availability
    selector:
      matchLabels: {app: web}
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        # the app itself
        - name: web
          image: registry.example.com/shop/web:1.4.2 # pinned by CI
          env:
          - name: FEATURE_FLAGS
            value: "yes" # a string, not a boolean
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
    annotations:
      config.kubernetes.io/index: '1'
      config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/path: 'web.yaml'
      internal.config.kubernetes.io/seqindent: 'compact'
      internal.config.kubernetes.io/annotations-migration-resource-id: '1'
      internal.config.kubernetes.io/id: '2'
      config.k8s.io/id: '2'
  spec:
    selector: {app: web}
    ports:
    - port: 80
      targetPort: 8080
- apiVersion: v1
  kind: Pod
  metadata:
    name: debug
    namespace: shop
    annotations:
      config.kubernetes.io/local-config: "true" # not deployed
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'local/debug.yaml'
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'local/debug.yaml'
      internal.config.kubernetes.io/seqindent: 'compact'
  spec:
    containers:
    - name: shell
      image: registry.example.com/tools/netshoot:1.0
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: node-agent
    namespace: kube-system
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'system/agent.yaml'
  spec:
    selector:
      matchLabels: {app: agent}
    template:
      metadata:
        labels: {app: agent}
      spec:
        hostNetwork: true # needs the node's network
        containers:
        - name: agent
          image: registry.example.com/system/agent:3
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
  data: {}
"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn harden(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the harden binary runs");
    child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes()).expect("stdin takes the input");
    let out = child.wait_with_output().expect("harden finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn parse_one(text: &str) -> Value {
    let mut docs = harden::yaml::parse_values(text).expect("the output parses");
    assert_eq!(docs.len(), 1, "one ResourceList document:\n{text}");
    docs.remove(0)
}

/// `package` with its functionConfig's `data: {}` replaced.
fn with_data(data: &str) -> String {
    PACKAGE.replace("  data: {}\n", &format!("  data:\n{data}"))
}

/// Whether every line of `before` appears in `after`, in order: the output is
/// the input with lines inserted, nothing rewritten or dropped.
fn missing_lines<'a>(before: &'a str, after: &str) -> Vec<&'a str> {
    let mut rest = after.lines();
    before.lines().filter(|line| !rest.by_ref().any(|l| l == *line)).collect()
}

fn results(list: &Value) -> Vec<Value> {
    list.get("results").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn for_kind<'a>(results: &'a [Value], kind: &str) -> Vec<&'a Value> {
    results.iter().filter(|r| r.pointer("/resourceRef/kind").and_then(Value::as_str) == Some(kind)).collect()
}

#[test]
fn a_round_trip_keeps_comments_annotations_order_and_function_config() {
    let run = harden(&[], PACKAGE);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    // Lossless: every input line, comments and kpt's annotations included,
    // is still there, byte for byte and in order.
    let missing = missing_lines(PACKAGE, &run.stdout);
    assert!(missing.is_empty(), "lines rewritten or dropped: {missing:#?}\n{}", run.stdout);
    let count = |text: &str, needle: &str| text.lines().filter(|l| l.contains(needle)).count();
    let list_part = &run.stdout[..run.stdout.find("\nresults:\n").expect("results are appended last")];
    for prefix in ["config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/"] {
        assert_eq!(count(PACKAGE, prefix), count(list_part, prefix), "no {prefix} annotation added or lost");
    }
    let before = parse_one(PACKAGE);
    let after = parse_one(&run.stdout);
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| format!("{}/{}", i["kind"], i["metadata"]["name"]))
            .collect()
    };
    assert_eq!(names(&before), names(&after), "items are never reordered");
    assert_eq!(before["functionConfig"], after["functionConfig"], "the functionConfig is not an item");
    assert_eq!(before["items"][1], after["items"][1], "the Service has nothing to harden");
    assert_eq!(before["items"][2], after["items"][2], "local-config items are left alone");
    assert_eq!(before["items"][3], after["items"][3], "a pod with a blocker keeps its text");
    assert_ne!(before["items"][0], after["items"][0], "the Deployment is hardened");
    let sc = &after["items"][0]["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(sc["runAsNonRoot"], json!(true));
    assert_eq!(sc["seccompProfile"]["type"], json!("RuntimeDefault"));
    assert!(run.stderr.contains("ResourceList: 4 items"), "{}", run.stderr);
}

#[test]
fn results_have_one_entry_per_change_and_per_blocker() {
    let run = harden(&[], PACKAGE);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let after = parse_one(&run.stdout);
    let all = results(&after);
    // Its image is not in harden's table: one note says what was assumed.
    let (notes, changes): (Vec<_>, Vec<_>) =
        for_kind(&all, "Deployment").into_iter().partition(|r| r["tags"]["rule"] == "unknown-image");
    let [note] = notes.as_slice() else { panic!("one unknown-image note: {notes:#?}") };
    assert_eq!(note["severity"], "info", "{note}");
    assert_eq!(note["field"]["path"], "spec.template.spec.containers[0]", "{note}");
    let message = note["message"].as_str().expect("message");
    assert!(message.contains("image registry.example.com/shop/web:1.4.2 is not in harden's table"), "{message}");
    assert!(changes.len() >= 10, "{changes:#?}");
    for r in &changes {
        assert_eq!(r["severity"], "info", "{r}");
        assert_eq!(
            r["resourceRef"],
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"})
        );
        assert_eq!(r["file"], json!({"path": "web.yaml", "index": 0}), "from internal.config.kubernetes.io/*");
        let path = r["field"]["path"].as_str().expect("field.path");
        assert!(path.starts_with("spec.template.spec."), "{path}");
        assert!(!path.contains('/'), "dotted, not a JSON pointer: {path}");
        assert!(r["field"].get("proposedValue").is_some(), "{r}");
        assert!(r["tags"]["rule"].is_string() && r["tags"]["control"].is_string(), "{r}");
        assert!(!r["message"].as_str().expect("message").is_empty());
    }
    let by_path = |p: &str| changes.iter().find(|r| r["field"]["path"] == p).copied();
    let run_as_non_root = by_path("spec.template.spec.securityContext.runAsNonRoot").expect("pod runAsNonRoot");
    assert_eq!(run_as_non_root["field"]["proposedValue"], json!(true));
    assert!(run_as_non_root["field"].get("currentValue").is_none(), "the field was absent");
    let ape = by_path("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation")
        .expect("the spec's bracketed list index");
    assert_eq!(ape["field"]["proposedValue"], json!(false));
    assert!(ape["message"].as_str().expect("message").starts_with("container \"web\": "), "{ape}");
    let volume = by_path("spec.template.spec.volumes[0]").expect("an appended item gets its index");
    assert_eq!(volume["field"]["proposedValue"]["emptyDir"], json!({}));
    // Every proposed value is what the output holds at that path.
    let item = &after["items"][0];
    for r in &changes {
        let path = r["field"]["path"].as_str().expect("path");
        assert_eq!(lookup(item, path).as_ref(), Some(&r["field"]["proposedValue"]), "{path}");
    }

    let blockers = for_kind(&all, "DaemonSet");
    let host = blockers
        .iter()
        .find(|r| r["message"].as_str().is_some_and(|m| m.contains("hostNetwork=true")))
        .expect("the hostNetwork blocker");
    assert_eq!(host["severity"], "warning", "blockers warn unless fail-on-blockers");
    assert_eq!(host["file"], json!({"path": "system/agent.yaml", "index": 0}), "from the legacy annotations");
    assert!(for_kind(&all, "Service").is_empty());
    let pod = for_kind(&all, "Pod");
    assert!(pod.iter().all(|r| r["severity"] == "info" && r.get("field").is_none()), "{pod:#?}");
}

/// The value at a dotted path (`a.b[0].c`, `["x.y"]`).
fn lookup(root: &Value, path: &str) -> Option<Value> {
    let mut cur = root;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let token = &after[..end];
            cur = match token.strip_prefix('"') {
                Some(quoted) => cur.get(quoted.strip_suffix('"')?)?,
                None => cur.get(token.parse::<usize>().ok()?)?,
            };
            rest = &after[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            cur = cur.get(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    Some(cur.clone())
}

#[test]
fn items_are_hardened_exactly_as_the_plain_stream_would_be() {
    let run = harden(&["-q"], PACKAGE);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let after = parse_one(&run.stdout);
    let before = parse_one(PACKAGE);
    let stream: String = before["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| format!("---\n{}\n", serde_json::to_string(i).expect("JSON is YAML")))
        .collect();
    let plain = harden(&["-q"], &stream);
    assert_eq!(plain.code, 0, "stderr: {}", plain.stderr);
    let docs = harden::yaml::parse_values(&plain.stdout).expect("parses");
    assert_eq!(&Value::Array(docs), &after["items"]);
}

#[test]
fn fail_on_blockers_reports_errors_and_exits_1() {
    let run = harden(&[], &with_data("    fail-on-blockers: \"true\"\n"));
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let after = parse_one(&run.stdout);
    let all = results(&after);
    let blockers = for_kind(&all, "DaemonSet");
    assert!(blockers.iter().any(|r| r["severity"] == "error"), "{blockers:#?}");
    assert!(for_kind(&all, "Deployment").iter().all(|r| r["severity"] == "info"));
    assert!(run.stderr.contains("fail-on-blockers"), "{}", run.stderr);
    // Without blockers the same config passes.
    let clean = PACKAGE.replace("hostNetwork: true", "hostNetwork: false");
    let clean = clean.replace("  data: {}\n", "  data:\n    fail-on-blockers: \"true\"\n");
    assert_eq!(harden(&[], &clean).code, 0);
}

/// kpt prints the first few results of a function: those of a failing one
/// must be the errors that made it fail.
#[test]
fn results_are_errors_then_warnings_then_info() {
    let run = harden(&[], &with_data("    fail-on-blockers: \"true\"\n"));
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let all = results(&parse_one(&run.stdout));
    let ranks: Vec<u8> = all
        .iter()
        .map(|r| match r["severity"].as_str() {
            Some("error") => 0,
            Some("warning") => 1,
            Some("info") => 2,
            other => panic!("severity {other:?}"),
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "severities out of order: {ranks:?}");
    assert_eq!(ranks.first(), Some(&0), "an error first");
    assert!(ranks.contains(&1) && ranks.contains(&2), "warnings and info too: {ranks:?}");
}

#[test]
fn function_config_settings_apply_and_win_over_the_command_line() {
    let data = "    profile: dotnet\n    skip-rules: resources\n    pss-version: v1.29\n";
    let run = harden(&["--profile", "restricted"], &with_data(data));
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let after = parse_one(&run.stdout);
    let spec = &after["items"][0]["spec"]["template"]["spec"];
    assert_eq!(spec["securityContext"]["runAsUser"], json!(1654), "the dotnet profile's UID");
    assert!(spec["containers"][0].get("resources").is_none(), "skip-rules: resources");
    assert!(results(&after).iter().all(|r| r["tags"]["rule"] != "resources"));

    // The same settings as a HardenConfig (what --fn-config and kustomize pass).
    let config = "  apiVersion: harden.dev/v1alpha1\n  kind: HardenConfig\n  metadata:\n    name: harden\n  \
                  profile: dotnet\n  exceptions:\n  - {kind: Deployment, name: web, rules: [resources]}\n";
    let fc_start = PACKAGE.find("functionConfig:\n").expect("functionConfig") + "functionConfig:\n".len();
    let text = format!("{}{config}", &PACKAGE[..fc_start]);
    let run = harden(&[], &text);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let spec = &parse_one(&run.stdout)["items"][0]["spec"]["template"]["spec"];
    assert_eq!(spec["securityContext"]["runAsUser"], json!(1654));
    assert!(spec["containers"][0].get("resources").is_none());
}

#[test]
fn a_bad_function_config_is_exit_2_with_nothing_on_stdout() {
    for data in ["    profil: restricted\n", "    partial: perhaps\n", "    skip-rules: no-such-rule\n"] {
        let run = harden(&[], &with_data(data));
        assert_eq!(run.code, 2, "{data}: stderr: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{data}: {}", run.stdout);
        assert!(run.stderr.contains("functionConfig"), "{}", run.stderr);
    }
    let deployment_as_config = PACKAGE.replace("  kind: ConfigMap\n", "  kind: Deployment\n");
    let run = harden(&[], &deployment_as_config);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
}

#[test]
fn the_plan_stage_walks_items_only_never_the_function_config() {
    let list = json!({
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
        "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}],
        "functionConfig": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "not-an-item"},
                   "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}},
    });
    let profile = harden::profile::Profile::load("restricted").expect("built in");
    let kinds = harden::workload::built_in_kinds();
    let opts = harden::plan::PlanOptions {
        profile: &profile,
        kinds: &kinds,
        version: harden::pss::Version::LATEST,
        partial: false,
        exceptions: &[],
        images: harden::images::built_in_table(),
    };
    let plan = harden::plan::plan_document(&list, &opts);
    let bases: Vec<&str> = plan.resources.iter().map(|r| r.base.as_str()).collect();
    assert_eq!(bases, ["/items/0"]);
    assert!(plan.changes().all(|c| c.pointer.starts_with("/items/0/")));
}

#[test]
fn v1beta1_and_json_resource_lists_get_results_too() {
    let text = r#"{"apiVersion": "config.kubernetes.io/v1beta1", "kind": "ResourceList", "items": [
  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"config.kubernetes.io/path": "p.yaml"}},
   "spec": {"containers": [{"name": "c", "image": "example.com/c:1"}]}}]}
"#;
    let run = harden(&[], text);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let after = parse_one(&run.stdout);
    let all = results(&after);
    assert!(!all.is_empty());
    assert!(all.iter().all(|r| r["file"]["path"] == "p.yaml"), "{all:#?}");
    assert_eq!(after["items"][0]["spec"]["securityContext"]["runAsNonRoot"], json!(true));
}

#[test]
fn earlier_results_are_kept_and_a_second_run_changes_no_item() {
    let first = harden(&[], PACKAGE);
    assert_eq!(first.code, 0, "stderr: {}", first.stderr);
    let second = harden(&[], &first.stdout);
    assert_eq!(second.code, 0, "stderr: {}", second.stderr);
    let (a, b) = (parse_one(&first.stdout), parse_one(&second.stdout));
    assert_eq!(a["items"], b["items"], "idempotent, as kpt asks of functions");
    let (ra, rb) = (results(&a), results(&b));
    assert_eq!(&rb[..ra.len()], &ra[..], "earlier results stay first");
    assert!(rb[ra.len()..].iter().all(|r| r.get("field").is_none()), "no change the second time: {rb:#?}");
    let items_text = |t: &str| t[..t.find("\nfunctionConfig:").expect("functionConfig")].to_string();
    assert_eq!(items_text(&first.stdout), items_text(&second.stdout));
}

#[test]
fn only_a_resource_list_on_stdin_is_a_function_call() {
    // A plain stream: no results key appears.
    let plain = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i}\n";
    let run = harden(&[], plain);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(!run.stdout.contains("results"), "{}", run.stdout);
    // A ResourceList in a file is hardened as a List, without results.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("list.yaml");
    std::fs::write(&file, PACKAGE).expect("write");
    let run = harden(&[file.to_str().expect("UTF-8 path")], "");
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(parse_one(&run.stdout).get("results").is_none());
    // An unrelated apiVersion is not the KRM one.
    let alpha = PACKAGE.replacen("config.kubernetes.io/v1\n", "config.kubernetes.io/v1alpha1\n", 1);
    assert!(parse_one(&harden(&[], &alpha).stdout).get("results").is_none());
}
