//! Credentials as Docker keeps them: `$DOCKER_CONFIG/config.json` (or
//! `~/.docker/config.json`) with `auths` (`auth`: base64 `user:password`, or
//! `identitytoken`), `credHelpers` (a helper per registry) and `credsStore`
//! (one helper for all), a helper being the program `docker-credential-NAME`
//! that answers `get` with the server on stdin and JSON on stdout.

use super::error::ResolveError;
use base64::Engine;
use serde_json::Value;
use std::ffi::OsStr;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a registry is sent. Debug never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`docker login` to a registry that gives one).
    IdentityToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Self::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

/// The parts of `config.json` that say where credentials are.
#[derive(Debug, Default)]
pub struct DockerConfig {
    path: PathBuf,
    json: Value,
}

/// The message a helper prints when it has nothing for the server.
const NOT_FOUND: &str = "credentials not found";

impl DockerConfig {
    /// `dir/config.json`; a missing file is an empty config (anonymous).
    pub fn load(dir: &Path) -> Result<Self, ResolveError> {
        let path = dir.join("config.json");
        let json = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ResolveError::Credentials(format!("{} is not JSON: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
            Err(e) => return Err(ResolveError::Credentials(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(Self { path, json })
    }

    /// The credential for `server` (a `credential_server()`), asking a helper
    /// program within `deadline` where the config names one; helpers are
    /// looked up on `helper_path` (default: `$PATH`).
    pub fn credential_for(
        &self,
        server: &str,
        deadline: Instant,
        helper_path: Option<&OsStr>,
    ) -> Result<Option<Credential>, ResolveError> {
        let host = hostname(server);
        let helper = self.json["credHelpers"]
            .as_object()
            .and_then(|helpers| helpers.iter().find(|(key, _)| hostname(key) == host))
            .and_then(|(_, name)| name.as_str())
            .or_else(|| self.json["credsStore"].as_str())
            .filter(|name| !name.is_empty());
        if let Some(helper) = helper
            && let Some(credential) = ask_helper(helper, server, deadline, helper_path)?
        {
            return Ok(Some(credential));
        }
        self.in_auths(server, host)
    }

    fn in_auths(&self, server: &str, host: &str) -> Result<Option<Credential>, ResolveError> {
        let Some(auths) = self.json["auths"].as_object() else { return Ok(None) };
        let entry = auths.get(server).or_else(|| auths.iter().find(|(key, _)| hostname(key) == host).map(|(_, v)| v));
        let Some(entry) = entry else { return Ok(None) };
        let field = |name: &str| entry[name].as_str().filter(|s| !s.is_empty());
        if let Some(token) = field("identitytoken") {
            return Ok(Some(Credential::IdentityToken(token.to_string())));
        }
        if let Some(auth) = field("auth") {
            let bad = || {
                ResolveError::Credentials(format!(
                    "{}: the auth for {host} is not base64 of user:password",
                    self.path.display()
                ))
            };
            let decoded = base64::engine::general_purpose::STANDARD.decode(auth.trim()).map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
            return Ok(Some(Credential::Basic { username: username.into(), password: password.into() }));
        }
        match (field("username"), field("password")) {
            (Some(username), Some(password)) => {
                Ok(Some(Credential::Basic { username: username.into(), password: password.into() }))
            }
            _ => Ok(None),
        }
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`, as Docker compares keys.
fn hostname(server: &str) -> &str {
    let rest = server.strip_prefix("https://").or_else(|| server.strip_prefix("http://")).unwrap_or(server);
    rest.split('/').next().unwrap_or(rest)
}

/// Runs `docker-credential-NAME get`. A helper that has nothing for the
/// server is None; one that fails otherwise is an error that quotes its
/// message (a helper's error output is a message, never the secret).
fn ask_helper(
    name: &str,
    server: &str,
    deadline: Instant,
    path: Option<&OsStr>,
) -> Result<Option<Credential>, ResolveError> {
    let program = format!("docker-credential-{name}");
    let failed = |why: String| ResolveError::Credentials(format!("{program} get: {why}"));
    let mut command = Command::new(&program);
    if let Some(path) = path {
        // On Unix a PATH set for the child is also where the program is found.
        command.env("PATH", path);
    }
    let mut child = command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits before reading is judged by its exit status.
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut stdout = child.stdout.take().ok_or_else(|| failed("no stdout".into()))?;
    let mut stderr = child.stderr.take().ok_or_else(|| failed("no stderr".into()))?;
    let reader = std::thread::spawn(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let _ = stdout.read_to_end(&mut out);
        let _ = stderr.read_to_end(&mut err);
        (out, err)
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| failed(e.to_string()))? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed("did not answer in time".into()));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (out, err) = reader.join().map_err(|_| failed("its output could not be read".into()))?;
    if !status.success() {
        let message = String::from_utf8_lossy(if out.is_empty() { &err } else { &out }).trim().to_string();
        if message.contains(NOT_FOUND) {
            return Ok(None);
        }
        let message: String = message.lines().next().unwrap_or("").chars().take(200).collect();
        return Err(failed(format!("{status}: {message}")));
    }
    let answer: Value = serde_json::from_slice(&out).map_err(|_| failed("its answer is not JSON".into()))?;
    let (username, secret) = (answer["Username"].as_str().unwrap_or(""), answer["Secret"].as_str().unwrap_or(""));
    Ok(match (username, secret) {
        (_, "") => None,
        ("<token>", token) => Some(Credential::IdentityToken(token.to_string())),
        (username, password) => Some(Credential::Basic { username: username.into(), password: password.into() }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> (tempfile::TempDir, DockerConfig) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.json"), json).expect("write config.json");
        let config = DockerConfig::load(dir.path()).expect("loads");
        (dir, config)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn basic(username: &str, password: &str) -> Option<Credential> {
        Some(Credential::Basic { username: username.into(), password: password.into() })
    }

    #[test]
    fn auths_base64_user_password_by_host_or_url_key() {
        let (_dir, config) = config(
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
                          "http://127.0.0.1:5000/v2/": {"auth": "YWxpY2U6czNjOnJldA=="}}}"#,
        );
        assert_eq!(config.credential_for("https://index.docker.io/v1/", soon(), None), Ok(basic("hub", "hubpass")));
        // The password keeps its own colons: only the first one splits.
        assert_eq!(config.credential_for("127.0.0.1:5000", soon(), None), Ok(basic("alice", "s3c:ret")));
        assert_eq!(config.credential_for("ghcr.io", soon(), None), Ok(None));
    }

    #[test]
    fn an_identity_token_wins_over_the_auth() {
        let (_dir, config) = config(r#"{"auths": {"reg.example": {"auth": "YTpi", "identitytoken": "refresh"}}}"#);
        assert_eq!(
            config.credential_for("reg.example", soon(), None),
            Ok(Some(Credential::IdentityToken("refresh".into())))
        );
    }

    #[test]
    fn a_bad_auth_is_an_error_that_does_not_quote_it() {
        let (_dir, config) = config(r#"{"auths": {"reg.example": {"auth": "bm8tY29sb24taGVyZQ=="}}}"#);
        let error = config.credential_for("reg.example", soon(), None).expect_err("no colon").to_string();
        assert!(error.contains("not base64 of user:password"), "{error}");
        assert!(!error.contains("bm8tY29sb24taGVyZQ"), "{error}");
    }

    #[test]
    fn a_missing_config_is_anonymous() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = DockerConfig::load(dir.path()).expect("loads");
        assert_eq!(config.credential_for("reg.example", soon(), None), Ok(None));
    }

    #[test]
    fn a_missing_helper_program_is_named() {
        let (_dir, config) = config(r#"{"credHelpers": {"reg.example": "harden-test-no-such-helper"}}"#);
        let error = config.credential_for("reg.example", soon(), None).expect_err("no helper").to_string();
        assert!(error.contains("docker-credential-harden-test-no-such-helper get"), "{error}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?} {:?}", basic("alice", "s3cret"), Credential::IdentityToken("tok3n".into()));
        assert!(!shown.contains("s3cret") && !shown.contains("tok3n"), "{shown}");
    }
}
