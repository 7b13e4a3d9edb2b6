//! Issue 14, follow-ups to item 2 (JSON in, JSON out): a stream is read as
//! kubectl reads it. A stream whose first character is `{` is JSON values
//! one after the other (`jq -c`), and several sources are joined into one
//! stream that kubectl reads as it reads each of them.

mod kubectl;
mod support;

use kubectl::kubectl_reads;

use serde_json::{Value, json};

/// A fixture of `tests/fixtures/json/`.
fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `harden -q ARGS` on `input`, which must succeed.
fn hardened(args: &[&str], input: &str) -> String {
    let r = support::harden(&[&["-q"], args].concat(), input.as_bytes());
    assert_eq!(r.code, 0, "harden {args:?}: {}", r.stderr);
    r.stdout
}

/// The values of a JSON stream, as Go's `encoding/json` decoder (kubectl's,
/// for a stream that starts with `{`) reads them: strictly, one after
/// another, white space between.
fn json_stream(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("not a JSON stream ({e}):\n{text}"))
}

/// The documents of a YAML stream, as harden reads them.
fn yaml_stream(text: &str) -> Vec<Value> {
    harden::yaml::parse_values(text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"))
}

/// A ConfigMap as one line of JSON.
fn config_map_json(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}).to_string()
}

fn config_map_yaml(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// Files in a temporary directory, by name.
struct Files(tempfile::TempDir);

impl Files {
    fn new(files: &[(&str, &str)]) -> Files {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        Files(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.path().join(name).to_str().expect("utf-8 path").to_string()
    }
}

/// What `harden FILES` writes (`-` is standard input, `stdin`), streamed
/// (plain) and whole (`--diff`, whose stdout is the same stream): the two
/// must agree.
fn joined(files: &Files, names: &[&str], stdin: &str) -> String {
    let paths: Vec<String> = names.iter().map(|n| if *n == "-" { n.to_string() } else { files.path(n) }).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let streamed = hardened(&paths, stdin);
    let whole = hardened(&[&["--diff"], &paths[..]].concat(), stdin);
    assert_eq!(streamed, whole, "streamed and whole runs join sources alike");
    streamed
}

// ---------------------------------------------------------------------------
// Several JSON sources in one run

#[test]
fn item2_several_json_sources_are_one_json_stream() {
    let deployment = fixture("deployment-web.json");
    let files = Files::new(&[("web.json", &deployment), ("cm.json", &config_map_json("cm"))]);
    let out = joined(&files, &["web.json", "cm.json"], "");
    assert!(!out.contains("---"), "no YAML separator in a JSON stream:\n{out}");
    let values = json_stream(&out);
    let web = hardened(&[&files.path("web.json")], "");
    assert_eq!(values, [json_stream(&web), json_stream(&config_map_json("cm"))].concat());
    assert_eq!(out, format!("{web}{}", config_map_json("cm")), "sources keep their bytes, a line break between");
}

#[test]
fn item2_json_first_and_yaml_later_make_a_yaml_stream() {
    let deployment = fixture("deployment-web.json");
    let files = Files::new(&[
        ("web.json", &deployment),
        ("cm.yaml", &config_map_yaml("cm")),
        ("b.json", &config_map_json("b")),
    ]);
    let out = joined(&files, &["web.json", "cm.yaml", "b.json"], "");
    // A `---` line first: kubectl reads the stream as YAML, which JSON is.
    let web = hardened(&[&files.path("web.json")], "");
    assert_eq!(out, format!("---\n{web}---\n{}---\n{}", config_map_yaml("cm"), config_map_json("b")));
    let want: Vec<Value> = [
        json_stream(&web),
        yaml_stream(&config_map_yaml("cm")),
        vec![json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}
        })],
    ]
    .concat();
    assert_eq!(yaml_stream(&out), want);
    // YAML first: as before, `---` between sources.
    let out = joined(&files, &["cm.yaml", "b.json"], "");
    assert_eq!(out, format!("{}---\n{}", config_map_yaml("cm"), config_map_json("b")));
}

#[test]
fn item2_the_values_of_a_json_source_are_documents_in_a_yaml_stream() {
    let (a, b, c) = (config_map_json("a"), config_map_json("b"), config_map_json("c"));
    let files = Files::new(&[("values.json", &format!("{a}{b}\n  {c}\n")), ("d.yaml", &config_map_yaml("d"))]);
    for (names, want) in [
        (["values.json", "d.yaml"], format!("---\n{a}\n---\n{b}\n---\n  {c}\n---\n{}", config_map_yaml("d"))),
        (["d.yaml", "values.json"], format!("{}---\n{a}\n---\n{b}\n---\n  {c}\n", config_map_yaml("d"))),
    ] {
        let out = joined(&files, &names, "");
        assert_eq!(out, want);
        assert_eq!(yaml_stream(&out).len(), 4, "harden reads what it wrote");
    }
}

#[test]
fn item2_a_json_stream_that_turns_yaml_is_documents_in_a_yaml_stream() {
    // kubectl since 1.33 reads it alone (JSON, then YAML from the `---` on).
    let (a, b) = (config_map_json("a"), config_map_json("b"));
    let mixed = format!("{a}{b}\n---\n{}", config_map_yaml("c"));
    let files = Files::new(&[("mixed.json", &mixed), ("d.yaml", &config_map_yaml("d"))]);
    let (c, d) = (config_map_yaml("c"), config_map_yaml("d"));
    for (names, want) in [
        (["mixed.json", "d.yaml"], format!("---\n{a}\n---\n{b}\n---\n{c}---\n{d}")),
        (["d.yaml", "mixed.json"], format!("{d}---\n{a}\n---\n{b}\n---\n{c}")),
    ] {
        let out = joined(&files, &names, "");
        assert_eq!(out, want);
        assert_eq!(yaml_stream(&out).len(), 4, "harden reads what it wrote");
    }
    assert_eq!(joined(&files, &["mixed.json"], ""), mixed, "alone, as it is");
}

#[test]
fn item2_a_source_of_comments_after_json_makes_a_yaml_stream() {
    // kubectl's JSON decoder fails on `#`.
    let files = Files::new(&[("a.json", &config_map_json("a")), ("b.json", &config_map_json("b"))]);
    let out = joined(&files, &["a.json", "-"], "# nothing yet\n");
    assert_eq!(out, format!("---\n{}\n# nothing yet\n", config_map_json("a")));
    // Blank sources change nothing.
    let out = joined(&files, &["a.json", "-", "b.json"], "\n\n");
    assert_eq!(out, format!("{}\n\n\n{}", config_map_json("a"), config_map_json("b")));
}

#[test]
fn item2_a_byte_order_mark_stays_only_where_the_stream_starts() {
    let bom = "\u{feff}";
    let files = Files::new(&[
        ("a.json", &format!("{bom}{}", config_map_json("a"))),
        ("b.json", &format!("{bom}{}", config_map_json("b"))),
        ("c.yaml", &format!("{bom}{}", config_map_yaml("c"))),
        ("d.yaml", &format!("{bom}{}", config_map_yaml("d"))),
    ]);
    assert_eq!(
        joined(&files, &["a.json", "b.json"], ""),
        format!("{bom}{}\n{}", config_map_json("a"), config_map_json("b"))
    );
    // Before the `---` that makes the stream YAML.
    let out = joined(&files, &["a.json", "c.yaml"], "");
    assert_eq!(out, format!("{bom}---\n{}\n---\n{}", config_map_json("a"), config_map_yaml("c")));
    let out = joined(&files, &["c.yaml", "d.yaml"], "");
    assert_eq!(out, format!("{bom}{}---\n{}", config_map_yaml("c"), config_map_yaml("d")));
    assert_eq!(yaml_stream(&out).len(), 2, "harden reads what it wrote");
}

#[test]
#[ignore = "needs kubectl (cargo test -- --include-ignored)"]
fn item2_kubectl_reads_every_mix_of_json_and_yaml_sources() {
    let bom = "\u{feff}";
    let files = Files::new(&[
        ("a.json", &config_map_json("a")),
        ("b.json", &format!("{bom}{}\n{}", config_map_json("b"), config_map_json("b2"))),
        ("c.yaml", &config_map_yaml("c")),
        ("d.yaml", &format!("{bom}%YAML 1.1\n---\n{}...\n", config_map_yaml("d"))),
        ("web.json", &fixture("deployment-web.json")),
        ("mixed.json", &format!("{}{}\n---\n{}", config_map_json("m1"), config_map_json("m2"), config_map_yaml("m3"))),
    ]);
    let mixes: [&[&str]; 9] = [
        &["mixed.json", "c.yaml"],
        &["c.yaml", "mixed.json", "a.json"],
        &["a.json", "b.json"],
        &["a.json", "web.json", "b.json"],
        &["a.json", "c.yaml"],
        &["c.yaml", "a.json", "b.json"],
        &["b.json", "c.yaml", "a.json"],
        &["web.json", "-"],
        &["c.yaml", "d.yaml", "a.json"],
    ];
    for names in mixes {
        let out = joined(&files, names, "# only a comment");
        let mut want = Vec::new();
        for n in names.iter().filter(|n| **n != "-") {
            // Each source alone, as kubectl reads it (d.yaml alone is an
            // error to kubectl: it reads `%YAML 1.1` as a document of its own).
            let alone = hardened(&[&files.path(n)], "");
            match *n {
                "d.yaml" => want.push("configmap/d".to_string()),
                // A JSON stream that turns YAML: kubectl 1.33 reads it alone, 1.32 cannot.
                "mixed.json" => want.extend(["configmap/m1", "configmap/m2", "configmap/m3"].map(str::to_string)),
                _ => want.extend(kubectl_reads(&alone).unwrap_or_else(|e| panic!("{n} alone: {e}"))),
            }
        }
        assert_eq!(kubectl_reads(&out), Ok(want), "harden {names:?}:\n{out}");
    }
}

// ---------------------------------------------------------------------------
// Concatenated JSON

/// A Deployment that harden changes, as one line of JSON.
fn deployment_line(name: &str) -> String {
    let mut v: Value = serde_json::from_str(&fixture("deployment-web.json")).expect("JSON");
    v["metadata"]["name"] = json!(name);
    v.to_string()
}

#[test]
fn item2_concatenated_json_is_read_as_kubectl_reads_it() {
    let (a, b, c) = (deployment_line("a"), config_map_json("b"), deployment_line("c"));
    let pretty = fixture("deployment-web.json");
    // `jq -c`, values back to back on a line, pretty values one after another.
    let input = format!("\n {a}\n\n{b}{c}  \t{pretty}{pretty}\r\n");
    let r = support::harden(&[], input.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("harden: 5 documents, 4 workloads hardened"), "{}", r.stderr);
    // Every byte between and around the values stays; each value is
    // hardened as it is when alone.
    let alone = |v: &str| hardened(&[], v);
    let line = |v: &str| alone(v).trim_end().to_string();
    let want = format!("\n {}\n\n{b}{}  \t{}{}\r\n", line(&a), line(&c), alone(&pretty), alone(&pretty));
    assert_eq!(r.stdout, want);
    assert_eq!(json_stream(&r.stdout).len(), 5);
    // The same from a file, and hardened again: nothing left to change.
    let files = Files::new(&[("all.json", &input)]);
    assert_eq!(hardened(&[&files.path("all.json")], ""), want);
    assert_eq!(hardened(&[], &want), want);
}

#[test]
fn item2_concatenated_json_in_every_output() {
    let input = format!("{}\n{}\n", deployment_line("a"), deployment_line("b"));
    let files = Files::new(&[("two.json", &input)]);
    let path = files.path("two.json");
    // Patches: one per document.
    let patches = json_stream(&hardened(&["-o", "patch", &path], ""));
    let names: Vec<&Value> = patches[0].as_array().expect("an array").iter().map(|p| &p["resource"]["name"]).collect();
    assert_eq!(names, [&json!("a"), &json!("b")]);
    // Reports: each document at its own line.
    let report = hardened(&["-o", "report", &path], "");
    assert!(report.contains("two.json:1: Deployment/a") && report.contains("two.json:2: Deployment/b"), "{report}");
    // In place.
    let want = hardened(&[&path], "");
    hardened(&["-i", &path], "");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), want);
}

#[test]
fn item2_a_long_concatenated_json_stream_streams() {
    // Many chunks, read a chunk at a time from a file and from stdin.
    let values: Vec<String> = (0..3000).map(|i| deployment_line(&format!("web-{i}"))).collect();
    let input = values.join("\n") + "\n";
    let files = Files::new(&[("many.json", &input)]);
    let out = hardened(&[&files.path("many.json")], "");
    assert_eq!(out, hardened(&[], &input));
    let read = json_stream(&out);
    assert_eq!(read.len(), 3000);
    assert!(read.iter().all(|v| v["spec"]["template"]["spec"]["automountServiceAccountToken"] == json!(false)));
    assert_eq!(out.lines().count(), 3000, "one line a value still");
}

#[test]
fn item2_concatenated_json_errors_say_file_line_and_column() {
    // The second value on the line is not JSON.
    let input = format!("{}{{\"apiVersion\": \"v1\", \"kind\": 'ConfigMap'}}\n", config_map_json("a"));
    let r = support::harden(&[], input.as_bytes());
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    let col = config_map_json("a").len() + 30;
    assert!(r.stderr.starts_with(&format!("harden: <stdin>:1:{col}: not JSON")), "{}", r.stderr);
}

#[test]
fn json_with_a_trailing_comma_is_an_error_as_kubectl_says() {
    let input =
        "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"ConfigMap\",\n    \"metadata\": {\"name\": \"é\",}\n}\n";
    let r = support::harden(&[], input.as_bytes());
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "harden: <stdin>:4:30: not JSON (a trailing comma); a stream that starts with `{` is JSON to kubectl\n"
    );
    // After `---` the stream is YAML, where a trailing comma is allowed (by
    // kubectl too); so is a flow mapping with plain keys.
    hardened(&[], &format!("---\n{input}"));
    hardened(&[], "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n");
}

#[test]
#[ignore = "needs kubectl (cargo test -- --include-ignored)"]
fn json_with_a_trailing_comma_kubectl_rejects_too() {
    let input = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\",}}\n";
    let e = kubectl_reads(input).expect_err("kubectl rejects it");
    assert!(e.contains("error parsing"), "{e}");
    assert_eq!(support::harden(&[], input.as_bytes()).code, 2);
    // Concatenated JSON: kubectl reads every value, so does harden.
    let input = format!("{}{}\n{}", config_map_json("a"), config_map_json("b"), deployment_line("c"));
    let want = kubectl_reads(&input).expect("kubectl reads it");
    assert_eq!(kubectl_reads(&hardened(&[], &input)), Ok(want));
}

#[test]
fn crlf_json_gets_crlf_lines() {
    let pretty = fixture("deployment-web.json").replace('\n', "\r\n");
    let out = hardened(&[], &pretty);
    assert!(!out.replace("\r\n", "").contains('\n'), "every line break is CRLF:\n{out}");
    assert_eq!(json_stream(&out), json_stream(&hardened(&[], &fixture("deployment-web.json"))));
}
