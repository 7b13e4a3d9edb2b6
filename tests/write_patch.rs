//! `-o patch`: RFC 6902 JSON Patch per resource. The format is pinned on
//! two fixtures (a Pod, and a `List` whose item's patch is relative to the
//! item); then every emitted patch, for the fixtures and for every file of
//! `../shared/corpus`, is applied with the `json-patch` crate (an
//! independent RFC 6902 implementation) to the input object and must give
//! exactly the object in harden's YAML output.

mod shared_inputs;
mod write_support;

use harden::yaml::parse_values;
use serde_json::Value;
use std::path::Path;
use write_support::{expect_file, fixture, run, stdout, yaml_files};

/// Patches are made 64 documents at a time, in parallel, and written in
/// pieces: together exactly the whole array, across the runs' boundaries.
#[test]
fn patches_made_in_parts_equal_the_whole_array() {
    use harden::pipeline::harden_stream;
    use harden::read::Source;
    use harden::write::{Run, patch};
    let restricted = shared_inputs::Restricted::new();
    let sources = vec![Source { name: "s.yaml".into(), path: None, text: write_support::many_documents() }];
    let outcomes = harden_stream(&sources, &restricted.options()).expect("hardens");
    let run = Run {
        sources: &sources,
        outcomes: &outcomes,
        level: restricted.profile.level,
        version: harden::pss::Version::LATEST,
        partial: false,
        checking: false,
        limits: Default::default(),
        origin_root: None,
    };
    let whole = patch::patches(&run);
    assert!(whole.len() > 64, "patches in more than one run: {}", whole.len());
    let mut want = serde_json::to_string_pretty(&whole).expect("JSON");
    want.push('\n');
    assert_eq!(patch::render(&run).concat(), want);
    let no_change = Run { outcomes: &[], sources: &[], ..run };
    assert_eq!(patch::render(&no_change).concat(), "[]\n");
}

#[test]
fn patch_of_a_pod_exact() {
    let o = run(&["-o", "patch", &fixture("small.yaml")]);
    assert!(o.status.success());
    expect_file("small.patch.json", &stdout(&o));
}

#[test]
fn patch_of_a_list_item_is_relative_to_the_item() {
    let o = run(&["-o", "patch", &fixture("list.yaml")]);
    assert!(o.status.success());
    let out = stdout(&o);
    expect_file("list.patch.json", &out);
    let patches: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    assert_eq!(patches.len(), 1, "the ConfigMap item is unchanged");
    for op in patches[0]["patch"].as_array().expect("ops") {
        let path = op["path"].as_str().expect("path");
        assert!(path.starts_with("/spec/"), "{path} is relative to the item, not to the List");
    }
}

#[test]
fn unchanged_input_gives_an_empty_array() {
    let o = run(&["-o", "patch", &fixture("compliant.yaml")]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "[]\n");
}

#[test]
fn patches_replay_on_the_fixtures() {
    for name in ["small.yaml", "list.yaml", "system.yaml", "kustomized.yaml", "helm.yaml"] {
        let changed = replay(Path::new(&fixture(name)));
        assert!(changed.is_some(), "{name}: harden accepts it");
    }
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn patches_replay_on_every_corpus_file() {
    let dir = shared_inputs::shared("corpus");
    let (mut files, mut patched) = (0, 0);
    for file in yaml_files(&dir) {
        match replay(&file) {
            Some(n) => {
                files += 1;
                patched += n;
            }
            None => eprintln!("note: {} is rejected by harden (exit 2); no patch to replay", file.display()),
        }
    }
    eprintln!("replayed {patched} resource patches over {files} corpus files");
    assert!(files > 0 && patched > 0, "the corpus has files harden accepts and resources to patch");
}

/// Run harden on `file` twice (YAML, patches) and replay every patch.
/// Returns how many resources were patched, or None if harden rejects the file.
fn replay(file: &Path) -> Option<usize> {
    let path = file.to_str().expect("UTF-8 path");
    let yaml = run(&["-q", path]);
    if yaml.status.code() == Some(2) {
        return None;
    }
    assert!(yaml.status.success(), "{path}: {}", String::from_utf8_lossy(&yaml.stderr));
    let patch = run(&["-q", "-o", "patch", path]);
    assert!(patch.status.success(), "{path}: {}", String::from_utf8_lossy(&patch.stderr));
    let input = std::fs::read_to_string(file).expect("readable");
    let before = parse_values(&input).expect("the input parses");
    let after = parse_values(&stdout(&yaml)).expect("harden's output parses");
    assert_eq!(before.len(), after.len(), "{path}: same number of documents");
    let pairs: Vec<(&Value, &Value)> = resources(&before).into_iter().zip(resources(&after)).collect();
    let patches: Vec<Value> = serde_json::from_str(&stdout(&patch)).expect("-o patch writes JSON");
    let changed = pairs.iter().filter(|(b, a)| b != a).count();
    assert_eq!(patches.len(), changed, "{path}: one patch per changed resource");
    let mut cursor = 0;
    for p in &patches {
        assert_eq!(p["file"].as_str(), Some(path), "{path}: file names the input");
        let found = pairs[cursor..].iter().position(|(b, a)| b != a && identity(b) == p["resource"]);
        let index = cursor + found.unwrap_or_else(|| panic!("{path}: no changed resource {}", p["resource"]));
        let (b, a) = pairs[index];
        let ops: json_patch::Patch = serde_json::from_value(p["patch"].clone()).expect("an RFC 6902 patch");
        let mut doc = b.clone();
        json_patch::patch(&mut doc, &ops).unwrap_or_else(|e| panic!("{path}: {} does not apply: {e}", p["resource"]));
        assert!(&doc == a, "{path}: {} patched is not the output object", p["resource"]);
        cursor = index + 1;
    }
    Some(patches.len())
}

/// The resources of a stream, as harden's plan sees them: a List's items,
/// or the document itself (when it has apiVersion and kind).
fn resources(docs: &[Value]) -> Vec<&Value> {
    let is_object =
        |v: &Value| v.get("apiVersion").is_some_and(Value::is_string) && v.get("kind").is_some_and(Value::is_string);
    let mut out = Vec::new();
    for d in docs.iter().filter(|d| is_object(d)) {
        let kind = d["kind"].as_str().unwrap_or("");
        match d.get("items").and_then(Value::as_array) {
            Some(items) if kind.ends_with("List") => out.extend(items.iter().filter(|i| is_object(i))),
            _ if kind == "List" => {}
            _ => out.push(d),
        }
    }
    out
}

/// `{apiVersion, kind, namespace, name}` as `-o patch` names a resource.
fn identity(v: &Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("apiVersion".into(), v["apiVersion"].clone());
    m.insert("kind".into(), v["kind"].clone());
    for k in ["namespace", "name"] {
        if let Some(s) = v.pointer(&format!("/metadata/{k}")).filter(|s| s.is_string()) {
            m.insert(k.into(), s.clone());
        }
    }
    Value::Object(m)
}
