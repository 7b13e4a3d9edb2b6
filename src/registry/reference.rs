//! Image references as Docker reads them: `nginx` is
//! `docker.io/library/nginx:latest`, the first path component is a registry
//! only when it looks like a host (a `.`, a `:` or `localhost`), and a
//! `@sha256:…` digest pins the content whatever the tag says.

use super::error::ResolveError;
use std::net::IpAddr;

/// Docker Hub's name in references and the host its API answers on.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key Docker's `config.json` and credential helpers file Docker Hub under.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// One image reference, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`: as written (host and port).
    pub registry: String,
    /// `library/nginx`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Split `text` as `docker pull` reads it, `[registry/]repository[:tag][@digest]`,
    /// normalised (the registry in lower case, Docker Hub's other names as
    /// `docker.io`, its one-component names under `library/`) and not
    /// checked: the image table matches any text a manifest holds.
    pub fn split(text: &str) -> Self {
        let (rest, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (text, None),
        };
        // A tag is the part after the last ':' that comes after the last '/'
        // (a ':' before it is a registry port).
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if !rest[colon..].contains('/') => (&rest[..colon], Some(rest[colon + 1..].to_string())),
            _ => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if looks_like_host(first) => (first.to_ascii_lowercase(), path),
            _ => (DOCKER_HUB.to_string(), name),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        Self { registry, repository, tag, digest }
    }

    /// [`ImageRef::split`], checked as a registry checks it: a sha256
    /// digest, a valid tag (`latest` when there is neither) and repository.
    pub fn parse(text: &str) -> Result<Self, ResolveError> {
        let bad = |why: &str| ResolveError::Reference(format!("{text:?}: {why}"));
        let mut image = Self::split(text);
        if let Some(digest) = &image.digest {
            check_digest(digest).map_err(|why| bad(&why))?;
        }
        if let Some(tag) = &image.tag
            && !is_tag(tag)
        {
            return Err(bad("the tag may have letters, digits, '_', '.' and '-' (at most 128)"));
        }
        if !is_repository(&image.repository) {
            return Err(bad("the repository may have lowercase letters, digits and '.', '_', '-' between '/'"));
        }
        if image.tag.is_none() && image.digest.is_none() {
            image.tag = Some("latest".to_string());
        }
        Ok(image)
    }

    /// What `/v2/<repository>/manifests/…` asks for: the digest when pinned.
    pub fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The registry's API root. Registries on the loopback interface are
    /// spoken to over plain HTTP, as Docker does; all others over HTTPS only.
    pub fn api_base(&self) -> String {
        let host = if self.registry == DOCKER_HUB { DOCKER_HUB_API } else { &self.registry };
        let scheme = if self.is_loopback() { "http" } else { "https" };
        format!("{scheme}://{host}")
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_registry(&self.registry)
    }

    /// The name `config.json` and credential helpers know this registry by.
    pub fn credential_server(&self) -> &str {
        if self.registry == DOCKER_HUB { DOCKER_HUB_SERVER } else { &self.registry }
    }
}

fn looks_like_host(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost" || component.starts_with('[')
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, with or without a port.
pub fn is_loopback_registry(registry: &str) -> bool {
    is_loopback_host(host_without_port(registry))
}

fn host_without_port(registry: &str) -> &str {
    if let Some(bracketed) = registry.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed);
    }
    registry.split(':').next().unwrap_or(registry)
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn check_digest(digest: &str) -> Result<(), String> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => Ok(()),
        Some(_) => Err("a sha256 digest is 64 lowercase hex digits".to_string()),
        None => Err("only sha256 digests are supported".to_string()),
    }
}

fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    bytes.next().is_some_and(word) && tag.len() <= 128 && bytes.all(|b| word(b) || b == b'.' || b == b'-')
}

fn is_repository(path: &str) -> bool {
    let component = |c: &str| {
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        c.bytes().next().is_some_and(alnum)
            && c.bytes().last().is_some_and(alnum)
            && c.bytes().all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
    };
    path.split('/').all(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_bare_name_is_docker_hubs_library_at_latest() {
        let image = parse("nginx");
        assert_eq!((image.registry.as_str(), image.repository.as_str()), ("docker.io", "library/nginx"));
        assert_eq!(image.manifest_reference(), "latest");
        assert_eq!(image.api_base(), "https://registry-1.docker.io");
        assert_eq!(image.credential_server(), "https://index.docker.io/v1/");
    }

    #[test]
    fn a_user_repository_on_docker_hub_keeps_its_path() {
        let image = parse("bitnami/redis:7.2");
        assert_eq!((image.registry.as_str(), image.repository.as_str()), ("docker.io", "bitnami/redis"));
        assert_eq!(image.manifest_reference(), "7.2");
        assert_eq!(parse("index.docker.io/library/nginx").registry, "docker.io");
        assert_eq!(parse("docker.io/nginx").repository, "library/nginx", "Docker Hub's official images");
        assert_eq!(parse("Registry.Corp:5000/team/app").registry, "registry.corp:5000");
    }

    #[test]
    fn a_host_with_a_port_is_a_registry_and_its_colon_is_not_a_tag() {
        let image = parse("localhost:5000/team/app");
        assert_eq!((image.registry.as_str(), image.repository.as_str()), ("localhost:5000", "team/app"));
        assert_eq!(image.tag.as_deref(), Some("latest"));
        assert_eq!(parse("ghcr.io/org/app:v1").registry, "ghcr.io");
    }

    #[test]
    fn a_digest_pins_the_manifest_even_with_a_tag() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let image = parse(&format!("registry.example/app:v1@{digest}"));
        assert_eq!(image.tag.as_deref(), Some("v1"));
        assert_eq!(image.manifest_reference(), digest);
        let untagged = parse(&format!("app@{digest}"));
        assert_eq!(untagged.tag, None);
    }

    #[test]
    fn loopback_registries_speak_plain_http_and_others_https() {
        for local in ["localhost:5000/a", "127.0.0.1:5000/a", "127.3.4.5/a", "[::1]:5000/a"] {
            assert!(parse(local).api_base().starts_with("http://"), "{local}");
        }
        for remote in ["10.0.0.1:5000/a", "registry.local/a", "[fd00::1]:5000/a", "nginx"] {
            assert!(parse(remote).api_base().starts_with("https://"), "{remote}");
        }
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (text, says) in [
            ("Nginx", "lowercase"),
            ("app@sha256:abc", "64 lowercase hex"),
            ("app@md5:abcd", "only sha256"),
            ("app:-bad", "the tag"),
            ("registry.example//app", "lowercase"),
        ] {
            let error = ImageRef::parse(text).expect_err(text).to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
