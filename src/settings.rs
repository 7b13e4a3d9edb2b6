//! The resolved settings: what the user typed (`cli`), merged with the
//! config file and validated, ready for the stages. Every error here is a
//! full sentence and exits 2 before any manifest is read.

use crate::cli::{CheckArgs, CommonArgs, HardenArgs};
use harden::config::{HardenConfig, ResolveImages};
use harden::images::ImageTable;
use harden::pipeline::images::ImageSettings;
use harden::plan::exceptions::Exception;
use harden::profile::Profile;
use harden::pss::{Level, Version};
use harden::workload::KindRow;
use harden::yaml::Limits;
use std::path::Path;

pub struct Common {
    pub version: Version,
    /// Set when the requested version was newer than harden knows.
    pub clamped_from: Option<String>,
    pub limits: Limits,
}

pub struct Hardening {
    pub profile: Profile,
    pub kinds: Vec<KindRow>,
    pub partial: bool,
    pub exceptions: Vec<Exception>,
    /// `--ports` or the config's `ports`; None: the profile's strategy.
    pub ports: Option<harden::profile::Strategy>,
    /// `--images` rows, then the config's `images:`, then the built-in rows.
    pub images: ImageTable,
    /// `--resolve-images` (or the config's `resolveImages`) and its flags.
    pub resolve: ImageSettings,
    pub common: Common,
}

pub fn common(args: &CommonArgs, config_version: Option<&str>) -> Result<Common, String> {
    let requested = args.pss_version.as_deref().or(config_version).unwrap_or("latest");
    let (version, clamped) = Version::parse(requested).map_err(|e| format!("--pss-version: {e}"))?;
    let limits = Limits {
        max_depth: args.max_depth,
        max_scalar_bytes: args.max_scalar_bytes,
        max_document_bytes: args.max_document_bytes,
        max_alias_nodes: args.max_alias_nodes,
    };
    Ok(Common { version, clamped_from: clamped.then(|| requested.to_string()), limits })
}

/// `harden check`'s settings: those of hardening that decide what is
/// checked (exceptions, PSS version, workload kinds), with a profile that
/// fixes nothing at `level`.
pub fn checking(args: &CheckArgs, level: Level) -> Result<Hardening, String> {
    let config = config(args.config.as_deref())?;
    let profile = Profile::load(config.profile.as_deref().unwrap_or("restricted"))?.checking(level);
    let config_name = args.config.as_ref().map_or_else(String::new, |p| p.display().to_string());
    Ok(Hardening {
        images: ImageTable::built_in()?.with_user_rows(config.image_rows(&config_name)?),
        kinds: profile.kinds(),
        partial: false,
        exceptions: config.exceptions,
        ports: None,
        resolve: ImageSettings::default(),
        common: common(&args.common, config.pss_version.as_deref())?,
        profile,
    })
}

fn config(path: Option<&Path>) -> Result<HardenConfig, String> {
    let Some(path) = path else { return Ok(HardenConfig::default()) };
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("The config file {name} cannot be read: {e}."))?;
    HardenConfig::from_text(&text, &name)
}

pub fn hardening(args: &HardenArgs) -> Result<Hardening, String> {
    let config = config(args.config.as_deref())?;
    let profile_name = args.profile.as_deref().or(config.profile.as_deref()).unwrap_or("restricted");
    let profile = Profile::load(profile_name)?;
    let config_name = args.config.as_ref().map_or_else(String::new, |p| p.display().to_string());
    let mut images = ImageTable::built_in()?.with_user_rows(config.image_rows(&config_name)?);
    if let Some(path) = &args.images {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("The image table {name} cannot be read: {e}."))?;
        images = images.with_user_rows(ImageTable::from_text(&text, &name)?);
    }
    Ok(Hardening {
        images,
        kinds: profile.kinds(),
        partial: args.partial || config.partial.unwrap_or(false),
        ports: args.ports.map(Into::into).or(config.ports),
        resolve: ImageSettings {
            mode: args.registry.resolve_images.map(Into::into).or(config.resolve_images).unwrap_or(ResolveImages::Off),
            platform: args.registry.platform.clone(),
            timeout: args.registry.registry_timeout,
            cache_dir: args.registry.image_cache.clone(),
        },
        exceptions: config.exceptions,
        common: common(&args.common, config.pss_version.as_deref())?,
        profile,
    })
}
