//! Issue 14, items 2 to 5: harden may add security settings; it must not
//! change how a stream is read or what a gate means. One test (or more)
//! per item, named after it.

mod support;

/// A Deployment serving on port 80, told so by a flag written `args`-first
/// in the given style (`ARGS` is replaced by the flag's line).
const FLAGGED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/server:1
        args:
        ARGS
        ports:
        - containerPort: 80
";

#[test]
fn item3_a_plain_flag_harden_rewrites_stays_plain() {
    let input = FLAGGED.replace("ARGS", "- --port=80");
    let r = support::harden(&["-q"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("        args:\n        - --port=8080\n"), "{}", r.stdout);
}

#[test]
fn item3_a_quoted_flag_stays_quoted_the_same_way() {
    for (before, after) in [("- '--port=80'", "- '--port=8080'"), ("- \"--port=80\"", "- \"--port=8080\"")] {
        let input = FLAGGED.replace("ARGS", before);
        let r = support::harden(&["-q"], input.as_bytes());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(&format!("        args:\n        {after}\n")), "{}", r.stdout);
    }
}

#[test]
fn item3_a_plain_flag_in_a_flow_sequence_stays_plain() {
    let input = FLAGGED.replace("        args:\n        ARGS\n", "        args: [--port=80, -v]\n");
    let r = support::harden(&["-q"], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("        args: [--port=8080, -v]\n"), "{}", r.stdout);
}
