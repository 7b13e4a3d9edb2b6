//! `harden --resolve-images` end to end (issue 17's acceptance): the binary
//! against a real registry, each test with its own Docker config directory
//! and image cache.

use crate::server::Registry;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of the binary.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// `harden ARGS` on `input`, with `scratch/docker` as the Docker config
/// directory and `scratch/cache` as the image cache, and `env` besides.
fn harden(scratch: &Path, args: &[&str], env: &[(&str, &str)], input: &str) -> Ran {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .env("DOCKER_CONFIG", scratch.join("docker"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("input written");
    let out = child.wait_with_output().expect("harden finishes");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// A Deployment of one container running `image` that declares no port,
/// and a Service that sends port 80 to it.
fn web(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      \
         app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        \
         - name: web\n          image: {image}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  \
         selector:\n    app: web\n  ports:\n    - port: 80\n      targetPort: 80\n"
    )
}

/// The Deployment's pod spec in harden's output.
fn pod_spec(stdout: &str) -> Value {
    let docs = harden::yaml::parse_values(stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    docs[0]["spec"]["template"]["spec"].clone()
}

fn ok(ran: &Ran) {
    assert_eq!(ran.code, 0, "stderr:\n{}", ran.stderr);
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_user_volumes_and_ports_come_from_the_image_config() {
    let registry = Registry::start();
    let config = json!({"User": "1234:1234", "Volumes": {"/data": {}}, "ExposedPorts": {"80/tcp": {}}});
    registry.push_image("team/web", "v1", config, false);
    let image = format!("{}/team/web:v1", registry.addr);
    let scratch = tempfile::tempdir().expect("temp dir");
    let ran = harden(scratch.path(), &["--resolve-images"], &[], &web(&image));
    ok(&ran);
    let spec = pod_spec(&ran.stdout);
    assert_eq!(spec["securityContext"]["runAsUser"], json!(1234), "{}", ran.stdout);
    assert_eq!(spec["securityContext"]["runAsGroup"], json!(1234), "{}", ran.stdout);
    let mounts = spec["containers"][0]["volumeMounts"].as_array().expect("volume mounts");
    let data = mounts.iter().find(|m| m["mountPath"] == "/data").unwrap_or_else(|| panic!("{}", ran.stdout));
    let volume = spec["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == data["name"]);
    assert_eq!(volume.map(|v| v["emptyDir"].clone()), Some(json!({})), "{}", ran.stdout);
    assert!(!ran.stderr.contains("does not know"), "a read image is not unknown:\n{}", ran.stderr);
    // Port 80, which the image exposes and the manifest does not declare, is
    // handled by the strategy (auto: the image cannot be told another port,
    // so the sysctl).
    assert_eq!(
        spec["securityContext"]["sysctls"],
        json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]),
        "{}",
        ran.stdout
    );
    let report = harden(scratch.path(), &["--resolve-images", "-o", "report"], &[], &web(&image));
    ok(&report);
    for line in [
        format!("image {image}: config.User \"1234:1234\": runs as UID 1234, GID 1234"),
        format!("image {image}: config.Volumes /data: a data directory, made writable"),
        format!("image {image}: config.ExposedPorts 80: listens there, cannot be told another port"),
    ] {
        assert!(report.stdout.contains(&line), "{line}\n{}", report.stdout);
    }
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_user_by_name_gets_the_default_uid_and_the_user_by_uid_note() {
    let registry = Registry::start();
    registry.push_image("team/named", "v1", json!({"User": "app"}), false);
    let image = format!("{}/team/named:v1", registry.addr);
    let scratch = tempfile::tempdir().expect("temp dir");
    let ran = harden(scratch.path(), &["--resolve-images"], &[], &web(&image));
    ok(&ran);
    assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(10001), "{}", ran.stdout);
    let report = harden(scratch.path(), &["--resolve-images", "-o", "report"], &[], &web(&image));
    ok(&report);
    let note = format!("image {image}: config.User \"app\" is a name: ");
    assert!(report.stdout.contains(&note), "{}", report.stdout);
    assert!(report.stdout.contains("set USER by UID in the image (`USER $APP_UID`"), "{}", report.stdout);
    // As a KRM function the note is a result too.
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: v1\n  kind: \
         ConfigMap\n  data:\n    resolve-images: \"true\"\nitems:\n{}",
        web(&image)
            .split("---\n")
            .next()
            .expect("the Deployment")
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let list = list.replacen("  apiVersion: apps/v1", "- apiVersion: apps/v1", 1);
    let krm = harden(scratch.path(), &[], &[], &list);
    ok(&krm);
    let out = harden::yaml::parse_values(&krm.stdout).expect("a ResourceList").remove(0);
    assert_eq!(out["items"][0]["spec"]["template"]["spec"]["securityContext"]["runAsUser"], json!(10001));
    let results = out["results"].as_array().expect("results");
    let said = results.iter().filter_map(|r| r["message"].as_str()).filter(|m| m.contains(&note)).count();
    assert_eq!(said, 1, "{}", krm.stdout);
}

/// A team's ASP.NET image, known by nothing but its config: a user by name
/// with `APP_UID`, port 80 exposed and set by `ASPNETCORE_HTTP_PORTS`. The
/// table's name-based .NET handling does not apply (`team/shop` names no
/// .NET image); what the image says does.
#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_an_aspnet_image_is_moved_from_what_its_env_says() {
    let registry = Registry::start();
    let config = json!({
        "User": "app",
        "ExposedPorts": {"80/tcp": {}},
        "Env": ["PATH=/usr/bin", "APP_UID=1654", "ASPNETCORE_HTTP_PORTS=80"]
    });
    registry.push_image("team/shop", "v3", config, false);
    let image = format!("{}/team/shop:v3", registry.addr);
    let scratch = tempfile::tempdir().expect("temp dir");
    let ran = harden(scratch.path(), &["--resolve-images"], &[], &web(&image));
    ok(&ran);
    let docs = harden::yaml::parse_values(&ran.stdout).expect("the stream");
    let spec = &docs[0]["spec"]["template"]["spec"];
    assert_eq!(spec["securityContext"]["runAsUser"], json!(1654), "{}", ran.stdout);
    let env = spec["containers"][0]["env"].as_array().unwrap_or_else(|| panic!("{}", ran.stdout));
    assert!(env.contains(&json!({"name": "ASPNETCORE_HTTP_PORTS", "value": "8080"})), "{}", ran.stdout);
    assert!(spec["securityContext"]["sysctls"].is_null(), "moved, not allowed to bind:\n{}", ran.stdout);
    assert_eq!(docs[1]["spec"]["ports"][0], json!({"port": 80, "targetPort": 8080}), "{}", ran.stdout);

    // Without the flag the image is unknown: no port, no UID of its own.
    let blind = harden(scratch.path(), &[], &[], &web(&image));
    ok(&blind);
    let spec = pod_spec(&blind.stdout);
    assert_eq!(spec["securityContext"]["runAsUser"], json!(10001), "{}", blind.stdout);
    assert!(spec["containers"][0]["env"].is_null(), "{}", blind.stdout);
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_an_index_gives_the_platform_asked() {
    let registry = Registry::start();
    let image = crate::push_two_platforms(&registry);
    let scratch = tempfile::tempdir().expect("temp dir");
    for (args, uid) in [
        (&["--resolve-images"][..], 1000),
        (&["--resolve-images", "--platform", "linux/arm64"][..], 2000),
        (&["--resolve-images", "--platform", "linux/arm64/v8"][..], 2000),
    ] {
        let ran = harden(scratch.path(), args, &[], &web(&image));
        ok(&ran);
        assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(uid), "{args:?}");
    }
}

/// A registry that asks `alice:s3cret`, holding `library/mongo:8` (which
/// harden's table knows as UID 999) with `User: 4242`, and that reference.
fn private_mongo() -> (Registry, String) {
    let registry = Registry::start_with_password("alice", "s3cret");
    registry.push_image("library/mongo", "8", json!({"User": "4242"}), false);
    let image = format!("{}/library/mongo:8", registry.addr);
    (registry, image)
}

fn write_docker_config(scratch: &Path, registry: &str, user: &str, password: &str) {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::create_dir_all(scratch.join("docker")).expect("docker dir");
    let config = json!({"auths": {registry: {"auth": auth}}});
    std::fs::write(scratch.join("docker/config.json"), config.to_string()).expect("config.json");
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_basic_auth_from_config_json() {
    let (registry, image) = private_mongo();
    let scratch = tempfile::tempdir().expect("temp dir");
    write_docker_config(scratch.path(), &registry.addr, "alice", "s3cret");
    let ran = harden(scratch.path(), &["--resolve-images"], &[], &web(&image));
    ok(&ran);
    assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(4242), "{}", ran.stdout);
    assert!(!ran.stderr.contains("registry said"), "{}", ran.stderr);
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_a_wrong_password_warns_and_uses_the_table() {
    let (registry, image) = private_mongo();
    let scratch = tempfile::tempdir().expect("temp dir");
    write_docker_config(scratch.path(), &registry.addr, "alice", "hunter2-wrong");
    let ran = harden(scratch.path(), &["--resolve-images"], &[], &web(&image));
    ok(&ran);
    let warning =
        format!("warning: image {image}: registry said 401 Unauthorized; using what harden knows from its table\n");
    assert_eq!(ran.stderr.matches(&warning).count(), 1, "{}", ran.stderr);
    assert!(!ran.stderr.contains("hunter2"), "{}", ran.stderr);
    assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(999), "the table's mongo row");
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_a_stopped_registry_warns_within_the_timeout() {
    let mut registry = Registry::start();
    registry.push_image("team/app", "v1", json!({"User": "1001"}), false);
    registry.stop();
    let image = format!("{}/team/app:v1", registry.addr);
    let scratch = tempfile::tempdir().expect("temp dir");
    let ran = harden(scratch.path(), &["--resolve-images", "--registry-timeout", "2"], &[], &web(&image));
    ok(&ran);
    let warning =
        format!("warning: image {image}: cannot connect to {}: connection refused; using what", registry.addr);
    assert!(ran.stderr.contains(&warning), "{}", ran.stderr);
    assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(10001));
    assert!(ran.took < Duration::from_secs(2 * 3 + 2), "took {:?}", ran.took);
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_required_exits_2_and_writes_nothing() {
    let mut registry = Registry::start();
    registry.push_image("team/ok", "v1", json!({"User": "1001"}), false);
    let good = format!("{}/team/ok:v1", registry.addr);
    let missing = format!("{}/team/missing:v1", registry.addr);
    let scratch = tempfile::tempdir().expect("temp dir");
    let input = format!("{}---\n{}", web(&good), web(&missing).replace("name: web", "name: other"));
    let ran = harden(scratch.path(), &["--resolve-images=required"], &[], &input);
    assert_eq!((ran.code, ran.stdout.as_str()), (2, ""), "{}", ran.stderr);
    assert_eq!(
        ran.stderr,
        format!(
            "harden: image {missing}: registry said 404 Not Found\nharden: --resolve-images=required and an image \
             could not be read: nothing written\n"
        )
    );
    // The config file's key asks the same; every output refuses alike.
    registry.stop();
    std::fs::write(scratch.path().join("harden.yaml"), "kind: HardenConfig\nresolveImages: required\n")
        .expect("config");
    let config = scratch.path().join("harden.yaml");
    let config = config.to_str().expect("a UTF-8 path");
    for args in [&["-c", config][..], &["-c", config, "-o", "report"], &["-c", config, "--diff"]] {
        let ran = harden(scratch.path(), args, &[], &web(&good));
        assert_eq!((ran.code, ran.stdout.as_str()), (2, ""), "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains("cannot connect to"), "{}", ran.stderr);
    }
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_the_second_run_reads_digest_references_from_the_cache() {
    let mut registry = Registry::start();
    let pushed = registry.push_image("team/pinned", "v1", json!({"User": "77"}), false);
    let image = format!("{}/team/pinned@{}", registry.addr, pushed.manifest_digest);
    let scratch = tempfile::tempdir().expect("temp dir");
    let cache = scratch.path().join("own-cache");
    let args = ["--resolve-images", "--image-cache", cache.to_str().expect("UTF-8")];
    ok(&harden(scratch.path(), &args, &[], &web(&image)));
    registry.stop();
    let ran = harden(scratch.path(), &args, &[], &web(&image));
    ok(&ran);
    assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(77), "{}", ran.stderr);
    assert!(cache.join("sha256").is_dir(), "--image-cache is where the cache is");
}

/// Proxies no request could get through, and a stream whose images are on a
/// registry that does not exist: without the flag harden reads nothing of
/// them (no warning, as with no network at all); with it, each image is a
/// warning.
#[test]
fn resolve_images_off_touches_no_network() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let proxies = [
        ("HTTPS_PROXY", "http://10.255.255.1:9"),
        ("HTTP_PROXY", "http://10.255.255.1:9"),
        ("ALL_PROXY", "http://10.255.255.1:9"),
        ("https_proxy", "http://10.255.255.1:9"),
        ("http_proxy", "http://10.255.255.1:9"),
        ("all_proxy", "http://10.255.255.1:9"),
    ];
    let image = "registry.does-not-exist.invalid/team/app:1";
    let off = harden(scratch.path(), &[], &proxies, &web(image));
    ok(&off);
    assert!(!off.stderr.contains("warning: image"), "{}", off.stderr);
    assert!(!scratch.path().join("cache/harden").exists(), "no cache directory was made");
    let on = harden(scratch.path(), &["--resolve-images", "--registry-timeout", "2"], &proxies, &web(image));
    ok(&on);
    assert!(on.stderr.contains(&format!("warning: image {image}: ")), "{}", on.stderr);
    assert_eq!(pod_spec(&on.stdout), pod_spec(&off.stdout), "the table's answer either way");
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn resolve_images_reads_the_images_of_files_and_directories() {
    let registry = Registry::start();
    registry.push_image("team/web", "v1", json!({"User": "1234:1234"}), false);
    let scratch = tempfile::tempdir().expect("temp dir");
    let dir = scratch.path().join("deploy");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("web.yaml");
    std::fs::write(&file, web(&format!("{}/team/web:v1", registry.addr))).expect("manifest");
    let (file, dir) = (file.to_str().expect("UTF-8"), dir.to_str().expect("UTF-8"));
    // Streamed (files read once more for their images) and held whole (a diff).
    for args in [&["--resolve-images", file][..], &["--resolve-images", dir], &["--resolve-images", "--diff", file]] {
        let ran = harden(scratch.path(), args, &[], "");
        ok(&ran);
        assert_eq!(pod_spec(&ran.stdout)["securityContext"]["runAsUser"], json!(1234), "{args:?}");
    }
}

/// Malformed input is the error it is without the flag, found before any
/// image is read.
#[test]
fn resolve_images_malformed_input_is_the_same_error_and_reads_no_image() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let input = format!("{}---\nkind: [\n", web("registry.does-not-exist.invalid/team/app:1"));
    let off = harden(scratch.path(), &[], &[], &input);
    let on = harden(scratch.path(), &["--resolve-images", "--registry-timeout", "2"], &[], &input);
    assert_eq!(off.code, 2, "{}", off.stderr);
    assert_eq!((on.code, on.stdout.as_str(), on.stderr.as_str()), (2, "", off.stderr.as_str()));
    assert!(on.took < Duration::from_secs(2), "no image was read: {:?}", on.took);
}
