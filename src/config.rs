//! `HardenConfig`: the settings file (`--config FILE`), also accepted as a
//! KRM function's `functionConfig`. Validated up front with full-sentence
//! errors; flags given on the command line win over it.
//!
//! ```yaml
//! apiVersion: harden.dev/v1alpha1
//! kind: HardenConfig
//! profile: restricted          # or baseline, dotnet, or a profile file
//! pssVersion: v1.30            # or latest
//! partial: false               # apply the other fixes to pods with blockers
//! resolveImages: true          # read each image's config from its registry (or `required`)
//! exceptions:
//!   - {kind: Deployment, namespace: mesh, images: ["docker.io/istio/proxyv2:*"]}
//!   - {name: legacy-app, rules: [read-only-root-filesystem]}
//! images:                      # rows of the image table, before the built-in ones
//!   - family: our-api
//!     match: [registry.corp/team/api]
//!     user: {uid: 5000, source: https://git.corp/team/api/-/blob/main/Dockerfile}
//!     writable: [{path: /var/cache/api, source: https://git.corp/team/api/-/blob/main/Dockerfile}]
//! ```

use crate::images::ImageTable;
use crate::plan::exceptions::Exception;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HardenConfig {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    pub profile: Option<String>,
    pub pss_version: Option<String>,
    pub partial: Option<bool>,
    /// Privileged-port strategy: auto, move, sysctl or keep.
    pub ports: Option<crate::profile::Strategy>,
    /// `--resolve-images`: read each image's config from its registry.
    pub resolve_images: Option<ResolveImages>,
    /// As a KRM function (`harden::krm`): report blockers as errors and
    /// exit 1. The command line ignores it.
    pub fail_on_blockers: Option<bool>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Image-table rows (see `crate::images`), tried before the built-in ones.
    #[serde(default)]
    pub images: Vec<serde_json::Value>,
}

/// Whether images' configs are read from their registries
/// (`--resolve-images[=required]`, `resolveImages: true | required`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveImages {
    Off,
    /// Read them; an image that cannot be read is a warning, and harden
    /// uses what its table knows.
    On,
    /// An image that cannot be read stops the run (exit 2).
    Required,
}

impl ResolveImages {
    /// `true`, `false` or `required`, as the config file and a KRM
    /// ConfigMap write it.
    pub fn parse(text: &str) -> Option<ResolveImages> {
        match text.trim() {
            "true" | "True" | "TRUE" => Some(Self::On),
            "false" | "False" | "FALSE" | "" => Some(Self::Off),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for ResolveImages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expected = "true, false or required";
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(on) => Ok(if on { Self::On } else { Self::Off }),
            serde_json::Value::String(s) if s == "required" => Ok(Self::Required),
            other => Err(serde::de::Error::custom(format!("resolveImages is {other}; expected {expected}"))),
        }
    }
}

impl HardenConfig {
    /// The `images:` rows as a table of their own (validated like any table).
    pub fn image_rows(&self, origin: &str) -> Result<ImageTable, String> {
        ImageTable::from_rows(self.images.clone(), &format!("{origin} (images:)"))
    }

    pub fn from_text(text: &str, origin: &str) -> Result<HardenConfig, String> {
        let value = crate::yaml::parse_values(text)
            .map_err(|e| format!("The config file {origin} is not valid YAML: {origin}:{e}."))?
            .into_iter()
            .next()
            .unwrap_or(serde_json::Value::Null);
        let config: HardenConfig =
            serde_json::from_value(value).map_err(|e| format!("The config file {origin} is not valid: {e}."))?;
        config.validate(origin)?;
        Ok(config)
    }

    pub fn validate(&self, origin: &str) -> Result<(), String> {
        if let Some(kind) = &self.kind
            && kind != "HardenConfig"
        {
            return Err(format!("The config file {origin} has kind {kind:?}; expected HardenConfig."));
        }
        self.image_rows(origin)?;
        for e in &self.exceptions {
            if let Some(bad) = e.rules.iter().find(|r| !crate::rules::is_rule(r)) {
                let known: Vec<_> = crate::rules::ids().collect();
                return Err(format!(
                    "The config file {origin} names rule {bad:?} in an exception, but there is no such rule; rules are {}.",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}
