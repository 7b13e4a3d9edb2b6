//! The registry client against a real registry (`docker-registry`, started
//! per test on a free loopback port): config fields, platforms, Basic auth
//! from `config.json` and from a credential helper, a wrong password, bearer
//! tokens (anonymous, Basic, identity token) from a token server the
//! registry trusts, a stopped or silent registry, and the digest cache.

mod cli;
mod server;
mod token;

use harden::registry::{ImageConfig, Platform, RegistryOptions, ResolveError, Resolver};
use serde_json::json;
use server::Registry;
use std::path::Path;
use std::time::{Duration, Instant};

/// Options with their own cache and an empty Docker config directory.
fn options(scratch: &Path) -> RegistryOptions {
    RegistryOptions {
        cache_dir: scratch.join("cache"),
        docker_config: scratch.join("docker"),
        per_image_timeout: Duration::from_secs(10),
        total_timeout: Duration::from_secs(30),
        ..RegistryOptions::default()
    }
}

fn resolve_one(options: RegistryOptions, reference: &str) -> Result<ImageConfig, ResolveError> {
    let mut results = Resolver::new(options).resolve(&[reference]);
    assert_eq!(results.len(), 1);
    let (name, result) = results.remove(0);
    assert_eq!(name, reference);
    result
}

fn write_docker_config(scratch: &Path, json: serde_json::Value) {
    std::fs::create_dir_all(scratch.join("docker")).expect("docker dir");
    std::fs::write(scratch.join("docker/config.json"), json.to_string()).expect("config.json");
}

fn auth(user: &str, password: &str) -> String {
    server::basic(user, password).trim_start_matches("Basic ").to_string()
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn config_fields_are_read_from_the_registry() {
    let registry = Registry::start();
    let scratch = tempfile::tempdir().expect("temp dir");
    let config = json!({
        "User": "1234:1234", "Volumes": {"/data": {}}, "ExposedPorts": {"80/tcp": {}},
        "Env": ["PATH=/usr/bin", "PORT=80"], "WorkingDir": "/srv",
    });
    let oci = registry.push_image("team/web", "v1", config.clone(), false);
    let docker = registry.push_image("team/legacy", "v1", config, true);
    for (repository, pushed) in [("team/web", oci), ("team/legacy", docker)] {
        let reference = format!("{}/{repository}:v1", registry.addr);
        let image = resolve_one(options(scratch.path()), &reference).unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(image.user.as_deref(), Some("1234:1234"));
        assert_eq!(image.volumes, ["/data"]);
        assert_eq!(image.exposed_ports, ["80/tcp"]);
        assert_eq!(image.env_var("PORT"), Some("80"));
        assert_eq!(image.working_dir.as_deref(), Some("/srv"));
        assert_eq!(image.digest, pushed.config_digest);
    }
}

/// `team/multi:v1`, an index of `linux/arm64/v8` (`User: 2000`) and
/// `linux/amd64` (`User: 1000`), and its reference.
fn push_two_platforms(registry: &Registry) -> String {
    let amd64 = registry.push_image_for("team/multi", "", json!({"User": "1000"}), "linux/amd64", false);
    let arm64 = registry.push_image_for("team/multi", "", json!({"User": "2000"}), "linux/arm64/v8", false);
    registry.push_index(
        "team/multi",
        "v1",
        &[("linux/arm64/v8", &arm64.manifest_digest), ("linux/amd64", &amd64.manifest_digest)],
    );
    format!("{}/team/multi:v1", registry.addr)
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn an_index_gives_linux_amd64_unless_another_platform_is_asked() {
    let registry = Registry::start();
    let scratch = tempfile::tempdir().expect("temp dir");
    let reference = push_two_platforms(&registry);
    let default = resolve_one(options(scratch.path()), &reference).expect("linux/amd64");
    assert_eq!(default.user.as_deref(), Some("1000"));
    let arm = RegistryOptions { platform: "linux/arm64".parse().expect("platform"), ..options(scratch.path()) };
    assert_eq!(resolve_one(arm, &reference).expect("linux/arm64").user.as_deref(), Some("2000"));
    let s390x: Platform = "linux/s390x".parse().expect("platform");
    let missing = resolve_one(RegistryOptions { platform: s390x, ..options(scratch.path()) }, &reference);
    assert_eq!(
        missing.expect_err("no s390x").to_string(),
        "the index has no linux/s390x image (it has linux/arm64/v8, linux/amd64)"
    );
}

/// A registry that asks `alice:s3cret` for everything, with `private/app:v1`
/// (`User: 4242`) in it, and that image's reference.
fn private_registry() -> (Registry, String) {
    let registry = Registry::start_with_password("alice", "s3cret");
    registry.push_image("private/app", "v1", json!({"User": "4242"}), false);
    let reference = format!("{}/private/app:v1", registry.addr);
    (registry, reference)
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn basic_auth_from_config_json() {
    let (registry, reference) = private_registry();
    let scratch = tempfile::tempdir().expect("temp dir");
    let anonymous = resolve_one(options(scratch.path()), &reference);
    assert_eq!(anonymous.expect_err("no credentials").to_string(), "registry said 401 Unauthorized");
    write_docker_config(scratch.path(), json!({"auths": {registry.addr.clone(): {"auth": auth("alice", "s3cret")}}}));
    let image = resolve_one(options(scratch.path()), &reference).expect("authenticated");
    assert_eq!(image.user.as_deref(), Some("4242"));
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_wrong_password_is_a_401_that_does_not_show_it() {
    let (registry, reference) = private_registry();
    let scratch = tempfile::tempdir().expect("temp dir");
    let wrong = auth("alice", "hunter2-wrong");
    write_docker_config(scratch.path(), json!({"auths": {format!("http://{}", registry.addr): {"auth": wrong}}}));
    let error = resolve_one(options(scratch.path()), &reference).expect_err("wrong password");
    assert_eq!(error, ResolveError::Status { status: 401, reason: "Unauthorized".into() });
    let shown = format!("{error} {error:?}");
    for secret in ["hunter2-wrong", wrong.as_str(), "s3cret"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_bearer_challenge_is_answered_with_a_token_anonymous_or_with_credentials() {
    let mut registry = Registry::start();
    registry.push_image("public/app", "v1", json!({"User": "101"}), false);
    registry.push_image("private/app", "v1", json!({"User": "202"}), false);
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = token::TokenServer::start(dir.path());
    registry.require_tokens(&tokens.realm, token::SERVICE, token::ISSUER, &tokens.cert);
    let public = format!("{}/public/app:v1", registry.addr);
    let private = format!("{}/private/app:v1", registry.addr);

    let anonymous = tempfile::tempdir().expect("temp dir");
    assert_eq!(resolve_one(options(anonymous.path()), &public).expect("anonymous token").user.as_deref(), Some("101"));
    let error = resolve_one(options(anonymous.path()), &private).expect_err("no access");
    assert_eq!(error.to_string(), "registry said 401 Unauthorized");

    let with_password = tempfile::tempdir().expect("temp dir");
    write_docker_config(
        with_password.path(),
        json!({"auths": {registry.addr.clone(): {"auth": auth("alice", "s3cret")}}}),
    );
    assert_eq!(resolve_one(options(with_password.path()), &private).expect("basic").user.as_deref(), Some("202"));

    let with_identity = tempfile::tempdir().expect("temp dir");
    let identity = json!({"auths": {registry.addr.clone(): {"identitytoken": token::REFRESH_TOKEN}}});
    write_docker_config(with_identity.path(), identity);
    assert_eq!(resolve_one(options(with_identity.path()), &private).expect("identity").user.as_deref(), Some("202"));

    let wrong = tempfile::tempdir().expect("temp dir");
    write_docker_config(wrong.path(), json!({"auths": {registry.addr.clone(): {"auth": auth("alice", "nope")}}}));
    let error = resolve_one(options(wrong.path()), &private).expect_err("wrong password");
    assert_eq!(error.to_string(), "registry said 401 Unauthorized");

    assert_eq!(
        tokens.requests(),
        [
            "GET anonymous repository:public/app:pull",
            "GET anonymous repository:private/app:pull",
            "GET basic repository:private/app:pull",
            "POST refresh repository:private/app:pull",
            "GET bad-basic repository:private/app:pull",
        ]
    );
}

/// A `docker-credential-harden-test` program that answers for `server` only
/// and notes each server it is asked about.
fn fake_helper(dir: &Path, server: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("docker-credential-harden-test");
    let asked = dir.join("asked");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server\necho \"$server\" >> '{}'\n\
             if [ \"$server\" = '{server}' ]; then\n  \
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}}' \"$server\"\n\
             else\n  echo 'credentials not found in native keychain'\n  exit 1\nfi\n",
            asked.display()
        ),
    )
    .expect("helper script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    asked
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_credential_helper_program_answers_for_the_registry() {
    let (registry, reference) = private_registry();
    let helpers = tempfile::tempdir().expect("temp dir");
    let asked = fake_helper(helpers.path(), &registry.addr);
    let path = std::env::join_paths(
        std::iter::once(helpers.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    for config in [json!({"credsStore": "harden-test"}), json!({"credHelpers": {registry.addr.clone(): "harden-test"}})]
    {
        let scratch = tempfile::tempdir().expect("temp dir");
        write_docker_config(scratch.path(), config.clone());
        let options = RegistryOptions { helper_path: Some(path.clone()), ..options(scratch.path()) };
        let image = resolve_one(options, &reference).unwrap_or_else(|e| panic!("{config}: {e}"));
        assert_eq!(image.user.as_deref(), Some("4242"), "{config}");
    }
    let asked = std::fs::read_to_string(asked).expect("the helper was run");
    assert_eq!(asked.lines().collect::<Vec<_>>(), [registry.addr.as_str(); 2]);
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_stopped_registry_is_a_connection_error_within_the_timeout() {
    let mut registry = Registry::start();
    registry.push_image("team/app", "v1", json!({}), false);
    registry.stop();
    let scratch = tempfile::tempdir().expect("temp dir");
    let options = RegistryOptions { per_image_timeout: Duration::from_secs(2), ..options(scratch.path()) };
    let started = Instant::now();
    let error = resolve_one(options, &format!("{}/team/app:v1", registry.addr)).expect_err("stopped");
    let took = started.elapsed();
    assert_eq!(error.to_string(), format!("cannot connect to {}: connection refused", registry.addr));
    assert!(took < Duration::from_secs(2) + Duration::from_secs(3), "took {took:?}");
    eprintln!("a stopped registry: error after {took:?}");
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_digest_reference_comes_from_the_cache_with_the_registry_stopped() {
    let mut registry = Registry::start();
    let amd64 = registry.push_image_for("team/pinned", "", json!({"User": "77"}), "linux/amd64", false);
    let arm64 = registry.push_image_for("team/pinned", "", json!({"User": "88"}), "linux/arm64", false);
    let index = registry.push_index(
        "team/pinned",
        "v1",
        &[("linux/amd64", &amd64.manifest_digest), ("linux/arm64", &arm64.manifest_digest)],
    );
    let scratch = tempfile::tempdir().expect("temp dir");
    let pinned = format!("{}/team/pinned@{index}", registry.addr);
    assert_eq!(resolve_one(options(scratch.path()), &pinned).expect("first").user.as_deref(), Some("77"));
    registry.stop();
    assert_eq!(resolve_one(options(scratch.path()), &pinned).expect("from the cache").user.as_deref(), Some("77"));
    // The index itself is cached, so another platform of it needs only its own
    // manifest and config: with the registry stopped, that is the error.
    let arm = RegistryOptions { platform: "linux/arm64".parse().expect("platform"), ..options(scratch.path()) };
    let error = resolve_one(arm, &pinned).expect_err("not cached");
    assert!(matches!(error, ResolveError::Connect { .. }), "{error}");
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_tag_asks_for_its_manifest_each_time_and_takes_the_config_from_the_cache() {
    let registry = Registry::start();
    let pushed = registry.push_image("team/app", "v1", json!({"User": "1001"}), false);
    let scratch = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/team/app:v1", registry.addr);
    let config_get = format!("GET /v2/team/app/blobs/{} HTTP/1.1", pushed.config_digest);
    let manifest_get = "GET /v2/team/app/manifests/v1 HTTP/1.1";
    let count = |line: &str| registry.requests().iter().filter(|r| *r == line).count();
    resolve_one(options(scratch.path()), &reference).expect("first");
    assert_eq!((count(manifest_get), count(&config_get)), (1, 1));
    resolve_one(options(scratch.path()), &reference).expect("second");
    assert_eq!((count(manifest_get), count(&config_get)), (2, 1), "{:#?}", registry.requests());
}

#[test]
#[ignore = "needs docker-registry (cargo test -- --include-ignored)"]
fn a_corrupt_cache_entry_is_fetched_again() {
    let registry = Registry::start();
    let pushed = registry.push_image("team/app", "v1", json!({"User": "1001"}), false);
    let scratch = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/team/app@{}", registry.addr, pushed.manifest_digest);
    resolve_one(options(scratch.path()), &reference).expect("first");
    let entry = scratch.path().join("cache/sha256").join(&pushed.config_digest["sha256:".len()..]);
    let good = std::fs::read(&entry).expect("the config is cached");
    std::fs::write(&entry, br#"{"config": {"User": "0"}}"#).expect("corrupt it");
    let image = resolve_one(options(scratch.path()), &reference).expect("refetched");
    assert_eq!(image.user.as_deref(), Some("1001"));
    assert_eq!(std::fs::read(&entry).expect("cached again"), good);
    let config_get = format!("GET /v2/team/app/blobs/{} HTTP/1.1", pushed.config_digest);
    assert_eq!(registry.requests().iter().filter(|r| **r == config_get).count(), 2);
}

/// A server that accepts connections and never answers: the deadline, not
/// the server, ends each request. No registry needed.
#[test]
fn a_silent_registry_times_out_at_the_image_and_total_deadlines() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let scratch = tempfile::tempdir().expect("temp dir");
    let per_image = RegistryOptions { per_image_timeout: Duration::from_millis(500), ..options(scratch.path()) };
    let started = Instant::now();
    let error = resolve_one(per_image, &format!("{addr}/a/b:v1")).expect_err("silent");
    assert_eq!(error, ResolveError::Timeout { after: Duration::from_millis(500) });
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    let total = RegistryOptions { total_timeout: Duration::from_millis(700), ..options(scratch.path()) };
    let refs: Vec<String> = (0..20).map(|i| format!("{addr}/a/image{i}:v1")).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let started = Instant::now();
    let results = Resolver::new(total).resolve(&refs);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(results.len(), 20);
    for (reference, result) in results {
        assert_eq!(result, Err(ResolveError::Timeout { after: Duration::from_millis(700) }), "{reference}");
    }
}

#[test]
fn references_are_resolved_once_each_in_first_seen_order() {
    let scratch = tempfile::tempdir().expect("temp dir");
    // Invalid references, so nothing goes to the network.
    let results = Resolver::new(options(scratch.path())).resolve(&["B:1", "A", "B:1", "c@sha256:00"]);
    let names: Vec<&str> = results.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["B:1", "A", "c@sha256:00"]);
    for (name, result) in &results {
        assert!(matches!(result, Err(ResolveError::Reference(_))), "{name}: {result:?}");
    }
}
