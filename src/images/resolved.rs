//! `--resolve-images`: what an image's own config says (read from its
//! registry), as a row of the table, and that row merged with the user's
//! and the built-in rows for the same image, field by field: the user's
//! row first, then the registry's, then the built-in one. The rules read
//! the merged row as they read any other (one code path).
//!
//! What the config gives: `User` when numeric and non-zero (or `APP_UID`
//! from `Env` when `User` is a name), each `Volumes` path as a writable data
//! directory, each `ExposedPorts` port with how the app is told another one
//! (`ASPNETCORE_HTTP_PORTS`, `ASPNETCORE_URLS` or `PORT` in `Env` when set
//! to that port, else not at all as far as harden knows). Every fact it
//! gives has the source `registry: <reference>@<config digest> config.<Field>`.

use super::row::{ImageRow, PortFact, PortSetting, User, Writable, absolute_path};
use crate::registry::ImageConfig;

/// The row an image's config makes, and what is said about it.
pub struct FromRegistry {
    pub row: ImageRow,
    reference: String,
    /// `image X: config.User "1001:0"`, the start of the line about the user.
    user_read: Option<String>,
    /// Where `User` is a name, unset or 0: what the image's maker should change.
    advice: Option<String>,
}

/// Prefix of every source the registry gives.
const SOURCE: &str = "registry: ";

/// The row `config` (read for `reference`) makes.
pub fn from_config(reference: &str, config: &ImageConfig) -> FromRegistry {
    let source = |field: &str| format!("{SOURCE}{reference}@{} config.{field}", config.digest);
    let written = config.user.as_deref().unwrap_or("");
    let numeric = numeric_user(written).filter(|(uid, _)| *uid != 0);
    let app_uid = config.env_var("APP_UID").and_then(|v| v.trim().parse::<u64>().ok()).filter(|u| *u != 0);
    let is_name = !written.is_empty() && numeric_user(written).is_none();
    let (user, user_read) = match (numeric, app_uid) {
        (Some((uid, gid)), _) => (
            Some(User::Id { uid, gid: gid.unwrap_or(uid), source: source("User") }),
            Some(format!("config.User {written:?}")),
        ),
        (None, Some(uid)) if is_name => (
            Some(User::Id { uid, gid: uid, source: source("Env APP_UID") }),
            Some(format!("config.User {written:?} is a name; config.Env APP_UID={uid}")),
        ),
        _ => (None, None),
    };
    let advice = numeric.is_none().then(|| {
        let said = match written {
            "" => "is unset (root)".to_string(),
            w if numeric_user(w).is_some() => format!("{w:?} is root"),
            w => format!("{w:?} is a name"),
        };
        format!(
            "config.User {said}: the kubelet cannot verify runAsNonRoot from a name, so harden sets \
             runAsUser; set USER by UID in the image (`USER $APP_UID`, `USER 10001`) so that runAsNonRoot works \
             without runAsUser"
        )
    });
    let writable = config
        .volumes
        .iter()
        .map(|path| path.trim_end_matches('/'))
        .filter(|path| absolute_path(path).is_ok())
        .map(|path| Writable {
            path: path.to_string(),
            why: format!("VOLUME {path} in the image's config"),
            data: true,
            empty_dir: true,
            when_mounted: None,
            source: source("Volumes"),
        })
        .collect();
    let mut ports: Vec<PortFact> = Vec::new();
    for exposed in &config.exposed_ports {
        let number = exposed.split('/').next().and_then(|p| p.parse::<u16>().ok()).filter(|p| *p != 0);
        if let Some(port) = number.filter(|p| !ports.iter().any(|f| f.port == *p)) {
            ports.push(PortFact { port, how: told_by(config, port), source: source("ExposedPorts") });
        }
    }
    let row = ImageRow {
        family: "registry".to_string(),
        patterns: Vec::new(),
        tags: None,
        latest_matches: false,
        source: Some(format!("{SOURCE}{reference}@{}", config.digest)),
        user,
        capabilities: Vec::new(),
        writable,
        env: Vec::new(),
        ports,
        // The image's own config is what it declares it writes.
        writes_unknown: false,
        notes: None,
        registry_notes: Vec::new(),
    };
    FromRegistry { row, reference: reference.to_string(), user_read, advice }
}

/// `1001`, `1001:0`, `1234:1234`: the UID and the GID when it is numeric.
fn numeric_user(user: &str) -> Option<(u64, Option<u64>)> {
    let (uid, gid) = match user.split_once(':') {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (user, None),
    };
    Some((uid.parse().ok()?, gid.and_then(|g| g.parse().ok())))
}

/// How the image is told to listen elsewhere than `port`, from its `Env`.
fn told_by(config: &ImageConfig, port: u16) -> PortSetting {
    let listed = |name: &str| {
        config.env_var(name).is_some_and(|v| v.split([';', ',']).any(|p| p.trim().parse::<u16>().ok() == Some(port)))
    };
    let in_urls = config.env_var("ASPNETCORE_URLS").is_some_and(|urls| {
        urls.split(';').any(|url| {
            let authority = url.split_once("://").map_or(url, |(_, rest)| rest).split('/').next().unwrap_or("");
            authority.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()) == Some(port)
        })
    });
    if listed("ASPNETCORE_HTTP_PORTS") {
        PortSetting::Env("ASPNETCORE_HTTP_PORTS".to_string())
    } else if in_urls {
        PortSetting::Env("ASPNETCORE_URLS".to_string())
    } else if listed("PORT") {
        PortSetting::Env("PORT".to_string())
    } else {
        PortSetting::Fixed
    }
}

/// The row the rules use for an image the registry described: field by
/// field, the user's row, then the registry's, then the built-in one;
/// writable paths are united by path and ports merged by number (the
/// registry says which ports exist, the rows how to tell them).
pub fn merged(user: Option<&ImageRow>, registry: FromRegistry, built_in: Option<&ImageRow>) -> ImageRow {
    let FromRegistry { row: read, reference, user_read, advice } = registry;
    let rows: Vec<&ImageRow> = user.into_iter().chain([&read]).chain(built_in).collect();
    let stated = |field: fn(&ImageRow) -> bool| rows.iter().find(|r| field(r)).copied();
    let base = user.or(built_in);
    let mut writable: Vec<Writable> = Vec::new();
    for w in rows.iter().flat_map(|r| &r.writable) {
        if !writable.iter().any(|mine| mine.path == w.path) {
            writable.push(w.clone());
        }
    }
    let ports = if read.ports.is_empty() {
        stated(|r| !r.ports.is_empty()).map_or_else(Vec::new, |r| r.ports.clone())
    } else {
        let told = |row: Option<&ImageRow>, port: u16| {
            row.and_then(|r| r.ports.iter().find(|f| f.port == port)).map(|f| f.how.clone())
        };
        let mut ports: Vec<PortFact> = read
            .ports
            .iter()
            .map(|f| PortFact {
                how: told(user, f.port).or_else(|| told(built_in, f.port)).unwrap_or_else(|| f.how.clone()),
                ..f.clone()
            })
            .collect();
        // The user's own ports stand even where the image does not expose them.
        for f in user.into_iter().flat_map(|r| &r.ports) {
            if !ports.iter().any(|p| p.port == f.port) {
                ports.push(f.clone());
            }
        }
        ports
    };
    let row = ImageRow {
        family: base.map_or_else(|| read.family.clone(), |b| format!("{} + {}", b.family, read.family)),
        patterns: Vec::new(),
        tags: None,
        latest_matches: false,
        source: stated(|r| r.source.is_some()).and_then(|r| r.source.clone()),
        user: stated(|r| r.user.is_some()).and_then(|r| r.user.clone()),
        capabilities: stated(|r| !r.capabilities.is_empty()).map(|r| r.capabilities.clone()).unwrap_or_default(),
        writable,
        env: stated(|r| !r.env.is_empty()).map(|r| r.env.clone()).unwrap_or_default(),
        ports,
        // A base image's row (python, distroless) still does not know what
        // the application built on it writes: its config's VOLUMEs are what
        // the image declares, not all it writes.
        writes_unknown: base.is_some_and(|b| b.writes_unknown),
        notes: stated(|r| r.notes.is_some()).and_then(|r| r.notes.clone()),
        registry_notes: Vec::new(),
    };
    let registry_notes = said(&row, &reference, user_read, advice);
    ImageRow { registry_notes, ..row }
}

/// One line per fact of `row` that the registry gave, then the advice,
/// each naming the image, the config's field and its value.
fn said(row: &ImageRow, reference: &str, user_read: Option<String>, advice: Option<String>) -> Vec<String> {
    let from_registry = |source: &str| source.starts_with(SOURCE);
    let mut lines = Vec::new();
    if let (Some(User::Id { uid, gid, source }), Some(read)) = (&row.user, user_read)
        && from_registry(source)
    {
        lines.push(format!("image {reference}: {read}: runs as UID {uid}, GID {gid}"));
    }
    for w in row.writable.iter().filter(|w| from_registry(&w.source)) {
        lines.push(format!("image {reference}: config.Volumes {}: a data directory, made writable", w.path));
    }
    for p in row.ports.iter().filter(|p| from_registry(&p.source)) {
        let how = match &p.how {
            PortSetting::Env(name) => format!("told another port through {name}"),
            PortSetting::Flag(flag) => format!("told another port with {flag}"),
            PortSetting::Config { path, directive } => format!("told another port by {directive} in {path}"),
            PortSetting::Fixed => "cannot be told another port, as far as harden knows".to_string(),
        };
        lines.push(format!("image {reference}: config.ExposedPorts {}: listens there, {how}", p.port));
    }
    lines.extend(advice.map(|a| format!("image {reference}: {a}")));
    lines
}

#[cfg(test)]
mod tests;
