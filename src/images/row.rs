//! One row of the image table, as written (`data/images.yaml`, a user's
//! `--images` file or HardenConfig `images:`), and its validation: every
//! fact has a public source, `user` is exactly one of uid / any / rootOnly,
//! each port says exactly one way to tell the image another port.

use super::reference::{Pattern, Reference};
use super::tags::TagFilter;
use serde::Deserialize;
use serde_json::Value;

/// What harden knows about one image family.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRow {
    /// Unique within its file; named in reasons and warnings.
    pub family: String,
    pub patterns: Vec<Pattern>,
    pub tags: Option<TagFilter>,
    /// A version range also claims `latest` (and untagged references).
    pub latest_matches: bool,
    /// The public file that names the image (or the variant its `tags`
    /// select) and says what the row says of it as a whole (e.g. that it is
    /// a base image: `writes_unknown`). Required in the built-in table.
    pub source: Option<String>,
    pub user: Option<User>,
    pub capabilities: Vec<Capability>,
    pub writable: Vec<Writable>,
    pub env: Vec<EnvFact>,
    pub ports: Vec<PortFact>,
    /// What the image writes is not known (a base image: the application
    /// built on it decides): harden assumes only /tmp, as for an image no
    /// row matches, and says so.
    pub writes_unknown: bool,
    pub notes: Option<String>,
    /// What harden read from the image's registry (`--resolve-images`), a
    /// line per fact, for the report; empty for the rows of a table.
    pub registry_notes: Vec<String>,
}

/// Who the image runs as.
#[derive(Clone, Debug, PartialEq)]
pub enum User {
    /// Its own non-root user: harden uses it instead of the profile's UID.
    Id { uid: u64, gid: u64, source: String },
    /// Works as an arbitrary UID once its paths are writable.
    Any { source: String },
    /// Needs root: its pod is left unchanged and reported.
    RootOnly { why: String, alternative: String, source: String },
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Upper case, without `CAP_`: `NET_BIND_SERVICE`.
    pub keep: String,
    #[serde(default)]
    pub why: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Writable {
    pub path: String,
    #[serde(default)]
    pub why: String,
    /// A data directory (a database's VOLUME): ephemeral under an emptyDir.
    #[serde(default)]
    pub data: bool,
    /// `false`: the image writes here, but an empty directory would hide
    /// what the image put there (its config), so only a writable root
    /// filesystem (or the owner's own volume) serves.
    #[serde(default = "yes")]
    pub empty_dir: bool,
    /// The image writes the path only where the container mounts a volume
    /// at (or under) this path: nginx renders `/etc/nginx/templates` into
    /// `/etc/nginx/conf.d`.
    #[serde(default)]
    pub when_mounted: Option<String>,
    #[serde(default)]
    pub source: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvFact {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub why: String,
    /// Set it only where harden itself adds the emptyDir for this writable
    /// path (a fresh, empty directory): a volume of the owner's there may
    /// already hold data where the image expects it.
    pub only_with_added_volume: Option<String>,
    #[serde(default)]
    pub source: String,
}

/// A port the image listens on by default, and how to tell it another one.
#[derive(Clone, Debug, PartialEq)]
pub struct PortFact {
    pub port: u16,
    pub how: PortSetting,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PortSetting {
    Env(String),
    Flag(String),
    Config {
        path: String,
        directive: String,
    },
    /// It cannot be told another port.
    Fixed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRow {
    family: String,
    #[serde(rename = "match")]
    patterns: Vec<String>,
    tags: Option<String>,
    #[serde(default)]
    latest_matches: bool,
    source: Option<String>,
    user: Option<RawUser>,
    #[serde(default)]
    capabilities: Vec<Capability>,
    #[serde(default)]
    writable: Vec<Writable>,
    #[serde(default)]
    env: Vec<EnvFact>,
    #[serde(default)]
    ports: Vec<RawPort>,
    #[serde(default)]
    writes_unknown: bool,
    notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawUser {
    uid: Option<u64>,
    gid: Option<u64>,
    #[serde(default)]
    any: bool,
    root_only: Option<String>,
    alternative: Option<String>,
    #[serde(default)]
    why: String,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    port: u16,
    env: Option<String>,
    flag: Option<String>,
    config: Option<RawConfig>,
    #[serde(default)]
    fixed: bool,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    path: String,
    directive: String,
}

impl ImageRow {
    /// Read and validate one row; errors name the row (`family` or its
    /// position) and are full sentences without the origin.
    pub fn from_value(value: Value, position: usize) -> Result<ImageRow, String> {
        let name = value
            .get("family")
            .and_then(Value::as_str)
            .map_or_else(|| format!("row {}", position + 1), |f| format!("row {} ({f})", position + 1));
        let raw: RawRow = serde_json::from_value(value).map_err(|e| format!("{name}: {e}"))?;
        raw.validate().map_err(|e| format!("{name}: {e}"))
    }

    /// Whether `r` is an image of this row: a pattern matches its repository
    /// and its tag passes `tags`.
    pub fn matches(&self, r: &Reference) -> bool {
        self.tags_match(r) && self.patterns.iter().any(|p| p.matches(r))
    }

    fn tags_match(&self, r: &Reference) -> bool {
        let Some(filter) = &self.tags else { return true };
        match (&r.tag, &r.digest) {
            (None, Some(_)) => false, // a digest names no tag
            (tag, _) => filter.matches(tag.as_deref().unwrap_or("latest"), self.latest_matches),
        }
    }

    /// Whether a row after this one with `later`'s patterns and tags could
    /// never match: this row covers all its patterns, with no tags or the
    /// same ones.
    pub fn shadows(&self, later: &ImageRow) -> bool {
        let tags_cover = match (&self.tags, &later.tags) {
            (None, _) => true,
            (Some(a), Some(b)) => a == b && (self.latest_matches || !later.latest_matches),
            (Some(_), None) => false,
        };
        tags_cover && later.patterns.iter().all(|lp| self.patterns.iter().any(|p| p.covers(lp)))
    }

    /// The row's own user id and group, if it names one.
    pub fn ids(&self) -> Option<(u64, u64)> {
        match self.user {
            Some(User::Id { uid, gid, .. }) => Some((uid, gid)),
            _ => None,
        }
    }
}

impl RawRow {
    fn validate(self) -> Result<ImageRow, String> {
        if self.family.trim().is_empty() {
            return Err("`family` is empty".to_string());
        }
        if self.patterns.is_empty() {
            return Err("`match` has no pattern".to_string());
        }
        let patterns = self.patterns.iter().map(|p| Pattern::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let tags = self.tags.as_deref().map(TagFilter::parse).transpose()?;
        if self.latest_matches && !tags.as_ref().is_some_and(TagFilter::is_range) {
            return Err("`latestMatches` applies to a version range in `tags` only".to_string());
        }
        if self.user.is_none()
            && self.capabilities.is_empty()
            && self.writable.is_empty()
            && self.env.is_empty()
            && self.ports.is_empty()
        {
            return Err("the row states no fact (user, capabilities, writable, env or ports)".to_string());
        }
        if let Some(url) = &self.source {
            source(url, "the row")?;
        }
        let user = self.user.map(RawUser::validate).transpose()?;
        let mut capabilities = self.capabilities;
        for c in &mut capabilities {
            source(&c.source, &format!("capability {}", c.keep))?;
            c.keep = c.keep.trim().trim_start_matches("CAP_").to_ascii_uppercase();
            if c.keep.is_empty() {
                return Err("a capability has an empty `keep`".to_string());
            }
        }
        for w in &self.writable {
            source(&w.source, &format!("writable path {}", w.path))?;
            absolute_path(&w.path)?;
            if let Some(path) = &w.when_mounted {
                absolute_path(path)?;
            }
        }
        for e in &self.env {
            source(&e.source, &format!("env {}", e.name))?;
            if e.name.is_empty() || e.name.contains('=') {
                return Err(format!("env name {:?} is not a variable name", e.name));
            }
            if let Some(path) = &e.only_with_added_volume
                && !self.writable.iter().any(|w| &w.path == path && w.empty_dir)
            {
                return Err(format!(
                    "env {} has onlyWithAddedVolume {path:?}, which is not a writable path of the row that gets an emptyDir",
                    e.name
                ));
            }
        }
        let ports = self.ports.into_iter().map(RawPort::validate).collect::<Result<Vec<_>, _>>()?;
        Ok(ImageRow {
            family: self.family,
            patterns,
            tags,
            latest_matches: self.latest_matches,
            source: self.source,
            user,
            capabilities,
            writable: self.writable,
            env: self.env,
            ports,
            writes_unknown: self.writes_unknown,
            notes: self.notes,
            registry_notes: Vec::new(),
        })
    }
}

impl RawUser {
    fn validate(self) -> Result<User, String> {
        source(&self.source, "user")?;
        let _ = self.why; // free text for readers of the table
        match (self.uid, self.any, self.root_only) {
            (Some(0), false, None) => Err("user uid 0 is root; a root-only image says `rootOnly`".to_string()),
            (Some(uid), false, None) if self.alternative.is_none() => {
                Ok(User::Id { uid, gid: self.gid.unwrap_or(uid), source: self.source })
            }
            (None, true, None) if self.gid.is_none() && self.alternative.is_none() => {
                Ok(User::Any { source: self.source })
            }
            (None, false, Some(why)) if self.gid.is_none() => {
                match self.alternative {
                    Some(alternative) if !alternative.trim().is_empty() && !why.trim().is_empty() => {
                        Ok(User::RootOnly { why, alternative, source: self.source })
                    }
                    _ => Err("user rootOnly needs its reason and an `alternative` (the non-root image or setting)"
                        .to_string()),
                }
            }
            _ => Err(
                "user must be exactly one of {uid, gid?}, {any: true} or {rootOnly, alternative}, each with a source"
                    .to_string(),
            ),
        }
    }
}

impl RawPort {
    fn validate(self) -> Result<PortFact, String> {
        source(&self.source, &format!("port {}", self.port))?;
        if self.port == 0 {
            return Err("port 0 is not a port".to_string());
        }
        let how = match (self.env, self.flag, self.config, self.fixed) {
            (Some(e), None, None, false) => PortSetting::Env(e),
            (None, Some(f), None, false) => PortSetting::Flag(f),
            (None, None, Some(c), false) => {
                absolute_path(&c.path)?;
                PortSetting::Config { path: c.path, directive: c.directive }
            }
            (None, None, None, true) => PortSetting::Fixed,
            _ => {
                return Err(format!("port {} must say exactly one of env, flag, config or fixed: true", self.port));
            }
        };
        Ok(PortFact { port: self.port, how, source: self.source })
    }
}

/// A fact's source: the public file it comes from, as an https URL.
fn source(url: &str, what: &str) -> Result<(), String> {
    if url.starts_with("https://") && url.len() > "https://".len() && !url.contains(char::is_whitespace) {
        Ok(())
    } else if url.is_empty() {
        Err(format!("{what} has no source"))
    } else {
        Err(format!("{what} has source {url:?}, which is not an https:// URL"))
    }
}

fn yes() -> bool {
    true
}

pub(super) fn absolute_path(path: &str) -> Result<(), String> {
    let clean = path.starts_with('/')
        && path != "/"
        && !path.ends_with('/')
        && path.split('/').skip(1).all(|c| !c.is_empty() && c != "." && c != "..");
    if clean { Ok(()) } else { Err(format!("path {path:?} is not a clean absolute path below /")) }
}
