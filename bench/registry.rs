//! The registry client's benchmark (issue 17): 50 distinct images pushed to
//! a local `docker-registry`, resolved cold (empty cache: manifest + config
//! each), then again from the cache (digest references: no request at all;
//! tags: the manifest only). Goals: cold < 2 s, from the cache < 50 ms.
//!
//! Then the same through the command line (`harden --resolve-images` on a
//! stream of 50 Deployments, one image each; the whole process timed, so
//! reading, hardening and writing the stream too), and, for scale, the same
//! stream without the flag.
//!
//! `cargo bench --bench registry` (needs docker-registry, as the tests do).
//! Prints one Markdown table: best and median of `RUNS` runs.

#[path = "../tests/registry/server.rs"]
mod server;

use harden::registry::{RegistryOptions, Resolver};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMAGES: usize = 50;
const RUNS: usize = 7;

fn main() {
    let registry = server::Registry::start();
    let mut by_tag = Vec::new();
    let mut by_digest = Vec::new();
    for i in 0..IMAGES {
        let repository = format!("bench/image-{i}");
        let config =
            json!({"User": format!("{}", 1000 + i), "ExposedPorts": {"8080/tcp": {}}, "Volumes": {"/data": {}}});
        let pushed = registry.push_image(&repository, "v1", config, false);
        by_tag.push(format!("{}/{repository}:v1", registry.addr));
        by_digest.push(format!("{}/{repository}@{}", registry.addr, pushed.manifest_digest));
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let options = |cache: &Path| RegistryOptions {
        cache_dir: cache.to_path_buf(),
        docker_config: scratch.path().join("no-docker-config"),
        ..RegistryOptions::default()
    };
    let time = |refs: &[String], cache: &Path| {
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let started = Instant::now();
        let results = Resolver::new(options(cache)).resolve(&refs);
        let took = started.elapsed();
        let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
        assert!(failed.is_empty(), "{failed:?}");
        took
    };

    let mut cold = Vec::new();
    for run in 0..RUNS {
        let cache = scratch.path().join(format!("cold-{run}"));
        cold.push(time(&by_tag, &cache));
    }
    let warm_cache = scratch.path().join("warm");
    time(&by_digest, &warm_cache);
    let before = registry.requests().len();
    let digests: Vec<Duration> = (0..RUNS).map(|_| time(&by_digest, &warm_cache)).collect();
    assert_eq!(registry.requests().len(), before, "digest references from the cache made requests");
    let tags: Vec<Duration> = (0..RUNS).map(|_| time(&by_tag, &warm_cache)).collect();

    let stream_of = |refs: &[String]| -> String { refs.iter().enumerate().map(|(i, r)| deployment(i, r)).collect() };
    let (tag_stream, digest_stream) = (scratch.path().join("tags.yaml"), scratch.path().join("digests.yaml"));
    std::fs::write(&tag_stream, stream_of(&by_tag)).expect("stream");
    std::fs::write(&digest_stream, stream_of(&by_digest)).expect("stream");
    let run = |stream: &Path, cache: Option<&Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
        command.arg(stream).env("DOCKER_CONFIG", scratch.path().join("no-docker-config"));
        if let Some(cache) = cache {
            command.args(["--resolve-images=required", "--image-cache"]).arg(cache);
        }
        let started = Instant::now();
        let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("harden runs");
        let took = started.elapsed();
        assert!(status.success(), "harden {}: {status}", stream.display());
        took
    };
    let cli_cold: Vec<Duration> =
        (0..RUNS).map(|i| run(&tag_stream, Some(&scratch.path().join(format!("cli-cold-{i}"))))).collect();
    let cli_cache = scratch.path().join("cli-warm");
    run(&digest_stream, Some(&cli_cache));
    let before = registry.requests().len();
    let cli_digests: Vec<Duration> = (0..RUNS).map(|_| run(&digest_stream, Some(&cli_cache))).collect();
    assert_eq!(registry.requests().len(), before, "digest references from the cache made requests");
    let cli_off: Vec<Duration> = (0..RUNS).map(|_| run(&tag_stream, None)).collect();

    println!("| {IMAGES} distinct images, local docker-registry | best | median | goal |");
    println!("|---|---|---|---|");
    for (what, runs, goal) in [
        ("cold (empty cache), tags", cold, "< 2 s"),
        ("from the cache, digest references (no request)", digests, "< 50 ms"),
        ("from the cache, tags (manifest requests only)", tags, "—"),
        ("`harden --resolve-images` on 50 Deployments, cold, tags", cli_cold, "< 2 s"),
        ("`harden --resolve-images` on 50 Deployments, from the cache, digests", cli_digests, "< 50 ms"),
        ("`harden` on the same 50 Deployments, no flag", cli_off, "—"),
    ] {
        println!("| {what} | {} | {} | {goal} |", ms(best(&runs)), ms(median(&runs)));
    }
    println!("\n{RUNS} runs each; nproc {}.", std::thread::available_parallelism().map_or(0, |n| n.get()));
}

/// A Deployment running `image`, declaring no port.
fn deployment(i: usize, image: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    matchLabels:\n      \
         app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      containers:\n        \
         - name: app\n          image: {image}\n"
    )
}

fn best(runs: &[Duration]) -> Duration {
    runs.iter().copied().min().unwrap_or_default()
}

fn median(runs: &[Duration]) -> Duration {
    let mut sorted = runs.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
