//! The fields of an image's config blob that decide how it runs: `User`,
//! `ExposedPorts`, `Volumes`, `Env`, `WorkingDir` (what `docker inspect`
//! shows under `.Config`).

use super::error::ResolveError;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The config blob's digest (`sha256:…`): what the fields were read from.
    pub digest: String,
    /// `"1001"`, `"1001:0"`, `"app"`; None when unset or empty (root).
    pub user: Option<String>,
    /// `"80/tcp"`, in the config's order.
    pub exposed_ports: Vec<String>,
    /// Paths, in the config's order.
    pub volumes: Vec<String>,
    /// `NAME=value` entries, in the config's order.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
}

impl ImageConfig {
    pub fn parse(blob: &[u8], digest: &str) -> Result<Self, ResolveError> {
        let json: Value = serde_json::from_slice(blob).map_err(|e| ResolveError::malformed("image config", e))?;
        if !json.is_object() {
            return Err(ResolveError::malformed("image config", "not a JSON object"));
        }
        // An image built FROM scratch with nothing set may have no `config` at all.
        let config = &json["config"];
        let text = |name: &str| config[name].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        let keys = |name: &str| config[name].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        let env = match &config["Env"] {
            Value::Null => Vec::new(),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| ResolveError::malformed("image config", "Env has an entry that is not a string"))?,
            _ => return Err(ResolveError::malformed("image config", "Env is not a list")),
        };
        Ok(Self {
            digest: digest.to_string(),
            user: text("User"),
            exposed_ports: keys("ExposedPorts"),
            volumes: keys("Volumes"),
            env,
            working_dir: text("WorkingDir"),
        })
    }

    /// The value of `name` in `Env` (the last entry wins, as in a container).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find_map(|entry| entry.strip_prefix(name)?.strip_prefix('='))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_that_decide_how_it_runs() {
        let blob = br#"{"architecture": "amd64", "os": "linux", "config": {
            "User": "1654", "ExposedPorts": {"8080/tcp": {}, "80/tcp": {}}, "Volumes": {"/data": {}},
            "Env": ["PATH=/usr/bin", "APP_UID=1654", "PORT=80", "PORT=8080"], "WorkingDir": "/app"}}"#;
        let config = ImageConfig::parse(blob, "sha256:c").expect("parses");
        assert_eq!(config.user.as_deref(), Some("1654"));
        assert_eq!(config.exposed_ports, ["8080/tcp", "80/tcp"]);
        assert_eq!(config.volumes, ["/data"]);
        assert_eq!(config.working_dir.as_deref(), Some("/app"));
        assert_eq!(config.env_var("APP_UID"), Some("1654"));
        assert_eq!(config.env_var("PORT"), Some("8080"));
        assert_eq!(config.env_var("PAT"), None);
        assert_eq!(config.digest, "sha256:c");
    }

    #[test]
    fn an_image_with_nothing_set_is_empty_not_an_error() {
        let config = ImageConfig::parse(br#"{"os": "linux", "config": {"User": ""}}"#, "d").expect("parses");
        assert_eq!(config, ImageConfig { digest: "d".into(), ..Default::default() });
        assert_eq!(ImageConfig::parse(br#"{"os": "linux"}"#, "d").expect("parses").user, None);
    }

    #[test]
    fn malformed_configs_say_so() {
        for blob in [&b"[1]"[..], b"{", br#"{"config": {"Env": "A=1"}}"#, br#"{"config": {"Env": [1]}}"#] {
            let error = ImageConfig::parse(blob, "d").expect_err("malformed").to_string();
            assert!(error.starts_with("malformed image config: "), "{error}");
        }
    }
}
