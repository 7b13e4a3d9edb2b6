//! Image references and repository patterns, normalised as Docker does, and
//! the matching of one against the other (registry mirrors included).
//!
//! `nginx`, `docker.io/nginx`, `index.docker.io/library/nginx:1.27` are one
//! repository: `docker.io/library/nginx`. A mirror keeps the upstream path
//! under its own host (`mirror.gcr.io/library/nginx`,
//! `harbor.corp/proxy/bitnami/redis`, `mirror.corp/docker.io/library/nginx`),
//! so a reference also matches a pattern when the tail of its path, on whole
//! components, is the pattern's repository or the pattern's path.

use crate::profile::glob_match;
use crate::registry::ImageRef;

/// A container's image reference, split and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `quay.io`, `registry.corp:5000`, … (lower case).
    pub registry: String,
    /// The repository path under the registry: `library/nginx`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// `registry/path`, made once: every pattern compares it.
    repository: String,
}

impl Reference {
    /// Split `image` as `docker pull` reads it: `[registry/]path[:tag][@digest]`
    /// (the registry stage's reading of a reference: one parser for both).
    pub fn parse(image: &str) -> Reference {
        let ImageRef { registry, repository: path, tag, digest } = ImageRef::split(image);
        let repository = format!("{registry}/{path}");
        Reference { registry, path, tag, digest, repository }
    }

    /// `registry/path`, e.g. `docker.io/library/nginx`.
    pub fn repository(&self) -> &str {
        &self.repository
    }
}

/// A repository pattern of a row (`nginx`, `bitnami/*`,
/// `mcr.microsoft.com/dotnet/*`), normalised like a reference; `*` matches
/// any run of characters, `/` included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// As written in the row, for messages.
    pub written: String,
    /// `docker.io/library/nginx`.
    pub repository: String,
    /// The part after the registry: `library/nginx`.
    pub path: String,
    /// Both, cut at their `*`s once (matching runs for every container).
    repository_glob: Glob,
    path_glob: Glob,
}

impl Pattern {
    /// A pattern is a repository: a tag or digest in it is a mistake (tags
    /// go in the row's `tags:`).
    pub fn parse(written: &str) -> Result<Pattern, String> {
        let r = Reference::parse(written);
        if written.trim() != written || written.is_empty() || written.contains(char::is_whitespace) {
            return Err(format!("pattern {written:?} is not a repository"));
        }
        if r.tag.is_some() || r.digest.is_some() {
            return Err(format!(
                "pattern {written:?} names a tag or digest; a pattern is a repository (put tags in `tags:`)"
            ));
        }
        let (repository_glob, path_glob) = (Glob::new(&r.repository), Glob::new(&r.path));
        Ok(Pattern { written: written.to_string(), repository: r.repository, path: r.path, repository_glob, path_glob })
    }

    /// The last path component when it is literal (no `*`): a reference
    /// can only match if its own last component is the same.
    pub fn literal_name(&self) -> Option<&str> {
        let last = self.repository.rsplit('/').next().unwrap_or("");
        (!last.contains('*')).then_some(last)
    }

    /// Whether the reference's repository is this pattern's, directly or
    /// through a mirror (see the module's doc).
    pub fn matches(&self, r: &Reference) -> bool {
        if self.repository_glob.matches(r.repository()) {
            return true;
        }
        // Every tail of the reference's path, on whole components.
        let mut tail = r.path.as_str();
        loop {
            if self.repository_glob.matches(tail) || self.path_glob.matches(tail) {
                return true;
            }
            match tail.split_once('/') {
                Some((_, rest)) => tail = rest,
                None => return false,
            }
        }
    }

    /// Whether every repository this pattern's `other` matches is matched
    /// by this one too (its `*` treated as any text): a row with `other`
    /// after a row with this pattern and no narrower tags can never match.
    pub fn covers(&self, other: &Pattern) -> bool {
        glob_match(&self.repository, &other.repository)
    }
}

/// A pattern cut at its `*`s, matched as `profile::glob_match` does
/// (each `*` any run of characters) without cutting it again.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Glob {
    parts: Box<[String]>,
}

impl Glob {
    fn new(pattern: &str) -> Glob {
        Glob { parts: pattern.split('*').map(str::to_string).collect() }
    }

    fn matches(&self, s: &str) -> bool {
        let parts = &self.parts;
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        if parts.len() == 1 {
            return s == first;
        }
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
            return false;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for mid in &parts[1..parts.len() - 1] {
            match rest.find(mid.as_str()) {
                Some(i) => rest = &rest[i + mid.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(image: &str) -> String {
        Reference::parse(image).repository().to_string()
    }

    #[test]
    fn references_are_normalised_as_docker_does() {
        assert_eq!(repo("nginx"), "docker.io/library/nginx");
        assert_eq!(repo("nginx:1.27"), "docker.io/library/nginx");
        assert_eq!(repo("docker.io/nginx"), "docker.io/library/nginx");
        assert_eq!(repo("index.docker.io/library/nginx"), "docker.io/library/nginx");
        assert_eq!(repo("registry-1.docker.io/bitnami/redis:7.4"), "docker.io/bitnami/redis");
        assert_eq!(repo("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(repo("quay.io/prometheus/prometheus:v3.1.0"), "quay.io/prometheus/prometheus");
        assert_eq!(repo("localhost/app"), "localhost/app");
        assert_eq!(repo("Registry.Corp:5000/team/app:1"), "registry.corp:5000/team/app");
        assert_eq!(repo("registry.corp:5000/app"), "registry.corp:5000/app", "a port is not a tag");
    }

    #[test]
    fn tags_and_digests_are_split_off() {
        let r = Reference::parse("registry.corp:5000/nginx:1.27-alpine@sha256:abc");
        assert_eq!((r.tag.as_deref(), r.digest.as_deref()), (Some("1.27-alpine"), Some("sha256:abc")));
        let r = Reference::parse("nginx@sha256:abc");
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some("sha256:abc")));
        let r = Reference::parse("nginx");
        assert_eq!((r.tag, r.digest), (None, None));
    }

    #[test]
    fn patterns_match_normalised_references() {
        let p = Pattern::parse("nginx").expect("valid");
        for image in ["nginx", "nginx:1.27", "docker.io/library/nginx:1.27", "index.docker.io/nginx@sha256:abc"] {
            assert!(p.matches(&Reference::parse(image)), "{image}");
        }
        for image in ["nginxinc/nginx-unprivileged", "bitnami/nginx", "my-nginx", "nginx-custom:1"] {
            assert!(!p.matches(&Reference::parse(image)), "{image}");
        }
    }

    #[test]
    fn a_star_may_cross_slashes() {
        let p = Pattern::parse("mcr.microsoft.com/dotnet/*").expect("valid");
        assert!(p.matches(&Reference::parse("mcr.microsoft.com/dotnet/aspnet:8.0")));
        assert!(p.matches(&Reference::parse("mcr.microsoft.com/dotnet/nightly/aspnet:10.0")));
        assert!(!p.matches(&Reference::parse("mcr.microsoft.com/mssql/server")));
    }

    #[test]
    fn mirrors_match_on_whole_path_components() {
        let nginx = Pattern::parse("nginx").expect("valid");
        for image in [
            "mirror.corp/docker.io/library/nginx:1.27",
            "mirror.gcr.io/library/nginx",
            "harbor.corp/dockerhub-proxy/library/nginx:1.27",
        ] {
            assert!(nginx.matches(&Reference::parse(image)), "{image}");
        }
        assert!(!nginx.matches(&Reference::parse("harbor.corp/proxy/mylibrary/nginx")), "not a whole component");
        assert!(!nginx.matches(&Reference::parse("harbor.corp/nginx")), "library/ is part of the path");
        let bitnami = Pattern::parse("bitnami/*").expect("valid");
        assert!(bitnami.matches(&Reference::parse("harbor.corp/proxy/bitnami/redis:7.4")));
        assert!(!bitnami.matches(&Reference::parse("harbor.corp/proxy/notbitnami/redis")));
        let prom = Pattern::parse("quay.io/prometheus/prometheus").expect("valid");
        assert!(prom.matches(&Reference::parse("mirror.corp/quay.io/prometheus/prometheus:v3.1.0")));
        assert!(prom.matches(&Reference::parse("harbor.corp/quay-proxy/prometheus/prometheus")));
    }

    #[test]
    fn patterns_are_repositories() {
        assert!(Pattern::parse("nginx:1.27").is_err());
        assert!(Pattern::parse("nginx@sha256:abc").is_err());
        assert!(Pattern::parse("").is_err());
        assert!(Pattern::parse("registry.corp:5000/app").is_ok());
    }

    #[test]
    fn covering_patterns() {
        let p = |s: &str| Pattern::parse(s).expect("valid");
        assert!(p("bitnami/*").covers(&p("bitnami/redis")));
        assert!(p("bitnami/*").covers(&p("docker.io/bitnami/*")));
        assert!(p("nginx").covers(&p("docker.io/library/nginx")));
        assert!(!p("bitnami/redis").covers(&p("bitnami/*")));
        assert!(!p("nginx").covers(&p("nginxinc/nginx-unprivileged")));
    }

    #[test]
    fn globs_cut_once_match_as_glob_match_does() {
        for (pattern, s) in [
            ("a*c", "abc"),
            ("a*c", "ac"),
            ("a*b*c", "axbyc"),
            ("a*b*c", "acb"),
            ("*", ""),
            ("a*", "b"),
            ("ab*ba", "aba"),
            ("x", "x"),
            ("x", "y"),
        ] {
            assert_eq!(Glob::new(pattern).matches(s), glob_match(pattern, s), "{pattern} {s}");
        }
    }

    #[test]
    fn literal_names_prefilter() {
        assert_eq!(Pattern::parse("nginx").expect("valid").literal_name(), Some("nginx"));
        assert_eq!(Pattern::parse("bitnami/*").expect("valid").literal_name(), None);
    }
}
