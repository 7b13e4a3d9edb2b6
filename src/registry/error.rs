//! Why an image's config could not be read. Each message is a phrase that
//! follows "image X: " in a warning; none ever carries a credential (the
//! variants hold no secret, and helper output is only kept when it failed).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("invalid image reference {0}")]
    Reference(String),
    /// The registry answered with this status (after authenticating, if it asked).
    #[error("registry said {status} {reason}")]
    Status { status: u16, reason: String },
    #[error("timed out after {}", seconds(*.after))]
    Timeout { after: Duration },
    /// `addr` is `host:port`.
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("TLS with {addr} failed: {reason}")]
    Tls { addr: String, reason: String },
    /// `what` is "manifest", "index", "image config" or "token response".
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("the index has no {wanted} image (it has {available})")]
    NoPlatform { wanted: String, available: String },
    #[error("{digest} is not what the registry sent (its content hashes to {actual})")]
    DigestMismatch { digest: String, actual: String },
    #[error("cannot authenticate: {0}")]
    Auth(String),
    #[error("reading credentials: {0}")]
    Credentials(String),
    #[error("HTTP: {0}")]
    Http(String),
}

impl ResolveError {
    pub(crate) fn status(status: u16) -> Self {
        let reason = ureq::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("(no reason)")
            .to_string();
        Self::Status { status, reason }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Self::Malformed { what, reason: reason.to_string() }
    }
}

/// `10 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_the_warning_says_them() {
        assert_eq!(ResolveError::status(401).to_string(), "registry said 401 Unauthorized");
        assert_eq!(ResolveError::Timeout { after: Duration::from_secs(10) }.to_string(), "timed out after 10 s");
        assert_eq!(ResolveError::Timeout { after: Duration::from_millis(1500) }.to_string(), "timed out after 1.5 s");
        let refused = ResolveError::Connect { addr: "127.0.0.1:5999".into(), reason: "connection refused".into() };
        assert_eq!(refused.to_string(), "cannot connect to 127.0.0.1:5999: connection refused");
        assert_eq!(ResolveError::malformed("manifest", "no config").to_string(), "malformed manifest: no config");
    }
}
