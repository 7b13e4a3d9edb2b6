//! Directory mode: which files below a directory argument are read.
//!
//! Manifests are (`*.yaml`, `*.yml`, `*.json`); build files are not, and
//! each is named in a [`Skipped`]: kustomize's and kpt's files, and a Helm
//! chart's `Chart.yaml`, `values*` files and `templates/`, which are not
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

/// A build file (or a chart's worth of them) left out of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skipped {
    /// `kustomization.yaml`, `kustomization.yml` or `Kustomization`.
    Kustomization(PathBuf),
    Kptfile(PathBuf),
    /// A Helm chart's directory, and the names of what was left out of it.
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
            let chart_templates = is_dir && e.file_name() == "templates" && in_chart(e.path());
            !(chart_templates || excluded.matched(relative, is_dir).is_ignore())
        });
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut charts: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for entry in walk.build() {
        let entry = entry.map_err(|e| ReadError::Walk { name: dir.display().to_string(), message: e.to_string() })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.into_path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name {
            "kustomization.yaml" | "kustomization.yml" | "Kustomization" => skipped.push(Skipped::Kustomization(path)),
            "Kptfile" => skipped.push(Skipped::Kptfile(path)),
            _ if (name == "Chart.yaml" || is_values(name)) && in_chart(&path) => {
                let chart = path.parent().map(Path::to_path_buf).unwrap_or_default();
                charts.entry(chart).or_default().push(name.to_string());
            }
            _ if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") => files.push(path),
            _ => {}
        }
    }
    for (dir, mut left) in charts {
        left.sort();
        if dir.join("templates").is_dir() {
            left.push("templates/".to_string());
        }
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

/// A chart's values: `values.yaml`, `values-prod.yaml`, `values.schema.json`.
fn is_values(name: &str) -> bool {
    name.starts_with("values") && [".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext))
}
