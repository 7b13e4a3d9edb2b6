//! Issue 14, items 2 to 5: harden may add security settings; it must not
//! change how a stream is read or what a gate means. One test (or more)
//! per item, named after it.

mod support;

/// A Deployment serving on port 80, told so by a flag written `args`-first
/// in the given style (`ARGS` is replaced by the flag's line).
const FLAGGED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/server:1
        args:
        ARGS
        ports:
        - containerPort: 80
";

#[test]
fn item3_a_plain_flag_harden_rewrites_stays_plain() {
    let input = FLAGGED.replace("ARGS", "- --port=80");
    let r = support::harden(&["-q"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("        args:\n        - --port=8080\n"), "{}", r.stdout);
}

#[test]
fn item3_a_quoted_flag_stays_quoted_the_same_way() {
    for (before, after) in [("- '--port=80'", "- '--port=8080'"), ("- \"--port=80\"", "- \"--port=8080\"")] {
        let input = FLAGGED.replace("ARGS", before);
        let r = support::harden(&["-q"], input.as_bytes());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(&format!("        args:\n        {after}\n")), "{}", r.stdout);
    }
}

#[test]
fn item3_a_plain_flag_in_a_flow_sequence_stays_plain() {
    let input = FLAGGED.replace("        args:\n        ARGS\n", "        args: [--port=80, -v]\n");
    let r = support::harden(&["-q"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("        args: [--port=8080, -v]\n"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------
// Item 2: JSON in, JSON out

/// A fixture of `tests/fixtures/json/`.
fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json").join(name)
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `harden -q ARGS`, which must succeed.
fn hardened(args: &[&str]) -> support::Ran {
    let r = support::harden(&[&["-q"], args].concat(), b"");
    assert_eq!(r.code, 0, "harden {args:?}: {}", r.stderr);
    r
}

/// Strict JSON, as kubectl reads a stream that starts with `{`.
fn strict_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"))
}

/// The one document of a YAML text, as harden reads it.
fn yaml_value(text: &str) -> serde_json::Value {
    let mut docs = harden::yaml::parse_values(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"));
    assert_eq!(docs.len(), 1, "{text}");
    docs.remove(0)
}

/// A JSON fixture and its YAML twin (the same object, as `-o yaml` writes
/// it) harden to the same object, the JSON one as JSON.
fn json_and_yaml_routes_agree(json: &str, yaml: &str) -> String {
    let (json, yaml) = (fixture(json), fixture(yaml));
    assert_eq!(strict_json(&read(&json)), yaml_value(&read(&yaml)), "the fixtures are twins");
    let out = hardened(&[json.to_str().expect("utf-8 path")]).stdout;
    let via_yaml = hardened(&[yaml.to_str().expect("utf-8 path")]).stdout;
    assert_ne!(out, read(&json), "harden changed the JSON document");
    assert_eq!(strict_json(&out), yaml_value(&via_yaml), "the JSON route means what the YAML route means");
    out
}

#[test]
fn item2_json_in_json_out_a_kubectl_deployment() {
    let out = json_and_yaml_routes_agree("deployment-web.json", "deployment-web.yaml");
    // kubectl's layout: 4 spaces a level, one member a line, `{}` filled in place.
    assert_eq!(out, read(&fixture("deployment-web.hardened.json")));
}

#[test]
fn item2_json_in_json_out_a_kubectl_list() {
    let out = json_and_yaml_routes_agree("list-shop.json", "list-shop.yaml");
    // The port pass's rewrites are JSON too, and go through the List.
    assert!(out.contains("\n                                    \"--port=8080\"\n"), "{out}");
    assert!(out.contains("\n                        \"targetPort\": 8080\n"), "{out}");
}

#[test]
fn item2_json_in_json_out_from_stdin_and_in_a_yaml_stream() {
    let json = read(&fixture("deployment-web.json"));
    let file = hardened(&[fixture("deployment-web.json").to_str().expect("utf-8 path")]).stdout;
    let r = support::harden(&["-q"], json.as_bytes());
    assert_eq!((r.code, r.stdout.as_str()), (0, file.as_str()), "{}", r.stderr);
    // After a YAML document and `---`, a JSON-style document is still JSON.
    let stream = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n{json}");
    let r = support::harden(&["-q"], stream.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, second) = r.stdout.split_once("---\n").expect("two documents");
    assert_eq!(second, file);
}

#[test]
fn item2_json_in_json_out_with_patch_diff_and_in_place() {
    let (json, yaml) = (fixture("list-shop.json"), fixture("list-shop.yaml"));
    let (json_arg, yaml_arg) = (json.to_str().expect("utf-8 path"), yaml.to_str().expect("utf-8 path"));
    let want = hardened(&[json_arg]).stdout;

    // -o patch: the same patches as the YAML route's.
    let patches = |arg: &str| -> Vec<serde_json::Value> {
        let all = strict_json(&hardened(&["-o", "patch", arg]).stdout);
        all.as_array().expect("an array").iter().map(|p| p["patch"].clone()).collect()
    };
    let from_json = patches(json_arg);
    assert!(!from_json.is_empty());
    assert_eq!(from_json, patches(yaml_arg));

    // --diff: stdout stays the JSON, stderr gets JSON lines.
    let r = support::harden(&["--diff", json_arg], b"");
    assert_eq!((r.code, r.stdout.as_str()), (0, want.as_str()), "{}", r.stderr);
    assert!(r.stderr.contains("\n+                        \"automountServiceAccountToken\": false\n"), "{}", r.stderr);

    // -i: the file is rewritten to the same JSON.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("list.json");
    std::fs::copy(&json, &copy).expect("copy");
    hardened(&["-i", copy.to_str().expect("utf-8 path")]);
    assert_eq!(read(&copy), want);
}

#[test]
fn item2_a_compact_json_document_stays_compact() {
    let json = serde_json::to_string(&strict_json(&read(&fixture("deployment-web.json")))).expect("compact");
    let r = support::harden(&["-q"], json.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(r#""resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"512Mi"}}"#)
    );
    strict_json(&r.stdout);
}

#[test]
fn item2_a_flow_yaml_document_that_is_not_json_stays_yaml_flow() {
    // After `---`, with plain keys: YAML written in flow style, edited as before.
    let input = "---\n{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: registry.example.com/a:1}]}}\n";
    let r = support::harden(&["-q"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = "---\n{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, \
                image: registry.example.com/a:1, securityContext: {allowPrivilegeEscalation: false, \
                capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}, volumeMounts: [{name: harden-tmp, \
                mountPath: /tmp}], resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}}], \
                securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, \
                fsGroupChangePolicy: OnRootMismatch, seccompProfile: {type: RuntimeDefault}}, \
                volumes: [{name: harden-tmp, emptyDir: {}}], automountServiceAccountToken: false}}\n";
    assert_eq!(r.stdout, want);
}

#[test]
fn item2_directory_mode_reads_json_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(fixture("deployment-web.json"), dir.path().join("a.json")).expect("copy");
    std::fs::write(dir.path().join("b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
        .expect("write");
    let r = hardened(&[dir.path().to_str().expect("utf-8 path")]);
    let single = hardened(&[fixture("deployment-web.json").to_str().expect("utf-8 path")]).stdout;
    assert_eq!(r.stdout, format!("{single}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"));
}

/// `python3 -c 'import json, sys; json.load(sys.stdin)'` on `text`.
fn python_reads_json(text: &str) {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args(["-c", "import json, sys; json.load(sys.stdin)"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed for this test (cargo test -- --include-ignored): {e}"));
    child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to python3");
    let status = child.wait().expect("python3 finishes");
    assert!(status.success(), "Python's json does not read harden's output:\n{text}");
}

#[test]
#[ignore = "needs python3 (cargo test -- --include-ignored)"]
fn item2_json_output_parses_with_pythons_json() {
    for name in ["deployment-web.json", "list-shop.json"] {
        python_reads_json(&hardened(&[fixture(name).to_str().expect("utf-8 path")]).stdout);
    }
}

/// `kubectl ARGS`, which must succeed.
fn kubectl(args: &[&str]) -> String {
    let out = std::process::Command::new("kubectl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("kubectl is needed for this test (cargo test -- --include-ignored): {e}"));
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("kubectl writes UTF-8")
}

#[test]
#[ignore = "needs kubectl and python3 (cargo test -- --include-ignored)"]
fn item2_json_in_json_out_from_kubectl_create() {
    let create = ["create", "deployment", "web", "--image=nginx", "--dry-run=client", "-o"];
    let json = kubectl(&[&create[..], &["json"]].concat());
    let yaml = kubectl(&[&create[..], &["yaml"]].concat());
    let dir = tempfile::tempdir().expect("temp dir");
    let (json_path, yaml_path) = (dir.path().join("web.json"), dir.path().join("web.yaml"));
    std::fs::write(&json_path, &json).expect("write");
    std::fs::write(&yaml_path, &yaml).expect("write");
    let out = hardened(&[json_path.to_str().expect("utf-8 path")]).stdout;
    let via_yaml = hardened(&[yaml_path.to_str().expect("utf-8 path")]).stdout;
    assert_ne!(out, json);
    assert_eq!(strict_json(&out), yaml_value(&via_yaml));
    python_reads_json(&out);
    // kubectl reads a stream that starts with `{` as JSON, and says so
    // before it needs a server (there is none at port 9).
    let hardened_path = dir.path().join("hardened.json");
    std::fs::write(&hardened_path, &out).expect("write");
    let path = hardened_path.to_str().expect("utf-8 path");
    let apply = ["apply", "--dry-run=client", "--validate=false", "--server=http://127.0.0.1:9", "-f", path];
    let applied = std::process::Command::new("kubectl").args(apply).output().expect("kubectl runs");
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(!stderr.contains("error parsing"), "kubectl cannot read harden's JSON: {stderr}");
}
