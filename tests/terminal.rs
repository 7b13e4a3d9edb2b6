//! What harden says on a terminal: a hint when it waits on a terminal's
//! input with nothing named, and a progress line while a long input is
//! worked on; and that neither shows where it must not (a pipe, `-q`, the
//! `--diff` on stderr, YAML streaming to the same terminal). The terminal
//! is a pseudo-terminal made here (rustix), the same to harden as a real one.

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;

const BIN: &str = env!("CARGO_BIN_EXE_harden");
const HINT: &str = "reading Kubernetes manifests from standard input";

/// A new pseudo-terminal: its controlling side and the terminal itself.
fn pty() -> (File, File) {
    let control = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
    grantpt(&control).expect("grantpt");
    unlockpt(&control).expect("unlockpt");
    let name = ptsname(&control, Vec::new()).expect("its name");
    let terminal = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(OsStr::from_bytes(name.as_bytes()))
        .expect("open the terminal");
    (File::from(control), terminal)
}

/// Everything written to the terminal, until no process holds it open.
fn transcript(mut control: File) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut out, mut buf) = (Vec::new(), vec![0; 1 << 16]);
        loop {
            match control.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Linux: EIO once the terminal's last holder has closed it.
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    })
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: registry.example.com/web:1\n";

/// harden with `args` and stdin on a terminal where `input` is typed, then
/// end-of-file (Ctrl-D).
fn typed(args: &[&str], input: &str) -> Output {
    let (control, terminal) = pty();
    let mut keyboard = control.try_clone().expect("a second handle");
    let echo = transcript(control);
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden runs");
    keyboard.write_all(input.as_bytes()).expect("type");
    keyboard.write_all(b"\x04").expect("Ctrl-D");
    let out = child.wait_with_output().expect("harden finishes");
    drop(keyboard);
    echo.join().expect("the terminal's reader");
    out
}

#[test]
fn with_nothing_named_and_a_terminal_on_stdin_harden_says_what_it_reads_and_reads_it() {
    let out = typed(&[], POD);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let first = stderr.lines().next().expect("a line on stderr");
    assert!(first.contains(HINT) && first.contains("Ctrl-D") && first.contains("harden --help"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains(HINT)).count(), 1, "one line");
    // It read what was typed, as it would a pipe.
    let piped = Command::new(BIN)
        .stdin(Stdio::from(File::open(write_temp(POD).1).expect("the pod")))
        .output()
        .expect("harden runs");
    assert!(!String::from_utf8_lossy(&piped.stderr).contains(HINT), "no hint when stdin is not a terminal");
    assert_eq!(out.stdout, piped.stdout, "the typed pod is hardened");
    assert!(String::from_utf8_lossy(&out.stdout).contains("runAsNonRoot: true"));

    let check = typed(&["check"], POD);
    assert!(String::from_utf8_lossy(&check.stderr).contains(HINT), "harden check waits the same way");
    for args in [&["-q"][..], &["-"], &["check", "-q"]] {
        let out = typed(args, POD);
        assert!(!String::from_utf8_lossy(&out.stderr).contains(HINT), "no hint with {args:?}");
        assert!(!out.stdout.is_empty() || args[0] == "check", "{args:?} still reads stdin");
    }
}

/// A file in a temporary directory, kept as long as the directory is.
fn write_temp(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("input.yaml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

/// Just over the size that gets a progress line (50 MiB): ConfigMaps, which
/// go through quickly, and one Pod at the end for the diff to show.
fn long_input() -> &'static Path {
    static INPUT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &INPUT
        .get_or_init(|| {
            let mut text = String::with_capacity(53 << 20);
            let mut n = 0;
            while text.len() < 52 << 20 {
                text.push_str(&format!(
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{n}\ndata:\n  colour: blue\n"
                ));
                n += 1;
            }
            text.push_str("---\n");
            text.push_str(POD);
            write_temp(&text)
        })
        .1
}

/// What harden writes to a terminal on stderr over the long input (stdout
/// to the same terminal if `stdout_too`, else nowhere), and its exit code.
fn on_a_terminal(args: &[&str], stdout_too: bool) -> (Option<i32>, String) {
    on_a_terminal_over(long_input(), args, stdout_too)
}

fn on_a_terminal_over(input: &Path, args: &[&str], stdout_too: bool) -> (Option<i32>, String) {
    let (control, terminal) = pty();
    let text = transcript(control);
    let stdout = if stdout_too { Stdio::from(terminal.try_clone().expect("again")) } else { Stdio::null() };
    let status = Command::new(BIN)
        .args(args)
        .arg(input)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::from(terminal))
        .status()
        .expect("harden runs");
    (status.code(), text.join().expect("the terminal's reader"))
}

/// The progress frames in a transcript, in order.
fn frames(transcript: &str) -> Vec<&str> {
    transcript
        .split(['\r', '\n'])
        .map(|l| l.trim_start_matches("\x1b[2K"))
        .filter(|l| l.starts_with("harden: reading ") || l.starts_with("harden: hardening "))
        .collect()
}

#[test]
fn a_long_input_on_a_terminal_shows_progress_that_goes_away() {
    let (code, text) = on_a_terminal(&["--check"], false);
    assert_eq!(code, Some(1), "the Pod would change: {text}");
    let frames = frames(&text);
    assert!(frames.iter().any(|f| f.starts_with("harden: reading ")), "pass 1 shows:\n{text:?}");
    let last = frames.last().expect("frames");
    assert!(last.starts_with("harden: hardening "), "then pass 2: {last}");
    for part in ["/52.00 MiB", " documents, ", "MiB/s", "["] {
        assert!(last.contains(part), "{part:?} in {last:?}");
    }
    // Cleared when done: the summary line is what is left on the screen.
    let after_last_frame = &text[text.rfind(last).expect("the last frame") + last.len()..];
    assert!(after_last_frame.contains("\x1b[2K"), "the line is erased: {after_last_frame:?}");
    let after_erase = after_last_frame.rsplit("\x1b[2K").next().expect("after the erase");
    let summary = after_erase.lines().last().unwrap_or_default();
    assert!(summary.starts_with("harden: ") && summary.trim_end().ends_with(" blockers"), "{after_erase:?}");
}

#[test]
fn no_progress_when_quiet_or_stderr_is_no_terminal_or_yaml_goes_to_the_same_terminal() {
    let (code, text) = on_a_terminal(&["--check", "-q"], false);
    assert!(code == Some(1) && text.is_empty(), "-q: {text:?}");
    let piped = Command::new(BIN).arg("--check").arg(long_input()).stdin(Stdio::null()).output().expect("runs");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    let summary_and_notes = stderr.lines().all(|l| l.starts_with("harden: ") || l.starts_with("note: "));
    assert!(frames(&stderr).is_empty() && summary_and_notes, "a pipe gets the summary (and notes) only: {stderr:?}");
    let (_dir, small) = write_temp(POD);
    let (code, text) = on_a_terminal_over(&small, &["--check"], false);
    assert!(code == Some(1) && frames(&text).is_empty(), "a small input needs no progress: {text:?}");
    let (code, text) = on_a_terminal(&[], true);
    assert_eq!(code, Some(0), "harden to a terminal");
    assert!(text.contains("runAsNonRoot: true"), "the YAML went to the terminal");
    assert!(frames(&text).is_empty(), "the YAML on the terminal is not interleaved with progress");
}

#[test]
fn progress_is_gone_before_the_diff_is_written() {
    let (code, text) = on_a_terminal(&["--diff"], false);
    assert_eq!(code, Some(0));
    let last = *frames(&text).last().expect("progress while hardening");
    let header = format!("--- {}", long_input().display());
    let diff_at = text.find(&header).expect("the diff on stderr");
    assert!(text.rfind(last).expect("the last frame") < diff_at, "every frame before the diff");
    let diff = &text[diff_at..];
    assert!(!diff.contains("harden: reading") && !diff.contains("harden: hardening"), "{diff:?}");
    assert!(diff.contains("+    securityContext:") || diff.contains("+  securityContext:"), "{diff:?}");
}
