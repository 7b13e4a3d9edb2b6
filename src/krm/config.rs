//! A KRM function's `functionConfig`: a `ConfigMap` (what `kpt fn eval --
//! key=value` and a Kptfile's `configMap:` produce) or a `HardenConfig`
//! (see [`crate::config`]; what `--fn-config` or a kustomize transformer
//! entry names). Both become a [`HardenConfig`], validated the same way as
//! `--config`.
//!
//! ```yaml
//! apiVersion: v1
//! kind: ConfigMap
//! metadata: {name: harden}
//! data:
//!   profile: restricted          # or baseline, dotnet, a profile file
//!   pss-version: v1.30           # or latest
//!   partial: "false"             # apply the other fixes to pods with blockers
//!   fail-on-blockers: "false"    # blockers become errors and the function fails
//!   ports: auto                  # auto, move, sysctl or keep
//!   resolve-images: "true"       # read images' configs from their registries (or "required")
//!   skip-rules: read-only-root-filesystem,resources
//!   skip-containers: istio-proxy
//!   skip-images: "docker.io/istio/*"
//! ```

use crate::config::{HardenConfig, ResolveImages};
use crate::plan::exceptions::{Exception, comma_list};
use serde_json::Value;

/// The keys a ConfigMap `functionConfig` may hold.
pub const CONFIG_MAP_KEYS: [&str; 9] = [
    "profile",
    "pss-version",
    "partial",
    "fail-on-blockers",
    "ports",
    "resolve-images",
    "skip-rules",
    "skip-containers",
    "skip-images",
];

/// Read the `functionConfig` (absent or null: no settings of its own).
pub fn function_config(fc: Option<&Value>) -> Result<HardenConfig, String> {
    let Some(fc) = fc.filter(|v| !v.is_null()) else { return Ok(HardenConfig::default()) };
    let kind = fc.get("kind").and_then(Value::as_str).unwrap_or("");
    let config = match kind {
        "ConfigMap" => from_config_map(fc)?,
        "HardenConfig" => serde_json::from_value::<HardenConfig>(fc.clone())
            .map_err(|e| format!("The functionConfig (kind HardenConfig) is not valid: {e}."))?,
        other => {
            return Err(format!(
                "The functionConfig has kind {other:?}; harden takes a ConfigMap (data keys: {}) or a HardenConfig.",
                CONFIG_MAP_KEYS.join(", ")
            ));
        }
    };
    config.validate("functionConfig")?;
    Ok(config)
}

fn from_config_map(fc: &Value) -> Result<HardenConfig, String> {
    let mut config = HardenConfig::default();
    let data = match fc.get("data") {
        None | Some(Value::Null) => return Ok(config),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("The functionConfig ConfigMap's data is not a mapping.".to_string()),
    };
    for (key, value) in data {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(_) | Value::Number(_) => value.to_string(),
            _ => return Err(format!("The functionConfig ConfigMap's data.{key} is not a string.")),
        };
        match key.as_str() {
            "profile" => config.profile = Some(text),
            "pss-version" => config.pss_version = Some(text),
            "partial" => config.partial = Some(boolean(key, &text)?),
            "fail-on-blockers" => config.fail_on_blockers = Some(boolean(key, &text)?),
            "ports" => {
                config.ports = Some(serde_json::from_value(Value::String(text.clone())).map_err(|_| {
                    format!(
                        "The functionConfig ConfigMap's data.ports is {text:?}; expected auto, move, sysctl or keep."
                    )
                })?);
            }
            "resolve-images" => {
                config.resolve_images = Some(ResolveImages::parse(&text).ok_or_else(|| {
                    format!(
                        "The functionConfig ConfigMap's data.resolve-images is {text:?}; expected \"true\", \"false\" or \"required\"."
                    )
                })?);
            }
            "skip-rules" => config.exceptions.push(Exception { rules: comma_list(&text), ..Default::default() }),
            "skip-containers" => {
                config.exceptions.push(Exception { containers: comma_list(&text), ..Default::default() })
            }
            "skip-images" => config.exceptions.push(Exception { images: comma_list(&text), ..Default::default() }),
            _ => {
                return Err(format!(
                    "The functionConfig ConfigMap has data.{key}, which harden does not know; the keys are {}.",
                    CONFIG_MAP_KEYS.join(", ")
                ));
            }
        }
    }
    // An empty list would exempt nothing by container but everything by
    // resource (an exception without containers or images covers the whole
    // resource): drop it.
    config.exceptions.retain(|e| !(e.rules.is_empty() && e.containers.is_empty() && e.images.is_empty()));
    Ok(config)
}

fn boolean(key: &str, text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" | "" => Ok(false),
        _ => Err(format!("The functionConfig ConfigMap's data.{key} is {text:?}; expected \"true\" or \"false\".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_map_becomes_a_harden_config() {
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {
            "profile": "dotnet", "pss-version": "v1.29", "partial": "true", "fail-on-blockers": "true",
            "skip-rules": "resources, read-only-root-filesystem", "skip-containers": "", "skip-images": "istio/*"}});
        let c = function_config(Some(&fc)).expect("valid");
        assert_eq!(c.profile.as_deref(), Some("dotnet"));
        assert_eq!(c.pss_version.as_deref(), Some("v1.29"));
        assert_eq!((c.partial, c.fail_on_blockers), (Some(true), Some(true)));
        assert_eq!(c.exceptions.len(), 2, "the empty skip-containers is dropped: {:?}", c.exceptions);
        assert_eq!(c.exceptions[0].rules, ["resources", "read-only-root-filesystem"]);
        assert_eq!(c.exceptions[1].images, ["istio/*"]);
    }

    #[test]
    fn kpt_default_function_input_means_defaults() {
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}, "data": {}});
        assert_eq!(function_config(Some(&fc)).expect("valid"), HardenConfig::default());
        assert_eq!(function_config(None).expect("valid"), HardenConfig::default());
    }

    #[test]
    fn mistakes_are_full_sentences() {
        let bad = |data: Value| {
            function_config(Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": data})))
                .expect_err("must be refused")
        };
        assert!(bad(json!({"profil": "x"})).contains("data.profil, which harden does not know"));
        assert!(bad(json!({"partial": "yes please"})).contains("expected \"true\" or \"false\""));
        assert!(bad(json!({"skip-rules": "no-such-rule"})).contains("no such rule"));
        assert!(bad(json!({"ports": "sideways"})).contains("expected auto, move, sysctl or keep"));
        assert!(bad(json!({"resolve-images": "maybe"})).contains("expected \"true\", \"false\" or \"required\""));
        let e = function_config(Some(&json!({"apiVersion": "apps/v1", "kind": "Deployment"}))).expect_err("kind");
        assert!(e.contains("has kind \"Deployment\""), "{e}");
    }

    #[test]
    fn a_harden_config_is_read_as_is() {
        let fc = json!({"apiVersion": "harden.dev/v1alpha1", "kind": "HardenConfig",
            "metadata": {"name": "harden", "annotations": {"config.kubernetes.io/function": "exec:\n  path: ./harden\n"}},
            "profile": "baseline", "failOnBlockers": true, "exceptions": [{"name": "legacy", "rules": ["resources"]}]});
        let c = function_config(Some(&fc)).expect("valid");
        assert_eq!(c.profile.as_deref(), Some("baseline"));
        assert_eq!(c.fail_on_blockers, Some(true));
        assert_eq!(c.exceptions[0].name.as_deref(), Some("legacy"));
    }

    #[test]
    fn resolve_images_is_read_the_same_way_from_both_kinds() {
        let map = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"resolve-images": v}});
        let harden =
            |v: Value| json!({"apiVersion": "harden.dev/v1alpha1", "kind": "HardenConfig", "resolveImages": v});
        for (from_map, from_harden, want) in [
            ("true", json!(true), ResolveImages::On),
            ("required", json!("required"), ResolveImages::Required),
            ("false", json!(false), ResolveImages::Off),
        ] {
            assert_eq!(function_config(Some(&map(from_map))).expect("valid").resolve_images, Some(want));
            assert_eq!(function_config(Some(&harden(from_harden))).expect("valid").resolve_images, Some(want));
        }
        let e = function_config(Some(&harden(json!("always")))).expect_err("not a mode");
        assert!(e.contains("expected true, false or required"), "{e}");
    }
}
