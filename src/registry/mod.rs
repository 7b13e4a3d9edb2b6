//! Reading images' own metadata from their registries: for each image
//! reference, the manifest (or index → the platform's manifest) and the
//! config blob, through the OCI distribution API, with Docker's reference
//! rules and credentials, a digest-keyed cache on disk and bounded time.
//!
//! This stage sits between read and plan and knows nothing of either: it
//! takes reference strings and gives [`ImageConfig`]s or the reason why not.
//! Nothing here runs unless a [`Resolver`] is made, so a run that does not
//! resolve images starts no thread, TLS setup or network access.
//!
//! The HTTP client is ureq (blocking, rustls on ring), not `oci-client`:
//! measured on this machine (2026-12-04, release, stripped), a program that
//! pulls one manifest and config with `oci-client` 0.18 (tokio, reqwest,
//! rustls on ring) is 5.99 MB against 0.44 MB for the same program without
//! it, and took 6 min 48 s to build; harden is 3.35 MB today, so it would
//! have ended near 8.9 MB, over the 8 MB budget. The same program on ureq
//! 3.5 with sha2 is 2.66 MB (built in under 2 min), and harden with a call
//! to [`Resolver`] linked in is 5.70 MB. The distribution API harden needs is
//! three GETs and a token request; credential helpers and `config.json` are
//! not in `oci-client` either.

mod cache;
mod challenge;
mod client;
mod credentials;
mod error;
mod image_config;
mod manifest;
mod reference;

pub use error::ResolveError;
pub use image_config::ImageConfig;
pub use manifest::Platform;
pub use reference::ImageRef;

use cache::{Cache, sha256_digest};
use client::{CONFIG_LIMIT, Client, Deadline, MANIFEST_LIMIT};
use manifest::Manifest;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How images are resolved.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// The index entry to read (default `linux/amd64`).
    pub platform: Platform,
    /// All requests for one image, credential helpers included.
    pub per_image_timeout: Duration,
    /// All images of one `resolve` call.
    pub total_timeout: Duration,
    /// Where manifests and configs are kept by digest.
    pub cache_dir: PathBuf,
    /// Where `config.json` is.
    pub docker_config: PathBuf,
    /// Where `docker-credential-*` programs are looked up; None is `$PATH`.
    pub helper_path: Option<OsString>,
}

impl Default for RegistryOptions {
    /// Docker's and the XDG defaults from the environment: the cache in
    /// `$XDG_CACHE_HOME/harden/images` (or `~/.cache/harden/images`), the
    /// credentials in `$DOCKER_CONFIG` (or `~/.docker`).
    fn default() -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = env("HOME").unwrap_or_else(std::env::temp_dir);
        Self {
            platform: Platform::default(),
            per_image_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            cache_dir: env("XDG_CACHE_HOME").unwrap_or_else(|| home.join(".cache")).join("harden").join("images"),
            docker_config: env("DOCKER_CONFIG").unwrap_or_else(|| home.join(".docker")),
            helper_path: None,
        }
    }
}

/// Resolves image references to their configs.
pub struct Resolver {
    options: RegistryOptions,
    client: Client,
    cache: Cache,
}

/// At most this many images are fetched at once.
const WORKERS: usize = 16;
/// An index may point at an index; more than this many hops is a loop.
const MAX_HOPS: usize = 4;

impl Resolver {
    pub fn new(options: RegistryOptions) -> Self {
        let client = Client::new(options.docker_config.clone(), options.helper_path.clone());
        let cache = Cache::new(&options.cache_dir);
        Self { options, client, cache }
    }

    /// Each distinct reference (in first-seen order) with its config or the
    /// reason it has none, fetched in parallel within the total deadline.
    pub fn resolve(&self, refs: &[&str]) -> Vec<(String, Result<ImageConfig, ResolveError>)> {
        let mut distinct: Vec<&str> = Vec::new();
        for reference in refs {
            if !distinct.contains(reference) {
                distinct.push(reference);
            }
        }
        let total = Deadline { at: Instant::now() + self.options.total_timeout, after: self.options.total_timeout };
        let results: Vec<Mutex<Option<Result<ImageConfig, ResolveError>>>> =
            distinct.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..distinct.len().min(WORKERS) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(reference) = distinct.get(i) else { break };
                        let deadline = Deadline::new(self.options.per_image_timeout, total);
                        let result = self.resolve_one(reference, deadline);
                        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
                    }
                });
            }
        });
        distinct
            .iter()
            .zip(results)
            .map(|(reference, slot)| {
                let result = slot.into_inner().unwrap_or_else(|p| p.into_inner());
                // Every slot is filled before the scope ends; a worker that
                // panicked leaves its image unresolved, said as a timeout.
                (reference.to_string(), result.unwrap_or(Err(ResolveError::Timeout { after: total.after })))
            })
            .collect()
    }

    /// The cache directory in use.
    pub fn cache_dir(&self) -> &Path {
        &self.options.cache_dir
    }

    fn resolve_one(&self, reference: &str, deadline: Deadline) -> Result<ImageConfig, ResolveError> {
        let image = ImageRef::parse(reference)?;
        let (mut body, mut content_type) = match &image.digest {
            Some(digest) => (self.by_digest(&image, "manifests", digest, MANIFEST_LIMIT, deadline)?, None),
            None => {
                // A tag can move: its manifest always comes from the registry.
                let path = format!("manifests/{}", image.manifest_reference());
                let fetched = self.client.get(&image, &path, manifest::ACCEPT, MANIFEST_LIMIT, deadline)?;
                self.cache.put(&fetched.body);
                (fetched.body, fetched.content_type)
            }
        };
        for _ in 0..MAX_HOPS {
            match Manifest::parse(&body, content_type.as_deref())? {
                Manifest::Index(entries) => {
                    let digest = manifest::pick(&entries, &self.options.platform)?;
                    body = self.by_digest(&image, "manifests", &digest, MANIFEST_LIMIT, deadline)?;
                    content_type = None;
                }
                Manifest::Image { config } => {
                    let blob = self.by_digest(&image, "blobs", &config, CONFIG_LIMIT, deadline)?;
                    return ImageConfig::parse(&blob, &config);
                }
            }
        }
        Err(ResolveError::malformed("index", format!("more than {MAX_HOPS} indexes deep")))
    }

    /// Content by digest: from the cache, or fetched, checked and cached.
    fn by_digest(
        &self,
        image: &ImageRef,
        kind: &str,
        digest: &str,
        limit: u64,
        deadline: Deadline,
    ) -> Result<Vec<u8>, ResolveError> {
        if let Some(bytes) = self.cache.get(digest) {
            return Ok(bytes);
        }
        let accept = if kind == "manifests" { manifest::ACCEPT } else { "*/*" };
        let fetched = self.client.get(image, &format!("{kind}/{digest}"), accept, limit, deadline)?;
        let actual = sha256_digest(&fetched.body);
        if actual != digest {
            return Err(ResolveError::DigestMismatch { digest: digest.to_string(), actual });
        }
        self.cache.put(&fetched.body);
        Ok(fetched.body)
    }
}
