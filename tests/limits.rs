//! Hostile input: each case is refused (exit 2, `harden: <stdin>:LINE:COL:
//! message` on stderr, nothing on stdout) or handled in bounded time and
//! memory. The limits are documented in README.md and adjustable by flag.

mod support;

use std::time::Duration;
use support::{Ran as Run, harden as run};

/// Exit 2, one `harden: <stdin>:LINE:COL: message` line, empty stdout;
/// returns the message.
fn refused(r: &Run, line: usize, col: usize) -> String {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout");
    let prefix = format!("harden: <stdin>:{line}:{col}: ");
    assert!(
        r.stderr.starts_with(&prefix) && r.stderr.ends_with('\n') && r.stderr.lines().count() == 1,
        "{:?}",
        r.stderr
    );
    r.stderr[prefix.len()..].trim_end().to_string()
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let deep = format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200));
    let message = refused(&run(&[], deep.as_bytes()), 1, 132);
    assert!(message.contains("nest") || message.contains("depth") || message.contains("recursion"), "{message}");
    // The limit is adjustable.
    assert_eq!(run(&["-q", "--max-depth", "256"], deep.as_bytes()).code, 0);
    let block: String =
        (0..200).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(200) + "v: 1\n";
    assert_eq!(run(&[], block.as_bytes()).code, 2);
}

#[test]
fn a_scalar_over_the_limit_is_refused() {
    let text = format!("apiVersion: v1\nkind: ConfigMap\ndata:\n  big: \"{}\"\n", "x".repeat(2000));
    let message = refused(&run(&["--max-scalar-bytes", "1000"], text.as_bytes()), 4, 8);
    assert_eq!(message, "a scalar of 2000 bytes is larger than the limit of 1000 bytes (--max-scalar-bytes)");
    assert_eq!(run(&["-q"], text.as_bytes()).code, 0);
}

#[test]
fn a_document_over_the_limit_is_refused() {
    let text = format!("a: 1\n---\nb: \"{}\"\n", "x".repeat(2000));
    let message = refused(&run(&["--max-document-bytes", "1000"], text.as_bytes()), 2, 1);
    // From its `---` to the end of its content.
    assert_eq!(message, "a document of 2009 bytes is larger than the limit of 1000 bytes (--max-document-bytes)");
}

#[test]
fn a_nul_byte_is_refused() {
    let message = refused(&run(&[], b"apiVersion: v1\nkind: Pod\x00\n"), 2, 10);
    assert!(message.contains("unexpected character"), "{message}");
}

#[test]
fn a_sequence_and_mapping_mixed_at_one_level_are_refused() {
    refused(&run(&[], b"spec:\n  - a\n  b: 1\n"), 3, 3);
}

#[test]
fn unbalanced_flow_collections_are_refused() {
    refused(&run(&[], b"a: [1, 2\nb: 3\n"), 2, 2);
    assert_eq!(refused(&run(&[], b"a: {x: 1\n"), 1, 4), "unclosed bracket '{'");
}

#[test]
fn a_million_tiny_documents_are_handled_in_bounded_time() {
    let text = "---\na: 1\n".repeat(1_000_000);
    let start = std::time::Instant::now();
    let r = run(&["-q"], text.as_bytes());
    let took = start.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout == text, "documents that are not workloads pass through byte-identical");
    // Generous: about a second in a release build (BENCHMARKS.md measures it).
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
