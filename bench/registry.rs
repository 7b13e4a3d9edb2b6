//! The registry client's benchmark (issue 17): 50 distinct images pushed to
//! a local `docker-registry`, resolved cold (empty cache: manifest + config
//! each), then again from the cache (digest references: no request at all;
//! tags: the manifest only). Goals: cold < 2 s, from the cache < 50 ms.
//!
//! `cargo bench --bench registry` (needs docker-registry, as the tests do).
//! Prints one Markdown table: best and median of `RUNS` runs.

#[path = "../tests/registry/server.rs"]
mod server;

use harden::registry::{RegistryOptions, Resolver};
use serde_json::json;
use std::path::Path;
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

    println!("| {IMAGES} distinct images, local docker-registry | best | median | goal |");
    println!("|---|---|---|---|");
    for (what, runs, goal) in [
        ("cold (empty cache), tags", cold, "< 2 s"),
        ("from the cache, digest references (no request)", digests, "< 50 ms"),
        ("from the cache, tags (manifest requests only)", tags, "—"),
    ] {
        println!("| {what} | {} | {} | {goal} |", ms(best(&runs)), ms(median(&runs)));
    }
    println!("\n{RUNS} runs each; nproc {}.", std::thread::available_parallelism().map_or(0, |n| n.get()));
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
