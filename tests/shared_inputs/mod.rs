//! Inputs several tests share: what lies outside the repository (`../shared`,
//! tools on PATH), the generated benchmark stream and the restricted
//! profile's options.
//!
//! Tests that need something from outside are marked
//! `#[ignore = "needs ../shared (cargo test -- --include-ignored)"]` (or
//! "needs kpt", ...): a plain `cargo test` lists them as ignored, and when
//! they are asked for, [`shared`] and [`tool`] fail them if the thing is
//! missing. None of them passes without having run.

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

/// `../shared/SUB` beside the checkout (the upstream Pod Security fixtures,
/// the corpus of real manifests, the benchmark generator). Panics when it is
/// missing: only ignored tests call this, and one that was asked for must
/// not pass without its input.
pub fn shared(sub: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(sub);
    assert!(
        path.exists(),
        "{} not found: this test reads ../shared beside the checkout, which a plain clone does not have \
         (plain `cargo test` leaves it ignored)",
        path.display()
    );
    path
}

/// Every YAML file of `../shared`'s corpus and Pod Security fixtures (see [`shared`]).
pub fn shared_yaml_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus", "psa-fixtures"] {
        yaml_files(&shared(dir), &mut files);
    }
    files
}

/// The executable `name` on PATH. Panics when it is not there: only tests
/// that say they need it call this.
pub fn tool(name: &str) -> PathBuf {
    which(name).unwrap_or_else(|| panic!("`{name}` is not installed (not on PATH); this test needs it"))
}

/// The executable `name` on PATH, if there is one.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The generator's stream of `size` (`1M`, …), from
/// `../shared/bench/gen_manifests.py` (see [`shared`]).
pub fn generated(size: &str) -> String {
    let generator = shared("bench/gen_manifests.py");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("m.yaml");
    let ran = std::process::Command::new(tool("python3"))
        .arg(&generator)
        .args(["--size", size, "--out"])
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(ran.success(), "the generator runs");
    std::fs::read_to_string(&out).expect("generated")
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
            images: harden::images::built_in_table(),
        };
        Options { plan, ports: None, limits: Limits::default() }
    }
}
