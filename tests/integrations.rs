//! The integrations, run for real with the host tool (kpt, kubectl with its
//! kustomize; those tests are ignored unless asked for, `cargo test --
//! --include-ignored`, and then fail where the tool is missing), and checked
//! by contract where it cannot run here (Helm, Docker):
//!
//! * kpt: `kpt fn eval DIR --exec`, `kpt fn eval - --exec`, `kpt fn render
//!   --allow-exec` on copies of `examples/kpt` (and of the kustomize base
//!   with the kustomize overlay's function config);
//! * kustomize: `examples/kustomize/overlays/legacy-plugin` through `kubectl
//!   kustomize --enable-alpha-plugins`, `overlays/krm-exec` through a
//!   kustomize that has `--enable-exec`;
//! * Argo CD: the CMP's generate command with Argo's environment;
//! * Helm 3 and 4: both post-renderer input shapes through the binary;
//! * CI: the workflow's and the pre-commit hook's commands, the Dockerfile.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod shared_inputs;
use shared_inputs::{tool, which};

const BIN: &str = env!("CARGO_BIN_EXE_harden");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with the directory of the harden binary first (so `harden` resolves to it).
fn path_with_harden(extra: &[&Path]) -> std::ffi::OsString {
    let bin_dir = Path::new(BIN).parent().expect("the binary has a directory").to_path_buf();
    let mut dirs: Vec<PathBuf> = extra.iter().map(|p| p.to_path_buf()).collect();
    dirs.push(bin_dir);
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).expect("PATH entries have no separator")
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?} starts: {e}"));
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin is piped").write_all(text.as_bytes()).expect("stdin takes the input");
    }
    child.wait_with_output().expect("the command finishes")
}

fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed ({}):\n{stderr}", out.status);
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn harden(args: &[&str], stdin: Option<&str>) -> Output {
    run(Command::new(BIN).args(args), stdin)
}

/// `harden check` on a stream: every pod passes restricted.
fn assert_passes_check(stream: &str, what: &str) {
    let out = harden(&["check", "-"], Some(stream));
    assert!(
        out.status.success(),
        "{what}: harden check fails:\n{}{}\n{stream}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the example") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("copy a file (and its mode)");
        }
    }
}

/// Every file below `dir`, by relative path, with its text.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root").display().to_string();
                out.insert(rel, std::fs::read_to_string(&path).expect("UTF-8 file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn yaml(text: &str) -> Vec<Value> {
    harden::yaml::parse_values(text).expect("valid YAML")
}

fn one_yaml_file(path: &Path) -> Value {
    yaml(&std::fs::read_to_string(path).expect("read")).remove(0)
}

// ------------------------------------------------------------ examples

/// Every file under examples/, and the tests that run or read it.
const EXAMPLE_FILES: &[(&str, &[&str])] = &[
    ("argocd/application.yaml", &["argocd_application_selects_the_plugin_and_sets_what_it_reads"]),
    ("argocd/kustomization.yaml", &["argocd_kustomization_installs_the_plugin_into_the_repo_server"]),
    ("argocd/plugin.yaml", &["argocd_cmp_generate_runs_with_the_argo_environment"]),
    ("argocd/repo-server-patch.yaml", &["argocd_sidecar_patch_runs_the_plugin_as_uid_999_with_the_copied_binary"]),
    ("ci/harden.yml", &["ci_workflow_gates_with_check_and_uploads_sarif"]),
    ("ci/pre-commit-config.yaml", &["pre_commit_validates_the_hooks_and_the_example_config"]),
    ("helm/README.md", &["example_readmes_name_files_that_exist"]),
    ("helm/harden-postrenderer/plugin.yaml", &["helm4_plugin_yaml_is_a_postrenderer_v1_subprocess_plugin"]),
    ("kpt/Kptfile", &["kpt_fn_render_runs_the_kptfile_pipeline"]),
    ("kpt/jobs/report.yaml", &["kpt_fn_eval_dir_changes_exactly_what_harden_says"]),
    ("kpt/local/debug-pod.yaml", &["kpt_fn_render_runs_the_kptfile_pipeline"]),
    ("kpt/web.yaml", &["kpt_fn_eval_stdin"]),
    ("kustomize/README.md", &["example_readmes_name_files_that_exist"]),
    ("kustomize/base/deployment.yaml", &["kustomize_legacy_plugin_overlay_is_hardened"]),
    ("kustomize/base/kustomization.yaml", &["kustomize_legacy_plugin_overlay_is_hardened"]),
    ("kustomize/base/service.yaml", &["kustomize_legacy_plugin_overlay_is_hardened"]),
    ("kustomize/overlays/krm-exec/harden-fn", &["kpt_runs_the_kustomize_overlays_function_config_and_wrapper"]),
    ("kustomize/overlays/krm-exec/harden.yaml", &["kpt_runs_the_kustomize_overlays_function_config_and_wrapper"]),
    ("kustomize/overlays/krm-exec/kustomization.yaml", &["kustomize_krm_exec_overlay_is_hardened"]),
    ("kustomize/overlays/legacy-plugin/harden.yaml", &["kustomize_legacy_plugin_overlay_is_hardened"]),
    ("kustomize/overlays/legacy-plugin/kustomization.yaml", &["kustomize_legacy_plugin_overlay_is_hardened"]),
    (
        "kustomize/plugin/harden.dev/v1alpha1/hardenconfig/HardenConfig",
        &["kustomize_legacy_plugin_overlay_is_hardened"],
    ),
    ("web.yaml", &["the_readmes_first_command_hardens_the_bundled_example"]),
];

#[test]
fn every_example_file_is_used_by_a_test() {
    let examples = repo().join("examples");
    let mut on_disk: Vec<String> = files(&examples).into_keys().collect();
    on_disk.sort();
    let listed: Vec<String> = EXAMPLE_FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, listed, "a new example needs a test (and a row here)");
    let source = std::fs::read_to_string(repo().join("tests/integrations.rs")).expect("this file");
    for (file, tests) in EXAMPLE_FILES {
        for test in *tests {
            assert!(source.contains(&format!("\nfn {test}()")), "{file}: no test {test}");
        }
    }
}

#[test]
fn example_readmes_name_files_that_exist() {
    for readme in ["examples/helm/README.md", "examples/kustomize/README.md"] {
        let text = std::fs::read_to_string(repo().join(readme)).expect("README");
        let mut named = 0;
        for word in text.split(|c: char| c.is_whitespace() || "`()[],=:".contains(c)) {
            let Some(path) = ["examples/", "tests/"].iter().find_map(|p| word.find(p).map(|i| &word[i..])) else {
                continue;
            };
            let path = path.trim_end_matches(['.', '/']);
            assert!(repo().join(path).exists(), "{readme} names {path}, which is not there");
            named += 1;
        }
        assert!(named > 0, "{readme} names the files it is about");
    }
}

#[test]
fn the_readmes_first_command_hardens_the_bundled_example() {
    // `cargo run --release -- examples/web.yaml`, from the repository root.
    let out = run(Command::new(BIN).arg("examples/web.yaml").current_dir(repo()), None);
    let text = ok(&out, "harden examples/web.yaml");
    assert_passes_check(&text, "examples/web.yaml hardened");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stderr.lines().last().unwrap_or_default();
    assert!(summary.starts_with("harden: ") && !summary.contains(" 0 changes"), "{stderr}");
}

// ---------------------------------------------------------------- kpt

/// A copy of `examples/EXAMPLE` as `dir/name`.
fn example_in(dir: &Path, example: &str, name: &str) -> PathBuf {
    let copy = dir.join(name);
    copy_dir(&repo().join("examples").join(example), &copy);
    copy
}

#[test]
#[ignore = "needs kpt"]
fn kpt_fn_eval_dir_changes_exactly_what_harden_says() {
    let kpt = tool("kpt");
    let tmp = tempfile::tempdir().expect("temp dir");
    let (identity, hardened) = (tmp.path().join("identity"), tmp.path().join("hardened"));
    copy_dir(&repo().join("examples/kpt"), &identity);
    copy_dir(&repo().join("examples/kpt"), &hardened);
    // kpt reformats what it writes back (comment spacing, quoting): the
    // baseline is the same kpt run with a function that changes nothing.
    ok(&run(Command::new(&kpt).args(["fn", "eval"]).arg(&identity).args(["--exec", "cat"]), None), "kpt --exec cat");
    let results_dir = tmp.path().join("results");
    let out = run(
        Command::new(&kpt).args(["fn", "eval"]).arg(&hardened).args(["--exec", BIN, "--results-dir"]).arg(&results_dir),
        None,
    );
    ok(&out, "kpt fn eval --exec harden");

    let (base, after) = (files(&identity), files(&hardened));
    assert_eq!(base.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "no file added or removed");
    let mut changed = 0;
    for (name, text) in &base {
        let expected = if name.ends_with(".yaml") {
            ok(&harden(&["-q", identity.join(name).to_str().expect("UTF-8")], None), "harden FILE")
        } else {
            text.clone()
        };
        assert_eq!(&after[name], &expected, "{name}: kpt+harden differs from harden's own run on the file");
        changed += usize::from(after[name] != *text);
    }
    assert_eq!(changed, 2, "web.yaml and jobs/report.yaml are hardened, nothing else changes");

    // kpt's results are harden's: one per change.
    let reported: Vec<Value> = yaml(&std::fs::read_to_string(results_dir.join("results.yaml")).expect("results"))
        .remove(0)["items"][0]["results"]
        .as_array()
        .expect("results")
        .clone();
    // Changes propose a value (notes, such as an image harden does not know, do not).
    let with_field = reported.iter().filter(|r| r.pointer("/field/proposedValue").is_some()).count();
    let cli = harden(&[identity.to_str().expect("UTF-8")], None);
    let summary = String::from_utf8_lossy(&cli.stderr);
    let changes: usize = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" changes"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a change count in {summary}"));
    assert_eq!(with_field, changes, "kpt results vs `harden DIR`: {summary}");
    assert!(reported.iter().all(|r| r["file"]["path"].is_string()), "every result names its file");
}

#[test]
#[ignore = "needs kpt"]
fn kpt_fn_eval_stdin() {
    let kpt = tool("kpt");
    let input = std::fs::read_to_string(repo().join("examples/kpt/web.yaml")).expect("example");
    let out = run(Command::new(&kpt).args(["fn", "eval", "-", "--exec", BIN, "--output", "unwrap"]), Some(&input));
    let text = ok(&out, "kpt fn eval - --exec harden");
    assert_passes_check(&text, "kpt fn eval -");
    for comment in ["# The storefront", "# The app listens on 8080", "# pinned by CI", "# a string, not a boolean"] {
        assert!(text.contains(comment), "{comment:?} survives kpt and harden:\n{text}");
    }
    let docs = yaml(&text);
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1], yaml(&input)[1], "the Service is unchanged");
    // Without --output, kpt hands back the ResourceList, results and all.
    let out = run(Command::new(&kpt).args(["fn", "eval", "-", "--exec", BIN]), Some(&input));
    let list = yaml(&ok(&out, "kpt fn eval -")).remove(0);
    assert_eq!(list["kind"], "ResourceList");
}

#[test]
#[ignore = "needs kpt"]
fn kpt_fn_render_runs_the_kptfile_pipeline() {
    let kpt = tool("kpt");
    let tmp = tempfile::tempdir().expect("temp dir");
    let pkg = example_in(tmp.path(), "kpt", "shop");
    let render = || {
        let mut cmd = Command::new(&kpt);
        cmd.args(["fn", "render"]).arg(&pkg).arg("--allow-exec").env("PATH", path_with_harden(&[]));
        ok(&run(&mut cmd, None), "kpt fn render --allow-exec")
    };
    render();
    let first = files(&pkg);
    for name in ["web.yaml", "jobs/report.yaml"] {
        assert_passes_check(&first[name], name);
    }
    assert!(first["jobs/report.yaml"].contains("runAsNonRoot: true # already set by the team; harden keeps it"));
    assert_eq!(
        yaml(&first["local/debug-pod.yaml"]),
        yaml(&std::fs::read_to_string(repo().join("examples/kpt/local/debug-pod.yaml")).expect("example")),
        "the local-config pod is left alone"
    );
    // kpt asks functions to be idempotent: a second render changes nothing.
    render();
    assert_eq!(files(&pkg), first);
}

#[test]
#[ignore = "needs kpt"]
fn kpt_runs_the_kustomize_overlays_function_config_and_wrapper() {
    // The krm-exec overlay's HardenConfig and harden-fn wrapper, through the
    // same KRM function contract kustomize uses (which needs a standalone
    // kustomize to run here; see the next tests).
    let kpt = tool("kpt");
    let tmp = tempfile::tempdir().expect("temp dir");
    let pkg = example_in(tmp.path(), "kustomize/base", "base");
    let overlay = repo().join("examples/kustomize/overlays/krm-exec");
    let mut cmd = Command::new(&kpt);
    cmd.args(["fn", "eval"])
        .arg(&pkg)
        .arg("--exec")
        .arg(overlay.join("harden-fn"))
        .arg("--fn-config")
        .arg(overlay.join("harden.yaml"))
        .env("HARDEN_BIN", BIN);
    ok(&run(&mut cmd, None), "kpt fn eval --exec harden-fn --fn-config harden.yaml");
    let deployment = std::fs::read_to_string(pkg.join("deployment.yaml")).expect("deployment");
    assert_passes_check(&deployment, "deployment.yaml");
    assert!(!deployment.contains("resources:"), "the HardenConfig's exception (rules: [resources]) applied");
}

/// A DaemonSet no Pod Security level but privileged admits.
const NODE_AGENT: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
  namespace: kube-system
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: registry.example.com/node-agent:1.0
        securityContext:
          privileged: true
";

#[test]
#[ignore = "needs kpt"]
fn kpt_shows_a_failing_fail_on_blockers_first() {
    let kpt = tool("kpt");
    let tmp = tempfile::tempdir().expect("temp dir");
    let pkg = example_in(tmp.path(), "kpt", "shop");
    std::fs::write(pkg.join("node-agent.yaml"), NODE_AGENT).expect("write the DaemonSet");
    let before = files(&pkg);
    let results_dir = tmp.path().join("results");
    let out = run(
        Command::new(&kpt)
            .args(["fn", "eval"])
            .arg(&pkg)
            .args(["--exec", BIN, "--results-dir"])
            .arg(&results_dir)
            .args(["--", "fail-on-blockers=true"]),
        None,
    );
    assert!(!out.status.success(), "fail-on-blockers fails kpt");
    assert_eq!(files(&pkg), before, "kpt leaves the files as they were");
    // kpt prints a few results and truncates the rest: the first is the error.
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let shown: Vec<&str> = printed
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "Results:")
        .skip(1)
        .take_while(|l| l.starts_with('['))
        .collect();
    assert!(shown.first().is_some_and(|l| l.starts_with("[error]")), "kpt shows first:\n{printed}");
    assert!(printed.contains("truncated"), "more results than kpt shows:\n{printed}");
    let severities: Vec<String> = yaml(&std::fs::read_to_string(results_dir.join("results.yaml")).expect("results"))
        .remove(0)["items"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["severity"].as_str().expect("a severity").to_string())
        .collect();
    let rank = |s: &str| ["error", "warning", "info"].iter().position(|x| *x == s).expect("a known severity");
    assert!(severities.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{severities:?}");
}

// ----------------------------------------------------------- kustomize

fn kustomized_deployment(stream: &str) -> Value {
    yaml(stream).into_iter().find(|d| d["kind"] == "Deployment").expect("a Deployment")
}

#[test]
#[ignore = "needs kubectl"]
fn kustomize_legacy_plugin_overlay_is_hardened() {
    let kubectl = tool("kubectl");
    let examples = repo().join("examples/kustomize");
    let mut cmd = Command::new(&kubectl);
    cmd.args(["kustomize", "--enable-alpha-plugins"])
        .arg(examples.join("overlays/legacy-plugin"))
        .env("KUSTOMIZE_PLUGIN_HOME", examples.join("plugin"))
        .env("HARDEN_BIN", BIN);
    let text = ok(&run(&mut cmd, None), "kubectl kustomize --enable-alpha-plugins overlays/legacy-plugin");
    assert_passes_check(&text, "kustomize legacy plugin output");
    let d = kustomized_deployment(&text);
    assert_eq!(d["metadata"]["namespace"], "shop", "kustomize's own transformers ran too");
    assert!(d.pointer("/spec/template/spec/containers/0/resources").is_none(), "its config file was read");
    let base = kustomized_deployment(&ok(
        &run(Command::new(&kubectl).arg("kustomize").arg(examples.join("base")), None),
        "kubectl kustomize base",
    ));
    assert!(base.pointer("/spec/template/spec/securityContext").is_none(), "the base itself is not hardened");
}

/// A kustomize that can run exec KRM functions: the standalone binary, or
/// kubectl if its kustomize has `--enable-exec` (kubectl 1.32 has not, and
/// silently skips exec functions without it). Panics when there is none.
fn kustomize_with_exec() -> Vec<String> {
    if let Some(k) = which("kustomize") {
        return vec![k.display().to_string(), "build".into()];
    }
    let kubectl = tool("kubectl");
    let help = run(Command::new(&kubectl).args(["kustomize", "--help"]), None);
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("--enable-exec"),
        "no kustomize with --enable-exec: `kubectl kustomize` has none (it ignores exec KRM functions) and no \
         standalone kustomize is on PATH (examples/kustomize/README.md says which version has it); \
         kpt_runs_the_kustomize_overlays_function_config_and_wrapper runs the same function through kpt"
    );
    vec![kubectl.display().to_string(), "kustomize".into()]
}

#[test]
#[ignore = "needs kustomize with --enable-exec (standalone kustomize v5; kubectl's has none)"]
fn kustomize_krm_exec_overlay_is_hardened() {
    let kustomize = kustomize_with_exec();
    let mut cmd = Command::new(&kustomize[0]);
    cmd.args(&kustomize[1..])
        .args(["--enable-alpha-plugins", "--enable-exec"])
        .arg(repo().join("examples/kustomize/overlays/krm-exec"))
        .env("HARDEN_BIN", BIN);
    let text = ok(&run(&mut cmd, None), "kustomize --enable-alpha-plugins --enable-exec overlays/krm-exec");
    assert_passes_check(&text, "kustomize exec function output");
    let d = kustomized_deployment(&text);
    assert!(d.pointer("/spec/template/spec/containers/0/resources").is_none(), "its functionConfig was read");
}

// ------------------------------------------------------------- Argo CD

fn argocd(file: &str) -> Value {
    one_yaml_file(&repo().join("examples/argocd").join(file))
}

#[test]
#[ignore = "needs kubectl (or kustomize)"]
fn argocd_cmp_generate_runs_with_the_argo_environment() {
    let plugin = argocd("plugin.yaml");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let command: Vec<String> = plugin["spec"]["generate"]["command"]
        .as_array()
        .expect("generate.command")
        .iter()
        .chain(plugin["spec"]["generate"]["args"].as_array().expect("generate.args"))
        .map(|v| v.as_str().expect("strings").to_string())
        .collect();
    assert!(command.join(" ").contains("kustomize build ."), "{command:?}");

    // `kustomize` in the sidecar; here the standalone one, or kubectl's.
    let tmp = tempfile::tempdir().expect("temp dir");
    let shims = tmp.path().join("bin");
    std::fs::create_dir_all(&shims).expect("shim dir");
    if which("kustomize").is_none() {
        tool("kubectl");
        eprintln!("note: `kubectl kustomize` stands in for `kustomize build`");
        let shim = shims.join("kustomize");
        std::fs::write(&shim, "#!/bin/sh\n[ \"$1\" = build ] && shift\nexec kubectl kustomize \"$@\"\n").expect("shim");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let app = tmp.path().join("app");
    copy_dir(&repo().join("examples/kustomize/base"), &app);
    let generate = |kube_version: &str, profile: Option<&str>| {
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..])
            .current_dir(&app)
            .env_clear()
            .env("PATH", path_with_harden(&[&shims]))
            .env("HARDEN_BIN", BIN)
            .env("ARGOCD_APP_NAME", "shop")
            .env("ARGOCD_APP_NAMESPACE", "shop")
            .env("ARGOCD_APP_PROJECT_NAME", "default")
            .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
            .env("ARGOCD_APP_REVISION_SHORT", "0123456")
            .env("ARGOCD_APP_SOURCE_PATH", "overlays/prod")
            .env("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/shop/deploy.git")
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("KUBE_VERSION", kube_version)
            .env("KUBE_API_VERSIONS", "v1,apps/v1,batch/v1,networking.k8s.io/v1");
        if let Some(p) = profile {
            cmd.env("ARGOCD_ENV_HARDEN_PROFILE", p);
        }
        run(&mut cmd, None)
    };
    let out = generate("v1.29.3+k3s1", None);
    let text = ok(&out, "the CMP generate command");
    // stdout holds only Kubernetes objects; harden's summary went to stderr.
    let docs = yaml(&text);
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["apiVersion"].is_string() && d["kind"].is_string()), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("harden:"));
    let check = harden(&["check", "--pss-version", "v1.29", "-"], Some(&text));
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    // KUBE_VERSION is what sets the version: a bad one fails generation.
    let bad = generate("v2.0.0", None);
    assert!(!bad.status.success(), "KUBE_VERSION=v2.0.0 must fail generation");
    assert!(bad.stdout.is_empty() || yaml(&String::from_utf8_lossy(&bad.stdout)).is_empty());
    // The Application's plugin env reaches harden.
    let dotnet = ok(&generate("1.30", Some("dotnet")), "generate with HARDEN_PROFILE=dotnet");
    let d = kustomized_deployment(&dotnet);
    assert_eq!(d["spec"]["template"]["spec"]["securityContext"]["runAsUser"], 1654);
}

#[test]
fn argocd_sidecar_patch_runs_the_plugin_as_uid_999_with_the_copied_binary() {
    let patch = argocd("repo-server-patch.yaml");
    assert_eq!(patch["metadata"]["name"], "argocd-repo-server");
    let spec = &patch["spec"]["template"]["spec"];
    let init = &spec["initContainers"][0];
    let sidecar = &spec["containers"][0];
    for c in [init, sidecar] {
        assert_eq!(c["securityContext"]["runAsUser"], 999, "{}", c["name"]);
        assert_eq!(c["securityContext"]["runAsNonRoot"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    }
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    let mounts = |c: &Value| -> BTreeMap<String, String> {
        c["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .map(|m| {
                (m["mountPath"].as_str().expect("path").to_string(), m["name"].as_str().expect("name").to_string())
            })
            .collect()
    };
    let (init_mounts, side_mounts) = (mounts(init), mounts(sidecar));
    assert_eq!(side_mounts["/home/argocd/cmp-server/config/plugin.yaml"], "harden-cmp-plugin");
    assert_eq!(side_mounts["/var/run/argocd"], "var-files");
    assert_eq!(side_mounts["/home/argocd/cmp-server/plugins"], "plugins");
    // The init container runs the image's entrypoint, harden, as
    // `install-to DIR` (the image has no shell and no cp), and plugin.yaml
    // runs DIR/harden.
    assert!(init.get("command").is_none(), "the image's entrypoint runs: {init}");
    assert_eq!(init["image"], "harden", "the name kustomization.yaml's images: points at your build");
    let args: Vec<&str> = init["args"].as_array().expect("args").iter().filter_map(Value::as_str).collect();
    let [verb, shared] = args[..] else { panic!("install-to DIR: {args:?}") };
    assert_eq!(verb, "install-to");
    assert_eq!(init_mounts[shared], side_mounts[shared], "one shared volume");
    let target = Path::new(shared).join("harden");
    let generate = argocd("plugin.yaml")["spec"]["generate"]["args"][0].as_str().expect("script").to_string();
    assert!(generate.contains(target.to_str().expect("UTF-8")), "plugin.yaml runs {target:?}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join(shared.trim_start_matches('/'));
    ok(&harden(&["install-to", dir.to_str().expect("UTF-8")], None), "harden install-to");
    ok(&run(Command::new(dir.join("harden")).arg("--version"), None), "the installed copy runs");
    let volumes: Vec<&str> =
        spec["volumes"].as_array().expect("volumes").iter().filter_map(|v| v["name"].as_str()).collect();
    for name in init_mounts.values().chain(side_mounts.values()) {
        assert!(
            volumes.contains(&name.as_str()) || ["var-files", "plugins"].contains(&name.as_str()),
            "{name} is declared (var-files and plugins come with argocd-repo-server)"
        );
    }
}

/// The Argo CD install the kustomization patches, cut down to what the
/// patch meets: argocd-repo-server with its own init container and volumes.
const ARGOCD_INSTALL: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      initContainers:
      - name: copyutil
        image: quay.io/argoproj/argocd:v2.13.0
        command: [/bin/cp, -n, /usr/local/bin/argocd, /var/run/argocd/argocd-cmp-server]
        volumeMounts:
        - {name: var-files, mountPath: /var/run/argocd}
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:v2.13.0
      volumes:
      - {name: var-files, emptyDir: {}}
      - {name: plugins, emptyDir: {}}
";

#[test]
#[ignore = "needs kubectl"]
fn argocd_kustomization_installs_the_plugin_into_the_repo_server() {
    let kubectl = tool("kubectl");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = example_in(tmp.path(), "argocd", "argocd");
    // The real install.yaml is remote: a local stand-in with the same name.
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).expect("kustomization");
    let remote = kustomization.lines().find(|l| l.trim_start().starts_with("- https://")).expect("the remote install");
    let local = kustomization.replace(remote, "  - argocd-install.yaml");
    std::fs::write(dir.join("kustomization.yaml"), local).expect("write");
    std::fs::write(dir.join("argocd-install.yaml"), ARGOCD_INSTALL).expect("write");

    let built = yaml(&ok(&run(Command::new(&kubectl).arg("kustomize").arg(&dir), None), "kubectl kustomize"));
    let config_map = built.iter().find(|d| d["kind"] == "ConfigMap").expect("the plugin's ConfigMap");
    assert_eq!(config_map["metadata"]["name"], "harden-cmp-plugin");
    assert_eq!(config_map["metadata"]["namespace"], "argocd");
    assert_eq!(
        config_map["data"]["plugin.yaml"],
        std::fs::read_to_string(repo().join("examples/argocd/plugin.yaml")).expect("plugin.yaml").as_str()
    );
    let server = built.iter().find(|d| d["kind"] == "Deployment").expect("argocd-repo-server");
    let spec = &server["spec"]["template"]["spec"];
    let names = |list: &str| -> Vec<String> {
        spec[list].as_array().expect(list).iter().map(|c| c["name"].as_str().expect("a name").to_string()).collect()
    };
    assert_eq!(names("initContainers"), ["install-harden", "copyutil"], "the patch adds its init container");
    assert_eq!(names("containers"), ["harden-cmp", "argocd-repo-server"]);
    let init = &spec["initContainers"][0];
    assert_eq!(init["image"], "registry.example.com/tools/harden:0.1.0", "images: names the harden you pushed");
    let volumes = names("volumes");
    for v in ["custom-tools", "harden-cmp-tmp", "harden-cmp-plugin", "var-files", "plugins"] {
        assert!(volumes.contains(&v.to_string()), "volume {v} in {volumes:?}");
    }
}

#[test]
fn argocd_application_selects_the_plugin_and_sets_what_it_reads() {
    let app = argocd("application.yaml");
    let plugin = argocd("plugin.yaml");
    assert_eq!(app["kind"], "Application");
    assert_eq!(app["spec"]["source"]["plugin"]["name"], plugin["metadata"]["name"]);
    let script = plugin["spec"]["generate"]["args"][0].as_str().expect("the generate script");
    for env in app["spec"]["source"]["plugin"]["env"].as_array().expect("plugin env") {
        // Argo CD passes an Application's plugin env as ARGOCD_ENV_<name>.
        let name = format!("ARGOCD_ENV_{}", env["name"].as_str().expect("a name"));
        assert!(script.contains(&name), "plugin.yaml reads {name}");
        let profile = env["value"].as_str().expect("a value");
        ok(&harden(&["--profile", profile, "-"], Some("")), "the profile the Application sets exists");
    }
}

// ---------------------------------------------------------------- Helm

/// `helm template` output of a `helm create` chart, as Helm 3 pipes it to
/// a post-renderer.
const HELM3_STREAM: &str = r#"---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: shop
    app.kubernetes.io/version: "1.16.0"
    app.kubernetes.io/managed-by: Helm
automountServiceAccountToken: true
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: shop
    app.kubernetes.io/instance: shop
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-0.1.0
    app.kubernetes.io/name: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
      app.kubernetes.io/instance: shop
  template:
    metadata:
      labels:
        app.kubernetes.io/name: shop
        app.kubernetes.io/instance: shop
    spec:
      serviceAccountName: shop
      securityContext:
        {}
      containers:
        - name: shop
          securityContext:
            {}
          image: "registry.example.com/shop:1.16.0"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          resources:
            {}
"#;

fn source_comments(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("# Source: ")).collect()
}

#[test]
fn helm3_post_renderer_contract() {
    // Helm 3 runs `--post-renderer harden` with the stream on stdin and
    // needs valid manifests, non-empty, on stdout.
    let text = ok(&harden(&[], Some(HELM3_STREAM)), "harden as a Helm 3 post-renderer");
    assert!(!text.trim().is_empty());
    assert_eq!(source_comments(&text), source_comments(HELM3_STREAM), "every # Source: comment, in order");
    let (before, after) = (yaml(HELM3_STREAM), yaml(&text));
    assert_eq!(before.len(), after.len(), "no document merged or dropped");
    assert_eq!(before[0], after[0]);
    assert_passes_check(&text, "Helm 3 post-rendered");
    // Extra arguments, as `--post-renderer-args` passes them.
    let dotnet = ok(&harden(&["--profile", "dotnet"], Some(HELM3_STREAM)), "with post-renderer args");
    assert_eq!(yaml(&dotnet)[2]["spec"]["template"]["spec"]["securityContext"]["runAsUser"], 1654);
}

/// The same chart as Helm 4 hands it to a `postrenderer/v1` plugin:
/// re-serialised by kyaml (compact sequences) with every document
/// annotated with the template it came from.
const HELM4_STREAM: &str = r#"# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
  labels:
    app.kubernetes.io/name: shop
  annotations:
    postrenderer.helm.sh/postrender-filename: 'shop/templates/service.yaml'
spec:
  type: ClusterIP
  ports:
  - port: 80
    targetPort: http
    protocol: TCP
    name: http
  selector:
    app.kubernetes.io/name: shop
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    app.kubernetes.io/name: shop
  annotations:
    postrenderer.helm.sh/postrender-filename: shop/templates/deployment.yaml
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
  template:
    metadata:
      labels:
        app.kubernetes.io/name: shop
    spec:
      serviceAccountName: shop
      securityContext: {}
      containers:
      - name: shop
        securityContext: {}
        image: "registry.example.com/shop:1.16.0"
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        resources: {}
---
# Source: shop/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: "shop-test-connection"
  annotations:
    "helm.sh/hook": test
    postrenderer.helm.sh/postrender-filename: "shop/templates/tests/test-connection.yaml"
spec:
  containers:
  - name: wget
    image: registry.example.com/busybox:1.36
    command: ['wget']
    args: ['shop:80']
  restartPolicy: Never
"#;

#[test]
fn helm4_post_renderer_contract() {
    const KEY: &str = "postrenderer.helm.sh/postrender-filename";
    let text = ok(&harden(&[], Some(HELM4_STREAM)), "harden as a Helm 4 post-renderer");
    assert!(!text.trim().is_empty(), "Helm 4 rejects empty post-renderer output");
    let lines = |t: &str| -> Vec<String> { t.lines().filter(|l| l.contains(KEY)).map(str::to_string).collect() };
    assert_eq!(lines(&text), lines(HELM4_STREAM), "the filename annotations come back byte for byte");
    let (before, after) = (yaml(HELM4_STREAM), yaml(&text));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert!(a["metadata"]["annotations"][KEY].is_string(), "every document keeps its annotation: {a}");
        assert_eq!(a["metadata"]["annotations"], b["metadata"]["annotations"]);
    }
    assert_passes_check(&text, "Helm 4 post-rendered (hooks included)");
}

#[test]
fn helm4_plugin_yaml_is_a_postrenderer_v1_subprocess_plugin() {
    let plugin = one_yaml_file(&repo().join("examples/helm/harden-postrenderer/plugin.yaml"));
    assert_eq!(plugin["apiVersion"], "v1");
    assert_eq!(plugin["type"], "postrenderer/v1");
    assert_eq!(plugin["runtime"], "subprocess");
    assert_eq!(plugin["name"], "harden", "the name --post-renderer takes");
    assert!(plugin["version"].is_string());
    let command = plugin["runtimeConfig"]["platformCommand"][0]["command"].as_str().expect("a command");
    assert_eq!(Path::new(command).file_name().and_then(|n| n.to_str()), Some("harden"));
    if which("helm").is_none() {
        eprintln!("note: Helm itself is not installed; its contracts are checked by input shape above");
    }
}

// ------------------------------------------------------- CI and image

#[test]
fn ci_workflow_gates_with_check_and_uploads_sarif() {
    let workflow = one_yaml_file(&repo().join("examples/ci/harden.yml"));
    let steps = workflow["jobs"]["harden"]["steps"].as_array().expect("steps");
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    let gate = scripts.iter().find(|s| s.contains("--format sarif")).expect("a SARIF gate step");
    assert!(gate.contains("harden --check -o report --format sarif") && gate.contains("> harden.sarif"), "{gate}");
    let upload =
        steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.contains("upload-sarif"))).expect("an upload step");
    assert_eq!(upload["with"]["sarif_file"], "harden.sarif");
    assert_eq!(workflow["permissions"]["security-events"], "write");

    let hooks = one_yaml_file(&repo().join(".pre-commit-hooks.yaml"));
    let hook = &hooks[0];
    assert_eq!(hook["id"], "harden-check");
    assert_eq!(hook["language"], "rust");
    let entry = hook["entry"].as_str().expect("entry");
    assert!(entry.starts_with("harden --check"), "{entry}");

    // Run the gate the way the workflow does.
    let unhardened = repo().join("examples/kustomize/base");
    let out = harden(&["--check", "-o", "report", "--format", "sarif", unhardened.to_str().expect("UTF-8")], None);
    assert_eq!(out.status.code(), Some(1), "the gate fails on unhardened manifests");
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let args: Vec<&str> = entry.split_whitespace().skip(1).collect();
    let file = unhardened.join("deployment.yaml");
    let out = harden(&[&args[..], &[file.to_str().expect("UTF-8")]].concat(), None);
    assert_eq!(out.status.code(), Some(1), "the pre-commit hook fails: {}", String::from_utf8_lossy(&out.stderr));
    let hardened = ok(&harden(&[file.to_str().expect("UTF-8")], None), "harden");
    let out = harden(&[&args[..], &["-"]].concat(), Some(&hardened));
    assert_eq!(out.status.code(), Some(0), "and passes once hardened: {}", String::from_utf8_lossy(&out.stderr));
}

/// The hook `id` of `.pre-commit-hooks.yaml`.
fn hook(id: &str) -> Value {
    let hooks = one_yaml_file(&repo().join(".pre-commit-hooks.yaml"));
    hooks.as_array().expect("a list of hooks").iter().find(|h| h["id"] == id).expect("the hook").clone()
}

/// A hook's entry run as pre-commit runs it: with the files appended.
fn run_hook(hook: &Value, files: &[&Path]) -> Output {
    let entry = hook["entry"].as_str().expect("entry");
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("harden"));
    let args: Vec<&str> = words.chain(files.iter().map(|f| f.to_str().expect("UTF-8"))).collect();
    harden(&args, None)
}

#[test]
fn pre_commit_fix_hook_hardens_the_files_and_the_check_hook_then_passes() {
    let (fix, check) = (hook("harden-fix"), hook("harden-check"));
    assert_eq!(fix["language"], "rust");
    assert_eq!(fix["types"], check["types"]);
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("deployment.yaml");
    let original = std::fs::read_to_string(repo().join("examples/kustomize/base/deployment.yaml")).expect("example");
    std::fs::write(&file, &original).expect("write");
    assert_eq!(run_hook(&check, &[&file]).status.code(), Some(1), "the check hook fails on it");
    ok(&run_hook(&fix, &[&file]), "the fix hook");
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert_ne!(fixed, original, "the fix hook rewrote the file");
    assert_passes_check(&fixed, "the fixed file");
    ok(&run_hook(&fix, &[&file]), "the fix hook again");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), fixed, "and then changes nothing");
    let out = run_hook(&check, &[&file]);
    assert_eq!(out.status.code(), Some(0), "the check hook passes: {}", String::from_utf8_lossy(&out.stderr));
    // The example config uses hooks this repository defines.
    let config = one_yaml_file(&repo().join("examples/ci/pre-commit-config.yaml"));
    for h in config["repos"][0]["hooks"].as_array().expect("hooks") {
        hook(h["id"].as_str().expect("an id"));
    }
}

#[test]
#[ignore = "needs pre-commit"]
fn pre_commit_validates_the_hooks_and_the_example_config() {
    let pre_commit = tool("pre-commit");
    let validate = |what: &str, file: &Path| run(Command::new(&pre_commit).arg(what).arg(file), None);
    ok(&validate("validate-manifest", &repo().join(".pre-commit-hooks.yaml")), "pre-commit validate-manifest");
    ok(&validate("validate-config", &repo().join("examples/ci/pre-commit-config.yaml")), "pre-commit validate-config");
    // The validator does fail: a hook without an entry.
    let tmp = tempfile::tempdir().expect("temp dir");
    let broken = tmp.path().join("hooks.yaml");
    std::fs::write(&broken, "- id: harden-fix\n  name: harden\n  language: rust\n").expect("write");
    assert!(!validate("validate-manifest", &broken).status.success(), "a hook without an entry is refused");
}

/// The instructions of a Dockerfile, continuation lines joined, by stage.
fn dockerfile_stages(text: &str) -> Vec<Vec<(String, String)>> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    for ins in joined {
        let (op, args) = ins.split_once(char::is_whitespace).unwrap_or((&ins, ""));
        let op = op.to_ascii_uppercase();
        if op == "FROM" {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push((op, args.trim().to_string()));
        }
    }
    stages
}

#[test]
fn dockerfile_builds_a_static_binary_onto_distroless_as_a_numeric_non_root_user() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let stages = dockerfile_stages(&text);
    assert!(stages.len() >= 2, "multi-stage");
    let last = stages.last().expect("a final stage");
    let get = |op: &str| -> Vec<&str> { last.iter().filter(|(o, _)| o == op).map(|(_, a)| a.as_str()).collect() };
    let base = get("FROM")[0].split_whitespace().next().expect("an image");
    assert!(base == "scratch" || base.starts_with("gcr.io/distroless/static"), "final base {base}");
    let user = *get("USER").last().expect("the final stage sets USER");
    let numeric = user.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    assert!(numeric, "USER {user} must be numeric (runAsNonRoot can only verify numbers)");
    assert!(user.split(':').all(|p| p != "0"), "USER {user} is not root");
    assert!(get("RUN").is_empty(), "the final stage needs no shell");
    let copied: Vec<&str> = get("COPY");
    assert_eq!(copied, ["--from=build /src/target/release/harden /usr/local/bin/harden"], "nothing but harden");
    let entrypoint: Vec<String> = serde_json::from_str(get("ENTRYPOINT")[0]).expect("exec-form ENTRYPOINT");
    assert_eq!(entrypoint, ["/usr/local/bin/harden"]);
    // Every base image pinned by digest.
    for stage in &stages {
        let image = stage[0].1.split_whitespace().next().expect("an image");
        let digest = image.split_once("@sha256:").map(|(_, d)| d).unwrap_or_default();
        assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()), "{image} is not pinned");
    }
    let build = &stages[0];
    let runs: String = build.iter().filter(|(o, _)| o == "RUN").map(|(_, a)| a.as_str()).collect();
    assert!(runs.contains("cargo build --release --locked"), "{runs}");
    // The dependencies are built before the sources come in, so they are a
    // layer of their own.
    let at = |want: &dyn Fn(&(String, String)) -> bool| build.iter().position(want).expect("in the build stage");
    let manifest = at(&|(o, a)| o == "COPY" && a.starts_with("Cargo.toml Cargo.lock"));
    let deps = at(&|(o, a)| o == "RUN" && a.contains("cargo build"));
    let sources = at(&|(o, a)| o == "COPY" && a.starts_with("src "));
    assert!(manifest < deps && deps < sources, "Cargo.toml and Cargo.lock, cargo build, then src");
    assert!(build.iter().any(|(o, a)| o == "ENV" && a.contains("crt-static")), "a static binary");
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    assert!(ignore.lines().any(|l| l.trim() == "target"), "the build context leaves target/ out");
}
