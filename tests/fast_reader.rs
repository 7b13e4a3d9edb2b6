//! The fast reader (src/yaml/fast.rs) against the full reader: wherever the
//! fast one gives an answer, it must be exactly the full one's (the same
//! documents, nodes, spans and values). Run over every YAML text we have,
//! each also cut short at every line, and over the generated benchmark
//! stream, which the fast reader must take on whole (that is what makes it
//! worth having).

mod shared_inputs;

use harden::read::split::split;
use harden::yaml::fast;
use harden::yaml::parse::parse_stream_full;
use harden::yaml::{Document, Limits, Node, NodeKind};
use std::path::{Path, PathBuf};

/// Where they answer, the readers agree. Returns whether the fast one answered.
fn agree(text: &str, what: &str) -> bool {
    match disagreement(text, what) {
        Ok(taken) => taken,
        Err(e) => panic!("{e}"),
    }
}

/// Whether the fast reader answered, or how the two readers disagree.
fn disagreement(text: &str, what: &str) -> Result<bool, String> {
    let limits = Limits::default();
    let Some(fast) = fast::parse(text, &limits) else { return Ok(false) };
    match parse_stream_full(text, &limits) {
        Ok(full) if fast == full => Ok(true),
        Ok(full) => Err(format!("the readers disagree on {what}: {}\n{text}", difference(&fast, &full))),
        Err(e) => Err(format!("the fast reader took {what}, which the full reader rejects ({e}):\n{text}")),
    }
}

/// The first place two readings differ, shown briefly.
fn difference(fast: &[Document], full: &[Document]) -> String {
    if fast.len() != full.len() {
        return format!("{} documents against {}", fast.len(), full.len());
    }
    for (i, (a, b)) in fast.iter().zip(full).enumerate() {
        if (a.start, a.end, a.explicit_start) != (b.start, b.end, b.explicit_start) {
            return format!(
                "document {i}: fast {:?} full {:?}",
                (a.start, a.end, a.explicit_start),
                (b.start, b.end, b.explicit_start)
            );
        }
        if let Some(d) = node_difference(&a.root, &b.root, "") {
            return format!("document {i}: {d}");
        }
    }
    "nowhere?".into()
}

fn node_difference(a: &Node, b: &Node, at: &str) -> Option<String> {
    let brief = |n: &Node| match &n.kind {
        NodeKind::Scalar { value, style, tag } => format!("scalar {value:?} {style:?} {tag:?} {:?}", n.span),
        NodeKind::Mapping { layout, entries } => format!("mapping {layout:?} {} {:?}", entries.len(), n.span),
        NodeKind::Sequence { layout, items } => format!("sequence {layout:?} {} {:?}", items.len(), n.span),
        NodeKind::Alias(i) => format!("alias {i}"),
    };
    match (&a.kind, &b.kind) {
        (NodeKind::Mapping { entries: x, .. }, NodeKind::Mapping { entries: y, .. }) if x.len() == y.len() => {
            for (e, f) in x.iter().zip(y) {
                let here = format!("{at}/{}", f.key.as_str().unwrap_or("?"));
                if let Some(d) = node_difference(&e.key, &f.key, &format!("{here} (key)")) {
                    return Some(d);
                }
                if let Some(d) = node_difference(&e.value, &f.value, &here) {
                    return Some(d);
                }
            }
        }
        (NodeKind::Sequence { items: x, .. }, NodeKind::Sequence { items: y, .. }) if x.len() == y.len() => {
            for (i, (e, f)) in x.iter().zip(y).enumerate() {
                if let Some(d) = node_difference(e, f, &format!("{at}/{i}")) {
                    return Some(d);
                }
            }
        }
        _ => {}
    }
    (a != b).then(|| format!("at {at:?}: fast {} full {}", brief(a), brief(b)))
}

/// The text cut after each of its first lines, and without its last line break.
fn cuts(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text.match_indices('\n').take(300).map(|(i, _)| &text[..i + 1]).collect();
    out.push(text.trim_end_matches('\n'));
    out
}

#[test]
fn fast_reader_agrees_with_the_full_reader_on_the_projects_yaml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "examples", "profiles", "data", "fuzz/corpus"] {
        shared_inputs::yaml_files(&root.join(dir), &mut files);
    }
    agrees_on(&files);
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn fast_reader_agrees_with_the_full_reader_on_the_shared_yaml() {
    agrees_on(&shared_inputs::shared_yaml_files());
}

/// The fast reader and the full one agree on each file, on its cuts and on
/// its chunks, and the fast one takes some of them.
fn agrees_on(files: &[PathBuf]) {
    let (mut texts, mut taken) = (0, 0);
    let mut failures = Vec::new();
    let mut check = |text: &str, what: String| match disagreement(text, &what) {
        Ok(t) => t,
        Err(e) => {
            failures.push(e);
            false
        }
    };
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        let limit = if text.len() > 200_000 { 0 } else { usize::MAX };
        for (i, cut) in std::iter::once(text.as_str()).chain(cuts(&text).into_iter().take(limit)).enumerate() {
            texts += 1;
            if check(cut, format!("{} (cut {i})", f.display())) {
                taken += 1;
            }
        }
        // Chunks as the pipeline reads them.
        for chunk in split(&text) {
            texts += 1;
            if check(&chunk.text, format!("a chunk of {} at line {}", f.display(), chunk.line)) {
                taken += 1;
            }
        }
    }
    eprintln!("{} files, {texts} texts: the fast reader took {taken}", files.len());
    for f in failures.iter().take(8) {
        eprintln!("{}\n", &f[..f.len().min(1500)]);
    }
    assert!(failures.is_empty(), "{} disagreements", failures.len());
    assert!(taken > 0, "the fast reader never answered");
}

#[test]
fn fast_reader_agrees_on_hand_written_edge_cases() {
    let cases = [
        "a: 1\n",
        "a: 1",
        "a:\n  b: c\n",
        "a:\n- x\n- y\n",
        "a:\n  - x\n  - y\n",
        "- a\n",
        "a: [x, \"y\", 'z']\n",
        "a: []\nb: {}\n",
        "a: |\n  x\n  y\n",
        "a: |-\n  x\n\n",
        "a: |+\n  x\n\n\nb: 1\n",
        "a: >\n  x\n  y\n\n  z\n",
        "a: >-\n  x\n",
        "a: |\n  x\n  y",
        "a: |\n    x\n   y\n",
        "k: v # c\n# d\nl: 'it''s'\n",
        "k: \"a\\\"b\\\\c\\n\"\n",
        "---\na: 1\n---\nb: 2\n",
        "# head\n---\na: 1\n",
        "---\n---\na: 1\n",
        "a: 1\n...\n",
        "a: b: c\n",
        "a: 1\na: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "a: x\n  y\n",
        "- a: 1\n  b: 2\n- c: 3\n",
        "a:\n  - name: x\n    v: 1\n  - name: y\n",
        "a: http://x:80/y\n",
        "a: x #c\nb: x#y\n",
        "\"q\": 1\n'r': 2\n",
        "a:\n",
        "a:\nb: 1\n",
        "a: |\nb: 1\n",
        "a: é\n",
        "a: -1\nb: -x\n",
        "a: :x\n",
        "<<: {}\n",
        "a: ~\n",
        "a: \"x\"y\n",
        "a: [a, b,]\n",
        "a: [a b]\n",
        "   \n",
    ];
    for case in cases {
        agree(case, &format!("{case:?}"));
    }
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn fast_reader_takes_the_whole_generated_benchmark_stream() {
    let text = shared_inputs::generated("1M");
    let chunks = split(&text);
    let taken = chunks.iter().filter(|c| agree(&c.text, &format!("the chunk at line {}", c.line))).count();
    assert_eq!(taken, chunks.len(), "the fast reader gave up on {} of {} chunks", chunks.len() - taken, chunks.len());
}
