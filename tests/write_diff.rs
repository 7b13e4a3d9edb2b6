//! `--diff` (stderr, stdout stays YAML) and `-o diff` (stdout): exact text
//! on fixtures, colour by `--color`/NO_COLOR, and replay: the diff applied
//! with patch(1) to a copy of the input gives harden's YAML output, for the
//! fixtures and (ignored unless asked for) every file of `../shared/corpus`.

mod shared_inputs;
mod write_support;

use std::path::PathBuf;
use write_support::{expect_file, fixture, harden, run, stderr, stdout, yaml_files};

#[test]
fn diff_on_stderr_keeps_stdout_pure_yaml() {
    let plain = run(&[&fixture("small.yaml")]);
    let with_diff = run(&["--diff", &fixture("small.yaml")]);
    assert!(with_diff.status.success());
    assert_eq!(stdout(&with_diff), stdout(&plain), "stdout is the same YAML with or without --diff");
    let err = stderr(&with_diff);
    let (diff, summary) = err.rsplit_once("harden: ").expect("the summary line ends stderr");
    let (diff, note) = diff.rsplit_once("note: ").expect("the unknown-image line precedes the summary");
    assert!(
        note.starts_with("1 container runs an image harden's table does not know (registry.example.com/hello:1.0)")
    );
    expect_file("small.diff", diff);
    assert_eq!(summary, "1 document, 1 workload hardened, 15 changes, 0 blockers\n");
}

#[test]
fn o_diff_of_two_files_exact() {
    let o = run(&["-q", "-o", "diff", &fixture("small.yaml"), &fixture("compliant.yaml"), &fixture("list.yaml")]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty());
    // compliant.yaml has nothing to change, so it has no section.
    expect_file("small-list.diff", &stdout(&o));
}

#[test]
fn nothing_to_change_means_no_diff() {
    let o = run(&["-q", "-o", "diff", &fixture("compliant.yaml")]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let red = "\x1b[31m";
    let diff = |args: &[&str], no_color: bool| {
        let mut cmd = harden();
        cmd.args(args).arg(fixture("small.yaml"));
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        stdout(&cmd.output().expect("runs"))
    };
    assert!(diff(&["-o", "diff", "--color", "always"], false).contains(red));
    assert!(diff(&["-o", "diff", "--color", "always"], true).contains(red), "an explicit flag beats NO_COLOR");
    assert!(!diff(&["-o", "diff", "--color", "never"], false).contains('\x1b'));
    assert!(!diff(&["-o", "diff"], false).contains('\x1b'), "auto: a pipe is not a terminal");
    assert!(!diff(&["-o", "diff"], true).contains('\x1b'));
    // --diff on stderr follows the same flag.
    let o = harden().args(["--diff", "--color", "always", &fixture("small.yaml")]).output().expect("runs");
    assert!(stderr(&o).contains(red) && !stdout(&o).contains('\x1b'));
}

/// The project's fixtures that harden changes.
const CHANGED_FIXTURES: [&str; 4] = ["small.yaml", "list.yaml", "kustomized.yaml", "helm.yaml"];

#[test]
fn diff_replays_with_patch_on_the_fixtures() {
    let files: Vec<PathBuf> = CHANGED_FIXTURES.iter().map(|n| PathBuf::from(fixture(n))).collect();
    assert_eq!(replay_with_patch(&files), files.len(), "every fixture has a diff that patch(1) replays");
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn diff_replays_with_patch_on_the_corpus() {
    let replayed = replay_with_patch(&yaml_files(&shared_inputs::shared("corpus")));
    eprintln!("replayed {replayed} corpus diffs with patch(1)");
    assert!(replayed > 0, "some corpus file has something to change");
}

/// Apply harden's `-o diff` of each file with patch(1) to a copy of it and
/// compare with harden's YAML output. Returns how many files had a diff
/// (files harden rejects, exit 2, are left out).
fn replay_with_patch(files: &[PathBuf]) -> usize {
    let patch = shared_inputs::tool("patch");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut replayed = 0;
    for file in files {
        let path = file.to_str().expect("UTF-8 path");
        let hardened = run(&["-q", path]);
        if hardened.status.code() == Some(2) {
            continue;
        }
        let diff = run(&["-q", "-o", "diff", path]);
        assert!(diff.status.success());
        if diff.stdout.is_empty() {
            continue;
        }
        let target = tmp.path().join("input.yaml");
        std::fs::copy(file, &target).expect("copy the input");
        let status = std::process::Command::new(&patch)
            .args(["--quiet", "--binary", "-p1", "-o", "-"])
            .arg(&target)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("piped").write_all(&diff.stdout)?;
                child.wait_with_output()
            })
            .expect("patch runs");
        assert!(status.status.success(), "{path}: patch(1) rejects the diff:\n{}", stdout(&diff));
        assert!(status.stdout == hardened.stdout, "{path}: the diff applied is not harden's output");
        replayed += 1;
    }
    replayed
}
