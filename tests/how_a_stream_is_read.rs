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
    // JSON first and YAML later: a `---` first makes kubectl read it all as YAML.
    assert_eq!(r.stdout, format!("---\n{single}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"));
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

// ---------------------------------------------------------------------------
// Item 4: directory mode reads manifests, not build files

/// A ConfigMap named `name`.
fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// Write `files` (path, text) under `root`, making directories.
fn tree(root: &std::path::Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

/// `harden ARGS` run in `dir`.
fn harden_in(dir: &std::path::Path, args: &[&str]) -> support::Ran {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .current_dir(dir)
        .env_remove("KUBE_VERSION")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("harden runs");
    support::Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const KUSTOMIZATION: &str =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- app.yaml\n";
const KPTFILE: &str = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n";
const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
/// Not YAML until Helm renders it: reading it fails.
const TEMPLATE: &str =
    "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n";

#[test]
fn item4_directory_mode_skips_build_files_and_names_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("deploy/app.yaml", &config_map("app")),
            ("deploy/kustomization.yaml", KUSTOMIZATION),
            ("deploy/legacy/Kustomization", KUSTOMIZATION),
            ("deploy/legacy/kustomization.yml", KUSTOMIZATION),
            ("deploy/pkg/Kptfile", KPTFILE),
            ("deploy/pkg/cm.yaml", &config_map("pkg")),
            ("deploy/chart/Chart.yaml", CHART),
            ("deploy/chart/values.yaml", "enabled: true\n"),
            ("deploy/chart/values-prod.yaml", "enabled: false\n"),
            ("deploy/chart/values.schema.json", "{\"type\": \"object\"}\n"),
            ("deploy/chart/templates/cm.yaml", TEMPLATE),
            ("deploy/chart/ci/small-values.yaml", "replicas: 1\n"),
            ("deploy/chart/charts/db/Chart.yaml", CHART),
            ("deploy/chart/README.md", "# web\n"),
            ("deploy/chart/crds/crd.yaml", &config_map("crd")),
        ],
    );
    let r = harden_in(dir.path(), &["-q", "deploy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Manifests only, in sorted order (a chart's crds/ are plain manifests).
    assert_eq!(r.stdout, [config_map("app"), config_map("crd"), config_map("pkg")].join("---\n"));
    assert_eq!(
        r.stderr,
        "\
note: deploy/chart: skipped Chart.yaml, charts/, ci/, templates/, values-prod.yaml, values.schema.json, values.yaml: a Helm chart is not manifests until it is rendered (`helm template RELEASE deploy/chart | harden`)
note: deploy/kustomization.yaml: skipped: a kustomization is not a manifest (`kustomize build deploy | harden` hardens what it builds)
note: deploy/legacy/Kustomization: skipped: a kustomization is not a manifest (`kustomize build deploy/legacy | harden` hardens what it builds)
note: deploy/legacy/kustomization.yml: skipped: a kustomization is not a manifest (`kustomize build deploy/legacy | harden` hardens what it builds)
note: deploy/pkg/Kptfile: skipped: a kpt package file is not a manifest (`kpt fn eval deploy/pkg --exec harden` hardens the package)
"
    );
}

#[test]
fn item4_explicit_file_arguments_are_always_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("deploy/kustomization.yaml", KUSTOMIZATION),
            ("deploy/.hidden.yaml", &config_map("hidden")),
            ("deploy/gen/out.yaml", &config_map("gen")),
            ("deploy/.gitignore", "gen/\n"),
        ],
    );
    let files = ["deploy/kustomization.yaml", "deploy/.hidden.yaml", "deploy/gen/out.yaml"];
    let r = harden_in(dir.path(), &[&["-q", "--exclude", "*.yaml"], &files[..]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, [KUSTOMIZATION.to_string(), config_map("hidden"), config_map("gen")].join("---\n"));
    assert_eq!(r.stderr, "");
}

#[test]
fn item4_exclude_is_gitignore_style_relative_to_each_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for top in ["a", "b"] {
        for path in ["keep.yaml", "only-here.yaml", "sub/only-here.yaml", "generated/g.yaml", "x.test.yaml"] {
            files.push((format!("{top}/{path}"), config_map(&format!("{top}-{}", path.replace(['/', '.'], "-")))));
        }
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    tree(dir.path(), &files);
    let args = ["-q", "--exclude", "generated/", "--exclude", "/only-here.yaml", "--exclude", "*.test.yaml", "a", "b"];
    let r = harden_in(dir.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r.stdout.lines().filter_map(|l| l.strip_prefix("  name: ")).collect();
    assert_eq!(names, ["a-keep-yaml", "a-sub-only-here-yaml", "b-keep-yaml", "b-sub-only-here-yaml"]);
}

#[test]
fn item4_gitignore_and_hardenignore_files_are_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("deploy/app.yaml", &config_map("app")),
            ("deploy/.gitignore", "rendered/\n*.local.yaml\n"),
            ("deploy/rendered/out.yaml", &config_map("rendered")),
            ("deploy/dev.local.yaml", &config_map("local")),
            ("deploy/sub/.hardenignore", "secret.yaml\n"),
            ("deploy/sub/secret.yaml", &config_map("secret")),
            ("deploy/sub/svc.yaml", &config_map("svc")),
        ],
    );
    let r = harden_in(dir.path(), &["-q", "deploy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, [config_map("app"), config_map("svc")].join("---\n"));
}

#[test]
fn item4_hidden_files_and_directories_are_not_read() {
    // CI configuration lives in hidden files; none of it is a manifest.
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("repo/app.yaml", &config_map("app")),
            ("repo/.github/workflows/ci.yml", "on: push\njobs: {}\n"),
            ("repo/.gitlab-ci.yml", "stages: [test]\n"),
            ("repo/.pre-commit-config.yaml", "repos: []\n"),
        ],
    );
    let r = harden_in(dir.path(), &["-q", "repo"]);
    assert_eq!((r.code, r.stdout), (0, config_map("app")), "{}", r.stderr);
}

// A symbolic link to a directory above made the walk read the same files
// again at every level, until the path grew too long: 41 copies of each
// document, and exit 0.
#[cfg(unix)]
#[test]
fn item4_a_symlink_loop_is_an_error_not_copies_of_documents() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("deploy/app.yaml", &config_map("app"))]);
    std::os::unix::fs::symlink("..", dir.path().join("deploy/loop")).expect("symlink");
    let r = harden_in(dir.path(), &["-q", "deploy"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    assert!(r.stderr.starts_with("harden: deploy: File system loop found: deploy/loop"), "{}", r.stderr);
    // A link that is no loop is followed.
    std::fs::remove_file(dir.path().join("deploy/loop")).expect("rm");
    tree(dir.path(), &[("shared/cm.yaml", &config_map("shared"))]);
    std::os::unix::fs::symlink("../shared", dir.path().join("deploy/shared")).expect("symlink");
    let r = harden_in(dir.path(), &["-q", "deploy"]);
    assert_eq!((r.code, r.stdout), (0, [config_map("app"), config_map("shared")].join("---\n")), "{}", r.stderr);
}

/// A Pod named `name` that harden changes.
fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/a:1\n"
    )
}

/// What `harden -q ARGS` writes for the text of a file alone.
fn hardened_text(text: &str) -> String {
    support::harden(&["-q"], text.as_bytes()).stdout
}

/// An app's own files next to its manifests: no Kubernetes object in them.
const NOT_MANIFESTS: [(&str, &str); 4] = [
    ("deploy/config.yaml", "port: 8080\nlog:\n  level: debug\n"),
    ("deploy/package.json", "{\"name\": \"app\", \"version\": \"1.0.0\"}\n"),
    ("deploy/renovate.json", "{\"extends\": [\"config:recommended\"]}\n"),
    ("deploy/notes.yaml", "# to do\n"),
];

#[test]
fn item4_files_without_kubernetes_objects_in_a_directory_are_left_out_and_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file with one Kubernetes document is read whole: never lose a document.
    let mixed = format!("{}---\nsettings: {{a: 1}}\n", config_map("mixed"));
    tree(dir.path(), &[("deploy/app.yaml", &pod("app")), ("deploy/mixed.yaml", &mixed)]);
    tree(dir.path(), &NOT_MANIFESTS);
    let want = format!("{}---\n{mixed}", hardened_text(&pod("app")));
    let note = "note: deploy: left out, holding no Kubernetes object (no document with apiVersion and kind): \
                deploy/config.yaml, deploy/notes.yaml, deploy/package.json, deploy/renovate.json\n";
    for mode in [&[][..], &["--diff"]] {
        let r = harden_in(dir.path(), &[&["-q"], mode, &["deploy"]].concat());
        assert_eq!((r.code, r.stdout.as_str()), (0, want.as_str()), "{mode:?}: {}", r.stderr);
        assert!(r.stderr.starts_with(note), "{mode:?}: {}", r.stderr);
    }
    let r = harden_in(dir.path(), &["check", "deploy"]);
    assert!(r.stderr.starts_with(note) && !r.stdout.contains("config.yaml"), "{}{}", r.stdout, r.stderr);
    // -i rewrites the manifests and never touches the rest.
    let r = harden_in(dir.path(), &["-i", "deploy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.ends_with(", 1 file rewritten\n"), "{}", r.stderr);
    for (path, text) in NOT_MANIFESTS {
        assert_eq!(std::fs::read_to_string(dir.path().join(path)).expect("read"), text, "{path}");
    }
}

#[test]
fn item4_files_named_on_their_own_and_stdin_are_read_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &NOT_MANIFESTS);
    let config = NOT_MANIFESTS[0].1;
    let with_app = format!("{config}---\n{}", pod("app"));
    tree(dir.path(), &[("deploy/with-app.yaml", &with_app)]);
    let r = harden_in(dir.path(), &["-q", "deploy/with-app.yaml"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout, hardened_text(&with_app));
    assert!(r.stdout.starts_with(config), "{}", r.stdout);
    let r = support::harden(&["-q"], with_app.as_bytes());
    assert_eq!((r.code, r.stdout.starts_with(config)), (0, true), "{}", r.stderr);
}

#[test]
fn item4_a_file_in_a_directory_that_does_not_parse_is_an_error_with_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("deploy/app.yaml", &pod("app")), ("deploy/chart-ish/cm.yaml", TEMPLATE)]);
    for mode in [&[][..], &["--diff"], &["check"]] {
        let r = harden_in(dir.path(), &[mode, &["deploy"]].concat());
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
        assert_eq!(
            r.stderr,
            "harden: deploy/chart-ish/cm.yaml:1:3: \"-\" is only valid inside a block (a file that is not a \
             manifest can be left out: --exclude GLOB, or a .hardenignore file)\n",
            "{mode:?}"
        );
    }
    // Named on its own: the error, without the hint.
    let r = harden_in(dir.path(), &["deploy/chart-ish/cm.yaml"]);
    assert_eq!(r.stderr, "harden: deploy/chart-ish/cm.yaml:1:3: \"-\" is only valid inside a block\n");
    let r = harden_in(dir.path(), &["-q", "--exclude", "chart-ish/", "deploy"]);
    assert_eq!((r.code, r.stdout), (0, hardened_text(&pod("app"))), "{}", r.stderr);
}

#[test]
fn item4_a_file_named_twice_is_read_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("deploy/app.yaml", &pod("app")), ("deploy/cm.yaml", &config_map("cm"))]);
    let want = format!("{}---\n{}", hardened_text(&pod("app")), config_map("cm"));
    let r = harden_in(dir.path(), &["-q", "deploy", "deploy/app.yaml", "./deploy/cm.yaml"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, want.as_str()), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "note: deploy/app.yaml: named more than once; read once\n\
         note: ./deploy/cm.yaml: the same file as deploy/cm.yaml; read once\n"
    );
    // -i rewrites it once.
    let r = harden_in(dir.path(), &["-q", "-i", "deploy/app.yaml", "deploy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("deploy/app.yaml")).expect("read"), hardened_text(&pod("app")));
}

#[cfg(unix)]
#[test]
fn item4_a_file_reached_twice_through_symbolic_links_is_read_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("deploy/app.yaml", &pod("app")), ("shared/cm.yaml", &config_map("cm"))]);
    std::os::unix::fs::symlink("app.yaml", dir.path().join("deploy/link.yaml")).expect("symlink");
    std::os::unix::fs::symlink("../shared", dir.path().join("deploy/shared")).expect("symlink");
    let r = harden_in(dir.path(), &["-q", "deploy", "shared"]);
    let want = format!("{}---\n{}", hardened_text(&pod("app")), config_map("cm"));
    assert_eq!((r.code, r.stdout.as_str()), (0, want.as_str()), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "note: deploy/link.yaml: the same file as deploy/app.yaml; read once\n\
         note: shared/cm.yaml: the same file as deploy/shared/cm.yaml; read once\n"
    );
}

// ---------------------------------------------------------------------------
// Item 5: a gate that checked nothing does not pass

#[test]
fn item5_a_path_without_kubernetes_manifests_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    tree(
        dir.path(),
        &[
            ("empty.yaml", ""),
            ("comments.yaml", "# nothing here yet\n---\n# nor here\n"),
            ("values.yaml", "replicas: 2\nimage: {tag: \"1.0\"}\n"),
            ("kustomized/kustomization.yaml", KUSTOMIZATION),
            ("good.yaml", &config_map("good")),
        ],
    );
    std::fs::create_dir(dir.path().join("typo")).expect("mkdir");
    let modes: [&[&str]; 8] = [
        &[],
        &["--check"],
        &["--check", "-o", "yaml"],
        &["--diff"],
        &["-o", "report"],
        &["-o", "patch"],
        &["-o", "diff"],
        &["-i"],
    ];
    for path in ["empty.yaml", "comments.yaml", "values.yaml", "kustomized", "typo"] {
        for mode in modes {
            // Next to a path that has one, it is still an error.
            let args = [mode, &["good.yaml", path]].concat();
            let r = harden_in(dir.path(), &args);
            assert_eq!((r.code, r.stdout.as_str()), (2, ""), "harden {args:?}: {}", r.stderr);
            let want = format!("harden: {path}: no Kubernetes manifests found\n");
            assert!(r.stderr.ends_with(&want), "harden {args:?}: {}", r.stderr);
        }
        let r = harden_in(dir.path(), &["check", path]);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "harden check {path}: {}", r.stderr);
        assert!(r.stderr.ends_with(&format!("harden: {path}: no Kubernetes manifests found\n")), "{}", r.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("good.yaml")).expect("read"),
        config_map("good"),
        "-i wrote nothing"
    );
    // Next to standard input too.
    let typo = dir.path().join("typo");
    let r = support::harden(&[typo.to_str().expect("utf-8 path"), "-"], config_map("in").as_bytes());
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    assert!(r.stderr.ends_with("typo: no Kubernetes manifests found\n"), "{}", r.stderr);
}

#[test]
fn item5_empty_standard_input_still_passes() {
    for args in [&[][..], &["--check"], &["check"], &["-"]] {
        let r = support::harden(args, b"");
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "harden {args:?}: {}", r.stderr);
    }
    let r = support::harden(&["-o", "report"], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("0 changes in 0 resources"), "{}", r.stdout);
}

#[test]
fn item5_summaries_count_in_good_grammar() {
    let blocked = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\nspec:\n  hostNetwork: true\n  containers:\n  - name: agent\n    image: example.com/agent:1.0\n";
    let r = support::harden(&[], blocked.as_bytes());
    assert!(r.stderr.ends_with("harden: 1 document, 0 workloads hardened, 0 changes, 1 blocker\n"), "{}", r.stderr);
    let r = support::harden(&["-o", "report"], blocked.as_bytes());
    assert!(r.stdout.contains("; 1 violation remains, "), "{}", r.stdout);
    let r = support::harden(&["check"], blocked.as_bytes());
    assert!(r.stderr.ends_with("harden: 1 resource violates restricted at v1.37\n"), "{}", r.stderr);

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: example.com/app:1.0\n";
    let dir = tempfile::tempdir().expect("temp dir");
    tree(dir.path(), &[("pod.yaml", pod)]);
    let r = harden_in(dir.path(), &["-i", "pod.yaml"]);
    assert!(r.stderr.ends_with(", 1 workload hardened, 15 changes, 0 blockers, 1 file rewritten\n"), "{}", r.stderr);
}

/// Every `*.yaml` file below `dir`, sorted.
fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
}

/// A value as kubectl writes JSON: four spaces a level.
fn kubectl_json(v: &serde_json::Value) -> String {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    v.serialize(&mut ser).expect("JSON");
    String::from_utf8(out).expect("UTF-8") + "\n"
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn item2_every_corpus_stream_as_json_hardens_to_json_that_means_the_yaml_result() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(corpus.is_dir(), "{} is needed for this test (cargo test -- --include-ignored)", corpus.display());
    let mut files = Vec::new();
    yaml_files(&corpus, &mut files);
    let (mut streams, mut changed) = (0, 0);
    for path in &files {
        let arg = path.to_str().expect("utf-8 path");
        let via_yaml = support::harden(&["-q", arg], b"");
        // Edits refused in YAML (through anchors, merges) are made in JSON,
        // which has neither: such streams mean different things.
        if via_yaml.code != 0 || via_yaml.stderr.contains("cannot be written safely") {
            continue;
        }
        let docs = harden::yaml::parse_values(&read(path)).expect("the corpus parses");
        let want = harden::yaml::parse_values(&via_yaml.stdout).expect("YAML output parses");
        // As kubectl writes JSON, and on one line a document, as `jq -c`
        // does; separated by `---`, or one after the other (a JSON stream,
        // which only objects make: kubectl reads nothing else).
        let one_line = |v: &serde_json::Value| v.to_string() + "\n";
        let objects = docs.iter().all(serde_json::Value::is_object);
        for write in [kubectl_json as fn(&serde_json::Value) -> String, one_line] {
            for separator in ["---\n", ""].into_iter().filter(|s| objects || !s.is_empty()) {
                let json = docs.iter().map(write).collect::<Vec<_>>().join(separator);
                let r = support::harden(&["-q"], json.as_bytes());
                assert_eq!(r.code, 0, "{arg} as JSON: {}", r.stderr);
                let values: Vec<serde_json::Value> = if separator.is_empty() {
                    serde_json::Deserializer::from_str(&r.stdout)
                        .into_iter()
                        .collect::<Result<_, _>>()
                        .unwrap_or_else(|e| panic!("{arg} as a JSON stream: the output is not one ({e})"))
                } else {
                    let doc = |(i, doc): (usize, &str)| {
                        serde_json::from_str(doc)
                            .unwrap_or_else(|e| panic!("{arg} as JSON: document {i} is not JSON ({e}):\n{doc}"))
                    };
                    r.stdout.split("---\n").enumerate().map(doc).collect()
                };
                assert_eq!(values, want, "{arg}");
                assert_eq!(harden::yaml::parse_values(&r.stdout).is_ok(), !separator.is_empty() || docs.len() < 2);
                streams += 1;
                changed += usize::from(r.stdout != json);
            }
        }
    }
    eprintln!(
        "{streams} corpus streams ({} files, 3 or 4 ways) compared as JSON, {changed} changed by harden",
        files.len()
    );
    assert!(changed > 40, "too few streams exercised the JSON writer: {changed}");
}
