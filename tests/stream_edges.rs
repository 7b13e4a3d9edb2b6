//! Issue 14, "how a stream is read", at the edges of YAML: byte order
//! marks, `...` markers, files without a final line break, directives,
//! empty documents, empty Lists, `---` lines with more on them, UTF-16.
//! harden reads each as kubectl does, or says why it cannot.

mod kubectl;
mod support;

use kubectl::kubectl_reads;

const BOM: &str = "\u{feff}";

/// A Pod named `name` that harden changes.
fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/a:1\n"
    )
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// `harden -q ARGS` on `input`, which must succeed.
fn hardened(args: &[&str], input: &str) -> String {
    let r = support::harden(&[&["-q"], args].concat(), input.as_bytes());
    assert_eq!(r.code, 0, "harden {args:?}: {}", r.stderr);
    r.stdout
}

/// `harden ARGS` on `input`, which must fail as bad input: its message.
fn refused(args: &[&str], input: &str) -> String {
    let r = support::harden(args, input.as_bytes());
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "harden {args:?} must refuse:\n{input}\n{}", r.stderr);
    r.stderr
}

/// Files in a temporary directory; their paths, in order.
fn files(dir: &tempfile::TempDir, files: &[(&str, &str)]) -> Vec<String> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path.to_str().expect("utf-8 path").to_string()
        })
        .collect()
}

#[test]
fn a_byte_order_mark_that_starts_a_file_stays_and_the_file_is_hardened() {
    let out = hardened(&[], &format!("{BOM}{}", pod("p")));
    assert_eq!(out, format!("{BOM}{}", hardened(&[], &pod("p"))));
}

#[test]
fn document_end_markers_stay() {
    let input = format!("{}...\n---\n{}...\n# the end\n", pod("a"), pod("b"));
    let want = format!("{}...\n---\n{}...\n# the end\n", hardened(&[], &pod("a")), hardened(&[], &pod("b")));
    assert_eq!(hardened(&[], &input), want);
}

// kubectl cuts at `---` lines only: `a ... b` is one piece to it, of which
// it reads `a` and drops `b` without a word.
#[test]
fn a_document_after_an_end_marker_without_a_start_marker_is_an_error() {
    let input = format!("{}...\n{}", pod("a"), pod("b"));
    assert_eq!(
        refused(&[], &input),
        "harden: <stdin>:10:1: a document after `...` needs a `---` line before it: kubectl reads on to the next \
         `---` line as one document, keeps the first and drops this one\n"
    );
    // Also where the two land in chunks of their own.
    let big = format!("{}data:\n  big: {}\n", config_map("big"), "x".repeat(100_000));
    let input = format!("{big}...\n{}", pod("b"));
    assert!(refused(&[], &input).starts_with("harden: <stdin>:8:1: a document after `...`"));
}

#[test]
fn a_file_without_a_final_line_break_keeps_it_that_way() {
    // The last line stays as it is: a line break after a block scalar that
    // ends the file would be part of its value.
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  run.sh: |\n    echo hi";
    assert_eq!(hardened(&[], input), input);
    let plain = config_map("plain");
    let plain = plain.trim_end();
    assert_eq!(hardened(&[], plain), plain);
}

#[test]
fn a_file_without_a_final_line_break_followed_by_another_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = config_map("plain");
    let comment = format!("{}# the end", config_map("commented"));
    let paths = files(&dir, &[("plain.yaml", plain.trim_end()), ("commented.yaml", &comment), ("pod.yaml", &pod("p"))]);
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let want = format!("{plain}---\n{comment}\n---\n{}", hardened(&[], &pod("p")));
    assert_eq!(hardened(&paths, ""), want);
    assert_eq!(hardened(&[&["--diff"], &paths[..]].concat(), ""), want);
    assert_eq!(harden::yaml::parse_values(&want).expect("YAML").len(), 3);
}

#[test]
fn a_file_that_ends_inside_a_block_scalar_cannot_be_followed_by_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: |\n    hunter2";
    let paths = files(&dir, &[("secret.yaml", script), ("pod.yaml", &pod("p"))]);
    let message = format!(
        "harden: {}:7: the file ends without a line break, inside a block scalar whose value would take the line \
         break that must separate it from the next file; end the file with a line break (or write `|-`)\n",
        paths[0]
    );
    for mode in [&[][..], &["--diff"], &["-o", "yaml", "--check"]] {
        assert_eq!(refused(&[mode, &[&paths[0], &paths[1]]].concat(), ""), message, "{mode:?}");
    }
    // Alone, or last, or where nothing is joined, it is read as it is.
    assert_eq!(hardened(&[&paths[0]], ""), script);
    assert!(hardened(&[&paths[1], &paths[0]], "").ends_with(script));
    for mode in [&["-o", "report"][..], &["-o", "patch"], &["-o", "diff"], &["--check"]] {
        let r = support::harden(&[mode, &[&paths[0], &paths[1]]].concat(), b"");
        assert_ne!(r.code, 2, "{mode:?}: {}", r.stderr);
    }
    let r = support::harden(&["-i", &paths[0], &paths[1]], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&paths[0]).expect("read"), script);
}

#[test]
fn a_yaml_directive_stays_with_its_document_and_gets_an_end_marker_after_another_file() {
    let directive = format!("%YAML 1.1\n---\n{}", pod("p"));
    assert_eq!(hardened(&[], &directive), format!("%YAML 1.1\n---\n{}", hardened(&[], &pod("p"))));
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = files(&dir, &[("cm.yaml", &config_map("cm")), ("p.yaml", &directive), ("p2.yaml", &directive)]);
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let out = hardened(&paths, "");
    let p = hardened(&[], &directive);
    assert_eq!(out, format!("{}...\n{p}...\n{p}", config_map("cm")));
    assert_eq!(harden::yaml::parse_values(&out).expect("harden reads what it wrote").len(), 3);
}

#[test]
fn empty_documents_between_markers_stay() {
    let input = format!("---\n---\n{}---\n# nothing\n---\n", pod("p"));
    let r = support::harden(&[], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("---\n---\n{}---\n# nothing\n---\n", hardened(&[], &pod("p"))));
}

#[test]
fn a_list_with_zero_items_is_a_manifest_left_as_it_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("empty.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
        ("null.yaml", "apiVersion: v1\nkind: List\nitems:\n"),
        (
            "empty.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [], \"metadata\": {\"resourceVersion\": \"\"}}\n",
        ),
    ] {
        let paths = files(&dir, &[(name, text)]);
        assert_eq!(hardened(&[&paths[0]], ""), text);
        let r = support::harden(&["--check", &paths[0]], b"");
        assert_eq!(r.code, 0, "{name}: nothing to harden, and a gate that read a manifest: {}", r.stderr);
    }
}

#[test]
fn content_after_a_document_start_marker_is_an_error_as_kubectl_says() {
    let input = format!("{}---   {{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\"}}\n", config_map("a"));
    assert_eq!(
        refused(&[], &input),
        "harden: <stdin>:5:7: kubectl reads nothing but a comment after `---` on its line (\"invalid Yaml document \
         separator\"): move this to the next line\n"
    );
    // A comment is fine.
    hardened(&[], &format!("--- # first\n{}", config_map("a")));
}

#[test]
fn utf16_input_is_named_as_such() {
    let utf16: Vec<u8> =
        [0xff, 0xfe].into_iter().chain(config_map("a").encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let r = support::harden(&[], &utf16);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert_eq!(
        r.stderr,
        "harden: <stdin>:1:1: the input is UTF-16 (kubectl decodes it, harden reads UTF-8): `iconv -f UTF-16 -t UTF-8`\n"
    );
}

#[test]
#[ignore = "needs kubectl (cargo test -- --include-ignored)"]
fn kubectl_reads_what_harden_writes_as_it_reads_the_input() {
    let (a, b) = (pod("a"), config_map("b"));
    // Streams harden reads: kubectl reads the same objects from its output.
    let read = [
        format!("{BOM}{a}"),
        format!("{a}...\n---\n{b}...\n"),
        format!("---\n---\n{a}---\n---\n"),
        format!("--- # note\n{a}"),
        format!("{a}---\n{}", b.trim_end()),
        "apiVersion: v1\nkind: List\nitems: []\n".to_string(),
        "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}\r\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}"
            .to_string(),
    ];
    for input in read {
        let out = hardened(&[], &input);
        let want = kubectl_reads(&input).unwrap_or_else(|e| panic!("kubectl reads the input: {e}\n{input}"));
        assert_eq!(kubectl_reads(&out), Ok(want), "{input}");
    }
    // Streams harden refuses: kubectl fails on them, or drops a document.
    for (input, dropped) in [
        (format!("{a}...\n{b}"), Some(vec!["pod/a".to_string()])),
        (format!("{b}--- {{\"kind\": \"ConfigMap\"}}\n"), None),
        ("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [],}".to_string(), None),
    ] {
        refused(&[], &input);
        match dropped {
            Some(names) => assert_eq!(kubectl_reads(&input), Ok(names), "{input}"),
            None => assert!(kubectl_reads(&input).is_err(), "kubectl reads what harden refuses:\n{input}"),
        }
    }
}
