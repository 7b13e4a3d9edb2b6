//! Manifests and indexes (OCI and Docker v2 media types): an index names one
//! manifest per platform, a manifest names the config blob.

use super::error::ResolveError;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// What a manifest request accepts, indexes first so a registry that has one
/// does not convert it to a single-platform manifest.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

const INDEX_TYPES: [&str; 2] =
    ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const IMAGE_CONFIG_TYPES: [&str; 2] =
    ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// Each entry's platform and manifest digest.
    Index(Vec<(Platform, String)>),
    /// The config blob's digest.
    Image { config: String },
}

impl Manifest {
    /// `content_type` is the response's, when there was a response: the
    /// body's own `mediaType` wins, and the shape decides when neither says.
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Self, ResolveError> {
        let json: Value = serde_json::from_slice(body).map_err(|e| ResolveError::malformed("manifest", e))?;
        if json["schemaVersion"].as_u64() == Some(1) {
            return Err(ResolveError::malformed("manifest", "schema 1 manifests are not supported"));
        }
        let media_type =
            json["mediaType"].as_str().or(content_type.map(|t| t.split(';').next().unwrap_or(t).trim())).unwrap_or("");
        let is_index = INDEX_TYPES.contains(&media_type) || (media_type.is_empty() && json["manifests"].is_array());
        if is_index { parse_index(&json) } else { parse_image(&json) }
    }
}

fn parse_index(json: &Value) -> Result<Manifest, ResolveError> {
    let manifests = json["manifests"].as_array().ok_or_else(|| ResolveError::malformed("index", "no manifests"))?;
    let mut entries = Vec::new();
    for entry in manifests {
        let digest =
            entry["digest"].as_str().ok_or_else(|| ResolveError::malformed("index", "an entry has no digest"))?;
        // Entries without a platform (attestations, artifacts) are never an image to run.
        let platform = &entry["platform"];
        let (Some(os), Some(architecture)) = (platform["os"].as_str(), platform["architecture"].as_str()) else {
            continue;
        };
        let variant = platform["variant"].as_str().map(str::to_string);
        entries.push((Platform { os: os.into(), architecture: architecture.into(), variant }, digest.to_string()));
    }
    Ok(Manifest::Index(entries))
}

fn parse_image(json: &Value) -> Result<Manifest, ResolveError> {
    let config = &json["config"];
    let digest = config["digest"].as_str().ok_or_else(|| ResolveError::malformed("manifest", "no config digest"))?;
    match config["mediaType"].as_str() {
        Some(kind) if !IMAGE_CONFIG_TYPES.contains(&kind) => {
            Err(ResolveError::malformed("manifest", format!("not a container image (its config is {kind})")))
        }
        _ => Ok(Manifest::Image { config: digest.to_string() }),
    }
}

/// `os/architecture[/variant]`, as `--platform` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Self { os: "linux".into(), architecture: "amd64".into(), variant: None }
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Self {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: parts.get(2).filter(|v| !v.is_empty()).map(|v| v.to_string()),
            }),
            _ => Err(format!("{text:?} is not os/arch or os/arch/variant (e.g. linux/arm64)")),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        self.variant.as_ref().map_or(Ok(()), |v| write!(f, "/{v}"))
    }
}

/// The digest of the index entry for `wanted`: a variant, when given, must
/// match; without one, the first entry for the os and architecture.
pub fn pick(entries: &[(Platform, String)], wanted: &Platform) -> Result<String, ResolveError> {
    entries
        .iter()
        .find(|(p, _)| {
            p.os == wanted.os
                && p.architecture == wanted.architecture
                && (wanted.variant.is_none() || p.variant == wanted.variant)
        })
        .map(|(_, digest)| digest.clone())
        .ok_or_else(|| ResolveError::NoPlatform {
            wanted: wanted.to_string(),
            available: entries.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>().join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
          {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
          {"digest": "sha256:armv7", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
          {"digest": "sha256:arm64", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
          {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
          {"digest": "sha256:noplatform"}]}"#;

    fn platform(text: &str) -> Platform {
        text.parse().expect("platform")
    }

    fn index_entries() -> Vec<(Platform, String)> {
        match Manifest::parse(INDEX.as_bytes(), None) {
            Ok(Manifest::Index(entries)) => entries,
            other => panic!("not an index: {other:?}"),
        }
    }

    #[test]
    fn an_index_picks_linux_amd64_unless_told_otherwise() {
        let entries = index_entries();
        assert_eq!(entries.len(), 4, "the entry without a platform is skipped");
        assert_eq!(pick(&entries, &Platform::default()), Ok("sha256:amd".into()));
        assert_eq!(pick(&entries, &platform("linux/arm64")), Ok("sha256:arm64".into()));
        assert_eq!(pick(&entries, &platform("linux/arm/v7")), Ok("sha256:armv7".into()));
    }

    #[test]
    fn a_missing_platform_names_those_there_are() {
        let error = pick(&index_entries(), &platform("linux/arm/v6")).expect_err("no v6").to_string();
        assert_eq!(
            error,
            "the index has no linux/arm/v6 image (it has linux/amd64, linux/arm/v7, linux/arm64/v8, unknown/unknown)"
        );
    }

    #[test]
    fn docker_and_oci_manifests_give_their_config() {
        let docker = r#"{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:c"}}"#;
        assert_eq!(Manifest::parse(docker.as_bytes(), None), Ok(Manifest::Image { config: "sha256:c".into() }));
        // No mediaType in the body: the response's Content-Type decides.
        let oci = r#"{"schemaVersion": 2, "config": {"digest": "sha256:o"}, "layers": []}"#;
        let content_type = Some("application/vnd.oci.image.manifest.v1+json");
        assert_eq!(Manifest::parse(oci.as_bytes(), content_type), Ok(Manifest::Image { config: "sha256:o".into() }));
    }

    #[test]
    fn malformed_and_unsupported_manifests_say_so() {
        for (body, says) in [
            ("{not json", "malformed manifest: "),
            (r#"{"schemaVersion": 1, "fsLayers": []}"#, "schema 1"),
            (r#"{"schemaVersion": 2, "layers": []}"#, "no config digest"),
            (
                r#"{"schemaVersion": 2, "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:h"}}"#,
                "not a container image",
            ),
            (r#"{"mediaType": "application/vnd.oci.image.index.v1+json"}"#, "malformed index: no manifests"),
        ] {
            let error = Manifest::parse(body.as_bytes(), None).expect_err(body).to_string();
            assert!(error.contains(says), "{body}: {error}");
        }
    }

    #[test]
    fn platforms_parse_as_docker_writes_them() {
        assert_eq!(platform("linux/arm64/v8").to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v7".parse::<Platform>().is_err());
        assert!("a/b/c/d".parse::<Platform>().is_err());
    }
}
