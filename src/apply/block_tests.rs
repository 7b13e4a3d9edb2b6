//! Block scalars given a new value: byte-exact expectations for the style
//! kept, and for each case where it cannot be and the value is written
//! double-quoted instead. Every output is read back by both readers (the
//! fast one and the full one) and must mean the plan.

use super::*;
use crate::yaml::parse::parse_stream_full;
use crate::yaml::{Limits, parse_stream};
use serde_json::json;

/// The edits for setting `/k` (the document is `k: …` plus whatever
/// follows) to `new`, and the edited text. The input read by either reader
/// gives the same edits (their spans of a block scalar agree).
fn set_k(text: &str, new: Value) -> (Vec<Edit>, String) {
    let docs = parse_stream(text, &Limits::default()).expect("input parses");
    let mut planned = Semantic::new(&docs[0].root, text, 1000).value(&docs[0].root).expect("meaning");
    planned["k"] = new;
    let edits = plan_edits(text, &docs[0], &planned, 1000).expect("edits");
    let full = parse_stream_full(text, &Limits::default()).expect("input parses");
    assert_eq!(plan_edits(text, &full[0], &planned, 1000).expect("edits"), edits, "the full reader's tree");
    let out = splice(text, &edits);
    for (reader, docs) in [
        ("fast or full", parse_stream(&out, &Limits::default())),
        ("full", parse_stream_full(&out, &Limits::default())),
    ] {
        let docs = docs.unwrap_or_else(|e| panic!("{reader} reader cannot read the output: {e}\n{out}"));
        let reread = Semantic::new(&docs[0].root, &out, 1000).value(&docs[0].root).expect("meaning");
        assert_eq!(reread, planned, "{reader} reader: output does not mean the plan:\n{out}");
    }
    (edits, out)
}

/// `text` edited to mean `planned`.
fn edited(text: &str, planned: &Value) -> String {
    let docs = parse_stream(text, &Limits::default()).expect("input parses");
    splice(text, &plan_edits(text, &docs[0], planned, 1000).expect("edits"))
}

fn out(text: &str, new: &str) -> String {
    set_k(text, json!(new)).1
}

#[test]
fn a_one_line_change_in_a_long_config_is_a_one_line_edit() {
    let mut conf: Vec<String> = (0..200).map(|i| format!("# line {i}")).collect();
    conf[100] = "    listen       80;".into();
    let body: String = conf.iter().map(|l| format!("    {l}\n")).collect();
    let text = format!("k: |\n{body}n: 1\n");
    let old = conf.iter().map(|l| format!("{l}\n")).collect::<String>();
    let (edits, edited) = set_k(&text, json!(old.replace("listen       80;", "listen       8080;")));
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(&text[edits[0].span.start..edits[0].span.end], "        listen       80;");
    assert_eq!(edited, text.replace("listen       80;", "listen       8080;"));
}

#[test]
fn each_changed_line_is_its_own_edit() {
    let text = "k: |\n  listen 80;\n  root /x;\n  listen [::]:80;\nn: 1\n";
    let (edits, edited) = set_k(text, json!("listen 8080;\nroot /x;\nlisten [::]:8080;\n"));
    assert_eq!(edits.len(), 2);
    assert_eq!(edited, "k: |\n  listen 8080;\n  root /x;\n  listen [::]:8080;\nn: 1\n");
}

#[test]
fn keeps_the_header_its_comment_and_crlf() {
    let text = "k: |-  # the site\r\n    a 80\r\n\r\n    b\r\nn: 1\r\n";
    assert_eq!(out(text, "a 8080\n\nb"), "k: |-  # the site\r\n    a 8080\r\n\r\n    b\r\nn: 1\r\n");
    // New lines get the block's line break too.
    assert_eq!(out(text, "a 8080\n\nb\nc"), "k: |-  # the site\r\n    a 8080\r\n\r\n    b\r\n    c\r\nn: 1\r\n");
}

#[test]
fn inside_a_configmap_the_indentation_is_the_content_s() {
    let text = "data:\n  default.conf: |\n      server {\n          listen 80;\n      }\n";
    let planned = json!({"data": {"default.conf": "server {\n    listen 8080;\n}\n"}});
    assert_eq!(edited(text, &planned), "data:\n  default.conf: |\n      server {\n          listen 8080;\n      }\n");
}

#[test]
fn an_indentation_indicator_lets_lines_start_with_spaces() {
    let text = "k: |2\n     lead\n    b\nn: 1\n";
    assert_eq!(out(text, "   lead\n  c\n"), "k: |2\n     lead\n    c\nn: 1\n");
    assert_eq!(out(text, "     lead2\n  b\n"), "k: |2\n       lead2\n    b\nn: 1\n");
}

#[test]
fn lines_are_added_and_removed_between_the_unchanged_ones() {
    let text = "k: |\n  a\n  b\n  c\nn: 1\n";
    let (edits, edited) = set_k(text, json!("a\nx\ny\nc\n"));
    assert_eq!(edits.len(), 1);
    assert_eq!(edited, "k: |\n  a\n  x\n  y\n  c\nn: 1\n");
    assert_eq!(out(text, "a\nc\n"), "k: |\n  a\n  c\nn: 1\n");
    assert_eq!(out(text, "a\nb\nc\nd\n"), "k: |\n  a\n  b\n  c\n  d\nn: 1\n");
    assert_eq!(out(text, "z\na\nb\nc\n"), "k: |\n  z\n  a\n  b\n  c\nn: 1\n");
}

#[test]
fn keep_chomping_writes_the_trailing_empty_lines() {
    let text = "k: |+\n  a\n\nn: 1\n";
    assert_eq!(out(text, "b\n\n"), "k: |+\n  b\n\nn: 1\n");
    assert_eq!(out(text, "b\n\n\n"), "k: |+\n  b\n\n\nn: 1\n");
    assert_eq!(out(text, "b\n"), "k: |+\n  b\nn: 1\n");
}

#[test]
fn clip_and_strip_leave_trailing_blank_lines_as_they_are() {
    assert_eq!(out("k: |\n  a\n\n\nn: 1\n", "b\n"), "k: |\n  b\n\n\nn: 1\n");
    assert_eq!(out("k: |-\n  a\n\nn: 1\n", "b"), "k: |-\n  b\n\nn: 1\n");
}

#[test]
fn a_block_scalar_that_ends_the_input_without_a_line_break_still_does() {
    assert_eq!(out("k: |\n  a\n  b", "a\nc"), "k: |\n  a\n  c");
    assert_eq!(out("k: |\n  a\n  b", "a\nb\nc"), "k: |\n  a\n  b\n  c");
}

#[test]
fn folded_keeps_its_line_breaks_where_the_text_is_unchanged() {
    let text = "k: >\n  one two\n  three\n\n  four\nn: 1\n";
    assert_eq!(out(text, "one two THREE\nfour\n"), "k: >\n  one two\n  THREE\n\n  four\nn: 1\n");
    assert_eq!(out(text, "one two three\n\nfive\n"), "k: >\n  one two\n  three\n\n\n  five\nn: 1\n");
    let (edits, _) = set_k(text, json!("one two three\nfour 80\n"));
    assert_eq!(edits.len(), 1);
}

#[test]
fn fallback_chomping_that_cannot_hold_the_new_ending_is_double_quoted() {
    // Clip holds exactly one final line break: none, or two, cannot be.
    assert_eq!(out("k: |\n  a\nn: 1\n", "b"), "k: \"b\"\nn: 1\n");
    assert_eq!(out("k: |\n  a\nn: 1\n", "b\n\n"), "k: \"b\\n\\n\"\nn: 1\n");
    // Strip holds none.
    assert_eq!(out("k: |-\n  a\nn: 1\n", "b\n"), "k: \"b\\n\"\nn: 1\n");
    // Keep needs one at least.
    assert_eq!(out("k: |+\n  a\n\nn: 1\n", "b"), "k: \"b\"\n\nn: 1\n");
}

#[test]
fn fallback_indentation_the_header_cannot_express_is_double_quoted() {
    // Without an indentation indicator, the first line sets the
    // indentation: it cannot start with a space or a tab.
    assert_eq!(out("k: |\n  a\n  b\nn: 1\n", "  a\nb\n"), "k: \"  a\\nb\\n\"\nn: 1\n");
    assert_eq!(out("k: |\n  a\nn: 1\n", "\ta\n"), "k: \"\\ta\\n\"\nn: 1\n");
}

#[test]
fn fallback_folding_that_would_change_is_double_quoted() {
    // A line starting with a space is more indented: its breaks do not fold.
    assert_eq!(out("k: >\n  a\n  b\nn: 1\n", "a\n  b\n"), "k: \"a\\n  b\\n\"\nn: 1\n");
    // A paragraph ending with white space.
    assert_eq!(out("k: >\n  a\nn: 1\n", "a \n"), "k: \"a \\n\"\nn: 1\n");
    // A folded scalar with more-indented lines is not read as lines at all.
    assert_eq!(out("k: >\n  a\n    b\n  c\nn: 1\n", "x\n"), "k: \"x\\n\"\nn: 1\n");
}

#[test]
fn fallback_characters_a_block_cannot_hold_are_double_quoted() {
    assert_eq!(out("k: |\n  a\nn: 1\n", "a\rb\n"), "k: \"a\\rb\\n\"\nn: 1\n");
    assert_eq!(out("k: |\n  a\nn: 1\n", "a\u{2028}b\n"), "k: \"a\u{2028}b\\n\"\nn: 1\n");
    // Text that ends with a blank line.
    assert_eq!(out("k: |-\n  a\nn: 1\n", "a\n  "), "k: \"a\\n  \"\nn: 1\n");
}

#[test]
fn fallback_keeps_the_header_comment_and_the_tag() {
    assert_eq!(out("k: !!str |  # c\n  a\nn: 1\n", "b"), "k: !!str \"b\"  # c\nn: 1\n");
    let (_, edited) = set_k("k: |\n  80\nn: 1\n", json!(8080));
    assert_eq!(edited, "k: 8080\nn: 1\n");
}

#[test]
fn in_a_sequence_item_and_with_keys_added_after_it() {
    let text = "c:\n  args:\n  - |\n    listen 80\n  x: 1\n";
    let planned = json!({"c": {"args": ["listen 8080\n"], "x": 1, "z": 2}});
    assert_eq!(edited(text, &planned), "c:\n  args:\n  - |\n    listen 8080\n  x: 1\n  z: 2\n");
    let text = "c:\n  s: |\n    a\n\n  t: 1\n";
    let planned = json!({"c": {"s": "b\n", "t": 1, "u": 2}});
    assert_eq!(edited(text, &planned), "c:\n  s: |\n    b\n\n  t: 1\n  u: 2\n");
}

#[test]
fn a_block_scalar_another_node_refers_to_is_not_rewritten() {
    let text = "k: &a |\n  x\nm: *a\n";
    let docs = parse_stream(text, &Limits::default()).expect("input parses");
    let err = plan_edits(text, &docs[0], &json!({"k": "y\n", "m": "x\n"}), 1000).expect_err("shared");
    assert!(matches!(err, ApplyError::ThroughAlias { .. }), "{err}");
}

#[test]
fn every_header_with_every_value_reads_back_as_planned() {
    let headers = ["|", "|-", "|+", "|2", "|1-", ">", ">-", ">+", ">2", "|  # c", ">+ # c"];
    let bodies = ["   a\n   b\n", "   a\n\n   b c\n\n\n", "   a b\n   c\n"];
    let values = [
        "",
        "x",
        "x\n",
        "x\n\n",
        "\n",
        "\n\nx\n",
        "  x\n",
        "x\n  y\n",
        "a b c\n",
        "a\n\nb\n",
        "\tx\n",
        "x \n",
        "#c\n",
        "--- x\n",
        "a\r\nb\n",
        "a\n\n\n",
        " \n",
        "x\ny",
        "long line one two three four\n",
    ];
    let (mut kept, mut all) = (0, 0);
    for header in headers {
        for body in bodies {
            for newline in ["\n", "\r\n"] {
                let text = format!("k: {header}\n{body}n: 1\n").replace('\n', newline);
                for value in values {
                    // set_k asserts that both readers read the plan back.
                    let (_, edited) = set_k(&text, json!(value));
                    let kept_block = edited.starts_with(&format!("k: {header}"));
                    assert!(kept_block || edited.starts_with("k: \""), "{text:?} → {value:?}: {edited:?}");
                    (kept, all) = (kept + usize::from(kept_block), all + 1);
                }
            }
        }
    }
    // Not a matrix of fallbacks only.
    assert!(kept * 4 > all, "kept the block style for {kept} of {all}");
}
