//! A ConfigMap's nginx config moved from port 80 to 8080 through the plan
//! → apply → verify stages: the Change the port pass makes
//! (`replace /data/default.conf` with `move_listen`'s text) is written into
//! the block scalar as a two-line edit, every other byte kept.

use harden::apply::{plan_edits, splice};
use harden::plan::change::{Change, Control, Op};
use harden::plan::pod::apply_checked;
use harden::rules::unprivileged_port::listen_directive::move_listen;
use harden::verify::verify_document;
use harden::yaml::{Limits, Semantic, parse_stream};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/configmap-listen/nginx-default-conf-listen-80.yaml");

/// The stream with the ConfigMap's `default.conf` moved, as the port pass
/// will plan it, and the Change.
fn moved_stream(text: &str) -> (String, Change) {
    let limits = Limits::default();
    let docs = parse_stream(text, &limits).expect("the fixture parses");
    let doc = &docs[0];
    let before = Semantic::new(&doc.root, text, limits.max_alias_nodes).value(&doc.root).expect("meaning");
    let conf = before["data"]["default.conf"].as_str().expect("default.conf is a string");
    let moved = move_listen(conf, "listen", &[(80, 8080)]);
    assert_eq!(moved.changed, [7, 8], "the two listen lines of the server block");
    assert!(moved.unrewritable.is_empty());
    let change = Change {
        op: Op::Set,
        pointer: "/data/default.conf".into(),
        value: Value::String(moved.text.expect("the config changes")),
        before: Some(Value::String(conf.to_string())),
        rule: "unprivileged-port",
        control: Control::HardenDefault,
        reason: "nginx listens on the moved port".into(),
        container: None,
    };
    let mut planned = before.clone();
    assert!(apply_checked(&mut planned, change.op, &change.pointer, change.value.clone()));
    let edits = plan_edits(text, doc, &planned, limits.max_alias_nodes).expect("the edit can be written");
    let region = &text[doc.start..doc.end];
    let shifted: Vec<_> = edits
        .iter()
        .map(|e| harden::apply::Edit {
            span: harden::yaml::Span::new(e.span.start - doc.start, e.span.end - doc.start),
            text: e.text.clone(),
        })
        .collect();
    verify_document("fixture", 1, &splice(region, &shifted), &planned, &limits).expect("verify accepts the edit");
    (splice(text, &edits), change)
}

/// The lines of `a` and `b` that differ, as (line number, a's, b's).
fn changed_lines<'a>(a: &'a str, b: &'a str) -> Vec<(usize, &'a str, &'a str)> {
    assert_eq!(a.lines().count(), b.lines().count(), "no line is added or removed");
    a.lines().zip(b.lines()).enumerate().filter(|(_, (x, y))| x != y).map(|(i, (x, y))| (i + 1, x, y)).collect()
}

#[test]
fn nginx_listen_80_in_a_configmap_becomes_8080_in_two_lines() {
    let (out, change) = moved_stream(FIXTURE);
    assert_eq!(change.pointer, "/data/default.conf");
    assert_eq!(
        changed_lines(FIXTURE, &out),
        [
            (15, "        listen       80;", "        listen       8080;"),
            (16, "        listen  [::]:80;", "        listen  [::]:8080;")
        ]
    );
}

#[test]
fn a_crlf_configmap_stays_crlf() {
    let crlf = FIXTURE.replace('\n', "\r\n");
    let (out, _) = moved_stream(&crlf);
    assert_eq!(out, moved_stream(FIXTURE).0.replace('\n', "\r\n"));
}
