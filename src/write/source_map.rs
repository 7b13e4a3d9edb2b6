//! Where a rendered resource came from, when the stream says so: kustomize's
//! `config.kubernetes.io/origin` annotation (`buildMetadata:
//! [originAnnotations]`), kpt's path annotations, Helm's `# Source:`
//! comments. Reports point there, because the rendered stream is not what a
//! reviewer edits. Paths are taken relative to `--origin-root` and
//! normalised lexically; nothing here touches the network.

use super::locate::{LineIndex, deepest};
use crate::pointer::Pointer;
use crate::yaml::{Document, Limits, Semantic, parse_stream};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// A file a resource was rendered from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Relative to the repository root (`--origin-root` applied), `/`-separated.
    pub path: String,
    /// Which convention said so: `kustomize`, `kpt` or `helm`.
    pub via: &'static str,
}

const KUSTOMIZE: &str = "config.kubernetes.io/origin";
const KPT_PATHS: [&str; 2] = ["internal.config.kubernetes.io/path", "config.kubernetes.io/path"];

/// The origin of `resource`, given the text that leads its document (from
/// the previous document's end to the root node: where Helm writes
/// `# Source:`). kustomize wins over kpt over Helm: it is the most specific.
pub fn origin(resource: &Value, leading: &str, root: Option<&Path>) -> Option<Origin> {
    let annotations = resource.at("/metadata/annotations");
    let annotation = |k: &str| annotations.and_then(|a| a.get(k)).and_then(Value::as_str);
    if let Some(path) = annotation(KUSTOMIZE).and_then(kustomize_path) {
        return Some(Origin { path: resolve(root, &path), via: "kustomize" });
    }
    if let Some(path) = KPT_PATHS.iter().find_map(|k| annotation(k)) {
        return Some(Origin { path: resolve(root, path), via: "kpt" });
    }
    let helm = leading.lines().rev().find_map(|l| l.trim().strip_prefix("# Source:").map(str::trim));
    helm.filter(|p| !p.is_empty()).map(|p| Origin { path: resolve(root, p), via: "helm" })
}

/// `path:` of kustomize's origin annotation (itself YAML), or
/// `configuredIn:` for generated resources. A resource from a remote base
/// (`repo:` set) is not in this repository: no origin.
fn kustomize_path(annotation: &str) -> Option<String> {
    let v = crate::yaml::parse_values(annotation).ok()?.into_iter().next()?;
    if v.get("repo").is_some_and(|r| !r.is_null()) {
        return None;
    }
    v.get("path").or_else(|| v.get("configuredIn")).and_then(Value::as_str).map(str::to_string)
}

/// `root/path`, with `.` and `..` folded away and `/` separators.
pub fn resolve(root: Option<&Path>, path: &str) -> String {
    let joined = root.map_or_else(|| PathBuf::from(path), |r| r.join(path));
    normalize(&joined)
}

/// Lexical normalisation: `a/./b/../c` → `a/c`; leading `..` stay.
pub fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in path.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir if parts.last().is_some_and(|p| p != "..") => {
                parts.pop();
            }
            Component::ParentDir if !absolute => parts.push("..".into()),
            Component::ParentDir => {}
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

/// Origin files read so far, for lines inside them.
#[derive(Default)]
pub struct OriginFiles {
    files: HashMap<String, Option<OriginFile>>,
}

struct OriginFile {
    text: String,
    lines: LineIndex,
    /// Each document with its meaning; empty when the file is a template.
    docs: Vec<(Document, Value)>,
}

impl OriginFiles {
    /// The line in `path` of the resource `kind`/`name` (its name there may
    /// lack a kustomize prefix or suffix) at `pointer`; line 1 when the
    /// file cannot be read, and the `kind:` line of a template (Helm).
    pub fn line(&mut self, path: &str, kind: &str, name: Option<&str>, pointer: &str, limits: &Limits) -> usize {
        let file = self.files.entry(path.to_string()).or_insert_with(|| OriginFile::read(path, limits));
        let Some(file) = file else { return 1 };
        let same_kind = |v: &Value| v.get("kind").and_then(Value::as_str) == Some(kind);
        let named = |v: &Value| {
            let theirs = v.at("/metadata/name").and_then(Value::as_str);
            matches!((name, theirs), (Some(n), Some(t)) if n.contains(t))
        };
        let found = file
            .docs
            .iter()
            .find(|(_, v)| same_kind(v) && named(v))
            .or_else(|| file.docs.iter().find(|(_, v)| same_kind(v)));
        if let Some((doc, _)) = found {
            return file.lines.line(deepest(&doc.root, pointer));
        }
        let kind_line = format!("kind: {kind}");
        file.text.lines().position(|l| l.trim() == kind_line).map_or(1, |i| i + 1)
    }
}

impl OriginFile {
    fn read(path: &str, limits: &Limits) -> Option<OriginFile> {
        let text = std::fs::read_to_string(path).ok()?;
        let docs = parse_stream(&text, limits)
            .ok()
            .map(|docs| {
                docs.into_iter()
                    .filter_map(|d| {
                        let v = Semantic::new(&d.root, &text, limits.max_alias_nodes).value(&d.root).ok()?;
                        Some((d, v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(OriginFile { lines: LineIndex::new(&text), text, docs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kustomize_origin_wins_and_remote_bases_do_not_count() {
        let r = json!({"metadata": {"annotations": {
            "config.kubernetes.io/origin": "path: ../base/deploy.yaml\n",
            "internal.config.kubernetes.io/path": "other.yaml"}}});
        let root = Path::new("overlays/prod");
        assert_eq!(
            origin(&r, "# Source: x.yaml\n", Some(root)),
            Some(Origin { path: "overlays/base/deploy.yaml".into(), via: "kustomize" })
        );
        let remote = json!({"metadata": {"annotations": {
            "config.kubernetes.io/origin": "path: deploy.yaml\nrepo: https://github.com/x/y\nref: v1\n"}}});
        assert_eq!(origin(&remote, "", None), None);
        let generated = json!({"metadata": {"annotations": {
            "config.kubernetes.io/origin": "configuredIn: kustomization.yaml\nconfiguredBy:\n  kind: ConfigMapGenerator\n"}}});
        assert_eq!(origin(&generated, "", None).map(|o| o.path), Some("kustomization.yaml".into()));
    }

    #[test]
    fn kpt_then_helm() {
        let kpt = json!({"metadata": {"annotations": {"internal.config.kubernetes.io/path": "./app/deploy.yaml"}}});
        assert_eq!(origin(&kpt, "", None), Some(Origin { path: "app/deploy.yaml".into(), via: "kpt" }));
        let leading = "---\n# Source: chart/templates/svc.yaml\n---\n# Source: chart/templates/deploy.yaml\n";
        assert_eq!(
            origin(&json!({}), leading, None),
            Some(Origin { path: "chart/templates/deploy.yaml".into(), via: "helm" })
        );
        assert_eq!(origin(&json!({}), "# just a comment\n", None), None);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize(Path::new("./a/./b/../c")), "a/c");
        assert_eq!(normalize(Path::new("../../x")), "../../x");
        assert_eq!(normalize(Path::new("/r/../x")), "/x");
    }
}
