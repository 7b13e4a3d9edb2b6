//! A real registry for the tests and the benchmark: Debian's
//! `docker-registry` (the CNCF distribution registry) on a free loopback
//! port with its own storage, optionally behind htpasswd auth, stopped when
//! dropped; and pushing images to it through its HTTP API, as a client
//! would (config blob, an empty layer, manifest; an index over manifests).

#![allow(dead_code)] // each test crate that includes this uses part of it

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
    auth: Option<String>,
}

/// An image as pushed.
pub struct Pushed {
    pub manifest_digest: String,
    pub config_digest: String,
}

/// The registry program, or a panic that says how to install it.
fn binary() -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("docker-registry")).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!("docker-registry is not installed: `apt-get install -y docker-registry` (Debian), as .ci/run does")
    })
}

impl Registry {
    /// Anonymous pulls and pushes.
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Every request needs `user:password` (Basic, from an htpasswd file).
    pub fn start_with_password(user: &str, password: &str) -> Self {
        Self::launch(Some((user, password)))
    }

    fn launch(credentials: Option<(&str, &str)>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("its address").port()
        };
        let mut auth_section = String::new();
        if let Some((user, password)) = credentials {
            // The registry takes bcrypt only.
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).expect("htpasswd");
            let path = dir.path().join("htpasswd");
            auth_section = format!("auth:\n  htpasswd:\n    realm: harden-test\n    path: {}\n", path.display());
        }
        let auth = credentials.map(|(u, p)| basic(u, p));
        let mut registry = Self { child: None, addr: format!("127.0.0.1:{port}"), dir, auth };
        registry.spawn(&auth_section);
        registry
    }

    /// Restarts the registry (same address and storage) asking for bearer
    /// tokens from `realm`, signed for `service` by `issuer` with the
    /// certificate in `cert`; pushes need a token from then on, so push first.
    pub fn require_tokens(&mut self, realm: &str, service: &str, issuer: &str, cert: &Path) {
        self.stop();
        self.auth = None;
        self.spawn(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            cert.display()
        ));
    }

    fn spawn(&mut self, auth_section: &str) {
        let program = binary();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {}\n{auth_section}",
            self.dir.path().join("storage").display(),
            self.addr
        );
        std::fs::write(self.dir.path().join("config.yml"), config).expect("config.yml");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("access.log"))
            .expect("access.log");
        let errors = std::fs::File::create(self.dir.path().join("errors.log")).expect("errors.log");
        let child = Command::new(program)
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(errors)
            .spawn()
            .expect("docker-registry starts");
        self.child = Some(child);
        self.wait_until_up();
    }

    fn wait_until_up(&mut self) {
        let started = Instant::now();
        let agent = agent();
        loop {
            if agent.get(&format!("http://{}/v2/", self.addr)).call().is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("docker-registry exited ({status}): {}", self.file("errors.log"));
            }
            assert!(started.elapsed() < Duration::from_secs(20), "docker-registry did not answer within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the registry (its address then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The access log's request lines so far (`GET /v2/… HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.file("access.log").lines().filter_map(|line| Some(line.split('"').nth(1)?.to_string())).collect()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    pub fn storage(&self) -> &Path {
        self.dir.path()
    }

    /// Pushes an image whose config's `config` object is `config`, as
    /// `repository:tag`, with OCI media types (or Docker's).
    pub fn push_image(&self, repository: &str, tag: &str, config: Value, docker_types: bool) -> Pushed {
        self.push_image_for(repository, tag, config, "linux/amd64", docker_types)
    }

    /// As `push_image`, for `platform` (`os/arch[/variant]`); `tag` may be a
    /// digest-free name or "" to push by digest only.
    pub fn push_image_for(
        &self,
        repository: &str,
        tag: &str,
        config: Value,
        platform: &str,
        docker_types: bool,
    ) -> Pushed {
        // An empty tar archive: two zero blocks.
        let layer = vec![0u8; 1024];
        let layer_digest = self.push_blob(repository, &layer);
        let parts: Vec<&str> = platform.split('/').collect();
        let mut blob = json!({
            "architecture": parts[1], "os": parts[0], "config": config,
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        });
        if let Some(variant) = parts.get(2) {
            blob["variant"] = json!(variant);
        }
        let blob = serde_json::to_vec(&blob).expect("config JSON");
        let config_digest = self.push_blob(repository, &blob);
        let (manifest_type, config_type, layer_type) = if docker_types {
            (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            )
        } else {
            (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar",
            )
        };
        let manifest = json!({
            "schemaVersion": 2, "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": blob.len()},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}],
        });
        let manifest_digest = self.push_manifest(repository, tag, manifest_type, &manifest);
        Pushed { manifest_digest, config_digest }
    }

    /// Pushes an OCI index over `entries` (platform, manifest digest) as `tag`.
    pub fn push_index(&self, repository: &str, tag: &str, entries: &[(&str, &str)]) -> String {
        let manifests: Vec<Value> = entries
            .iter()
            .map(|(platform, digest)| {
                let parts: Vec<&str> = platform.split('/').collect();
                let mut platform = json!({"os": parts[0], "architecture": parts[1]});
                if let Some(variant) = parts.get(2) {
                    platform["variant"] = json!(variant);
                }
                let size = self.manifest_size(repository, digest);
                json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size, "platform": platform})
            })
            .collect();
        let index =
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        self.push_manifest(repository, tag, "application/vnd.oci.image.index.v1+json", &index)
    }

    fn manifest_size(&self, repository: &str, digest: &str) -> usize {
        let url = format!("http://{}/v2/{repository}/manifests/{digest}", self.addr);
        let mut response = self
            .authorized(agent().get(&url))
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .call()
            .expect("manifest GET");
        response.body_mut().read_to_vec().expect("manifest body").len()
    }

    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let agent = agent();
        let start = format!("http://{}/v2/{repository}/blobs/uploads/", self.addr);
        let response = self.authorized(agent.post(&start)).send_empty().expect("upload starts");
        assert_eq!(response.status().as_u16(), 202, "POST {start}");
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).expect("Location");
        let location =
            if location.starts_with('/') { format!("http://{}{location}", self.addr) } else { location.to_string() };
        let separator = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{separator}digest={digest}");
        let response = self
            .authorized(agent.put(&put))
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .expect("blob PUT");
        assert_eq!(response.status().as_u16(), 201, "PUT blob {digest}");
        digest
    }

    fn push_manifest(&self, repository: &str, tag: &str, media_type: &str, manifest: &Value) -> String {
        let bytes = serde_json::to_vec(manifest).expect("manifest JSON");
        let digest = sha256(&bytes);
        let reference = if tag.is_empty() { digest.as_str() } else { tag };
        let url = format!("http://{}/v2/{repository}/manifests/{reference}", self.addr);
        let mut response = self
            .authorized(agent().put(&url))
            .header("Content-Type", media_type)
            .send(&bytes[..])
            .expect("manifest PUT");
        let status = response.status().as_u16();
        let mut body = String::new();
        let _ = response.body_mut().as_reader().read_to_string(&mut body);
        assert_eq!(status, 201, "PUT {url}: {body}");
        digest
    }

    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.auth {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).proxy(None).build().into()
}

pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

pub fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
