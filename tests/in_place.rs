//! `--in-place`: files are rewritten atomically, all or none, keeping their
//! mode; a kill at any moment leaves every file either old or new.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: example.com/app:1\n";
const CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: b}\n";

fn harden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_harden"))
}

fn hardened(text: &str, dir: &Path) -> String {
    let probe = dir.join("probe.yaml.in");
    fs::write(&probe, text).expect("write");
    let out = harden().arg("-q").arg(&probe).output().expect("runs");
    fs::remove_file(&probe).expect("rm");
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn rewrites_changed_files_only_and_keeps_their_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = dir.path().join("pod.yaml");
    let cfg = dir.path().join("sub/config.yaml");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(&pod, POD).expect("write");
    fs::write(&cfg, CONFIG).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&pod, fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let cfg_mtime = fs::metadata(&cfg).expect("meta").modified().expect("mtime");
    let expected = hardened(POD, dir.path());
    std::thread::sleep(Duration::from_millis(20));
    let out = harden().args(["-i"]).arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing on stdout with -i");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 file rewritten"));
    assert_eq!(fs::read_to_string(&pod).expect("read"), expected);
    assert_eq!(fs::read_to_string(&cfg).expect("read"), CONFIG);
    assert_eq!(
        fs::metadata(&cfg).expect("meta").modified().expect("mtime"),
        cfg_mtime,
        "an unchanged file is not rewritten"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&pod).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let names: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
}

#[test]
fn a_malformed_file_means_no_file_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = dir.path().join("a.yaml");
    let bad = dir.path().join("b.yaml");
    fs::write(&pod, POD).expect("write");
    fs::write(&bad, "a: [1, 2\n").expect("write");
    let out = harden().arg("-i").arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.yaml:"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(&pod).expect("read"), POD);
}

#[test]
fn in_place_refuses_standard_input_and_check() {
    let out = harden().arg("-i").stdin(Stdio::null()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not standard input"));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = harden().args(["-i", "--check"]).arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn killing_harden_leaves_every_file_old_or_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Enough work that a kill lands at different stages: parsing, writing
    // the temporary copies, renaming.
    let big: String = (0..60).map(|i| POD.replace("name: p", &format!("name: p{i}")) + "---\n").collect();
    let expected = hardened(&big, dir.path());
    let files: Vec<_> = (0..10).map(|i| dir.path().join(format!("f{i:02}.yaml"))).collect();
    // How long an uninterrupted run takes, so the kills can be spread over it.
    for f in &files {
        fs::write(f, &big).expect("write");
    }
    let start = std::time::Instant::now();
    let status = harden().arg("-q").arg("-i").args(&files).status().expect("runs");
    assert!(status.success());
    let full = start.elapsed();
    let mut seen_old = false;
    let mut seen_new = false;
    // Kills spread over the run, again and again until some landed before
    // the renames and some after (a run is short, and its timing varies):
    // at least 20, at most 200.
    let rounds = 20u32;
    for round in 0..200u32 {
        if round >= rounds && seen_old && seen_new {
            break;
        }
        for f in &files {
            fs::write(f, &big).expect("write");
        }
        let mut child = harden()
            .arg("-q")
            .arg("-i")
            .args(&files)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(full * (round % rounds) / rounds * 6 / 5);
        let _ = child.kill();
        let _ = child.wait();
        for f in &files {
            let text = fs::read_to_string(f).expect("read");
            assert!(text == big || text == expected, "round {round}: {} is neither old nor new", f.display());
            seen_old |= text == big;
            seen_new |= text == expected;
        }
        // A kill may leave temporary copies behind; never a partial target.
        for e in fs::read_dir(dir.path()).expect("ls") {
            let p = e.expect("entry").path();
            if p.to_string_lossy().ends_with(".tmp") {
                fs::remove_file(p).expect("rm tmp");
            }
        }
    }
    assert!(seen_old && seen_new, "the kills should land both before and after the renames");
}
