//! A token server for the registry's `token` auth (what Docker Hub, GHCR
//! and most registries do): it issues ES256 JWTs with an `x5c` certificate
//! the registry trusts, granting `pull` on the asked repository to anonymous
//! clients for `public/*` and to `alice:s3cret` or the refresh token
//! `refresh-me` for any repository. It notes how each request authenticated.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const SERVICE: &str = "harden-test-registry";
pub const ISSUER: &str = "harden-test-issuer";
pub const REFRESH_TOKEN: &str = "refresh-me";

pub struct TokenServer {
    pub realm: String,
    /// The certificate the registry checks tokens against (PEM).
    pub cert: PathBuf,
    /// `GET anonymous repository:team/app:pull`, `GET basic …`, `POST refresh …`.
    pub requests: Arc<Mutex<Vec<String>>>,
}

struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
}

impl TokenServer {
    pub fn start(dir: &Path) -> Self {
        let key = rcgen::KeyPair::generate().expect("a P-256 key");
        let cert = rcgen::CertificateParams::new(vec![ISSUER.to_string()])
            .expect("certificate params")
            .self_signed(&key)
            .expect("self-signed certificate");
        let cert_path = dir.join("token-cert.pem");
        std::fs::write(&cert_path, cert.pem()).expect("certificate file");
        let rng = ring::rand::SystemRandom::new();
        let signer = Signer {
            key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &rng)
                .expect("ring reads the key"),
            cert_der: cert.der().to_vec(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let realm = format!("http://{}/token", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // One request a connection keeps the server small.
                let _ = answer(stream, &signer, &log);
            }
        });
        Self { realm, cert: cert_path, requests }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("log").clone()
    }
}

fn answer(stream: TcpStream, signer: &Signer, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let query = target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    let form = if method == "POST" { String::from_utf8_lossy(&body).into_owned() } else { query };
    let params = parse_form(&form);
    let scope = params.get("scope").cloned().unwrap_or_default();
    let alice = format!("Basic {}", STANDARD.encode("alice:s3cret"));
    let who = match (method.as_str(), headers.get("authorization")) {
        ("POST", _) if params.get("refresh_token").map(String::as_str) == Some(REFRESH_TOKEN) => "refresh",
        ("POST", _) => "bad-refresh",
        (_, Some(value)) if *value == alice => "basic",
        (_, Some(_)) => "bad-basic",
        (_, None) => "anonymous",
    };
    log.lock().expect("log").push(format!("{method} {who} {scope}"));
    let repository = scope.strip_prefix("repository:").and_then(|s| s.strip_suffix(":pull")).unwrap_or("");
    let granted = match who {
        "refresh" | "basic" => true,
        "anonymous" => repository.starts_with("public/"),
        _ => {
            return respond(stream, "401 Unauthorized", r#"{"errors": [{"code": "UNAUTHORIZED"}]}"#);
        }
    };
    // Like Docker Hub: an anonymous client gets a token, with no access where it has none.
    let access =
        if granted { json!([{"type": "repository", "name": repository, "actions": ["pull"]}]) } else { json!([]) };
    let token = signer.mint(access);
    let field = if method == "POST" { "access_token" } else { "token" };
    respond(stream, "200 OK", &json!({ field: token, "expires_in": 300 }).to_string())
}

fn respond(mut stream: TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Signer {
    fn mint(&self, access: serde_json::Value) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let claims = json!({
            "iss": ISSUER, "sub": "harden-test", "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
            "iat": now - 10, "jti": format!("{now}-{}", rand_id()), "access": access,
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let rng = ring::rand::SystemRandom::new();
        let signature = self.key.sign(&rng, signing_input.as_bytes()).expect("signs");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `a=b&c=d%3Ae` → map (percent-decoded; `+` is a space).
fn parse_form(text: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(hex) = bytes.get(i + 1..i + 3)
                && let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
            {
                out.push(byte);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}
