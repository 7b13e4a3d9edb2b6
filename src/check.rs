//! `harden check`: evaluate every pod spec in a stream against Pod Security
//! exactly as the admission controller would, changing nothing.

use crate::pointer::Pointer;
use crate::pss::{self, CheckResult, Level, Version};
use crate::read::Source;
use crate::read::split::split;
use crate::workload::{KindRow, ResourceId, pod_sites, resources};
use crate::yaml::{Document, Limits, ParseError, Semantic, parse_stream};

/// One resource that Pod Security would reject.
#[derive(Debug)]
pub struct Violation {
    pub source: String,
    pub line: usize,
    pub id: ResourceId,
    pub results: Vec<CheckResult>,
}

/// Every violating resource of `src`, in order.
pub fn check_source(
    src: &Source,
    kinds: &[KindRow],
    level: Level,
    version: Version,
    limits: &Limits,
) -> Result<Vec<Violation>, ParseError> {
    let text = src.text.as_str();
    let mut out = Vec::new();
    let lines = crate::yaml::LineIndex::new(text);
    for doc in parse_stream(text, limits)? {
        let value = Semantic::new(&doc.root, text, limits.max_alias_nodes).value(&doc.root)?;
        let line = lines.line(doc.start);
        for (base, id) in resources(&value) {
            let mut results = Vec::new();
            for site in pod_sites(&value, &base, &id, kinds) {
                let Some(spec) = value.at(&site.spec) else { continue };
                results.extend(pss::check_pod(value.at(&site.metadata), spec, level, version));
            }
            if !results.is_empty() {
                out.push(Violation { source: src.name.clone(), line, id, results });
            }
        }
    }
    Ok(out)
}

/// Whether `src` holds a Kubernetes document (one with `apiVersion` and
/// `kind`), reading no further than the first one. A source that does not
/// parse holds none ([`check_source`] says why).
pub fn holds_manifests(src: &Source, limits: &Limits) -> bool {
    split(&src.text).iter().any(|chunk| {
        parse_stream(&chunk.text, limits).is_ok_and(|docs| docs.iter().any(Document::is_kubernetes_object))
    })
}
