//! The subcommands about harden itself: shell completions and the man page
//! (made from the clap definition; bash and man(1) must accept them), and
//! `install-to`, which copies the binary for a container without a shell.

mod shared_inputs;

use shared_inputs::tool;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_harden");

fn harden(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("harden runs")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).expect("UTF-8")
}

/// What bash offers after `words` (the last one being completed).
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let line = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; _harden harden {} {}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1,
        format_args!("'{}'", words[words.len() - 1]),
        format_args!("'{}'", words[words.len() - 2]),
    );
    let o = Command::new(tool("bash")).args(["-c", &line]).output().expect("bash runs");
    stdout(&o).lines().map(str::to_string).collect()
}

#[test]
fn bash_completions_parse_and_complete_flags_subcommands_and_values() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let script = tmp.path().join("harden.bash");
    std::fs::write(&script, stdout(&harden(&["completions", "bash"]))).expect("write the script");
    let check = Command::new(tool("bash")).arg("-n").arg(&script).output().expect("bash -n runs");
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));

    assert!(bash_completes(&script, &["harden", "--pro"]).contains(&"--profile".to_string()));
    let subcommands = bash_completes(&script, &["harden", ""]);
    for sub in ["check", "completions", "man", "install-to"] {
        assert!(subcommands.contains(&sub.to_string()), "{sub} in {subcommands:?}");
    }
    let ports = bash_completes(&script, &["harden", "--ports", ""]);
    assert_eq!(ports, ["auto", "move", "sysctl", "keep"], "the value names of --ports");
    let shells = bash_completes(&script, &["harden", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_string()), "{shell} in {shells:?}");
    }
}

#[test]
fn completions_for_every_shell_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&harden(&["completions", shell]));
        for word in ["profile", "pss-version", "install-to", "restricted"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    let o = harden(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
    assert!(o.stdout.is_empty());
}

/// `man -l` renders `page` without a warning; the text it shows.
fn man_renders(page: &str) -> String {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("page.1");
    std::fs::write(&file, page).expect("write the page");
    let o = Command::new(tool("man"))
        .args(["--warnings", "-l"])
        .arg(&file)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && stderr.is_empty(), "man -l: {stderr}");
    stdout(&o)
}

#[test]
fn man_pages_render_with_man_l_and_document_every_flag() {
    let page = man_renders(&stdout(&harden(&["man"])));
    for heading in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS", "EXAMPLES", "EXIT STATUS"] {
        assert!(page.lines().any(|l| l == heading), "section {heading} in:\n{page}");
    }
    for flag in ["--profile", "--in-place", "--ports", "--check", "--diff", "--pss-version", "--max-depth"] {
        assert!(page.contains(flag), "{flag} in the page");
    }
    // The examples keep their columns (one example a line).
    assert!(page.lines().any(|l| l.trim_start().starts_with("harden --check --diff deploy/") && l.contains("CI gate")));

    let check = man_renders(&stdout(&harden(&["man", "check"])));
    assert!(check.starts_with("harden-check(1)"), "{check}");
    assert!(check.contains("--level"));
    let o = harden(&["man", "no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn install_to_copies_the_running_binary() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("custom-tools");
    let o = harden(&["install-to", dir.to_str().expect("UTF-8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let copy = dir.join("harden");
    assert_eq!(std::fs::read(&copy).expect("the copy"), std::fs::read(BIN).expect("the binary"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&copy).expect("meta").permissions().mode() & 0o777, 0o755);
    assert_eq!(std::fs::read_dir(&dir).expect("ls").count(), 1, "no temporary file left");
    let version = Command::new(&copy).arg("--version").output().expect("the copy runs");
    assert_eq!(stdout(&version), stdout(&harden(&["--version"])));
    // Again over the first copy.
    assert!(harden(&["install-to", dir.to_str().expect("UTF-8")]).status.success());

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let o = harden(&["install-to", file.to_str().expect("UTF-8")]);
    assert_eq!(o.status.code(), Some(2), "a file is no directory");
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("harden: install-to "));
}
