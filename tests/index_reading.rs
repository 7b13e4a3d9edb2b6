//! Pass 1 reads documents without the keys the port graph never looks at
//! (`ports::index::UNREAD`). The graph it builds so must be exactly the
//! graph built from the whole documents, on every YAML text we have and on
//! the generated benchmark stream (those in ../shared: ignored unless asked
//! for); if indexing ever starts to read one of those keys, this fails.

mod shared_inputs;

use harden::pipeline::Options;
use harden::pipeline::document::index_chunk;
use harden::plan::plan_document;
use harden::ports::PortGraph;
use harden::ports::index::{IndexOptions, add, has_low_port};
use harden::read::split::{Chunk, split};
use harden::yaml::{Semantic, parse_stream};
use std::path::{Path, PathBuf};

/// The graph of a chunk built from its documents read whole.
fn whole(chunk: &Chunk, opts: &Options, io: &IndexOptions) -> Option<PortGraph> {
    let docs = parse_stream(&chunk.text, &opts.limits).ok()?;
    let mut graph = PortGraph::default();
    for (i, doc) in docs.iter().enumerate() {
        let Ok(value) = Semantic::new(&doc.root, &chunk.text, opts.limits.max_alias_nodes).value(&doc.root) else {
            return None;
        };
        let plan = has_low_port(&value, io).then(|| plan_document(&value, &opts.plan));
        add(&mut graph, i, &value, plan.as_ref(), io);
    }
    Some(graph)
}

/// What a graph holds, as text.
fn held(g: &PortGraph) -> String {
    let mut ids: Vec<_> = g.configmap_ids.iter().collect();
    let mut of_other_pods: Vec<_> = g.configmaps_of_other_pods.iter().collect();
    ids.sort();
    of_other_pods.sort();
    let configmaps = (&g.configmaps, ids, of_other_pods);
    format!("{:?}\n{:?}\n{:?}\n{:?}\n{configmaps:?}", g.pods, g.services, g.other_pods, g.references)
}

#[test]
fn the_graph_from_partly_read_documents_is_the_graph_from_whole_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "examples"] {
        shared_inputs::yaml_files(&root.join(dir), &mut files);
    }
    indexes_agree(texts_of(&files));
}

#[test]
#[ignore = "needs ../shared (cargo test -- --include-ignored)"]
fn the_index_from_partly_read_documents_is_the_index_from_whole_ones_on_the_shared_yaml() {
    let mut texts = texts_of(&shared_inputs::shared_yaml_files());
    texts.push(("generated".to_string(), shared_inputs::generated("1M")));
    indexes_agree(texts);
}

/// Each readable file, by name.
fn texts_of(files: &[PathBuf]) -> Vec<(String, String)> {
    files.iter().filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?))).collect()
}

/// Every chunk's index, built by pass 1, equals the index of its whole
/// documents; some of them index pods.
fn indexes_agree(texts: Vec<(String, String)>) {
    let restricted = shared_inputs::Restricted::new();
    let (opts, kinds, profile) = (restricted.options(), &restricted.kinds, &restricted.profile);
    let map = profile.ports.as_ref().expect("restricted handles ports").moves();
    let (mut compared, mut pods) = (0, 0);
    for (name, text) in &texts {
        for chunk in split(text) {
            let io = IndexOptions { kinds, map: &map, partial: false, images: harden::images::built_in_table() };
            let Some(want) = whole(&chunk, &opts, &io) else { continue };
            let (got, _) = index_chunk(&chunk, name, &opts, &io).expect("the chunk reads");
            assert_eq!(held(&got), held(&want), "{name}, the chunk at line {}", chunk.line);
            compared += 1;
            pods += got.pods.len();
        }
    }
    eprintln!("{compared} chunks, {pods} pods compared");
    assert!(pods > 0);
}
