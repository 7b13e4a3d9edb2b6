//! Directory mode: which files below a directory argument are read.
//!
//! Manifests are (`*.yaml`, `*.yml`, `*.json`); build files are not, and
//! each is named in a [`Skipped`]: kustomize's and kpt's files, and a Helm
//! chart (a directory with a `Chart.yaml`) but for its `crds/`: its
//! `Chart.yaml`, `values*` files, `templates/` and the rest are not
//! manifests until rendered. Left out silently: hidden files and
//! directories (`.github/`, `.gitlab-ci.yml`), what `.gitignore` and
//! `.hardenignore` files in the directory or below it say, and `--exclude`
//! globs (gitignore syntax, relative to the directory). Ignore files above
//! the directory, git's global one and `.git/info/exclude` do not count, so
//! a directory reads the same wherever it is. Files come in sorted order.

use super::ReadError;
use ignore::WalkBuilder;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A build file (or a chart's worth of them) left out of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// `kustomization.yaml`, `kustomization.yml` or `Kustomization`.
    Kustomization(PathBuf),
    Kptfile(PathBuf),
    /// A Helm chart's directory, and the names of what was left out of it
    /// (files that would have been read, and directories, as `name/`).
    HelmChart {
        dir: PathBuf,
        left: Vec<String>,
    },
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = |p: &Path| p.parent().map_or_else(|| ".".to_string(), |d| d.display().to_string());
        match self {
            Skipped::Kustomization(p) => write!(
                f,
                "{}: skipped: a kustomization is not a manifest (`kustomize build {} | harden` hardens what it builds)",
                p.display(),
                dir(p)
            ),
            Skipped::Kptfile(p) => write!(
                f,
                "{}: skipped: a kpt package file is not a manifest (`kpt fn eval {} --exec harden` hardens the package)",
                p.display(),
                dir(p)
            ),
            Skipped::HelmChart { dir, left } => write!(
                f,
                "{}: skipped {}: a Helm chart is not manifests until it is rendered (`helm template RELEASE {} | harden`)",
                dir.display(),
                left.join(", "),
                dir.display()
            ),
        }
    }
}

/// The manifests below `dir` in sorted order, and the build files left out.
pub fn manifests(dir: &Path, excludes: &[String]) -> Result<(Vec<PathBuf>, Vec<Skipped>), ReadError> {
    let excluded = exclusions(excludes)?;
    let root = dir.to_path_buf();
    // What the walk leaves out of Helm charts, noted as it goes.
    let in_charts = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&in_charts);
    let mut walk = WalkBuilder::new(dir);
    walk.standard_filters(false)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .add_custom_ignore_filename(".hardenignore")
        .follow_links(true)
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            let relative = e.path().strip_prefix(&root).unwrap_or(e.path());
            if excluded.matched(relative, is_dir).is_ignore() {
                return false;
            }
            // Of a chart, Helm reads `crds/` as they are, the rest once rendered.
            let chart_part = in_chart(e.path()) && !(is_dir && e.file_name() == "crds");
            if chart_part && (is_dir || is_manifest(e.path())) {
                noted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((e.path().to_path_buf(), is_dir));
            }
            !chart_part
        });
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in walk.build() {
        let entry = entry.map_err(|e| ReadError::Walk { name: dir.display().to_string(), message: e.to_string() })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        match path.file_name().and_then(|n| n.to_str()).unwrap_or("") {
            "kustomization.yaml" | "kustomization.yml" | "Kustomization" => skipped.push(Skipped::Kustomization(path)),
            "Kptfile" => skipped.push(Skipped::Kptfile(path)),
            _ if is_manifest(&path) => files.push(path),
            _ => {}
        }
    }
    let mut charts: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (path, is_dir) in std::mem::take(&mut *in_charts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let chart = path.parent().map(Path::to_path_buf).unwrap_or_default();
        charts.entry(chart).or_default().push(if is_dir { format!("{name}/") } else { name });
    }
    for (dir, mut left) in charts {
        left.sort();
        skipped.push(Skipped::HelmChart { dir, left });
    }
    files.sort();
    skipped.sort_by(|a, b| a.path().cmp(b.path()));
    Ok((files, skipped))
}

impl Skipped {
    fn path(&self) -> &Path {
        match self {
            Skipped::Kustomization(p) | Skipped::Kptfile(p) | Skipped::HelmChart { dir: p, .. } => p,
        }
    }
}

/// `--exclude` globs as one gitignore, matched against paths relative to
/// the directory argument.
fn exclusions(excludes: &[String]) -> Result<Gitignore, ReadError> {
    let mut builder = GitignoreBuilder::new(".");
    for glob in excludes {
        builder.add_line(None, glob).map_err(|e| ReadError::Exclude { glob: glob.clone(), message: e.to_string() })?;
    }
    builder.build().map_err(|e| ReadError::Exclude { glob: excludes.join(" "), message: e.to_string() })
}

/// Whether the file or directory at `path` sits in a Helm chart's directory.
fn in_chart(path: &Path) -> bool {
    path.parent().is_some_and(|dir| dir.join("Chart.yaml").is_file())
}

/// Whether a file is read as manifests, by its name.
fn is_manifest(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}
