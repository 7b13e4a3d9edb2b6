//! No module of an earlier stage names a module of a later one
//! (ARCHITECTURE.md): every `crate::` and `harden::` path in src/, outside
//! comments, is checked against the order of the stages.

use std::path::Path;

/// Each top-level module of src/ and its place in the pipeline; a module
/// may name modules of its own place or of an earlier one.
const ORDER: &[(&str, u8)] = &[
    // Helpers any stage may use.
    ("pointer", 0),
    ("quantity", 0),
    ("registry", 0),
    ("read", 1),
    ("yaml", 2),
    ("workload", 3),
    ("profile", 3),
    ("images", 3),
    ("pss", 3),
    ("rules", 3),
    ("plan", 3),
    ("config", 3),
    ("ports", 4),
    ("apply", 5),
    ("verify", 6),
    ("pipeline", 7),
    ("write", 8),
    ("in_place", 8),
    ("krm", 8),
    // The binary.
    ("cli", 9),
    ("settings", 9),
    ("output", 9),
    ("main", 9),
    ("docs", 9),
    ("install", 9),
    ("progress", 9),
    ("lib", 9),
];

fn place(module: &str) -> u8 {
    ORDER.iter().find(|(m, _)| *m == module).unwrap_or_else(|| panic!("src/{module}: not in ORDER")).1
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ reads").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_names_a_module_of_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut later = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("below src/");
        let top = relative.components().next().expect("a path").as_os_str().to_string_lossy();
        let module = top.trim_end_matches(".rs");
        let text = std::fs::read_to_string(file).expect("a source reads");
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with("//")) {
            for prefix in ["crate::", "harden::"] {
                for (at, _) in line.match_indices(prefix) {
                    let named: String =
                        line[at + prefix.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !named.is_empty() && place(&named) > place(module) {
                        later.push(format!("{}:{}: {module} names {named}", relative.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(files.len() > 50, "{} sources read", files.len());
    assert!(later.is_empty(), "earlier stages name later ones:\n{}", later.join("\n"));
}
