//! Running the built binary on standard input, for the integration tests.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run gave.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `harden ARGS` with `input` on stdin. The input is written from
/// another thread, so a big one cannot deadlock on a full pipe.
pub fn harden(args: &[&str], input: &[u8]) -> Ran {
    record_input(input);
    let mut child = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harden runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("harden finishes");
    writer.join().expect("writer thread");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// stderr of `harden ARGS` on `input`, a run that must succeed.
#[allow(dead_code)]
pub fn stderr_of(args: &[&str], input: &str) -> String {
    let r = harden(args, input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stderr
}

/// Where `$HARDEN_TEST_INPUTS` names a directory, each input is also saved
/// there (named by its hash), so that `bench/compare-outputs` can run two
/// builds of harden on every scenario the tests give.
fn record_input(input: &[u8]) {
    use std::hash::{Hash, Hasher};
    let Some(dir) = std::env::var_os("HARDEN_TEST_INPUTS") else { return };
    let mut h = std::hash::DefaultHasher::new();
    input.hash(&mut h);
    let path = std::path::Path::new(&dir).join(format!("{:016x}.yaml", h.finish()));
    std::fs::write(&path, input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
