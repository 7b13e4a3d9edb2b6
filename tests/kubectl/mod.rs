//! What kubectl reads from a stream, for the tests that compare harden
//! with it (ignored unless included; they fail where kubectl is missing).

/// `kubectl label --local -f - harden=read -o name` on `stream`: the
/// objects kubectl reads from it, in order (it needs no server), or its error.
pub fn kubectl_reads(stream: &str) -> Result<Vec<String>, String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("kubectl")
        .args(["label", "--local", "-f", "-", "harden=read", "-o", "name"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("kubectl is needed for this test (cargo test -- --include-ignored): {e}"));
    child.stdin.take().expect("stdin").write_all(stream.as_bytes()).expect("write to kubectl");
    let out = child.wait_with_output().expect("kubectl finishes");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() || !stderr.is_empty() {
        return Err(stderr);
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect())
}
