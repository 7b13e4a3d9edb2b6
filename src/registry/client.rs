//! The HTTP side of the distribution API: GET a manifest or blob, answer a
//! 401's challenge (a bearer token from the realm, or Basic) with what
//! `config.json` has for the registry, and retry once. Every request is
//! bounded by the image's deadline.

use super::challenge::Challenge;
use super::credentials::{Credential, DockerConfig};
use super::error::ResolveError;
use super::reference::{ImageRef, is_loopback_registry};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// When an image's work must be done, and which limit set it (for the message).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub after: Duration,
}

impl Deadline {
    /// The earlier of `per_image` from now and `total`.
    pub fn new(per_image: Duration, total: Deadline) -> Self {
        let own = Self { at: Instant::now() + per_image, after: per_image };
        if own.at <= total.at { own } else { total }
    }

    fn remaining(&self) -> Result<Duration, ResolveError> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() { Err(self.timed_out()) } else { Ok(left) }
    }

    fn timed_out(&self) -> ResolveError {
        ResolveError::Timeout { after: self.after }
    }
}

/// A response body and its media type.
pub struct Fetched {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

/// Docker's limit for a manifest; config blobs are smaller still in practice.
pub const MANIFEST_LIMIT: u64 = 4 << 20;
pub const CONFIG_LIMIT: u64 = 8 << 20;
const TOKEN_LIMIT: u64 = 1 << 20;

pub struct Client {
    /// Loopback registries: plain HTTP, never through a proxy (as Go's and
    /// Docker's proxy rules say).
    local: ureq::Agent,
    /// Everything else: HTTPS only (a redirect to plain HTTP is refused),
    /// through `HTTPS_PROXY`/`NO_PROXY` when set.
    remote: ureq::Agent,
    docker_config_dir: PathBuf,
    helper_path: Option<OsString>,
    docker_config: OnceLock<Result<DockerConfig, ResolveError>>,
    /// Per credential server, what `config.json` had (asked once a run).
    credentials: Mutex<HashMap<String, Option<Credential>>>,
    /// Per `registry/repository`, the Authorization header that worked.
    authorizations: Mutex<HashMap<String, String>>,
}

impl Client {
    pub fn new(docker_config_dir: PathBuf, helper_path: Option<OsString>) -> Self {
        let agent = |https_only: bool, proxy: Option<ureq::Proxy>| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .https_only(https_only)
                .proxy(proxy)
                .user_agent(concat!("harden/", env!("CARGO_PKG_VERSION")))
                .build()
                .into()
        };
        Self {
            local: agent(false, None),
            remote: agent(true, ureq::Proxy::try_from_env()),
            docker_config_dir,
            helper_path,
            docker_config: OnceLock::new(),
            credentials: Mutex::new(HashMap::new()),
            authorizations: Mutex::new(HashMap::new()),
        }
    }

    /// GET `/v2/<repository>/<path>` (`manifests/REF`, `blobs/DIGEST`).
    pub fn get(
        &self,
        image: &ImageRef,
        path: &str,
        accept: &str,
        limit: u64,
        deadline: Deadline,
    ) -> Result<Fetched, ResolveError> {
        let url = format!("{}/v2/{}/{path}", image.api_base(), image.repository);
        let key = format!("{}/{}", image.registry, image.repository);
        let mut authorization = lock(&self.authorizations).get(&key).cloned();
        let mut challenged = false;
        loop {
            let mut request = self.agent(&url).get(&url).config().timeout_global(Some(deadline.remaining()?)).build();
            request = request.header("Accept", accept);
            if let Some(value) = &authorization {
                request = request.header("Authorization", value);
            }
            let mut response = request.call().map_err(|e| transport_error(e, &url, deadline))?;
            match response.status().as_u16() {
                200 => {
                    let content_type =
                        response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
                    let body = response
                        .body_mut()
                        .with_config()
                        .limit(limit)
                        .read_to_vec()
                        .map_err(|e| transport_error(e, &url, deadline))?;
                    return Ok(Fetched { body, content_type });
                }
                401 if !challenged => {
                    challenged = true;
                    let header = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok());
                    let challenge = header.and_then(Challenge::parse).ok_or_else(|| ResolveError::status(401))?;
                    let value = self.authorize(image, challenge, deadline)?;
                    lock(&self.authorizations).insert(key.clone(), value.clone());
                    authorization = Some(value);
                }
                status => return Err(ResolveError::status(status)),
            }
        }
    }

    /// The Authorization header that answers `challenge`.
    fn authorize(&self, image: &ImageRef, challenge: Challenge, deadline: Deadline) -> Result<String, ResolveError> {
        let credential = self.credential(image.credential_server(), deadline)?;
        match (challenge, credential) {
            (Challenge::Basic, Some(Credential::Basic { username, password })) => Ok(basic(&username, &password)),
            (Challenge::Basic, Some(Credential::IdentityToken(_))) => Err(ResolveError::Auth(
                "the registry asks for a password and config.json has only an identity token for it".into(),
            )),
            // Nothing to answer with: the registry's own word is the error.
            (Challenge::Basic, None) => Err(ResolveError::status(401)),
            (Challenge::Bearer { realm, service, .. }, credential) => {
                // The scope is harden's own (pull, this repository), as Docker asks it.
                let scope = format!("repository:{}:pull", image.repository);
                let token = self.token(&realm, service.as_deref(), &scope, credential.as_ref(), deadline)?;
                Ok(format!("Bearer {token}"))
            }
        }
    }

    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credential: Option<&Credential>,
        deadline: Deadline,
    ) -> Result<String, ResolveError> {
        // Credentials go to the realm, so it must be as private as the registry.
        let is_loopback_http = realm
            .strip_prefix("http://")
            .is_some_and(|rest| is_loopback_registry(rest.split(['/', '?']).next().unwrap_or(rest)));
        if !realm.starts_with("https://") && !is_loopback_http {
            return Err(ResolveError::Auth(format!("the token realm {realm} is not HTTPS")));
        }
        let mut params: Vec<(&str, &str)> = vec![("scope", scope)];
        params.extend(service.map(|s| ("service", s)));
        let agent = self.agent(realm);
        let response = match credential {
            Some(Credential::IdentityToken(refresh)) => {
                params.extend([("grant_type", "refresh_token"), ("client_id", "harden"), ("refresh_token", refresh)]);
                agent.post(realm).config().timeout_global(Some(deadline.remaining()?)).build().send_form(params)
            }
            _ => {
                let url = format!("{realm}{}{}", if realm.contains('?') { '&' } else { '?' }, query(&params));
                let mut request = agent.get(&url).config().timeout_global(Some(deadline.remaining()?)).build();
                if let Some(Credential::Basic { username, password }) = credential {
                    request = request.header("Authorization", basic(username, password));
                }
                request.call()
            }
        };
        let mut response = response.map_err(|e| transport_error(e, realm, deadline))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ResolveError::status(status));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(TOKEN_LIMIT)
            .read_to_vec()
            .map_err(|e| transport_error(e, realm, deadline))?;
        let json: Value = serde_json::from_slice(&body).map_err(|e| ResolveError::malformed("token response", e))?;
        json["token"]
            .as_str()
            .or(json["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ResolveError::malformed("token response", "no token"))
    }

    /// What `config.json` has for `server`, read once a run.
    fn credential(&self, server: &str, deadline: Deadline) -> Result<Option<Credential>, ResolveError> {
        let config = self.docker_config.get_or_init(|| DockerConfig::load(&self.docker_config_dir)).as_ref();
        let config = config.map_err(Clone::clone)?;
        let mut known = lock(&self.credentials);
        if let Some(credential) = known.get(server) {
            return Ok(credential.clone());
        }
        let credential = config.credential_for(server, deadline.at, self.helper_path.as_deref())?;
        known.insert(server.to_string(), credential.clone());
        Ok(credential)
    }

    fn agent(&self, url: &str) -> &ureq::Agent {
        if url.starts_with("http://") { &self.local } else { &self.remote }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A worker that panicked left the map whole (inserts are single calls).
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn basic(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

/// `a=b&c=d`, percent-encoded.
fn query(params: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    params.iter().map(|(k, v)| format!("{}={}", escape(k), escape(v))).collect::<Vec<_>>().join("&")
}

/// `host:port` of a URL, for "cannot connect to …".
fn address(url: &str) -> String {
    let (default_port, rest) = match url.split_once("://") {
        Some(("http", rest)) => ("80", rest),
        Some((_, rest)) => ("443", rest),
        None => ("443", url),
    };
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let has_port = host.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']'));
    if has_port { host.to_string() } else { format!("{host}:{default_port}") }
}

fn transport_error(error: ureq::Error, url: &str, deadline: Deadline) -> ResolveError {
    use std::io::ErrorKind;
    let connect = |reason: &str| ResolveError::Connect { addr: address(url), reason: reason.to_string() };
    match error {
        ureq::Error::Timeout(_) => deadline.timed_out(),
        ureq::Error::Io(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => deadline.timed_out(),
        ureq::Error::Io(e) if e.kind() == ErrorKind::ConnectionRefused => connect("connection refused"),
        ureq::Error::Io(e) => connect(&e.to_string()),
        ureq::Error::HostNotFound => connect("host not found"),
        ureq::Error::ConnectionFailed => connect("connection failed"),
        ureq::Error::Tls(reason) => ResolveError::Tls { addr: address(url), reason: reason.to_string() },
        ureq::Error::Rustls(e) => ResolveError::Tls { addr: address(url), reason: e.to_string() },
        ureq::Error::BodyExceedsLimit(limit) => ResolveError::Http(format!("a response is larger than {limit} bytes")),
        ureq::Error::RequireHttpsOnly(_) => ResolveError::Http("refused a redirect to plain HTTP".into()),
        other => ResolveError::Http(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_host_and_port() {
        assert_eq!(address("http://127.0.0.1:5999/v2/a/manifests/b"), "127.0.0.1:5999");
        assert_eq!(address("https://registry-1.docker.io/v2/"), "registry-1.docker.io:443");
        assert_eq!(address("http://localhost/v2/"), "localhost:80");
        assert_eq!(address("http://[::1]:5000/v2/"), "[::1]:5000");
        assert_eq!(address("https://[fd00::1]/token?x=1"), "[fd00::1]:443");
    }

    #[test]
    fn token_queries_are_percent_encoded() {
        assert_eq!(
            query(&[("scope", "repository:library/nginx:pull"), ("service", "a b")]),
            "scope=repository%3Alibrary%2Fnginx%3Apull&service=a%20b"
        );
    }

    #[test]
    fn a_deadline_is_the_earlier_of_the_images_and_the_totals() {
        let total = Deadline { at: Instant::now() + Duration::from_secs(30), after: Duration::from_secs(30) };
        assert_eq!(Deadline::new(Duration::from_secs(10), total).after, Duration::from_secs(10));
        let nearly_over = Deadline { at: Instant::now() + Duration::from_secs(2), after: Duration::from_secs(30) };
        assert_eq!(Deadline::new(Duration::from_secs(10), nearly_over).after, Duration::from_secs(30));
        let over = Deadline { at: Instant::now(), after: Duration::from_secs(30) };
        assert_eq!(over.remaining(), Err(ResolveError::Timeout { after: Duration::from_secs(30) }));
    }
}
