//! Shared by the `write_*` tests: run the binary, read fixtures, compare
//! with expected files. `HARDEN_BLESS=1 cargo test --test write_report`
//! rewrites the expected files; read every one before keeping it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary, with the environment that would change its output removed.
pub fn harden() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harden"));
    cmd.env_remove("KUBE_VERSION").env_remove("NO_COLOR").env_remove("RUST_BACKTRACE");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).stdin(Stdio::null());
    cmd
}

/// Run `harden ARGS` from the crate root.
pub fn run(args: &[&str]) -> Output {
    harden().args(args).output().expect("the harden binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// A fixture path as harden is given it (relative to the crate root).
pub fn fixture(name: &str) -> String {
    format!("tests/fixtures/write/{name}")
}

/// Compare `actual` with `tests/fixtures/write/expected/NAME`, or write it
/// when `HARDEN_BLESS` is set.
pub fn expect_file(name: &str, actual: &str) {
    expect_in("tests/fixtures/write/expected", name, actual);
}

/// Compare `actual` with `DIR/NAME` (DIR from the crate root), or write it
/// when `HARDEN_BLESS` is set.
pub fn expect_in(dir: &str, name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
    if std::env::var_os("HARDEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("expected dir");
        std::fs::write(&path, actual).expect("write expected file");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (HARDEN_BLESS=1 writes it)", path.display()));
    assert!(
        actual == expected,
        "{name} differs from its expected file:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Every `*.yaml` below `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// 150 documents from the fixtures (a pod, and a system component next to
/// its Namespace, each renamed): more than one run of the writers that
/// work 64 documents at a time.
pub fn many_documents() -> String {
    let small = std::fs::read_to_string(fixture("small.yaml")).expect("fixture");
    let system = std::fs::read_to_string(fixture("system.yaml")).expect("fixture");
    let mut stream = String::new();
    for i in 0..150 {
        let one = if i % 3 == 0 { &system } else { &small };
        stream.push_str(&format!("---\n# document {i}\n{}", one.replace("name: ", &format!("name: n{i}-"))));
    }
    stream
}
