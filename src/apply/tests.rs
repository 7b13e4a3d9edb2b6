//! Byte-exact expectations for the editor: each case is the source, the
//! planned meaning (as JSON), and the exact text that must come out.

use super::*;
use crate::yaml::{Limits, parse_stream, parse_values};
use serde_json::json;

fn edit(text: &str, planned: Value) -> String {
    let docs = parse_stream(text, &Limits::default()).expect("input parses");
    let edits = plan_edits(text, &docs[0], &planned, 1000).expect("edits");
    let out = splice(text, &edits);
    let reread = parse_values(&out).unwrap_or_else(|e| panic!("output does not parse: {e}\n{out}"));
    assert_eq!(reread[0], planned, "output does not mean the plan:\n{out}");
    out
}

#[test]
fn replaces_a_scalar_in_place_keeping_the_comment() {
    let out = edit("a:\n  b: false   # keep me\n  c: 1\n", json!({"a": {"b": true, "c": 1}}));
    assert_eq!(out, "a:\n  b: true   # keep me\n  c: 1\n");
}

#[test]
fn inserts_nested_keys_after_the_last_sibling() {
    let out = edit(
        "spec:\n  containers:\n  - name: app\n    image: x # img\n  # trailing comment\nkind: Pod\n",
        json!({"spec": {"containers": [{"name": "app", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}, "kind": "Pod"}),
    );
    assert_eq!(
        out,
        "spec:\n  containers:\n  - name: app\n    image: x # img\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop:\n        - ALL\n  # trailing comment\nkind: Pod\n"
    );
}

#[test]
fn follows_four_space_indentation_and_indented_sequences() {
    let out = edit(
        "spec:\n    containers:\n        - name: app\n    volumes:\n        - name: v\n",
        json!({"spec": {"containers": [{"name": "app"}], "volumes": [{"name": "v"}, {"name": "tmp", "emptyDir": {}}], "securityContext": {"runAsNonRoot": true}}}),
    );
    assert_eq!(
        out,
        "spec:\n    containers:\n        - name: app\n    volumes:\n        - name: v\n        - name: tmp\n          emptyDir: {}\n    securityContext:\n        runAsNonRoot: true\n"
    );
}

#[test]
fn keeps_flow_style_flow() {
    let out = edit(
        "sc: {runAsUser: 0}\ndrop: [NET_RAW]\n",
        json!({"sc": {"runAsUser": 10001, "runAsNonRoot": true}, "drop": ["NET_RAW", "ALL"]}),
    );
    assert_eq!(out, "sc: {runAsUser: 10001, runAsNonRoot: true}\ndrop: [NET_RAW, ALL]\n");
}

#[test]
fn fills_empty_values_in_block_style() {
    let out = edit("a: {}\nb:\nc: ~\n", json!({"a": {"x": 1}, "b": {"w": [1]}, "c": ["z"]}));
    assert_eq!(out, "a:\n  x: 1\nb:\n  w:\n  - 1\nc:\n- z\n");
}

#[test]
fn keeps_crlf_line_endings() {
    let out = edit("a:\r\n  b: 1\r\n", json!({"a": {"b": 1, "c": "yes"}}));
    assert_eq!(out, "a:\r\n  b: 1\r\n  c: \"yes\"\r\n");
}

#[test]
fn appends_at_end_of_file_without_newline() {
    let out = edit("a: 1", json!({"a": 1, "b": 2}));
    assert_eq!(out, "a: 1\nb: 2\n");
}

#[test]
fn keeps_quoting_style_of_replaced_strings() {
    let out = edit("a: 'x'\nb: \"80\"\nc: plain\n", json!({"a": "y", "b": "8080", "c": "on"}));
    assert_eq!(out, "a: 'y'\nb: \"8080\"\nc: \"on\"\n");
}

#[test]
fn inserts_after_a_block_scalar_before_its_blank_lines() {
    let out = edit("a:\n  s: |\n    line\n\n  t: 1\n", json!({"a": {"s": "line\n", "t": 1, "u": 2}}));
    assert_eq!(out, "a:\n  s: |\n    line\n\n  t: 1\n  u: 2\n");
    let out = edit("a:\n  t: 1\n  s: |\n    line\n\nb: 1\n", json!({"a": {"t": 1, "s": "line\n", "u": 2}, "b": 1}));
    assert_eq!(out, "a:\n  t: 1\n  s: |\n    line\n  u: 2\n\nb: 1\n");
}

#[test]
fn multi_line_flow_with_trailing_commas_gets_new_lines() {
    let out = edit("spec: {\n  a: \"x\",\n  b: \"y\",\n}\n", json!({"spec": {"a": "x", "b": "y", "c": true}}));
    assert_eq!(out, "spec: {\n  a: \"x\",\n  b: \"y\",\n  c: true,\n}\n");
}

#[test]
fn refuses_to_edit_through_an_alias() {
    let text = "a: &x {k: 1}\nb: *x\n";
    let docs = parse_stream(text, &Limits::default()).expect("parses");
    let err = plan_edits(text, &docs[0], &json!({"a": {"k": 1}, "b": {"k": 2}}), 1000).expect_err("alias");
    assert!(matches!(err, ApplyError::ThroughAlias { .. }), "{err}");
    let err = plan_edits(text, &docs[0], &json!({"a": {"k": 2}, "b": {"k": 2}}), 1000).expect_err("anchor");
    assert!(matches!(err, ApplyError::ThroughAlias { .. }), "{err}");
}

#[test]
fn adds_keys_next_to_a_merge_without_touching_the_anchor() {
    let out = edit("base: &b {k: 1}\nc:\n  <<: *b\n  p: 2\n", json!({"base": {"k": 1}, "c": {"k": 1, "p": 2, "m": 3}}));
    assert_eq!(out, "base: &b {k: 1}\nc:\n  <<: *b\n  p: 2\n  m: 3\n");
}

#[test]
fn inserts_after_a_block_scalar_that_ends_a_sequence() {
    // The scalar's span runs into the next line's indentation; new keys go
    // before that line, not after it (found by fuzzing).
    let text = "c:\n  command:\n  - |\n    echo hi\nnext: 1\n";
    let out = edit(text, json!({"c": {"command": ["echo hi\n"], "sc": true}, "next": 1}));
    assert_eq!(out, "c:\n  command:\n  - |\n    echo hi\n  sc: true\nnext: 1\n");
    // Keep chomping: the blank line is content, so new keys go after it.
    let kept = "c:\n  command:\n  - |+\n    echo hi\n\nnext: 1\n";
    let out = edit(kept, json!({"c": {"command": ["echo hi\n\n"], "sc": true}, "next": 1}));
    assert_eq!(out, "c:\n  command:\n  - |+\n    echo hi\n\n  sc: true\nnext: 1\n");
}

/// [`edit`], and the output must be strict JSON too.
fn edit_json(text: &str, planned: Value) -> String {
    let out = edit(text, planned);
    serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("output is not JSON: {e}\n{out}"));
    out
}

#[test]
fn json_gets_json_members_after_the_last_one_at_its_indentation() {
    let text = "{\n    \"a\": {\n        \"b\": 1\n    }\n}\n";
    let out = edit_json(text, json!({"a": {"b": 1, "c": {"d": ["x"], "e": {}}}, "f": "on"}));
    assert_eq!(
        out,
        "{\n    \"a\": {\n        \"b\": 1,\n        \"c\": {\n            \"d\": [\n                \"x\"\n            ],\n            \"e\": {}\n        }\n    },\n    \"f\": \"on\"\n}\n"
    );
}

#[test]
fn json_keeps_a_two_space_indentation_and_crlf() {
    let text = "{\r\n  \"a\": {\r\n    \"b\": 1\r\n  }\r\n}\r\n";
    let out = edit_json(text, json!({"a": {"b": 1, "c": [1]}}));
    assert_eq!(out, "{\r\n  \"a\": {\r\n    \"b\": 1,\r\n    \"c\": [\r\n      1\r\n    ]\r\n  }\r\n}\r\n");
}

#[test]
fn json_fills_empty_and_null_values_in_place() {
    let text = "{\n    \"spec\": {\n        \"r\": {},\n        \"s\": null,\n        \"t\": []\n    }\n}\n";
    let out = edit_json(text, json!({"spec": {"r": {"x": "1"}, "s": {"y": true}, "t": [{"z": 2}]}}));
    assert_eq!(
        out,
        "{\n    \"spec\": {\n        \"r\": {\n            \"x\": \"1\"\n        },\n        \"s\": {\n            \"y\": true\n        },\n        \"t\": [\n            {\n                \"z\": 2\n            }\n        ]\n    }\n}\n"
    );
}

#[test]
fn json_appends_items_to_an_array_of_objects() {
    let text = "{\n    \"v\": [\n        {\n            \"n\": \"a\"\n        }\n    ]\n}\n";
    let out = edit_json(text, json!({"v": [{"n": "a"}, {"n": "tmp", "emptyDir": {}}]}));
    assert_eq!(
        out,
        "{\n    \"v\": [\n        {\n            \"n\": \"a\"\n        },\n        {\n            \"n\": \"tmp\",\n            \"emptyDir\": {}\n        }\n    ]\n}\n"
    );
}

#[test]
fn json_on_one_line_stays_on_one_line_compact_or_not() {
    let out = edit_json("{\"a\":{\"b\":[1]}}\n", json!({"a": {"b": [1, 2], "c": {"d": "x"}}}));
    assert_eq!(out, "{\"a\":{\"b\":[1,2],\"c\":{\"d\":\"x\"}}}\n");
    let out = edit_json("{\"a\": {}}", json!({"a": {"c": {"d": "x"}, "e": [true]}}));
    assert_eq!(out, "{\"a\": {\"c\": {\"d\": \"x\"}, \"e\": [true]}}");
}

#[test]
fn json_scalars_are_replaced_by_json_scalars() {
    let text = "{\"args\": [\"--port=80\"], \"port\": 80, \"ts\": null, \"s\": \"x\"}";
    let out = edit_json(text, json!({"args": ["--port=8080"], "port": 8080, "ts": "yes", "s": 1}));
    assert_eq!(out, "{\"args\": [\"--port=8080\"], \"port\": 8080, \"ts\": \"yes\", \"s\": 1}");
}

#[test]
fn flow_yaml_is_json_only_when_its_keys_are_double_quoted() {
    // Plain keys after `---` or a comment: YAML flow, as ever.
    let planned = json!({"a": {"b": "x", "c": "v"}});
    assert_eq!(edit("---\n{a: {b: x}}\n", planned.clone()), "---\n{a: {b: x, c: v}}\n");
    assert_eq!(edit("# c\n{a: {b: x}}\n", planned.clone()), "# c\n{a: {b: x, c: v}}\n");
    assert_eq!(edit("{a: {b: x}}\n", planned.clone()), "{a: {b: x, c: v}}\n");
    assert_eq!(edit("{\"a\": {b: x}}\n", planned.clone()), "{\"a\": {b: x, c: v}}\n");
    // Quoted keys after `---`: JSON in a YAML stream.
    assert_eq!(edit("---\n{\"a\": {\"b\": \"x\"}}\n", planned), "---\n{\"a\": {\"b\": \"x\", \"c\": \"v\"}}\n");
}
