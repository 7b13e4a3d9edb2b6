//! Inputs several tests share: the generated benchmark stream and the
//! restricted profile's options.

#![allow(dead_code)]

use harden::pipeline::Options;
use harden::plan::PlanOptions;
use harden::profile::Profile;
use harden::pss::Version;
use harden::workload::{KindRow, built_in_kinds};
use harden::yaml::Limits;
use std::path::{Path, PathBuf};

/// Every `*.yaml`/`*.yml` below `dir`, and every file of a fuzz corpus
/// (`…/pipeline/`, whose inputs have no extension), in no particular order.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") || dir.ends_with("pipeline") {
            out.push(p);
        }
    }
}

/// The generator's stream of `size` (`1M`, …), or `None` (with a note)
/// where ../shared is not beside the checkout.
pub fn generated(size: &str) -> Option<String> {
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_manifests.py");
    if !generator.exists() {
        eprintln!("note: ../shared/bench/gen_manifests.py not found; the generated stream is left out");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("m.yaml");
    let ran = std::process::Command::new("python3")
        .arg(&generator)
        .args(["--size", size, "--out"])
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(ran.success(), "the generator runs");
    Some(std::fs::read_to_string(&out).expect("generated"))
}

/// The restricted profile and the built-in kinds, which [`Restricted::options`] borrows.
pub struct Restricted {
    pub profile: Profile,
    pub kinds: Vec<KindRow>,
}

impl Restricted {
    pub fn new() -> Self {
        Restricted { profile: Profile::load("restricted").expect("profile"), kinds: built_in_kinds() }
    }

    /// Hardening options as the command line's defaults resolve them.
    pub fn options(&self) -> Options<'_> {
        let plan = PlanOptions {
            profile: &self.profile,
            kinds: &self.kinds,
            version: Version::LATEST,
            partial: false,
            exceptions: &[],
            ports: None,
            images: harden::images::built_in_table(),
        };
        Options { plan, limits: Limits::default(), index_budget: harden::pipeline::INDEX_BUDGET }
    }
}
