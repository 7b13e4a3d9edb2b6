//! What `harden` does, case by case: each `golden!` runs the binary with the
//! given arguments and standard input and compares standard output byte for
//! byte. `golden!(..., exit N, stderr "...")` also checks the exit code and
//! the whole of standard error. Every expected output here was read and
//! checked by hand against the profile (`profiles/restricted.yaml`) and Pod
//! Security "restricted"; `-q` drops the summary line where stderr is
//! checked.
//!
//! Cases that need files (several inputs, directories, invalid UTF-8,
//! profile files) and process behaviour (closed stdout) follow the table.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn harden() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harden"));
    cmd.env_remove("KUBE_VERSION").env_remove("RUST_BACKTRACE");
    cmd
}

/// Run `harden ARGS` in `dir` (or here) with `stdin`, and wait.
fn run(args: &[&str], stdin: &[u8], dir: Option<&Path>) -> Output {
    let mut cmd = harden();
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().expect("the harden binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    // A failed write means harden exited without reading; its output says why.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("harden finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("harden writes UTF-8")
}

fn check(args: &[&str], stdin: &str, stdout: &str, expect: Option<(i32, &str)>) {
    let out = run(args, stdin.as_bytes(), None);
    let (got_out, got_err) = (text(&out.stdout), text(&out.stderr));
    let (code, stderr) = expect.unwrap_or((0, ""));
    assert_eq!(out.status.code(), Some(code), "exit code; stderr:\n{got_err}");
    assert_eq!(got_out, stdout, "stdout");
    if expect.is_some() {
        assert_eq!(got_err, stderr, "stderr");
    }
}

macro_rules! golden {
    ($(#[$meta:meta])* $name:ident, $args:expr, $stdin:expr, $stdout:expr) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            check(&$args, &$stdin, &$stdout, None);
        }
    };
    ($(#[$meta:meta])* $name:ident, $args:expr, $stdin:expr, $stdout:expr, exit $code:expr, stderr $stderr:expr) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            check(&$args, &$stdin, &$stdout, Some(($code, &$stderr)));
        }
    };
}

/// `\n` → `\r\n`.
fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

// ---------------------------------------------------------------------------
// Hardening

/// A pod with nothing set.
const BARE_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
";

/// What `restricted` makes of it: container fields after the container's
/// last field, pod fields after the spec's last field, in the input's style.
const BARE_POD_HARDENED: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: harden-tmp
      mountPath: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
";

golden!(a_bare_pod_gets_every_setting, ["-"], BARE_POD, BARE_POD_HARDENED);

golden!(
    a_hardened_pod_comes_out_byte_identical,
    [],
    BARE_POD_HARDENED,
    BARE_POD_HARDENED,
    exit 0,
    stderr "harden: 1 document, 0 workloads hardened, 0 changes, 0 blockers\n"
);

golden!(
    comments_and_four_space_indented_sequences_are_kept,
    [],
    "\
# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web  # public name
spec:
    replicas: 2
    selector:
        matchLabels:
            app: web
    template:
        metadata:
            labels:
                app: web
        spec:
            # one container, pinned
            containers:
                - name: web
                  image: example.com/web:1.0   # pinned
                  args:
                      - --listen=:8080
",
    "\
# The web tier.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web  # public name
spec:
    replicas: 2
    selector:
        matchLabels:
            app: web
    template:
        metadata:
            labels:
                app: web
        spec:
            # one container, pinned
            containers:
                - name: web
                  image: example.com/web:1.0   # pinned
                  args:
                      - --listen=:8080
                  securityContext:
                      allowPrivilegeEscalation: false
                      capabilities:
                          drop:
                              - ALL
                      readOnlyRootFilesystem: true
                  volumeMounts:
                      - name: harden-tmp
                        mountPath: /tmp
                  resources:
                      requests:
                          cpu: 100m
                          memory: 128Mi
                      limits:
                          memory: 512Mi
            securityContext:
                runAsNonRoot: true
                runAsUser: 10001
                runAsGroup: 10001
                fsGroup: 10001
                fsGroupChangePolicy: OnRootMismatch
                seccompProfile:
                    type: RuntimeDefault
            volumes:
                - name: harden-tmp
                  emptyDir: {}
            automountServiceAccountToken: false
"
);

golden!(
    a_flow_style_pod_stays_flow_style,
    [],
    "{apiVersion: v1, kind: Pod, metadata: {name: app}, spec: {containers: [{name: app, image: example.com/app:1.0}]}}\n",
    "{apiVersion: v1, kind: Pod, metadata: {name: app}, spec: {containers: [{name: app, image: example.com/app:1.0, \
securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}, \
volumeMounts: [{name: harden-tmp, mountPath: /tmp}], resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}}], \
securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, fsGroupChangePolicy: OnRootMismatch, \
seccompProfile: {type: RuntimeDefault}}, volumes: [{name: harden-tmp, emptyDir: {}}], automountServiceAccountToken: false}}\n"
);

golden!(crlf_input_gets_crlf_output, [], crlf(BARE_POD), crlf(BARE_POD_HARDENED));

golden!(
    a_list_hardens_its_workload_items_only,
    [],
    "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: web
  spec:
    ports:
    - port: 8080
- apiVersion: v1
  kind: Pod
  metadata:
    name: web
  spec:
    containers:
    - name: app
      image: example.com/app:1.0
",
    "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: web
  spec:
    ports:
    - port: 8080
- apiVersion: v1
  kind: Pod
  metadata:
    name: web
  spec:
    containers:
    - name: app
      image: example.com/app:1.0
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
          - ALL
        readOnlyRootFilesystem: true
      volumeMounts:
      - name: harden-tmp
        mountPath: /tmp
      resources:
        requests:
          cpu: 100m
          memory: 128Mi
        limits:
          memory: 512Mi
    securityContext:
      runAsNonRoot: true
      runAsUser: 10001
      runAsGroup: 10001
      fsGroup: 10001
      fsGroupChangePolicy: OnRootMismatch
      seccompProfile:
        type: RuntimeDefault
    volumes:
    - name: harden-tmp
      emptyDir: {}
    automountServiceAccountToken: false
"
);

golden!(
    run_as_root_is_overridden_in_place,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: false
    runAsUser: 0
  containers:
  - name: app
    image: example.com/app:1.0
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: harden-tmp
      mountPath: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
"
);

// readOnlyRootFilesystem is harden's default, not Pod Security's: an explicit
// `false` is the owner's choice, and without it no /tmp volume is needed.
golden!(
    an_explicit_writable_root_filesystem_is_kept,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      readOnlyRootFilesystem: false
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      readOnlyRootFilesystem: false
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  automountServiceAccountToken: false
"
);

golden!(
    an_existing_tmp_mount_is_not_duplicated,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    volumeMounts:
    - name: scratch
      mountPath: /tmp
  volumes:
  - name: scratch
    emptyDir: {}
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    volumeMounts:
    - name: scratch
      mountPath: /tmp
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      readOnlyRootFilesystem: true
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  volumes:
  - name: scratch
    emptyDir: {}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  automountServiceAccountToken: false
"
);

golden!(
    a_partial_capability_drop_gains_all,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      capabilities: {drop: [NET_RAW]}
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      capabilities: {drop: [NET_RAW, ALL]}
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: harden-tmp
      mountPath: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
"
);

const PRIVILEGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  containers:
  - name: agent
    image: example.com/agent:1.0
    securityContext:
      privileged: true
";

// harden never removes privileges: the pod is written back untouched, and
// stderr says why. (`privileged: true` with `allowPrivilegeEscalation:
// false` is rejected by the API, so that fix cannot be made either.)
golden!(
    a_privileged_pod_is_left_unchanged_and_reported,
    ["-q"],
    PRIVILEGED_POD,
    PRIVILEGED_POD,
    exit 0,
    stderr "\
warning: Pod/agent: container \"agent\": privileged=true violates PSS privileged; left unchanged
warning: Pod/agent: container \"agent\": allowPrivilegeEscalation unset violates PSS allowPrivilegeEscalation; left unchanged
warning: Pod/agent: 14 fixes withheld because of the blockers above (--partial applies them)
"
);

golden!(
    partial_applies_the_other_fixes_to_a_privileged_pod,
    ["-q", "--partial"],
    PRIVILEGED_POD,
    "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  containers:
  - name: agent
    image: example.com/agent:1.0
    securityContext:
      privileged: true
      capabilities:
        drop:
        - ALL
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: harden-tmp
      mountPath: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
",
    exit 0,
    stderr "\
warning: Pod/agent: container \"agent\": privileged=true violates PSS privileged; kept
warning: Pod/agent: container \"agent\": allowPrivilegeEscalation unset violates PSS allowPrivilegeEscalation; kept
"
);

// A Windows pod (by node selector) gets `os.name: windows`, which makes Pod
// Security skip the Linux-only checks, and only fields that exist on
// Windows: no UIDs, seccomp, capabilities or read-only root filesystem.
golden!(
    a_windows_pod_gets_only_windows_fields,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: win
spec:
  nodeSelector:
    kubernetes.io/os: windows
  containers:
  - name: app
    image: example.com/app:ltsc2022
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: win
spec:
  nodeSelector:
    kubernetes.io/os: windows
  containers:
  - name: app
    image: example.com/app:ltsc2022
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  os:
    name: windows
  securityContext:
    runAsNonRoot: true
  automountServiceAccountToken: false
"
);

const SKIPPED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    harden.dev/skip: \"true\"
spec:
  containers:
  - name: app
    image: example.com/app:1.0
";

golden!(
    the_skip_annotation_leaves_a_resource_alone,
    ["-q"],
    SKIPPED_POD,
    SKIPPED_POD,
    exit 0,
    stderr "note: Pod/app: skipped (opted out: annotation harden.dev/skip: \"true\"), still violating: \
            container \"app\": allowPrivilegeEscalation unset (PSS allowPrivilegeEscalation); \
            container \"app\": capabilities.drop missing \"ALL\" (PSS capabilities_restricted); \
            container \"app\": runAsNonRoot unset (PSS runAsNonRoot); \
            container \"app\": seccompProfile unset (PSS seccompProfile_restricted)\n"
);

// The exempt container must not inherit pod-wide settings, so they go on
// the other containers instead.
golden!(
    skip_containers_exempts_the_named_containers,
    [],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    harden.dev/skip-containers: \"debug\"
spec:
  containers:
  - name: app
    image: example.com/app:1.0
  - name: debug
    image: example.com/debug:1.0
",
    "\
apiVersion: v1
kind: Pod
metadata:
  name: app
  annotations:
    harden.dev/skip-containers: \"debug\"
spec:
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      runAsNonRoot: true
      runAsUser: 10001
      runAsGroup: 10001
      seccompProfile:
        type: RuntimeDefault
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      readOnlyRootFilesystem: true
    volumeMounts:
    - name: harden-tmp
      mountPath: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        memory: 512Mi
  - name: debug
    image: example.com/debug:1.0
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
"
);

/// YAML that is not a Kubernetes object, even with fields that look like one.
const NOT_KUBERNETES: &str = "\
# Not a Kubernetes object: left exactly as it is.
name:   my-tool     # odd spacing
version: \"1.0\"
containers:
- image: example.com/app:1.0
  securityContext: {}
spec:
  containers: [{name: x, image: y}]
";

golden!(
    yaml_that_is_not_kubernetes_passes_through,
    [],
    NOT_KUBERNETES,
    NOT_KUBERNETES,
    exit 0,
    stderr "harden: 1 document, 0 workloads hardened, 0 changes, 0 blockers\n"
);

golden!(
    empty_and_comment_only_documents_and_end_markers_are_kept,
    [],
    "\
# stream header
---
# only a comment
---
---
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - {name: app, image: example.com/app:1.0}
...
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
...
# trailing comment
",
    "\
# stream header
---
# only a comment
---
---
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - {name: app, image: example.com/app:1.0, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, \
readOnlyRootFilesystem: true}, volumeMounts: [{name: harden-tmp, mountPath: /tmp}], resources: {requests: {cpu: 100m, \
memory: 128Mi}, limits: {memory: 512Mi}}}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - name: harden-tmp
    emptyDir: {}
  automountServiceAccountToken: false
...
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
...
# trailing comment
"
);

// The last line of a file may lack its line break; the output gets one.
golden!(a_file_without_a_final_newline, [], BARE_POD.trim_end(), BARE_POD_HARDENED);

// ---------------------------------------------------------------------------
// Bad input: exit 2, one `harden: WHERE: message` line, nothing on stdout.

golden!(
    a_duplicate_key_is_an_error,
    [],
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nkind: Service\n",
    "",
    exit 2,
    stderr "harden: <stdin>:5:1: duplicate key \"kind\" in the same mapping\n"
);

#[test]
fn an_alias_bomb_is_an_error() {
    let out = run(&[], alias_bomb().as_bytes(), None);
    let stderr = text(&out.stderr);
    // The position is not pinned down: harden reports the node where the
    // expansion budget ran out (inside `a0`, line 1), not the alias that
    // caused it.
    let line: usize = stderr
        .strip_prefix("harden: <stdin>:")
        .and_then(|r| r.split(':').next())
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{stderr:?}"));
    let message = assert_input_error(&out, line);
    assert_eq!(
        message,
        "aliases expand to more nodes than the limit allows (--max-alias-nodes); is this an alias bomb?"
    );
}

/// A billion laughs: 10 levels of 10 aliases each.
fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text
}

golden!(
    a_missing_file_is_an_error,
    ["no/such/file.yaml"],
    "",
    "",
    exit 2,
    stderr "harden: no/such/file.yaml: no such file or directory\n"
);

golden!(
    an_unknown_profile_is_an_error,
    ["--profile", "restrictd"],
    BARE_POD,
    "",
    exit 2,
    stderr "harden: There is no built-in profile named \"restrictd\" and no such file; built-in profiles are restricted, baseline, dotnet.\n"
);

/// `harden: <stdin>:LINE:COL: message` (a single line), nothing on stdout, exit 2.
fn assert_input_error(out: &Output, line: usize) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout must be empty on bad input: {:?}", text(&out.stdout));
    let rest = stderr.strip_prefix(&format!("harden: <stdin>:{line}:")).unwrap_or_else(|| panic!("{stderr:?}"));
    let (col, message) = rest.split_once(": ").unwrap_or_else(|| panic!("{stderr:?}"));
    assert!(col.parse::<usize>().is_ok_and(|c| c >= 1), "column {col:?} in {stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    message.trim_end().to_string()
}

#[test]
fn tab_indentation_is_an_error() {
    let out = run(&[], b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: p\n", None);
    let message = assert_input_error(&out, 4);
    assert!(message.contains("tab"), "{message}");
}

#[test]
fn an_unclosed_quote_is_an_error() {
    let out = run(&[], b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"p\n", None);
    // Reported at the opening quote (see an_unclosed_quote_is_reported_at_the_quote).
    let message = assert_input_error(&out, 4);
    assert!(!message.is_empty());
}

#[test]
fn an_unclosed_quote_is_reported_at_the_quote() {
    // Without the final line break harden already says `<stdin>:4:9: unclosed quote`.
    let out = run(&[], b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"p\n", None);
    let message = assert_input_error(&out, 4);
    assert!(message.contains("quote") && !message.contains("indentation"), "{message}");
}

#[test]
fn invalid_utf8_is_an_error_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bad.yaml"), b"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: \"caf\xe9\"\n")
        .expect("write");
    let out = run(&["bad.yaml"], b"", Some(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // Line 4: `  k: "caf` is 9 characters, so the bad byte is column 10.
    assert_eq!(text(&out.stderr), "harden: bad.yaml:4:10: the input is not valid UTF-8\n");
}

#[test]
fn a_profile_with_a_typo_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("mine.yaml"), "name: mine\nlevel: restricted\npod:\n  runAsNonRot: true\n")
        .expect("write");
    let out = run(&["--profile", "mine.yaml"], BARE_POD.as_bytes(), Some(dir.path()));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.starts_with("harden: The profile mine.yaml is not valid: unknown field `runAsNonRot`, expected one of "),
        "{stderr}"
    );
    assert!(stderr.contains("`runAsNonRoot`"), "the message should offer the right name: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn bad_input_anywhere_means_nothing_on_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("good.yaml"), BARE_POD).expect("write");
    std::fs::write(dir.path().join("bad.yaml"), "a: 1\na: 2\n").expect("write");
    let out = run(&["good.yaml", "bad.yaml"], b"", Some(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{:?}", text(&out.stdout));
    assert_eq!(text(&out.stderr), "harden: bad.yaml:2:1: duplicate key \"a\" in the same mapping\n");
}

// ---------------------------------------------------------------------------
// Several inputs

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";

#[test]
fn several_files_never_merge_their_documents() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.yaml"), BARE_POD).expect("write");
    std::fs::write(dir.path().join("b.yaml"), CONFIG_MAP).expect("write");
    let out = run(&["-q", "a.yaml", "b.yaml"], b"", Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Neither file starts with `---`: harden separates them.
    assert_eq!(stdout, format!("{BARE_POD_HARDENED}---\n{CONFIG_MAP}"));
    assert_eq!(harden::yaml::parse_values(&stdout).expect("output parses").len(), 2);
}

#[test]
fn a_file_without_a_final_newline_does_not_run_into_the_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a";
    std::fs::write(dir.path().join("a.yaml"), a).expect("write");
    std::fs::write(dir.path().join("b.yaml"), CONFIG_MAP).expect("write");
    let out = run(&["-q", "a.yaml", "b.yaml"], b"", Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{a}\n---\n{CONFIG_MAP}"));
}

#[test]
fn files_and_stdin_mix_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("b.yaml"), CONFIG_MAP).expect("write");
    let out = run(&["-q", "b.yaml", "-"], BARE_POD.as_bytes(), Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{CONFIG_MAP}---\n{BARE_POD_HARDENED}"));
}

#[test]
fn a_directory_means_its_yaml_files_below_in_sorted_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("manifests");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    std::fs::write(root.join("b.yaml"), cm("b")).expect("write");
    std::fs::write(root.join("a.yml"), cm("a")).expect("write");
    std::fs::write(root.join("sub/c.yaml"), cm("c")).expect("write");
    // Not YAML by name, and not valid YAML either: reading it would fail.
    std::fs::write(root.join("notes.txt"), "key: [unclosed\n\tnot yaml\n").expect("write");
    std::fs::write(root.join("sub/README.md"), "# hello: [\n").expect("write");
    let out = run(&["-q", "manifests"], b"", Some(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{}---\n{}---\n{}", cm("a"), cm("b"), cm("c")));
}

// ---------------------------------------------------------------------------
// `harden check`, help, pipes

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&["--help"], b"", None);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for line in [
        "Exit status:",
        "0  success",
        "1  check: some pod violates the level",
        "2  bad input or usage (nothing is written to stdout)",
        "3  internal error",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
}

golden!(
    check_reports_a_violation_in_upstream_words,
    ["check", "-q"],
    "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: example.com/app:1.0
    securityContext:
      capabilities:
        drop: [ALL]
",
    "<stdin>:11: Pod/web: container \"app\": violation\n    allowPrivilegeEscalation unset violates PSS allowPrivilegeEscalation: \
     allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false).\n",
    exit 1,
    stderr ""
);

golden!(
    check_passes_a_hardened_pod,
    ["check"],
    BARE_POD_HARDENED,
    "",
    exit 0,
    stderr "harden: 0 resources violate restricted at v1.37\n"
);

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut input = String::new();
    for i in 0..300 {
        input.push_str(&format!("---\n{}", BARE_POD.replace("name: app\nspec", &format!("name: app{i}\nspec"))));
    }
    let file = dir.path().join("many.yaml");
    std::fs::write(&file, &input).expect("write");
    let mut child = harden()
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the harden binary starts");
    // Like `harden big.yaml | head -0`: the reader is gone before the first write.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("harden finishes");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panic") && !stderr.contains("internal error"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
}

// ---------------------------------------------------------------------------
// YAML meaning

#[test]
fn a_block_scalar_at_the_end_of_the_input_has_no_final_line_break() {
    let v = harden::yaml::parse_values("a: |\n  echo hi").expect("parses");
    assert_eq!(v[0]["a"], "echo hi");
    let v = harden::yaml::parse_values("a: |\n  echo hi\n").expect("parses");
    assert_eq!(v[0]["a"], "echo hi\n");
}
