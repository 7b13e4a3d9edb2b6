//! `--resolve-images`: before pass 1 (which plans the pods that declare
//! privileged ports already, so the rows must be ready), the distinct image
//! references of every pod template in the stream, in first-seen order
//! (found through the kinds table, as the plan finds pod specs), read from
//! their registries, and the image table with a row for each
//! (`ImageTable::with_resolved`). Files are read once more for this; stdin
//! is in memory already. With the flag off nothing here runs: no thread,
//! no file, no network.

use super::document::image_references;
use super::found::{found_in_directories, hinted};
use super::{Error, Expect, Input, Options, WINDOW, chunks, ordered};
use crate::config::ResolveImages;
use crate::images::ImageTable;
use crate::read::Source;
use crate::read::split::{Chunk, split};
use crate::registry::{Platform, RegistryOptions, ResolveError, Resolver};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

/// How images are read when a run reads them: the command line's or the
/// config's mode, and the registry flags (each None: Docker's and XDG's
/// defaults).
#[derive(Clone, Debug)]
pub struct ImageSettings {
    pub mode: ResolveImages,
    pub platform: Option<Platform>,
    /// Per image; the whole reading gets [`TOTAL_PER_IMAGE`] times as long.
    pub timeout: Option<Duration>,
    pub cache_dir: Option<PathBuf>,
}

impl Default for ImageSettings {
    fn default() -> Self {
        Self { mode: ResolveImages::Off, platform: None, timeout: None, cache_dir: None }
    }
}

/// The whole reading of a run may take this many times one image's timeout.
pub const TOTAL_PER_IMAGE: u32 = 3;

impl ImageSettings {
    fn registry_options(&self) -> RegistryOptions {
        let mut options = RegistryOptions::default();
        if let Some(platform) = &self.platform {
            options.platform = platform.clone();
        }
        if let Some(dir) = &self.cache_dir {
            options.cache_dir = dir.clone();
        }
        options.per_image_timeout = self.timeout.unwrap_or(options.per_image_timeout);
        options.total_timeout = options.per_image_timeout * TOTAL_PER_IMAGE;
        options
    }
}

/// What reading the stream's images gave.
pub struct Resolved {
    /// The run's table with a row for each image read.
    pub images: ImageTable,
    /// Each image that could not be read, and why (in first-seen order).
    pub failures: Vec<(String, ResolveError)>,
}

impl Resolved {
    /// The warning for each image that could not be read.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.failures.iter().map(|(image, why)| format!("image {image}: {why}; using what harden knows from its table"))
    }
}

/// Read the images of `inputs` (streamed: files are read once more), if
/// `settings` says to; `None` if not.
pub fn resolve_inputs(
    inputs: &[Input],
    opts: &Options,
    expect: &[Expect],
    settings: &ImageSettings,
) -> Result<Option<Resolved>, Error> {
    let name = |s: usize| inputs[s].name();
    resolve_chunks(chunks(inputs, &[]), &name, inputs.len(), opts, expect, settings)
}

/// Read the images of `sources` (in memory), if `settings` says to.
pub fn resolve_sources(
    sources: &[Source],
    opts: &Options,
    expect: &[Expect],
    settings: &ImageSettings,
) -> Result<Option<Resolved>, Error> {
    let chunked = sources.iter().enumerate().flat_map(|(s, src)| {
        split(&src.text).into_iter().enumerate().map(move |(c, chunk)| Ok::<_, Error>((s, c, chunk)))
    });
    let name = |s: usize| sources[s].name.as_str();
    resolve_chunks(chunked, &name, sources.len(), opts, expect, settings)
}

/// The images of `count` inputs' chunks (read lazily: not at all when
/// `settings` is off), resolved.
fn resolve_chunks<'c>(
    chunks: impl Iterator<Item = Result<(usize, usize, Chunk<'c>), Error>> + Send,
    name: &(dyn Fn(usize) -> &'c str + Sync),
    count: usize,
    opts: &Options,
    expect: &[Expect],
    settings: &ImageSettings,
) -> Result<Option<Resolved>, Error> {
    if settings.mode == ResolveImages::Off {
        return Ok(None);
    }
    let found = found_in_directories(expect, count);
    let refs = references(chunks, name, &found, opts)?;
    resolve(&refs, opts, settings).map(Some)
}

/// The distinct image references of the chunks' pod templates, in
/// first-seen order; malformed input is the error pass 1 would give.
fn references<'c>(
    chunks: impl Iterator<Item = Result<(usize, usize, Chunk<'c>), Error>> + Send,
    name: &(dyn Fn(usize) -> &'c str + Sync),
    found: &[bool],
    opts: &Options,
) -> Result<Vec<String>, Error> {
    let (mut refs, mut seen) = (Vec::new(), HashSet::new());
    ordered::run(
        chunks,
        rayon::current_num_threads(),
        WINDOW,
        |_, (s, _, chunk)| image_references(&chunk, name(s), opts).map_err(|e| hinted(e, found[s])),
        |_, images| {
            for image in images {
                if seen.insert(image.clone()) {
                    refs.push(image);
                }
            }
            Ok(())
        },
    )?;
    Ok(refs)
}

/// Each reference's config (in parallel, within the deadlines), and the
/// table with their rows; with `required`, an image that cannot be read
/// is an error.
fn resolve(refs: &[String], opts: &Options, settings: &ImageSettings) -> Result<Resolved, Error> {
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let results = if refs.is_empty() { Vec::new() } else { Resolver::new(settings.registry_options()).resolve(&refs) };
    let (mut read, mut failures) = (Vec::new(), Vec::new());
    for (reference, result) in results {
        match result {
            Ok(config) => read.push((reference, config)),
            Err(why) => failures.push((reference, why)),
        }
    }
    if settings.mode == ResolveImages::Required && !failures.is_empty() {
        return Err(Error::Unresolved(failures.iter().map(|(image, why)| format!("image {image}: {why}")).collect()));
    }
    Ok(Resolved { images: opts.plan.images.with_resolved(&read), failures })
}
