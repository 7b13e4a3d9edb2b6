//! The stages in order: read → parse → plan → apply → verify. This module
//! only composes; each stage lives in its own module.
//!
//! A stream is cut into chunks, one document each (`read::split`), and run
//! in two passes, each spread over the cores: pass 1 reads every document
//! and keeps only what the port decisions need (labels, ports, selectors);
//! pass 2 hardens each chunk with the port changes filed for it (read from
//! the port plan in stream order, a chunk's share at a time). Malformed
//! input anywhere is found in pass 1, before anything is written.
//!
//! [`harden_stream`] returns every outcome (for diffs, patches, reports);
//! [`stream`] hands each chunk to a sink as soon as it, and every chunk
//! before it, is done, holding only a batch at a time.

pub mod document;
mod found;
pub mod images;
pub mod ordered;

use crate::apply::Edit;
use crate::plan::{DocPlan, PlanOptions};
use crate::ports::index::IndexOptions;
use crate::ports::{ChunkPorts, Decisions, PortGraph};
use crate::profile::{PortSettings, Strategy};
use crate::read::split::{Chunk, ReaderChunks, split};
use crate::read::{ReadError, Source};
use crate::verify::VerifyError;
use crate::yaml::{Document, Limits, ParseError};
use document::{ChunkInfo, ChunkOutcome, harden_chunk, index_chunk};
pub use found::{Form, Found};
use found::{found_in_directories, hinted, left_out, survey};
use rayon::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

/// Everything the stages need, resolved.
pub struct Options<'a> {
    pub plan: PlanOptions<'a>,
    /// `--ports` (or the config's), overriding the profile's strategy.
    pub ports: Option<Strategy>,
    pub limits: Limits,
}

/// The port settings a run decides with, if the profile handles ports:
/// the profile's, with `--ports` for its strategy.
fn port_settings(opts: &Options) -> Option<PortSettings> {
    let settings = opts.plan.profile.ports.as_ref()?;
    Some(PortSettings { strategy: opts.ports.unwrap_or(settings.strategy), map: settings.map.clone() })
}

/// Told how far a run has got, for a progress indicator: each chunk's
/// length in bytes and its documents, as pass 1 reads it and as pass 2
/// hardens it (from any thread). `()` tells nobody.
pub trait Progress: Sync {
    fn indexed(&self, _bytes: usize, _docs: usize) {}
    fn hardened(&self, _bytes: usize, _docs: usize) {}
}

impl Progress for () {}

/// The port decisions, once pass 1 has read the whole stream into `graph`.
fn decide_ports(settings: Option<&PortSettings>, graph: PortGraph) -> Decisions {
    settings.map(|settings| crate::ports::decide(graph, settings)).unwrap_or_default()
}

/// Add a chunk's part of the port graph (pass 1, in stream order): its
/// documents are numbered on from `seen`, the stream's documents so far.
fn merge(graph: &mut PortGraph, seen: &mut usize, (part, mut info): (PortGraph, ChunkInfo)) -> ChunkInfo {
    info.first = *seen;
    graph.merge(part, *seen);
    *seen += info.docs;
    info
}

/// Chunk `c` of source `s`: what pass 1 learnt of it and its share of the
/// port decisions.
fn share<'d>(
    decisions: &'d Decisions,
    infos: &[Vec<ChunkInfo>],
    s: usize,
    c: usize,
) -> (Option<ChunkInfo>, ChunkPorts<'d>) {
    let info = infos[s].get(c).copied();
    // A chunk pass 1 did not see (a file that grew since) has nothing decided.
    (info, info.map(|i| decisions.chunk(i.first, i.docs)).unwrap_or_default())
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: exit 2.
    #[error("{name}:{error}")]
    Parse { name: String, error: ParseError },
    /// Unreadable input: exit 2.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A harden bug caught by verification: exit 3.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A path that holds no Kubernetes document: exit 2 (a gate that read
    /// nothing must not pass).
    #[error("{name}: no Kubernetes manifests found")]
    NoManifests { name: String },
    /// Bad input in a file a directory held (exit 2): maybe no manifest at all.
    #[error("{0} (a file that is not a manifest can be left out: --exclude GLOB, or a .hardenignore file)")]
    InDirectory(Box<Error>),
    /// `--resolve-images=required`, and these images could not be read
    /// (`image X: why`): exit 2, nothing written.
    #[error("{}", unresolved(.0))]
    Unresolved(Vec<String>),
}

/// One line per image (each after the first starts as every error line
/// does), then what it means.
fn unresolved(failures: &[String]) -> String {
    let lines: String = failures.iter().map(|f| format!("{f}\nharden: ")).collect();
    let images = if failures.len() == 1 { "an image" } else { "images" };
    format!("{lines}--resolve-images=required and {images} could not be read: nothing written")
}

/// Inputs that must hold a Kubernetes document (one with `apiVersion` and
/// `kind`) between them: the files one path argument named. Empty files
/// and files of comments hold none. (Standard input is never expected to:
/// an empty render is legitimate.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// The path as given, for the message.
    pub name: String,
    /// The inputs it named, by index.
    pub inputs: Vec<usize>,
    /// Whether the path is a directory: of the files found in it, those
    /// that hold no Kubernetes object (an app's `config.yaml`, a
    /// `package.json`) are left out rather than written into the stream. A
    /// file named on its own is always read.
    pub directory: bool,
}

/// After pass 1, before anything is written: the first path (in order)
/// that holds no Kubernetes document is an error.
fn check_expected(expect: &[Expect], infos: &[Vec<ChunkInfo>]) -> Result<(), Error> {
    let empty = |e: &&Expect| e.inputs.iter().flat_map(|&i| &infos[i]).all(|info| info.manifests == 0);
    match expect.iter().find(empty) {
        Some(e) => Err(Error::NoManifests { name: e.name.clone() }),
        None => Ok(()),
    }
}

/// One document's outcome.
#[derive(Debug)]
pub struct DocOutcome {
    /// Byte range of the document's region in its source.
    pub start: usize,
    pub end: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    pub plan: DocPlan,
    /// The document's meaning before and after (equal when unchanged; null
    /// when streaming, which does not keep them).
    pub before: Value,
    pub after: Value,
    /// Why planned changes could not be written, if they could not.
    pub refused: Option<String>,
    /// The document's own edits, as byte ranges of its source.
    pub edits: Vec<Edit>,
    /// Where things are in it, noted while its tree was at hand (for
    /// review outputs; empty otherwise).
    pub places: Places,
}

/// Places in a document, found by the worker that parsed it, so that
/// reports need not parse it again.
#[derive(Debug, Default)]
pub struct Places {
    /// Byte offset (in the source) of the document's root node.
    pub content: Option<usize>,
    /// JSON pointer → 1-based line of the deepest node on it.
    pub lines: Vec<(String, usize)>,
}

impl Places {
    pub fn line(&self, pointer: &str) -> Option<usize> {
        self.lines.iter().find(|(p, _)| p == pointer).map(|&(_, l)| l)
    }
}

/// A document's tree and text, for a [`Values::Reduce`] function.
pub struct DocText<'a> {
    pub doc: &'a Document,
    /// The chunk the document was read from (its spans are offsets into it).
    pub text: &'a str,
}

impl DocOutcome {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// What [`stream`] hands its sink, in this order.
pub enum Streamed<'s> {
    /// What pass 1 found of each input, once, before any chunk.
    Surveyed(&'s [Found]),
    /// A chunk of input `.0`, hardened.
    Chunk(usize, ChunkOutcome),
}

/// One source's outcome: its hardened text and what happened per document.
#[derive(Debug)]
pub struct SourceOutcome {
    pub output: String,
    pub docs: Vec<DocOutcome>,
    /// What pass 1 found of it (left out: nothing else is set).
    pub found: Found,
    /// Each chunk's length in the source and in the output and how many
    /// documents it holds, in order: the pieces that line up between the
    /// two (for diffing a piece at a time).
    pub pieces: Vec<Piece>,
}

/// One chunk's place in a source and in its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub old_len: usize,
    pub new_len: usize,
    pub docs: usize,
    /// Whether the chunk is values of a JSON stream (`Chunk::json`).
    pub json: bool,
}

/// An input for [`stream`]: text already in memory (stdin), or a file read
/// a chunk at a time (twice: once per pass).
pub enum Input {
    Text(Source),
    /// Standard input, read and cut into chunks.
    Stdin(crate::read::StdinText),
    File {
        name: String,
        path: PathBuf,
    },
}

impl Input {
    pub fn name(&self) -> &str {
        match self {
            Input::Text(s) => &s.name,
            Input::Stdin(_) => crate::read::STDIN,
            Input::File { name, .. } => name,
        }
    }
}

/// What pass 1 reads a document into the port graph with.
fn index_options<'o>(opts: &'o Options, map: &'o [(u64, u64)]) -> IndexOptions<'o> {
    IndexOptions { kinds: opts.plan.kinds, map, partial: opts.plan.partial, images: opts.plan.images }
}

/// The first error of a batch, in stream order (parallel work finishes in
/// any order; the message must not depend on it).
fn in_order<T>(results: Vec<Result<T, Error>>) -> Result<Vec<T>, Error> {
    results.into_iter().collect()
}

/// Whether outcomes carry each document's meaning before and after.
#[derive(Clone, Copy, Debug)]
pub enum Values {
    /// Whole (KRM results).
    Keep,
    /// Cut down to what the caller needs, in the worker, as each document
    /// is done (patches and reports: the values of a whole big stream,
    /// twice, cost more than the run).
    Reduce(Reducer),
    /// For diffs, `--check` and `--in-place`, which need only the texts and
    /// plans.
    Drop,
}

/// How [`Values::Reduce`] cuts a document's values down.
#[derive(Clone, Copy, Debug)]
pub struct Reducer {
    /// What to keep of the value before hardening, given the plan, taken
    /// before the value is changed into the planned one.
    pub before: fn(&Value, &DocPlan) -> Value,
    /// Then, with the outcome made (and the tree at hand), whatever else.
    pub outcome: fn(&mut DocOutcome, &DocText),
}

/// Harden a whole stream of sources held in memory, keeping every
/// document's values.
pub fn harden_stream(sources: &[Source], opts: &Options) -> Result<Vec<SourceOutcome>, Error> {
    harden_stream_keeping(sources, opts, &[], Values::Keep)
}

/// Harden a whole stream of sources held in memory; each of `expect` must
/// hold a Kubernetes document.
pub fn harden_stream_keeping(
    sources: &[Source],
    opts: &Options,
    expect: &[Expect],
    values: Values,
) -> Result<Vec<SourceOutcome>, Error> {
    harden_stream_telling(sources, opts, expect, values, &())
}

/// [`harden_stream_keeping`], telling `progress` how far it has got.
pub fn harden_stream_telling(
    sources: &[Source],
    opts: &Options,
    expect: &[Expect],
    values: Values,
    progress: &dyn Progress,
) -> Result<Vec<SourceOutcome>, Error> {
    let chunked: Vec<Vec<Chunk>> = sources.iter().map(|s| split(&s.text)).collect();
    let settings = port_settings(opts);
    let map = settings.as_ref().map(PortSettings::moves).unwrap_or_default();
    let io = index_options(opts, &map);
    let (mut graph, mut seen) = (PortGraph::default(), 0);
    // Per source, what pass 1 learnt of each chunk.
    let mut infos: Vec<Vec<ChunkInfo>> = Vec::with_capacity(sources.len());
    let found = found_in_directories(expect, sources.len());
    for (s, (src, chunks)) in sources.iter().zip(&chunked).enumerate() {
        let parts = chunks
            .par_iter()
            .map(|chunk| {
                let indexed = index_chunk(chunk, &src.name, opts, &io).map_err(|e| hinted(e, found[s]));
                if let Ok((_, info)) = &indexed {
                    progress.indexed(chunk.text.len(), info.docs);
                }
                indexed
            })
            .collect();
        infos.push(in_order(parts)?.into_iter().map(|part| merge(&mut graph, &mut seen, part)).collect());
    }
    check_expected(expect, &infos)?;
    let left_out = left_out(&found, &infos);
    let decisions = decide_ports(settings.as_ref(), graph);
    let mut out = Vec::with_capacity(sources.len());
    for (s, (src, chunks)) in sources.iter().zip(&chunked).enumerate() {
        if left_out[s] {
            let (output, docs, pieces) = (String::new(), Vec::new(), Vec::new());
            out.push(SourceOutcome { output, docs, found: Found::of(&[], true), pieces });
            continue;
        }
        let outcomes = chunks
            .par_iter()
            .enumerate()
            .map(|(c, chunk)| {
                let (info, ports) = share(&decisions, &infos, s, c);
                let hardened = harden_chunk(chunk, &src.name, opts, &ports, values, info);
                if let Ok(outcome) = &hardened {
                    progress.hardened(chunk.text.len(), outcome.docs.len());
                }
                hardened
            })
            .collect();
        let outcomes = in_order(outcomes)?;
        let output_len = outcomes.iter().map(|o| o.output.len()).sum();
        let docs = outcomes.iter().map(|o| o.docs.len()).sum();
        let mut source = SourceOutcome {
            output: String::with_capacity(output_len),
            docs: Vec::with_capacity(docs),
            found: Found::of(&infos[s], false),
            pieces: Vec::with_capacity(chunks.len()),
        };
        for (o, chunk) in outcomes.into_iter().zip(chunks) {
            let (old_len, new_len, docs, json) = (chunk.text.len(), o.output.len(), o.docs.len(), o.json);
            source.pieces.push(Piece { old_len, new_len, docs, json });
            source.output.push_str(&o.output);
            source.docs.extend(o.docs);
        }
        out.push(source);
    }
    Ok(out)
}

/// Harden one source on its own (no cross-file references).
pub fn harden_source(src: &Source, opts: &Options) -> Result<SourceOutcome, Error> {
    let mut out = harden_stream(std::slice::from_ref(src), opts)?;
    Ok(out.remove(0))
}

/// Chunks read and not yet written while streaming (each about 64 KB,
/// unless one document is larger): the bound on memory in flight.
const WINDOW: usize = 16;

/// Harden a stream with bounded memory: pass 1 over every input (finding
/// any malformed input, and any of `expect` without a Kubernetes document,
/// before `sink` sees anything), then `sink(Surveyed)` and pass 2, calling
/// `sink(Chunk(input index, chunk))` in stream order. Both passes run on
/// every core (see [`ordered`]). Each outcome's `before`/`after` are null.
pub fn stream<E: From<Error> + Send>(
    inputs: &[Input],
    opts: &Options,
    expect: &[Expect],
    sink: impl FnMut(Streamed) -> Result<(), E>,
) -> Result<(), E> {
    stream_telling(inputs, opts, expect, &(), sink)
}

/// [`stream`], telling `progress` how far it has got.
pub fn stream_telling<E: From<Error> + Send>(
    inputs: &[Input],
    opts: &Options,
    expect: &[Expect],
    progress: &dyn Progress,
    mut sink: impl FnMut(Streamed) -> Result<(), E>,
) -> Result<(), E> {
    let settings = port_settings(opts);
    let map = settings.as_ref().map(PortSettings::moves).unwrap_or_default();
    let io = index_options(opts, &map);
    let threads = rayon::current_num_threads();
    let (mut graph, mut seen) = (PortGraph::default(), 0);
    // Per input, what pass 1 learnt of each chunk (a few bytes a chunk).
    let mut infos: Vec<Vec<ChunkInfo>> = inputs.iter().map(|_| Vec::new()).collect();
    let found = found_in_directories(expect, inputs.len());
    ordered::run(
        chunks(inputs, &[]),
        threads,
        WINDOW,
        |_, (s, _, chunk)| {
            let bytes = chunk.text.len();
            index_chunk(&chunk, inputs[s].name(), opts, &io)
                .map(|r| (s, bytes, r))
                .map_err(|e| E::from(hinted(e, found[s])))
        },
        |_, (s, bytes, part)| {
            progress.indexed(bytes, part.1.docs);
            infos[s].push(merge(&mut graph, &mut seen, part));
            Ok(())
        },
    )?;
    check_expected(expect, &infos)?;
    let left_out = left_out(&found, &infos);
    sink(Streamed::Surveyed(&survey(&infos, &left_out)))?;
    let decisions = decide_ports(settings.as_ref(), graph);
    let (decisions, infos) = (&decisions, &infos);
    // The reading thread, which takes the chunks in order, gives each its
    // share of the decisions.
    let shared = chunks(inputs, &left_out).map(move |chunk| {
        let (s, c, chunk) = chunk?;
        let (info, ports) = share(decisions, infos, s, c);
        Ok((s, chunk, info, ports))
    });
    ordered::run(
        shared,
        threads,
        WINDOW,
        |_, (s, chunk, info, ports)| {
            harden_chunk(&chunk, inputs[s].name(), opts, &ports, Values::Drop, info)
                .map(|o| (s, chunk.text.len(), o))
                .map_err(E::from)
        },
        |_, (s, bytes, outcome)| {
            progress.hardened(bytes, outcome.docs.len());
            sink(Streamed::Chunk(s, outcome))
        },
    )
}

/// Every input's chunks in order, but for those `skip` says to (by
/// index), each with its input's index and its own: text in memory is cut
/// where it lies, files are read a chunk at a time.
fn chunks<'i, E: From<Error>>(
    inputs: &'i [Input],
    skip: &'i [bool],
) -> impl Iterator<Item = Result<(usize, usize, Chunk<'i>), E>> + Send + 'i {
    inputs.iter().enumerate().filter(|(s, _)| skip.get(*s) != Some(&true)).flat_map(|(s, input)| {
        let chunks: Box<dyn Iterator<Item = Result<Chunk<'i>, Error>> + Send + 'i> = match input {
            Input::Text(src) => Box::new(split(&src.text).into_iter().map(Ok)),
            Input::Stdin(text) => Box::new(text.chunks().map(Ok)),
            Input::File { name, path } => match std::fs::File::open(path) {
                Ok(file) => Box::new(
                    ReaderChunks::new(std::io::BufReader::with_capacity(1 << 20, file), name)
                        .map(|c| c.map_err(Error::Read)),
                ),
                Err(source) => {
                    Box::new(std::iter::once(Err(Error::Read(ReadError::Io { name: name.clone(), source }))))
                }
            },
        };
        chunks.enumerate().map(move |(c, chunk)| chunk.map(|chunk| (s, c, chunk)).map_err(E::from))
    })
}
